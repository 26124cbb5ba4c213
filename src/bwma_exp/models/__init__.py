"""Architectures built only from quantized layers, their registry and the OPs/params counter.

Importing this package imports every architecture module, and each registers its models in
``MODELS`` on import, so the registry is full wherever ``build_model`` is reachable.
"""
from . import densenet, meliusnet, reactnet, resnet, vgg  # noqa: F401  (fill MODELS)
from .registry import MODELS, build_model, register_model

__all__ = ["MODELS", "build_model", "register_model"]
