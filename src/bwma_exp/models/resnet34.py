"""ResNet-34 (He et al. 2016; the torchvision layout, 21,797,672 params at 1000 classes): the
real-valued ImageNet teacher that ReActNet distils from (``distill.teacher_model=resnet34``).
Built from the same blocks as ResNet-18, with [3, 4, 6, 3] BasicBlocks; inputs of at most 64 px
get the CIFAR stem, as ResNet-18 does, so tiny test images still reach the last stage at 2x2.
"""
from __future__ import annotations

from ..quant import QuantSpec
from .blocks import PooledClassifier, ResNet, model_options, residual_stages
from .registry import register_model
from .resnet_cifar import cifar_stem
from .resnet_imagenet import CIFAR_STEM_MAX_SIZE, imagenet_stem

WIDTHS = [64, 128, 256, 512]
BLOCKS = [3, 4, 6, 3]


@register_model("resnet34")
def resnet34(spec: QuantSpec, num_classes: int, image_size: int, in_channels: int = 3,
             **kwargs) -> ResNet:
    """Options as resnet18's: ``bn_before_fc`` (default false), ``fp_shortcut`` (default true)."""
    opts = model_options(kwargs, {"bn_before_fc": False, "fp_shortcut": True})
    stem = cifar_stem if image_size <= CIFAR_STEM_MAX_SIZE else imagenet_stem
    return ResNet(
        stem(spec, in_channels, WIDTHS[0]),
        residual_stages(spec, WIDTHS[0], WIDTHS, strides=[1, 2, 2, 2], blocks_per_stage=BLOCKS,
                        shortcut_kind="projection", fp_shortcut=opts["fp_shortcut"]),
        PooledClassifier(spec, WIDTHS[-1], num_classes, opts["bn_before_fc"]),
    )
