"""Imports every architecture module so each registers itself in ``registry.MODELS``."""
from . import resnet_cifar  # noqa: F401
from . import resnet_imagenet  # noqa: F401
from . import resnet34  # noqa: F401  (ReActNet's distillation teacher)
from . import vgg  # noqa: F401
from . import densenet, meliusnet, reactnet  # noqa: F401
