"""Step time (forward + backward + SGD step) of BWMA ResNet-20 W1/A4 on 32×32 inputs, ideal
layers vs crossbar-tiled layers (bit-serial, 4-bit ADC, NeuroSim mapping), on this machine.

Prints the tiled/untiled ratio at crossbar_size=32 and, last, at 128:
    .venv/bin/python scripts/bench_tiled.py [--batch 128] [--steps 5]
"""
from __future__ import annotations

import argparse
import copy
import time

import torch

from bwma_exp.cim.attach import attach_crossbars
from bwma_exp.cim.config import CIMConfig
from bwma_exp.hardware import HardwareConfig, load_device
from bwma_exp.models import build_model
from bwma_exp.quant import QuantSpec


def make_model() -> torch.nn.Module:
    return build_model("resnet20", QuantSpec("bwma", w_bits=1, act_bits=4), num_classes=10,
                       image_size=32, in_channels=3)


def step_time(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int) -> float:
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    model.train()
    times = []
    for i in range(steps + 1):  # the first step warms up (and calibrates the ranges)
        t0 = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i:
            times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    base = make_model()
    x, y = torch.rand(args.batch, 3, 32, 32), torch.randint(0, 10, (args.batch,))
    untiled = step_time(base, x, y, args.steps)
    print(f"untiled step: {untiled * 1e3:.1f} ms (batch {args.batch})")
    ratios = {}
    for size in (32, 128):
        model = copy.deepcopy(base)
        hw = HardwareConfig.from_dicts(load_device("rram"), {}, size, 4)
        attach_crossbars(model, CIMConfig(tiled=True, adc_bits=4), hw, (3, 32, 32))
        tiled = step_time(model, x, y, args.steps)
        ratios[size] = tiled / untiled
        print(f"tiled step at crossbar_size={size}: {tiled * 1e3:.1f} ms, "
              f"ratio {ratios[size]:.2f}")
    print(f"tiled/untiled step-time ratio at 32 rows: {ratios[32]:.2f}")
    print(f"tiled/untiled step-time ratio: {ratios[128]:.2f}")


if __name__ == "__main__":
    main()
