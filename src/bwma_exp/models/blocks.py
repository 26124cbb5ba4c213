"""Pieces shared by the ResNets and VGG: the basic residual block, its two shortcut kinds, the
pooled classifier head, weight init and the check of a builder's extra keyword arguments.

Every conv and linear comes from the ``QuantSpec`` so that the run's quantization method,
the full-precision marks and the hardware layer table all see the same layers.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..utils.errors import ConfigError
from ..quant import QConv2d, QuantSpec


def model_options(kwargs: Mapping[str, Any], defaults: Mapping[str, bool]) -> dict[str, bool]:
    """``defaults`` updated with ``kwargs``; an unknown key or a non-boolean value is a
    ``ConfigError`` naming ``model.<key>`` (a typo must never be silently ignored)."""
    allowed = ", ".join(sorted(defaults)) or "none"
    options = dict(defaults)
    for key, value in kwargs.items():
        if key not in defaults:
            raise ConfigError(f"model.{key}", value, allowed)
        if not isinstance(value, bool):
            raise ConfigError(f"model.{key}", value, "true or false")
        options[key] = value
    return options


class ZeroPadShortcut(nn.Module):
    """Option-A shortcut (He et al. 2016, CIFAR ResNets): subsample by striding and append
    zero channels; it has no parameters, so nothing of it is mapped onto a crossbar."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        extra = out_channels - in_channels
        self.pad_before, self.pad_after = extra // 2, extra - extra // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, self.pad_before, self.pad_after))


def projection_shortcut(spec: QuantSpec, in_channels: int, out_channels: int, stride: int,
                        full_precision: bool) -> nn.Sequential:
    """Option-B shortcut: 1x1 conv + BN. Binary reference ResNet-18s keep this conv FP."""
    return nn.Sequential(
        spec.conv2d(in_channels, out_channels, 1, stride=stride, full_precision=full_precision),
        nn.BatchNorm2d(out_channels),
    )


class BasicBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN, plus the shortcut, then ReLU."""

    def __init__(self, spec: QuantSpec, in_channels: int, out_channels: int, stride: int,
                 shortcut: nn.Module) -> None:
        super().__init__()
        self.conv1 = spec.conv2d(in_channels, out_channels, 3, stride=stride, padding=1)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = spec.conv2d(out_channels, out_channels, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


def residual_stages(spec: QuantSpec, in_channels: int, widths: list[int], strides: list[int],
                    blocks_per_stage: list[int], shortcut_kind: str,
                    fp_shortcut: bool) -> nn.Sequential:
    """Stages of BasicBlocks; the first block of a stage changes width/stride and gets a
    ``"zero_pad"`` (option A) or ``"projection"`` (option B) shortcut, the others identity."""
    stages = []
    for width, stride, n_blocks in zip(widths, strides, blocks_per_stage):
        blocks = []
        for i in range(n_blocks):
            block_stride = stride if i == 0 else 1
            if block_stride == 1 and in_channels == width:
                shortcut: nn.Module = nn.Identity()
            elif shortcut_kind == "zero_pad":
                shortcut = ZeroPadShortcut(in_channels, width, block_stride)
            else:
                shortcut = projection_shortcut(spec, in_channels, width, block_stride, fp_shortcut)
            blocks.append(BasicBlock(spec, in_channels, width, block_stride, shortcut))
            in_channels = width
        stages.append(nn.Sequential(*blocks))
    return nn.Sequential(*stages)


class PooledClassifier(nn.Module):
    """Global average pool, optional BatchNorm1d (binary ResNets add it), then the classifier."""

    def __init__(self, spec: QuantSpec, features: int, num_classes: int,
                 bn_before_fc: bool) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.bn = nn.BatchNorm1d(features) if bn_before_fc else nn.Identity()
        self.fc = spec.linear(features, num_classes, bias=True, full_precision=spec.fp_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.bn(torch.flatten(self.pool(x), 1)))


class ResNet(nn.Module):
    """stem → residual stages → pooled classifier; the variants differ only in the stem."""

    def __init__(self, stem: nn.Module, stages: nn.Sequential, head: PooledClassifier) -> None:
        super().__init__()
        self.stem, self.stages, self.head = stem, stages, head
        init_conv_weights_(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))


def init_conv_weights_(model: nn.Module) -> None:
    """Kaiming-normal conv weights with fan_out and ReLU gain (as torchvision's ResNet/VGG do:
    it keeps the backward signal's variance stable); BN starts as the identity. Linear layers
    keep PyTorch's default init."""
    for m in model.modules():
        if isinstance(m, QConv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
