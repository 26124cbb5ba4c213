"""The quantizers of ``quant=origin`` (see the package docstring)."""
from __future__ import annotations

import torch

from ...utils.errors import ConfigError
from ..contract import ActivationQuantizer, WeightQuantizer

BMXNET_CLIP = 1.3


def _sign(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))


class _BiRealSign(torch.autograd.Function):
    """sign(x); backward: the derivative of Bi-Real's piecewise-quadratic approximation."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _sign(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (2 - 2 * x.abs()).clamp(min=0)


class _ClippedSign(torch.autograd.Function):
    """sign(x); backward: straight-through where ``|x| <= clip``, zero elsewhere."""

    @staticmethod
    def forward(ctx, x, clip: float):
        ctx.save_for_backward(x)
        ctx.clip = clip
        return _sign(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x.abs() <= ctx.clip).to(grad.dtype), None


class _ChannelScaledSign(torch.autograd.Function):
    """``mean|W|`` per output channel times sign(W); backward: straight-through on |W| <= 1,
    the scale treated as a constant (as the ReActNet reference detaches it)."""

    @staticmethod
    def forward(ctx, w):
        ctx.save_for_backward(w)
        scale = w.abs().mean(dim=tuple(range(1, w.dim())), keepdim=True)
        return scale * _sign(w)

    @staticmethod
    def backward(ctx, grad):
        (w,) = ctx.saved_tensors
        return grad * (w.abs() <= 1).to(grad.dtype)


class BiRealSign(ActivationQuantizer):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _BiRealSign.apply(x)


class ChannelScaledSign(WeightQuantizer):
    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return _ChannelScaledSign.apply(w)


class ClippedSign(WeightQuantizer, ActivationQuantizer):
    """sign with a straight-through gradient on |x| <= clip, for BMXNet's weights and inputs
    alike. As a weight quantizer its ``latent_clip`` (the contract's hook) keeps the latent
    weights within ±clip."""

    def __init__(self, clip: float = BMXNET_CLIP) -> None:
        super().__init__()
        self.clip = clip
        self.latent_clip = clip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _ClippedSign.apply(x, self.clip)

    def extra_repr(self) -> str:
        return f"clip={self.clip}"


def check_bits(key: str, bits: int) -> None:
    if int(bits) not in (1, 32):
        raise ConfigError(key, bits, "1 or 32 for quant=origin",
                          hint="origin is the architectures' own binarization; use quant=bwma "
                               "for multi-bit activations.")


