"""The paper's hardware tables: cost relative to a 3-bit ADC, and unused crossbar cells.

Rows are job rows as `collect_runs` returns them (model, device, crossbar_size, adc_bits, hw).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .aggregate import sort_key
from .tables import markdown_line, write_csv

BASELINE_ADC_BITS = 3

# The paper's normalized-cost table (4/5/6-bit relative to 3-bit converters). It is printed
# under a garbled caption; reading it as total energy of SRAM and RRAM is an inference that
# NeuroSim V1.3 supports (reference/hardware_model.md). Shown beside our numbers for
# comparison only: no computation reads it.
PAPER_NORMALIZED_ENERGY = {
    "sram": {3: 1.00, 4: 1.16, 5: 1.32, 6: 1.48},
    "rram": {3: 1.00, 4: 1.19, 5: 1.39, 6: 1.59},
}
# The paper's unused-cell range, smallest to largest crossbar (its sizes are not stated).
PAPER_UNUSED_CELLS = {"vgg8": (6.5, 30.4), "resnet20": (10.7, 39.1)}

NORMALIZED_COLUMNS = ("model", "device", "crossbar_size", "adc_bits",
                      "energy_ratio", "latency_ratio", "area_ratio", "paper_energy_ratio")
UTILIZATION_COLUMNS = ("model", "crossbar_size", "utilization_pct", "unused_cells_pct")


def normalized_cost(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Total energy, latency and area of every ADC resolution over the 3-bit one of the same
    model, device and crossbar size."""
    groups: dict[tuple, dict[int, dict]] = {}
    for row in rows:
        if row.get("hw") is not None:
            key = (row["model"], row["device"], row["crossbar_size"])
            groups.setdefault(key, {})[row["adc_bits"]] = row["hw"]
    table = []
    for (model, device, size), by_bits in groups.items():
        if BASELINE_ADC_BITS not in by_bits:
            raise ValueError(f"normalized cost needs an adc_bits={BASELINE_ADC_BITS} run for "
                             f"model={model} device={device} crossbar_size={size}")
        base = by_bits[BASELINE_ADC_BITS]
        for bits in sorted(by_bits):
            hw = by_bits[bits]
            table.append({
                "model": model, "device": device, "crossbar_size": size, "adc_bits": bits,
                "energy_ratio": hw["energy_pj"] / base["energy_pj"],
                "latency_ratio": hw["latency_ns"] / base["latency_ns"],
                "area_ratio": hw["area_um2"] / base["area_um2"],
                "paper_energy_ratio": PAPER_NORMALIZED_ENERGY.get(device, {}).get(bits),
            })
    return sorted(table, key=lambda r: tuple(sort_key(r[k]) for k in NORMALIZED_COLUMNS[:4]))


def unused_cells(rows: list[dict[str, Any]], device: str = "rram") -> list[dict[str, Any]]:
    """Crossbar utilization and unused cells (%) per model and crossbar size on one device
    (the mapping, hence the utilization, does not depend on the device)."""
    table = {}
    for row in rows:
        if row.get("hw") is not None and row["device"] == device:
            used = 100 * row["hw"]["utilization"]
            table[row["model"], row["crossbar_size"]] = {
                "model": row["model"], "crossbar_size": row["crossbar_size"],
                "utilization_pct": used, "unused_cells_pct": 100 - used,
            }
    return [table[key] for key in sorted(table, key=lambda k: (sort_key(k[0]), sort_key(k[1])))]


def write_normalized_cost(rows: list[dict[str, Any]], out_dir: Path) -> list[dict[str, Any]]:
    """normalized_cost.csv and normalized_cost.md in `out_dir`; returns the table."""
    table = normalized_cost(rows)
    write_csv(out_dir / "normalized_cost.csv", NORMALIZED_COLUMNS,
              ([r[c] for c in NORMALIZED_COLUMNS] for r in table))
    lines = [
        "# Hardware cost relative to a 3-bit ADC",
        "",
        ("Total energy, latency and area per image, each divided by the same model, device "
         "and crossbar size with a 3-bit ADC (4-bit activations)."),
        "",
        markdown_line(["model", "device", "crossbar", "ADC bits", "energy ×", "latency ×",
                       "area ×", "paper (energy ×)"]),
        markdown_line(["---"] * 8),
    ]
    for r in table:
        paper = r["paper_energy_ratio"]
        lines.append(markdown_line([
            r["model"], r["device"], f"{r['crossbar_size']}", f"{r['adc_bits']}",
            f"{r['energy_ratio']:.2f}", f"{r['latency_ratio']:.2f}", f"{r['area_ratio']:.2f}",
            "—" if paper is None else f"{paper:.2f}",
        ]))
    lines += [
        "",
        ("**paper** column: the paper's normalized-cost table (SRAM 1.16/1.32/1.48, RRAM "
         "1.19/1.39/1.59 at 4/5/6 bits; none for FeFET). Its caption is garbled; reading it as "
         "total energy is an inference. Reference targets only: no number above is computed "
         "from it."),
        "",
    ]
    (out_dir / "normalized_cost.md").write_text("\n".join(lines))
    return table


def write_utilization(rows: list[dict[str, Any]], out_dir: Path,
                      device: str = "rram") -> list[dict[str, Any]]:
    """utilization.csv and utilization.md in `out_dir`; returns the table."""
    table = unused_cells(rows, device)
    write_csv(out_dir / "utilization.csv", UTILIZATION_COLUMNS,
              ([r[c] for c in UTILIZATION_COLUMNS] for r in table))
    lines = [
        "# Unused crossbar cells",
        "",
        (f"Share of the allocated {device.upper()} crossbar cells that hold no weight, "
         "per model and crossbar size."),
        "",
        markdown_line(["model", "crossbar", "utilization (%)", "unused cells (%)"]),
        markdown_line(["---"] * 4),
    ]
    lines += [markdown_line([r["model"], f"{r['crossbar_size']}×{r['crossbar_size']}",
                             f"{r['utilization_pct']:.1f}", f"{r['unused_cells_pct']:.1f}"])
              for r in table]
    lines += ["", "**paper** (reference only, crossbar sizes not stated): unused cells grow "
              "with crossbar size, " + "; ".join(
                  f"{model} {low} % → {high} %"
                  for model, (low, high) in PAPER_UNUSED_CELLS.items()) + ".", ""]
    (out_dir / "utilization.md").write_text("\n".join(lines))
    return table
