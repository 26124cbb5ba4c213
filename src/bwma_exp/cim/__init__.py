"""Crossbar-in-the-loop computation: quantized layers computed subarray by subarray with ADC
partial sums and device variation, mapped exactly as the hardware estimator maps them."""
from .config import CIMConfig
from .crossbar import Crossbar

__all__ = ["CIMConfig", "Crossbar"]
