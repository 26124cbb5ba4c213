"""VGG-8 as DNN+NeuroSim defines it (``cfg_list['vgg8']``): six 3x3 convs (128, 128, M, 256,
256, M, 512, 512, M) and two FC layers (flattened features → 1024 → classes).

``batch_norm`` (default true) adds BatchNorm2d after every conv so the net trains from scratch
with SGD; ``model.batch_norm=false`` gives NeuroSim's exact layer list (biased convs, no BN).
"""
from __future__ import annotations

import torch
from torch import nn

from ..quant import QuantSpec
from ..utils.errors import ConfigError
from .blocks import init_conv_weights_, model_options
from .registry import register_model

# Output widths of the convs; "M" is a 2x2 max-pool.
VGG8_LAYERS: list[int | str] = [128, 128, "M", 256, 256, "M", 512, 512, "M"]
VGG8_HIDDEN = 1024
VGG8_DOWNSAMPLING = 8  # three 2x2 max-pools
VGG8_MIN_SIZE = VGG8_DOWNSAMPLING  # smaller inputs pool down to nothing


class VGG(nn.Module):
    """Conv features → flatten → FC-ReLU-FC. The first conv is FP when ``spec.fp_first``, the
    last FC when ``spec.fp_last``; the other layers, the hidden FC included, are quantized."""

    def __init__(self, spec: QuantSpec, layers: list[int | str], hidden: int, num_classes: int,
                 image_size: int, in_channels: int, batch_norm: bool) -> None:
        super().__init__()
        features: list[nn.Module] = []
        channels, size, first = in_channels, image_size, True
        for item in layers:
            if item == "M":
                features.append(nn.MaxPool2d(2))
                size //= 2
                continue
            features.append(spec.conv2d(channels, item, 3, padding=1, bias=not batch_norm,
                                        full_precision=first and spec.fp_first))
            if batch_norm:
                features.append(nn.BatchNorm2d(item))
            features.append(nn.ReLU(inplace=True))
            channels, first = item, False
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(
            spec.linear(channels * size * size, hidden),
            nn.ReLU(inplace=True),
            spec.linear(hidden, num_classes, full_precision=spec.fp_last),
        )
        init_conv_weights_(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


@register_model("vgg8")
def vgg8(spec: QuantSpec, num_classes: int, image_size: int, in_channels: int = 3,
         **kwargs) -> VGG:
    """VGG-8; the first FC's input is 512·(image_size // 8)², 8192 at 32 px."""
    opts = model_options(kwargs, {"batch_norm": True})
    if image_size < VGG8_MIN_SIZE:
        raise ConfigError("dataset.image_size", image_size, f"at least {VGG8_MIN_SIZE} for vgg8")
    return VGG(spec, VGG8_LAYERS, VGG8_HIDDEN, num_classes, image_size, in_channels,
               opts["batch_norm"])
