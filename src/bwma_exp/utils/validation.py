"""The schemas of the run's own config groups (top-level keys, optimizer, scheduler, trainer),
checked before anything is built: a bad value ends the run with one line in about a second.

The other groups declare their schema where they are used: ``hardware.config.HardwareConfig``,
``cim.config.CIMConfig``, each method's options (``quant/<method>/__init__.py``), each model's
options and each datamodule's arguments. All are checked by ``schema.check``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Annotated, Literal, get_type_hints

from omegaconf import DictConfig, OmegaConf

from .errors import ConfigError
from .schema import Range, Rule, allowed, check, check_value, power_of_two

Bits = Annotated[int, Rule(lambda v: 1 <= v <= 16 or v == 32,
                           "an integer from 1 to 16 (32 means full precision)")]
AdcBits = Annotated[int, Range(1, 12)]
CrossbarSize = Annotated[int, power_of_two(minimum=2)]
ScheduleName = Literal["cosine", "linear", "constant"]
WeightDecayScope = Literal["all", "conv"]


def _gpu_visible_if_asked(value: str) -> bool:
    """gpu/cuda needs a CUDA GPU torch can see: refused now, not by Lightning's traceback
    after the data and model are built."""
    if value.lower() not in ("gpu", "cuda"):
        return True
    import torch

    return torch.cuda.is_available()


Accelerator = Annotated[str, Rule(_gpu_visible_if_asked,
                                  "cpu or auto: torch finds no CUDA GPU on this machine")]


@dataclass(frozen=True)
class RunKeys:
    """The top-level keys that sweeps vary (train.py and estimate.py)."""

    act_bits: Bits = 4
    """Activation bits of the quantized layers (32: real activations)."""
    w_bits: Bits = 1
    """Weight bits (each method's config sets its default: bwma 1, mwma 4, fp 32)."""
    adc_bits: AdcBits = 4
    """Resolution of the ADCs that read the crossbar columns (default: act_bits)."""
    crossbar_size: CrossbarSize = 128
    """Rows and columns of one subarray."""
    seed: Annotated[int, Range(0)] = 0
    """Seeds weights, data order and augmentation."""


@dataclass(frozen=True)
class TrainKeys:
    """Top-level keys of train.py beyond the swept ones."""

    label_smoothing: Annotated[float, Range(0, 1, hi_open=True)] = 0.0
    test: bool = True
    weight_decay_scope: WeightDecayScope = "all"
    """all: every parameter gets optimizer.weight_decay; conv: only the 4-D conv weights."""


@dataclass(frozen=True)
class Optimizer:
    """The arguments of configs/optimizer/*.yaml that torch would only reject after the data
    is loaded (or, for some, never); other arguments go to the optimizer unchecked."""

    lr: Annotated[float, Range(0, lo_open=True)] = 0.1
    weight_decay: Annotated[float, Range(0)] = 0.0
    momentum: Annotated[float, Range(0, 1)] = 0.0
    nesterov: bool = False


@dataclass(frozen=True)
class Scheduler:
    name: ScheduleName = "cosine"
    warmup_epochs: Annotated[int, Range(0)] = 0
    min_lr: Annotated[float, Range(0)] = 0.0


@dataclass(frozen=True)
class Trainer:
    """Lightning Trainer arguments the project sets; any other Trainer argument passes."""

    accelerator: Accelerator = "auto"
    """The compute device (cpu, gpu, mps, auto), not the crossbar ``device``."""
    max_epochs: Annotated[int, Range(1)] = 200
    """Epochs to train (Lightning's -1, "forever", is refused: a run must end)."""
    devices: Annotated[int, Range(1)] | str = 1
    log_every_n_steps: Annotated[int, Range(1)] = 10
    num_sanity_val_steps: Annotated[int, Range(-1)] = 2
    deterministic: bool = False
    gradient_clip_val: Annotated[float, Range(0, lo_open=True)] | None = None


@dataclass(frozen=True)
class EvalKeys:
    """Top-level keys of eval.py (the rest comes from the trained run)."""

    split: Literal["test", "val"] = "test"
    accelerator: Accelerator = "auto"
    batch_size: Annotated[int, Range(1)] | None = None
    """null: the training run's."""
    seed: Annotated[int, Range(0)] = 0
    adc_bits: AdcBits | None = None
    """A tiled run's partial sums re-read at this ADC resolution; null: the run's."""


@dataclass(frozen=True)
class CalibrateKeys:
    """Top-level keys of calibrate.py."""

    act_bits: Bits | None = None
    """null: the run's act_bits."""
    seed: Annotated[int, Range(0)] = 0
    test_batches: Annotated[int, Range(1)] | None = None
    """null: the whole test split; n: its first n batches (smoke runs)."""


def _section(cfg: DictConfig, key: str) -> dict | None:
    node = cfg.get(key)
    return OmegaConf.to_container(node, resolve=True) if node is not None else None


def check_hardware_devices(cfg: DictConfig) -> None:
    """``hardware.devices`` (extra crossbar technologies to cost), before the Trainer is built."""
    hardware = cfg.get("hardware")
    devices = hardware.get("devices") if hardware is not None else None
    if devices is None:
        return
    from ..hardware.devices import available_devices

    names = available_devices()
    values = list(devices) if OmegaConf.is_list(devices) or isinstance(devices, list) else None
    bad = [devices] if values is None else [d for d in values
                                            if not isinstance(d, str) or d not in names]
    if bad:
        shown = OmegaConf.to_container(devices) if OmegaConf.is_list(devices) else devices
        raise ConfigError("hardware.devices", shown, f"a list of {', '.join(names)}",
                          hint=f"{bad[0]!r} is not a crossbar technology (for a CPU/GPU set "
                               f"trainer.accelerator).")


def validate_common(cfg: DictConfig) -> None:
    """Keys shared by train.py and estimate.py, and train.py's own groups where present."""
    top = {k: cfg.get(k) for k in ("act_bits", "w_bits", "adc_bits", "crossbar_size", "seed")
           if cfg.get(k) is not None}
    check(RunKeys, top, "", extra="ignore")
    if _section(cfg, "hardware") is not None:   # light import: no torch, no data
        from bwma_exp.hardware.config import check_hardware_group
        check_hardware_group(_section(cfg, "hardware"))
    for key, schema in (("optimizer", Optimizer), ("scheduler", Scheduler),
                        ("trainer", Trainer)):
        section = _section(cfg, key)
        if section is not None:
            check(schema, section, key, extra="ignore")
    check_hardware_devices(cfg)
    if cfg.get("task_name") == "train":
        check(TrainKeys, {k: cfg.get(k) for k in ("label_smoothing", "test",
                                                  "weight_decay_scope") if k in cfg},
              "", extra="ignore")
    check_crossbar(cfg)


def check_crossbar(cfg: DictConfig) -> None:
    """The chip of the run, before any data is loaded: ``cim`` and ``hardware.mapping`` as the
    method resolves them (``cim.config.run_crossbar``), every hardware target (the device
    presets' ``max_cell_bits``, ``columns_per_adc`` against each crossbar size) and
    ``hardware.cell_bits`` against the run's weight bits. Last, as it imports torch (the
    method registry): the light checks above fail first."""
    if cfg.get("hardware") is None or cfg.get("device") is None or cfg.get("quant") is None:
        return
    from ..cim.config import run_crossbar
    from ..hardware.config import HardwareConfig
    from .builders import hardware_targets

    chip = run_crossbar(cfg)
    own = OmegaConf.to_container(cfg.device, resolve=True)
    targets = [(own, int(cfg.crossbar_size))] + [(params, size)
                                                  for _, params, size in hardware_targets(cfg)]
    configs = [HardwareConfig.from_dicts(params, chip.hardware, size, int(cfg.adc_bits))
               for params, size in targets]
    check_cell_bits(cfg, configs[0].cell_bits, configs[0].fp_bits, configs[0].fp_layers)


def check_cell_bits(cfg: DictConfig, cell_bits: int, fp_bits: int, fp_layers: str) -> None:
    """A weight of b bits takes ceil(b / cell_bits) cells: cells wider than the fewest weight
    bits on the crossbar (the run's w_bits, a ``quant.layers`` pattern's, ``hardware.fp_bits``
    where full-precision layers are costed) would hold a fraction of a weight."""
    if cell_bits <= 1:
        return
    from ..quant.spec import FIXED_BITS

    method = str(cfg.quant.method)
    weights: list[tuple[str, int]] = []
    if fp_layers == "costed" and (method == "fp" or cfg.quant.get("fp_first", True)
                                  or cfg.quant.get("fp_last", True)):
        weights.append((f"the full-precision layers' hardware.fp_bits={fp_bits}", fp_bits))
    if method != "fp":
        w_bits = int(FIXED_BITS.get(method, {}).get("w_bits", cfg.w_bits))
        weights.append((f"w_bits={w_bits} of quant={method}", w_bits))
        layers = _section(cfg.quant, "layers") or {}
        for pattern, values in layers.items():
            bits = values.get("w_bits") if isinstance(values, dict) else None
            if isinstance(bits, int) and not isinstance(bits, bool):
                weights.append((f"quant.layers.{pattern}.w_bits={bits}", bits))
    if not weights:
        return
    what, fewest = min(weights, key=lambda item: item[1])
    if cell_bits > fewest:
        allowed_bits = "1" if fewest == 1 else f"an integer from 1 to {fewest}"
        raise ConfigError("hardware.cell_bits", cell_bits,
                          f"{allowed_bits} (at most the fewest weight bits on the crossbar: "
                          f"{what})",
                          hint=f"A {fewest}-bit weight cannot take {cell_bits}-bit cells.")


def validate(cfg: DictConfig, config_name: str) -> None:
    """The checks of one entry point's config (train, estimate, eval, calibrate)."""
    if config_name in ("train", "estimate"):
        validate_common(cfg)
        return
    schema = {"eval": EvalKeys, "calibrate": CalibrateKeys}[config_name]
    keys = [f.name for f in dataclasses.fields(schema)]
    check(schema, {k: cfg.get(k) for k in keys if k in cfg}, "", extra="ignore")


# Where each dotted key's schema is declared (for errors raised before Hydra composes).
SCHEMAS = {"": (RunKeys, TrainKeys), "optimizer": (Optimizer,), "scheduler": (Scheduler,),
           "trainer": (Trainer,)}


def allowed_for(key: str) -> str | None:
    """What ``key`` accepts, in the schema's words; None for keys declared elsewhere."""
    prefix, _, name = key.rpartition(".")
    for schema in SCHEMAS.get(prefix, ()):
        fields = {f.name for f in dataclasses.fields(schema)}
        if name in fields:
            return allowed(get_type_hints(schema, include_extras=True)[name])
    return None


def check_crossbar_size(key: str, value) -> int:
    return check_value(key, CrossbarSize, value)
