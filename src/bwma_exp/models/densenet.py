"""BinaryDenseNet (Bethge et al. 2019) and the dense backbone MeliusNet builds on
(hpi-xnor/BMXNet-v2-examples ``binary_models/basenet_dense.py``; bitorch ``models/densenet.py``).

Stem (FP) -> dense stages separated by transitions -> head. Every binary layer is a 3x3 conv
after a BN; transitions (BN, 2x2 max-pool, ReLU, FP 1x1 conv) and the classifier stay FP.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..quant import QuantSpec
from .binary_blocks import check_sizes, make_stem, with_origin_variant
from .blocks import model_options
from .registry import register_model

INITIAL_FEATURES = 64
GROWTH_RATE = 64


class DenseLayer(nn.Module):
    """``concat[x, binconv3x3(BN(x))]``: appends ``growth`` new channels."""

    def __init__(self, spec: QuantSpec, channels: int, growth: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(channels)
        self.conv = spec.conv2d(channels, growth, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.conv(self.bn(x))], dim=1)


class ImprovementBlock(nn.Module):
    """MeliusNet's improvement block: ``x[:, -growth:] += binconv3x3(BN(x))``, refining the
    channels the preceding dense layer just appended."""

    def __init__(self, spec: QuantSpec, channels: int, growth: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(channels)
        self.conv = spec.conv2d(channels, growth, 3, padding=1)
        self.growth = growth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kept, improved = x[:, :-self.growth], x[:, -self.growth:]
        return torch.cat([kept, improved + self.conv(self.bn(x))], dim=1)


def transition_channels(channels: int, reduction: float) -> int:
    """BMXNet's rule: divide by the reduction, round to a multiple of 32."""
    return round((channels // reduction) / 32) * 32


def transition(spec: QuantSpec, channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(nn.BatchNorm2d(channels), nn.MaxPool2d(2, stride=2), nn.ReLU(inplace=True),
                         spec.conv2d(channels, out_channels, 1, full_precision=True))


class DenseFamilyNet(nn.Module):
    """BinaryDenseNet when ``improvement`` is False, MeliusNet when True (each dense layer is
    followed by an improvement block). ``reductions[i]`` divides the width after stage i."""

    def __init__(self, spec: QuantSpec, num_classes: int, in_channels: int,
                 blocks: Sequence[int], reductions: Sequence[float], improvement: bool,
                 stem: str) -> None:
        super().__init__()
        channels = INITIAL_FEATURES
        layers = [make_stem(stem, spec, in_channels, channels)]
        for stage, n_layers in enumerate(blocks):
            for _ in range(n_layers):
                layers.append(DenseLayer(spec, channels, GROWTH_RATE))
                channels += GROWTH_RATE
                if improvement:
                    layers.append(ImprovementBlock(spec, channels, GROWTH_RATE))
            if stage < len(reductions):
                out_channels = transition_channels(channels, reductions[stage])
                layers.append(transition(spec, channels, out_channels))
                channels = out_channels
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(inplace=True),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = spec.linear(channels, num_classes, full_precision=True)
        self.out_features = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.head(self.features(x)))


def build_dense_family(spec: QuantSpec, num_classes: int, in_channels: int, kwargs: dict, *,
                       blocks: Sequence[int], reductions: Sequence[float],
                       improvement: bool) -> DenseFamilyNet:
    options = model_options(kwargs, {"stem": "grouped"})
    check_sizes(num_classes, in_channels)
    return DenseFamilyNet(with_origin_variant(spec, "bmxnet"), num_classes, in_channels, blocks,
                          reductions, improvement, options["stem"])


@register_model("bdensenet28")
def bdensenet28(spec: QuantSpec, num_classes: int, image_size: int, in_channels: int = 3,
                **kwargs) -> DenseFamilyNet:
    return build_dense_family(spec, num_classes, in_channels, kwargs, blocks=(6, 6, 6, 5),
                              reductions=(2.7, 2.7, 2.2), improvement=False)
