"""MeliusNet (Bethge et al. 2021; BMXNet-v2-examples ``binary_models/meliusnet.py``): the
BinaryDenseNet backbone with an improvement block after every dense layer. The transition
ratios are the reference's (new width / old width); the width divides by their inverse."""
from __future__ import annotations

from ..quant import QuantSpec
from .densenet import DenseFamilyNet, build_dense_family
from .registry import register_model


def _reductions(*ratios: tuple[int, int]) -> tuple[float, ...]:
    return tuple(1 / (new / old) for new, old in ratios)


@register_model("meliusnet22")
def meliusnet22(spec: QuantSpec, num_classes: int, image_size: int, in_channels: int = 3,
                **kwargs) -> DenseFamilyNet:
    return build_dense_family(spec, num_classes, in_channels, kwargs, blocks=(4, 5, 4, 4),
                              reductions=_reductions((160, 320), (224, 480), (256, 480)),
                              improvement=True)


@register_model("meliusnet29")
def meliusnet29(spec: QuantSpec, num_classes: int, image_size: int, in_channels: int = 3,
                **kwargs) -> DenseFamilyNet:
    return build_dense_family(spec, num_classes, in_channels, kwargs, blocks=(4, 6, 8, 6),
                              reductions=_reductions((128, 320), (192, 512), (256, 704)),
                              improvement=True)
