"""A dataset over in-memory tensors that hands out whole batches.

``DataLoader`` calls ``__getitems__`` with the batch's indices, so a batch is one gather per
tensor instead of N ``__getitem__`` calls followed by a stack. ``keep_batch`` is the matching
``collate_fn``: the batch is already collated.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.utils.data import Dataset


class TensorBatchDataset(Dataset):
    """Images ``x`` (N, C, H, W; uint8 or float in [0, 1]) and integer labels ``y`` (N,)."""

    def __init__(self, x: Tensor, y: Tensor) -> None:
        if len(x) != len(y):
            raise ValueError(f"{len(x)} images but {len(y)} labels")
        self.x, self.y = x, y.long()

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self.x[index], self.y[index]

    def __getitems__(self, indices: list[int]) -> tuple[Tensor, Tensor]:
        index = torch.as_tensor(indices, dtype=torch.long)
        return self.x[index], self.y[index]


def keep_batch(batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
    """``collate_fn`` for ``TensorBatchDataset``: ``__getitems__`` already built the batch."""
    return batch
