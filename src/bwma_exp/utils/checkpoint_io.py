"""Checkpoints written atomically inside the run folder.

Lightning's own writer stages a checkpoint through fsspec, which puts the temporary file in the
system's temporary folder and then moves it into ``checkpoints/``: across file systems that move
is a copy, and a full disk leaves a truncated ``best.ckpt``. Here the checkpoint is serialised in
memory (as Lightning does) and written with ``summary.atomic_write``: a temporary file next to
the target, synced, renamed over it. A failed write leaves the previous checkpoint as it was and
raises the OSError, which marks the run failed (``cli.JobRunner``).
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch
from pytorch_lightning.plugins.io import TorchCheckpointIO

from .summary import atomic_write


class AtomicCheckpointIO(TorchCheckpointIO):
    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any,
                        storage_options: Any | None = None) -> None:
        if storage_options is not None or "://" in str(path):
            return super().save_checkpoint(checkpoint, path, storage_options)
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        atomic_write(Path(path), lambda f: f.write(buffer.getbuffer()), text=False)
