"""``quant=bwba``: XNOR-Net-style binary weights and binary activations (the BWBA baseline).

Weights: ``sign(w)`` times the per-output-channel ``mean|w|``; activations: ``sign(a)``.
``sign(0) = +1`` so each tensor has exactly two values. Both use the clipped straight-through
estimator, gradient passed unchanged where |x| <= 1 and zero elsewhere; the channel scale is a
constant of the step (no gradient through it), as in the common XNOR/ReActNet implementations.
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ConfigError
from .options import read_options
from .spec import QuantSpec, register_method


def _sign(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x >= 0, 1.0, -1.0).to(x.dtype)


class ClippedSTESign(torch.autograd.Function):
    """``scale·sign(x)``; backward: the gradient where |x| <= 1, zero elsewhere."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        return scale * _sign(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return torch.where(x.abs() <= 1, grad, 0.0), None


class XNORWeightQuantizer(nn.Module):
    def forward(self, w: torch.Tensor) -> torch.Tensor:
        scale = w.detach().abs().mean(dim=tuple(range(1, w.dim())), keepdim=True)
        return ClippedSTESign.apply(w, scale)


class SignActQuantizer(nn.Module):
    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return ClippedSTESign.apply(a, torch.ones((), dtype=a.dtype, device=a.device))


@register_method("bwba")
def bwba_quantizers(spec: QuantSpec, kind: str, out_channels: int):
    for key, bits in (("w_bits", spec.w_bits), ("act_bits", spec.act_bits)):
        if int(bits) != 1:
            raise ConfigError(key, bits, "1 for quant=bwba (binary weights and activations)")
    read_options("bwba", spec.options, {})
    return XNORWeightQuantizer(), SignActQuantizer()
