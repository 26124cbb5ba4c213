"""Evaluate a trained checkpoint: `python eval.py ckpt_path=outputs/runs/train/<run>` (see README)."""
from bwma_exp.utils.entry import run

if __name__ == "__main__":
    run("eval")
