"""Block reconstruction of a quantized network's quantizer parameters (BRECQ, Li et al.,
ICLR 2021) with random quantization dropping (QDrop, Wei et al., ICLR 2022): the algorithm
behind ``calibrate.py`` (tasks/calibrate.py), on any network whose quantized layers carry
crossbars.

Units (``calibration_units``): the network's residual blocks, found from the module tree:
below the root, plain containers (nn.Sequential, nn.ModuleList, nn.ModuleDict) are looked
through, and the first module with its own forward that holds crossbar layers is a unit
(ResNet's BasicBlock, ReActNet's block), unless it only groups such blocks (then they are the
units). A unit holding a single crossbar layer, and a crossbar layer outside any block (a
quantized stem or classifier, VGG's layers), is reconstructed as that layer.

The fit (``calibrate_unit``): Adam on the unit's quantizer parameters (``unit_parameters``),
the MSE between the unit's outputs and the reference's, QDrop on the unit's input
(``qdrop_inputs``), the best of ``CHECKS`` full-set evaluations kept. ``unit_io`` records a
unit's inputs and outputs in forwards stopped at the unit.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..quant import regularization_loss
from ..quant.contract import PartialSumQuantizer, Quantizer
from .attach import crossbar_layers

CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)
CHUNK = 32   # images per forward outside the fit (bounds the partial sums held at once)

@dataclass(frozen=True)
class Unit:
    """One calibration unit: a residual block, or a single crossbar layer."""

    name: str
    """The module's name in the network (a layer's own name for a single layer)."""
    module: nn.Module
    layers: tuple[str, ...]
    """Names of its crossbar layers, in module order."""


# -- the units -------------------------------------------------------------------------------

def calibration_units(net: nn.Module) -> list[Unit]:
    """The network's calibration units in module order (see the module docstring); every
    crossbar layer is in exactly one."""
    layers = {id(m): n for n, m in crossbar_layers(net)}
    named = dict(net.named_modules())

    def held(module: nn.Module) -> list[str]:
        return [layers[id(m)] for m in module.modules() if id(m) in layers]

    def is_block(module: nn.Module) -> bool:
        return (not isinstance(module, CONTAINERS) and id(module) not in layers
                and len(held(module)) >= 2)

    units: list[Unit] = []

    def walk(module: nn.Module, prefix: str) -> None:
        for name, child in module.named_children():
            full = prefix + name
            inside = held(child)
            if not inside:
                continue
            if id(child) in layers:
                units.append(Unit(full, child, (full,)))
            elif isinstance(child, CONTAINERS) or any(
                    is_block(m) for m in child.modules() if m is not child):
                walk(child, full + ".")
            elif len(inside) == 1:
                units.append(Unit(inside[0], named[inside[0]], (inside[0],)))
            else:
                units.append(Unit(full, child, tuple(inside)))

    walk(net, "")
    return units


def unit_parameters(net: nn.Module, unit: Unit) -> list[nn.Parameter]:
    """What calibration fits: every parameter of the unit's crossbar layers' submodules (their
    weight and activation quantizers and the crossbar's ADC), not the layers' own weight and
    bias."""
    named = dict(net.named_modules())
    return [p for name in unit.layers
            for n, p in named[name].named_parameters() if "." in n]


# -- the unit's input and output --------------------------------------------------------

class _Stop(Exception):
    """Ends a forward pass once the unit's input (and output) are recorded."""


@torch.no_grad()
def unit_io(net: nn.Module, unit: nn.Module, images: torch.Tensor, outputs: bool = True,
            chunk: int = CHUNK) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The unit's input (and output) on every image, in one forward of ``net`` per chunk,
    each stopped at the unit: nothing after it runs."""
    inputs, results = [], []

    def before(module, args) -> None:
        if len(args) != 1 or not isinstance(args[0], torch.Tensor):
            raise TypeError(f"{type(module).__name__}: calibration units take one tensor")
        inputs.append(args[0])
        if not outputs:
            raise _Stop

    def after(module, args, output) -> None:
        results.append(output)
        raise _Stop

    handles = [unit.register_forward_pre_hook(before)]
    if outputs:
        handles.append(unit.register_forward_hook(after))
    try:
        for start in range(0, images.shape[0], chunk):
            try:
                net(images[start:start + chunk])
            except _Stop:
                pass
    finally:
        for handle in handles:
            handle.remove()
    if len(inputs) != -(-images.shape[0] // chunk):
        raise RuntimeError("the calibration unit did not run once per forward")
    return torch.cat(inputs), torch.cat(results) if outputs else None


# -- the fit ---------------------------------------------------------------------------------

def qdrop_inputs(inputs: torch.Tensor, fp_inputs: torch.Tensor, drop_prob: float,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """QDrop on a unit's input: each element of the quantized network's ``inputs`` replaced
    w.p. ``drop_prob`` by the full-precision network's value ``fp_inputs``."""
    if drop_prob <= 0:
        return inputs
    keep_fp = torch.rand(inputs.shape, generator=generator, device=inputs.device) < drop_prob
    return torch.where(keep_fp, fp_inputs, inputs)


@torch.no_grad()
def unit_error(unit: nn.Module, inputs: torch.Tensor, targets: torch.Tensor,
               chunk: int = CHUNK) -> float:
    """MSE between the unit's outputs on ``inputs`` (no dropping) and ``targets``."""
    total = 0.0
    for start in range(0, inputs.shape[0], chunk):
        out = unit(inputs[start:start + chunk])
        total += float(F.mse_loss(out, targets[start:start + chunk], reduction="sum"))
    return total / targets.numel()


CHECKS = 4   # full-set evaluations of a unit's fit (besides its start); the best is kept


def calibrate_unit(unit: nn.Module, params: list[nn.Parameter], inputs: torch.Tensor,
                   targets: torch.Tensor, settings: dict[str, Any], generator: torch.Generator,
                   fp_inputs: torch.Tensor | None = None,
                   report: Callable[[int, torch.Tensor], None] | None = None
                   ) -> tuple[float, float]:
    """Fit ``params`` (the unit's quantizer parameters) by Adam so that ``unit`` maps
    ``inputs`` (the quantized network's) to ``targets``; ``fp_inputs``: the reference's
    inputs for QDrop (None: no dropping). The unit stays in eval mode (fixed BatchNorm, no
    regulariser); Adam's learning rate is ``settings["lr"]`` times each parameter's mean
    magnitude. The MSE on all of ``inputs`` (no dropping) is measured at the start and
    ``CHECKS`` times during the fit (the last at its end), and the parameters of the lowest
    are kept: the straight-through gradients of rounding and ADC are noisy, and a unit is
    never left worse than it started. ``report(step, loss)`` is told every step. Returns the
    MSE before and after."""
    unit.eval()
    before = unit_error(unit, inputs, targets)
    if not params:
        return before, before
    best, kept = before, [p.detach().clone() for p in params]
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(True)
    # lr relative to each parameter's size: weight steps (~0.05), activation steps and ADC
    # clips θ (~0.5) all move by about the same fraction of themselves per step
    optimizer = torch.optim.Adam(
        [{"params": [p], "lr": settings["lr"] * max(float(p.detach().abs().mean()), 1e-8)}
         for p in params])
    iters = settings["iters"]
    checks = {round(iters * (k + 1) / CHECKS) for k in range(CHECKS)} | {iters}
    try:
        for step in range(1, iters + 1):
            idx = torch.randint(inputs.shape[0], (settings["batch_size"],), generator=generator,
                                device=generator.device).to(inputs.device)
            x = inputs[idx]
            if fp_inputs is not None:
                x = qdrop_inputs(x, fp_inputs[idx], settings["drop_prob"], generator)
            loss = F.mse_loss(unit(x), targets[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if report is not None:
                report(step, loss.detach())
            if step in checks:
                error = unit_error(unit, inputs, targets)
                if error < best:
                    best, kept = error, [p.detach().clone() for p in params]
    finally:
        for p, flag in zip(params, flags):
            p.requires_grad_(flag)
    with torch.no_grad():
        for p, value in zip(params, kept):
            p.copy_(value)
    return before, best


@torch.no_grad()
def initialize_quantizers(net: nn.Module, images: torch.Tensor) -> int:
    """Start every quantizer state the checkpoint did not carry (steps, ADC clip ranges) from
    one forward of ``images``: only the quantizers and ADCs not yet initialized are in
    training mode for it (what the checkpoint carries, BatchNorm statistics and the crossbars'
    training-only noise stay untouched). Returns how many were started."""
    modules = [m for _, layer in crossbar_layers(net) for m in layer.modules()
               if isinstance(m, (Quantizer, PartialSumQuantizer))
               and not bool(getattr(m, "initialized", True))]
    net.eval()
    if not modules:
        return 0
    for m in modules:
        m.train()
    try:
        net(images)
    finally:
        for m in modules:
            m.eval()
        regularization_loss(net)   # the bit-sparsity terms of that forward: read and dropped
    return len(modules)
