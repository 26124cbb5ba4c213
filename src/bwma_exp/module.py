"""The one LightningModule: cross-entropy classifier around any model of the zoo."""
from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.classification import MulticlassAccuracy

from .distill import FrozenTeacher, distillation_loss
from .quant import (
    clip_latent_weights,
    has_latent_clip,
    regularization_loss,
    set_training_progress,
)
from .utils.schema import check_value
from .utils.validation import ScheduleName, WeightDecayScope


class NonFiniteLossError(RuntimeError):
    """Training produced NaN/inf: stop rather than train on garbage."""


class CIMClassifier(pl.LightningModule):
    def __init__(self, net: nn.Module, num_classes: int, optimizer: Callable[..., torch.optim.Optimizer],
                 scheduler: dict[str, Any] | None = None, label_smoothing: float = 0.0,
                 teacher: FrozenTeacher | None = None, distill_alpha: float = 1.0,
                 distill_temperature: float = 1.0, weight_decay_scope: str = "all") -> None:
        super().__init__()
        self.net = net
        # A plain attribute, not a submodule: see distill.py (never saved, trained or DDP-wrapped).
        self.teacher = teacher
        self.distill_alpha, self.distill_temperature = distill_alpha, distill_temperature
        self.weight_decay_scope = check_value("weight_decay_scope", WeightDecayScope,
                                              weight_decay_scope)
        # BMXNet-variant binary layers keep their latent weights within +-1.3 after every step.
        self.clips_latent_weights = has_latent_clip(net)
        self.optimizer_factory = optimizer
        self.scheduler_cfg = dict(scheduler or {"name": "constant"})
        check_value("scheduler.name", ScheduleName, self.scheduler_cfg.get("name"))
        self.label_smoothing = float(label_smoothing)
        top5 = min(5, num_classes)
        self.train_acc = MulticlassAccuracy(num_classes, average="micro")
        self.val_acc = MulticlassAccuracy(num_classes, average="micro")
        self.test_acc = MulticlassAccuracy(num_classes, average="micro")
        self.has_top5 = num_classes > 5
        if self.has_top5:
            self.val_acc5 = MulticlassAccuracy(num_classes, top_k=top5, average="micro")
            self.test_acc5 = MulticlassAccuracy(num_classes, top_k=top5, average="micro")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def on_train_epoch_start(self) -> None:
        # Temperature/alpha schedules of the weight quantizers follow training progress.
        set_training_progress(self.net, self.current_epoch, max(1, self.trainer.max_epochs or 1))

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x, y = batch
        logits = self(x)
        loss = self.training_loss(logits, x, y) + self.regularization_loss()
        if not torch.isfinite(loss):
            raise NonFiniteLossError(
                f"loss became {loss.item()} at epoch {self.current_epoch}, step {self.global_step}; "
                "lower optimizer.lr or check the data")
        self.train_acc(logits, y)
        self.log("train/loss", loss, on_step=True, on_epoch=True, prog_bar=True)
        self.log("train/acc", self.train_acc, on_step=False, on_epoch=True)
        return loss

    def regularization_loss(self) -> torch.Tensor | float:
        """Sum of the quantizers' own loss terms of this forward (quant=cimq's bit sparsity)."""
        return regularization_loss(self.net)

    def training_loss(self, logits: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Cross-entropy; with a teacher ``alpha * KD + (1 - alpha) * CE`` (alpha 1: KD only)."""
        ce = F.cross_entropy(logits, y, label_smoothing=self.label_smoothing)
        if self.teacher is None:
            return ce
        kd = distillation_loss(logits, self.teacher(x), self.distill_temperature)
        self.log("train/kd_loss", kd, on_step=False, on_epoch=True, sync_dist=True)
        self.log("train/ce_loss", ce, on_step=False, on_epoch=True, sync_dist=True)
        return self.distill_alpha * kd + (1.0 - self.distill_alpha) * ce

    def optimizer_step(self, *args, **kwargs) -> None:
        super().optimizer_step(*args, **kwargs)
        if self.clips_latent_weights:
            clip_latent_weights(self.net)

    def validation_step(self, batch, batch_idx: int) -> None:
        self._eval_step(batch, "val")

    def test_step(self, batch, batch_idx: int) -> None:
        self._eval_step(batch, "test")

    def _eval_step(self, batch, stage: str) -> None:
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y)
        acc = getattr(self, f"{stage}_acc")
        acc(logits, y)
        # sync_dist: under DDP the epoch's loss is the mean over all ranks (a no-op on one device).
        self.log(f"{stage}/loss", loss, on_epoch=True, prog_bar=stage == "val", sync_dist=True)
        self.log(f"{stage}/acc", acc, on_epoch=True, prog_bar=True)
        if self.has_top5:
            acc5 = getattr(self, f"{stage}_acc5")
            acc5(logits, y)
            self.log(f"{stage}/acc_top5", acc5, on_epoch=True)

    def configure_optimizers(self):
        optimizer = self.optimizer_factory(params=self.parameter_groups())
        total = max(1, int(self.trainer.estimated_stepping_batches))
        steps_per_epoch = max(1, total // max(1, self.trainer.max_epochs or 1))
        warmup = int(self.scheduler_cfg.get("warmup_epochs", 0)) * steps_per_epoch
        base_lr = optimizer.param_groups[0]["lr"]
        min_ratio = float(self.scheduler_cfg.get("min_lr", 0.0)) / base_lr if base_lr else 0.0
        factor = partial(lr_factor, name=self.scheduler_cfg["name"], total=total, warmup=warmup,
                         min_ratio=min_ratio)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


    def parameter_groups(self) -> list[dict[str, Any]]:
        """One group of all parameters, or (scope ``conv``, ReActNet's rule) the 4-D conv
        weights with the optimizer's weight decay and everything else without."""
        if self.weight_decay_scope == "all":
            return [{"params": list(self.parameters())}]
        conv = [p for p in self.parameters() if p.ndim == 4]
        other = [p for p in self.parameters() if p.ndim != 4]
        groups = [{"params": conv}, {"params": other, "weight_decay": 0.0}]
        return [g for g in groups if g["params"]]


def lr_factor(step: int, *, name: str, total: int, warmup: int, min_ratio: float) -> float:
    """Multiplier of the base learning rate at optimizer step ``step`` (per-step schedules)."""
    if warmup and step < warmup:
        return (step + 1) / warmup
    if name == "constant":
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    if name == "cosine":
        decay = 0.5 * (1.0 + math.cos(math.pi * progress))
    else:  # linear
        decay = 1.0 - progress
    return min_ratio + (1.0 - min_ratio) * decay
