"""eval.py on a checkpoint that train.py wrote."""
import json

from cli_helpers import TINY, read_summary, run_entry


def test_eval_reproduces_the_test_accuracy_of_the_best_checkpoint(tmp_path):
    run = tmp_path / "run"
    res = run_entry("train.py", "experiment=demo", *TINY, "trainer.limit_test_batches=null",
                    f"hydra.run.dir={run}")
    assert res.returncode == 0, res.stderr[-3000:]
    out = tmp_path / "eval"
    res = run_entry("eval.py", f"ckpt_path={run}", f"hydra.run.dir={out}")
    assert res.returncode == 0, res.stderr[-3000:]
    result = json.loads((out / "eval.json").read_text())
    assert result["ckpt_path"].endswith("best.ckpt")
    assert abs(result["acc"] - read_summary(run)["test_acc"]) < 1e-6
    # the same test set read by the same weights: the same activity, and so the same estimate
    assert json.loads((out / "activity.json").read_text()) == \
        json.loads((run / "activity.json").read_text())
    assert result["hw"]["energy_pj"] == read_summary(run)["hw"]["energy_pj"]


def test_eval_of_a_missing_checkpoint_is_one_line(tmp_path):
    res = run_entry("eval.py", f"ckpt_path={tmp_path / 'nothing'}", f"hydra.run.dir={tmp_path / 'e'}")
    assert res.returncode != 0
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ckpt_path=") and "Traceback" not in res.stderr


def test_a_key_eval_does_not_have_is_one_line(tmp_path):
    """eval.yaml has no logger: a train.py habit gets the keys eval does have."""
    res = run_entry("eval.py", f"ckpt_path={tmp_path}", "logger.wandb.mode=disabled",
                    f"hydra.run.dir={tmp_path / 'eval'}")
    assert res.returncode == 2
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("error: logger is not a key of the eval config") and "ckpt_path" in last
