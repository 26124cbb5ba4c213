"""The ADC that reads one crossbar column's partial sum: a uniform quantizer with 2^b levels
``lo + k·(hi − lo)/(2^b − 1)``, k = 0..2^b − 1, so a read partial sum takes at most 2^b values.

The range [lo, hi] is one per layer (every subarray and column of a layer shares its ADC
design) and comes from ``range_mode``:

- ``sigma`` (default, ColumnQuant's clipping): mean ± k·σ of the partial sums, k =
  ``sigmas``, kept within the batch's min/max; an exponential moving average over training
  batches (momentum ``momentum``), frozen in eval.
- ``minmax``: the moving average of the batch min/max (no clipping beyond the extremes).
- ``learnable``: lo and hi are parameters, started from the first training batch's
  mean ± k·σ and then trained by the straight-through gradient of the clamp and grid
  (PACT/LSQ-style), not averaged.

Integer partial sums (``integer_sums``, set by the crossbar when its cells and input planes
are at integer levels, as every tiled layer's are): a calibrated range's step is a whole
number of unit currents (at least 1) and lo a multiple of it, as an ADC whose LSB is one
cell's current (or 2, 3, ...) reads them. A sum then reads exactly wherever the range spans
it in no more than 2^b levels; a fractional step instead rounds many sums the same way, and
the offset coding's large common sums (cim/cells.py) amplify that bias in the output
(measured, W4 on 16-row subarrays, 4-bit ADC: 131 % relative error in the layer's output
with a fractional step, 0 with the integer one).

Calibrated ranges are buffers and learnable ones parameters, so checkpoints carry them.
Gradient: straight-through inside [lo, hi], zero outside (the clipped ADC output is flat).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import torch
from torch import nn

from ..contract import PartialSumQuantizer

RangeMode = Literal["sigma", "minmax", "learnable"]
RANGE_MODES = get_args(RangeMode)
STAT_SAMPLES = 1 << 18


@dataclass(frozen=True)
class ADCSettings:
    """The run's ADC design (``adc_bits`` and ``cim.adc_*``), handed to a method that brings
    its own partial-sum quantizer (the contract's ``cim_adc``)."""

    bits: int
    range_mode: str = "sigma"
    sigmas: float = 3.0
    momentum: float = 0.1


class ADC(PartialSumQuantizer):
    def __init__(self, bits: int, range_mode: str = "sigma", sigmas: float = 3.0,
                 momentum: float = 0.1) -> None:
        super().__init__()
        self.bits, self.levels = int(bits), 2 ** int(bits)
        self.range_mode, self.sigmas, self.momentum = range_mode, float(sigmas), float(momentum)
        self.register_buffer("initialized", torch.tensor(False))
        self.integer_sums = False   # the crossbar's reads: see the module docstring
        if range_mode == "learnable":
            self.lo = nn.Parameter(torch.tensor(-1.0))
            self.hi = nn.Parameter(torch.tensor(1.0))
        else:
            self.register_buffer("lo", torch.tensor(-1.0))
            self.register_buffer("hi", torch.tensor(1.0))

    @torch.no_grad()
    def _batch_range(self, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # Statistics of an evenly strided subsample: partial sums are many (A·P times the
        # layer's outputs) and a range needs only their distribution.
        p = p.reshape(-1)[::max(1, p.numel() // STAT_SAMPLES)]
        mn, mx = torch.aminmax(p)
        if self.range_mode == "minmax":
            return mn, mx
        std, mean = torch.std_mean(p)
        return torch.maximum(mean - self.sigmas * std, mn), torch.minimum(mean + self.sigmas * std, mx)

    @property
    def calibrated(self) -> bool:
        return self.range_mode != "learnable"

    def reads_batch(self) -> bool:
        """A learnable range reads a batch only to start; a calibrated one every training batch."""
        if not bool(self.initialized):
            return True
        return self.training and self.range_mode != "learnable"

    @property
    def uniform(self) -> bool:
        return True

    def _range(self, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.range_mode == "learnable":
            if self.training and not bool(self.initialized):
                with torch.no_grad():
                    lo, hi = self._batch_range(p)
                    self.lo.copy_(lo)
                    self.hi.copy_(hi)
                    self.initialized.fill_(True)
            return self.lo, self.hi
        if not self.training:
            return (self.lo.clone(), self.hi.clone()) if bool(self.initialized) \
                else self._batch_range(p)
        with torch.no_grad():
            lo, hi = self._batch_range(p)
            m = self.momentum
            lo = torch.where(self.initialized, (1 - m) * self.lo + m * lo, lo)
            hi = torch.where(self.initialized, (1 - m) * self.hi + m * hi, hi)
            self.lo.copy_(lo)
            self.hi.copy_(hi)
            self.initialized.fill_(True)
        return lo.clone(), hi.clone()

    def grid(self, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(lo, hi, step) of the levels: the range, shifted by less than half a step so that
        zero is a level. A partial sum of zero (no active row) then reads exactly zero, as a
        current-mode ADC reads no current as its zero code; without it, a symmetric range with
        an even number of levels rounds every zero to ±step/2 (measured: a 2-bit ADC then left
        the demo at chance)."""
        lo, hi = self._range(p)
        step = ((hi - lo) / (self.levels - 1)).clamp_min(torch.finfo(p.dtype).tiny)
        if self.integer_sums and self.range_mode != "learnable":
            step = torch.round(step).clamp_min(1.0)
            lo = torch.round(lo / step) * step
            return lo, lo + step * (self.levels - 1), step
        shift = (torch.round(lo / step) * step - lo).detach()
        return lo + shift, hi + shift, step

    def forward(self, p: torch.Tensor) -> torch.Tensor:
        lo, hi, step = self.grid(p)
        if self.range_mode == "learnable":  # autograd through clamp and grid
            v = (torch.minimum(torch.maximum(p, lo), hi) - lo) / step
            return lo + step * (v + (torch.round(v) - v).detach())
        return _ClampRound.apply(p, lo, hi, step)

    def extra_repr(self) -> str:
        return f"bits={self.bits}, range={self.range_mode}, sigmas={self.sigmas}"


class _ClampRound(torch.autograd.Function):
    """Calibrated ADC: saves a 1-byte mask instead of the partial sums (they are many)."""

    @staticmethod
    def forward(ctx, p, lo, hi, step):
        inside = (p >= lo) & (p <= hi)
        ctx.save_for_backward(inside)
        return lo + step * torch.round((p.clamp(lo, hi) - lo) / step)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        return grad * inside, None, None, None
