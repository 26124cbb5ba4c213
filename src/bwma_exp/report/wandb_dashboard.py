"""The project's W&B workspace, built from code:
``python -m bwma_exp.report.wandb_dashboard --entity E --project P [--name NAME] [--dry-run]``.

Sections: accuracy vs the hardware totals (scatter plots), the latency / area / energy
breakdowns (bar charts over the summary's ``hw/breakdown/*``) and the training curves. Runs
are grouped by sweep (the W&B group this project sets per sweep), then by quantisation method,
so each sweep × method gets its own colour. ``--dry-run`` prints the workspace and saves
nothing (no login or network needed).
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

from ..hardware.area import BUCKETS as AREA_PARTS

DEFAULT_NAME = "bwma-exp: accuracy vs hardware"
MAX_RUNS = 100
METHOD = "quant.method"  # the run config key of the quantisation method
ACCURACY = "test/acc"
STEP = "trainer/global_step"  # Lightning's WandbLogger plots every metric against it
# (label, summary key, unit) of the scatter plots' x axes
HW_TOTALS = (("energy", "hw/energy_pj", "pJ"), ("latency", "hw/latency_ns", "ns"),
             ("area", "hw/area_um2", "µm²"))
# The parts of each breakdown as hardware/result.py assembles them; flat_hw_metrics in
# callbacks/hardware.py logs them as hw/breakdown/<group>/<part>.
BREAKDOWN_PARTS = {
    "latency": ("adc", "accumulation", "other"),
    "area": AREA_PARTS,
    "energy": ("array", "adc", "accumulation", "buffer", "interconnect", "other", "leakage"),
}
BREAKDOWN_UNITS = {label: unit for label, _, unit in HW_TOTALS}
# Lightning logs train/loss (on_step and on_epoch) under these two names.
CURVES = (("val/acc", ["val/acc"]), ("train/loss", ["train/loss_step", "train/loss_epoch"]))


def build_workspace(entity: str, project: str, name: str = DEFAULT_NAME):
    """The workspace object; building it needs no network."""
    import wandb_workspaces.reports.v2 as wr
    import wandb_workspaces.workspaces as ws

    scatter = [wr.ScatterPlot(title=f"{ACCURACY} vs {label} ({unit})", x=key, y=ACCURACY)
               for label, key, unit in HW_TOTALS]
    bars = [wr.BarPlot(title=f"{group} breakdown ({BREAKDOWN_UNITS[group]})",
                       metrics=[f"hw/breakdown/{group}/{part}" for part in parts],
                       orientation="v")
            for group, parts in BREAKDOWN_PARTS.items()]
    lines = [wr.LinePlot(title=title, x=STEP, y=keys) for title, keys in CURVES]
    return ws.Workspace(
        entity=entity, project=project, name=name,
        sections=[ws.Section(name="Accuracy vs hardware", panels=scatter, is_open=True),
                  ws.Section(name="Hardware breakdowns", panels=bars, is_open=True),
                  ws.Section(name="Training curves", panels=lines, is_open=True)],
        runset_settings=ws.RunsetSettings(groupby=[ws.Metric("Group"), ws.Config(METHOD)]),
        # W&B plots only 10 runs (or groups) by default: a sweep has more
        settings=ws.WorkspaceSettings(max_runs=MAX_RUNS),
    )


def panel_keys(panel: Any) -> list[str]:
    """The metric keys a panel plots (x axis first)."""
    if hasattr(panel, "metrics"):  # BarPlot
        return list(panel.metrics)
    y = panel.y if isinstance(panel.y, list) else [panel.y]
    return [str(panel.x), *map(str, y)]


def describe(workspace: Any) -> str:
    """Readable lines: the workspace, its grouping, then each section's panels and keys."""
    groupby = ", ".join(f"{type(g).__name__}({g.name})" for g in workspace.runset_settings.groupby)
    lines = [f"workspace {workspace.name!r} in {workspace.entity}/{workspace.project}",
             f"runs grouped by: {groupby}"]
    for section in workspace.sections:
        lines.append(f"section {section.name!r}")
        for panel in section.panels:
            lines.append(f"  {type(panel).__name__} {panel.title!r}: {', '.join(panel_keys(panel))}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bwma_exp.report.wandb_dashboard",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--entity", required=True, help="W&B entity (user or team)")
    parser.add_argument("--project", required=True, help="W&B project, e.g. bwma-exp")
    parser.add_argument("--name", default=DEFAULT_NAME, help="the saved view's name")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the workspace and its JSON spec, save nothing")
    args = parser.parse_args(argv)
    workspace = build_workspace(args.entity, args.project, args.name)
    print(describe(workspace))
    if args.dry_run:
        # _to_model() is the view save() would upload; the library has no public dump.
        print(workspace._to_model().spec.model_dump_json(by_alias=True, exclude_none=True,
                                                         indent=2))
        return 0
    try:
        workspace.save()
    except Exception as exc:  # no login, no network, unknown entity: one line, not a traceback
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"error: could not save the workspace to W&B ({first}); log in with `wandb login` "
              f"(or set WANDB_API_KEY) and check the network, or use --dry-run", file=sys.stderr)
        return 2
    print(workspace.url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
