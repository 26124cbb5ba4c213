"""The four commands (train, eval, estimate, calibrate) as one Hydra main each.

The repository's ``train.py`` & co. and the installed ``bwma-train`` & co. scripts both call
``run``; the command line is checked (``cli.precheck``) before Hydra or torch is imported, so a
bad key or value fails in about a second.
"""
from __future__ import annotations

import importlib
import sys

from .cli import CONFIG_DIR, JobRunner, precheck

# config name -> (module of the task, its function, whether ckpt_path=last resumes a run)
TASKS = {
    "train": ("bwma_exp.tasks.train", "train", True),
    "eval": ("bwma_exp.tasks.evaluate", "evaluate", False),
    "estimate": ("bwma_exp.tasks.estimate", "estimate", False),
    "calibrate": ("bwma_exp.tasks.calibrate", "calibrate", False),
}


def run(config_name: str) -> None:
    module_name, function, resumable = TASKS[config_name]
    precheck(sys.argv[1:], config_name, resumable=resumable)

    import hydra
    from omegaconf import DictConfig

    from .validation import validate

    runner = JobRunner()

    def task(cfg: DictConfig):
        validate(cfg, config_name)  # before torch is imported
        return getattr(importlib.import_module(module_name), function)(cfg)

    @hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name=config_name)
    def main(cfg: DictConfig):
        return runner(task, cfg)

    main()
    runner.exit()


def train() -> None:
    run("train")


def evaluate() -> None:
    run("eval")


def estimate() -> None:
    run("estimate")


def calibrate() -> None:
    run("calibrate")
