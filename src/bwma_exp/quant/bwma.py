"""``quant=bwma``: moment-matched binary weights and multi-bit activations (the paper, §III-B).

Options (``quant.options``): ``split`` median|mean, ``schedule`` irnet|fixed, ``alpha`` and
``temperature`` (used by ``fixed``), ``surrogate_width``, ``momentum``, ``learnable_clip``,
``kernels`` auto|eager|compiled. ``act_bits=32`` keeps activations real (the 1W/32A setting);
``w_bits=32`` keeps weights real (ReActNet's first training step, before binarizing them).
"""
from __future__ import annotations

import torch
from torch import nn

from ..utils.errors import ConfigError
from .act_quantizer import ActQuantizer
from .binarize import SPLITS, MomentMatchedBinarize
from .functional import MAX_ACT_BITS
from .kernels import KERNEL_MODES
from .options import choice, flag, positive, read_options, unit_interval
from .schedule import irnet_schedule
from .spec import QuantSpec, register_method

SCHEDULES = ("irnet", "fixed")
FULL_PRECISION_BITS = 32

OPTIONS = {
    "split": choice("median", *SPLITS),
    "schedule": choice("irnet", *SCHEDULES),
    "alpha": positive(1.0),
    "temperature": positive(1.0),
    "surrogate_width": positive(1.0),
    "momentum": unit_interval(0.1),
    "learnable_clip": flag(False),
    "kernels": choice("auto", *KERNEL_MODES),
}


class BWMAWeightQuantizer(nn.Module):
    """Per-layer moment-matched binarization (``functional.bwma_binarize``).

    ``schedule="irnet"`` (default) sets t and α from the training progress,
    ``t = 10^(-1 + 2e/E)``, ``α = max(1, t)``, through ``set_progress`` (called at each train
    epoch start by ``set_training_progress``); it starts at epoch 0 (t = 0.1, α = 1).
    ``schedule="fixed"`` keeps the given ``alpha`` and ``temperature`` for the whole run.
    """

    def __init__(self, split: str = "median", schedule: str = "irnet", alpha: float = 1.0,
                 temperature: float = 1.0) -> None:
        super().__init__()
        if split not in SPLITS:
            raise ConfigError("quant.options.split", split, ", ".join(SPLITS))
        if schedule not in SCHEDULES:
            raise ConfigError("quant.options.schedule", schedule, ", ".join(SCHEDULES))
        self.split, self.schedule = split, schedule
        self.alpha, self.temperature = float(alpha), float(temperature)
        if schedule == "irnet":
            self.set_progress(0, 1)

    def set_progress(self, epoch: int, max_epochs: int) -> None:
        if self.schedule == "irnet":
            self.temperature, self.alpha = irnet_schedule(epoch, max_epochs)

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return MomentMatchedBinarize.apply(w, self.alpha, self.temperature, self.split)

    def extra_repr(self) -> str:
        return (f"split={self.split}, schedule={self.schedule}, alpha={self.alpha:.4g}, "
                f"temperature={self.temperature:.4g}")


@register_method("bwma")
def bwma_quantizers(spec: QuantSpec, kind: str, out_channels: int):
    if int(spec.w_bits) not in (1, FULL_PRECISION_BITS):
        raise ConfigError("w_bits", spec.w_bits,
                          "1 for quant=bwma (binary weights), or 32 for real weights (ReActNet's "
                          "step 1); use quant=mwma for multi-bit weights")
    act_bits = int(spec.act_bits)
    if act_bits != FULL_PRECISION_BITS and not 1 <= act_bits <= MAX_ACT_BITS:
        raise ConfigError("act_bits", spec.act_bits,
                          f"1 to {MAX_ACT_BITS}, or {FULL_PRECISION_BITS} for real activations")
    opts = read_options("bwma", spec.options, OPTIONS)
    weight: nn.Module = BWMAWeightQuantizer(opts["split"], opts["schedule"], opts["alpha"],
                                            opts["temperature"])
    if int(spec.w_bits) == FULL_PRECISION_BITS:
        # Stateless either way, so a step-1 checkpoint loads strictly into the binary step 2.
        weight = nn.Identity()
    if act_bits == FULL_PRECISION_BITS:
        return weight, nn.Identity()
    act = ActQuantizer(act_bits, opts["momentum"], opts["surrogate_width"],
                       opts["learnable_clip"], opts["kernels"])
    return weight, act
