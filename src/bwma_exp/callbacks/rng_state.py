"""Checkpoints carry the Python, NumPy and torch RNG states, so a resumed run draws the same
random numbers (shuffling, dropout, augmentation) as an uninterrupted one."""
from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch


class RNGStateCallback(pl.Callback):
    def state_dict(self) -> dict[str, Any]:
        kind, keys, pos, has_gauss, cached = np.random.get_state()
        # Plain types and tensors only: checkpoints stay loadable with weights_only=True.
        states = {"python": random.getstate(),
                  "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)),
                            "pos": int(pos), "has_gauss": int(has_gauss), "cached": float(cached)},
                  "torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            states["cuda"] = torch.cuda.get_rng_state_all()
        return states

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        random.setstate(state_dict["python"])
        n = state_dict["numpy"]
        np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"],
                             n["has_gauss"], n["cached"]))
        torch.set_rng_state(state_dict["torch"])
        if "cuda" in state_dict and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state_dict["cuda"])
