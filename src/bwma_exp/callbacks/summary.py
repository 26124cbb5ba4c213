"""Keeps summary.json current: best validation accuracy after every validation epoch, and the
first and latest epoch's mean training loss (``train_loss_first``, ``train_loss``), from which
``utils.summary.run_warnings`` tells a run that diverged."""
from __future__ import annotations

import pytorch_lightning as pl

from ..utils.summary import RunSummary


class SummaryCallback(pl.Callback):
    def __init__(self, summary: RunSummary) -> None:
        self.summary = summary

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        acc = trainer.callback_metrics.get("val/acc")
        if acc is None:
            return
        acc = float(acc)
        best = self.summary.data.get("best_val_acc")
        self.summary.update(val_acc=acc, best_val_acc=acc if best is None else max(best, acc),
                            epoch=int(trainer.current_epoch), global_step=int(trainer.global_step))

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._record_train_loss(trainer)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._record_train_loss(trainer)

    def _record_train_loss(self, trainer: pl.Trainer) -> None:
        loss = trainer.callback_metrics.get("train/loss_epoch")
        if loss is None:
            return
        loss = float(loss)
        fields = {"train_loss": loss}
        if self.summary.data.get("train_loss_first") is None:  # kept when a run is resumed
            fields["train_loss_first"] = loss
        self.summary.update(**fields)
