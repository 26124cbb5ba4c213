"""ReActNet's two-step hand-over and distillation through train.py, as a user runs them."""
import csv

import pytest
import torch

from bwma_exp.models import build_model
from bwma_exp.quant import QuantSpec
from bwma_exp.tasks.train import _check_required_keys
from bwma_exp.utils.errors import ConfigError
from cli_helpers import TINY, read_summary, run_entry

BASE = ["dataset=synthetic", "model=resnet20", "quant=bwma", "act_bits=1", *TINY]


def _last_error_line(res):
    lines = [line for line in res.stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def test_step2_starts_from_step1_weights_and_distils_from_a_teacher(tmp_path):
    step1 = tmp_path / "step1"
    res = run_entry("train.py", *BASE, "w_bits=32", f"hydra.run.dir={step1}")
    assert res.returncode == 0, res.stderr[-3000:]
    assert (read_summary(step1)["w_bits"], read_summary(step1)["act_bits"]) == (32, 1)

    # A plain state_dict of a real-valued teacher (here a ResNet-20, for speed).
    teacher = build_model("resnet20", QuantSpec("fp"), num_classes=10, image_size=32)
    torch.save(teacher.state_dict(), tmp_path / "teacher.pt")
    step2 = tmp_path / "step2"
    res = run_entry("train.py", *BASE, "w_bits=1", f"init_from={step1}",
                    f"distill.teacher_ckpt={tmp_path / 'teacher.pt'}",
                    "distill.teacher_model=resnet20", f"hydra.run.dir={step2}")
    assert res.returncode == 0, res.stderr[-3000:]
    s = read_summary(step2)
    assert s["status"] == "finished" and (s["w_bits"], s["act_bits"]) == (1, 1)
    assert s["init_from"] == str(step1 / "checkpoints" / "last.ckpt")
    assert s["teacher"] == "resnet20"
    with open(step2 / "csv" / "metrics.csv") as f:
        kd = [row["train/kd_loss"] for row in csv.DictReader(f) if row.get("train/kd_loss")]
    assert kd and float(kd[0]) > 0
    # The student's checkpoint holds the student only.
    state = torch.load(step2 / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    assert state and all(k.startswith("net.") for k in state)


def test_init_from_a_checkpoint_with_an_extra_tensor_fails_in_one_line(tmp_path):
    net = build_model("resnet20", QuantSpec("bwma", w_bits=1, act_bits=1), num_classes=10,
                      image_size=32)
    state = {f"net.{k}": v for k, v in net.state_dict().items()}
    state["net.extra.weight"] = torch.zeros(2)
    torch.save({"state_dict": state}, tmp_path / "bad.ckpt")
    run = tmp_path / "run"
    res = run_entry("train.py", *BASE, f"init_from={tmp_path / 'bad.ckpt'}",
                    f"hydra.run.dir={run}")
    assert res.returncode != 0
    line = _last_error_line(res)
    assert line.startswith("error: init_from=") and "1 unexpected: extra.weight" in line, line
    assert read_summary(run)["status"] == "failed"


def test_a_recipe_without_its_required_teacher_says_which_key(compose_cfg):
    cfg = compose_cfg("train", ["experiment=table2_reactnet_a_bwma_step2"])
    with pytest.raises(ConfigError) as err:
        _check_required_keys(cfg)
    assert str(err.value).startswith("distill.teacher_ckpt=None") and "required_keys" in str(err.value)
    cfg = compose_cfg("train", ["experiment=table2_reactnet_a_bwma_step2",
                                "distill.teacher_ckpt=t.pt"])
    with pytest.raises(ConfigError, match="^init_from=None"):
        _check_required_keys(cfg)
    _check_required_keys(compose_cfg("train", ["experiment=table2_reactnet_a_bwma_step2",
                                               "distill.teacher_ckpt=t.pt", "init_from=run"]))
