"""Model registry: ``build_model(name, spec, ...)`` is the only way the pipeline makes a model.
The architecture modules register themselves; importing ``bwma_exp.models`` imports them all."""
from __future__ import annotations

from collections.abc import Callable

from torch import nn

from ..quant import QuantSpec
from ..quant.layer_precision import apply_layer_precision
from ..utils.errors import ConfigError

ModelBuilder = Callable[..., nn.Module]
MODELS: dict[str, ModelBuilder] = {}


def register_model(name: str) -> Callable[[ModelBuilder], ModelBuilder]:
    def deco(fn: ModelBuilder) -> ModelBuilder:
        MODELS[name] = fn
        return fn
    return deco


def build_model(name: str, spec: QuantSpec, num_classes: int, image_size: int,
                in_channels: int = 3, **kwargs) -> nn.Module:
    """Build ``name`` with layers from ``spec``. ``image_size`` picks input-size dependent
    variants (e.g. resnet18's CIFAR stem at 32 px, ImageNet stem at 224 px)."""
    if name not in MODELS:
        raise ConfigError("model", name, ", ".join(sorted(MODELS)))
    model = MODELS[name](spec=spec, num_classes=num_classes, image_size=image_size,
                         in_channels=in_channels, **kwargs)
    apply_layer_precision(model, spec)   # quant.layers: per-layer bits
    return model
