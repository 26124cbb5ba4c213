"""Autograd functions of BWMA's activation quantizer: Eq. 6 forward, the G-surrogate backward.

Ranges are 0-dim tensors (they live on the device, so no host sync is needed). When a_min /
a_max require grad (``learnable_clip``) they get the PACT-style clip gradient: the incoming
gradient summed over the elements clamped to that bound (a < a_min, resp. a > a_max);
in-range elements pass their gradient to ``a`` only.
"""
from __future__ import annotations

import torch

from . import kernels


def _save(ctx, a, a_min, a_max, delta, levels: int, width: float, mode: str) -> None:
    ctx.save_for_backward(a, a_min, a_max, delta)
    ctx.levels, ctx.width, ctx.mode = levels, width, mode


def _surrogate_backward(ctx, grad):
    a, a_min, a_max, delta = ctx.saved_tensors
    grad_a = grad_min = grad_max = None
    if ctx.needs_input_grad[0]:
        grad_a = kernels.grid_surrogate_grad(ctx.mode, grad, a, a_min, a_max, delta, ctx.width,
                                             ctx.levels)
    if ctx.needs_input_grad[1]:
        grad_min = torch.where(a < a_min, grad, 0.0).sum().reshape(a_min.shape)
    if ctx.needs_input_grad[2]:
        grad_max = torch.where(a > a_max, grad, 0.0).sum().reshape(a_max.shape)
    return grad_a, grad_min, grad_max


class MultiBitActQuant(torch.autograd.Function):
    """Quantization on a given range [a_min, a_max]."""

    @staticmethod
    def forward(ctx, a, a_min, a_max, levels: int, width: float, mode: str):
        q, delta = kernels.quantize(mode, a, a_min, a_max, levels)
        _save(ctx, a, a_min, a_max, delta, levels, width, mode)
        return q

    @staticmethod
    def backward(ctx, grad):
        return *_surrogate_backward(ctx, grad), None, None, None


class RunningRangeActQuant(torch.autograd.Function):
    """A training step on the running range: one call folds the batch's min/max into the EMA
    and quantizes on the new range (see ``act_math.observe_and_quantize``). Returns
    (Q(a), new a_min, new a_max); the caller stores the new range."""

    @staticmethod
    def forward(ctx, a, run_min, run_max, initialized, momentum: float, levels: int,
                width: float, mode: str):
        q, new_min, new_max, delta = kernels.observe_and_quantize(
            mode, a, run_min, run_max, initialized, momentum, levels)
        _save(ctx, a, new_min, new_max, delta, levels, width, mode)
        ctx.mark_non_differentiable(new_min, new_max)
        return q, new_min, new_max

    @staticmethod
    def backward(ctx, grad, _grad_min, _grad_max):
        grad_a, _, _ = _surrogate_backward(ctx, grad)
        return grad_a, None, None, None, None, None, None, None


class BinaryActQuant(torch.autograd.Function):
    """1-bit activations: sign on the fixed range [-1, 1], slope ``g(a/w)/w``."""

    @staticmethod
    def forward(ctx, a, width: float, mode: str):
        ctx.save_for_backward(a)
        ctx.width, ctx.mode = width, mode
        return kernels.sign_values(mode, a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return kernels.sign_surrogate_grad(ctx.mode, grad, a, ctx.width), None, None
