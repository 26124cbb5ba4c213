"""CSV and Markdown renderings of job rows and aggregated rows."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from .aggregate import GROUP_KEYS
from .collect import ROW_COLUMNS
from .units import ns_to_us, pj_to_uj, readable, um2_to_mm2

AGGREGATED_CSV_COLUMNS = (
    *GROUP_KEYS, "seeds", "n_jobs", "n_acc", "acc_mean_pct", "acc_std_pct",
    "latency_us", "area_mm2", "energy_uj", "status", "errors",
)
MARKDOWN_HEADER = (
    "method", "model", "dataset", "w_bits", "act_bits", "device", "crossbar", "adc_bits",
    "seeds (n)", "accuracy (%)", "latency (µs)", "area (mm²)", "energy (µJ)", "status",
)


def write_rows_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """The raw per-job table, in the estimator's units (ns, pJ, µm²) and accuracy as fractions."""
    write_csv(path, ROW_COLUMNS, ([row.get(col) for col in ROW_COLUMNS] for row in rows))


def write_aggregated_csv(aggregated: list[dict[str, Any]], path: Path) -> None:
    write_csv(path, AGGREGATED_CSV_COLUMNS, (aggregated_csv_cells(row) for row in aggregated))


def aggregated_csv_cells(row: dict[str, Any]) -> list[Any]:
    return [
        *(row[key] for key in GROUP_KEYS),
        " ".join(map(str, row["seeds"])),
        row["n_jobs"],
        row["n_acc"],
        percent(row["acc_mean"]),
        percent(row["acc_std"]),
        ns_to_us(row["latency_ns"]),
        um2_to_mm2(row["area_um2"]),
        pj_to_uj(row["energy_pj"]),
        row["status"],
        "; ".join(row["errors"]),
    ]


def write_csv(path: Path, header: tuple[str, ...], records) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for cells in records:
            writer.writerow(["" if cell is None else cell for cell in cells])


def markdown_table(aggregated: list[dict[str, Any]]) -> str:
    """The aggregated rows as a Markdown table; a `variant` column appears only when used."""
    with_variant = any(row.get("variant") for row in aggregated)
    header = list(MARKDOWN_HEADER)
    if with_variant:
        header.insert(8, "variant")
    lines = [markdown_line(header), markdown_line(["---"] * len(header))]
    for row in aggregated:
        cells = markdown_cells(row)
        if with_variant:
            cells.insert(8, row.get("variant") or "")
        lines.append(markdown_line(cells))
    return "\n".join(lines)


def markdown_cells(row: dict[str, Any]) -> list[str]:
    seeds = ", ".join(map(str, row["seeds"])) or "—"
    status = row["status"]
    if row["errors"]:
        status += ": " + "; ".join(row["errors"])
    return [
        *(text(row[key]) for key in ("quant", "model", "dataset", "w_bits", "act_bits",
                                     "device", "crossbar_size", "adc_bits")),
        f"{seeds} ({row['n_jobs']})",
        accuracy_text(row["acc_mean"], row["acc_std"]),
        readable(ns_to_us(row["latency_ns"])),
        readable(um2_to_mm2(row["area_um2"])),
        readable(pj_to_uj(row["energy_pj"])),
        status,
    ]


def accuracy_text(mean: float | None, std: float | None) -> str:
    if mean is None:
        return "—"
    if std is None:
        return f"{100 * mean:.2f}"
    return f"{100 * mean:.2f} ± {100 * std:.2f}"


def percent(fraction: float | None) -> float | None:
    return None if fraction is None else 100 * fraction


def text(value: Any) -> str:
    return "—" if value is None else str(value)


def markdown_line(cells: list[str]) -> str:
    # A pipe or newline inside an error message would break the table row.
    safe = (str(c).replace("|", "\\|").replace("\n", " ") for c in cells)
    return "| " + " | ".join(safe) + " |"
