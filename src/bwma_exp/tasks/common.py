"""Pieces shared by the tasks: run folder, identity, W&B grouping, final table."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from rich.console import Console
from rich.table import Table


def run_dir() -> Path:
    return Path(HydraConfig.get().runtime.output_dir)


def sweep_group() -> str | None:
    """W&B group of a multirun job: its sweep folder's name (one group per sweep)."""
    hc = HydraConfig.get()
    if hc.mode == RunMode.MULTIRUN:
        return Path(hc.sweep.dir).name
    return None


def overrides() -> list[str]:
    return list(HydraConfig.get().overrides.task)


def print_result_table(title: str, rows: list[tuple[str, Any]]) -> None:
    """A two-column table; a long value (the run folder) is never cut: in a terminal it folds
    onto the next line, in a log or pipe the table is as wide as its longest row."""
    table = Table(show_header=False)
    table.add_column("what", style="bold", no_wrap=True)
    table.add_column("value", justify="right", overflow="fold")
    cells = [(name, value if isinstance(value, str) else f"{value}") for name, value in rows]
    for name, value in cells:
        table.add_row(name, value)
    console = Console()
    if not console.is_terminal and cells:
        needed = (max(len(n) for n, _ in cells) + max(len(v) for _, v in cells) + 7)
        console = Console(width=max(console.width, needed, len(title)))
    console.print(f"[bold]{title}[/bold]")
    console.print(table)


def fmt_pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.2f} %"


def fmt_partial_sums(data: dict[str, Any]) -> list[tuple[str, str]]:
    """How the run computed its partial sums (``cim.config.RunCrossbar.summary``): ideal
    (untiled, or ``cim.adc=false``), or ADC bits and mapping of the tiled crossbars."""
    kind = data.get("partial_sums")
    if kind is None:
        return []
    if not data.get("cim_tiled"):
        return [("partial sums", "ideal (untiled layers, cim.tiled=false)")]
    mapping = f"hardware.mapping={data.get('mapping')}"
    if kind == "ideal":
        rows = [("partial sums", f"ideal ADC (cim.adc=false), tiled, {mapping}")]
    else:
        rows = [("partial sums", f"{data.get('adc_bits')}-bit ADC, tiled, {mapping}")]
    return rows + fmt_cells(data)


def fmt_cells(data: dict[str, Any]) -> list[tuple[str, str]]:
    """A tiled run's cells: their bits and how signed weights sit in them (cim/cells.py)."""
    coding = data.get("weight_coding")
    if coding is None:
        return []
    if coding == "differential":
        scheme = "differential (positive and negative columns)"
    elif data.get("reference_column"):
        scheme = "offset-coded, offset read by a reference column's ADC"
    else:
        scheme = "offset-coded, offset added in digital"
    return [("cells", f"{data.get('cell_bits', 1)}-bit, {scheme}")]


def fmt_hw(hw: dict[str, Any] | None) -> list[tuple[str, str]]:
    if not hw:
        return []
    return [("latency / image", f"{hw['latency_ns'] / 1e3:,.1f} µs"),
            ("energy / image", f"{hw['energy_pj'] / 1e6:,.3f} µJ"),
            ("chip area", f"{hw['area_um2'] / 1e6:,.2f} mm²"),
            ("TOPS/W", f"{hw['tops_per_w']:.2f}"),
            ("crossbar utilization", fmt_pct(hw["utilization"]))]
