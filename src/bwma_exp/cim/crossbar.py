"""``Crossbar``: a quantized layer's forward pass computed the way the CIM chip computes it.

The layer's unrolled weight matrix (rows = C_in/g·K², see ``hardware.mapping``) is split
across subarrays exactly as the hardware model maps it, and its weights sit in the cells as
``cells`` documents (``hardware.weight_coding``: offset or differential, ``hardware.cell_bits``
bit slices, a reference column). Each subarray column's partial sum goes through the ADC, and
the digital periphery weights it by its array's signed scale and slice place value, adds the
columns, subarrays and input bit planes up and adds the offsets (offset coding). With
``bit_serial`` each input bit plane is read separately (the crossbar's 1-bit wordline drive);
otherwise the multi-bit partial sum is read at once.

Two reads give the same values (tests compare them):
- the popcount kernel of ``binary`` (CPU, cells at exact integer levels, no gradient needed:
  evaluation and the straight-through training read), which never stores partial sums;
- the op-by-op read of ``partial_sums`` (every subarray's partial sums in one batched kernel,
  then the ADC and sums by autograd), for everything else.

Gradients (``adc_grad``): ``ste`` (default) differentiates the tiled layer as the ideal one,
straight through the ADC, also where it clips; the forward then runs without autograd.
``clipped`` passes no gradient through a clipped partial sum: autograd through the op-by-op
read, the input planes' and cell slices' straight-through shares summing to the ideal
gradient where nothing clips. Learnable ADC ranges and the methods' own uncalibrated ADCs are
always read op by op: their ranges learn from the clip.

Every forward records what it read (``counts``: subarrays used, ADC conversions per image,
cells holding weights), which the run's summary sets beside the estimator's figures.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..hardware.layers_prep import cells_per_weight, differential
from ..hardware.mapping import row_arrays
from ..quant.common.adc import STAT_SAMPLES
from ..quant.contract import PartialSumQuantizer
from . import binary, partial_sums
from . import cells as cell_layout
from .layer_ops import (
    IdealGradient,
    conv_args,
    input_planes,
    out_size,
    shift_add,
    unfold,
    window_sum,
)
from .variation import ConductanceVariation, perturb


class Crossbar(nn.Module):
    def __init__(self, rows: int, subarray: int, mapping: str, kernel: tuple[int, int],
                 adc: PartialSumQuantizer | None, bit_serial: bool, adc_grad: str = "ste", *,
                 cell_bits: int = 1, reference_adc: PartialSumQuantizer | None = None,
                 reference_column: bool = False, weight_coding: str = "offset") -> None:
        super().__init__()
        area = kernel[0] * kernel[1]
        blocks = row_arrays(rows // area, kernel[0], kernel[1], subarray, mapping)
        # The partition itself, as the estimator counts it (the kernels below follow it).
        self.arrays = len(blocks)
        self.register_buffer("first_rows", torch.tensor([b[0] for b in blocks]),
                             persistent=False)
        self.rows, self.subarray, self.mapping, self.kernel = rows, subarray, mapping, kernel
        self.adc = adc
        self.reference_column = reference_column
        self.reference_adc = reference_adc if reference_column else None
        self.bit_serial = bit_serial
        self.adc_grad = adc_grad
        self.cell_bits = int(cell_bits)
        self.weight_coding = weight_coding   # per layer: layers_prep.differential(w_bits, .)
        self.variation = ConductanceVariation()
        self.train_variation_sigma = 0.0      # cim.train_variation_sigma: noise-aware training
        self.train_variation_kind = "lognormal"
        self.native = True    # False: always the op-by-op read (tests compare the two)
        self.counts: dict[str, int] = {}
        self._terms: binary.Terms | None = None

    def slices(self, w_bits: int) -> int:
        """Columns per weight: its bit slices, in both arrays when differential."""
        return cells_per_weight(w_bits, self.cell_bits, self.weight_coding)

    def cell_shape(self, layer: nn.Module) -> tuple[int, int]:
        """(columns O·C, rows R): one cell per weight bit slice (what variation perturbs)."""
        return layer.weight.shape[0] * self.slices(layer.w_bits), self.rows

    def forward(self, layer: nn.Module, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        grid = layer.act_quantizer.cim_grid(x)    # detached
        for adc in (self.adc, self.reference_adc):   # integer cells x integer codes
            if adc is not None and hasattr(adc, "integer_sums"):
                adc.integer_sums = grid is not None
        if self.adc_grad == "ste" and torch.is_grad_enabled() and self._uniform():
            with torch.no_grad():
                value = self._tiled(layer, x.detach(), w.detach(), grid)
            out = IdealGradient.apply(x, w, layer.bias, value, conv_args(layer))
            if not self._calibrated():   # the range learns (in calibration too, in eval mode)
                out = out + self._range_gradient(layer, x.detach(), w.detach(), grid)
            return out
        return self._tiled(layer, x, w, grid)

    def _calibrated(self) -> bool:
        return all(adc is None or adc.calibrated for adc in (self.adc, self.reference_adc))

    def _uniform(self) -> bool:
        return all(adc is None or adc.uniform for adc in (self.adc, self.reference_adc))

    def _range_gradient(self, layer, x, w, grid) -> torch.Tensor:
        """Zero in value; its gradient is the learnable ADC range's, from the op-by-op read of
        the batch's first images (as few as give STAT_SAMPLES partial sums) and, where one
        image gives many more, of an even subset of the outputs (each with all its columns;
        ranges shared by the layer's columns only), scaled to the whole batch and layer: an
        unbiased estimate at a fraction of the read's cost."""
        q = x if grid is None else (x - grid[0]) / grid[1]
        groups = layer.groups if w.dim() == 4 else 1
        bits = grid[2] if grid is not None else 1
        shape = self.cell_shape(layer)
        k = self._stat_images(layer, q, shape, bits)
        stride = 1
        if groups == 1 and not any(adc is not None and adc.per_column
                                   for adc in (self.adc, self.reference_adc)):
            stride = self._output_stride(layer, q[:k], bits, shape[0], w.shape[0])
        sub = self._tiled(layer, x[:k], w, grid, range_only=True, output_stride=stride)
        kept = sub.shape[1]
        sub = (sub - sub.detach()) * (x.shape[0] / k * w.shape[0] / kept)
        full = sub.new_zeros((x.shape[0], w.shape[0]) + sub.shape[2:])
        full[:k, ::stride] = sub
        return full

    def _tiled(self, layer: nn.Module, x: torch.Tensor, w: torch.Tensor, grid,
               range_only: bool = False, output_stride: int = 1) -> torch.Tensor:
        groups = layer.groups if w.dim() == 4 else 1
        levels = layer.weight_quantizer.cim_cells(w, layer.w_bits)
        if levels is None:
            raise TypeError(f"{type(layer.weight_quantizer).__name__} states no weight levels "
                            "(cim_cells): its weights cannot be stored in crossbar cells")
        cells = cell_layout.build(w, levels, self.cell_bits, self.first_rows, groups,
                                  differential(layer.w_bits, self.weight_coding))
        if output_stride > 1:   # range_only: every output_stride-th output's columns
            cells = cells.every(output_stride)
        if self.reference_column and cells.offset_rows is None:
            # attach asks layers_prep.has_reference_column; a direct caller may not have
            raise ValueError("differential cells have no offset term for a reference column")
        values = self.variation(cells.values)
        if self.training and self.train_variation_sigma > 0:
            values = perturb(values, self.train_variation_sigma, self.train_variation_kind)
        n = x.shape[0]
        if grid is None:   # a real input drives the wordlines as one analog plane
            q, place, a_min, bits = x, x.new_ones(1), None, None
        else:
            a_min, delta, bits = grid
            q = (x - a_min) / delta                       # integer codes; differentiable in x
            place = delta * 2.0 ** torch.arange(bits if self.bit_serial else 1,
                                                device=x.device, dtype=x.dtype)
        needs_grad = range_only or (torch.is_grad_enabled()
                                    and (q.requires_grad or values.requires_grad))
        if (self.native and not needs_grad and bits is not None and self._uniform()
                and binary.available(q, values, bits, self.cell_bits)):
            out, reads = self._popcount(layer, q, values, cells, bits, place, groups)
            planes, kernel_read = None, True     # the kernel added the offsets too
        else:
            kernel_read = False
            planes, plane_place = input_planes(q, bits, place, self.bit_serial)
            out, reads = self._op_read(layer, planes, plane_place, values, cells, groups, n)
        if not range_only:   # range_only: just the terms that depend on the ADC range
            if cells.offset_rows is not None and not kernel_read:
                out = out + self._offset(layer, q, bits, place, planes, cells, groups, n)
            if a_min is not None:   # a_min·Σ_rows w over the rows that hold a real input
                out = out + a_min * window_sum(layer, torch.ones_like(x[:1]), w)
            if layer.bias is not None:
                out = out + layer.bias.reshape(1, -1, 1)
            self._count(values, reads, out.shape[-1], place.numel(), groups)
        if w.dim() == 2:
            return out.reshape(n, -1)
        return out.reshape(n, -1, *out_size(layer, x))

    # -- the two reads of the weight columns -------------------------------------------------

    def _popcount(self, layer, q, values, cells, bits, place, groups):
        if self._terms is None:
            self._terms = binary.Terms.build(self.rows // (self.kernel[0] * self.kernel[1]),
                                             self.kernel, self.subarray, self.mapping)
        first = self._stat_images(layer, q, values.shape, bits)
        adc_grid = self._grid(self.adc, layer, q[:first], values, bits, place, groups)
        ref_grid = None
        if self.reference_column:
            ones = q.new_ones(groups, *layer.weight.shape[1:])
            ref_grid = self._grid(self.reference_adc, layer, q[:first], ones, bits, place,
                                  groups)
        # offset coding: each array's offset·Σx, read by the reference column's ADC or, without
        # one, exact (the kernel's count of the array's input bits: the digital offset)
        return binary.read(q, values, self._terms, conv_args(layer), groups, bits,
                           self.bit_serial, place, cells.colscale, cells.slices, self.cell_bits,
                           adc_grid, cells.refcoef, ref_grid)

    def _grid(self, adc, layer, q, values, bits, place, groups):
        """(lo, hi, step) of ``adc`` for this batch: its stored range where it reads no batch
        (evaluation; a learned range once started), else from the first images' partial sums
        (``q``: their codes); None: no ADC."""
        if adc is None:
            return None
        if not adc.reads_batch():
            return adc.grid(q.new_empty(0))
        planes, _ = input_planes(q, bits, place, self.bit_serial)
        if not adc.per_column and groups == 1:
            # one range for the layer: an even subset of its outputs, each with all its columns
            # (bit slices), gives the STAT_SAMPLES partial sums its statistics take (the rest
            # were subsampled away after the read); a stride over columns would alias with the
            # slices and see only some of them
            slices = max(1, values.shape[0] // layer.weight.shape[0])
            outputs = values.shape[0] // slices
            stride = self._output_stride(layer, q, bits, values.shape[0], outputs)
            values = values.unflatten(0, (outputs, slices))[::stride].flatten(0, 1)
        return adc.grid(self._partial_sums(layer, planes, values, groups))

    def _op_read(self, layer, planes, place, values, cells, groups, n):
        psum = self._partial_sums(layer, planes, values, groups)     # (P·N, g, A, Oc/g, L)
        reads = psum[0].numel() * (psum.shape[0] // n)
        if self.adc is not None:
            psum = self.adc(psum)
        out = (psum * cells.colscale.unsqueeze(-1)).sum(2)            # (P·N, g, Oc/g, L)
        out = out.unflatten(2, (-1, cells.slices)).sum(3)             # slices shift-added
        return shift_add(out, place, n), reads

    def _offset(self, layer, q, bits, place, planes, cells, groups, n):
        """offset·Σ_rows x of every array: read by the reference column (with its ADC), or
        exact in digital when the chip has none."""
        if not self.reference_column:
            return window_sum(layer, q, cells.offset_rows.reshape(-1, *layer.weight.shape[1:])
                               ) * place[0]
        if planes is None:   # the popcount read packed its own planes
            planes, place = input_planes(q, bits, place, self.bit_serial)
        ones = q.new_ones(groups, *layer.weight.shape[1:])
        psum = self._partial_sums(layer, planes, ones, groups)      # (P·N, g, A, 1, L)
        if self.reference_adc is not None:
            psum = self.reference_adc(psum)
        out = torch.einsum("mgal,gao->mgol", psum[:, :, :, 0], cells.refcoef)
        return shift_add(out, place, n)

    def _partial_sums(self, layer, planes, values, groups):
        s = values.reshape(values.shape[0], *layer.weight.shape[1:])
        if s.dim() == 2:  # linear: one column vector per image; K = 1 makes every mapping im2col
            return partial_sums.im2col(planes.unsqueeze(-1), s, 1, self.subarray)
        if self.mapping == "novel":
            return partial_sums.novel(planes, s, layer, self.subarray)
        if self.mapping == "channel_grouped":
            return partial_sums.channel_grouped(planes, s, layer, self.subarray)
        return partial_sums.im2col(unfold(planes, layer), s, groups, self.subarray)

    def _samples_per_column(self, layer, q, bits) -> int:
        """Partial sums one image gives per weight column: arrays × planes × output positions."""
        positions = math.prod(out_size(layer, q)) if q.dim() == 4 else 1
        return self.arrays * (bits if self.bit_serial else 1) * positions

    def _stat_images(self, layer, q, cell_shape, bits) -> int:
        """The fewest first images whose partial sums give ``STAT_SAMPLES`` values."""
        per_image = cell_shape[0] * self._samples_per_column(layer, q, bits)
        return min(q.shape[0], math.ceil(STAT_SAMPLES / max(1, per_image)))

    def _output_stride(self, layer, q, bits, columns: int, outputs: int) -> int:
        """Every how-many-th output (with all its columns) the images ``q`` need to read for
        ``STAT_SAMPLES`` partial sums: the layer's statistics and range gradient subsample
        whole outputs, as a stride over columns would alias with the bit slices."""
        samples = q.shape[0] * columns * self._samples_per_column(layer, q, bits)
        return min(outputs, max(1, samples // STAT_SAMPLES))

    def _count(self, values, reads, positions, planes, groups) -> None:
        """What this forward read, per image. Every column block of an array has its own
        reference column on the same rows: one read computed, one conversion per block."""
        columns = values.shape[0] // groups
        blocks = math.ceil(columns / self.subarray)
        reference = groups * self.arrays * blocks * positions * planes if self.reference_column else 0
        self.counts = {"subarrays": groups * self.arrays * blocks, "adc_reads": reads + reference,
                       "weight_cells": values.numel(), "input_vectors": positions}

    def extra_repr(self) -> str:
        return (f"rows={self.rows}, subarray={self.subarray}, mapping={self.mapping}, "
                f"arrays={self.arrays}, cell_bits={self.cell_bits}, "
                f"weight_coding={self.weight_coding}, reference_column={self.reference_column}, "
                f"bit_serial={self.bit_serial}, "
                f"adc_grad={self.adc_grad}")
