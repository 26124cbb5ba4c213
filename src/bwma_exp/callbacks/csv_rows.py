"""A resumed run keeps its metrics.csv (``utils.loggers.KeptRowsCSVLogger`` appends to it).

Rows are flushed at every checkpoint and at the start of every epoch (the previous epoch's
aggregates are logged after its checkpoint), so a kill loses as few as possible. A resume restarts
at the checkpoint's step: rows of that step or later were logged after the checkpoint and are
logged again by the resumed run, so they are dropped from the file first, and no row is there
twice. Rows before it are kept."""
from __future__ import annotations

from typing import Any

import pytorch_lightning as pl


def _csv_loggers(trainer: pl.Trainer) -> list[Any]:
    from ..utils.loggers import KeptRowsCSVLogger

    return [lg for lg in trainer.loggers if isinstance(lg, KeptRowsCSVLogger)]


def logging_step(trainer: pl.Trainer) -> int:
    """The step Lightning gives the rows it logs next (its loggers' x axis)."""
    loop = getattr(trainer.fit_loop, "epoch_loop", None)
    return int(getattr(loop, "_batches_that_stepped", trainer.global_step))


class CSVRowsCallback(pl.Callback):
    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.ckpt_path is None:
            return
        for logger in _csv_loggers(trainer):
            logger.keep_rows_before(logging_step(trainer))

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for logger in _csv_loggers(trainer):
            logger.save()
