"""From a composed Hydra config to the objects of one run: quant spec, data, model, hardware."""
from __future__ import annotations

from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch import nn

from ..cim.attach import attach_crossbars
from ..cim.config import run_crossbar
from ..hardware import HardwareConfig, estimate, layer_table, load_device
from ..hardware.activity import apply_activity, load_activity
from ..models.counter import count_ops as _count
from ..quant import QuantSpec
from ..quant.spec import FIXED_BITS
from .errors import ConfigError
from .validation import check_crossbar_size


def build_spec(cfg: DictConfig) -> QuantSpec:
    q = cfg.quant
    fixed = FIXED_BITS.get(q.method, {})   # bits a method has by construction (bwba, origin)
    w_bits = int(fixed.get("w_bits", cfg.w_bits))
    act_bits = int(fixed.get("act_bits", cfg.act_bits))
    # An empty DictConfig is falsy, so test for None rather than `or {}` (quant=fp has options: {}).
    raw = q.get("options")
    options = OmegaConf.to_container(raw, resolve=True) if raw is not None else {}
    raw_layers = q.get("layers")
    layers = OmegaConf.to_container(raw_layers, resolve=True) if raw_layers is not None else {}
    return QuantSpec(method=q.method, w_bits=w_bits, act_bits=act_bits,
                     fp_first=bool(q.get("fp_first", True)), fp_last=bool(q.get("fp_last", True)),
                     options=options, layers=layers)


def build_datamodule(cfg: DictConfig):
    return instantiate(cfg.dataset, _convert_="all")


def input_shape(datamodule) -> tuple[int, int, int]:
    return (datamodule.in_channels, datamodule.image_size, datamodule.image_size)


def build_model(cfg: DictConfig, spec: QuantSpec, datamodule) -> nn.Module:
    # Partial first: Hydra would turn the QuantSpec dataclass into a config if passed directly.
    builder = instantiate(cfg.model, _partial_=True, _convert_="all")
    return builder(spec=spec, num_classes=datamodule.num_classes,
                   image_size=datamodule.image_size, in_channels=datamodule.in_channels)


def hardware_targets(cfg: DictConfig) -> list[tuple[str, dict, int]]:
    """(device name, device parameters, crossbar size) for every target this run is costed on.

    The run's own ``device`` group (with any overrides) comes first; ``hardware.devices`` and
    ``hardware.crossbar_sizes`` add more targets without retraining."""

    own = OmegaConf.to_container(cfg.device, resolve=True)
    devices = list(cfg.hardware.get("devices") or [own["name"]])
    sizes = [check_crossbar_size("hardware.crossbar_sizes", s)
             for s in (cfg.hardware.get("crossbar_sizes") or [cfg.crossbar_size])]
    targets = []
    for name in devices:
        params = own if name == own["name"] else load_device(str(name))
        for size in sizes:
            targets.append((str(name), params, int(size)))
    return targets


def run_layers(cfg: DictConfig, model: nn.Module, shape: tuple[int, int, int],
               activity: dict | None = None) -> list:
    """The model's layer table with measured activity: ``activity`` (this run's own, from its
    test) or else ``hardware.activity``'s file; the documented defaults without either. A file
    from another model is one ConfigError naming hardware.activity (the tasks call this before
    any data loads)."""
    source = (cfg.get("hardware") or {}).get("activity")
    if activity is None and source:
        activity = load_activity(source)
    return apply_activity(layer_table(model, shape), activity, str(source or "this run's test"))


def estimate_hardware(cfg: DictConfig, model: nn.Module, shape: tuple[int, int, int],
                      layers: list | None = None, activity: dict | None = None
                      ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The run's own estimate and one per hardware target ("<device>/<size>"). ``layers``
    (the model's layer table, activity applied) may be passed in when the caller already
    traced the model; ``activity``: measured by this run (cim/activity.py)."""

    layers = layers if layers is not None else run_layers(cfg, model, shape, activity)
    if not layers:
        raise ConfigError("model", cfg.model.name, "a model with at least one conv or linear layer")
    hw_section = run_crossbar(cfg).hardware   # hardware.mapping as the tiled forward maps it
    results = {}
    for name, params, size in hardware_targets(cfg):
        hw = HardwareConfig.from_dicts(params, hw_section, size, int(cfg.adc_bits))
        results[f"{name}/{size}"] = estimate(layers, hw)
    own_key = f"{cfg.device.name}/{int(cfg.crossbar_size)}"
    own = results.get(own_key)
    if own is None:  # the run's own target was not in the lists: cost it too
        hw = HardwareConfig.from_dicts(OmegaConf.to_container(cfg.device, resolve=True),
                                       hw_section, int(cfg.crossbar_size), int(cfg.adc_bits))
        own = estimate(layers, hw)
    return own, results


def count_ops(model: nn.Module, shape: tuple[int, int, int]) -> dict[str, Any]:
    return _count(model, shape)


def run_identity(cfg: DictConfig, spec: QuantSpec) -> dict[str, Any]:
    """The fields that name a run in summary.json (and group it in reports)."""
    w_bits, act_bits = spec.effective_bits()
    return {"model": cfg.model.name, "dataset": _dataset_name(cfg), "quant": spec.method,
            "w_bits": w_bits, "act_bits": act_bits, "device": cfg.device.name,
            "crossbar_size": int(cfg.crossbar_size), "adc_bits": int(cfg.adc_bits),
            "seed": int(cfg.seed)}


def _dataset_name(cfg: DictConfig) -> str:
    target = str(cfg.dataset.get("_target_", ""))
    return target.rsplit(".", 1)[-1].removesuffix("DataModule").lower() or "unknown"


def attach_cim(cfg: DictConfig, model: nn.Module, shape: tuple[int, int, int],
               force: bool = False) -> int:
    """Compute every quantized layer on tiled crossbars when the run is tiled (``cim.tiled``,
    ``auto``: as its method declares; or ``force``, used by evaluation under device
    variation); mapped with the run's own device, crossbar_size and ``hardware.mapping``
    (resolved by ``run_crossbar``), as the estimator maps them. Returns the number of tiled
    layers."""

    chip = run_crossbar(cfg)
    if not (chip.tiled or force):
        return 0
    hw = HardwareConfig.from_dicts(OmegaConf.to_container(cfg.device, resolve=True),
                                   chip.hardware, int(cfg.crossbar_size), int(cfg.adc_bits))
    return attach_crossbars(model, chip.cim, hw, shape)
