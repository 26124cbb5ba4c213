"""Pieces shared by the ResNets and VGG: weight init and the check of a builder's extra
keyword arguments. The ResNet blocks live in ``resnet``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, make_dataclass
from typing import Any

from torch import nn

from ..quant import QConv2d
from ..utils.schema import check


def model_options(kwargs: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``defaults`` updated with ``kwargs``, checked as a schema whose fields have the type of
    their default: an unknown key or a value of another type is a ``ConfigError`` naming
    ``model.<key>`` (a typo must never be silently ignored)."""
    schema = make_dataclass("ModelOptions",
                            [(k, type(v) if v is not None else Any, v) for k, v in defaults.items()],
                            frozen=True)
    return asdict(check(schema, kwargs, "model"))


def init_conv_weights_(model: nn.Module) -> None:
    """Kaiming-normal conv weights with fan_out and ReLU gain (as torchvision's ResNet/VGG do:
    it keeps the backward signal's variance stable); BN starts as the identity. Linear layers
    keep PyTorch's default init."""
    for m in model.modules():
        if isinstance(m, QConv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
