"""Post-training quantization: `python calibrate.py ckpt_path=<run folder> quant=cimq` (see tasks/calibrate.py)."""
import sys

from bwma_exp.cli import JobRunner, precheck

precheck(sys.argv[1:], "calibrate")

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

runner = JobRunner()


@hydra.main(version_base="1.3", config_path="configs", config_name="calibrate")
def main(cfg: DictConfig) -> None:
    runner(_calibrate, cfg)


def _calibrate(cfg: DictConfig):
    from bwma_exp.tasks.calibrate import calibrate

    return calibrate(cfg)


if __name__ == "__main__":
    main()
    runner.exit()
