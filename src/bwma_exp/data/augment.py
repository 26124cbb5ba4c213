"""Batched image augmentation and normalisation on the training device.

Every function works on a whole batch ``x`` of shape (N, C, H, W) at once, without a Python
loop over images, so it runs as a few kernels on the GPU. Random draws come from ``generator``
(a CPU ``torch.Generator``) and are moved to ``x.device``: the same seed gives the same
augmentation whether training runs on CPU or GPU.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def random_crop_with_padding(
    x: Tensor, padding: int, generator: torch.Generator | None = None
) -> Tensor:
    """Zero-pad each image by ``padding`` pixels on every side, then cut an (H, W) window at a
    per-sample random offset (row offset ``dy`` and column offset ``dx`` in [0, 2*padding],
    drawn together as one (N, 2) tensor: column 0 is dy, column 1 is dx)."""
    if padding == 0:
        return x
    n, c, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))
    offsets = torch.randint(0, 2 * padding + 1, (n, 2), generator=generator).to(x.device)
    rows = offsets[:, 0, None] + torch.arange(h, device=x.device)  # (N, H)
    cols = offsets[:, 1, None] + torch.arange(w, device=x.device)  # (N, W)
    batch_index = torch.arange(n, device=x.device)[:, None, None, None]
    channel_index = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch_index, channel_index, rows[:, None, :, None], cols[:, None, None, :]]


def random_horizontal_flip(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Mirror each image left-right with probability 1/2 (one uniform draw per sample)."""
    flip = torch.rand(x.shape[0], generator=generator).to(x.device) < 0.5
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def normalize(x: Tensor, mean: Sequence[float], std: Sequence[float]) -> Tensor:
    """Per-channel ``(x - mean) / std``."""
    mean_t = torch.as_tensor(mean, dtype=x.dtype, device=x.device)[None, :, None, None]
    std_t = torch.as_tensor(std, dtype=x.dtype, device=x.device)[None, :, None, None]
    return (x - mean_t) / std_t


def to_unit_float(x: Tensor) -> Tensor:
    """uint8 pixels to float32 in [0, 1]; float input is assumed to be in [0, 1] already."""
    if x.dtype == torch.uint8:
        return x.float().div_(255.0)
    return x.float()
