"""Step time (forward + backward + SGD step) of BWMA ResNet-20 W1/A4 on 32×32 inputs, ideal
layers vs crossbar-tiled layers (4-bit ADC), on this machine, from one run.

Tiled configurations: the default one (NeuroSim's mapping ``auto``, bit-serial input planes,
straight-through ADC gradient, which reads ±1 cells with the popcount kernel) at 32 and 128
rows, and at 128 rows the other mappings, the multi-bit (not bit-serial) read and the clipped
ADC gradient (the streamed read with its written-out backward), plus the eval-mode forward
alone. Prints the 32-row ratio and, last, the default one at 128 rows:
    .venv/bin/python scripts/bench_tiled.py [--batch 128] [--steps 3] [--quick] [--device cuda]
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

# (crossbar_size, hardware.mapping, bit_serial, cim.adc_grad); the first two are reported.
CONFIGS = [(32, "auto", True, "ste"), (128, "auto", True, "ste"), (128, "im2col", True, "ste"),
           (128, "channel_grouped", True, "ste"), (128, "auto", False, "ste"),
           (128, "auto", True, "clipped"), (128, "auto", False, "clipped")]


def make_model() -> torch.nn.Module:
    return build_model("resnet20", QuantSpec("bwma", w_bits=1, act_bits=4), num_classes=10,
                       image_size=32, in_channels=3)


def tiled(base: torch.nn.Module, size: int, mapping: str, bit_serial: bool,
          adc_grad: str) -> torch.nn.Module:
    model = copy.deepcopy(base)
    device = next(model.parameters()).device
    hw = HardwareConfig.from_dicts(load_device("rram"), {"mapping": mapping}, size, 4)
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
    parser.add_argument("--quick", action="store_true", help="only the two reported configs")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    args = parser.parse_args()
    torch.manual_seed(0)
    base = make_model().to(args.device)
    x = torch.rand(args.batch, 3, 32, 32, device=args.device)
    y = torch.randint(0, 10, (args.batch,), device=args.device)
    untiled = step_time(base, x, y, args.steps)
    untiled_fwd = forward_time(base, x, args.steps)
    print(f"untiled: step {untiled * 1e3:.0f} ms, eval forward {untiled_fwd * 1e3:.0f} ms "
          f"(batch {args.batch})")
    ratios, fwd_ratios = {}, {}
    for config in CONFIGS[:2] if args.quick else CONFIGS:
        size, mapping, serial, grad = config
        model = tiled(base, *config)
        step = step_time(model, x, y, args.steps)
        fwd = forward_time(model, x, args.steps)
        ratios[config] = step / untiled
        fwd_ratios[config] = fwd / untiled_fwd
        print(f"tiled crossbar_size={size} mapping={mapping} bit_serial={serial} adc_grad={grad}: "
              f"step {step * 1e3:.0f} ms (x{step / untiled:.2f}), "
              f"eval forward {fwd * 1e3:.0f} ms (x{fwd / untiled_fwd:.2f})")
    print(f"tiled/untiled eval-forward ratio at 32 rows: {fwd_ratios[CONFIGS[0]]:.2f}")
    print(f"tiled/untiled eval-forward ratio at 128 rows: {fwd_ratios[CONFIGS[1]]:.2f}")
    print(f"tiled/untiled step-time ratio at 32 rows: {ratios[CONFIGS[0]]:.2f}")
    print(f"tiled/untiled step-time ratio: {ratios[CONFIGS[1]]:.2f}")


if __name__ == "__main__":
    main()
