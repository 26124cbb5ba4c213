"""Per-layer precision (``quant.layers``): layer-name patterns mapped to w_bits, act_bits and
adc_bits, applied to a built model.

Patterns are shell-style (``fnmatch``) against the qualified module names that the layer table
shows (``stages.0.*``, ``head.fc``); when several match a layer, later patterns override earlier
ones key by key. A matched layer gets fresh quantizers from the run's method at its bits, so
the OPs counter, the layer table, the estimator and the tiled forward all read the bits off the
layer itself. A pattern may quantize a layer that is full precision by default (``head.fc``
with ``fp_last``); unset keys take the run's bits. ``adc_bits`` sets the resolution of that
layer's crossbar ADCs in the tiled forward (``cim.tiled``).
"""
from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn

from ..utils.errors import ConfigError
from ..utils.schema import check
from ..utils.validation import AdcBits, Bits
from .contract import quantized_layers
from .spec import METHODS


@dataclass(frozen=True)
class LayerPrecision:
    """What one ``quant.layers`` pattern may set."""

    w_bits: Bits | None = None
    act_bits: Bits | None = None
    adc_bits: AdcBits | None = None


def read_layer_patterns(layers: Mapping[str, Any] | None) -> dict[str, LayerPrecision]:
    out = {}
    for pattern, values in dict(layers or {}).items():
        if not isinstance(values, Mapping):
            raise ConfigError(f"quant.layers.{pattern}", values,
                              "a mapping of w_bits, act_bits and/or adc_bits")
        out[str(pattern)] = check(LayerPrecision, values, f"quant.layers.{pattern}")
    return out


def apply_layer_precision(model: nn.Module, spec: Any) -> list[str]:
    """Re-quantize the layers that ``spec.layers`` names; returns the names changed."""
    patterns = read_layer_patterns(spec.layers)
    if not patterns:
        return []
    layers = dict(quantized_layers(model))
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(name, pattern) for name in layers):
            raise ConfigError("quant.layers", pattern,
                              "a pattern matching one of the layers " + ", ".join(layers))
    if spec.is_fp:
        raise ConfigError("quant.layers", dict(spec.layers), "{} with quant=fp",
                          hint="full precision has no bits to set per layer.")
    changed = []
    for name, layer in layers.items():
        chosen: dict[str, int] = {}
        for pattern, values in patterns.items():
            if fnmatch.fnmatchcase(name, pattern):
                chosen.update({k: v for k, v in dataclasses.asdict(values).items()
                               if v is not None})
        if not chosen:
            continue
        w_bits = chosen.get("w_bits", spec.w_bits)
        act_bits = chosen.get("act_bits", spec.act_bits)
        layer_spec = dataclasses.replace(spec, w_bits=w_bits, act_bits=act_bits, layers={})
        kind = "conv" if isinstance(layer, nn.Conv2d) else "linear"
        try:
            wq, aq = METHODS[spec.method](layer_spec, kind, layer.weight.shape[0])
        except ConfigError as err:
            raise ConfigError(f"quant.layers ({name}).{err.key}", err.value, err.allowed) \
                from None
        wq.to(layer.weight.device)
        aq.to(layer.weight.device)
        layer.weight_quantizer, layer.act_quantizer = wq, aq
        layer.full_precision, layer.method = False, spec.method
        layer.w_bits, layer.act_bits = int(w_bits), int(act_bits)
        layer.adc_bits = chosen.get("adc_bits")
        changed.append(name)
    return changed
