"""Progress lines of the long jobs and the result table that never cuts a value."""
from __future__ import annotations

import dataclasses
import statistics

from torch import nn

from bwma_exp.cim.config import CIMConfig
from bwma_exp.cim.evaluation import variation_accuracies
from bwma_exp.tasks.common import print_result_table
from bwma_exp.utils.progress import sweep_size


def test_variation_sampling_prints_each_chip_with_the_running_mean(capsys):
    cim = dataclasses.replace(CIMConfig(), variation_sigma=0.1, variation_samples=3)
    accs = iter([0.5, 0.7, 0.9])
    result = variation_accuracies(nn.Sequential(nn.Linear(2, 2)), cim, lambda: next(accs))
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["chip 1/3: acc 50.00 %, mean 50.00 ± 0.00 %",
                     "chip 2/3: acc 70.00 %, mean 60.00 ± 14.14 %",
                     "chip 3/3: acc 90.00 %, mean 70.00 ± 20.00 %"]
    assert result["acc_mean"] == statistics.fmean([0.5, 0.7, 0.9])
    assert result["acc_std"] == statistics.stdev([0.5, 0.7, 0.9])


def test_the_result_table_never_truncates_a_long_run_folder(capsys):
    folder = "/home/someone/projects/bwma-exp/outputs/runs/train/2026-12-02_02-17-13_123456_resnet20_bwma"
    assert len(folder) > 80
    print_result_table("resnet20 · bwma W1/A4 · digits · seed 0",
                       [("test accuracy", "98.00 %"), ("run folder", folder)])
    out = capsys.readouterr().out
    assert folder in out
    assert "…" not in out
    row = [line for line in out.splitlines() if "run folder" in line]
    assert len(row) == 1 and folder in row[0]


def test_sweep_size_is_the_product_of_the_sweeps():
    assert sweep_size(["model=vgg8,resnet20", "device=rram,sram,fefet", "act_bits=4"]) == 6
    assert sweep_size(["seed=range(3)", "quant=bwma"]) == 3
    assert sweep_size(["seed=0,1", "seed=0,1,2"]) == 3   # the later override wins
    assert sweep_size(["act_bits=4"]) == 1
