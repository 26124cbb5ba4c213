"""Parameters and operations of a model, counted from the layers it really runs.

Table II's rule (ReActNet, BMXNet-v2): ``OPs = BOPs / 64 + FLOPs``. BOPs are the binary
operations of the quantized layers, a b_w-bit × b_a-bit multiply-accumulate (MAC) counting
as b_w·b_a of them (Baskin et al.'s definition; a binary layer's MAC is one BOP), and FLOPs
the MACs of every layer with real weights or real activations (stem, transitions, FP
shortcuts, classifier, BWMA's W1/A32 or origin's W32/A1). BN, pooling, additions,
concatenations and PReLU are not counted.

BWMA's binary weights are ``{mu - sigma, mu + sigma} = mu + sigma * b`` with ``b`` in ±1, so a
BWMA layer computes ``sigma * (b . x) + mu * sum(x)``: the ``b . x`` part is the binary MACs
counted as BOPs, and combining it with the offset ``mu * sum(x)`` costs one more real
multiply-accumulate per output element. ``extra_flops_bwma`` counts that MAC (out_h * out_w *
c_out per binary BWMA layer) and is included in ``flops``. (``sum(x)`` over a receptive field is
shared by all output channels, a popcount of the same ±1 inputs: one extra all-ones weight
column, which ``extra_bops_bwma`` counts and ``bops`` includes, once per activation bit.)
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..quant import QConv2d, QLinear

BOPS_PER_OP = 64


def is_binary(module: nn.Module) -> bool:
    """Binary weights and binary activations: the layers Table II counts as BOPs."""
    return (isinstance(module, (QConv2d, QLinear)) and not module.full_precision
            and module.w_bits == 1 and module.act_bits == 1)


def layer_macs(module: nn.Module, output: torch.Tensor) -> int:
    """MACs of one call of a conv or linear layer on a batch of one."""
    if isinstance(module, nn.Conv2d):
        out_h, out_w = output.shape[-2:]
        k_h, k_w = module.kernel_size
        return (out_h * out_w * (module.in_channels // module.groups) * k_h * k_w
                * module.out_channels)
    positions = math.prod(output.shape[1:-1])  # extra leading dims of a linear's input
    return positions * module.in_features * module.out_features


def bits_per_mac(module: nn.Module) -> int:
    """BOPs of one MAC: b_w·b_a for a quantized layer, 0 (a FLOP) if either side is real."""
    if not isinstance(module, (QConv2d, QLinear)) or module.full_precision \
            or module.w_bits >= 32 or module.act_bits >= 32:
        return 0
    return module.w_bits * module.act_bits


def _bwma_extras(module: nn.Module, output: torch.Tensor) -> tuple[int, int]:
    """(extra BOPs, extra FLOPs) of a BWMA layer's weight offset; see the module doc."""
    if not (bits_per_mac(module) and module.w_bits == 1
            and module.weight_quantizer.digital_offset):
        return 0, 0
    outputs = math.prod(output.shape[1:])
    if isinstance(module, nn.Conv2d):
        k_h, k_w = module.kernel_size
        window = (module.in_channels // module.groups) * k_h * k_w
        positions = math.prod(output.shape[-2:]) * module.groups
    else:
        window = module.in_features
        positions = math.prod(output.shape[1:-1])
    return positions * window * module.act_bits, outputs


def count_ops(model: nn.Module, input_shape: tuple[int, ...] = (3, 224, 224)) -> dict:
    """Count ``params``, ``bops``, ``flops`` and ``ops = bops / 64 + flops`` of ``model`` on
    one input of ``input_shape`` (C, H, W), with hooks on every ``nn.Conv2d`` / ``nn.Linear``
    (quantized layers included). Also returns the BWMA offset costs ``extra_bops_bwma`` and
    ``extra_flops_bwma`` (already inside ``bops`` / ``flops``). The model runs once in eval
    mode without gradients; its training mode is restored afterwards."""
    totals = {"bops": 0, "flops": 0, "extra_bops_bwma": 0, "extra_flops_bwma": 0}

    def hook(module: nn.Module, _inputs, output: torch.Tensor) -> None:
        macs, per_mac = layer_macs(module, output), bits_per_mac(module)
        if per_mac:
            totals["bops"] += macs * per_mac
        else:
            totals["flops"] += macs
        extra_bops, extra_flops = _bwma_extras(module, output)
        totals["extra_bops_bwma"] += extra_bops
        totals["extra_flops_bwma"] += extra_flops

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None else torch.float32
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device=device, dtype=dtype))
    finally:
        for module, training in modes:
            module.training = training
        for handle in handles:
            handle.remove()
    bops = totals["bops"] + totals["extra_bops_bwma"]
    flops = totals["flops"] + totals["extra_flops_bwma"]
    return {"params": sum(p.numel() for p in model.parameters()), "bops": bops, "flops": flops,
            "ops": bops / BOPS_PER_OP + flops, "extra_bops_bwma": totals["extra_bops_bwma"],
            "extra_flops_bwma": totals["extra_flops_bwma"]}
