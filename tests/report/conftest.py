"""The sweep folder fixture; its builders live in report_fixtures.py so tests can import them."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_fixtures import hardware, summary, write_job


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    """A multirun sweep folder: two seeds of one config, a failed job, a running job, a job
    killed before its summary, and a cheaper finished config with another act_bits."""
    root = tmp_path / "sweep"
    root.mkdir()
    (root / "multirun.yaml").write_text("hydra: {}\n")
    hw4 = hardware(latency_ns=2_000_000.0, energy_pj=20e6, area_um2=26e6)
    hw2 = hardware(latency_ns=1_000_000.0, energy_pj=10e6, area_um2=20e6)
    write_job(root / "0", summary(seed=0, test_acc=0.90, hw=hw4))
    write_job(root / "1", summary(seed=1, test_acc=0.94, hw=hw4))
    write_job(root / "2", summary(status="failed", error="CUDA out of memory | retry",
                                  test_acc=None, act_bits=6, hw=None))
    write_job(root / "3", summary(status="running", test_acc=None, act_bits=3, hw=None))
    write_job(root / "4", None, hydra_overrides=["model=vgg8", "act_bits=5", "seed=2"])
    write_job(root / "10", summary(seed=0, test_acc=0.80, act_bits=2), hw=hw2)
    return root
