"""``quant=columnquant`` (Kim et al. 2025, jiyoonkm/ColumnQuant): weights and partial sums
quantized at the same, column-wise granularity.

- Weights: signed uniform ``w_bits`` levels ``round(clamp(w/s, -2^(b-1), 2^(b-1)-1))·s`` with
  one learnable step s per output channel per array (an array = one subarray's rows of the
  row partition ``hardware.mapping`` shares with the estimator; ColumnQuant's own tiling is
  ``hardware.mapping=channel_grouped``). Untiled, each output channel is one array. The step
  has LSQ's gradient (``lsq.py``), scaled by ``1/sqrt(rows_per_array·Qp)``, and starts at
  ``2·mean|w|/sqrt(Qp)`` of its own rows.
- Activations: DoReFa ``round(clamp(x, 0, 1)·(2^b − 1))/(2^b − 1)``, straight-through inside
  [0, 1], zero gradient outside.
- Partial sums (tiled, the default: ``cim.tiled: auto`` tiles this method, and
  ``hardware.mapping: auto`` is channel_grouped for it, in the forward and the estimate; the
  other mappings are refused): one ADC range per crossbar column (per output channel per
  array), ``cim.adc_range`` (default ``sigma``: mean ± ``cim.adc_sigmas``·σ, k = 3) computed
  per column instead of per layer.

Cells (``hardware.weight_coding: auto`` is differential for this method, as in ColumnQuant's
reference): the positive and the negative weight magnitudes sit in separate columns, each split into
``ceil(w_bits/cell_bits)`` bit slices; every slice column is read by its own ADC and the
digital side shift-adds the slices and subtracts the negative array's sum (cim/cells.py).

Needs ``w_bits >= 2`` (a signed 1-bit grid is empty: Qp = 0; binary weights are quant=bwma).
"""
from __future__ import annotations

from ..options import NoOptions, read_options
from ..spec import QuantSpec, register_method
from .quantizers import ArrayWeightQuantizer, ColumnADC, DoReFaActQuantizer, check_bits

__all__ = ["ArrayWeightQuantizer", "ColumnADC", "DoReFaActQuantizer"]

@register_method("columnquant", tiled=True, mapping="channel_grouped", weight_coding="differential")
def columnquant_quantizers(spec: QuantSpec, kind: str, out_channels: int):
    check_bits("columnquant", spec)
    read_options("columnquant", spec.options, NoOptions)
    return (ArrayWeightQuantizer(int(spec.w_bits), out_channels, per_column=True),
            DoReFaActQuantizer(int(spec.act_bits)))
