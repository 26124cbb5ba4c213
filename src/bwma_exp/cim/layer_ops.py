"""The tensor pieces of the crossbar's reads (``crossbar.Crossbar``): input bit planes, plane
shift-add, unfolding and conv arguments, the ideal layer's window sums and gradient (the
straight-through ADC), output sizes."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import binary


def input_planes(q: torch.Tensor, bits: int | None, place: torch.Tensor, bit_serial: bool
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """(the planes that drive the wordlines, stacked along the batch; each one's place value):
    the integer codes' bits (LSB first, straight-through: value of the bit, gradient of
    q/(P·2^b)), or the codes themselves (one multi-bit read, or a real input)."""
    if bits is None:
        return q, place
    code = torch.round(q.detach())
    if not bit_serial or bits == 1:     # exact integers (as the chip's DACs), q's gradient
        return code + (q - q.detach()), place[:1]
    code = code.to(torch.int32)
    weights = 2.0 ** torch.arange(bits, device=q.device, dtype=q.dtype)
    bit = torch.stack([(code >> b) & 1 for b in range(bits)]).to(q.dtype)
    ste = q.unsqueeze(0) / (bits * weights.reshape(-1, *([1] * q.dim())))
    return (bit + (ste - ste.detach())).flatten(0, 1), place


def shift_add(out: torch.Tensor, place: torch.Tensor, n: int) -> torch.Tensor:
    """(P·N, g, O/g, L) plane reads -> (N, O, L), each plane weighted by its place value."""
    out = out.unflatten(0, (-1, n))
    out = (out * place.reshape(-1, 1, 1, 1, 1)).sum(0)
    return out.reshape(n, -1, out.shape[-1])


def unfold(x: torch.Tensor, layer: nn.Module) -> torch.Tensor:
    return F.unfold(x, layer.kernel_size, dilation=layer.dilation, padding=layer.padding,
                    stride=layer.stride)


def conv_args(layer: nn.Module) -> dict | None:
    if not hasattr(layer, "kernel_size"):
        return None
    return dict(kernel_size=layer.kernel_size, dilation=layer.dilation, padding=layer.padding,
                stride=layer.stride)


class IdealGradient(torch.autograd.Function):
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


def window_sum(layer: nn.Module, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Σ_rows w·x of the ideal layer, (N, O, L): the digital offsets' ingredient."""
    if w.dim() == 2:
        return F.linear(x, w).unsqueeze(-1)
    out = F.conv2d(x, w, None, layer.stride, layer.padding, layer.dilation, layer.groups)
    return out.flatten(2)


def out_size(layer: nn.Module, x: torch.Tensor) -> tuple[int, int]:
    return binary.out_size(x.shape[2:], layer.kernel_size, layer.stride, layer.padding,
                           layer.dilation)
