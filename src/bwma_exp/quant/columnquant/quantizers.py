"""The quantizers of ``quant=columnquant`` (see the package docstring)."""
from __future__ import annotations

import math

import torch
from torch import nn

from ...utils.errors import ConfigError
from ..common.adc import ADC, ADCSettings
from ..common.lsq import RoundSTE, ScaleGrad, signed_range
from ..contract import ActivationQuantizer, Grid, WeightQuantizer
from ..spec import QuantSpec

MAX_BITS = 16


def check_bits(method: str, spec: QuantSpec) -> None:
    if not 2 <= int(spec.w_bits) <= MAX_BITS:
        raise ConfigError("w_bits", spec.w_bits, f"2 to {MAX_BITS} for quant={method}",
                          hint="signed 1-bit weights have no levels; use quant=bwma.")
    if not 1 <= int(spec.act_bits) <= MAX_BITS:
        raise ConfigError("act_bits", spec.act_bits, f"1 to {MAX_BITS} for quant={method}")


class ArrayWeightQuantizer(WeightQuantizer):
    """Signed uniform weights with one learnable step per (row of ``step``, array).

    ``per_column=True``: ``step`` is (O, A), one per output channel and array (ColumnQuant).
    ``per_column=False``: ``step`` is (G, A), one per conv group and array, shared by all the
    array's columns (CIMQ's array-wise granularity). A = 1 until ``set_arrays`` gives the
    crossbar partition (called by ``cim.attach`` before training or checkpoint loading).
    """

    def __init__(self, bits: int, out_channels: int, per_column: bool) -> None:
        super().__init__()
        self.bits, self.per_column = int(bits), per_column
        self.qn, self.qp = signed_range(self.bits)
        self.step = nn.Parameter(torch.ones(out_channels if per_column else 1, 1))
        # row of the flattened (C_in/g·K_h·K_w) weight -> its array; empty: one array
        self.register_buffer("row_array", torch.zeros(0, dtype=torch.long))
        self.register_buffer("initialized", torch.tensor(False))

    def set_arrays(self, arrays: list[list[int]], groups: int = 1) -> None:
        # one step per (output channel or group, array), started again from the weights
        index = torch.empty(sum(len(a) for a in arrays), dtype=torch.long)
        for a, rows in enumerate(arrays):
            index[rows] = a
        self.row_array = index.to(self.step.device)
        self.step = nn.Parameter(self.step.new_ones(self.step.shape[0] if self.per_column
                                                    else groups, len(arrays)))
        self.initialized.fill_(False)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # An untiled checkpoint (one array) loaded into a tiled layer (eval.py under device
        # variation tiles any run): its step holds for every array of the partition.
        key, index_key = prefix + "step", prefix + "row_array"
        stored = state_dict.get(key)
        if stored is not None and stored.shape[1] == 1 and self.step.shape[1] > 1 \
                and state_dict.get(index_key, self.row_array).numel() == 0:
            state_dict[key] = stored.expand(self.step.shape[0], self.step.shape[1]).clone()
            state_dict[index_key] = self.row_array
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _index(self, rows: int, device: torch.device) -> torch.Tensor:
        if self.row_array.numel() == 0:
            return torch.zeros(rows, dtype=torch.long, device=device)
        if self.row_array.numel() != rows:
            raise ValueError(f"weight has {rows} rows, the array partition {self.row_array.numel()}")
        return self.row_array

    @torch.no_grad()
    def _initial_step(self, flat: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        arrays = self.step.shape[1]
        sums = flat.new_zeros(flat.shape[0], arrays).index_add_(1, index, flat.abs())
        counts = torch.bincount(index, minlength=arrays).to(flat.dtype)
        sums = sums.reshape(self.step.shape[0], -1, arrays).sum(1)
        counts = counts * (flat.shape[0] // self.step.shape[0])
        return 2 * (sums / counts.clamp_min(1)) / math.sqrt(self.qp)

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        flat = w.reshape(w.shape[0], -1)
        index = self._index(flat.shape[1], w.device)
        if not bool(self.initialized):
            with torch.no_grad():
                self.step.copy_(self._initial_step(flat, index).clamp_min(1e-8))
                self.initialized.fill_(True)
        per_scale = flat.numel() / self.step.numel()
        step = ScaleGrad.apply(self.step, 1 / math.sqrt(per_scale * self.qp))
        step = step.repeat_interleave(flat.shape[0] // step.shape[0], dim=0)[:, index]  # (O, R)
        q = RoundSTE.apply(torch.clamp(flat / step, -self.qn, self.qp)) * step
        return q.reshape_as(w)

    def cim_cells(self, w: torch.Tensor, bits: int):
        """w = step·k per (output channel or group, array), k in [−2^(b−1), 2^(b−1) − 1]:
        u = k + 2^(b−1); scale and offset per row, constant on each array's rows."""
        rows = w[0].numel()
        step = self.step.detach()
        step = step.repeat_interleave(w.shape[0] // step.shape[0], dim=0)[:, self._index(rows, w.device)]
        return -self.qn * step, step, self.bits

    def cim_adc(self, settings: ADCSettings, columns: tuple[int, int, int]) -> ADC | None:
        """Column-wise ADC ranges when ``per_column`` (ColumnQuant); None: the default ADC."""
        if not self.per_column:
            return None
        return ColumnADC(columns, settings.bits, settings.range_mode, settings.sigmas,
                         settings.momentum)

    def extra_repr(self) -> str:
        return f"bits={self.bits}, per_column={self.per_column}, steps={tuple(self.step.shape)}"


class ColumnADC(ADC):
    """``cim.adc.ADC`` with one range per crossbar column: lo/hi have shape (g, A, O/g, 1),
    broadcast against partial sums (M, g, A, O/g, L); statistics over images and positions."""

    def __init__(self, columns: tuple[int, int, int], bits: int, range_mode: str = "sigma",
                 sigmas: float = 3.0, momentum: float = 0.1) -> None:
        super().__init__(bits, range_mode, sigmas, momentum)
        shape = tuple(columns) + (1,)
        for name, value in (("lo", -1.0), ("hi", 1.0)):
            delattr(self, name)
            tensor = torch.full(shape, value)
            if range_mode == "learnable":
                setattr(self, name, nn.Parameter(tensor))
            else:
                self.register_buffer(name, tensor)

    @property
    def per_column(self) -> bool:
        return True

    @torch.no_grad()
    def _batch_range(self, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cols = p.movedim(0, -2).flatten(-2)                          # (g, A, O/g, M·L)
        cols = cols[..., ::max(1, p.numel() // (1 << 18))]
        mn, mx = torch.aminmax(cols, dim=-1, keepdim=True)
        if self.range_mode == "minmax":
            return mn, mx
        std, mean = torch.std_mean(cols, dim=-1, keepdim=True)
        std = torch.nan_to_num(std)  # a single sample per column has no spread
        return torch.maximum(mean - self.sigmas * std, mn), torch.minimum(mean + self.sigmas * std, mx)


class DoReFaActQuantizer(ActivationQuantizer):
    """``round(clamp(x, 0, 1)·n)/n``, n = 2^b − 1, straight-through inside [0, 1]."""

    def __init__(self, bits: int) -> None:
        super().__init__()
        self.bits, self.n = int(bits), 2 ** int(bits) - 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return RoundSTE.apply(torch.clamp(x, 0, 1) * self.n) / self.n

    def cim_grid(self, x: torch.Tensor) -> Grid:
        """(a_min, δ, bits) of the fixed grid {k/n} for the crossbar's bit planes."""
        return x.new_tensor(0.0), x.new_tensor(1.0 / self.n), self.bits

    def extra_repr(self) -> str:
        return f"bits={self.bits}"


