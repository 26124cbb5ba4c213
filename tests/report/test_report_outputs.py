"""write_report files and the `python -m bwma_exp.report` command line."""

import csv
import subprocess
import sys
from pathlib import Path

from bwma_exp.report import collect_runs, write_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_report_files_hold_every_job_and_every_configuration(sweep: Path, tmp_path: Path):
    paths = write_report(collect_runs([sweep]), tmp_path / "out")
    raw = read_csv(paths["csv"])
    assert [r["status"] for r in raw] == [
        "finished", "finished", "failed", "running/incomplete", "missing", "finished"]
    assert (raw[1]["seed"], raw[1]["test_acc"], raw[1]["energy_pj"]) == ("1", "0.94", "20000000.0")
    merged = read_csv(paths["aggregated_csv"])
    assert [r["act_bits"] for r in merged] == ["2", "3", "4", "6", "5"]
    assert (merged[2]["seeds"], merged[2]["latency_us"], merged[2]["area_mm2"],
            merged[2]["energy_uj"]) == ("0 1", "2000.0", "26.0", "20.0")
    assert merged[3]["errors"] == "CUDA out of memory | retry"
    assert paths["figure"].read_bytes().startswith(PNG_SIGNATURE)


def test_markdown_shows_mean_std_units_and_problems(sweep: Path, tmp_path: Path):
    paths = write_report(collect_runs([sweep]), tmp_path)
    text = paths["markdown"].read_text()
    assert ("| method | model | dataset | w_bits | act_bits | device | crossbar | adc_bits | "
            "seeds (n) | accuracy (%) | latency (µs) | area (mm²) | energy (µJ) | status |") in text
    assert ("| bwma | resnet20 | digits | 1 | 4 | rram | 128 | 4 | 0, 1 (2) | 92.00 ± 2.83 | "
            "2000 | 26.00 | 20.00 | 2 finished |") in text
    assert "| 1 failed: CUDA out of memory \\| retry |" in text
    assert f"| {sweep / '3'} | running/incomplete |  |" in text
    assert f"| {sweep / '4'} | missing | no summary.json" in text
    assert "![accuracy versus energy](acc_vs_energy.png)" in text


def test_hardware_only_rows_give_no_figure_and_say_so(sweep: Path, tmp_path: Path):
    rows = [r for r in collect_runs([sweep]) if r["status"] != "finished"]
    paths = write_report(rows, tmp_path)
    assert paths["figure"] is None and not (tmp_path / "acc_vs_energy.png").exists()
    assert "No figure: no configuration has both" in paths["markdown"].read_text()


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bwma_exp.report", *args],
                          check=False, capture_output=True, text=True, timeout=60)


def test_cli_writes_into_the_first_folder_and_prints_the_table(sweep: Path):
    done = run_cli(str(sweep))
    assert done.returncode == 0, done.stderr
    assert "| 92.00 ± 2.83 |" in done.stdout
    assert {p.name for p in sweep.glob("report*")} == {
        "report.csv", "report_aggregated.csv", "report.md"}
    assert (sweep / "acc_vs_energy.png").is_file()


def test_cli_exits_2_with_one_line_on_empty_or_absent_folder(tmp_path: Path):
    for folder in (tmp_path, tmp_path / "absent"):
        done = run_cli(str(folder))
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("report: ")
        assert done.stdout == ""
