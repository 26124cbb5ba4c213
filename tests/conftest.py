"""Shared test helpers: compose configs like the CLI does, and run the entry points."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
# A few batches of everything, no W&B: the pipeline end to end in seconds.
TINY = ["debug=fast", "dataset.batch_size=16"]


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


def run_entry(script: str, *args: str, timeout: int = 300, env: dict | None = None
              ) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true",
                "PYTHONWARNINGS": "ignore", **(env or {})}
    return subprocess.run([sys.executable, str(REPO / script), *args], cwd=REPO, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def read_summary(folder: Path) -> dict:
    return json.loads((Path(folder) / "summary.json").read_text())
