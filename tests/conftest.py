"""Shared fixture: compose configs exactly as the CLI does."""
from __future__ import annotations

import os

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from cli_helpers import CONFIGS

# Short test runs never earn back torch.compile's start-up; tests that compare the compiled
# path set kernels="compiled" explicitly, which this does not affect.
os.environ.setdefault("BWMA_EXP_COMPILE", "0")
# `make test` runs two pytest workers on two cores: one thread per process (workers and the
# entry points they start) avoids OpenMP oversubscription, which slows everything several-fold.
os.environ.setdefault("OMP_NUM_THREADS", "1")
torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


@pytest.fixture
def compose_cfg():
    """compose_cfg("train", ["act_bits=3"]) -> DictConfig, Hydra state cleared afterwards."""
    def _compose(config_name: str, overrides: list[str] | None = None):
        GlobalHydra.instance().clear()
        with initialize_config_dir(version_base="1.3", config_dir=str(CONFIGS)):
            return compose(config_name=config_name, overrides=overrides or [],
                           return_hydra_config=True)
    yield _compose
    GlobalHydra.instance().clear()
