"""Training-step overhead of BWMA quantization on ResNet-20 (CPU), measured in one process.

Three copies of ResNet-20 (CIFAR, batch 128 at 32x32, SGD) train side by side: full precision,
BWMA with eager quantizer kernels, and BWMA on the default path (``kernels=auto``: compiled
where torch.compile works, eager otherwise). After warm-up (which includes compilation), the
models take turns step by step, rotating the order each round so that drift in machine speed
hits all three alike; the median step times give the ratios. The last line is the default
path's ratio.

    .venv/bin/python scripts/bench_quant_overhead.py [--steps 20] [--act-bits 4]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
import torch.nn.functional as F

from bwma_exp.models import build_model
from bwma_exp.quant import QuantSpec
from bwma_exp.quant.bwma import activation_formulas as formulas


def make_runs(act_bits: int) -> dict[str, QuantSpec]:
    return {
        "fp": QuantSpec(),
        "bwma eager": QuantSpec("bwma", w_bits=1, act_bits=act_bits,
                                options={"kernels": "eager"}),
        "bwma default": QuantSpec("bwma", w_bits=1, act_bits=act_bits),
    }


def make_trainer(spec: QuantSpec, x: torch.Tensor, y: torch.Tensor):
    torch.manual_seed(0)
    model = build_model("resnet20", spec, num_classes=10, image_size=32).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)

    def step() -> float:
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
        return time.perf_counter() - start

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="timed steps per model")
    parser.add_argument("--warmup", type=int, default=8, help="untimed steps per model (the default path compiles during them)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--act-bits", type=int, default=4)
    args = parser.parse_args()

    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x = torch.randn(args.batch, 3, 32, 32)
    y = torch.randint(0, 10, (args.batch,))
    steps = {name: make_trainer(spec, x, y) for name, spec in make_runs(args.act_bits).items()}

    for step in steps.values():
        for _ in range(args.warmup):
            step()
    names = list(steps)
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(args.steps):
        for name in names[i % len(names):] + names[:i % len(names)]:
            times[name].append(steps[name]())

    median = {name: statistics.median(t) for name, t in times.items()}
    compiled = all(k.compiled is not None and not k.failed
                   for k in (formulas.observe_and_quantize_kernel, formulas.grid_surrogate_grad_kernel))
    print(f"ResNet-20, batch {args.batch}, {threads} threads, act_bits={args.act_bits}, "
          f"{args.steps} timed steps each (median); default path "
          f"{'compiled' if compiled else 'eager (not compiled)'}")
    for name in names:
        print(f"  {name:13s} {median[name] * 1e3:8.1f} ms/step")
    print(f"bwma eager/fp step-time ratio: {median['bwma eager'] / median['fp']:.2f}")
    print(f"bwma/fp step-time ratio: {median['bwma default'] / median['fp']:.2f}")


if __name__ == "__main__":
    main()
