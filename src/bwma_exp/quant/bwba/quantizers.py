"""The quantizers of ``quant=bwba`` (see the package docstring)."""
from __future__ import annotations

import torch
from torch import nn

from ..contract import ActivationQuantizer, Grid, WeightQuantizer


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


class XNORWeightQuantizer(WeightQuantizer):
    def forward(self, w: torch.Tensor) -> torch.Tensor:
        scale = w.detach().abs().mean(dim=tuple(range(1, w.dim())), keepdim=True)
        return ClippedSTESign.apply(w, scale)


class SignActQuantizer(ActivationQuantizer):
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

    def cim_grid(self, x: torch.Tensor) -> Grid:
        """The crossbar reads ±1 as one bit plane: x = −1 + 2·bit."""
        return x.new_tensor(-1.0), x.new_tensor(2.0), 1


