"""One checker for every config group's schema.

A schema is a frozen dataclass. Each field's annotation is its type — ``bool``, ``int``,
``float``, ``str``, ``Literal[...]`` for choices, ``X | None`` where null is allowed — and
``Annotated[int, Range(1, 12)]`` (or any ``Rule``) narrows it; the string under a field is its
documentation. ``check(Schema, values, "cim")`` returns the dataclass or raises a ConfigError
naming ``cim.<key>``, the value and what is allowed, in one line. The message is made from the
annotation, so each limit is written once, where the field is declared.

Booleans are never numbers here (``true`` is not 1) and numbers are never strings: Hydra hands
``abc`` over as a string, which every numeric type refuses.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from .errors import ConfigError


@dataclass(frozen=True)
class Rule:
    """A constraint beyond the type: ``test(value)`` must hold; ``allowed`` says what does."""

    test: Callable[[Any], bool]
    allowed: str

    def describe(self, kind: str) -> str:
        return self.allowed


@dataclass(frozen=True)
class Range(Rule):
    """lo <= value <= hi (either end may be open: ``lo_open``/``hi_open``, or absent)."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False

    def __init__(self, lo: float | None = None, hi: float | None = None, *,
                 lo_open: bool = False, hi_open: bool = False) -> None:
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)
        object.__setattr__(self, "lo_open", lo_open)
        object.__setattr__(self, "hi_open", hi_open)
        object.__setattr__(self, "test", self._inside)
        object.__setattr__(self, "allowed", "")

    def _inside(self, v: float) -> bool:
        if self.lo is not None and (v <= self.lo if self.lo_open else v < self.lo):
            return False
        return self.hi is None or (v < self.hi if self.hi_open else v <= self.hi)

    def describe(self, kind: str) -> str:
        lo, hi = self.lo, self.hi
        if kind == "integer":
            if lo is not None and hi is not None:
                return f"an integer from {lo} to {hi}"
            return f"an integer >= {lo}" if lo is not None else f"an integer <= {hi}"
        if lo is not None and hi is not None:
            left, right = "(" if self.lo_open else "[", ")" if self.hi_open else "]"
            return f"a number in {left}{lo}, {hi}{right}"
        if lo == 0:
            return "a positive number" if self.lo_open else "a number >= 0"
        if lo is not None:
            return f"a number {'>' if self.lo_open else '>='} {lo}"
        return f"a number {'<' if self.hi_open else '<='} {hi}"


def power_of_two(minimum: int = 1) -> Rule:
    return Rule(lambda v: v >= minimum and v & (v - 1) == 0,
                "a positive power of two (e.g. 32, 64, 128, 256)")


def _kind(tp: Any) -> str:
    return {bool: "true or false", int: "integer", float: "number", str: "a string"}.get(tp, "")


