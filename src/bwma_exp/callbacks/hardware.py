"""Every training run is costed on the hardware: the estimate of the model it really trains."""
from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
from omegaconf import DictConfig

from ..cim.activity import ACTIVITY_FILE, ActivityMeter
from ..cim.counts import chip_counts
from ..utils.builders import estimate_hardware
from ..utils.progress import step_line
from ..utils.summary import RunSummary, atomic_write_json

HEADLINE = ("latency_ns", "energy_pj", "energy_dynamic_pj", "energy_leakage_pj", "area_um2",
            "tops_per_w", "utilization", "clock_period_ns")


def flat_hw_metrics(result: dict[str, Any], prefix: str) -> dict[str, float]:
    """``hw/latency_ns``-style scalars, breakdowns included (``hw/breakdown/energy/adc``)."""
    out = {f"{prefix}/{k}": float(result[k]) for k in HEADLINE if result.get(k) is not None}
    for group, parts in result.get("breakdown", {}).items():
        for name, value in parts.items():
            out[f"{prefix}/breakdown/{group}/{name}"] = float(value)
    return out


class HardwareEstimateCallback(pl.Callback):
    """Computes the estimate at fit start (no training cost) and logs it once logging is allowed."""

    def __init__(self, cfg: DictConfig, input_shape: tuple[int, int, int],
                 summary: RunSummary | None = None) -> None:
        self.cfg, self.input_shape, self.summary = cfg, input_shape, summary
        self.own: dict[str, Any] | None = None
        self.targets: dict[str, dict[str, Any]] = {}
        self._logged = False
        self._warned = False

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.own, self.targets = estimate_hardware(self.cfg, pl_module.net, self.input_shape)
        if self.summary is not None:
            self.summary.update(hw=self.own, hw_targets=self.targets)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._record_chip_counts(pl_module)

    def on_test_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._meter = ActivityMeter.for_run(pl_module.net, self.cfg).__enter__()

    def on_test_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """The test set's measured activity (activity.json in the run folder) re-costs the
        run: its ``hw`` and targets then use the bits this network really produced."""
        meter, self._meter = getattr(self, "_meter", None), None
        if meter is None:
            return
        meter.__exit__(None, None, None)
        activity = meter.result()
        if not activity or trainer.global_rank != 0:
            return
        if self.summary is not None:
            atomic_write_json(self.summary.path.parent / ACTIVITY_FILE,
                              {"model": self.cfg.model.name, "layers": activity})
        self.own, self.targets = estimate_hardware(self.cfg, pl_module.net, self.input_shape,
                                                   activity={"layers": activity})
        if self.summary is not None:
            self.summary.update(hw=self.own, hw_targets=self.targets, activity=ACTIVITY_FILE)
        metrics = self.metrics()
        for logger in trainer.loggers:
            experiment = getattr(logger, "experiment", None)
            if _is_wandb_run(experiment):    # the summary's hw/ figures: the measured ones
                experiment.summary.update(metrics)
                experiment.log({"hw/layers": _layer_table(self.own),
                                **_breakdown_charts(self.own)}, commit=False)

    def on_test_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._record_chip_counts(pl_module)

    def _record_chip_counts(self, pl_module: pl.LightningModule) -> None:
        """The tiled forward's own counts beside the estimate's (summary.json ``chip_counts``),
        from the last evaluation forward; a line names any layer where they differ."""
        if self.summary is None or self.own is None:
            return
        counts = chip_counts(pl_module.net, self.own)
        if not counts:
            return
        self.summary.update(chip_counts=counts)
        differ = [name for name, entry in counts.items() if not entry["agree"]]
        if differ and not self._warned:
            self._warned = True
            step_line(f"chip counts: the tiled forward and the estimate differ on {len(differ)} "
                      f"layer(s), first {differ[0]} (summary.json chip_counts)")

    def metrics(self) -> dict[str, float]:
        out = flat_hw_metrics(self.own, "hw") if self.own else {}
        for key, result in self.targets.items():
            out.update(flat_hw_metrics(result, f"hw/{key}"))
        return out

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._logged or self.own is None:
            return
        self._logged = True
        if trainer.global_step > 0:
            return  # a resumed run logged them when it started (its CSV rows and W&B run go on)
        metrics = self.metrics()
        for logger in trainer.loggers:
            logger.log_metrics(metrics, step=trainer.global_step)
            experiment = getattr(logger, "experiment", None)
            if _is_wandb_run(experiment):
                experiment.summary.update(metrics)
                experiment.log({"hw/layers": _layer_table(self.own),
                                **_breakdown_charts(self.own)}, commit=False)


def _is_wandb_run(obj: Any) -> bool:
    return obj is not None and type(obj).__module__.startswith("wandb") and hasattr(obj, "summary")


def _layer_table(result: dict[str, Any]):
    import wandb

    columns = ["name", "w_bits", "in_bits", "adc_bits", "rows", "cols", "subarrays", "utilization",
               "input_density", "weight_on_fraction", "latency_ns", "energy_pj"]
    return wandb.Table(columns=columns,
                       data=[[layer.get(c) for c in columns] for layer in result.get("layers", [])])


BREAKDOWN_UNITS = {"latency": "ns", "area": "µm²", "energy": "pJ"}


def _breakdown_charts(result: dict[str, Any]) -> dict[str, Any]:
    """``hw/breakdown_chart/<group>``: a bar chart per breakdown, which the run's W&B page
    shows as logged (no panel to set up, unlike the summary's ``hw/breakdown/*`` scalars)."""
    import wandb

    charts = {}
    for group, unit in BREAKDOWN_UNITS.items():
        parts = result.get("breakdown", {}).get(group)
        if not parts:
            continue
        table = wandb.Table(columns=["part", "value"],
                            data=[[name, float(value)] for name, value in parts.items()])
        charts[f"hw/breakdown_chart/{group}"] = wandb.plot.bar(
            table, "part", "value", title=f"{group} breakdown ({unit})")
    return charts
