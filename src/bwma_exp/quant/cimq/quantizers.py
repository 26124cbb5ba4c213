"""The quantizers of ``quant=cimq`` (see the package docstring)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

import torch
import torch.nn.functional as F
from torch import nn

from ...utils.schema import Range
from ..columnquant.quantizers import ArrayWeightQuantizer
from ..common.adc import ADCSettings
from ..common.lsq import RoundSTE, ScaleGrad, initial_step, unsigned_range
from ..contract import ActivationQuantizer, Grid, PartialSumQuantizer


@dataclass(frozen=True)
class CIMQOptions:
    bit_sparsity_lambda: Annotated[float, Range(0)] = 1e-3
    """Weight of the mean expected 1-bits per activation code in the training loss."""


def popcount(codes: torch.Tensor, bits: int) -> torch.Tensor:
    """Number of 1-bits of non-negative integer codes (any integer dtype), as float."""
    codes = codes.to(torch.int64)
    return sum(((codes >> k) & 1) for k in range(bits)).to(torch.get_default_dtype())


def expected_bit_count(v: torch.Tensor, bits: int) -> torch.Tensor:
    """Expected popcount of stochastically rounded v in [0, 2^b − 1], elementwise."""
    n = torch.floor(v.detach()).clamp_max(2 ** bits - 2)   # v = Qp interpolates to itself
    f = v - n
    return (1 - f) * popcount(n, bits).to(v.dtype) + f * popcount(n + 1, bits).to(v.dtype)


class BitSparseActQuantizer(ActivationQuantizer):
    def __init__(self, bits: int, bit_sparsity_lambda: float) -> None:
        super().__init__()
        self.bits = int(bits)
        self.qn, self.qp = unsigned_range(self.bits)
        self.bit_sparsity_lambda = float(bit_sparsity_lambda)
        self.step = nn.Parameter(torch.tensor(1.0))
        self.register_buffer("initialized", torch.tensor(False))
        self._regularizer: torch.Tensor | None = None
        self._last_step: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if bool(self.initialized):
            step = self.step
        else:
            step = initial_step(x, self.qp).clamp_min(1e-8)
            if self.training:
                with torch.no_grad():
                    self.step.copy_(step)
                    self.initialized.fill_(True)
                step = self.step
        features = x[0].numel() if x.dim() > 1 else x.numel()
        step = ScaleGrad.apply(step, 1 / math.sqrt(features * self.qp))
        v = torch.clamp(x / step, 0, self.qp)
        self._last_step = step.detach()
        if self.training and self.bit_sparsity_lambda > 0:
            self._regularizer = self.bit_sparsity_lambda * expected_bit_count(v, self.bits).mean()
        return RoundSTE.apply(v) * step

    def regularization_loss(self) -> torch.Tensor | None:
        """The last training forward's λ·(mean expected 1-bits per code); read once."""
        value, self._regularizer = self._regularizer, None
        return value

    def cim_grid(self, x: torch.Tensor) -> Grid:
        step = self._last_step if self._last_step is not None else self.step.detach()
        return x.new_zeros(()), step.to(x.dtype), self.bits

    def extra_repr(self) -> str:
        return f"bits={self.bits}, bit_sparsity_lambda={self.bit_sparsity_lambda}"


class ReparamClipADC(PartialSumQuantizer):
    """ADC on [−c, c], c = softplus(θ)·c0 (see the module docstring); on [0, c] when the
    first batch's partial sums are all non-negative (``signed`` False: columns of
    offset-coded cells read unsigned sums), so zero is a level and no level is spent below it.
    """

    def __init__(self, bits: int, sigmas: float = 3.0) -> None:
        super().__init__()
        self.bits, self.levels, self.sigmas = int(bits), 2 ** int(bits), float(sigmas)
        self.theta = nn.Parameter(torch.tensor(math.log(math.e - 1)))
        self.register_buffer("c0", torch.tensor(1.0))
        self.register_buffer("signed", torch.tensor(True))
        self.register_buffer("initialized", torch.tensor(False))
        self.integer_sums = False   # set by the crossbar (common/adc.py)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # checkpoints written before the unsigned range read signed partial sums
        state_dict.setdefault(prefix + "signed", torch.tensor(True))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @torch.no_grad()
    def _batch_clip(self, p: torch.Tensor) -> torch.Tensor:
        p = p.reshape(-1)[::max(1, p.numel() // (1 << 18))]
        std, mean = torch.std_mean(p)
        return torch.maximum((mean - self.sigmas * std).abs(), (mean + self.sigmas * std).abs())

    def _range(self, p: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """(c, signed)."""
        if not bool(self.initialized) and p is not None:
            c0 = self._batch_clip(p).clamp_min(1e-8)
            signed = (p.detach() < 0).any()
            if not self.training:  # eval before training: this batch's range, nothing stored
                return F.softplus(self.theta) * c0, signed
            self.c0.copy_(c0)
            self.signed.copy_(signed)
            self.initialized.fill_(True)
        return F.softplus(self.theta) * self.c0, self.signed

    def clip(self, p: torch.Tensor | None = None) -> torch.Tensor:
        return self._range(p)[0]

    def reads_batch(self) -> bool:
        """The first batch starts c0 and the sign; θ learns from the clip's gradient after."""
        return not bool(self.initialized)

    @property
    def uniform(self) -> bool:
        return True

    def grid(self, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(lo, c, step) of the levels ``forward`` reads (lo = −c, or 0 unsigned)."""
        c, signed = self._range(p if p.numel() else None)
        lo, c, step = self._levels(c, signed)
        return lo, c, step

    def _levels(self, c: torch.Tensor, signed: torch.Tensor):
        """(lo, hi, step) from the clip: on an unsigned crossbar read (integer sums, see
        common/adc.py) the step is a whole number of unit currents, straight through to θ."""
        lo = -c if bool(signed) else torch.zeros_like(c)
        step = (c - lo) / (self.levels - 1)
        if self.integer_sums and not bool(signed):
            step = step + (torch.round(step).clamp_min(1.0) - step).detach()
            c = step * (self.levels - 1)
        return lo, c, step

    def forward(self, p: torch.Tensor) -> torch.Tensor:
        c, signed = self._range(p)
        # LSQ's gradient scale 1/sqrt(N·Qp): θ's gradient sums over every partial sum read,
        # which at the demo's learning rate sent the clip to NaN in one step unscaled
        c = ScaleGrad.apply(c, 1 / math.sqrt(p.numel() * (self.levels - 1)))
        lo, c, step = self._levels(c, signed)
        v = (torch.minimum(torch.maximum(p, lo), c) - lo) / step
        return lo + step * (v + (torch.round(v) - v).detach())

    def extra_repr(self) -> str:
        return f"bits={self.bits}, clip=softplus(theta)*c0"


class CIMQWeightQuantizer(ArrayWeightQuantizer):
    """Array-wise weights whose crossbars read partial sums through ``ReparamClipADC``."""

    def __init__(self, bits: int) -> None:
        super().__init__(bits, 1, per_column=False)

    def cim_adc(self, settings: ADCSettings, columns: tuple[int, int, int]) -> ReparamClipADC:
        return ReparamClipADC(settings.bits, settings.sigmas)


