"""Quantizers (autograd functions), quantized layers and the per-method quantizer registry."""
from .act_quantizer import ActQuantizer
from .bwma import BWMAWeightQuantizer
from .layers import QConv2d, QLinear
from .progress import set_training_progress
from .spec import METHODS, QuantSpec, register_method

__all__ = ["METHODS", "ActQuantizer", "BWMAWeightQuantizer", "QConv2d", "QLinear", "QuantSpec",
           "register_method", "set_training_progress"]
