"""Quantizers (autograd functions), quantized layers and the per-method quantizer registry."""
from .layers import QConv2d, QLinear
from .spec import METHODS, QuantSpec, register_method

__all__ = ["METHODS", "QConv2d", "QLinear", "QuantSpec", "register_method"]
