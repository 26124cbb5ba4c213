"""scikit-learn's handwritten digits: 1797 images of 8x8 pixels, 17 grey levels, 10 classes.

Ships with scikit-learn, so it needs no download and is the offline dataset of the project.
Images are upsampled once at setup to 32x32 with bilinear interpolation (smooth strokes, so
random crops shift the digit by fractions of an original pixel instead of whole 4x4 blocks),
repeated to 3 channels so CIFAR models run unchanged, and scaled to [0, 1].

The split is a fixed stratified 60/20/20 train/val/test split with its own seed
(``SPLIT_SEED``), independent of the training seed: runs with different seeds see the same
test set.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from bwma_exp.data.base import ImageDataModule
from bwma_exp.data.tensor_dataset import TensorBatchDataset

SPLIT_SEED = 0
MAX_GREY_LEVEL = 16.0


def digits_split_indices() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of the stratified 60/20/20 split: 20% test first, then 25% of the rest val."""
    labels = load_digits().target
    index = np.arange(len(labels))
    rest, test = train_test_split(
        index, test_size=0.2, stratify=labels, random_state=SPLIT_SEED
    )
    train, val = train_test_split(
        rest, test_size=0.25, stratify=labels[rest], random_state=SPLIT_SEED
    )
    return train, val, test


def digits_images(image_size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """All 1797 images as float (N, 3, image_size, image_size) in [0, 1], and labels (N,)."""
    digits = load_digits()
    x = torch.from_numpy(digits.images).float().div_(MAX_GREY_LEVEL).unsqueeze(1)
    x = F.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False)
    x = x.clamp_(0.0, 1.0).expand(-1, 3, -1, -1).contiguous()
    return x, torch.from_numpy(digits.target).long()


class DigitsDataModule(ImageDataModule):
    name = "digits"
    num_classes = 10
    image_size = 32
    in_channels = 3
    # Per-channel mean/std of the train split after upsampling (tests recompute them).
    mean = (0.3053, 0.3053, 0.3053)
    std = (0.3235, 0.3235, 0.3235)
    # No __init__: batch size, flip and padding defaults live in configs/dataset/digits.yaml.

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        x, y = digits_images(self.image_size)
        train, val, test = (torch.from_numpy(i) for i in digits_split_indices())
        self.train_set = TensorBatchDataset(x[train], y[train])
        self.val_set = TensorBatchDataset(x[val], y[val])
        self.test_set = TensorBatchDataset(x[test], y[test])
