"""Write the run report: raw CSV, aggregated CSV, Markdown and the accuracy/energy figure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .acc_energy_plot import plot_acc_vs_energy
from .aggregate import aggregate, has_problem
from .tables import markdown_line, markdown_table, write_aggregated_csv, write_rows_csv

REPORT_FILES = {
    "csv": "report.csv",
    "aggregated_csv": "report_aggregated.csv",
    "markdown": "report.md",
    "figure": "acc_vs_energy.png",
}


def write_report(rows: list[dict[str, Any]], out_dir: str | Path) -> dict[str, Path | None]:
    """Write the four report files into `out_dir` (created if needed).

    Returns their paths by kind; "figure" is None when no configuration has both a test
    accuracy and an energy estimate (a hardware-only sweep), and report.md says so.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path | None] = {kind: out / name for kind, name in REPORT_FILES.items()}
    aggregated = aggregate(rows)
    write_rows_csv(rows, paths["csv"])
    write_aggregated_csv(aggregated, paths["aggregated_csv"])
    if not plot_acc_vs_energy(aggregated, paths["figure"]):
        paths["figure"] = None
    paths["markdown"].write_text(report_markdown(rows, aggregated, paths["figure"]))
    return paths


def report_markdown(rows: list[dict], aggregated: list[dict], figure: Path | None) -> str:
    finished = sum(row["status"] == "finished" for row in rows)
    parts = [
        "# Run report",
        "",
        (f"{len(rows)} jobs, {finished} finished, {len(aggregated)} configurations. "
         "Accuracy is the test accuracy, mean ± sample std over the finished seeds; "
         "latency, area and energy are per image, from the CIM estimator."),
        "",
        markdown_table(aggregated),
        "",
    ]
    problems = [row for row in rows if has_problem(row)]
    if problems:
        parts += ["## Failed or incomplete jobs", "",
                  markdown_line(["job folder", "status", "error"]),
                  markdown_line(["---"] * 3)]
        parts += [markdown_line([row["job_dir"], row["status"], row["error"] or ""])
                  for row in problems]
        parts.append("")
    if figure is not None:
        parts += [f"![accuracy versus energy]({figure.name})", ""]
    else:
        parts += [("No figure: no configuration has both a test accuracy and an energy "
                   "estimate."), ""]
    return "\n".join(parts)
