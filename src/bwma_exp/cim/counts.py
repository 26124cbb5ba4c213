"""What the tiled forward read, set beside what the estimator costs for the same run.

Each crossbar layer's ``Crossbar.counts`` (subarrays used, ADC conversions per image, cells
holding weights, input vectors) is counted by the forward itself; the estimator's per-layer
rows (``hardware.json``) count the same things from its own mapping. They must agree: where
they differ, one of them is wrong. The estimator counts NeuroSim's input vectors
((H − K + 1)/s)² unless ``hardware.input_vectors=exact``, so ADC reads are compared per input
vector too.
"""
from __future__ import annotations

from typing import Any

from torch import nn

from .attach import crossbar_layers

FIELDS = ("subarrays", "adc_reads", "weight_cells", "input_vectors")


def chip_counts(model: nn.Module, estimate: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per crossbar layer that ran a tiled forward: {"forward": ..., "estimate": ...,
    "agree": subarrays, cells and ADC reads per input vector equal}."""
    rows = {row["name"]: row for row in estimate.get("layers", [])}
    out = {}
    for name, layer in crossbar_layers(model):
        counts = getattr(layer.cim, "counts", None)
        if not counts or name not in rows:
            continue
        row = rows[name]
        costed = {key: row.get(key) for key in FIELDS}
        costed["input_vectors"] = row.get("input_vectors")
        out[name] = {"forward": dict(counts), "estimate": costed,
                     "agree": _agree(counts, costed)}
    return out


def _agree(forward: dict, costed: dict) -> bool:
    if any(forward[k] != costed[k] for k in ("subarrays", "weight_cells")):
        return False
    return forward["adc_reads"] * costed["input_vectors"] == \
        costed["adc_reads"] * forward["input_vectors"]