def _split(annotation: Any) -> tuple[list[Any], bool]:
    """(the alternatives, null allowed) of a field annotation: ``int | str | None`` gives
    ([int, str], True)."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = get_args(annotation)
        return [a for a in args if a is not type(None)], type(None) in args
    return [annotation], False


def _rules(annotation: Any) -> tuple[Any, list[Rule]]:
    if get_origin(annotation) is Annotated:
        base, *extra = get_args(annotation)
        return base, [r for r in extra if isinstance(r, Rule)]
    return annotation, []


def allowed(annotation: Any) -> str:
    """What a field accepts, in words (the end of its error message)."""
    options, nullable = _split(annotation)
    text = " or ".join(_allowed_one(a) for a in options)
    return f"{text}, or null" if nullable else text


def _allowed_one(annotation: Any) -> str:
    base, rules = _rules(annotation)
    if get_origin(base) is Literal:
        *rest, last = (str(c) for c in get_args(base))
        return f"{', '.join(rest)} or {last}" if rest else last
    if rules:
        return " and ".join(r.describe(_kind(base)) for r in rules)
    if base is int:
        return "an integer"
    if base is float:
        return "a number"
    return _kind(base) or getattr(base, "__name__", str(base))


def accepts(annotation: Any, value: Any) -> bool:
    return _validator(annotation)(value)


@functools.cache
def _validator(annotation: Any) -> Callable[[Any], bool]:
    """The test of one annotation, built once (a sweep checks thousands of configs)."""
    options, nullable = _split(annotation)
    tests = [_validator_one(a) for a in options]

    def test(value: Any) -> bool:
        if value is None:
            return nullable
        return any(t(value) for t in tests)
    return test


def _validator_one(annotation: Any) -> Callable[[Any], bool]:
    base, rules = _rules(annotation)
    if get_origin(base) is Literal:
        choices = get_args(base)
        kind = lambda v: any(v == c and type(v) is type(c) for c in choices)  # noqa: E731
    elif base is bool:
        kind = lambda v: isinstance(v, bool)  # noqa: E731
    elif base is int:
        kind = lambda v: isinstance(v, int) and not isinstance(v, bool)  # noqa: E731
    elif base is float:
        kind = lambda v: (isinstance(v, (int, float)) and not isinstance(v, bool)  # noqa: E731
                          and math.isfinite(v))
    elif base is str:
        kind = lambda v: isinstance(v, str)  # noqa: E731
    elif base is Any:
        kind = lambda v: True  # noqa: E731
    else:
        cls = get_origin(base) or base
        kind = lambda v: isinstance(v, cls)  # noqa: E731
    checks = [r.test for r in rules]
    return lambda v: kind(v) and all(c(v) for c in checks)


def check_value(key: str, annotation: Any, value: Any) -> Any:
    if not accepts(annotation, value):
        raise ConfigError(key, value, allowed(annotation))
    return value


def check(schema: type, values: Mapping[str, Any] | None, prefix: str, *,
          extra: str = "forbid", hint: str = "") -> Any:
    """``schema`` built from ``values`` (missing keys take the defaults). ``extra="forbid"``:
    an unknown key is an error listing the known ones; ``"ignore"``: other keys are someone
    else's (Lightning's Trainer arguments, Hydra's ``_target_``) and pass unchecked."""
    values = dict(values or {})
    hints, fields = _layout(schema)
    where = f"{prefix}." if prefix else ""
    if extra == "forbid":
        unknown = sorted(k for k in values if k not in fields and not str(k).startswith("_"))
        if unknown:
            known = ", ".join(sorted(fields)) if fields else "no keys here"
            raise ConfigError(f"{where}{unknown[0]}", values[unknown[0]], known, hint=hint)
    kwargs = {}
    for name, field in fields.items():
        if name in values:
            kwargs[name] = check_value(f"{where}{name}", hints[name], values[name])
        elif field.default is dataclasses.MISSING and \
                field.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{where}{name}", None, allowed(hints[name]), hint="It is required.")
    return schema(**kwargs)


@functools.cache
def _layout(schema: type) -> tuple[dict[str, Any], dict[str, dataclasses.Field]]:
    """Type hints and init fields of a schema: resolving string annotations is slow, and the
    estimator checks its config thousands of times a second in a sweep."""
    hints = get_type_hints(schema, include_extras=True)
    return hints, {f.name: f for f in dataclasses.fields(schema) if f.init}


def describe(schema: type) -> dict[str, str]:
    """key -> what it accepts (for documentation and error hints)."""
    hints = get_type_hints(schema, include_extras=True)
    return {f.name: allowed(hints[f.name]) for f in dataclasses.fields(schema)}


# Field types that many groups share.
PositiveInt = Annotated[int, Range(1)]
NonNegativeInt = Annotated[int, Range(0)]
PositiveFloat = Annotated[float, Range(0, lo_open=True)]
NonNegativeFloat = Annotated[float, Range(0)]
UnitInterval = Annotated[float, Range(0, 1)]
