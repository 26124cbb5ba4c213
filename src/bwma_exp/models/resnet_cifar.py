"""CIFAR ResNets (32 px inputs): ResNet-20 with option-A shortcuts and the CIFAR ResNet-18
(3x3 stride-1 stem, no max-pool, option-B shortcuts), as in IR-Net and AdaBin.
``resnet18`` itself is registered in ``resnet_imagenet`` and picks this variant for small inputs.
"""
from __future__ import annotations

from torch import nn

from ..quant import QuantSpec
from .blocks import PooledClassifier, ResNet, model_options, residual_stages
from .registry import register_model


def cifar_stem(spec: QuantSpec, in_channels: int, width: int) -> nn.Sequential:
    """conv3x3 stride 1 + BN + ReLU, full precision when ``spec.fp_first``."""
    return nn.Sequential(
        spec.conv2d(in_channels, width, 3, padding=1, full_precision=spec.fp_first),
        nn.BatchNorm2d(width),
        nn.ReLU(inplace=True),
    )


@register_model("resnet20")
def resnet20(spec: QuantSpec, num_classes: int, image_size: int, in_channels: int = 3,
             **kwargs) -> ResNet:
    """ResNet-20 (0.27 M params). Works at any ``image_size``: the head pools adaptively.
    Option ``bn_before_fc`` adds BatchNorm1d(64) before the classifier (binary variants)."""
    opts = model_options(kwargs, {"bn_before_fc": False})
    widths = [16, 32, 64]
    return ResNet(
        cifar_stem(spec, in_channels, widths[0]),
        residual_stages(spec, widths[0], widths, strides=[1, 2, 2], blocks_per_stage=[3, 3, 3],
                        shortcut_kind="zero_pad", fp_shortcut=False),
        PooledClassifier(spec, widths[-1], num_classes, opts["bn_before_fc"]),
    )


def cifar_resnet18(spec: QuantSpec, num_classes: int, in_channels: int, bn_before_fc: bool,
                   fp_shortcut: bool) -> ResNet:
    """CIFAR ResNet-18 (11.2 M params); ``fp_shortcut`` keeps the 1x1 downsample convs FP."""
    widths = [64, 128, 256, 512]
    return ResNet(
        cifar_stem(spec, in_channels, widths[0]),
        residual_stages(spec, widths[0], widths, strides=[1, 2, 2, 2],
                        blocks_per_stage=[2, 2, 2, 2], shortcut_kind="projection",
                        fp_shortcut=fp_shortcut),
        PooledClassifier(spec, widths[-1], num_classes, bn_before_fc),
    )
