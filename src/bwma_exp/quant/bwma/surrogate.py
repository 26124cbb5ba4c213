"""The paper's smooth stand-ins for sign and its derivative (Eqs. 7 and 8).

``G`` approximates ``sign`` on [-1, 1] and is exactly ±1 outside; ``g = G'`` is a bell-shaped
quadratic that replaces the Dirac delta in the backward pass. ``g`` is implemented as printed,
negative lobe included: ``g(±1) = -2 + 5/3 = -1/3`` and ``g(0) = 5/3``; its integral over
[-1, 1] is 2, the jump of ``sign``.
"""
from __future__ import annotations

import torch

PEAK = 5.0 / 3.0  # g(0)


def g(x: torch.Tensor) -> torch.Tensor:
    """Eq. 7: ``-2x² + 5/3`` for ``|x| <= 1``, else 0."""
    return torch.where(x.abs() <= 1, PEAK - 2 * x * x, torch.zeros_like(x))


def G(x: torch.Tensor) -> torch.Tensor:
    """Eq. 8: ``-(2/3)x³ + (5/3)x`` on [-1, 1], ``-1`` below, ``+1`` above."""
    inner = x * (PEAK - (2.0 / 3.0) * x * x)
    return torch.where(x < -1, -torch.ones_like(x), torch.where(x > 1, torch.ones_like(x), inner))
