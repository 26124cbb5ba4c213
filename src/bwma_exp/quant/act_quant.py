"""Autograd functions of BWMA's activation quantizer: Eq. 6 forward, the G-surrogate backward.

``a_min`` / ``a_max`` are 0-dim tensors (the running range lives on the device, so no host
sync is needed). When they require grad (``learnable_clip``), they get the PACT-style clip
gradient: the incoming gradient summed over the elements clamped to that bound (a < a_min,
resp. a > a_max); in-range elements pass their gradient to ``a`` only.
"""
from __future__ import annotations

import torch

from . import kernels
from .act_math import grid_step


class MultiBitActQuant(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, a_min, a_max, levels: int, width: float, mode: str):
        delta = grid_step(a_min, a_max, levels)
        ctx.save_for_backward(a, a_min, a_max, delta)
        ctx.levels, ctx.width, ctx.mode = levels, width, mode
        return kernels.quantize_to_grid(mode, a, a_min, a_max, delta)

    @staticmethod
    def backward(ctx, grad):
        a, a_min, a_max, delta = ctx.saved_tensors
        grad_a = grad_min = grad_max = None
        if ctx.needs_input_grad[0]:
            grad_a = kernels.grid_surrogate_grad(ctx.mode, grad, a, a_min, a_max, delta,
                                                 ctx.width, ctx.levels)
        if ctx.needs_input_grad[1]:
            grad_min = torch.where(a < a_min, grad, 0.0).sum().reshape(a_min.shape)
        if ctx.needs_input_grad[2]:
            grad_max = torch.where(a > a_max, grad, 0.0).sum().reshape(a_max.shape)
        return grad_a, grad_min, grad_max, None, None, None


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
