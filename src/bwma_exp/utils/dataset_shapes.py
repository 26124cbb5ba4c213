"""Input shape and class count of a dataset config without building its datamodule.

estimate.py needs only these three numbers, and importing the datamodules means importing
Lightning (seconds of start-up per process). tests/test_dataset_shapes.py checks that every
dataset config gives the same numbers as its instantiated datamodule."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DatasetShape:
    in_channels: int
    image_size: int
    num_classes: int


# Fixed by the data itself, per datamodule class name.
FIXED = {"Cifar10DataModule": (3, 32, 10), "Cifar100DataModule": (3, 32, 100),
         "DigitsDataModule": (3, 32, 10)}
# Configurable: constructor keyword -> default (the datamodules' own defaults).
CONFIGURABLE = {"SyntheticDataModule": {"in_channels": 3, "image_size": 32, "num_classes": 10},
                "ImageNetDataModule": {"in_channels": 3, "image_size": 224, "num_classes": 1000}}


def dataset_shape(dataset_cfg: Mapping[str, Any]) -> DatasetShape | None:
    """The shape for a known datamodule target, None for any other (then instantiate it)."""
    name = str(dataset_cfg.get("_target_", "")).rsplit(".", 1)[-1]
    if name in FIXED:
        return DatasetShape(*FIXED[name])
    if name in CONFIGURABLE:
        values = {k: int(dataset_cfg.get(k, default)) for k, default in CONFIGURABLE[name].items()}
        return DatasetShape(**values)
    return None
