"""The activation quantizer module: BWMA's multi-bit quantizer on a running range.

The range [a_min, a_max] is an exponential moving average of the batch min/max during
training, ``new = (1 - m)·old + m·batch`` (BatchNorm's convention, m = 0.1), started from the
first training batch; the batch being trained is quantized on the updated range. In eval the
range is frozen. Before the first training batch (Lightning's sanity check, an eval-mode
forward) the batch's own range is used and nothing is stored. a_min, a_max and ``initialized``
are buffers, so checkpoints carry them.

``learnable_clip=True`` makes a_min/a_max parameters instead (PACT-style): set from the first
training batch, then learned from the clip gradient (see ``act_quant``), not averaged.

``bits=1`` uses the fixed range [-1, 1] (sign activations of the binary-specific models).
"""
from __future__ import annotations

import torch
from torch import nn

from ..utils.errors import ConfigError
from .act_quant import BinaryActQuant, MultiBitActQuant, RunningRangeActQuant
from .functional import MAX_ACT_BITS
from .kernels import KERNEL_MODES


class ActQuantizer(nn.Module):
    def __init__(self, bits: int, momentum: float = 0.1, surrogate_width: float = 1.0,
                 learnable_clip: bool = False, kernels: str = "auto") -> None:
        super().__init__()
        if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= MAX_ACT_BITS:
            raise ConfigError("act_bits", bits, f"an integer from 1 to {MAX_ACT_BITS}")
        if not 0 < momentum <= 1:
            raise ConfigError("quant.options.momentum", momentum, "a number in (0, 1]")
        if not surrogate_width > 0:
            raise ConfigError("quant.options.surrogate_width", surrogate_width, "a positive number")
        if learnable_clip and bits == 1:
            raise ConfigError("quant.options.learnable_clip", learnable_clip,
                              "false when act_bits=1", hint="1-bit activations use [-1, 1].")
        if kernels not in KERNEL_MODES:
            raise ConfigError("quant.options.kernels", kernels, ", ".join(KERNEL_MODES))
        self.bits, self.levels = bits, 2 ** bits
        self.momentum, self.surrogate_width = float(momentum), float(surrogate_width)
        self.learnable_clip, self.kernels = learnable_clip, kernels
        self.register_buffer("initialized", torch.tensor(bits == 1))
        if learnable_clip:
            self.a_min = nn.Parameter(torch.tensor(-1.0))
            self.a_max = nn.Parameter(torch.tensor(1.0))
        else:
            self.register_buffer("a_min", torch.tensor(-1.0))
            self.register_buffer("a_max", torch.tensor(1.0))

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        if self.bits == 1:
            return BinaryActQuant.apply(a, self.surrogate_width, self.kernels)
        if self.training and not self.learnable_clip:
            return self._running_range_step(a)
        a_min, a_max = self._fixed_range(a)
        return MultiBitActQuant.apply(a, a_min, a_max, self.levels, self.surrogate_width,
                                      self.kernels)

    def _running_range_step(self, a: torch.Tensor) -> torch.Tensor:
        # One call updates the range and quantizes; the flag is read on the device, not
        # with an `if`, so the training step needs no host-device sync.
        q, new_min, new_max = RunningRangeActQuant.apply(
            a, self.a_min, self.a_max, self.initialized, self.momentum, self.levels,
            self.surrogate_width, self.kernels)
        with torch.no_grad():
            self.a_min.copy_(new_min)
            self.a_max.copy_(new_max)
            self.initialized.fill_(True)
        return q

    def _fixed_range(self, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.training and not bool(self.initialized):  # learnable clip: first batch
            with torch.no_grad():
                lo, hi = torch.aminmax(a.detach())
                self.a_min.copy_(lo)
                self.a_max.copy_(hi)
                self.initialized.fill_(True)
        if self.learnable_clip:
            return self.a_min, self.a_max
        if bool(self.initialized):
            # Copies: a later training step changes the buffers in place, and a saved
            # tensor must not change before its backward.
            return self.a_min.clone(), self.a_max.clone()
        return torch.aminmax(a.detach())  # eval before any training batch: nothing stored

    def extra_repr(self) -> str:
        return (f"bits={self.bits}, momentum={self.momentum}, "
                f"surrogate_width={self.surrogate_width}, learnable_clip={self.learnable_clip}, "
                f"kernels={self.kernels}")
