"""How a quantized layer's operands reach the crossbar.

Activations: a multi-bit activation lies on a grid ``x = a_min + δ·q`` with integer code
q in [0, 2^b − 1]; the crossbar sees the code's bits (bit-serial) or the code itself, and the
digital side adds the offset ``a_min·Σ_rows s``. ``activation_grid`` reads (a_min, δ, bits)
off the layer's activation quantizer; ``None`` means the input is not on a known grid (real
activations), and the crossbar is then driven by x itself as one analog plane.

Weights: ``w = c + r·s`` per output channel. For binary weights (BWMA's moment-matched
two-value weights, bwba's ±α) c and r are the mid-point and half-distance of the two values,
so s = ±1 fits one cell and the digital side adds ``c·Σ_rows x``; multi-bit weights use
c = 0 and r = max|w| (s in [−1, 1], the normalised conductance).
"""
from __future__ import annotations

import torch
from torch import nn

from ..quant.act_math import grid_step
from ..quant.act_quantizer import ActQuantizer
from ..quant.lsq import LSQActQuantizer, signed_range, unsigned_range

Grid = tuple[torch.Tensor, torch.Tensor, int]


def activation_grid(quantizer: nn.Module, x: torch.Tensor) -> Grid | None:
    """(a_min, δ, bits) of the grid the layer's input lies on, detached; None if unknown."""
    own = getattr(quantizer, "cim_grid", None)
    if callable(own):  # methods of this package (columnquant, cimq) describe their own grid
        return own(x)
    if isinstance(quantizer, ActQuantizer):
        if quantizer.bits == 1:
            return x.new_tensor(-1.0), x.new_tensor(2.0), 1
        if quantizer.training or bool(quantizer.initialized):
            lo, hi = quantizer.a_min.detach(), quantizer.a_max.detach()
        else:  # the quantizer used this batch's own range, whose ends are levels of x
            lo, hi = torch.aminmax(x.detach())
        return lo, grid_step(lo, hi, quantizer.levels), quantizer.bits
    if isinstance(quantizer, LSQActQuantizer) and bool(quantizer.initialized):
        signed = bool(quantizer.signed)
        qn, _ = signed_range(quantizer.bits) if signed else unsigned_range(quantizer.bits)
        step = quantizer.step.detach().abs()
        return -qn * step, step, quantizer.bits
    return None


def split_weight(w: torch.Tensor, w_bits: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(c, r, s) with ``w = c + r·s``; c and r per output channel (shape (O, 1, ...)) and
    detached, so the gradient reaching w through r·s is exactly the one reaching s."""
    flat = w.detach().reshape(w.shape[0], -1)
    view = (w.shape[0],) + (1,) * (w.dim() - 1)
    if w_bits == 1:
        lo, hi = torch.aminmax(flat, dim=1)
        c, r = (hi + lo) / 2, (hi - lo) / 2
    else:
        c, r = torch.zeros_like(flat[:, 0]), flat.abs().amax(dim=1)
    r = r.clamp_min(torch.finfo(w.dtype).tiny)
    c, r = c.reshape(view), r.reshape(view)
    return c, r, (w - c) / r
