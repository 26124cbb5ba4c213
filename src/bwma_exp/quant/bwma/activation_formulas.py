"""Elementwise formulas of BWMA's activation quantizer (Eq. 6 and the G-surrogate slope, Eqs.
7-8), written once and run either eagerly or through ``torch.compile`` (the ``*_kernel``
objects at the bottom, see ``common/compiled.py``), so both paths compute the same expression.

Multi-bit (Eq. 6, grid anchored at ``a_min``): ``L = 2^b`` levels ``a_min + n·δ``, n = 0..L-1.
Its surrogate is ``a_min + Σ_i (δ/2)(1 + G((a - c_i)/(w·δ/2)))`` with centres
``c_i = a_min + (i - ½)δ``, i = 1..L-1, and width ``w`` (``surrogate_width``, in units of δ/2).
The derivative of term i is ``g((a - c_i)/(w·δ/2)) / w``. With u = (a - a_min)/δ in interval
k = floor(u) and f = u - k, the argument of term i = k + 1 + j is ``(2(f - j) - 1)/w``. For
w <= 1 the terms' supports do not overlap, so only j = 0 contributes: one g per element, never
a tensor per level. Wider surrogates add the few neighbours whose support reaches the element.
"""
from __future__ import annotations

import math

import torch

from ..common.compiled import CompilableKernel
from .surrogate import g


def grid_step(a_min: torch.Tensor, a_max: torch.Tensor, levels: int) -> torch.Tensor:
    """δ = (a_max - a_min)/(L - 1), kept above zero so a constant input maps to a_min."""
    delta = (a_max - a_min) / (levels - 1)
    return delta.clamp_min(torch.finfo(delta.dtype).tiny)


def quantize_to_grid(a: torch.Tensor, a_min: torch.Tensor, a_max: torch.Tensor,
                     delta: torch.Tensor) -> torch.Tensor:
    """``a_min + δ·floor((clamp(a, a_min, a_max) - a_min)/δ + ½)``: nearest level, ties up."""
    x = torch.clamp(a, a_min, a_max)
    return a_min + delta * torch.floor((x - a_min) / delta + 0.5)


def quantize(a: torch.Tensor, a_min: torch.Tensor, a_max: torch.Tensor,
             levels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(Q(a), δ) on a fixed range."""
    delta = grid_step(a_min, a_max, levels)
    return quantize_to_grid(a, a_min, a_max, delta), delta


def observe_and_quantize(a: torch.Tensor, run_min: torch.Tensor, run_max: torch.Tensor,
                         initialized: torch.Tensor, momentum: float, levels: int):
    """A training step of the running range: fold the batch's min/max into the EMA
    ``(1 - m)·old + m·batch`` (or start from them), then quantize on the new range.
    Returns (Q(a), new a_min, new a_max, δ)."""
    lo, hi = torch.aminmax(a)
    new_min = torch.where(initialized, (1 - momentum) * run_min + momentum * lo, lo)
    new_max = torch.where(initialized, (1 - momentum) * run_max + momentum * hi, hi)
    q, delta = quantize(a, new_min, new_max, levels)
    return q, new_min, new_max, delta


def neighbour_reach(width: float) -> int:
    """How many intervals away a term's support reaches: |j| < (w + 1)/2, so 0 for w <= 1."""
    return math.ceil((width + 1) / 2) - 1


def grid_surrogate_grad(grad: torch.Tensor, a: torch.Tensor, a_min: torch.Tensor,
                        a_max: torch.Tensor, delta: torch.Tensor, width: float,
                        levels: int) -> torch.Tensor:
    """``grad`` times the surrogate's slope on [a_min, a_max] (the slope of the clamp, 0, outside).
    At w = 1 this is ``g(2·frac(u) - 1)``: 5/3 mid-interval, -1/3 on every level."""
    u = (a - a_min) / delta
    k = torch.clamp(torch.floor(u), 0, levels - 2)  # the top level belongs to the last interval
    f = u - k
    if width == 1.0:  # the default, spelled out: vector division is the costliest op here
        slope = g(2 * f - 1)
    else:
        slope = g((2 * f - 1) / width)
        for j in range(-neighbour_reach(width), neighbour_reach(width) + 1):
            if j != 0:
                exists = (k + j >= 0) & (k + j <= levels - 2)
                slope = slope + torch.where(exists, g((2 * (f - j) - 1) / width), 0.0)
        slope = slope / width
    inside = (a >= a_min) & (a <= a_max)
    return torch.where(inside, grad * slope, 0.0)


def sign_values(a: torch.Tensor) -> torch.Tensor:
    """1-bit activations on the fixed range [-1, 1]: +1 for a >= 0, -1 otherwise."""
    return torch.where(a >= 0, 1.0, -1.0).to(a.dtype)


def sign_surrogate_grad(grad: torch.Tensor, a: torch.Tensor, width: float) -> torch.Tensor:
    """The one-term case with δ = 2, a_min = -1: slope ``g(a/w)/w``."""
    if width == 1.0:
        return grad * g(a)
    return grad * (g(a / width) / width)


# The formulas as the autograd functions call them: eager or compiled per ``kernels`` mode.
quantize_kernel = CompilableKernel(quantize)
observe_and_quantize_kernel = CompilableKernel(observe_and_quantize)
grid_surrogate_grad_kernel = CompilableKernel(grid_surrogate_grad)
sign_values_kernel = CompilableKernel(sign_values)
sign_surrogate_grad_kernel = CompilableKernel(sign_surrogate_grad)
