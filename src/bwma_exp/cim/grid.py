"""How a quantized layer's weights reach the crossbar's cells.

(Activations: the activation quantizer states the grid ``x = a_min + δ·q`` its output lies on,
through the contract's ``cim_grid``; the crossbar sees the code's bits (bit-serial) or the code
itself, and the digital side adds the offset ``a_min·Σ_rows s``.)

Weights: ``w = c + r·s`` per output channel. For binary weights (BWMA's moment-matched
two-value weights, bwba's ±α) c and r are the mid-point and half-distance of the two values,
so s = ±1 fits one cell and the digital side adds ``c·Σ_rows x``; multi-bit weights use
c = 0 and r = max|w| (s in [−1, 1], the normalised conductance).
"""
from __future__ import annotations

import torch


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
