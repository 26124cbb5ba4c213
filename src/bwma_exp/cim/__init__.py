"""Crossbar-in-the-loop computation: quantized layers computed subarray by subarray with ADC
partial sums and device variation, mapped exactly as the hardware estimator maps them."""
from .adc import ADC
from .config import CIMConfig
from .crossbar import Crossbar

__all__ = ["ADC", "CIMConfig", "Crossbar"]
