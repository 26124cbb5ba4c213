"""Keeps summary.json current: best validation accuracy after every validation epoch."""
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
