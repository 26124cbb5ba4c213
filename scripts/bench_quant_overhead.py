"""Training-step overhead of each quantization method on ResNet-20, measured in one process.

Copies of ResNet-20 (CIFAR, batch 128 at 32x32, SGD) train side by side: full precision, every
method at its usual bits (bwba, mwma, columnquant, cimq, origin), BWMA with eager quantizer
kernels, and BWMA on the default path (``kernels=auto``: compiled where torch.compile works,
eager otherwise). After warm-up (which includes compilation), the models take turns step by
step, rotating the order each round so that drift in machine speed hits all alike; the median
step times give the ratios, one line per method, the default BWMA path's last.

    .venv/bin/python scripts/bench_quant_overhead.py [--steps 20] [--act-bits 4] [--device cuda]
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


def make_runs(act_bits: int, methods: bool) -> dict[str, QuantSpec]:
    runs = {"fp": QuantSpec()}
    if methods:
        runs.update({
            "bwba": QuantSpec("bwba", w_bits=1, act_bits=1),
            "mwma": QuantSpec("mwma", w_bits=4, act_bits=act_bits),
            "columnquant": QuantSpec("columnquant", w_bits=4, act_bits=act_bits),
            "cimq": QuantSpec("cimq", w_bits=4, act_bits=act_bits),
            "origin": QuantSpec("origin", w_bits=1, act_bits=1, options={"variant": "reactnet"}),
        })
    runs["bwma eager"] = QuantSpec("bwma", w_bits=1, act_bits=act_bits,
                                   options={"kernels": "eager"})
    runs["bwma default"] = QuantSpec("bwma", w_bits=1, act_bits=act_bits)
    return runs


def make_trainer(spec: QuantSpec, x: torch.Tensor, y: torch.Tensor):
    torch.manual_seed(0)
    model = build_model("resnet20", spec, num_classes=10, image_size=32).to(x.device).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)

    def step() -> float:
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
        if x.is_cuda:
            torch.cuda.synchronize()   # GPU work is asynchronous: time it to its end
        return time.perf_counter() - start

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="timed steps per model")
    parser.add_argument("--warmup", type=int, default=8, help="untimed steps per model (the default path compiles during them)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--act-bits", type=int, default=4)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--bwma-only", action="store_true", help="fp and bwma alone (faster)")
    args = parser.parse_args()

    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x = torch.randn(args.batch, 3, 32, 32, device=args.device)
    y = torch.randint(0, 10, (args.batch,), device=args.device)
    steps = {name: make_trainer(spec, x, y)
             for name, spec in make_runs(args.act_bits, not args.bwma_only).items()}

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
    print(f"ResNet-20 on {args.device}, batch {args.batch}, {threads} threads, "
          f"act_bits={args.act_bits}, "
          f"{args.steps} timed steps each (median); default path "
          f"{'compiled' if compiled else 'eager (not compiled)'}")
    for name in names:
        print(f"  {name:13s} {median[name] * 1e3:8.1f} ms/step")
    for name in names[1:-1]:
        print(f"{name.replace(' ', '_')}/fp step-time ratio: {median[name] / median['fp']:.2f}")
    print(f"bwma/fp step-time ratio: {median['bwma default'] / median['fp']:.2f}")


if __name__ == "__main__":
    main()
