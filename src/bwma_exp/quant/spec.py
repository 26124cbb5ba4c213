"""QuantSpec: the one object a model builder needs to create its layers.

Models never name a quantization method; they call ``spec.conv2d(...)`` / ``spec.linear(...)``
and mark the layers that stay full precision (stem, classifier, FP shortcuts). The method
registry turns a spec into the weight and activation quantizers of one layer; each method's
folder registers its factory when ``bwma_exp.quant`` is imported.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..utils.errors import ConfigError
from .contract import ActivationQuantizer, IdentityActivation, IdentityWeight, WeightQuantizer
from .layers import QConv2d, QLinear

# name -> factory(spec, layer_kind, out_channels) -> (weight_quantizer, act_quantizer)
QuantizerFactory = Callable[["QuantSpec", str, int],
                            "tuple[WeightQuantizer, ActivationQuantizer]"]
METHODS: dict[str, QuantizerFactory] = {}
# name -> bits the method fixes whatever the run's w_bits/act_bits say (bwba: binary both)
FIXED_BITS: dict[str, dict[str, int]] = {}


@dataclass(frozen=True)
class MethodCrossbar:
    """The crossbar a method trains on when the run leaves it to the method (``cim.tiled:
    auto``, ``hardware.mapping: auto``); read through ``cim.config.run_crossbar``."""

    tiled: bool = False
    """Whether ``cim.tiled: auto`` computes the method's layers subarray by subarray."""
    mapping: str | None = None
    """The row partition the method's quantizers are defined on (``hardware.mapping`` must be
    it or ``auto``); None: any mapping, ``auto`` as the estimator picks it."""
    weight_coding: str = "offset"
    """How its signed multi-bit weights sit in the cells when ``hardware.weight_coding: auto``
    (cim/cells.py): offset (one column per bit slice) or differential (positive and negative
    columns)."""


# name -> the crossbar the method declares at registration
CROSSBARS: dict[str, MethodCrossbar] = {}


def register_method(name: str, fixed_bits: Mapping[str, int] | None = None, *,
                    tiled: bool = False, mapping: str | None = None,
                    weight_coding: str = "offset"
                    ) -> Callable[[QuantizerFactory], QuantizerFactory]:
    """Register a method's factory. ``fixed_bits`` ({"act_bits": 1}) are bits the method has
    by construction: the run's value is ignored and reported as this one, so a sweep can put
    binary methods beside multi-bit ones. ``tiled``: the method trains on its crossbar by
    default (``cim.tiled: auto``); ``mapping``: the row partition its quantizers need (a
    ``hardware.mapping`` name, checked where the run's crossbar is resolved: ``quant`` imports
    no other domain package), put in place of ``hardware.mapping: auto``; ``weight_coding``:
    the cell coding of its signed weights, put in place of ``hardware.weight_coding: auto``."""

    def deco(fn: QuantizerFactory) -> QuantizerFactory:
        METHODS[name] = fn
        FIXED_BITS[name] = dict(fixed_bits or {})
        CROSSBARS[name] = MethodCrossbar(bool(tiled), mapping, weight_coding)
        return fn
    return deco


@register_method("fp")
def _full_precision(spec: QuantSpec, kind: str, out_channels: int):
    return IdentityWeight(), IdentityActivation()


@dataclass(frozen=True)
class QuantSpec:
    method: str = "fp"
    w_bits: int = 32
    act_bits: int = 32
    fp_first: bool = True   # keep the first conv full precision (reference implementations do)
    fp_last: bool = True    # keep the classifier full precision
    options: Mapping[str, Any] = field(default_factory=dict)
    # per-layer bits: pattern -> {w_bits, act_bits, adc_bits} (see layer_precision.py)
    layers: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError("quant", self.method, ", ".join(sorted(METHODS)))

    @property
    def is_fp(self) -> bool:
        return self.method == "fp"

    def effective_bits(self) -> tuple[int, int]:
        """(w_bits, act_bits) of the quantized layers; full precision reports 32/32."""
        return (32, 32) if self.is_fp else (int(self.w_bits), int(self.act_bits))

    def _quantizers(self, kind: str, out_channels: int, full_precision: bool):
        if full_precision or self.is_fp:
            return IdentityWeight(), IdentityActivation(), True
        wq, aq = METHODS[self.method](self, kind, out_channels)
        return wq, aq, False

    def conv2d(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
               padding: int = 0, dilation: int = 1, groups: int = 1, bias: bool = False, *,
               full_precision: bool = False) -> QConv2d:
        wq, aq, fp = self._quantizers("conv", out_channels, full_precision)
        w_bits, act_bits = self.effective_bits()
        return QConv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                       dilation=dilation, groups=groups, bias=bias, weight_quantizer=wq,
                       act_quantizer=aq, w_bits=w_bits, act_bits=act_bits, full_precision=fp,
                       method=self.method)

    def linear(self, in_features: int, out_features: int, bias: bool = True, *,
               full_precision: bool = False) -> QLinear:
        wq, aq, fp = self._quantizers("linear", out_features, full_precision)
        w_bits, act_bits = self.effective_bits()
        return QLinear(in_features, out_features, bias=bias, weight_quantizer=wq, act_quantizer=aq,
                       w_bits=w_bits, act_bits=act_bits, full_precision=fp, method=self.method)

