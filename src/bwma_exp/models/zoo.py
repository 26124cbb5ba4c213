"""Imports every architecture module so each registers itself in ``registry.MODELS``."""
from . import (  # noqa: F401
    densenet,
    meliusnet,
    reactnet,
    resnet34,
    resnet_cifar,
    resnet_imagenet,
    vgg,
)
