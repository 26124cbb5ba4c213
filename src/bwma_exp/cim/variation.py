"""Device-to-device conductance variation of the programmed cells.

A sample draws one multiplicative or additive deviation per cell and keeps it for the whole
evaluation (one chip), reproducibly from ``seed``:

- ``lognormal``: G' = G·exp(σ·ε), ε ~ N(0, 1) (the usual RRAM programming-variation model);
  applied to the cell value s (|s| ≤ 1 is the conductance normalised to its on-state).
- ``gaussian``: G' = G + σ·ε, σ relative to the on-state conductance (|s| = 1).

σ = 0 (or no sample drawn) leaves the cells untouched. Only the cell levels vary (every bit
slice's cell on its own; an off cell stays off under the lognormal model); the digital
scales and offsets stay exact. ``perturb`` draws fresh deviations for one training forward
(``cim.train_variation_sigma``, noise-aware training as aihwkit's): the same model.
"""
from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import nn

VariationKind = Literal["lognormal", "gaussian"]
KINDS = get_args(VariationKind)


class ConductanceVariation(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.kind = "lognormal"
        self.noise: torch.Tensor | None = None

    def sample(self, shape: torch.Size, sigma: float, kind: str, generator: torch.Generator,
               device: torch.device) -> None:
        """Draw this chip's deviations (shape of the layer's weight); σ = 0 clears them."""
        self.kind = kind
        if sigma == 0:
            self.noise = None
            return
        eps = torch.randn(shape, generator=generator) * sigma
        self.noise = (eps.exp() if kind == "lognormal" else eps).to(device)

    def clear(self) -> None:
        self.noise = None

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        if self.noise is None:
            return s
        if self.kind == "lognormal":
            return s * self.noise
        return s + self.noise


def perturb(values: torch.Tensor, sigma: float, kind: str) -> torch.Tensor:
    """``values`` with freshly drawn deviations of the model above (one training step)."""
    eps = torch.randn_like(values) * sigma
    return values * eps.exp() if kind == "lognormal" else values + eps
