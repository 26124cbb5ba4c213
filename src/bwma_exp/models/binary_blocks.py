"""Pieces shared by the binary-specific ImageNet models (ReActNet-A, BinaryDenseNet, MeliusNet):
ReActNet's learnable shifts, the two full-precision stems, the ``quant=origin`` variant and the
check of a builder's keyword arguments."""
from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from ..quant import QuantSpec
from ..utils.errors import ConfigError
from ..utils.schema import PositiveInt, check_value


class LearnableBias(nn.Module):
    """A learnable per-channel shift (ReActNet's "move"). Placed before a binary conv it is the
    bias of RSign: the conv's own activation quantizer then does the sign, so the same block
    works with every quantization method."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.bias


class RPReLU(nn.Sequential):
    """ReActNet's RPReLU: shift, per-channel PReLU, shift."""

    def __init__(self, channels: int) -> None:
        super().__init__(LearnableBias(channels), nn.PReLU(channels), LearnableBias(channels))


def _conv_bn_relu(spec: QuantSpec, cin: int, cout: int, stride: int, groups: int) -> list:
    return [spec.conv2d(cin, cout, 3, stride=stride, padding=1, groups=groups,
                        full_precision=True), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


def grouped_stem(spec: QuantSpec, in_channels: int, channels: int) -> nn.Sequential:
    """BMXNet-v2's ``grouped_stem`` (used by Table II's BDenseNet/MeliusNet baselines): three FP
    3x3 convs (stride 2, groups 1/4/8), each with BN and ReLU, then a 3x3 stride-2 max-pool."""
    half = channels // 2
    return nn.Sequential(*_conv_bn_relu(spec, in_channels, half, 2, 1),
                         *_conv_bn_relu(spec, half, half, 1, 4),
                         *_conv_bn_relu(spec, half, channels, 1, 8),
                         nn.MaxPool2d(3, stride=2, padding=1))


def basic_stem(spec: QuantSpec, in_channels: int, channels: int) -> nn.Sequential:
    """The ImageNet ResNet stem: FP 7x7 stride-2 conv, BN, ReLU, 3x3 stride-2 max-pool."""
    return nn.Sequential(
        spec.conv2d(in_channels, channels, 7, stride=2, padding=3, full_precision=True),
        nn.BatchNorm2d(channels), nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2, padding=1))


STEMS = {"grouped": grouped_stem, "basic": basic_stem}


def make_stem(name: Any, spec: QuantSpec, in_channels: int, channels: int) -> nn.Sequential:
    if name not in STEMS:
        raise ConfigError("model.stem", name, ", ".join(STEMS))
    return STEMS[name](spec, in_channels, channels)


def with_origin_variant(spec: QuantSpec, variant: str) -> QuantSpec:
    """``quant=origin`` means "this architecture's own binarization"; the builder names which,
    unless ``quant.options.variant`` is set (null: not set)."""
    if spec.method != "origin" or spec.options.get("variant") is not None:
        return spec
    return dataclasses.replace(spec, options={**spec.options, "variant": variant})


def check_sizes(num_classes: Any, in_channels: Any) -> None:
    for key, value in (("num_classes", num_classes), ("in_channels", in_channels)):
        check_value(key, PositiveInt, value)
