"""Nothing a user has is lost: finished runs are never resumed, files are whole, readable and
written in the run folder, and a refused write fails the run in one line."""
import csv
import errno
import hashlib
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra.core.override_parser.overrides_parser import OverridesParser

from bwma_exp.utils.checkpoint_io import AtomicCheckpointIO
from bwma_exp.utils.loggers import KeptRowsCSVLogger
from bwma_exp.utils.resume import resume_argv
from bwma_exp.utils.summary import atomic_write_json
from cli_helpers import REPO, TINY, read_summary, run_entry


def folder_digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones included) -> its sha256 and mode."""
    return {str(p.relative_to(folder)): f"{hashlib.sha256(p.read_bytes()).hexdigest()} "
                                        f"{oct(p.stat().st_mode)}"
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished tiny run under <root>/outputs/runs/train/ (where ckpt_path=last looks),
    written under umask 022."""
    root = tmp_path_factory.mktemp("project")
    run = root / "outputs" / "runs" / "train" / "2026-01-01_00-00-00_000001"
    old = os.umask(0o022)
    try:
        res = run_entry("train.py", "experiment=demo", *TINY, f"hydra.run.dir={run}",
                        env={"PROJECT_ROOT": str(root)})
    finally:
        os.umask(old)
    assert res.returncode == 0, res.stderr[-3000:]
    return root, run


def test_resuming_a_finished_run_is_refused_and_touches_nothing(finished_run):
    root, run = finished_run
    before = folder_digest(run)
    assert read_summary(run)["status"] == "finished" and len(before) >= 6
    for value in ("last", str(run), str(run / "checkpoints" / "last.ckpt")):
        res = run_entry("train.py", f"ckpt_path={value}", env={"PROJECT_ROOT": str(root)},
                        timeout=60)
        assert res.returncode == 2, res.stderr[-2000:]
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in res.stderr
        assert lines[0].startswith(f"error: ckpt_path={value!r} is not valid: allowed a run "
                                   f"that has not finished. {run} has finished")
        assert "Start a new run without ckpt_path" in lines[0]
        assert folder_digest(run) == before
    assert sorted(p.name for p in (root / "outputs" / "runs" / "train").iterdir()) == [run.name]


def test_run_files_honour_the_umask(finished_run):
    _, run = finished_run
    for name in ("summary.json", "checkpoints/last.ckpt", "checkpoints/best.ckpt",
                 "csv/metrics.csv"):
        assert (run / name).stat().st_mode & 0o777 == 0o644, name
    assert not [p for p in run.rglob("*.tmp")]


def test_atomic_write_json_mode_follows_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write_json(tmp_path / "a.json", {"x": 1})
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "a.json").read_text() == '{\n "x": 1\n}'


def test_a_checkpoint_write_that_fails_leaves_the_old_one_whole(tmp_path, monkeypatch):
    path = tmp_path / "checkpoints" / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"epoch": 1, "w": torch.ones(3)}, path)
    good = path.read_bytes()
    real_replace = os.replace
    seen = []

    def full_disk_replace(src, dst):
        seen.append(Path(src).parent)
        raise OSError(errno.ENOSPC, "No space left on device", str(src))

    monkeypatch.setattr(os, "replace", full_disk_replace)
    with pytest.raises(OSError) as info:
        io.save_checkpoint({"epoch": 2, "w": torch.zeros(3)}, path)
    monkeypatch.setattr(os, "replace", real_replace)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(path)
    assert seen == [path.parent]  # staged next to the checkpoint, not in the system's /tmp
    assert path.read_bytes() == good and sorted(p.name for p in path.parent.iterdir()) == ["last.ckpt"]
    assert torch.load(path, weights_only=True)["epoch"] == 1


