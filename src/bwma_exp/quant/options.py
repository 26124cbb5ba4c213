"""Reading a method's ``quant.options`` against the method's schema (a dataclass, see
``utils/schema.py``): every key must be known and every value allowed, so a typo in a sweep
fails at once instead of silently training with the default."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from ..utils.schema import check

T = TypeVar("T")


@dataclass(frozen=True)
class NoOptions:
    """The schema of a method without options."""


def read_options(method: str, options: Mapping[str, Any], schema: type[T]) -> T:
    return check(schema, options, "quant.options", hint=f"(the options of quant={method})")
