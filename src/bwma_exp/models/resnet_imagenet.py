"""ResNet-18, in its ImageNet form (7x7 stride-2 stem + max-pool, the torchvision layout,
11,689,512 params at 1000 classes) or, for inputs of at most 64 px, its CIFAR form."""
from __future__ import annotations

from torch import nn

from ..quant import QuantSpec
from .blocks import PooledClassifier, ResNet, model_options, residual_stages
from .registry import register_model
from .resnet_cifar import cifar_resnet18

# Up to this input size the 7x7/2 stem and max-pool would shrink the map too early (a 32 px
# image would reach the last stage at 1x1), so the CIFAR stem is used instead.
CIFAR_STEM_MAX_SIZE = 64


def imagenet_stem(spec: QuantSpec, in_channels: int, width: int) -> nn.Sequential:
    """conv7x7 stride 2 + BN + ReLU + max-pool 3x3/2: a 4x downsampling, FP when spec.fp_first."""
    return nn.Sequential(
        spec.conv2d(in_channels, width, 7, stride=2, padding=3, full_precision=spec.fp_first),
        nn.BatchNorm2d(width),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(3, stride=2, padding=1),
    )


def imagenet_resnet18(spec: QuantSpec, num_classes: int, in_channels: int, bn_before_fc: bool,
                      fp_shortcut: bool) -> ResNet:
    widths = [64, 128, 256, 512]
    return ResNet(
        imagenet_stem(spec, in_channels, widths[0]),
        residual_stages(spec, widths[0], widths, strides=[1, 2, 2, 2],
                        blocks_per_stage=[2, 2, 2, 2], shortcut_kind="projection",
                        fp_shortcut=fp_shortcut),
        PooledClassifier(spec, widths[-1], num_classes, bn_before_fc),
    )


@register_model("resnet18")
def resnet18(spec: QuantSpec, num_classes: int, image_size: int, in_channels: int = 3,
             **kwargs) -> ResNet:
    """ResNet-18; the CIFAR variant when ``image_size <= 64``, else the ImageNet one.
    Options: ``bn_before_fc`` (BatchNorm1d(512) before the FC, default false) and
    ``fp_shortcut`` (1x1 downsample convs full precision, default true as in binary
    reference ResNet-18s)."""
    opts = model_options(kwargs, {"bn_before_fc": False, "fp_shortcut": True})
    variant = cifar_resnet18 if image_size <= CIFAR_STEM_MAX_SIZE else imagenet_resnet18
    return variant(spec, num_classes, in_channels, **opts)
