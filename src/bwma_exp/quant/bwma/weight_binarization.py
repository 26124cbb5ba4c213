"""BWMA's weights: moment-matched binarization (Eqs. 2-5) and its temperature schedule.

Forward, per layer: c = mean(w), r = population std(w) (constants of the step: no gradient
flows through them); weights above the split point take c + r, the others c - r.
Backward is Eq. 5 alone, on the raw weights: ``α·(1 - tanh²(t·w))`` where |w| <= 1, else 0.

Schedule: The paper gives no values for α and t. IR-Net raises t from 0.1 to 10 over training,
``t = 10^(-1 + 2e/E)`` at epoch e of E, and scales its gradient ``k·t·(1 - tanh²(t·w))`` by
``k = max(1/t, 1)``; in Eq. 5's form that is ``α = k·t = max(1, t)``. Early epochs get a wide,
flat slope (every weight learns), late epochs a sharp one close to the sign's Dirac delta.
"""
from __future__ import annotations

import torch

from ...utils.errors import ConfigError
from ...utils.schema import check_value
from ..contract import WeightQuantizer
from .options import Schedule, Split


class MomentMatchedBinarize(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w, alpha: float, temperature: float, split: str):
        c = w.mean()
        r = w.std(correction=0)
        # torch.median returns the lower middle value for an even count, so "> median" puts
        # exactly half of N distinct weights on c + r.
        threshold = w.median() if split == "median" else c
        ctx.save_for_backward(w)
        ctx.alpha, ctx.temperature = alpha, temperature
        return torch.where(w > threshold, c + r, c - r)

    @staticmethod
    def backward(ctx, grad):
        (w,) = ctx.saved_tensors
        slope = ctx.alpha * (1 - torch.tanh(w * ctx.temperature).square())
        return torch.where(w.abs() <= 1, grad * slope, 0.0), None, None, None



def irnet_schedule(epoch: int, max_epochs: int) -> tuple[float, float]:
    """(temperature t, scale α) for 0-based ``epoch`` of ``max_epochs``."""
    if max_epochs < 1:
        raise ConfigError("max_epochs", max_epochs, "a positive number of epochs")
    if epoch < 0:
        raise ConfigError("epoch", epoch, "a non-negative epoch index")
    temperature = 10.0 ** (-1.0 + 2.0 * epoch / max_epochs)
    return temperature, max(1.0, temperature)


def bwma_binarize(w: torch.Tensor, alpha: float = 1.0, temperature: float = 1.0,
                  split: str = "median") -> torch.Tensor:
    """Moment-matched binarization of one layer's weights (Eqs. 2-5).

    c = mean(w) and r = population std(w) are computed per tensor and detached. With
    ``split="median"`` (the paper) the weights above the median take c + r, the rest c - r.
    ``torch.median`` returns the lower of the two middle values for an even count, so for
    distinct weights exactly half take each value (N odd: the median itself joins the lower
    half) and the output's mean and std equal c and r. ``split="mean"`` is AdaBin's rule
    (sign of w - c); it matches the two moments only when the weights are symmetric about
    their mean.

    Backward is Eq. 5 on the raw weights: ``grad·α·(1 - tanh²(w·t))`` where |w| <= 1, else 0.
    The paper leaves α and t open; the training default is IR-Net's schedule (see
    ``irnet_schedule`` and ``BWMAWeightQuantizer``), this function takes fixed values.
    """
    check_value("split", Split, split)
    return MomentMatchedBinarize.apply(w, float(alpha), float(temperature), split)


class BWMAWeightQuantizer(WeightQuantizer):
    """Per-layer moment-matched binarization (``bwma_binarize``).

    ``schedule="irnet"`` (default) sets t and α from the training progress,
    ``t = 10^(-1 + 2e/E)``, ``α = max(1, t)``, through the contract's ``set_progress`` (called at
    each train epoch start); it starts at epoch 0 (t = 0.1, α = 1).
    ``schedule="fixed"`` keeps the given ``alpha`` and ``temperature`` for the whole run.
    """

    digital_offset = True   # w = c ± r: c·Σx is added digitally

    def __init__(self, split: str = "median", schedule: str = "irnet", alpha: float = 1.0,
                 temperature: float = 1.0) -> None:
        super().__init__()
        check_value("quant.options.split", Split, split)
        check_value("quant.options.schedule", Schedule, schedule)
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
