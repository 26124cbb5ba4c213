"""Pushing the training progress into quantizers whose behaviour follows a schedule."""
from __future__ import annotations

from torch import nn


def set_training_progress(model: nn.Module, epoch: int, max_epochs: int) -> int:
    """Call ``set_progress(epoch, max_epochs)`` on every submodule that has one (the
    LightningModule does so at each train epoch start); returns how many were updated."""
    updated = 0
    for module in model.modules():
        set_progress = getattr(module, "set_progress", None)
        if callable(set_progress):
            set_progress(epoch, max_epochs)
            updated += 1
    return updated
