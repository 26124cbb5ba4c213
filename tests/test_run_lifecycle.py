"""What a sweep user relies on: W&B records, failing jobs isolated, NaN guard, launchers, resume."""
import csv
import glob
import math
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from torch import nn

from bwma_exp.module import CIMClassifier, NonFiniteLossError
from bwma_exp.report.wandb_offline import read_offline_run
from bwma_exp.utils.summary import run_warnings
from cli_helpers import REPO, TINY, read_summary, run_entry


def test_offline_wandb_record_holds_accuracy_and_hardware(tmp_path):
    run = tmp_path / "run"
    res = run_entry("train.py", "experiment=demo", *TINY, "logger.wandb.mode=offline",
                    f"hydra.run.dir={run}")
    assert res.returncode == 0, res.stderr[-3000:]
    record = read_offline_run(glob.glob(str(run / "wandb" / "offline-run-*"))[0])
    s, summary = record["summary"], read_summary(run)
    assert s["test/acc"] == pytest.approx(summary["test_acc"])
    assert s["val/acc"] == {"max": pytest.approx(summary["best_val_acc"])}
    assert s["hw/latency_ns"] == pytest.approx(summary["hw"]["latency_ns"])
    assert s["hw/rram/128/energy_pj"] == pytest.approx(summary["hw_targets"]["rram/128"]["energy_pj"])
    assert record["config"]["act_bits"] == 4
    assert record["config"]["quant"]["method"] == "bwma"
    assert record["group"] is None  # a single run; each sweep is its own group
    assert {"quant:bwma", "model:resnet20"} <= set(record["tags"])
    for group in ("latency", "area", "energy"):  # the breakdowns' bar charts, as logged
        assert s[f"hw/breakdown_chart/{group}_table/_type"] == "table-file"
    assert summary["wandb_run_id"] in glob.glob(str(run / "wandb" / "offline-run-*"))[0]


OFFLINE_RUN = """
import sys, wandb
run = wandb.init(mode="offline", dir=sys.argv[1], project="p", group="sweep-a",
                 tags=["quant:bwma", "model:vgg8"], config={"quant": {"method": "bwma"}},
                 settings=wandb.Settings(silent=True, console="off"))
run.config.update({"act_bits": 4, "model": {"name": "vgg8"}})
run.log({"val/acc": 0.5})
run.finish()
"""


def test_offline_reader_returns_the_init_config_group_and_tags(tmp_path):
    """wandb.init(config=...) lives in the run record, apart from later config updates."""
    res = subprocess.run([sys.executable, "-c", OFFLINE_RUN, str(tmp_path)], capture_output=True,
                         text=True, timeout=120, env={**os.environ, "WANDB_SILENT": "true"})
    assert res.returncode == 0, res.stderr[-3000:]
    record = read_offline_run(glob.glob(str(tmp_path / "wandb" / "offline-run-*"))[0])
    assert record["config"]["quant"] == {"method": "bwma"}
    assert record["config"]["act_bits"] == 4 and record["config"]["model"] == {"name": "vgg8"}
    assert record["group"] == "sweep-a"
    assert record["tags"] == ["quant:bwma", "model:vgg8"]
    assert record["history"][0]["val/acc"] == 0.5


def test_a_failing_job_does_not_stop_the_sweep(tmp_path):
    sweep = tmp_path / "sweep"
    res = run_entry("train.py", "-m", "experiment=demo", "act_bits=0,4", *TINY,
                    f"hydra.sweep.dir={sweep}")
    assert res.returncode != 0  # the sweep reports that a job failed ...
    bad, good = read_summary(sweep / "0"), read_summary(sweep / "1")
    assert bad["status"] == "failed" and "act_bits=0" in bad["error"]
    assert good["status"] == "finished"  # ... but the other job ran to the end


def test_nan_loss_stops_with_a_clear_message():
    class NaNNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            return self.fc(x) * math.nan

    module = CIMClassifier(NaNNet(), 3, optimizer=torch.optim.SGD)
    module.log = lambda *a, **k: None
    with pytest.raises(NonFiniteLossError, match="loss became nan"):
        module.training_step((torch.zeros(2, 4), torch.tensor([0, 1])), 0)


