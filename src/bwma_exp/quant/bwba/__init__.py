"""``quant=bwba``: XNOR-Net-style binary weights and binary activations (the BWBA baseline).

Weights: ``sign(w)`` times the per-output-channel ``mean|w|``; activations: ``sign(a − τ)``
with a learnable threshold τ per layer (ReActNet's RSign), started at the first training
batch's mean input. A fixed τ = 0 would be degenerate here: the ResNets feed each conv a ReLU
output, and ``sign`` of non-negative values is +1 everywhere (measured: chance accuracy on the
demo). ``sign(0) = +1`` so each tensor has exactly two values. Both use the clipped straight-through
estimator, gradient passed unchanged where |x| <= 1 and zero elsewhere; the channel scale is a
constant of the step (no gradient through it), as in the common XNOR/ReActNet implementations.
"""
from __future__ import annotations

from ...utils.errors import ConfigError
from ..options import NoOptions, read_options
from ..spec import QuantSpec, register_method
from .quantizers import ClippedSTESign, SignActQuantizer, XNORWeightQuantizer

__all__ = ["ClippedSTESign", "SignActQuantizer", "XNORWeightQuantizer"]

@register_method("bwba", fixed_bits={"w_bits": 1, "act_bits": 1})
def bwba_quantizers(spec: QuantSpec, kind: str, out_channels: int):
    for key, bits in (("w_bits", spec.w_bits), ("act_bits", spec.act_bits)):
        if int(bits) != 1:
            raise ConfigError(key, bits, "1 for quant=bwba (binary weights and activations)")
    read_options("bwba", spec.options, NoOptions)
    return XNORWeightQuantizer(), SignActQuantizer()
