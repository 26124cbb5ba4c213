"""Architectures built only from quantized layers, their registry and the OPs/params counter."""
from .registry import MODELS, build_model, register_model

__all__ = ["MODELS", "build_model", "register_model"]
