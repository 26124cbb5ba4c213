"""Random images with learnable structure, for fast tests and smoke runs.

Each class has a smooth prototype (a random 4x4 pattern per channel, upsampled bilinearly to
``image_size``); a sample is its class prototype plus Gaussian pixel noise, clipped to [0, 1].
Smooth prototypes stay recognisable after random crops of a few pixels, so a small CNN learns
the task in a few epochs. Everything is drawn from ``seed``: the same seed gives the same data.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bwma_exp.data.base import ImageDataModule, check_int
from bwma_exp.data.tensor_dataset import TensorBatchDataset
from bwma_exp.utils.schema import NonNegativeFloat, check_value

PROTOTYPE_GRID = 4


def synthetic_split(
    prototypes: torch.Tensor, size: int, noise_std: float, generator: torch.Generator
) -> TensorBatchDataset:
    """``size`` samples with balanced labels in random order."""
    num_classes = len(prototypes)
    labels = (torch.arange(size) % num_classes)[torch.randperm(size, generator=generator)]
    noise = torch.randn((size, *prototypes.shape[1:]), generator=generator) * noise_std
    return TensorBatchDataset((prototypes[labels] + noise).clamp_(0.0, 1.0), labels)


class SyntheticDataModule(ImageDataModule):
    name = "synthetic"

    def __init__(
        self,
        num_classes: int = 10,
        image_size: int = 32,
        in_channels: int = 3,
        train_size: int = 512,
        val_size: int = 128,
        test_size: int = 128,
        noise_std: float = 0.2,
        **kwargs,
    ) -> None:
        # data_dir, batch_size, ... as ImageDataModule; this dataset's defaults in synthetic.yaml.
        super().__init__(**kwargs)
        self.num_classes = check_int("num_classes", num_classes, 2)
        self.image_size = check_int("image_size", image_size, 1)
        self.in_channels = check_int("in_channels", in_channels, 1)
        self.train_size = check_int("train_size", train_size, 1)
        self.val_size = check_int("val_size", val_size, 1)
        self.test_size = check_int("test_size", test_size, 1)
        self.noise_std = float(check_value("dataset.noise_std", NonNegativeFloat, noise_std))
        # Nominal statistics: they map [0, 1] to [-1, 1].
        self.mean = (0.5,) * in_channels
        self.std = (0.5,) * in_channels

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        generator = torch.Generator().manual_seed(self.seed)
        grid = torch.rand(
            (self.num_classes, self.in_channels, PROTOTYPE_GRID, PROTOTYPE_GRID),
            generator=generator,
        )
        size = (self.image_size, self.image_size)
        prototypes = F.interpolate(grid, size=size, mode="bilinear", align_corners=False)
        self.train_set = synthetic_split(prototypes, self.train_size, self.noise_std, generator)
        self.val_set = synthetic_split(prototypes, self.val_size, self.noise_std, generator)
        self.test_set = synthetic_split(prototypes, self.test_size, self.noise_std, generator)
