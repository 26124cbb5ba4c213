"""Quantized conv/linear layers: a plain torch layer whose input and weight pass through the
quantizers of the chosen method. Everything else (mapping, OPs counting, hardware tables)
reads the effective bit-widths stored on the layer."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .contract import (
    ActivationQuantizer,
    IdentityActivation,
    IdentityWeight,
    QuantizedLayer,
    WeightQuantizer,
)


class _QuantMixin(QuantizedLayer):
    """Shared state of QConv2d and QLinear: the two quantizers and the effective precisions."""

    def _init_quant(self, weight_quantizer: WeightQuantizer | None,
                    act_quantizer: ActivationQuantizer | None, w_bits: int, act_bits: int,
                    full_precision: bool, method: str) -> None:
        wq = weight_quantizer if weight_quantizer is not None else IdentityWeight()
        aq = act_quantizer if act_quantizer is not None else IdentityActivation()
        if not isinstance(wq, WeightQuantizer) or not isinstance(aq, ActivationQuantizer):
            raise TypeError(f"{type(self).__name__} needs a WeightQuantizer and an "
                            f"ActivationQuantizer (quant/contract.py), got "
                            f"{type(wq).__name__} and {type(aq).__name__}")
        self.weight_quantizer, self.act_quantizer = wq, aq
        self.full_precision = full_precision
        self.method = "fp" if full_precision else method
        # Effective precisions: full-precision layers report 32/32 whatever the run's bits are.
        self.w_bits = 32 if full_precision else int(w_bits)
        self.act_bits = 32 if full_precision else int(act_bits)
        # Optional crossbar-in-the-loop computation; None means the ideal layer.
        self.cim = None
        self.adc_bits: int | None = None  # quant.layers' ADC resolution; None: the run's

    def quantized_weight(self) -> torch.Tensor:
        if self.training or torch.is_grad_enabled():
            self._qweight_cache = None
            return self.weight_quantizer(self.weight)
        # Inference: weights do not change between batches, so quantize once (a median over a
        # large FC layer costs more than the layer itself). Any in-place update of a parameter
        # bumps its version and invalidates the cache.
        key = tuple((p.data_ptr(), p._version) for p in self.parameters(recurse=True))
        cache = getattr(self, "_qweight_cache", None)
        if cache is None or cache[0] != key:
            cache = (key, self.weight_quantizer(self.weight))
            self._qweight_cache = cache
        return cache[1]


class QConv2d(_QuantMixin, nn.Conv2d):
    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = False, *,
                 weight_quantizer: WeightQuantizer | None = None,
                 act_quantizer: ActivationQuantizer | None = None,
                 w_bits: int = 32, act_bits: int = 32, full_precision: bool = True,
                 method: str = "fp") -> None:
        nn.Conv2d.__init__(self, in_channels, out_channels, kernel_size, stride=stride,
                           padding=padding, dilation=dilation, groups=groups, bias=bias)
        self._init_quant(weight_quantizer, act_quantizer, w_bits, act_bits, full_precision, method)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act_quantizer(x)
        w = self.quantized_weight()
        if self.cim is not None:
            return self.cim(self, x, w)
        return self._conv_forward(x, w, self.bias)


class QLinear(_QuantMixin, nn.Linear):
    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 weight_quantizer: WeightQuantizer | None = None,
                 act_quantizer: ActivationQuantizer | None = None,
                 w_bits: int = 32, act_bits: int = 32, full_precision: bool = True,
                 method: str = "fp") -> None:
        nn.Linear.__init__(self, in_features, out_features, bias=bias)
        self._init_quant(weight_quantizer, act_quantizer, w_bits, act_bits, full_precision, method)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act_quantizer(x)
        w = self.quantized_weight()
        if self.cim is not None:
            return self.cim(self, x, w)
        return F.linear(x, w, self.bias)
