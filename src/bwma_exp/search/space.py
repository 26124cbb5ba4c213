"""The search space of a Pareto study, written in YAML with Hydra's sweep syntax.

``params`` maps a config key to ``choice(a, b, ...)``, ``range(lo, hi[, step])`` (integers,
``hi`` excluded as in Hydra) or ``interval(lo, hi)`` (floats); ``layer_params`` maps a layer
pattern of ``quant.layers`` to such values per bit key, so per-layer bits are searched by layer
group. ``constraints`` are Python comparisons over the sampled keys (``adc_bits >= act_bits -
1``); a point that breaks one is never launched.
"""
from __future__ import annotations

import ast
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import optuna
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, RangeSweep

from ..utils.errors import ConfigError

LAYER_SEP = "/"   # trial parameter name of a layer group's key: "<pattern>/<bit key>"


def distribution(key: str, text: str) -> optuna.distributions.BaseDistribution:
    """The Optuna distribution of one ``params`` entry."""
    try:
        value = OverridesParser.create().parse_override(f"{key}={text}").value()
    except Exception:  # Hydra's grammar errors are several lines: name the key instead
        value = None
    if isinstance(value, ChoiceSweep):
        return optuna.distributions.CategoricalDistribution(list(value.list))
    if isinstance(value, RangeSweep) and all(isinstance(v, int) for v in
                                             (value.start, value.stop, value.step)) \
            and value.step > 0 and value.stop > value.start:
        last = value.start + (value.stop - 1 - value.start) // value.step * value.step
        return optuna.distributions.IntDistribution(value.start, last, step=value.step)
    if isinstance(value, IntervalSweep):
        return optuna.distributions.FloatDistribution(float(value.start), float(value.end))
    raise ConfigError(f"hydra.sweeper.params.{key}", text,
                      "choice(a, b, ...), range(lo, hi[, step]) of integers or interval(lo, hi)")


@dataclass(frozen=True)
class SearchSpace:
    params: dict[str, optuna.distributions.BaseDistribution]
    constraints: tuple[str, ...]

    @classmethod
    def from_config(cls, params: Mapping[str, Any] | None,
                    layer_params: Mapping[str, Mapping[str, Any]] | None,
                    constraints: list[str] | None) -> SearchSpace:
        space = {str(k): distribution(str(k), str(v)) for k, v in dict(params or {}).items()}
        for pattern, keys in dict(layer_params or {}).items():
            for key, text in dict(keys).items():
                if key not in ("w_bits", "act_bits", "adc_bits"):
                    raise ConfigError(f"hydra.sweeper.layer_params.{pattern}.{key}", text,
                                      "a key of w_bits, act_bits, adc_bits")
                space[f"{pattern}{LAYER_SEP}{key}"] = distribution(key, str(text))
        for text in constraints or []:
            _check_constraint(text, space)
        return cls(space, tuple(constraints or []))

    def feasible(self, values: Mapping[str, Any], base: Mapping[str, Any]) -> bool:
        names = {**base, **{k: v for k, v in values.items() if LAYER_SEP not in k}}
        return all(_evaluate(ast.parse(c, mode="eval").body, names) for c in self.constraints)

    @staticmethod
    def overrides(values: Mapping[str, Any]) -> list[str]:
        """Command-line overrides of one trial: plain keys, then one ``quant.layers={...}``."""
        plain = [f"{k}={v}" for k, v in values.items() if LAYER_SEP not in k]
        groups: dict[str, dict[str, Any]] = {}
        for name, value in values.items():
            if LAYER_SEP in name:
                pattern, key = name.rsplit(LAYER_SEP, 1)
                groups.setdefault(pattern, {})[key] = value
        if groups:
            body = ", ".join(f"{p}: {{{', '.join(f'{k}: {v}' for k, v in kv.items())}}}"
                             for p, kv in groups.items())
            plain.append(f"quant.layers={{{body}}}")
        return plain


_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
            ast.GtE: operator.ge, ast.Eq: operator.eq, ast.NotEq: operator.ne}
_ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}


def _evaluate(node: ast.AST, names: Mapping[str, Any]) -> Any:
    """Comparisons, + - * and names/numbers only: a constraint is data, never code."""
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, names)
        for op, right_node in zip(node.ops, node.comparators):
            right = _evaluate(right_node, names)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        return _ARITH[type(node.op)](_evaluate(node.left, names), _evaluate(node.right, names))
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.Name):
        return names[node.id]
    raise ValueError(ast.dump(node))


def _check_constraint(text: str, space: Mapping[str, Any]) -> None:
    try:
        tree = ast.parse(text, mode="eval").body
        if not isinstance(tree, ast.Compare):
            raise ValueError("not a comparison")
        probe = {n.id: 1 for n in ast.walk(tree) if isinstance(n, ast.Name)}
        _evaluate(tree, probe)
    except (SyntaxError, ValueError, KeyError) as err:
        raise ConfigError("hydra.sweeper.constraints", text,
                          "comparisons of searched or top-level keys, numbers, + - * "
                          "(e.g. 'adc_bits >= act_bits - 1')", hint=str(err)) from None
