"""``layer_table``: the LayerSpecs of any torch model, read off one dummy forward pass."""
from __future__ import annotations

import torch
from torch import nn

from bwma_exp.hardware.spec import LayerSpec

_POOLS = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _bits(module: nn.Module) -> tuple[int, int, bool]:
    return (int(getattr(module, "w_bits", 32)), int(getattr(module, "act_bits", 32)),
            bool(getattr(module, "full_precision", False)))


def layer_table(model: nn.Module, input_shape: tuple[int, int, int]) -> list[LayerSpec]:
    """Run one batch-1 forward pass (no grad, eval mode, restored afterwards) with hooks on
    every Conv2d / Linear (QConv2d / QLinear included) and on pooling modules; return the
    layers in execution order, named by their qualified module names. A pooling module
    that runs after a layer and before the next one sets that layer's ``pool_after``."""
    records: list[dict] = []
    handles = []

    def on_layer(name: str):
        def hook(module, inputs, output):
            w_bits, act_bits, fp = _bits(module)
            common = {"name": name, "w_bits": w_bits, "act_bits": act_bits,
                      "full_precision": fp, "pool_after": False,
                      "adc_bits": getattr(module, "adc_bits", None)}
            if isinstance(module, nn.Conv2d):
                x = inputs[0]
                (kh, kw), (sh, _) = _pair(module.kernel_size), _pair(module.stride)
                pad = 0 if isinstance(module.padding, str) else _pair(module.padding)[0]
                records.append({**common, "kind": "conv", "in_h": x.shape[-2],
                                "in_w": x.shape[-1], "c_in": module.in_channels,
                                "c_out": module.out_channels, "k_h": kh, "k_w": kw,
                                "stride": sh, "padding": pad, "groups": module.groups,
                                "out_h": output.shape[-2], "out_w": output.shape[-1]})
            else:
                records.append({**common, "kind": "linear", "in_h": 1, "in_w": 1,
                                "c_in": module.in_features, "c_out": module.out_features,
                                "k_h": 1, "k_w": 1, "stride": 1, "padding": 0, "groups": 1,
                                "out_h": 1, "out_w": 1})
        return hook

    def on_pool(module, inputs, output):
        if records and inputs[0].shape[-1] > output.shape[-1] and output.shape[-1] > 1:
            records[-1]["pool_after"] = True

    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            handles.append(module.register_forward_hook(on_layer(name)))
        elif isinstance(module, _POOLS):
            handles.append(module.register_forward_hook(on_pool))
    was_training = model.training
    try:
        param = next(model.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
        dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
        model.eval()
        with torch.no_grad():
            model(torch.zeros((1, *input_shape), device=device, dtype=dtype))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return [LayerSpec(**record) for record in records]
