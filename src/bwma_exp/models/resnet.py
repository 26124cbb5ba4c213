"""The ResNet family (He et al. 2016): every variant is one row of ``ARCHS``, built by
``build_resnet`` and registered under the row's name.

- ``resnet20``: the CIFAR ResNet-20 with option-A shortcuts (0.27 M params, 269,722 at 10
  classes). It always uses the CIFAR stem and works at any ``image_size``: the head pools
  adaptively.
- ``resnet18``: for inputs of at most ``CIFAR_STEM_MAX_SIZE`` px the CIFAR ResNet-18 of IR-Net
  and AdaBin (3x3 stride-1 stem, no max-pool; 11.2 M params, 11,173,962 at 10 classes), else
  the torchvision ImageNet layout (7x7/2 stem + max-pool; 11,689,512 params at 1000 classes).
- ``resnet34``: the torchvision layout (21,797,672 params at 1000 classes), the real-valued
  ImageNet teacher that ReActNet distils from (``distill.teacher_model=resnet34``). Tiny inputs
  get the CIFAR stem, as ResNet-18 does, so test images still reach the last stage at 2x2.

Every conv and linear comes from the ``QuantSpec``: the stem conv is full precision when
``spec.fp_first``, the classifier when ``spec.fp_last``, the 1x1 projection shortcuts when the
model option ``fp_shortcut`` is set (binary reference ResNet-18s keep them FP).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..quant import QuantSpec
from .blocks import init_conv_weights_, model_options
from .registry import register_model

# Up to this input size the 7x7/2 stem and max-pool would shrink the map too early (a 32 px
# image would reach the last stage at 1x1), so the CIFAR stem is used instead.
CIFAR_STEM_MAX_SIZE = 64


@dataclass(frozen=True)
class ResNetArch:
    """One row of ``ARCHS``.

    blocks: BasicBlocks per stage. widths: output channels per stage (the stem outputs
    ``widths[0]``). strides: stride of each stage's first block. shortcut: for a block that
    changes width or stride, ``"zero_pad"`` (option A, parameter-free) or ``"projection"``
    (option B, 1x1 conv + BN); the other blocks add the identity. imagenet_stem: inputs larger
    than ``CIFAR_STEM_MAX_SIZE`` get the ImageNet stem (else always the CIFAR stem). options:
    the keyword options the model accepts (``model.<key>`` in the config) with their defaults:
    ``bn_before_fc`` (BatchNorm1d before the classifier, binary variants add it) and
    ``fp_shortcut`` (1x1 projection shortcuts full precision).
    """

    blocks: tuple[int, ...]
    widths: tuple[int, ...]
    strides: tuple[int, ...]
    shortcut: str
    imagenet_stem: bool
    options: Mapping[str, bool]


ARCHS: dict[str, ResNetArch] = {
    "resnet20": ResNetArch((3, 3, 3), (16, 32, 64), (1, 2, 2), "zero_pad", imagenet_stem=False,
                           options={"bn_before_fc": False}),
    "resnet18": ResNetArch((2, 2, 2, 2), (64, 128, 256, 512), (1, 2, 2, 2), "projection",
                           imagenet_stem=True,
                           options={"bn_before_fc": False, "fp_shortcut": True}),
    "resnet34": ResNetArch((3, 4, 6, 3), (64, 128, 256, 512), (1, 2, 2, 2), "projection",
                           imagenet_stem=True,
                           options={"bn_before_fc": False, "fp_shortcut": True}),
}


def cifar_stem(spec: QuantSpec, in_channels: int, width: int) -> nn.Sequential:
    """conv3x3 stride 1 + BN + ReLU, full precision when ``spec.fp_first``."""
    return nn.Sequential(
        spec.conv2d(in_channels, width, 3, padding=1, full_precision=spec.fp_first),
        nn.BatchNorm2d(width),
        nn.ReLU(inplace=True),
    )


def imagenet_stem(spec: QuantSpec, in_channels: int, width: int) -> nn.Sequential:
    """conv7x7 stride 2 + BN + ReLU + max-pool 3x3/2: a 4x downsampling, FP when spec.fp_first."""
    return nn.Sequential(
        spec.conv2d(in_channels, width, 7, stride=2, padding=3, full_precision=spec.fp_first),
        nn.BatchNorm2d(width),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(3, stride=2, padding=1),
    )


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
    """Option-B shortcut: 1x1 conv + BN."""
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


def residual_stages(spec: QuantSpec, arch: ResNetArch, fp_shortcut: bool) -> nn.Sequential:
    """One ``nn.Sequential`` of BasicBlocks per stage; only a stage's first block changes
    width or stride, so only it can need a non-identity shortcut."""
    in_channels = arch.widths[0]
    stages = []
    for width, stride, n_blocks in zip(arch.widths, arch.strides, arch.blocks):
        blocks = []
        for i in range(n_blocks):
            block_stride = stride if i == 0 else 1
            if block_stride == 1 and in_channels == width:
                shortcut: nn.Module = nn.Identity()
            elif arch.shortcut == "zero_pad":
                shortcut = ZeroPadShortcut(in_channels, width, block_stride)
            else:
                shortcut = projection_shortcut(spec, in_channels, width, block_stride, fp_shortcut)
            blocks.append(BasicBlock(spec, in_channels, width, block_stride, shortcut))
            in_channels = width
        stages.append(nn.Sequential(*blocks))
    return nn.Sequential(*stages)


class PooledClassifier(nn.Module):
    """Global average pool, optional BatchNorm1d, then the classifier (FP when spec.fp_last)."""

    def __init__(self, spec: QuantSpec, features: int, num_classes: int,
                 bn_before_fc: bool) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.bn = nn.BatchNorm1d(features) if bn_before_fc else nn.Identity()
        self.fc = spec.linear(features, num_classes, bias=True, full_precision=spec.fp_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.bn(torch.flatten(self.pool(x), 1)))


class ResNet(nn.Module):
    """stem → residual stages → pooled classifier."""

    def __init__(self, stem: nn.Module, stages: nn.Sequential, head: PooledClassifier) -> None:
        super().__init__()
        self.stem, self.stages, self.head = stem, stages, head
        init_conv_weights_(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))


def build_resnet(name: str, spec: QuantSpec, num_classes: int, image_size: int,
                 in_channels: int = 3, **kwargs) -> ResNet:
    """The ResNet of row ``name`` of ``ARCHS``; ``kwargs`` are checked against its options."""
    arch = ARCHS[name]
    opts = model_options(kwargs, arch.options)
    use_imagenet_stem = arch.imagenet_stem and image_size > CIFAR_STEM_MAX_SIZE
    stem = imagenet_stem if use_imagenet_stem else cifar_stem
    # Built in this order (stem, stages, head): the layers' default init draws from the global
    # RNG, so the order fixes the weights a seed gives (the linear keeps its default init).
    return ResNet(
        stem(spec, in_channels, arch.widths[0]),
        residual_stages(spec, arch, opts.get("fp_shortcut", False)),
        PooledClassifier(spec, arch.widths[-1], num_classes, opts["bn_before_fc"]),
    )


def _register(name: str) -> None:
    def builder(spec: QuantSpec, num_classes: int, image_size: int, in_channels: int = 3,
                **kwargs) -> ResNet:
        return build_resnet(name, spec, num_classes, image_size, in_channels, **kwargs)

    builder.__name__ = builder.__qualname__ = name
    defaults = ", ".join(f"{k}={v}" for k, v in ARCHS[name].options.items())
    builder.__doc__ = f"``{name}`` of ``ARCHS`` (see the module docstring); options: {defaults}."
    register_model(name)(builder)


for _name in ARCHS:
    _register(_name)
