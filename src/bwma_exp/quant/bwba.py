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

import torch
from torch import nn

from ..utils.errors import ConfigError
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
    """±1 = sign(a − τ); the clipped STE reaches τ as well (∂/∂τ = −∂/∂a)."""

    def __init__(self) -> None:
        super().__init__()
        self.threshold = nn.Parameter(torch.zeros(()))
        self.register_buffer("initialized", torch.tensor(False))

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        if self.training and not bool(self.initialized):
            with torch.no_grad():
                self.threshold.copy_(a.mean())
                self.initialized.fill_(True)
        return ClippedSTESign.apply(a - self.threshold,
                                    torch.ones((), dtype=a.dtype, device=a.device))

    def cim_grid(self, x: torch.Tensor):
        """The crossbar reads ±1 as one bit plane: x = −1 + 2·bit."""
        return x.new_tensor(-1.0), x.new_tensor(2.0), 1


@register_method("bwba")
def bwba_quantizers(spec: QuantSpec, kind: str, out_channels: int):
    for key, bits in (("w_bits", spec.w_bits), ("act_bits", spec.act_bits)):
        if int(bits) != 1:
            raise ConfigError(key, bits, "1 for quant=bwba (binary weights and activations)")
    read_options("bwba", spec.options, {})
    return XNORWeightQuantizer(), SignActQuantizer()
