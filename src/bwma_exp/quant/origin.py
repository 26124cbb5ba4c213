"""``quant=origin``: each binary architecture's own binarization, the "Origin" rows of Table II.

The rule depends on the architecture, so model builders put ``options["variant"]`` on the spec:

- ``reactnet`` (liuzechun/ReActNet): weights ``mean|W| * sign(W)`` per output channel, gradient
  passed where ``|W| <= 1``; activations ``sign(x)`` with the Bi-Real piecewise-quadratic
  gradient ``2 - 2|x|`` on ``|x| < 1``.
- ``bmxnet`` (BMXNet-v2 BinaryDenseNet / MeliusNet): ``sign`` of inputs and weights, no weight
  scaling, gradient passed where ``|x| <= 1.3``. The reference also clamps the latent weights to
  ±1.3 after every optimizer step; the training loop does that with ``clip_latent_weights``.

``w_bits`` / ``act_bits`` may each be 1 (binarize) or 32 (leave real), so ReActNet's first
training step (binary activations, real weights) is ``w_bits=32 act_bits=1``.
``sign`` maps 0 to +1: a binary layer has exactly two values.
"""
from __future__ import annotations

import torch
from torch import nn

from ..utils.errors import ConfigError
from .spec import QuantSpec, register_method

VARIANTS = ("reactnet", "bmxnet")
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


class BiRealSign(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _BiRealSign.apply(x)


class ChannelScaledSign(nn.Module):
    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return _ChannelScaledSign.apply(w)


class ClippedSign(nn.Module):
    """``latent_clip`` marks the weights ``clip_latent_weights`` should clamp when this module
    binarizes a layer's weights."""

    def __init__(self, clip: float = BMXNET_CLIP) -> None:
        super().__init__()
        self.clip = clip
        self.latent_clip = clip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _ClippedSign.apply(x, self.clip)

    def extra_repr(self) -> str:
        return f"clip={self.clip}"


def _check_bits(key: str, bits: int) -> None:
    if int(bits) not in (1, 32):
        raise ConfigError(key, bits, "1 or 32 for quant=origin",
                          hint="origin is the architectures' own binarization; use quant=bwma "
                               "for multi-bit activations.")


@register_method("origin")
def origin_quantizers(spec: QuantSpec, kind: str, out_channels: int):
    _check_bits("w_bits", spec.w_bits)
    _check_bits("act_bits", spec.act_bits)
    variant = spec.options.get("variant")
    if variant not in VARIANTS:
        raise ConfigError("quant.options.variant", variant, ", ".join(VARIANTS),
                          hint="reactnet_a, bdensenet28 and meliusnet22/29 set it themselves; "
                               "other models need it set explicitly.")
    if variant == "reactnet":
        weight, act = ChannelScaledSign(), BiRealSign()
    else:
        weight, act = ClippedSign(), ClippedSign()
    if int(spec.w_bits) == 32:
        weight = nn.Identity()
    if int(spec.act_bits) == 32:
        act = nn.Identity()
    return weight, act


@torch.no_grad()
def clip_latent_weights(model: nn.Module) -> None:
    """Clamp the latent weights of every layer binarized by ``ClippedSign`` to ±its clip
    (BMXNet's ``clip 1.3``); call after each optimizer step. Other layers are left alone."""
    for module in model.modules():
        clip = getattr(getattr(module, "weight_quantizer", None), "latent_clip", None)
        if clip is not None:
            module.weight.clamp_(-clip, clip)
