"""Estimate latency, area and energy of a model on a CIM accelerator, no data or training needed:
`python estimate.py model=vgg8 device=rram crossbar_size=64 act_bits=4` (see README)."""
import sys

from bwma_exp.cli import JobRunner, precheck

precheck(sys.argv[1:], "estimate")

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from bwma_exp.validation import validate_common  # noqa: E402

runner = JobRunner()


@hydra.main(version_base="1.3", config_path="configs", config_name="estimate")
def main(cfg: DictConfig) -> None:
    runner(_estimate, cfg)


def _estimate(cfg: DictConfig):
    validate_common(cfg)  # before torch is imported: a bad value fails in about a second
    from bwma_exp.tasks.estimate import estimate

    return estimate(cfg)


if __name__ == "__main__":
    main()
    runner.exit()