def test_a_refused_write_fails_the_run_in_one_line(tmp_path):
    """A file size limit below a checkpoint's size (EFBIG, as a full disk gives ENOSPC)."""
    run = tmp_path / "run"

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_500_000, 1_500_000))

    env = {**os.environ, "WANDB_MODE": "disabled", "PYTHONWARNINGS": "ignore"}
    res = subprocess.run([sys.executable, str(REPO / "train.py"), "experiment=demo", *TINY,
                          f"hydra.run.dir={run}"], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=300, preexec_fn=limit_file_size)
    assert res.returncode == 2, res.stderr[-3000:]
    line = f"could not write {run / 'checkpoints' / 'best.ckpt'}: File too large"
    assert res.stderr.strip().splitlines()[-1] == f"error: {line}"
    assert "Traceback" not in res.stderr
    summary = read_summary(run)
    assert (summary["status"], summary["error"]) == ("failed", line)
    assert list((run / "checkpoints").iterdir()) == []  # no truncated checkpoint left behind


def test_eval_of_a_damaged_checkpoint_is_one_line(finished_run, tmp_path):
    _, run = finished_run
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    best = copy / "checkpoints" / "best.ckpt"
    whole = best.read_bytes()
    for damaged in (whole[: len(whole) // 2], os.urandom(4096)):
        best.write_bytes(damaged)
        res = run_entry("eval.py", f"ckpt_path={copy}", f"hydra.run.dir={tmp_path / 'e'}",
                        timeout=120)
        assert res.returncode == 2, res.stderr[-2000:]
        last = res.stderr.strip().splitlines()[-1]
        assert last.startswith(f"error: ckpt_path={str(best)!r} is not valid: allowed a "
                               f"complete checkpoint written by train.py.")
        assert "Traceback" not in res.stderr


def test_eval_of_a_file_outside_any_run_folder_names_the_file(tmp_path):
    stray = tmp_path / "random.ckpt"
    stray.write_bytes(os.urandom(100))
    res = run_entry("eval.py", f"ckpt_path={stray}", f"hydra.run.dir={tmp_path / 'e'}",
                    timeout=120)
    assert res.returncode == 2, res.stderr[-2000:]
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: ckpt_path={str(stray)!r} is not valid: allowed a "
                           f"checkpoint inside a run folder")
    assert "Traceback" not in res.stderr


def test_a_resumed_csv_logger_keeps_the_earlier_rows(tmp_path):
    def logger():
        return KeptRowsCSVLogger(save_dir=tmp_path, name="csv", version="")

    first = logger()
    for step in range(4):
        first.log_metrics({"train/loss": float(step)}, step=step)
    first.save()
    metrics = tmp_path / "csv" / "metrics.csv"
    before = metrics.read_text()
    # a resume from a checkpoint at step 2: rows 2 and 3 will be logged again
    second = logger()
    second.log_hyperparams({"lr": 0.1})  # creates the writer, which used to delete the file
    assert metrics.read_text() == before
    second.keep_rows_before(2)
    second.log_metrics({"train/loss": 20.0, "val/acc": 0.5}, step=2)
    second.save()
    with open(metrics, newline="") as handle:
        rows = [(r["step"], r["train/loss"], r["val/acc"]) for r in csv.DictReader(handle)]
    assert rows == [("0", "0.0", ""), ("1", "1.0", ""), ("2", "20.0", "0.5")]


def test_resume_quotes_a_run_folder_hydra_would_split(tmp_path):
    run = tmp_path / "runs" / "it's a run, 1"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text("- experiment=demo\n- seed=3\n")
    (run / "checkpoints").mkdir()
    (run / "checkpoints" / "last.ckpt").write_bytes(b"x")
    atomic_write_json(run / "summary.json", {"status": "running"})
    argv = resume_argv([f"ckpt_path={run}", "seed=4"], tmp_path / "runs")
    assert argv[:2] == ["experiment=demo", "seed=4"]
    parsed = OverridesParser.create().parse_overrides(argv)
    assert [o.value() for o in parsed[2:]] == [str(run / "checkpoints" / "last.ckpt"), str(run)]
