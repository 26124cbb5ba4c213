"""``quant.options`` of ``quant=bwma``: the schema, and the field types its quantizers check
their own arguments with (so each limit is written once)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from ...utils.schema import Range
from ..common.compiled import KernelMode

MAX_ACT_BITS = 16
ActBits = Annotated[int, Range(1, MAX_ACT_BITS)]
Positive = Annotated[float, Range(0, lo_open=True)]
Momentum = Annotated[float, Range(0, 1, lo_open=True)]
Split = Literal["median", "mean"]
Schedule = Literal["irnet", "fixed"]


@dataclass(frozen=True)
class BWMAOptions:
    split: Split = "median"
    """median: the paper's rule (half the weights on each value); mean: AdaBin's sign(w - c)."""
    schedule: Schedule = "irnet"
    """irnet: t = 10^(-1 + 2e/E), α = max(1, t); fixed: ``alpha`` and ``temperature``."""
    alpha: Positive = 1.0
    temperature: Positive = 1.0
    surrogate_width: Positive = 1.0
    """G's argument scale in units of δ/2 (our reading of the paper)."""
    momentum: Momentum = 0.1
    """EMA momentum of the activation range."""
    learnable_clip: bool = False
    """Learn a_min/a_max (PACT-style) instead of averaging the batch range."""
    kernels: KernelMode = "auto"
    """auto: compiled once hot; eager; compiled (see common/compiled.py)."""
