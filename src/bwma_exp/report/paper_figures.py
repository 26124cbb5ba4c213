"""The paper's hardware figures (Figs. 4-6) drawn from estimator results.

Every function takes job rows as `collect_runs` returns them (keys model, device,
crossbar_size, adc_bits and `hw`, the job's hardware.json dict) and writes one PNG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt
import numpy as np

from .units import PJ_PER_UJ, UM2_PER_MM2, latency_unit

LATENCY_PARTS = ("adc", "accumulation", "other")
AREA_PARTS = ("array", "adc", "accumulation", "interconnect", "other")
PART_LABELS = {"adc": "ADC", "accumulation": "accumulation", "other": "other peripherals",
               "array": "CIM array", "interconnect": "interconnect"}
DEVICE_ORDER = ("rram", "sram", "fefet")
DEVICE_NAMES = {"rram": "RRAM", "sram": "SRAM", "fefet": "FeFET"}


def device_name(device: str) -> str:
    return DEVICE_NAMES.get(device, device)


def hardware_grid(rows: list[dict[str, Any]], device: str | None = None):
    """(models, crossbar sizes, {(model, size): hw}) of the rows with a hardware estimate.

    Models keep their first-seen order, sizes ascend. Two rows for one cell (e.g. two ADC
    resolutions) would make the figure ambiguous, so they are refused.
    """
    grid: dict[tuple[str, int], dict] = {}
    for row in rows:
        if row.get("hw") is None or (device is not None and row.get("device") != device):
            continue
        cell = (row["model"], row["crossbar_size"])
        if cell in grid:
            raise ValueError(f"two hardware results for model={cell[0]} "
                             f"crossbar_size={cell[1]} device={row.get('device')}; "
                             "pass rows of one ADC resolution and one device")
        grid[cell] = row["hw"]
    if not grid:
        raise ValueError(f"no hardware results for device={device}")
    models = list(dict.fromkeys(model for model, _ in grid))
    sizes = sorted({size for _, size in grid})
    return models, sizes, grid


def shared_settings(rows: list[dict[str, Any]]) -> str:
    """What all bars have in common, for the title: '4-bit activations, 4-bit ADC'."""
    parts = []
    for key, what in (("act_bits", "activations"), ("adc_bits", "ADC")):
        values = {row.get(key) for row in rows if row.get("hw") is not None}
        if len(values) == 1 and None not in values:
            parts.append(f"{values.pop()}-bit {what}")
    return ", ".join(parts)


def titled(title: str, rows: list[dict[str, Any]]) -> str:
    settings = shared_settings(rows)
    return f"{title}\n({settings})" if settings else title


def size_label(size: int) -> str:
    return f"{size}×{size}"


def stacked_breakdown(rows, path: Path, *, device: str, kind: str, parts: tuple[str, ...],
                      scale: float, ylabel: str, title: str, annotate) -> None:
    """Stacked bars of hw['breakdown'][kind][part] per crossbar size, one panel per model."""
    models, sizes, grid = hardware_grid(rows, device)
    fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models) + 1.6, 4.2),
                             layout="constrained", squeeze=False)
    colors = plt.get_cmap("tab10").colors
    for ax, model in zip(axes[0], models):
        present = [s for s in sizes if (model, s) in grid]
        x = np.arange(len(present))
        bottom = np.zeros(len(present))
        for part, color in zip(parts, colors):
            heights = np.array([grid[model, s]["breakdown"][kind][part] / scale for s in present])
            ax.bar(x, heights, 0.6, bottom=bottom, label=PART_LABELS[part], color=color)
            bottom += heights
        for xi, top, s in zip(x, bottom, present):
            ax.annotate(annotate(grid[model, s]), (xi, top), ha="center", va="bottom",
                        fontsize=8, xytext=(0, 2), textcoords="offset points")
        ax.set_xticks(x, [size_label(s) for s in present])
        ax.set_xlabel("crossbar size")
        ax.set_ylabel(ylabel)
        ax.set_title(model)
        ax.margins(y=0.12)
    # One legend beside the panels, where it never hides a bar.
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="outside right upper", fontsize=8)
    fig.suptitle(titled(f"{title} on {device_name(device)} crossbars",
                        [r for r in rows if r.get("device") == device]))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_latency_breakdown(rows, path: Path, device: str = "rram") -> None:
    """Fig. 4: latency per image split into ADC / accumulation / other peripherals."""
    _, _, grid = hardware_grid(rows, device)
    scale, unit = latency_unit([hw["latency_ns"] for hw in grid.values()])
    stacked_breakdown(
        rows, path, device=device, kind="latency", parts=LATENCY_PARTS, scale=scale,
        ylabel=f"latency per image ({unit})", title="Latency by component",
        annotate=lambda hw: f"{hw['latency_ns'] / scale:.3g} {unit}",
    )


def plot_area_breakdown(rows, path: Path, device: str = "rram") -> None:
    """Fig. 5: chip area split into array / ADC / accumulation / interconnect / other;
    each bar is labelled with the array's share, the paper's 1-15 % claim."""
    stacked_breakdown(
        rows, path, device=device, kind="area", parts=AREA_PARTS, scale=UM2_PER_MM2,
        ylabel="chip area (mm²)", title="Area by component",
        annotate=lambda hw: f"array {100 * hw['breakdown']['area']['array'] / hw['area_um2']:.1f} %",
    )


def plot_energy(rows, path: Path) -> None:
    """Fig. 6: energy per image, bars grouped by crossbar size, one bar per device."""
    devices = sorted({r["device"] for r in rows if r.get("hw")},
                     key=lambda d: (DEVICE_ORDER.index(d) if d in DEVICE_ORDER else 99, d))
    grids = {device: hardware_grid(rows, device) for device in devices}
    models = list(dict.fromkeys(m for d in devices for m in grids[d][0]))
    sizes = sorted({s for d in devices for s in grids[d][1]})
    fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models) + 1.6, 4.2),
                             layout="constrained", squeeze=False)
    width = 0.8 / len(devices)
    for ax, model in zip(axes[0], models):
        x = np.arange(len(sizes))
        for i, device in enumerate(devices):
            grid = grids[device][2]
            energy = [grid[model, s]["energy_pj"] / PJ_PER_UJ if (model, s) in grid else np.nan
                      for s in sizes]
            ax.bar(x + (i - (len(devices) - 1) / 2) * width, energy, width, label=device_name(device))
        ax.set_xticks(x, [size_label(s) for s in sizes])
        ax.set_xlabel("crossbar size")
        ax.set_ylabel("energy per image (µJ)")
        ax.set_title(model)
    fig.legend(*axes[0][0].get_legend_handles_labels(), title="device",
               loc="outside right upper", fontsize=8)
    fig.suptitle(titled("Energy per image by device and crossbar size", rows))
    fig.savefig(path, dpi=120)
    plt.close(fig)
