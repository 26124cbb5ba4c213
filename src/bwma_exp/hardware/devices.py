"""Crossbar technology presets: configs/device/<name>.yaml."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from bwma_exp.utils.errors import ConfigError

DEVICE_DIR = Path(str(resources.files("bwma_exp") / "configs" / "device"))
DEVICES = ("rram", "sram", "fefet")
_HINT = "device is the crossbar technology; for a CPU/GPU set trainer.accelerator"


def available_devices() -> tuple[str, ...]:
    """The shipped presets first, then any extra preset files users added."""
    extra = sorted(p.stem for p in DEVICE_DIR.glob("*.yaml") if p.stem not in DEVICES)
    return DEVICES + tuple(extra)


def load_device(name: str) -> dict:
    """The preset's parameters as a plain dict (with its ``name``)."""
    names = available_devices()
    if not isinstance(name, str) or name not in names:
        raise ConfigError("device", name, ", ".join(names), hint=_HINT)
    with open(DEVICE_DIR / f"{name}.yaml") as handle:
        return dict(yaml.safe_load(handle))
