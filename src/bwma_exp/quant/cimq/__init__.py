"""``quant=cimq`` (Bai et al., IEEE TCAD 2024; no public code, built from the abstract):

- (a) Bit-level-sparsity-induced activations: unsigned uniform codes
  ``q = round(clamp(x/s, 0, 2^b − 1))`` with a learnable step s (LSQ gradient, started from
  the first training batch), plus a regulariser on the expected number of 1-bits of the codes,
  weighted by ``quant.options.bit_sparsity_lambda`` and added to the training loss (the
  LightningModule sums every module's ``regularization_loss()``). With v = clamp(x/s, 0, Qp),
  n = floor(v), f = v − n, the expected popcount under stochastic rounding is
  ``(1 − f)·popcount(n) + f·popcount(n + 1)``: exact at integer codes, piecewise linear
  (differentiable almost everywhere) in between. A layer's term is its mean over elements,
  so λ does not depend on batch or feature-map size; fewer 1-bits means fewer active
  wordline pulses in bit-serial CIM (less dynamic energy).
- (b) Array-wise weight granularity: signed uniform weights with one learnable step per
  crossbar array (all its columns share it) when tiled (the default: ``cim.tiled: auto``
  tiles this method), one per layer otherwise
  (``columnquant.ArrayWeightQuantizer(per_column=False)``).
- (c) Partial sums through an ADC with a reparametrized clip: the range is symmetric [−c, c]
  with ``c = softplus(θ)·c0``; c0 (a buffer) is the first training batch's
  max(|mean − 3σ|, |mean + 3σ|) of the layer's partial sums and θ starts at
  softplus⁻¹(1) = log(e − 1), so c starts at c0. Softplus keeps c > 0 and the gradient on θ
  is relative to the partial sums' own scale, so one learning rate suits every layer. The
  grid has 2^adc_bits levels ``−c + k·2c/(2^b − 1)``; θ gets the straight-through gradient
  of clamp and grid (as LSQ's step does). Where the first batch's partial sums are all
  non-negative (cells hold unsigned levels: column sums are never negative) the range is
  [0, c] instead, levels ``k·c/(2^b − 1)``: zero is a level, none is spent below it.
- Cells: ``hardware.weight_coding: auto`` is differential for this method (positive and
  negative magnitudes in separate columns, cim/cells.py), so no column carries an offset's common
  sum and a 4-bit ADC spends its levels on the weights' signal.

Needs ``w_bits >= 2`` (signed 1-bit grids are empty).
"""
from __future__ import annotations

from ..columnquant.quantizers import check_bits
from ..options import read_options
from ..spec import QuantSpec, register_method
from .quantizers import (
    BitSparseActQuantizer,
    CIMQOptions,
    CIMQWeightQuantizer,
    ReparamClipADC,
    expected_bit_count,
)

__all__ = ["BitSparseActQuantizer", "CIMQWeightQuantizer", "ReparamClipADC",
           "expected_bit_count"]

@register_method("cimq", tiled=True, weight_coding="differential")
def cimq_quantizers(spec: QuantSpec, kind: str, out_channels: int):
    check_bits("cimq", spec)
    opts = read_options("cimq", spec.options, CIMQOptions)
    return (CIMQWeightQuantizer(int(spec.w_bits)),
            BitSparseActQuantizer(int(spec.act_bits), opts.bit_sparsity_lambda))
