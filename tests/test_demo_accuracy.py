"""The demo's accuracy promise on real data (scikit-learn's digits): >= 0.95 for each of seeds
0, 1, 2 and >= 0.97 on their mean, with the demo's own budget."""
import statistics

import pytest

from cli_helpers import read_summary, run_entry


@pytest.mark.slow
def test_demo_accuracy_over_three_seeds(tmp_path):
    sweep = tmp_path / "sweep"
    res = run_entry("train.py", "-m", "experiment=demo", "seed=0,1,2", "logger.wandb.mode=disabled",
                    f"hydra.sweep.dir={sweep}", timeout=3600)
    assert res.returncode == 0, res.stderr[-3000:]
    accs = [read_summary(sweep / str(i))["test_acc"] for i in range(3)]
    assert min(accs) >= 0.95, accs
    assert statistics.mean(accs) >= 0.97, accs
