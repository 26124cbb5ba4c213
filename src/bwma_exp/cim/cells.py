"""How a quantized layer's weights sit in the crossbar's cells: one documented scheme for
every method, the one the hardware estimator costs.

Offset (unsigned) coding, as DNN+NeuroSim's inference wrapper stores signed weights: the
weight quantizer states its levels (the contract's ``cim_cells``) as ``w = offset + scale·u``
with an integer u in [0, 2^b − 1]. The cells hold u; the digital side multiplies each array's
column by its scale and adds ``offset·Σ_rows x`` (below).

- Bit slices (NeuroSim's cellBit, ``hardware.cell_bits`` = c): u takes J = ceil(b / c)
  cells, slice j holding bits j·c … j·c + c − 1, each cell a conductance level in
  [0, 2^c − 1] (1-bit cells: off/on). Every slice is its own column, read by its own ADC;
  the digital side shift-adds the slices' reads (weight 2^(j·c)). Columns are numbered
  o·J + j, so a conv group's columns stay together.
- Binary weights (BWMA's two moment-matched values, bwba's ±α) have J = 1: u = 0 is the
  channel's lower value, u = 1 the upper one, so a ±1 weight is an off or on cell.
- The offset term needs Σ_rows x of each array: with ``hardware.reference_column`` every
  subarray has one reference column of on-cells, read through its own ADC like the others
  (its quantization error is in the accuracy); without it the sum is exact (digital).

Gradients: u carries w's gradient exactly ((w − offset)/scale, detached offset and scale),
and each slice a 1/J share of it straight through its bits (as the input bit planes do).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Cells:
    values: torch.Tensor   # (O·J, R): cell levels, columns o·J + j, straight-through in w
    colscale: torch.Tensor  # (g, A, O/g·J): each array's column weight scale·2^(j·c)
    refcoef: torch.Tensor   # (g, A, O/g): each array's offset, the reference column's weight
    offset_rows: torch.Tensor  # (O, R): the offset on every row (the exact offset term)
    slices: int


def slices_of(bits: int, cell_bits: int) -> int:
    return math.ceil(bits / cell_bits)


def build(w: torch.Tensor, grid, cell_bits: int, first_rows: torch.Tensor, groups: int
          ) -> Cells:
    """The cells of the quantized weight ``w`` on the levels ``grid`` = (offset, scale, bits);
    ``first_rows``: (A,) the first unrolled row of each array (scale is constant on it)."""
    offset, scale, bits = grid
    flat = w.reshape(w.shape[0], -1)
    o, rows = flat.shape
    offset = offset.expand(o, rows) if offset.dim() == 2 else offset.reshape(o, -1).expand(o, rows)
    scale = scale.expand(o, rows) if scale.dim() == 2 else scale.reshape(o, -1).expand(o, rows)
    u = (flat - offset) / scale                                   # integer values, w's gradient
    code = torch.round(u.detach()).clamp_(0, 2 ** bits - 1).to(torch.int32)
    j = slices_of(bits, cell_bits)
    shifts = torch.arange(j, device=w.device, dtype=torch.int32) * cell_bits
    level = ((code.unsqueeze(1) >> shifts.reshape(1, -1, 1)) & (2 ** cell_bits - 1)).to(w.dtype)
    if j == 1:
        values = level[:, 0] + (u - u.detach())
    else:
        place = (2.0 ** shifts.to(w.dtype)).reshape(1, -1, 1)
        share = u.unsqueeze(1) / (j * place)
        values = (level + (share - share.detach())).reshape(o * j, rows)
    og, arrays = o // groups, first_rows.numel()
    per_array = scale[:, first_rows].reshape(groups, og, arrays).transpose(1, 2)  # (g, A, Og)
    place = 2.0 ** (shifts.to(w.dtype))
    colscale = (per_array.unsqueeze(-1) * place).reshape(groups, arrays, og * j)
    refcoef = offset[:, first_rows].reshape(groups, og, arrays).transpose(1, 2)
    return Cells(values, colscale.contiguous(), refcoef.contiguous(), offset, j)
