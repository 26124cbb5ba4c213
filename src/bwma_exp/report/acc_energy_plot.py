"""Accuracy versus energy per image of every configuration, Pareto front highlighted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt

from .pareto import pareto_front
from .units import pj_to_uj


def plottable(aggregated: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Configurations with both a test accuracy and an energy estimate."""
    return [r for r in aggregated if r["acc_mean"] is not None and r["energy_pj"] is not None]


def point_label(row: dict[str, Any]) -> str:
    return (f"{row['quant']} {row['model']} W{row['w_bits']}A{row['act_bits']} "
            f"{row['device']}/{row['crossbar_size']}")


def plot_acc_vs_energy(aggregated: list[dict[str, Any]], path: Path) -> bool:
    """Draw the figure to `path`; False (and no file) when no configuration has both values."""
    rows = plottable(aggregated)
    if not rows:
        return False
    energy = [pj_to_uj(r["energy_pj"]) for r in rows]
    accuracy = [100 * r["acc_mean"] for r in rows]
    spread = [100 * (r["acc_std"] or 0.0) for r in rows]
    front = pareto_front(list(zip(accuracy, energy)))

    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    ax.errorbar(energy, accuracy, yerr=spread, fmt="o", color="tab:gray", ecolor="lightgray",
                label="configuration (mean ± std over seeds)")
    ax.plot([energy[i] for i in front], [accuracy[i] for i in front], "o-", color="tab:red",
            drawstyle="steps-post", zorder=3, label="Pareto front (max accuracy, min energy)")
    middle = (min(energy) + max(energy)) / 2
    for i in front:  # labels point inwards so they stay inside the axes
        inward = "right" if energy[i] > middle else "left"
        ax.annotate(point_label(rows[i]), (energy[i], accuracy[i]), fontsize=7, ha=inward,
                    xytext=(-5 if inward == "right" else 5, 4), textcoords="offset points")
    ax.set_xlabel("energy per image (µJ)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Accuracy versus energy")
    ax.grid(alpha=0.3)
    ax.margins(x=0.15, y=0.1)
    ax.legend(fontsize=8, loc="best")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True
