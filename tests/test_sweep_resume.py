"""Resuming a sweep: the same -m command with hydra.sweep.dir skips finished jobs, reruns the
interrupted and failed ones, starts the missing ones; the report lists every job it defines."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from bwma_exp.report.collect import NEVER_RAN, collect_runs
from cli_helpers import REPO, TINY, read_summary, run_entry

SWEEP = ["-m", "experiment=demo", "dataset=synthetic", *TINY, "logger.wandb.mode=disabled",
         "seed=0,1,2"]


def report_statuses(sweep) -> list[str]:
    return [row["status"] for row in collect_runs([sweep])]


def test_rerun_sweep_skips_finished_and_finishes_the_rest(tmp_path):
    sweep = tmp_path / "sweep"
    res = run_entry("train.py", *SWEEP, f"hydra.sweep.dir={sweep}")
    assert res.returncode == 0, res.stderr[-3000:]
    first = read_summary(sweep / "0")
    # The kill during job 1: its summary still says running, job 2 never started.
    job1 = read_summary(sweep / "1")
    (sweep / "1" / "summary.json").write_text(json.dumps({**job1, "status": "running",
                                                          "finished_at": None}))
    shutil.rmtree(sweep / "2")
    assert report_statuses(sweep) == ["finished", "running/incomplete", NEVER_RAN]

    res = run_entry("train.py", *SWEEP, f"hydra.sweep.dir={sweep}")
    assert res.returncode == 0, res.stderr[-3000:]
    assert f"skipped, finished earlier: {sweep / '0'}" in res.stdout
    assert read_summary(sweep / "0") == first  # not rerun: same finished_at, same results
    # job 1 continued from its checkpoints/last.ckpt
    assert f"resuming, interrupted earlier: {sweep / '1'}" in res.stdout
    assert [read_summary(sweep / str(i))["status"] for i in range(3)] == ["finished"] * 3
    assert [read_summary(sweep / str(i))["seed"] for i in range(3)] == [0, 1, 2]
    assert report_statuses(sweep) == ["finished"] * 3

    # A folder of another command's finished job is not overwritten.
    res = run_entry("train.py", *SWEEP[:-1], "seed=5", f"hydra.sweep.dir={sweep}")
    assert res.returncode != 0 and "holds a finished job of another command" in res.stderr
    assert read_summary(sweep / "0") == first


def test_a_failed_job_reruns_from_the_start(tmp_path):
    from omegaconf import OmegaConf

    from bwma_exp.utils.cli import _resume_interrupted

    job = tmp_path / "0"
    (job / "checkpoints").mkdir(parents=True)
    (job / "checkpoints" / "last.ckpt").write_bytes(b"x")
    (job / "summary.json").write_text(json.dumps({"status": "failed", "overrides": ["seed=0"]}))
    cfg = _resume_interrupted(job, OmegaConf.create({"ckpt_path": None}), ["seed=0"])
    assert cfg.ckpt_path is None and not (job / "checkpoints").exists()


def test_report_lists_a_job_that_never_started(tmp_path):
    sweep = tmp_path / "sweep"
    res = run_entry("estimate.py", "-m", "crossbar_size=64,128,256", f"hydra.sweep.dir={sweep}")
    assert res.returncode == 0, res.stderr[-3000:]
    shutil.rmtree(sweep / "1")
    rows = collect_runs([sweep])
    assert [(r["status"], r["crossbar_size"]) for r in rows] == [
        ("finished", 64), (NEVER_RAN, 128), ("finished", 256)]
    assert rows[1]["job_dir"] == str(sweep / "1")
    # A single job folder of the sweep is reported alone, without its siblings.
    assert [r["status"] for r in collect_runs([sweep / "0"])] == ["finished"]


@pytest.mark.slow
def test_sweep_killed_during_job_two_resumes(tmp_path):
    sweep = tmp_path / "sweep"
    proc = subprocess.Popen([sys.executable, str(REPO / "train.py"), *SWEEP,
                             f"hydra.sweep.dir={sweep}"], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "WANDB_MODE": "disabled"})
    deadline = time.time() + 300
    while not (sweep / "1" / "summary.json").exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = read_summary(sweep / "0")
    assert read_summary(sweep / "1")["status"] == "running" and not (sweep / "2").exists()

    res = run_entry("train.py", *SWEEP, f"hydra.sweep.dir={sweep}")
    assert res.returncode == 0, res.stderr[-3000:]
    assert read_summary(sweep / "0") == first
    assert report_statuses(sweep) == ["finished"] * 3
