"""``cim`` settings (configs/cim/default.yaml), checked once: bad values raise ConfigError."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..utils.errors import ConfigError
from .adc import RANGE_MODES
from .variation import KINDS

MAX_ADC_BITS = 16
ADC_GRADS = ("ste", "clipped")


@dataclass(frozen=True)
class CIMConfig:
    tiled: bool = False
    adc: bool = True            # false: ideal partial sums (infinite ADC resolution)
    adc_bits: int = 4
    bit_serial: bool = True
    adc_range: str = "sigma"
    adc_sigmas: float = 3.0
    adc_momentum: float = 0.1
    adc_grad: str = "ste"       # ste: the ideal layer's gradient; clipped: none through a clip
    variation_sigma: float = 0.0
    variation_kind: str = "lognormal"
    variation_samples: int = 1
    variation_seed: int = 0

    @classmethod
    def from_dict(cls, cim: Mapping[str, Any] | None, adc_bits: Any) -> CIMConfig:
        values = dict(cim or {})
        unknown = sorted(set(values) - set(cls.__dataclass_fields__) - {"adc_bits"})
        if unknown:
            raise ConfigError(f"cim.{unknown[0]}", values[unknown[0]],
                              "one of " + ", ".join(sorted(cls.__dataclass_fields__)))
        values["adc_bits"] = adc_bits
        for key in ("tiled", "adc", "bit_serial"):
            if key in values and not isinstance(values[key], bool):
                raise ConfigError(f"cim.{key}", values[key], "true or false")
        if isinstance(adc_bits, bool) or not isinstance(adc_bits, int) \
                or not 1 <= adc_bits <= MAX_ADC_BITS:
            raise ConfigError("adc_bits", adc_bits, f"an integer from 1 to {MAX_ADC_BITS}",
                              hint="cim.adc=false reads partial sums at infinite resolution.")
        _choice(values, "adc_range", RANGE_MODES)
        _choice(values, "adc_grad", ADC_GRADS)
        _choice(values, "variation_kind", KINDS)
        _number(values, "adc_sigmas", lambda v: v > 0, "a positive number")
        _number(values, "adc_momentum", lambda v: 0 < v <= 1, "a number in (0, 1]")
        _number(values, "variation_sigma", lambda v: v >= 0, "a number >= 0")
        for key in ("variation_samples", "variation_seed"):
            v = values.get(key, 1)
            if isinstance(v, bool) or not isinstance(v, int) or v < (1 if key.endswith("samples") else 0):
                raise ConfigError(f"cim.{key}", v, "a positive integer" if key.endswith("samples")
                                  else "a non-negative integer")
        return cls(**values)


def _choice(values: dict, key: str, options: tuple[str, ...]) -> None:
    if key in values and values[key] not in options:
        raise ConfigError(f"cim.{key}", values[key], ", ".join(options))


def _number(values: dict, key: str, ok, allowed: str) -> None:
    if key in values:
        v = values[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not ok(v):
            raise ConfigError(f"cim.{key}", v, allowed)
