"""Train a CIM-aware quantized CNN: `python train.py model=resnet18 act_bits=4` (see README)."""
from bwma_exp.utils.entry import run

if __name__ == "__main__":
    run("train")
