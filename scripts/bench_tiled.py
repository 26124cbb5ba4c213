"""Step time (forward + backward + SGD step) and eval-forward time of ResNet-20 on 32×32
inputs, ideal layers vs crossbar-tiled layers (4-bit ADC, each method on its own chip: its
mapping, weight coding, partial-sum ADC and 1-bit cells), on this machine, from one run.

One line per method (bwma W1/A4, bwba W1/A1, mwma, columnquant and cimq W4/A4) at 128 and 32
rows with the default settings (straight-through ADC gradient: the popcount read wherever
the ADC is calibrated); with ``--all`` also BWMA's other mappings, the multi-bit (not
bit-serial) read and the clipped ADC gradient. Prints BWMA's 128-row ratio last:
    .venv/bin/python scripts/bench_tiled.py [--batch 128] [--steps 3] [--methods bwma,cimq]
        [--all] [--device cuda]
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
from bwma_exp.quant.spec import CROSSBARS

# method: (w_bits, act_bits, its mapping under hardware.mapping=auto)
METHODS = {"bwma": (1, 4, "auto"), "bwba": (1, 1, "auto"), "mwma": (4, 4, "auto"),
           "columnquant": (4, 4, "channel_grouped"), "cimq": (4, 4, "auto")}
# BWMA's further settings at 128 rows: (hardware.mapping, bit_serial, cim.adc_grad)
EXTRA = [("im2col", True, "ste"), ("channel_grouped", True, "ste"), ("auto", False, "ste"),
         ("auto", True, "clipped"), ("auto", False, "clipped")]


def make_model(method: str) -> torch.nn.Module:
    w_bits, act_bits, _ = METHODS[method]
    return build_model("resnet20", QuantSpec(method, w_bits=w_bits, act_bits=act_bits),
                       num_classes=10, image_size=32, in_channels=3)


def tiled(base: torch.nn.Module, size: int, mapping: str, bit_serial: bool = True,
          adc_grad: str = "ste", coding: str = "offset") -> torch.nn.Module:
    model = copy.deepcopy(base)
    device = next(model.parameters()).device
    hw = HardwareConfig.from_dicts(load_device("rram"), {"mapping": mapping,
                                                        "weight_coding": coding}, size, 4)
    cim = CIMConfig(tiled=True, adc_bits=4, bit_serial=bit_serial, adc_grad=adc_grad)
    attach_crossbars(model, cim, hw, (3, 32, 32))
    return model.to(device)


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
        _sync(x)
        if i:
            times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


@torch.no_grad()
def forward_time(model: torch.nn.Module, x: torch.Tensor, steps: int) -> float:
    model.eval()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        model(x)
        _sync(x)
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def _sync(x: torch.Tensor) -> None:
    if x.is_cuda:   # GPU work is asynchronous: time it to its end
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--all", action="store_true", help="also BWMA's other settings")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    args = parser.parse_args()
    methods = [m for m in args.methods.split(",") if m]
    x = torch.rand(args.batch, 3, 32, 32, device=args.device)
    y = torch.randint(0, 10, (args.batch,), device=args.device)
    print(f"batch {args.batch}, {args.steps} timed steps (median), {args.device}")
    bwma_128 = None
    for method in methods:
        torch.manual_seed(0)
        base = make_model(method).to(args.device)
        pristine = copy.deepcopy(base)    # a trained step leaves graph tensors (CIMQ's loss)
        untiled = step_time(base, x, y, args.steps)
        untiled_fwd = forward_time(base, x, args.steps)
        mapping = METHODS[method][2]
        parts = []
        for size in (128, 32):
            model = tiled(pristine, size, mapping, coding=CROSSBARS[method].weight_coding)
            step, fwd = step_time(model, x, y, args.steps), forward_time(model, x, args.steps)
            parts.append(f"{size} rows step x{step / untiled:.2f} eval x{fwd / untiled_fwd:.2f}")
            if method == "bwma" and size == 128:
                bwma_128 = step / untiled
        print(f"{method}: untiled step {untiled * 1e3:.0f} ms, eval {untiled_fwd * 1e3:.0f} ms; "
              + "; ".join(parts), flush=True)
        if method == "bwma" and args.all:
            for config in EXTRA:
                model = tiled(pristine, 128, *config)
                step, fwd = step_time(model, x, y, args.steps), forward_time(model, x, args.steps)
                print(f"  bwma 128 rows mapping={config[0]} bit_serial={config[1]} "
                      f"adc_grad={config[2]}: step x{step / untiled:.2f} "
                      f"eval x{fwd / untiled_fwd:.2f}", flush=True)
    if bwma_128 is not None:
        print(f"tiled/untiled step-time ratio: {bwma_128:.2f}")


if __name__ == "__main__":
    main()
