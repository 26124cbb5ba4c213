"""Every quantization method on the demo with the demo's own budget and chip defaults
(columnquant and cimq tiled, 4-bit ADC), seeds 0-2 (slow): each run >= 0.5 test accuracy,
each method's mean >= 0.90 (measured: .921 for bwba, .98 or more for the others), and the
expected order of the binary methods on the seed means:
bwma <= fp + 0.01 (binary weights do not beat full precision) and bwba <= bwma + 0.01 (binary
activations do not beat multi-bit ones)."""
import statistics
from collections import defaultdict

import pytest
import yaml

from bwma_exp.quant import METHODS as REGISTERED
from cli_helpers import read_summary, run_entry

# Every registered method but origin, which needs a binary architecture of its own (Table II)
METHODS = tuple(sorted(set(REGISTERED) - {"origin"}))


@pytest.mark.slow
def test_every_method_learns_the_demo_and_binary_methods_keep_their_order(tmp_path):
    sweep = tmp_path / "sweep"
    res = run_entry("train.py", "-m", "experiment=demo", f"quant={','.join(METHODS)}",
                    "seed=0,1,2", "logger.wandb.mode=disabled", f"hydra.sweep.dir={sweep}",
                    timeout=6000)
    assert res.returncode == 0, res.stderr[-3000:]
    accs: dict[str, list[float]] = defaultdict(list)
    for job in range(len(METHODS) * 3):
        overrides = yaml.safe_load((sweep / str(job) / ".hydra" / "overrides.yaml").read_text())
        method = next(o.split("=", 1)[1] for o in overrides if o.startswith("quant="))
        accs[method].append(read_summary(sweep / str(job))["test_acc"])
    assert sorted(accs) == sorted(METHODS) and all(len(a) == 3 for a in accs.values()), accs
    assert min(min(a) for a in accs.values()) >= 0.5, dict(accs)
    mean = {m: statistics.mean(a) for m, a in accs.items()}
    assert min(mean.values()) >= 0.90, mean
    assert mean["bwma"] <= mean["fp"] + 0.01, mean
    assert mean["bwba"] <= mean["bwma"] + 0.01, mean
