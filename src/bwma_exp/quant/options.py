"""Reading a method's ``quant.options``: every key must be known and every value allowed, so a
typo in a sweep fails at once instead of silently training with the default."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..utils.errors import ConfigError


@dataclass(frozen=True)
class Option:
    default: Any
    allowed: str                       # what the error message lists as allowed
    accepts: Callable[[Any], bool]


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def choice(default: str, *values: str) -> Option:
    return Option(default, ", ".join(values), lambda x: x in values)


def positive(default: float) -> Option:
    return Option(default, "a positive number", lambda x: _is_number(x) and x > 0)


def unit_interval(default: float) -> Option:
    return Option(default, "a number in (0, 1]", lambda x: _is_number(x) and 0 < x <= 1)


def flag(default: bool) -> Option:
    return Option(default, "true or false", lambda x: isinstance(x, bool))


def read_options(method: str, options: Mapping[str, Any],
                 schema: Mapping[str, Option]) -> dict[str, Any]:
    """The schema's defaults updated with ``options``; a bad key or value is a ConfigError on
    ``quant.options.<key>``."""
    values = {key: opt.default for key, opt in schema.items()}
    for key, value in options.items():
        if key not in schema:
            known = ", ".join(sorted(schema)) or "none"
            raise ConfigError(f"quant.options.{key}", value,
                              f"the options of quant={method}: {known}")
        if not schema[key].accepts(value):
            raise ConfigError(f"quant.options.{key}", value, schema[key].allowed)
        values[key] = value
    return values
