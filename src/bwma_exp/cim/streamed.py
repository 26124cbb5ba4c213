"""A tiled layer's subarray partial sums, ADC and digital accumulation in one streamed pass.

``partial_sums`` builds every subarray's partial sum of every input-bit plane at once
(A·P values per layer output) and autograd then runs the ADC and the sums op by op over them:
on a CPU that is many times the memory traffic of the layer itself. Here the same arithmetic
runs a chunk of images at a time, sized so a chunk's partial sums stay in cache; the ADC is
applied in place and only each output's sum and a one-byte clip mask per partial sum are kept.

Every mapping is one gather: subarray a holds rows ``row_arrays(...)[a]`` of the unfolded
input (PyTorch's ``unfold`` numbers rows as ``hardware.mapping`` does), padded to the tallest
subarray with an all-zero input, so the partial sums of all subarrays are one batched matmul
``(g·A, O/g, H) @ (g·A, H, planes·images·L)``.

Backward is written out and equals autograd's through the op-by-op path (tests compare them):
the ADC passes the gradient where it did not clip (its grid step cancels), the weight gradient
sums over planes with each plane's own clip mask, and since every plane's input gradient goes
through the same transposed weights, the input gradient needs one matmul for all planes.

In training, a calibrated ADC takes its batch statistics (``ADC._range``) from the partial sums
of the batch's first images, as few as give ``adc.STAT_SAMPLES`` values: a subsample of the
batch like the op-by-op path's strided one.

Used for inputs on an activation grid with a calibrated ADC (``sigma``/``minmax``) or none;
learnable ADC ranges and the methods' own ADCs keep the op-by-op path.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..hardware.mapping import row_arrays
from ..quant.common.adc import STAT_SAMPLES

# Partial sums per chunk (floats): about 4 MiB, inside a core's share of L2 + L3 here.
CHUNK_ELEMENTS = 1 << 20


def out_size(size: tuple[int, int], kernel_size, stride, padding, dilation) -> tuple[int, int]:
    """A convolution's output height and width (PyTorch's formula)."""
    return tuple((size[d] + 2 * padding[d] - dilation[d] * (kernel_size[d] - 1) - 1) // stride[d] + 1
                 for d in range(2))


class Scratch:
    """Work buffers reused across the chunks of one call. A fresh multi-MB tensor per op costs
    page faults on a CPU (large blocks go back to the OS when freed), which made every
    elementwise pass over the partial sums several times slower than in a reused buffer."""

    def __init__(self) -> None:
        self.flat: dict[str, torch.Tensor] = {}

    def take(self, name: str, shape: tuple[int, ...], like: torch.Tensor,
             dtype: torch.dtype | None = None) -> torch.Tensor:
        numel, dtype = math.prod(shape), dtype or like.dtype
        buf = self.flat.get(name)
        if buf is None or buf.numel() < numel or buf.dtype != dtype:
            buf = self.flat[name] = torch.empty(numel, dtype=dtype, device=like.device)
        return buf[:numel].view(shape)


@dataclass(frozen=True)
class Layout:
    """Where each subarray's cells take their inputs from. Subarray rows are numbered
    (group, array, row); ``channel``/``ki``/``kj`` name each one's input channel and kernel
    offset, with channel C (an all-zero channel) for a subarray's empty rows; ``inverse`` is
    each unfolded-input row's position among them (every real row is used exactly once)."""
    channel: torch.Tensor
    ki: torch.Tensor
    kj: torch.Tensor
    inverse: torch.Tensor
    weight_index: torch.Tensor
    groups: int
    arrays: int
    height: int
    conv: dict | None   # kernel_size, dilation, padding, stride; None for a linear layer

    @classmethod
    def build(cls, layer, rows: int, kernel: tuple[int, int], subarray: int,
              mapping: str) -> Layout:
        conv = hasattr(layer, "kernel_size")
        groups = layer.groups if conv else 1
        area = kernel[0] * kernel[1]
        blocks = row_arrays(rows // area, kernel[0], kernel[1], subarray, mapping)
        height = max(len(b) for b in blocks)
        local = torch.full((len(blocks), height), rows, dtype=torch.long)  # rows = empty cell
        for a, block in enumerate(blocks):
            local[a, :len(block)] = torch.tensor(block)
        c_group = rows // area
        empty = local == rows
        channel = torch.cat([torch.where(empty, groups * c_group, local // area + gi * c_group)
                             for gi in range(groups)]).reshape(-1)
        position = torch.where(empty, 0, local % area).repeat(groups, 1).reshape(-1)
        flat = torch.where(channel == groups * c_group, -1, channel * area + position)
        inverse = torch.empty(groups * rows, dtype=torch.long)
        real = flat >= 0
        inverse[flat[real]] = torch.arange(flat.numel())[real]
        args = dict(kernel_size=layer.kernel_size, dilation=layer.dilation,
                    padding=layer.padding, stride=layer.stride) if conv else None
        return cls(channel, position // kernel[1], position % kernel[1], inverse,
                   local.reshape(-1), groups, len(blocks), height, args)

    def to(self, device: torch.device) -> Layout:
        if self.channel.device == device:
            return self
        moved = {k: getattr(self, k).to(device)
                 for k in ("channel", "ki", "kj", "inverse", "weight_index")}
        return Layout(**moved, groups=self.groups, arrays=self.arrays, height=self.height,
                      conv=self.conv)

    def stack_weight(self, s: torch.Tensor) -> torch.Tensor:
        """(g·A, O/g, H): every subarray's cells, zero where a subarray has no row."""
        g = self.groups
        flat = s.reshape(g, s.shape[0] // g, -1)
        flat = F.pad(flat, (0, 1))
        cells = flat.index_select(2, self.weight_index)       # (g, O/g, A·H)
        cells = cells.reshape(g, -1, self.arrays, self.height).transpose(1, 2)
        return cells.reshape(g * self.arrays, -1, self.height)

    def columns(self, codes: torch.Tensor, planes: int, bit_serial: bool,
                scratch: Scratch) -> torch.Tensor:
        """(g·A, H, P·n·L): each subarray's input rows for the P input planes of n images
        (planes stacked like images), gathered in one pass from a strided view of the padded
        planes (im2col is never materialised). A plane is a bit of the integer codes (LSB
        first) or, with ``bit_serial`` false, the codes themselves."""
        n = codes.shape[0]
        if self.conv is None:
            xp = codes.new_zeros(planes, n, codes.shape[1] + 1)
            _write_planes(xp[:, :, :-1], codes, planes, bit_serial)
            cols = scratch.take("cols", (self.channel.numel(), planes * n), codes)
            torch.index_select(xp.reshape(planes * n, -1).t(), 0, self.channel, out=cols)
            return cols.reshape(self.groups * self.arrays, self.height, -1)
        (ph, pw), (dh, dw), (sh, sw) = (self.conv["padding"], self.conv["dilation"],
                                        self.conv["stride"])
        kh, kw = self.conv["kernel_size"]
        c, h, w = codes.shape[1:]
        hp, wp = h + 2 * ph, w + 2 * pw
        xp = codes.new_zeros(planes, n, c + 1, hp, wp)       # + one all-zero channel
        _write_planes(xp[:, :, :c, ph:ph + h, pw:pw + w], codes, planes, bit_serial)
        ho, wo = out_size((h, w), **self.conv)
        view = xp.as_strided((c + 1, kh, kw, planes * n, ho, wo),
                             (hp * wp, dh * wp, dw, (c + 1) * hp * wp, sh * wp, sw))
        cols = scratch.take("cols", (self.channel.numel(), planes * n, ho, wo), codes)
        torch.ops.aten.index.Tensor_out(view, [self.channel, self.ki, self.kj], out=cols)
        return cols.reshape(self.groups * self.arrays, self.height, -1)  # (g·A, H, P·n·L)

    def fold(self, grad_cols: torch.Tensor, images: int, x_shape: tuple[int, ...],
             scratch: Scratch) -> torch.Tensor:
        """Adjoint of ``columns`` for one plane per image: (g·A, H, n·L) -> input gradient."""
        cols = grad_cols.reshape(-1, images, grad_cols.shape[-1] // images).transpose(0, 1)
        rows = scratch.take("rows", (images, self.inverse.numel(), cols.shape[-1]), cols)
        torch.index_select(cols, 1, self.inverse, out=rows)            # (n, C·K², L)
        if self.conv is None:
            return rows.reshape(x_shape).clone()   # the scratch buffer serves the next chunk
        return F.fold(rows, x_shape[-2:], **self.conv)


def read(q: torch.Tensor, s: torch.Tensor, layout: Layout, bits: int, bit_serial: bool,
         delta: torch.Tensor, adc) -> torch.Tensor:
    """Σ over subarrays and planes of the ADC-read partial sums, times each plane's weight:
    (N, O, L). ``q``: integer activation codes (x − a_min)/δ, differentiable; ``s``: cells."""
    layout = layout.to(q.device)
    ws = layout.stack_weight(s)
    # Function.forward cannot tell no_grad (evaluation) apart: only then are no masks kept.
    backward = torch.is_grad_enabled() and (q.requires_grad or ws.requires_grad)
    return _StreamedRead.apply(q, ws, layout, bits if bit_serial else 1, bit_serial, delta, adc,
                               backward)


def adc_grid(adc, q: torch.Tensor, s: torch.Tensor, layout: Layout, bits: int,
             bit_serial: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The ADC's (lo, hi, step) as ``read`` sets it for this batch: statistics of the first
    images' partial sums (training, or a range not calibrated yet), else the stored range."""
    if not adc.training and bool(adc.initialized):
        return adc.grid(q.new_empty(0))
    layout = layout.to(q.device)
    ws = layout.stack_weight(s)
    planes = bits if bit_serial else 1
    part = torch.round(q[:_stat_images(ws, layout, planes, q)])
    return adc.grid(torch.bmm(ws, layout.columns(part, planes, bit_serial, Scratch())))


def _write_planes(out: torch.Tensor, codes: torch.Tensor, planes: int, bit_serial: bool) -> None:
    """out[b] = bit b of the integer codes (LSB first), or out[0] = the codes themselves."""
    if not bit_serial:
        out[0] = codes
        return
    code = codes.to(torch.int32)
    for b in range(planes):
        out[b] = (code >> b) & 1


def adc_codes(z: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor, step: torch.Tensor,
              groups: int, arrays: int, mask: torch.Tensor | None, scratch: Scratch
              ) -> torch.Tensor:
    """Σ over each group's A subarrays of the ADC output codes; writes into ``mask`` (when
    given) where the ADC did not clip. Eager and into reused buffers: torch.compile's CPU
    kernel for this was 5x slower (measured)."""
    if mask is None:
        codes = z.clamp_(lo, hi)
    else:
        codes = torch.clamp(z, lo, hi, out=scratch.take("codes", z.shape, z))
        torch.eq(codes, z, out=mask)
    codes.sub_(lo).div_(step).round_()
    return codes.reshape(groups, arrays, -1).sum(1)


def adc_grads(gz: torch.Tensor, mask: torch.Tensor, scale: torch.Tensor, coef: torch.Tensor,
              scratch: Scratch) -> tuple[torch.Tensor, torch.Tensor]:
    """Partial-sum gradients for the weight (per plane) and for the codes (planes summed);
    gz (g, 1, O/g, 1, m, L), mask (g, A, O/g, P, m, L)."""
    gp = torch.mul(gz * scale, mask, out=scratch.take("gp", mask.shape, gz))
    return gp, (gz * coef) * mask.sum(3, keepdim=True, dtype=gz.dtype)


class _StreamedRead(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, ws, layout: Layout, planes: int, bit_serial: bool, delta, adc,
                backward: bool):
        n = q.shape[0]
        codes = torch.round(q)
        weight = 2.0 ** torch.arange(planes, device=q.device, dtype=q.dtype) if bit_serial \
            else q.new_ones(1)
        scale = (delta * weight).reshape(planes, 1, 1, 1, 1)   # each plane's place value
        chunk = _chunk(ws, layout, planes, q)
        grid, out, masks, scratch = None, [], [], Scratch()
        for start in range(0, n, chunk):
            part = codes[start:start + chunk]
            m = part.shape[0]
            cols = layout.columns(part, planes, bit_serial, scratch)
            z = torch.bmm(ws, cols, out=scratch.take("z", ws.shape[:2] + cols.shape[2:], cols))
            length = z.shape[-1] // (planes * m)                # output positions L
            if adc is not None:
                if grid is None:   # statistics of the first images' partial sums
                    first = _stat_images(ws, layout, planes, q)
                    grid = adc.grid(z.reshape(*z.shape[:2], planes, m, -1)[:, :, :, :first])
                lo, hi, step = grid
                mask = torch.empty(z.shape, dtype=torch.bool, device=z.device) if backward \
                    else None
                z = adc_codes(z, lo, hi, step, layout.groups, layout.arrays, mask, scratch)
                if backward:
                    masks.append(mask)
                z = z.reshape(layout.groups, -1, planes, m, length)
                z = z.mul_(step).add_(layout.arrays * lo)  # Σ_a (lo + step·code_a)
            else:
                z = z.reshape(layout.groups, layout.arrays, -1, planes, m, length).sum(1)
            # (g, O/g, P, m, L): shift-and-add the planes
            z = (z.movedim(2, 0) * scale).sum(0)                # (g, O/g, m, L)
            out.append(z.permute(2, 0, 1, 3).reshape(m, -1, z.shape[-1]))
        ctx.save_for_backward(codes, ws, scale)
        ctx.layout, ctx.planes, ctx.bit_serial, ctx.chunk = layout, planes, bit_serial, chunk
        ctx.masks, ctx.x_shape = masks, q.shape
        return torch.cat(out)

    @staticmethod
    def backward(ctx, grad):
        codes, ws, scale = ctx.saved_tensors
        layout, planes, chunk = ctx.layout, ctx.planes, ctx.chunk
        g, a = layout.groups, layout.arrays
        # Plane b's place value δ·2^b times its straight-through ∂plane_b/∂q = 1/(P·2^b)
        # (1 for the code itself, P = 1) is δ/P for every plane.
        coef = scale.reshape(-1)[0] / planes
        grad_ws = torch.zeros_like(ws)
        grad_q, scratch = [], Scratch()
        for i, start in enumerate(range(0, codes.shape[0], chunk)):
            part = codes[start:start + chunk]
            m = part.shape[0]
            gz = grad[start:start + chunk].reshape(m, g, 1, -1, 1, grad.shape[-1])
            gz = gz.permute(1, 2, 3, 4, 0, 5)                     # (g, 1, O/g, 1, m, L)
            scale6 = scale.reshape(1, 1, 1, planes, 1, 1)
            if ctx.masks:
                mask = ctx.masks[i].reshape(g, a, -1, planes, m, grad.shape[-1])
                gp, gq = adc_grads(gz, mask, scale6, coef, scratch)
            else:  # no ADC: nothing clipped
                gp = (gz * scale6).expand(g, a, -1, planes, m, -1)
                gq = (gz * (coef * planes)).expand(g, a, -1, 1, m, -1)
            if ctx.needs_input_grad[1]:
                cols = layout.columns(part, planes, ctx.bit_serial, scratch)
                grad_ws.baddbmm_(gp.reshape(g * a, -1, cols.shape[-1]), cols.transpose(1, 2))
            if ctx.needs_input_grad[0]:
                gq = gq.reshape(g * a, -1, m * grad.shape[-1])
                gcols = torch.bmm(ws.transpose(1, 2), gq, out=scratch.take(
                    "gcols", (g * a, ws.shape[2], gq.shape[-1]), gq))
                grad_q.append(layout.fold(gcols, m, (m,) + tuple(ctx.x_shape[1:]), scratch))
        ctx.masks = None
        return (torch.cat(grad_q) if grad_q else None,
                grad_ws if ctx.needs_input_grad[1] else None, None, None, None, None, None, None)


def _stat_images(ws: torch.Tensor, layout: Layout, planes: int, q: torch.Tensor) -> int:
    """Images whose partial sums set a training batch's ADC statistics: the fewest that give
    ``adc.STAT_SAMPLES`` of them, within the first chunk."""
    return min(_chunk(ws, layout, planes, q),
               math.ceil(STAT_SAMPLES / (_per_image(ws, layout, planes, q))))


def _per_image(ws: torch.Tensor, layout: Layout, planes: int, q: torch.Tensor) -> int:
    positions = math.prod(out_size(q.shape[2:], **layout.conv)) if layout.conv else 1
    return ws.shape[0] * ws.shape[1] * planes * positions


def _chunk(ws: torch.Tensor, layout: Layout, planes: int, q: torch.Tensor) -> int:
    """Images per chunk; the whole batch on an accelerator, where memory traffic is cheap."""
    if q.device.type != "cpu":
        return q.shape[0]
    per_image = _per_image(ws, layout, planes, q)
    return max(1, min(q.shape[0], math.ceil(CHUNK_ELEMENTS / per_image)))
