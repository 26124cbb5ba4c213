"""Checks of the composed config that end a run with one clear line before anything is built."""
from __future__ import annotations

from typing import Any

from omegaconf import DictConfig

from .errors import ConfigError

BITS_ALLOWED = "an integer from 1 to 16 (32 means full precision)"


def as_bits(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise TypeError
        except TypeError:
            raise ConfigError(key, value, BITS_ALLOWED) from None
    if not (1 <= value <= 16 or value == 32):
        raise ConfigError(key, value, BITS_ALLOWED)
    return value


def as_positive_int(key: str, value: Any, allowed: str = "a positive integer") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(key, value, allowed)
    return value


def as_power_of_two(key: str, value: Any) -> int:
    allowed = "a positive power of two (e.g. 32, 64, 128, 256)"
    value = as_positive_int(key, value, allowed)
    if value & (value - 1):
        raise ConfigError(key, value, allowed)
    return value


def validate_common(cfg: DictConfig) -> None:
    """Keys shared by train.py, estimate.py and eval.py."""
    as_bits("act_bits", cfg.act_bits)
    as_bits("w_bits", cfg.w_bits)
    adc = cfg.get("adc_bits")
    if adc is not None and (isinstance(adc, bool) or not isinstance(adc, int) or not 1 <= adc <= 12):
        raise ConfigError("adc_bits", adc, "an integer from 1 to 12")
    as_power_of_two("crossbar_size", cfg.crossbar_size)
    seed = cfg.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError("seed", seed, "a non-negative integer")
