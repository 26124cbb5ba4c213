"""Tiled demo accuracy never rises by more than 0.01 when the ADC loses a bit (slow: 15
crossbar-tiled demo trainings, about 45 minutes on a 2-core CPU): acc(b) <= acc(b + 1) + 0.01 for
b = 2..5, on the means over seeds 0-2, each run >= chance."""
import statistics
from collections import defaultdict

import pytest
import yaml

from cli_helpers import read_summary, run_entry

BITS = (2, 3, 4, 5, 6)


@pytest.mark.slow
def test_tiled_demo_accuracy_does_not_drop_with_more_adc_bits(tmp_path):
    sweep = tmp_path / "sweep"
    res = run_entry("train.py", "-m", "experiment=demo", "cim.tiled=true",
                    f"adc_bits={','.join(map(str, BITS))}", "seed=0,1,2",
                    "logger.wandb.mode=disabled", f"hydra.sweep.dir={sweep}", timeout=7200)
    assert res.returncode == 0, res.stderr[-3000:]
    accs: dict[int, list[float]] = defaultdict(list)
    for job in range(len(BITS) * 3):
        overrides = yaml.safe_load((sweep / str(job) / ".hydra" / "overrides.yaml").read_text())
        bits = next(int(o.split("=", 1)[1]) for o in overrides if o.startswith("adc_bits="))
        accs[bits].append(read_summary(sweep / str(job))["test_acc"])
    mean = {b: statistics.mean(a) for b, a in accs.items()}
    assert sorted(mean) == list(BITS), accs
    for b in BITS[:-1]:
        assert mean[b] <= mean[b + 1] + 0.01, mean
    assert mean[BITS[-1]] >= 0.5, mean
