"""A readable rich rendering of an ``estimate`` result: totals, then each breakdown with
its shares, then the per-layer table."""
from __future__ import annotations

from rich.console import Group
from rich.table import Table


def _fmt(value: float) -> str:
    return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"


def _breakdown(title: str, parts: dict[str, float], unit: str) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column("part")
    table.add_column(unit, justify="right")
    table.add_column("share", justify="right")
    total = sum(parts.values())
    for key, value in parts.items():
        share = 100 * value / total if total else 0.0
        table.add_row(key, _fmt(value), f"{share:5.1f} %")
    table.add_row("[bold]total", f"[bold]{_fmt(total)}", "")
    return table


def render_report(result: dict) -> Group:
    cfg = result["config"]
    totals = Table(title=(f"CIM estimate: {cfg['device']}, {cfg['crossbar_size']}x"
                          f"{cfg['crossbar_size']} subarrays, {cfg['adc_bits']}-bit "
                          f"{cfg['adc_type']} ADC, {cfg['mode']}"),
                   title_justify="left", show_header=False, show_edge=False)
    totals.add_column("metric")
    totals.add_column("value", justify="right")
    rows = [
        ("latency per image", f"{result['latency_ns'] / 1e3:,.2f} µs"),
        ("energy per image", (f"{result['energy_pj'] / 1e6:,.3f} µJ "
                             f"(dynamic {result['energy_dynamic_pj'] / 1e6:,.3f}, "
                             f"leakage {result['energy_leakage_pj'] / 1e6:,.3f})")),
        ("chip area", f"{result['area_um2'] / 1e6:,.3f} mm²"),
        ("TOPS/W (÷ ζ=1.22)", f"{result['tops_per_w']:,.2f}"),
        ("utilization (unique weights / cells)", f"{100 * result['utilization']:.1f} %"),
        ("clock period", f"{result['clock_period_ns']:.3f} ns"),
        ("subarrays / tiles", f"{result['subarrays']:,} / {result['tiles']:,}"),
    ]
    if "period_ns" in result:
        rows.insert(1, ("pipeline period per image", f"{result['period_ns'] / 1e3:,.2f} µs"))
    for name, value in rows:
        totals.add_row(name, value)
    b = result["breakdown"]
    layers = Table(title="layers", title_justify="left", show_edge=False)
    for col in ("name", "mapping", "W/A/ADC", "rows x cols", "subarrays", "util", "input 1s",
                "on cells", "latency µs", "energy nJ"):
        # layer names are what quant.layers patterns match: never shortened
        width = max((len(r["name"]) for r in result["layers"]), default=4) if col == "name" else None
        layers.add_column(col, justify="left" if col in ("name", "mapping") else "right",
                          min_width=width, no_wrap=col == "name")
    for row in result["layers"]:
        bits = f"{row['w_bits']}/{row['in_bits']}/{row.get('adc_bits') or '-'}"
        layers.add_row(row["name"], row["mapping"], bits, f"{row['rows']}x{row['cols']}",
                       str(row["subarrays"]), f"{100 * row['utilization']:.0f} %",
                       _share(row.get("input_density")), _share(row.get("weight_on_fraction")),
                       f"{row['latency_ns'] / 1e3:,.2f}", f"{row['energy_pj'] / 1e3:,.1f}")
    return Group(totals, _breakdown("latency", b["latency"], "ns"),
                 _breakdown("latency: other", b["latency_other"], "ns"),
                 _breakdown("energy", b["energy"], "pJ"),
                 _breakdown("energy as NeuroSim books it (dynamic)", b["energy_neurosim"], "pJ"),
                 _breakdown("area", b["area"], "µm²"), layers)


def _share(value: float | None) -> str:
    """A density as the per-layer table shows it ('-' for a digital layer)."""
    return "-" if value is None else f"{100 * value:.1f} %"
