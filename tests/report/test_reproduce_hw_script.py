"""scripts/reproduce_hw.py --reuse draws every figure and table from sweep folders on disk."""

import json
import subprocess
import sys
from pathlib import Path

from report_fixtures import hardware, summary, write_job

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "reproduce_hw.py"
OUTPUTS = ("fig4_latency_breakdown.png", "fig5_area_breakdown.png", "fig6_energy.png",
           "normalized_cost.md", "normalized_cost.csv", "utilization.md", "utilization.csv")


def write_sweep(folder: Path, configs: list[dict]) -> None:
    folder.mkdir(parents=True)
    (folder / "multirun.yaml").write_text("hydra: {}\n")
    for num, config in enumerate(configs):
        hw = hardware(energy_pj=1e6 * config["adc_bits"], device=config["device"],
                      crossbar_size=config["crossbar_size"], adc_bits=config["adc_bits"])
        write_job(folder / str(num),
                  summary(task="estimate", test_acc=None, hw=hw, act_bits=4, **config))


def grid(**axes) -> list[dict]:
    configs = [{}]
    for key, values in axes.items():
        configs = [{**c, key: v} for c in configs for v in values]
    return configs


def test_reuse_draws_figures_and_tables_from_existing_sweeps(tmp_path: Path):
    models, devices = ["vgg8", "resnet20"], ["rram", "sram", "fefet"]
    write_sweep(tmp_path / "sweeps" / "crossbar_sizes",
                grid(model=models, device=devices, crossbar_size=[32, 64], adc_bits=[4]))
    write_sweep(tmp_path / "sweeps" / "adc_bits",
                grid(model=models, device=devices, crossbar_size=[32], adc_bits=[3, 4, 5, 6]))
    done = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path), "--reuse"],
                          check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert all((tmp_path / name).is_file() for name in OUTPUTS)
    assert "| resnet20 | rram | 32 | 6 | 2.00 | 1.00 | 1.00 | 1.59 |" in done.stdout
    assert (tmp_path / "sweeps" / "adc_bits" / "report.md").is_file()


def test_a_failed_job_stops_the_script_with_its_error(tmp_path: Path):
    sweep = tmp_path / "sweeps" / "crossbar_sizes"
    write_sweep(sweep, grid(model=["vgg8"], device=["rram"], crossbar_size=[32], adc_bits=[4]))
    failed = summary(status="failed", error="crossbar_size must be positive", test_acc=None)
    (sweep / "0" / "summary.json").write_text(json.dumps(failed))
    done = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path), "--reuse"],
                          check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "failed crossbar_size must be positive" in done.stderr


class _Exited:
    """A sweep process that has already ended."""

    def poll(self) -> int:
        return 0


def test_progress_counts_the_configurations_done_of_all(tmp_path: Path, capsys):
    import importlib.util
    spec = importlib.util.spec_from_file_location("reproduce_hw", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    dirs = {name: tmp_path / name for name in script.SWEEPS}
    for num, status in enumerate(["finished", "failed", "running"]):
        job = dirs["crossbar_sizes"] / str(num)
        job.mkdir(parents=True)
        (job / "summary.json").write_text(json.dumps({"status": status}))
    script.watch_progress({name: _Exited() for name in dirs}, dirs, every_s=0)
    assert capsys.readouterr().out.splitlines() == [
        "configurations 2/72 done (crossbar_sizes 2/24, adc_bits 0/48)"]
