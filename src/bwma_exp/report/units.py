"""Unit conversions from the estimator's units (ns, pJ, µm²) to readable ones, and number text."""

from __future__ import annotations

import math

NS_PER_US = 1e3
NS_PER_MS = 1e6
PJ_PER_UJ = 1e6
UM2_PER_MM2 = 1e6


def ns_to_us(value: float | None) -> float | None:
    return None if value is None else value / NS_PER_US


def pj_to_uj(value: float | None) -> float | None:
    return None if value is None else value / PJ_PER_UJ


def um2_to_mm2(value: float | None) -> float | None:
    return None if value is None else value / UM2_PER_MM2


def readable(value: float | None, digits: int = 4) -> str:
    """`digits` significant digits in fixed point (4740, 20.40, 0.5123); an em dash for None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}"


def latency_unit(values_ns: list[float]) -> tuple[float, str]:
    """(ns per unit, unit name): ms once the largest value reaches 1 ms, else µs."""
    return (NS_PER_MS, "ms") if max(values_ns, default=0) >= NS_PER_MS else (NS_PER_US, "µs")
