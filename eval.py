"""Evaluate a trained checkpoint: `python eval.py ckpt_path=outputs/runs/train/<run>` (see README)."""
import sys

from bwma_exp.cli import JobRunner, precheck

precheck(sys.argv[1:], "eval")

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

runner = JobRunner()


@hydra.main(version_base="1.3", config_path="configs", config_name="eval")
def main(cfg: DictConfig) -> None:
    runner(_evaluate, cfg)


def _evaluate(cfg: DictConfig):
    from bwma_exp.tasks.evaluate import evaluate

    return evaluate(cfg)


if __name__ == "__main__":
    main()
    runner.exit()
