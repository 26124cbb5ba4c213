"""collect_runs: every job of a sweep, whatever its state, becomes one flat row."""

from pathlib import Path

import pytest
from report_fixtures import summary, write_job

from bwma_exp.report import ReportInputError, collect_runs


def test_collects_every_job_in_numeric_order_with_its_status(sweep: Path):
    rows = collect_runs([sweep])
    assert [Path(r["job_dir"]).name for r in rows] == ["0", "1", "2", "3", "4", "10"]
    assert [r["status"] for r in rows] == [
        "finished", "finished", "failed", "running/incomplete", "missing", "finished"]
    assert rows[2]["error"] == "CUDA out of memory | retry"
    assert rows[4]["error"] == "no summary.json (killed before it was written?)"


def test_job_without_summary_gets_its_config_from_hydra_overrides(sweep: Path):
    missing = collect_runs([sweep])[4]
    assert (missing["model"], missing["act_bits"], missing["seed"]) == ("vgg8", 5, 2)
    assert missing["test_acc"] is None and missing["energy_pj"] is None


def test_hardware_comes_from_summary_or_else_hardware_json(sweep: Path):
    rows = collect_runs([sweep])
    assert (rows[0]["latency_ns"], rows[0]["energy_pj"], rows[0]["area_um2"]) == (
        2_000_000.0, 20e6, 26e6)
    assert rows[5]["energy_pj"] == 10e6  # job 10's summary has hw=None
    assert rows[5]["hw"]["breakdown"]["latency"]["adc"] == 100_000.0


def test_single_run_folder_is_one_job(sweep: Path):
    rows = collect_runs([sweep / "1"])
    assert len(rows) == 1 and rows[0]["seed"] == 1 and rows[0]["test_acc"] == 0.94


def test_extra_overrides_make_a_variant_but_seed_and_columns_do_not(tmp_path: Path):

    write_job(tmp_path / "0", summary(seed=3, overrides=["act_bits=4", "optimizer.lr=0.1",
                                                         "hydra.verbose=true"]))
    assert collect_runs([tmp_path])[0]["variant"] == "optimizer.lr=0.1"


@pytest.mark.parametrize("make", [lambda p: p / "absent", lambda p: p])
def test_missing_folder_or_no_jobs_is_refused(tmp_path: Path, make):
    with pytest.raises(ReportInputError, match="report: "):
        collect_runs([make(tmp_path)])
