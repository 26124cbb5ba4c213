"""``Crossbar``: a quantized layer's forward pass computed the way the CIM chip computes it.

The layer's unrolled weight matrix (rows = C_in/g·K², see ``hardware.mapping``) is split
across subarrays exactly as the hardware model maps it; each subarray's column outputs
(partial sums) go through the ADC, and the digital periphery adds them up, scales them and
adds the offsets (``grid.split_weight``, the activation quantizer's ``cim_grid``). With ``bit_serial`` each
input bit plane is read separately (the crossbar's 1-bit wordline drive), and the planes'
ADC outputs are shifted and added; otherwise the multi-bit partial sum is read at once.

All subarrays, bit planes and images run in one batched kernel, never a Python loop over
crossbars or planes: ``streamed`` (inputs on an activation grid, calibrated or no ADC) runs
the partial sums, ADC and sums in cache-sized chunks of images with a written-out backward;
``partial_sums`` (the op-by-op path, for learnable ADC ranges and the methods' own ADCs)
stacks the input planes along the batch and lets autograd differentiate.

Cells that are exactly ±1 (binary weights, no variation) are read without autograd by the
AND + popcount kernel of ``binary`` (the same values as ``streamed``, several times faster).

Gradients (``adc_grad``): ``ste`` (default) differentiates the tiled layer as the ideal one,
straight through the ADC, also where it clips; the forward then runs without autograd.
``clipped`` passes no gradient through a clipped partial sum: the weight gradient flows
through s exactly and the input gradient of plane b is routed as ∂q_b/∂x = 1/(P·2^b·δ), which
gives the ideal layer's input gradient when no ADC clips and weights each plane's ADC mask
equally otherwise. Learnable ADC ranges and the methods' own ADCs are always ``clipped``:
their ranges learn from the clip.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..hardware.mapping import row_arrays
from ..quant.contract import PartialSumQuantizer
from . import binary, partial_sums, streamed
from .grid import split_weight
from .variation import ConductanceVariation


class Crossbar(nn.Module):
    def __init__(self, rows: int, subarray: int, mapping: str, kernel: tuple[int, int],
                 adc: PartialSumQuantizer | None, bit_serial: bool, adc_grad: str = "ste") -> None:
        super().__init__()
        # The partition itself, as the estimator counts it (the kernels below follow it).
        self.arrays = len(row_arrays(rows // (kernel[0] * kernel[1]), kernel[0], kernel[1],
                                     subarray, mapping))
        self.rows, self.subarray, self.mapping = rows, subarray, mapping
        self.adc = adc
        self.bit_serial = bit_serial
        self.adc_grad = adc_grad
        self.variation = ConductanceVariation()
        self.kernel = kernel
        self.streamed = True    # False: always the op-by-op path (tests compare the two)
        self._layout: streamed.Layout | None = None
        self._terms: binary.Terms | None = None

    def forward(self, layer: nn.Module, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        grid = layer.act_quantizer.cim_grid(x)    # detached
        if self.adc_grad == "ste" and torch.is_grad_enabled() and grid is not None \
                and self._streams():
            with torch.no_grad():
                value = self._tiled(layer, x.detach(), w.detach(), grid)
            return _IdealGradient.apply(x, w, layer.bias, value, self._layout.conv)
        return self._tiled(layer, x, w, grid)

    def _tiled(self, layer: nn.Module, x: torch.Tensor, w: torch.Tensor, grid) -> torch.Tensor:
        conv = w.dim() == 4
        groups = layer.groups if conv else 1
        c, r, s = split_weight(w, layer.w_bits)
        n = x.shape[0]
        if grid is not None and self._streams():
            a_min, delta, bits = grid
            if self._layout is None:
                self._layout = streamed.Layout.build(layer, self.rows, self.kernel,
                                                     self.subarray, self.mapping)
            self._layout = self._layout.to(x.device)   # moved once, not on every call
            out = self._read((x - a_min) / delta, self.variation(s), bits, delta)
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
        out = out + c.reshape(1, -1, 1) * _input_window_sum(layer, x)
        if layer.bias is not None:
            out = out + layer.bias.reshape(1, -1, 1)
        if not conv:
            return out.reshape(n, -1)
        h, wd = _out_size(layer, x)
        return out.reshape(n, -1, h, wd)

    def _read(self, q: torch.Tensor, s: torch.Tensor, bits: int, delta: torch.Tensor
              ) -> torch.Tensor:
        """(N, O, L) read of the integer codes q: the popcount kernel where it applies (no
        autograd needed, ±1 cells), else the streamed read."""
        needs_grad = torch.is_grad_enabled() and (q.requires_grad or s.requires_grad)
        if needs_grad or not binary.available(q, s, bits):
            return streamed.read(q, s, self._layout, bits, self.bit_serial, delta, self.adc)
        if self._terms is None:
            self._terms = binary.Terms.build(self.rows // (self.kernel[0] * self.kernel[1]),
                                             self.kernel, self.subarray, self.mapping)
        grid = None if self.adc is None else streamed.adc_grid(
            self.adc, q, s, self._layout, bits, self.bit_serial)
        return binary.read(q, s, self._terms, self._layout.conv, self._layout.groups, bits,
                           self.bit_serial, delta, grid)

    def _streams(self) -> bool:
        return self.streamed and (self.adc is None or (
            self.adc.calibrated))

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
                f"arrays={self.arrays}, bit_serial={self.bit_serial}, adc_grad={self.adc_grad}")


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


def _input_window_sum(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Σ_rows x under each output's window, (N, O, L): the same for every output of a group,
    so it is summed over the group's channels first and box-filtered once per group."""
    if x.dim() == 2:
        return x.sum(1, keepdim=True).expand(-1, layer.out_features).unsqueeze(-1)
    g = layer.groups
    n, c = x.shape[:2]
    per_group = x.reshape(n, g, c // g, *x.shape[2:]).sum(2)
    box = x.new_ones(g, 1, *layer.kernel_size)
    out = F.conv2d(per_group, box, None, layer.stride, layer.padding, layer.dilation, g)
    return out.repeat_interleave(layer.out_channels // g, dim=1).flatten(2)


class _IdealGradient(torch.autograd.Function):
    """The tiled layer's value (computed without autograd) with the ideal layer's gradients
    for input, weight and bias: straight through the ADC (``adc_grad=ste``)."""

    @staticmethod
    def forward(ctx, x, w, bias, value, conv):
        ctx.save_for_backward(x, w)
        ctx.conv, ctx.has_bias = conv, bias is not None
        return value

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        if ctx.conv is None:
            gx = grad @ w if need_x else None
            gw = grad.t() @ x if need_w else None
            gb = grad.sum(0) if need_b else None
        else:
            c = ctx.conv
            gx, gw, gb = torch.ops.aten.convolution_backward(
                grad, x, w, [w.shape[0]] if ctx.has_bias else None, c["stride"], c["padding"],
                c["dilation"], False, [0, 0], x.shape[1] // w.shape[1],
                [need_x, need_w, need_b and ctx.has_bias])
        return gx, gw, gb if ctx.has_bias else None, None, None


def _window_sum(layer: nn.Module, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Σ_rows w·x of the ideal layer, (N, O, L): the digital offsets' ingredient."""
    if w.dim() == 2:
        return F.linear(x, w).unsqueeze(-1)
    out = F.conv2d(x, w, None, layer.stride, layer.padding, layer.dilation, layer.groups)
    return out.flatten(2)


def _out_size(layer: nn.Module, x: torch.Tensor) -> tuple[int, int]:
    return streamed.out_size(x.shape[2:], layer.kernel_size, layer.stride, layer.padding,
                             layer.dilation)
