"""Synthetic hardware.json dicts and job folders shaped like the ones train.py/estimate.py write."""

from __future__ import annotations

import json
from pathlib import Path


def hardware(latency_ns=1000.0, energy_pj=2e6, area_um2=3e6, utilization=0.8,
             device="rram", crossbar_size=128, adc_bits=4):
    """A hardware.json dict whose breakdowns add up to its totals."""
    return {
        "latency_ns": latency_ns, "energy_pj": energy_pj,
        "energy_dynamic_pj": 0.9 * energy_pj, "energy_leakage_pj": 0.1 * energy_pj,
        "area_um2": area_um2, "tops_per_w": 10.0, "clock_period_ns": 5.0,
        "utilization": utilization,
        "breakdown": {
            "latency": {"adc": 0.1 * latency_ns, "accumulation": 0.2 * latency_ns,
                        "other": 0.7 * latency_ns},
            "latency_other": {"buffer": 0.5 * latency_ns, "interconnect": 0.1 * latency_ns,
                              "rest": 0.1 * latency_ns},
            "energy": {"array": 0.1 * energy_pj, "adc": 0.3 * energy_pj,
                       "accumulation": 0.2 * energy_pj, "buffer": 0.1 * energy_pj,
                       "interconnect": 0.1 * energy_pj, "leakage": 0.1 * energy_pj,
                       "other": 0.1 * energy_pj},
            "energy_neurosim": {"adc": 0.4 * energy_pj, "accumulation": 0.2 * energy_pj,
                                "other": 0.3 * energy_pj},
            "area": {"array": 0.05 * area_um2, "adc": 0.25 * area_um2,
                     "accumulation": 0.2 * area_um2, "interconnect": 0.1 * area_um2,
                     "other": 0.4 * area_um2},
        },
        "layers": [{"name": "conv1", "rows": 27, "cols": 16, "subarrays": 1,
                    "utilization": utilization, "latency_ns": latency_ns,
                    "energy_pj": energy_pj}],
        "config": {"device": device, "crossbar_size": crossbar_size, "adc_bits": adc_bits},
    }


def summary(status="finished", error=None, seed=0, test_acc=0.9, hw=None, overrides=(),
            **config):
    base = {"task": "train", "model": "resnet20", "dataset": "digits", "quant": "bwma",
            "w_bits": 1, "act_bits": 4, "device": "rram", "crossbar_size": 128,
            "adc_bits": 4, "params": 269722}
    base.update(config)
    return {
        "status": status, "error": error, **base, "seed": seed,
        "best_val_acc": test_acc, "test_acc": test_acc, "hw": hw,
        "run_dir": "", "overrides": [*overrides, f"seed={seed}"],
        "started_at": "2025-01-01T00:00:00", "finished_at": None,
    }


def write_job(folder: Path, summary_dict=None, hw=None, hydra_overrides=None) -> Path:
    """A job folder: .hydra/ always, summary.json and hardware.json when given."""
    (folder / ".hydra").mkdir(parents=True)
    if hydra_overrides is not None:
        lines = "".join(f"- {o}\n" for o in hydra_overrides)
        (folder / ".hydra" / "overrides.yaml").write_text(lines)
    if summary_dict is not None:
        (folder / "summary.json").write_text(json.dumps(summary_dict))
    if hw is not None:
        (folder / "hardware.json").write_text(json.dumps(hw))
    return folder
