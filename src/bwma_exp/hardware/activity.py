"""A run's measured activity (``activity.json``, written by every training run's test and by
eval.py) applied to the estimator's layer table: ``hardware.activity=<run folder or file>``
costs another device or crossbar size with the bits that run's network really produced.
Without it, every layer takes ``hardware.input_density`` and ``hardware.weight_on_fraction``."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from bwma_exp.hardware.spec import LayerSpec
from bwma_exp.utils.errors import ConfigError

ACTIVITY_FILE = "activity.json"
KEY = "hardware.activity"


def activity_path(value: str | Path) -> Path:
    """The activity file of a run folder (or the file itself); one ConfigError if none."""
    path = Path(value).expanduser()
    if path.is_dir():
        path = path / ACTIVITY_FILE
    if not path.is_file():
        raise ConfigError(KEY, str(value), f"a run folder holding {ACTIVITY_FILE} (written by "
                          "its test or by eval.py) or that file, or null for the defaults")
    return path


def load_activity(value: str | Path) -> dict:
    path = activity_path(value)
    try:
        data = json.loads(path.read_text())
        layers = data["layers"]
        if not isinstance(layers, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise ConfigError(KEY, str(value), f"an {ACTIVITY_FILE} with a 'layers' table "
                          f"({path} is not one)") from None
    return data


def apply_activity(layers: list[LayerSpec], activity: dict | None,
                   source: str = "") -> list[LayerSpec]:
    """The layer table with each measured layer's input density and on-cell share. The
    activity must come from the same network: every layer it names is in the table, with the
    same input bits; a ConfigError otherwise."""
    if not activity:
        return layers
    measured = activity.get("layers", activity)
    by_name = {layer.name: layer for layer in layers}
    unknown = [name for name in measured if name not in by_name]
    if unknown or not measured:
        raise ConfigError(KEY, source or "<measured>", "the activity of a run of this model: "
                          f"its layers ({', '.join(list(by_name)[:3])}, ...)",
                          hint=f"It names {unknown[0] if unknown else 'no layer'}, which this "
                               "model does not have." if unknown else "")
    out = []
    for layer in layers:
        entry = measured.get(layer.name)
        if entry is None:
            out.append(layer)
            continue
        planes = entry.get("input_bit_density")
        if planes is not None and not layer.full_precision and len(planes) != layer.act_bits:
            raise ConfigError(KEY, source or "<measured>", f"activity measured at this run's "
                              f"input bits ({layer.name} reads {layer.act_bits}-bit inputs, "
                              f"the file has {len(planes)} bit planes)")
        out.append(replace(layer, input_density=entry.get("input_density"),
                           weight_on_fraction=entry.get("weight_on_fraction")))
    return out
