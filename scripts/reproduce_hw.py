"""Reproduce the paper's hardware study (Figs. 4-6, the normalized-cost table, unused cells).

    .venv/bin/python scripts/reproduce_hw.py [--out outputs/paper] [--reuse]

Runs two estimate.py multiruns side by side (one job folder per configuration, each with
hardware.json and summary.json), then draws the figures and tables from those files:
  crossbar_sizes: model=vgg8,resnet20 device=rram,sram,fefet crossbar_size=32,64,128,256,
                  4-bit activations (ADC at the project default) -> Figs. 4, 5, 6, unused cells
  adc_bits:       the same models and devices, crossbar_size=32,128, 4-bit activations,
                  adc_bits=3,4,5,6 -> cost relative to a 3-bit ADC
A sweep folder left by an earlier run is moved to <out>/sweeps/previous/, never overwritten.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from bwma_exp.report import ReportInputError, collect_runs, write_report
from bwma_exp.report.paper_figures import plot_area_breakdown, plot_energy, plot_latency_breakdown
from bwma_exp.report.paper_tables import write_normalized_cost, write_utilization
from bwma_exp.utils.progress import jobs_done, sweep_size

REPO = Path(__file__).resolve().parents[1]
MODELS_AND_DEVICES = ["model=vgg8,resnet20", "device=rram,sram,fefet", "act_bits=4"]
SWEEPS = {
    "crossbar_sizes": [*MODELS_AND_DEVICES, "crossbar_size=32,64,128,256"],
    # Two sizes show the ADC trend holds across crossbar sizes; 32x32 is NeuroSim's
    # calibration point (reference/hardware_model.md).
    "adc_bits": [*MODELS_AND_DEVICES, "crossbar_size=32,128", "adc_bits=3,4,5,6"],
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "outputs" / "paper",
                        help="figures and tables go here, sweeps under OUT/sweeps")
    parser.add_argument("--reuse", action="store_true",
                        help="draw from the sweep folders already there instead of rerunning")
    return parser.parse_args()


def move_aside(sweep_dir: Path) -> None:
    """Keep an earlier sweep: Hydra would write its job folders over the old ones."""
    if sweep_dir.exists():
        stamp = time.strftime("%Y-%m-%d_%H-%M-%S", time.localtime(sweep_dir.stat().st_mtime))
        target = sweep_dir.parent / "previous" / f"{sweep_dir.name}_{stamp}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(sweep_dir, target)
        print(f"moved the earlier {sweep_dir.name} sweep to {target}")


def run_sweeps(sweep_dirs: dict[str, Path]) -> None:
    """Both multiruns at once (one per core). A failing one shows its log tail; its jobs'
    own errors are listed when the sweep is read."""
    with ExitStack() as logs:
        running = {}
        for name, sweep_dir in sweep_dirs.items():
            move_aside(sweep_dir)
            sweep_dir.parent.mkdir(parents=True, exist_ok=True)
            log = logs.enter_context(open(sweep_dir.parent / f"{name}.log", "w"))
            command = [sys.executable, "estimate.py", "-m", *SWEEPS[name],
                       f"hydra.sweep.dir='{sweep_dir}'"]
            print("running", " ".join(command[1:]))
            running[name] = subprocess.Popen(command, cwd=REPO, stdout=log,
                                             stderr=subprocess.STDOUT)
        watch_progress(running, sweep_dirs)
        for name, process in running.items():
            if process.wait() != 0:
                log_path = sweep_dirs[name].parent / f"{name}.log"
                tail = log_path.read_text().strip().splitlines()[-15:]
                print(f"the {name} sweep exited with {process.returncode}; end of {log_path}:\n"
                      + "\n".join(tail), file=sys.stderr)


def watch_progress(running: dict[str, subprocess.Popen], sweep_dirs: dict[str, Path],
                   every_s: float = 1.0) -> None:
    """One line each time more configurations are done (finished or failed), until every
    sweep has exited: "configurations 17/72 done (crossbar_sizes 12/24, adc_bits 5/48)"."""
    totals = {name: sweep_size(SWEEPS[name]) or 0 for name in running}
    total = sum(totals.values())
    shown = -1
    while True:
        exited = all(process.poll() is not None for process in running.values())
        done = {name: jobs_done(sweep_dirs[name]) for name in running}
        if sum(done.values()) != shown:
            shown = sum(done.values())
            parts = ", ".join(f"{name} {done[name]}/{totals[name]}" for name in running)
            print(f"configurations {shown}/{total} done ({parts})", flush=True)
        if exited:
            return
        time.sleep(every_s)


def finished_rows(sweep_dir: Path) -> list[dict]:
    """The sweep's job rows; any job not finished stops the script, since a figure with a
    missing bar would look complete."""
    try:
        rows = collect_runs([sweep_dir])
    except ReportInputError as err:
        sys.exit(str(err))
    write_report(rows, sweep_dir)
    bad = [row for row in rows if row["status"] != "finished" or row["hw"] is None]
    if bad:
        lines = [f"  {row['job_dir']}: {row['status']} {row['error'] or ''}" for row in bad]
        sys.exit(f"{len(bad)} jobs of {sweep_dir} did not finish with a hardware estimate:\n"
                 + "\n".join(lines))
    return rows


def main() -> None:
    args = parse_args()
    out = args.out.resolve()
    sweep_dirs = {name: out / "sweeps" / name for name in SWEEPS}
    started = time.perf_counter()
    if not args.reuse:
        run_sweeps(sweep_dirs)
    sizes = finished_rows(sweep_dirs["crossbar_sizes"])
    adc = finished_rows(sweep_dirs["adc_bits"])

    plot_latency_breakdown(sizes, out / "fig4_latency_breakdown.png", device="rram")
    plot_area_breakdown(sizes, out / "fig5_area_breakdown.png", device="rram")
    plot_energy(sizes, out / "fig6_energy.png")
    write_normalized_cost(adc, out)
    write_utilization(sizes, out, device="rram")

    print((out / "normalized_cost.md").read_text())
    print((out / "utilization.md").read_text())
    written = ["fig4_latency_breakdown.png", "fig5_area_breakdown.png", "fig6_energy.png",
               "normalized_cost.md", "normalized_cost.csv", "utilization.md", "utilization.csv"]
    print(f"wrote {', '.join(written)} to {out} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
