"""Post-training quantization: `python calibrate.py ckpt_path=<run folder> quant=cimq`."""
from bwma_exp.utils.entry import run

if __name__ == "__main__":
    run("calibrate")
