"""`python estimate.py`: the hardware estimate of a model, no data and no training."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from rich.console import Console
from rich.table import Table

from ..cim.config import run_crossbar
from ..hardware.activity import apply_activity, load_activity
from ..utils.builders import (
    build_datamodule,
    build_model,
    build_spec,
    count_ops,
    estimate_hardware,
    input_shape,
    run_identity,
)
from ..utils.dataset_shapes import dataset_shape
from ..utils.summary import RunSummary, atomic_write_json
from ..utils.validation import validate_common
from .common import overrides, run_dir

HARDWARE_FILE = "hardware.json"


def estimate(cfg: DictConfig) -> dict[str, Any]:
    validate_common(cfg)
    out = run_dir()
    spec = build_spec(cfg)
    identity = run_identity(cfg, spec)
    net, shape, ops, layers = _model_for(*(OmegaConf.to_yaml(cfg[k], resolve=True)
                                   for k in ("model", "dataset", "quant")),
                                 spec.w_bits, spec.act_bits)
    source = cfg.hardware.get("activity")
    if source:   # another chip costed with that run's measured bits
        layers = apply_activity(layers, load_activity(source), str(source))
    own, targets = estimate_hardware(cfg, net, shape, layers)
    own = {**own, **{k: ops[k] for k in ("params", "bops", "flops", "ops")}}
    atomic_write_json(out / HARDWARE_FILE, own)
    summary = RunSummary(out, {"task": "estimate", **identity,
                               "mapping": run_crossbar(cfg).mapping, "activity": source,
                               "params": ops["params"], "ops": ops,
                               "hw": own, "hw_targets": targets, "overrides": overrides()})
    summary.finish()
    if HydraConfig.get().mode == RunMode.MULTIRUN:
        from ..utils.progress import done_of, jobs_done, multirun_position, step_line
        _, total = multirun_position()
        done = jobs_done(Path(HydraConfig.get().sweep.dir), at_least=1)
        step_line(f"[{done_of(min(done, total) if total else done, total)}] "
                  f"{_one_line(identity, own)}")
    else:
        from ..hardware import render_report
        console = Console()
        console.print(render_report(own))
        console.print(_ops_table(ops))
        console.print(f"wrote {out / HARDWARE_FILE}")
    return summary.data


@lru_cache(maxsize=16)
def _model_for(model_yaml: str, dataset_yaml: str, quant_yaml: str, w_bits: int, act_bits: int):
    """A multirun over devices and crossbar sizes builds and traces each model once per process."""
    cfg = OmegaConf.create({"model": OmegaConf.create(model_yaml),
                            "dataset": OmegaConf.create(dataset_yaml),
                            "quant": OmegaConf.create(quant_yaml),
                            "w_bits": w_bits, "act_bits": act_bits})
    spec = build_spec(cfg)
    # Known datasets give their shape from the config: no datamodule, no Lightning import.
    datamodule = dataset_shape(cfg.dataset) or build_datamodule(cfg)
    net = build_model(cfg, spec, datamodule)
    shape = input_shape(datamodule)
    from ..hardware import layer_table
    return net, shape, count_ops(net, shape), layer_table(net, shape)


def _one_line(identity: dict[str, Any], hw: dict[str, Any]) -> str:
    return (f"{identity['model']} {identity['device']} {identity['crossbar_size']}x"
            f"{identity['crossbar_size']} A{identity['act_bits']} ADC{identity['adc_bits']}: "
            f"{hw['latency_ns'] / 1e3:,.1f} µs, {hw['energy_pj'] / 1e6:,.3f} µJ, "
            f"{hw['area_um2'] / 1e6:,.2f} mm²")


def _ops_table(ops: dict[str, Any]) -> Table:
    table = Table(title="Model size and operations (OPs = BOPs/64 + FLOPs)", title_justify="left")
    for col in ("params", "BOPs", "FLOPs", "OPs"):
        table.add_column(col, justify="right")
    table.add_row(f"{ops['params']:,}", f"{ops['bops']:.3e}", f"{ops['flops']:.3e}",
                  f"{ops['ops']:.3e}")
    return table
