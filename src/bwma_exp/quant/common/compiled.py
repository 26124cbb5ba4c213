"""Eager or compiled execution of an elementwise formula (BWMA's activation quantizer uses it).

In eager mode each torch op is one pass over the activation: on a 2-core CPU, BWMA's quantizers
made a ResNet-20 training step 2.1-2.4x slower than full precision. ``torch.compile`` fuses
each formula into one loop (C++ via the system compiler on CPU, Triton on GPU), which removes
most of that overhead (``scripts/bench_quant_overhead.py`` measures both).

Modes (option ``quant.options.kernels``):

- ``auto`` (default): compiled once a formula is hot, i.e. after ``COMPILE_AFTER_CALLS`` calls
  on tensors of at least ``COMPILE_MIN_NUMEL`` elements (a few training steps of a CIFAR
  ResNet at batch 128), because compiling costs seconds once per process (up to ~20 s with a
  cold cache): a real training run earns that back in its first epoch, a unit test, a toy model
  or a two-batch debug run never would. If compiling or running the compiled code fails
  (no C compiler, unsupported Python), one warning is given and the process stays eager.
- ``eager``: never compile.
- ``compiled``: always compile, and let a failure raise (tests use it to check both paths agree).

The environment variable ``BWMA_EXP_COMPILE=0`` turns ``auto`` into ``eager`` for a whole
process tree (the test suite sets it: many short runs would each pay the compile).

The compiled and the eager function are the same Python function, so they agree bit for bit.
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any, Literal, get_args

import torch

KernelMode = Literal["auto", "eager", "compiled"]
KERNEL_MODES = get_args(KernelMode)
COMPILE_MIN_NUMEL = 1 << 17
COMPILE_AFTER_CALLS = 100


class CompilableKernel:
    """A formula and its ``torch.compile`` twin, built on first use; shapes are dynamic so one
    compilation serves every layer and batch size."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.compiled: Callable[..., Any] | None = None
        self.failed = False
        self.hot_calls = 0  # calls in auto mode on tensors large enough to be worth compiling

    def __call__(self, mode: str, x: torch.Tensor, *args) -> Any:
        if mode == "compiled":
            return self._compiled()(x, *args)
        if mode == "eager" or self.failed or os.environ.get("BWMA_EXP_COMPILE") == "0" \
                or x.numel() < COMPILE_MIN_NUMEL:
            return self.fn(x, *args)
        self.hot_calls += 1
        if self.compiled is None and self.hot_calls <= COMPILE_AFTER_CALLS:
            return self.fn(x, *args)
        try:
            return self._compiled()(x, *args)
        except Exception as err:
            self.failed = True
            warnings.warn(f"torch.compile of {self.fn.__name__} failed, it runs eagerly "
                          f"(slower): {type(err).__name__}: {err}",
                          RuntimeWarning, stacklevel=2)
            return self.fn(x, *args)

    def _compiled(self) -> Callable[..., Any]:
        if self.compiled is None:
            self.compiled = torch.compile(self.fn, dynamic=True)
        return self.compiled
