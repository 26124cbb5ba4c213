"""ImageNet (ILSVRC-2012) in ImageFolder layout: ``<data_dir>/train/<class>/*.JPEG`` and
``<data_dir>/val/<class>/*.JPEG``, the validation images sorted into the same class folders.

There is no download: the data need an ImageNet account. Pillow decodes each image in the
loader's workers and crops it to ``image_size`` (training: random-resized crop, scale 0.08-1,
ratio 3/4-4/3; evaluation: shorter side to 256/224 * image_size, centre crop). The horizontal
flip and normalisation run batched on the device. The labelled validation set serves as both
``val`` and ``test`` split (the official test labels are not public).

``num_classes`` is a constructor argument so models can be built before any data is read (a
hardware-only estimate needs none); ``setup`` checks it against the class folders.
"""

from __future__ import annotations

from pathlib import Path

from bwma_exp.data.base import ImageDataModule, check_int
from bwma_exp.data.image_folder import ImageFolderDataset, class_folders, list_images
from bwma_exp.data.pil_transforms import RandomResizedCrop, ResizeCenterCrop
from bwma_exp.utils.errors import ConfigError, DataUnavailableError

EVAL_RESIZE_RATIO = 256 / 224
LAYOUT = "<data_dir>/train/<class>/*.JPEG and <data_dir>/val/<class>/*.JPEG"


def _short_list(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


class ImageNetDataModule(ImageDataModule):
    name = "imagenet"
    in_channels = 3
    mean = (0.485, 0.456, 0.406)
    std = (0.229, 0.224, 0.225)

    def __init__(self, image_size: int = 224, num_classes: int = 1000, **kwargs) -> None:
        # data_dir, batch_size, ... as ImageDataModule; this dataset's defaults in imagenet.yaml.
        # padding is fixed, not a setting: the random-resized crop replaces CIFAR's padded crop.
        super().__init__(padding=0, **kwargs)
        self.image_size = check_int("image_size", image_size, 1)
        self.num_classes = check_int("num_classes", num_classes, 2)
        self.classes: list[str] = []

    def _split_folder(self, split: str) -> Path:
        root = Path(self.data_dir)
        if not root.is_dir():
            raise DataUnavailableError(
                f"ImageNet folder {root.resolve()} does not exist: set dataset.data_dir to the "
                f"folder holding train/ and val/ ({LAYOUT})."
            )
        folder = root / split
        if not folder.is_dir():
            raise DataUnavailableError(
                f"ImageNet {split} folder {folder.resolve()} does not exist; expected {LAYOUT}."
            )
        return folder

    def _check_classes(self, train: Path, val: Path) -> list[str]:
        classes = class_folders(train)
        if not classes:
            raise DataUnavailableError(f"{train} has no class folders; expected {LAYOUT}.")
        val_classes = class_folders(val)
        if val_classes != classes:
            missing = sorted(set(classes) - set(val_classes))
            extra = sorted(set(val_classes) - set(classes))
            raise DataUnavailableError(
                f"class folders of {val} differ from those of {train} "
                f"(missing: {_short_list(missing) or 'none'}; extra: {_short_list(extra) or 'none'}); "
                "sort the validation images into the training class folders."
            )
        return classes

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        train, val = self._split_folder("train"), self._split_folder("val")
        self.classes = self._check_classes(train, val)
        eval_transform = ResizeCenterCrop(
            self.image_size, int(self.image_size * EVAL_RESIZE_RATIO)
        )
        train_transform = RandomResizedCrop(self.image_size) if self.augment else eval_transform
        train_images, val_images = list_images(train, self.classes), list_images(val, self.classes)
        if len(self.classes) != self.num_classes:
            raise ConfigError(
                "dataset.num_classes", self.num_classes,
                f"{len(self.classes)} (the number of class folders in {train})",
            )
        self.train_set = ImageFolderDataset(train_images, train_transform)
        self.val_set = ImageFolderDataset(val_images, eval_transform)
        self.test_set = self.val_set
