"""Every subarray's partial sums of a layer in one batched kernel, for each row partition of
``hardware.mapping`` (no Python loop over crossbars). Each returns (M, g, A, O/g, L): M input
images (bit planes stacked along the batch), g conv groups, A subarrays per group, O/g
columns, L output positions. The A subarrays come in ``hardware.mapping.row_arrays``' order,
which the per-array column weights and ADC ranges follow. Short subarrays (the last channel
block) are zero-padded, which adds nothing.

- ``novel`` (K×K): one 1×1 grouped conv gives, for every kernel position and channel block,
  Σ_c s[o, c, i, j]·x[c] at every input pixel; position (i, j)'s partial sum at an output is
  that map shifted by (i, j) — the work of one ordinary convolution.
- ``channel_grouped``: a grouped conv whose groups are the subarrays' channel slices
  (ColumnQuant's formulation).
- ``im2col``: the unfolded input's rows in blocks of S, one batched matmul.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..hardware.mapping import channels_per_array


def _pad_channels(t: torch.Tensor, dim: int, size: int) -> torch.Tensor:
    extra = size - t.shape[dim]
    if extra == 0:
        return t
    shape = list(t.shape)
    shape[dim] = extra
    return torch.cat([t, t.new_zeros(shape)], dim=dim)


def novel(x: torch.Tensor, s: torch.Tensor, conv, subarray: int) -> torch.Tensor:
    m, c, h, w = x.shape
    o, cg, kh, kw = s.shape
    g = conv.groups
    cb = min(subarray, cg)
    nb = math.ceil(cg / cb)
    xs = _pad_channels(x.reshape(m, g, cg, h, w), 2, nb * cb).reshape(m, g * nb * cb, h, w)
    ws = _pad_channels(s.reshape(g, o // g, cg, kh, kw), 2, nb * cb)
    ws = ws.reshape(g, o // g, nb, cb, kh, kw).permute(0, 2, 4, 5, 1, 3)
    z = F.conv2d(xs, ws.reshape(-1, cb, 1, 1), groups=g * nb)    # (M, g·nb·K²·O/g, H, W)
    (ph, pw), (sh, sw), (dh, dw) = conv.padding, conv.stride, conv.dilation
    z = F.pad(z, (pw, pw, ph, ph)).reshape(m, g, nb, kh, kw, o // g, h + 2 * ph, w + 2 * pw)
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    windows = tuple((i, j, slice(i * dh, i * dh + sh * (ho - 1) + 1, sh),
                     slice(j * dw, j * dw + sw * (wo - 1) + 1, sw))
                    for i in range(kh) for j in range(kw))
    out = _KernelWindows.apply(z, windows)                    # (M, g, nb, K², O/g, Ho, Wo)
    # subarrays in row_arrays' order (kernel position, then channel block)
    return out.transpose(2, 3).reshape(m, g, kh * kw * nb, o // g, ho * wo)


class _KernelWindows(torch.autograd.Function):
    """Each kernel position's shifted window of the padded 1x1 partial sums, stacked on dim 3.

    Autograd's own slicing would allocate a zero tensor of z's full size per kernel position in
    backward (most of a tiled step's time); the windows never overlap, so one buffer serves all."""

    @staticmethod
    def forward(ctx, z: torch.Tensor, windows) -> torch.Tensor:
        ctx.shape, ctx.windows = z.shape, windows
        return torch.stack([z[:, :, :, i, j, :, hs, ws] for i, j, hs, ws in windows], dim=3)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        grad_z = grad.new_zeros(ctx.shape)
        for k, (i, j, hs, ws) in enumerate(ctx.windows):
            grad_z[:, :, :, i, j, :, hs, ws] = grad[:, :, :, k]
        return grad_z, None


def channel_grouped(x: torch.Tensor, s: torch.Tensor, conv, subarray: int) -> torch.Tensor:
    m, c, h, w = x.shape
    o, cg, kh, kw = s.shape
    g = conv.groups
    ic = channels_per_array(cg, kh, kw, subarray)
    arrays = math.ceil(cg / ic)
    xs = _pad_channels(x.reshape(m, g, cg, h, w), 2, arrays * ic).reshape(m, -1, h, w)
    ws = _pad_channels(s.reshape(g, o // g, cg, kh, kw), 2, arrays * ic)
    ws = ws.reshape(g, o // g, arrays, ic, kh, kw).transpose(1, 2).reshape(-1, ic, kh, kw)
    out = F.conv2d(xs, ws, None, conv.stride, conv.padding, conv.dilation, g * arrays)
    return out.reshape(m, g, arrays, o // g, -1)


def im2col(cols: torch.Tensor, s: torch.Tensor, groups: int, subarray: int) -> torch.Tensor:
    """``cols``: (M, g·R, L) unfolded input (linear layers: L = 1); ``s``: (O, R, ...)."""
    m, gr, length = cols.shape
    rows = gr // groups
    arrays = math.ceil(rows / subarray)
    cols = _pad_channels(cols.reshape(m, groups, rows, length), 2, arrays * subarray)
    cols = cols.reshape(m, groups, arrays, subarray, length)
    ws = _pad_channels(s.reshape(groups, -1, rows), 2, arrays * subarray)
    ws = ws.reshape(groups, -1, arrays, subarray).transpose(1, 2)  # (g, A, O/g, S)
    return torch.matmul(ws.unsqueeze(0), cols)
