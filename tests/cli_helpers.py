"""Helpers of the end-to-end tests: run the entry points as a user does."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "src" / "bwma_exp" / "configs"
# A few batches of everything, no W&B: the pipeline end to end in seconds.
TINY = ["debug=fast", "dataset.batch_size=16"]


def run_entry(script: str, *args: str, timeout: int = 300, env: dict | None = None
              ) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true",
                "BWMA_EXP_COMPILE": os.environ.get("BWMA_EXP_COMPILE", "0"),
                "PYTHONWARNINGS": "ignore", **(env or {})}
    return subprocess.run([sys.executable, str(REPO / script), *args], cwd=REPO, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def read_summary(folder: Path) -> dict:
    return json.loads((Path(folder) / "summary.json").read_text())
