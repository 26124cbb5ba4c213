"""Train a CIM-aware quantized CNN: `python train.py model=resnet18 act_bits=4` (see README)."""
import sys

from bwma_exp.cli import JobRunner, precheck

precheck(sys.argv[1:], "train", resumable=True)

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from bwma_exp.validation import validate_common  # noqa: E402

runner = JobRunner()


@hydra.main(version_base="1.3", config_path="configs", config_name="train")
def main(cfg: DictConfig) -> None:
    runner(_train, cfg)


def _train(cfg: DictConfig):
    validate_common(cfg)  # before torch is imported: a bad value fails in about a second
    from bwma_exp.tasks.train import train

    return train(cfg)


if __name__ == "__main__":
    main()
    runner.exit()
