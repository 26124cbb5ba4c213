"""How a quantized layer's weights sit in the crossbar's cells, as the hardware estimator
costs them (``hardware.weight_coding``; ``hardware.layers_prep.cells_per_weight`` counts the
columns). The weight quantizer states its levels (the contract's ``cim_cells``) as
``w = offset + scale·u`` with an integer u in [0, 2^b − 1]; the scales are applied per array
after the ADC. Two codings:

- Offset (NeuroSim's inference wrapper): the cells hold u in one array; the digital side adds
  ``offset·Σ_rows x`` of each array: with ``hardware.reference_column`` every subarray has
  one reference column of on-cells, read through its own ADC like the others (its error is in
  the accuracy); without it the sum is exact (digital). Every weight ≥ the offset's midpoint
  has its MSB cell on, so each column carries a large common sum beside the weights' signal.
- Differential (ColumnQuant's reference): with the zero code z = −offset/scale (an integer:
  zero is a level), k = u − z is signed; positive columns hold max(k, 0) and negative ones
  max(−k, 0), each in b magnitude bits, side by side in the same subarrays (a weight's columns
  stay together, as the estimator maps c_out·cells_per_weight columns), and the digital side
  subtracts the negative columns' reads. No offset term, no common sum; twice the columns.
  Binary weights (J = 1 below) stay offset-coded under every coding: one cell each.

Bit slices (NeuroSim's cellBit, ``hardware.cell_bits`` = c): a b-bit value takes
J = ceil(b / c) cells, slice j holding bits j·c … j·c + c − 1, each cell a conductance level
in [0, 2^c − 1] (1-bit cells: off/on), every slice its own column read by its own ADC and
shift-added (weight 2^(j·c)). Columns are numbered o·C + i with C the columns per weight
(J, or 2J: positive slices then negative ones), so a conv group's columns stay together.
Binary weights (BWMA's two moment-matched values, bwba's ±α): u = 0 is the channel's lower
value, u = 1 the upper one, so a ±1 weight is an off or on cell.

Gradients: u carries w's gradient exactly ((w − offset)/scale, detached offset and scale);
each slice takes a 1/J share of it straight through its bits (as the input bit planes do),
and differentially the columns that hold the weight take it (each sign half at k = 0).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Cells:
    values: torch.Tensor   # (O·C, R): cell levels, columns o·C + i, straight-through in w
    colscale: torch.Tensor  # (g, A, O/g·C): each array's column weight ±scale·2^(j·c)
    refcoef: torch.Tensor | None   # (g, A, O/g): each array's offset (None: differential)
    offset_rows: torch.Tensor | None  # (O, R): the offset on every row (None: differential)
    slices: int            # C, the columns per weight: J bit slices, 2J when differential

    def every(self, stride: int) -> Cells:
        """The cells of every ``stride``-th output only (one conv group), all its columns."""
        def outputs(t: torch.Tensor, dim: int, per_output: int) -> torch.Tensor:
            t = t.unflatten(dim, (-1, per_output))
            return t[(slice(None),) * dim + (slice(None, None, stride),)].flatten(dim, dim + 1)
        return Cells(outputs(self.values, 0, self.slices), outputs(self.colscale, 2, self.slices),
                     None if self.refcoef is None else self.refcoef[:, :, ::stride],
                     None if self.offset_rows is None else self.offset_rows[::stride],
                     self.slices)


def slices_of(bits: int, cell_bits: int) -> int:
    return math.ceil(bits / cell_bits)


def build(w: torch.Tensor, grid, cell_bits: int, first_rows: torch.Tensor, groups: int,
          differential: bool = False) -> Cells:
    """The cells of the quantized weight ``w`` on the levels ``grid`` = (offset, scale, bits);
    ``first_rows``: (A,) the first unrolled row of each array (scale is constant on it);
    ``differential``: positive and negative columns (``layers_prep.differential``)."""
    offset, scale, bits = grid
    flat = w.reshape(w.shape[0], -1)
    o, rows = flat.shape
    offset = offset.expand(o, rows) if offset.dim() == 2 else offset.reshape(o, -1).expand(o, rows)
    scale = scale.expand(o, rows) if scale.dim() == 2 else scale.reshape(o, -1).expand(o, rows)
    u = (flat - offset) / scale                                   # integer values, w's gradient
    code = torch.round(u.detach()).clamp_(0, 2 ** bits - 1).to(torch.int32)
    j = slices_of(bits, cell_bits)
    shifts = torch.arange(j, device=w.device, dtype=torch.int32) * cell_bits
    place = 2.0 ** shifts.to(w.dtype)
    og, arrays = o // groups, first_rows.numel()
    per_array = scale[:, first_rows].reshape(groups, og, arrays).transpose(1, 2)  # (g, A, Og)
    if differential:
        return _differential(u, code, offset, scale, bits, j, shifts, place, per_array,
                             cell_bits)
    level = _slices(code, shifts, cell_bits).to(w.dtype)          # (O, J, R)
    if j == 1:
        values = level[:, 0] + (u - u.detach())
    else:
        share = u.unsqueeze(1) / (j * place.reshape(1, -1, 1))
        values = (level + (share - share.detach())).reshape(o * j, rows)
    colscale = (per_array.unsqueeze(-1) * place).reshape(groups, arrays, og * j)
    refcoef = offset[:, first_rows].reshape(groups, og, arrays).transpose(1, 2)
    return Cells(values, colscale.contiguous(), refcoef.contiguous(), offset, j)


def _slices(code: torch.Tensor, shifts: torch.Tensor, cell_bits: int) -> torch.Tensor:
    """(..., R) integer codes -> (..., J, R) cell levels, slice j = bits j·c … j·c + c − 1."""
    return (code.unsqueeze(-2) >> shifts.reshape(-1, 1)) & (2 ** cell_bits - 1)


def _differential(u, code, offset, scale, bits, j, shifts, place, per_array, cell_bits
                  ) -> Cells:
    zero = -offset / scale
    if not bool(torch.all((zero - zero.round()).abs() <= 1e-3)) or \
            not bool(torch.all((zero >= 0) & (zero <= 2 ** bits - 1))):
        raise ValueError("hardware.weight_coding=differential needs weight levels with zero "
                         "among them (an integer zero code); these have none")
    zero = zero.round()
    k = u - zero                                                  # signed, w's gradient
    signed = code - zero.to(torch.int32)
    magnitude = torch.stack([signed.clamp(min=0), (-signed).clamp(min=0)], 1)   # (O, 2, R)
    level = _slices(magnitude, shifts, cell_bits).to(u.dtype)     # (O, 2, J, R)
    holds = (signed > 0).to(u.dtype) + 0.5 * (signed == 0).to(u.dtype)
    share = torch.stack([k * holds, -k * (1 - holds)], 1).unsqueeze(2) \
        / (j * place.reshape(1, 1, -1, 1))                         # colscale's sign undoes −k
    o, rows = code.shape
    values = (level + (share - share.detach())).reshape(o * 2 * j, rows)
    groups, arrays, og = per_array.shape
    signs = torch.tensor([1.0, -1.0], dtype=u.dtype, device=u.device).reshape(2, 1)
    colscale = per_array.reshape(groups, arrays, og, 1, 1) * (signs * place)
    return Cells(values, colscale.reshape(groups, arrays, og * 2 * j).contiguous(), None, None,
                 2 * j)
