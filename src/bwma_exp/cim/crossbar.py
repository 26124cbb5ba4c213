"""``Crossbar``: a quantized layer's forward pass computed the way the CIM chip computes it.

The layer's unrolled weight matrix (rows = C_in/g·K², see ``hardware.mapping``) is split
across subarrays exactly as the hardware model maps it; each subarray's column outputs
(partial sums) go through the ADC, and the digital periphery adds them up, scales them and
adds the offsets (``grid.split_weight`` / ``grid.activation_grid``). With ``bit_serial`` each
input bit plane is read separately (the crossbar's 1-bit wordline drive), and the planes'
ADC outputs are shifted and added; otherwise the multi-bit partial sum is read at once.

All subarrays, bit planes and images run in one batched kernel, never a Python loop over
crossbars or planes: ``streamed`` (inputs on an activation grid, calibrated or no ADC) runs
the partial sums, ADC and sums in cache-sized chunks of images with a written-out backward;
``partial_sums`` (the op-by-op path, for learnable ADC ranges and the methods' own ADCs)
stacks the input planes along the batch and lets autograd differentiate.

Gradients: straight-through. The weight gradient flows through s exactly; the input gradient
of plane b is routed as ∂q_b/∂x = 1/(P·2^b·δ), which gives the ideal layer's input gradient
when no ADC clips and weights each plane's ADC mask equally otherwise.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..hardware.mapping import row_arrays
from . import partial_sums, streamed
from .adc import ADC
from .grid import activation_grid, split_weight
from .variation import ConductanceVariation


class Crossbar(nn.Module):
    def __init__(self, rows: int, subarray: int, mapping: str, kernel: tuple[int, int],
                 adc: ADC | None, bit_serial: bool) -> None:
        super().__init__()
        # The partition itself, as the estimator counts it (the kernels below follow it).
        self.arrays = len(row_arrays(rows // (kernel[0] * kernel[1]), kernel[0], kernel[1],
                                     subarray, mapping))
        self.rows, self.subarray, self.mapping = rows, subarray, mapping
        self.adc = adc
        self.bit_serial = bit_serial
        self.variation = ConductanceVariation()
        self.kernel = kernel
        self.streamed = True    # False: always the op-by-op path (tests compare the two)
        self._layout: streamed.Layout | None = None

    def forward(self, layer: nn.Module, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        conv = w.dim() == 4
        groups = layer.groups if conv else 1
        c, r, s = split_weight(w, layer.w_bits)
        grid = activation_grid(layer.act_quantizer, x)
        n = x.shape[0]
        if grid is not None and self._streams():
            a_min, delta, bits = grid
            if self._layout is None:
                self._layout = streamed.Layout.build(layer, self.rows, self.kernel,
                                                     self.subarray, self.mapping)
            self._layout = self._layout.to(x.device)   # moved once, not on every call
            out = streamed.read((x - a_min) / delta, self.variation(s), self._layout, bits,
                                self.bit_serial, delta, self.adc)
            offset = a_min
        else:
            planes, scale, offset = _input_planes(x, grid, self.bit_serial)
            psum = self._partial_sums(layer, planes, self.variation(s), groups)  # (P·N, g, A, O/g, L)
            if self.adc is not None:
                psum = self.adc(psum)
            psum = psum.sum(dim=2).unflatten(0, (-1, n))              # (P, N, g, O/g, L)
            psum = (psum * scale.reshape(-1, 1, 1, 1, 1)).sum(dim=0)   # shift-and-add
            out = psum.reshape(n, w.shape[0], -1)
        out = r.reshape(1, -1, 1) * out
        if offset is not None:  # a_min·Σ_rows s over the rows that hold a real input
            out = out + r.reshape(1, -1, 1) * offset * _window_sum(layer, torch.ones_like(x[:1]), s)
        out = out + c.reshape(1, -1, 1) * _window_sum(layer, x, torch.ones_like(s))
        if layer.bias is not None:
            out = out + layer.bias.reshape(1, -1, 1)
        if not conv:
            return out.reshape(n, -1)
        h, wd = _out_size(layer, x)
        return out.reshape(n, -1, h, wd)

    def _streams(self) -> bool:
        return self.streamed and (self.adc is None or (
            type(self.adc) is ADC and self.adc.range_mode != "learnable"))

    def _partial_sums(self, layer: nn.Module, planes: torch.Tensor, s: torch.Tensor,
                      groups: int) -> torch.Tensor:
        if s.dim() == 2:  # linear: one column vector per image; K = 1 makes every mapping im2col
            return partial_sums.im2col(planes.unsqueeze(-1), s, 1, self.subarray)
        if self.mapping == "novel":
            return partial_sums.novel(planes, s, layer, self.subarray)
        if self.mapping == "channel_grouped":
            return partial_sums.channel_grouped(planes, s, layer, self.subarray)
        return partial_sums.im2col(_unfold(planes, layer), s, groups, self.subarray)

    def extra_repr(self) -> str:
        return (f"rows={self.rows}, subarray={self.subarray}, mapping={self.mapping}, "
                f"arrays={self.arrays}, bit_serial={self.bit_serial}")


def _input_planes(x: torch.Tensor, grid, bit_serial: bool):
    """(planes stacked along the batch, each plane's weight, digital offset a_min or None)."""
    if grid is None:  # real input: one analog plane
        return x, x.new_ones(1), None
    a_min, delta, bits = grid
    q = (x - a_min) / delta                      # integer codes; differentiable in x
    if not bit_serial or bits == 1:
        return q, delta.reshape(1), a_min
    code = torch.round(q.detach()).to(torch.int32)
    weights = 2.0 ** torch.arange(bits, device=x.device, dtype=x.dtype)
    bit = torch.stack([(code >> b) & 1 for b in range(bits)]).to(x.dtype)
    # straight-through: value of the bit, gradient of q/(P·2^b)
    ste = q.unsqueeze(0) / (bits * weights.reshape(-1, *([1] * x.dim())))
    planes = bit + (ste - ste.detach())
    return planes.flatten(0, 1), delta * weights, a_min


def _unfold(x: torch.Tensor, layer: nn.Module) -> torch.Tensor:
    return F.unfold(x, layer.kernel_size, dilation=layer.dilation, padding=layer.padding,
                    stride=layer.stride)


def _window_sum(layer: nn.Module, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Σ_rows w·x of the ideal layer, (N, O, L): the digital offsets' ingredient."""
    if w.dim() == 2:
        return F.linear(x, w).unsqueeze(-1)
    out = F.conv2d(x, w, None, layer.stride, layer.padding, layer.dilation, layer.groups)
    return out.flatten(2)


def _out_size(layer: nn.Module, x: torch.Tensor) -> tuple[int, int]:
    return streamed.out_size(x.shape[2:], layer.kernel_size, layer.stride, layer.padding,
                             layer.dilation)
