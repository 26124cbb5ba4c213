"""Quantization methods, each in its own folder and registered when this package is imported:
``bwma`` (the paper), ``bwba``, ``mwma``, ``origin``, ``columnquant``, ``cimq``; ``fp`` is the
full-precision baseline (``spec.py``). ``contract.py`` declares what the rest of the project
may ask of a quantizer; ``common/`` holds what methods share (LSQ, the partial-sum ADC,
compiled formulas). README.md maps the papers' equations to functions."""
from . import bwba, bwma, cimq, columnquant, mwma, origin  # noqa: F401  (register the methods)
from .bwma import ActQuantizer, BWMAWeightQuantizer
from .contract import (
    ActivationQuantizer,
    PartialSumQuantizer,
    Quantizer,
    WeightQuantizer,
    clip_latent_weights,
    has_latent_clip,
    quantized_layers,
    regularization_loss,
    set_training_progress,
)
from .layers import QConv2d, QLinear
from .spec import METHODS, QuantSpec, register_method

__all__ = ["METHODS", "ActQuantizer", "ActivationQuantizer", "BWMAWeightQuantizer",
           "PartialSumQuantizer", "QConv2d", "QLinear", "QuantSpec", "Quantizer",
           "WeightQuantizer", "clip_latent_weights", "has_latent_clip", "quantized_layers",
           "regularization_loss", "register_method", "set_training_progress"]
