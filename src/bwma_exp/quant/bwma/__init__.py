"""``quant=bwma``: moment-matched binary weights and multi-bit activations (the paper, §III-B).

Options (``quant.options``): ``split`` median|mean, ``schedule`` irnet|fixed, ``alpha`` and
``temperature`` (used by ``fixed``), ``surrogate_width``, ``momentum``, ``learnable_clip``,
``kernels`` auto|eager|compiled. ``act_bits=32`` keeps activations real (the 1W/32A setting);
``w_bits=32`` keeps weights real (ReActNet's first training step, before binarizing them).

Pieces: ``weight_binarization`` (Eqs. 2-5 and the IR-Net schedule of α, t),
``activation_quantizer`` (Eq. 6 with the surrogate gradient), ``activation_formulas`` (its
elementwise formulas, eager or compiled) and ``surrogate`` (G and g, Eqs. 7-8).
"""
from __future__ import annotations

from ...utils.errors import ConfigError
from ..contract import IdentityActivation, IdentityWeight, WeightQuantizer
from ..options import read_options
from ..spec import QuantSpec, register_method
from .activation_quantizer import ActQuantizer, bwma_quantize_act
from .options import MAX_ACT_BITS, BWMAOptions
from .surrogate import G, g
from .weight_binarization import BWMAWeightQuantizer, bwma_binarize, irnet_schedule

__all__ = ["G", "ActQuantizer", "BWMAWeightQuantizer", "bwma_binarize", "bwma_quantize_act",
           "g", "irnet_schedule"]

FULL_PRECISION_BITS = 32


@register_method("bwma")
def bwma_quantizers(spec: QuantSpec, kind: str, out_channels: int):
    if int(spec.w_bits) not in (1, FULL_PRECISION_BITS):
        raise ConfigError("w_bits", spec.w_bits,
                          "1 for quant=bwma (binary weights), or 32 for real weights (ReActNet's "
                          "step 1); use quant=mwma for multi-bit weights")
    act_bits = int(spec.act_bits)
    if act_bits != FULL_PRECISION_BITS and not 1 <= act_bits <= MAX_ACT_BITS:
        raise ConfigError("act_bits", spec.act_bits,
                          f"1 to {MAX_ACT_BITS}, or {FULL_PRECISION_BITS} for real activations")
    opts = read_options("bwma", spec.options, BWMAOptions)
    weight: WeightQuantizer = BWMAWeightQuantizer(opts.split, opts.schedule, opts.alpha,
                                                  opts.temperature)
    if int(spec.w_bits) == FULL_PRECISION_BITS:
        # Stateless either way, so a step-1 checkpoint loads strictly into the binary step 2.
        weight = IdentityWeight()
    if act_bits == FULL_PRECISION_BITS:
        return weight, IdentityActivation()
    act = ActQuantizer(act_bits, opts.momentum, opts.surrogate_width, opts.learnable_clip,
                       opts.kernels)
    return weight, act
