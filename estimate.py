"""Estimate latency, area and energy on a CIM accelerator, no data or training: `python estimate.py model=vgg8 device=rram crossbar_size=64`."""
from bwma_exp.utils.entry import run

if __name__ == "__main__":
    run("estimate")