def test_divergence_and_chance_accuracy_rules():
    diverged, warnings = run_warnings({"train_loss_first": 2.4e7, "train_loss": 3.96e18,
                                       "test_acc": 0.1171875}, 10)
    assert diverged and warnings == [
        "diverged: training loss 2.4e+07 → 3.96e+18 (over 100× the first epoch's or ln(10)); "
        "try a lower optimizer.lr",
        "at chance: test accuracy 11.72 % (guessing: 10.00 %, 10 classes)"]
    # a loss that exploded within the first epoch already: 100 x ln(10) = 230
    assert run_warnings({"train_loss_first": 1e9, "train_loss": 1e9, "test_acc": 0.5}, 10)[0]
    assert run_warnings({"train_loss_first": 2.3, "train_loss": 0.1, "test_acc": 0.98}, 10) \
        == (False, [])
    assert run_warnings({"train_loss_first": 2.3, "train_loss": 2.0, "best_val_acc": 0.12},
                        10) == (False, ["at chance: best val accuracy 12.00 % (guessing: "
                                        "10.00 %, 10 classes)"])


def test_an_exploding_run_is_flagged_in_its_summary_and_table(tmp_path):
    run = tmp_path / "run"
    res = run_entry("train.py", "experiment=demo", "optimizer.lr=1e3", "trainer.max_epochs=2",
                    "trainer.limit_train_batches=3", "trainer.limit_val_batches=2",
                    "trainer.limit_test_batches=2", "logger.wandb.mode=disabled",
                    f"hydra.run.dir={run}")
    assert res.returncode == 0, res.stderr[-3000:]
    s = read_summary(run)
    assert s["status"] == "finished" and s["diverged"] is True
    assert s["train_loss"] > 100 * s["train_loss_first"]
    assert s["warnings"][0].startswith("diverged: training loss ")
    assert "│ warning" in res.stdout and "diverged:" in res.stdout  # rich may wrap the rest


@pytest.mark.parametrize("launcher", ["joblib", "submitit_local"])
def test_sweep_through_a_launcher(tmp_path, launcher):
    sweep = tmp_path / "sweep"
    extra = ["hydra.launcher.n_jobs=2"] if launcher == "joblib" else ["hydra.launcher.timeout_min=10"]
    res = run_entry("train.py", "-m", f"hydra/launcher={launcher}", *extra, "experiment=demo",
                    "seed=0,1", *TINY, f"hydra.sweep.dir={sweep}", timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    summaries = [read_summary(sweep / str(i)) for i in range(2)]
    assert [s["seed"] for s in summaries] == [0, 1]
    assert all(s["status"] == "finished" for s in summaries)


RESUME_ARGS = ["experiment=demo", "trainer.max_epochs=3", "trainer.deterministic=true",
               "logger.wandb.mode=disabled", "trainer.limit_train_batches=6",
               "trainer.limit_val_batches=3"]


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_result(tmp_path):
    full = tmp_path / "full"
    res = run_entry("train.py", *RESUME_ARGS, f"hydra.run.dir={full}")
    assert res.returncode == 0, res.stderr[-3000:]

    killed = tmp_path / "killed run"  # a space in the path: resume quotes it for Hydra
    env = {**os.environ, "WANDB_MODE": "disabled"}
    proc = subprocess.Popen([sys.executable, str(REPO / "train.py"), *RESUME_ARGS,
                             f"hydra.run.dir={killed}"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last = killed / "checkpoints" / "last.ckpt"
    metrics = killed / "csv" / "metrics.csv"

    def second_epoch_started() -> bool:  # its learning-rate row is flushed at its start
        if not (last.exists() and metrics.exists()):
            return False
        with open(metrics, newline="") as handle:
            return sum(1 for row in csv.DictReader(handle) if row.get("lr-SGD")) >= 2

    deadline = time.time() + 300
    while not second_epoch_started() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert last.exists()
    assert read_summary(killed)["status"] == "running"  # killed mid-run, file still whole
    before = csv_rows(metrics)

    res = run_entry("train.py", f"ckpt_path={killed}")
    assert res.returncode == 0, res.stderr[-3000:]
    # It continued from the checkpoint (a fresh deterministic run would also match).
    assert f"Restoring states from the checkpoint path at {last}" in res.stdout + res.stderr
    a, b = read_summary(full), read_summary(killed)
    assert b["status"] == "finished" and b["run_dir"] == str(killed)
    assert b["best_val_acc"] == pytest.approx(a["best_val_acc"], abs=1e-6)
    assert b["test_acc"] == pytest.approx(a["test_acc"], abs=1e-6)
    # Every CSV row logged before the kill is kept, none twice: the rows are the twin's.
    after = csv_rows(metrics)
    assert len(before) >= 6 and after[:len(before)] == before
    assert metrics.read_text() == (full / "csv" / "metrics.csv").read_text()


def csv_rows(path) -> list[dict]:
    """metrics.csv's rows without their empty cells (new columns rewrite the header)."""
    with open(path, newline="") as handle:
        return [{k: v for k, v in row.items() if v} for row in csv.DictReader(handle)]
