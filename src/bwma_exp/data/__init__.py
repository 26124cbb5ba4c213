"""LightningDataModules: CIFAR-10/100, digits (offline, ships with scikit-learn), synthetic,
and ImageNet. Loaders yield raw images; augmentation and normalisation run batched on the
training device in ``on_after_batch_transfer`` (see ``base.ImageDataModule``)."""

from bwma_exp.data.base import ImageDataModule
from bwma_exp.data.cifar import Cifar10DataModule, Cifar100DataModule
from bwma_exp.data.digits import DigitsDataModule
from bwma_exp.data.imagenet import ImageNetDataModule
from bwma_exp.data.synthetic import SyntheticDataModule

__all__ = [
    "Cifar10DataModule",
    "Cifar100DataModule",
    "DigitsDataModule",
    "ImageDataModule",
    "ImageNetDataModule",
    "SyntheticDataModule",
]
