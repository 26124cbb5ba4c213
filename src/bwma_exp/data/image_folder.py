"""ImageFolder layout (``<root>/<class>/<image>``): checked listing and a decoding dataset.

Class indices follow the sorted class folder names. Files count as images by extension
(case-insensitive); other files are ignored. An empty class folder is an error, never a silently
missing class, and a file Pillow cannot decode is an error naming it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import Dataset

from bwma_exp.utils.errors import DataUnavailableError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def class_folders(root: Path) -> list[str]:
    """Sorted names of the sub-folders of ``root`` (hidden ones excluded)."""
    if not root.is_dir():
        raise DataUnavailableError(f"image folder {root} does not exist.")
    return sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))


def list_images(root: Path, classes: list[str]) -> list[tuple[str, int]]:
    """(path, class index) of every image, in class then file-name order."""
    samples = []
    for index, name in enumerate(classes):
        folder = root / name
        files = sorted(
            e.name for e in os.scandir(folder)
            if e.is_file() and e.name.lower().endswith(IMAGE_EXTENSIONS)
        )
        if not files:
            raise DataUnavailableError(
                f"class folder {folder} holds no images ({', '.join(IMAGE_EXTENSIONS)}); "
                "add its images or remove the folder."
            )
        samples.extend((str(folder / f), index) for f in files)
    return samples


class ImageDecodeError(DataUnavailableError):
    """An image file Pillow cannot decode.

    DataLoader re-raises a worker's exception in the main process as ``type(err)(text)``, with
    the worker's traceback in ``text``; this class keeps only the original message (the
    traceback's last line), so users still see one line."""

    def __init__(self, message: str) -> None:
        marker = f"{type(self).__name__}: "
        if "Original Traceback" in message and marker in message:
            message = message.rsplit(marker, 1)[1].strip()
        super().__init__(message)


def load_rgb(path: str) -> Image.Image:
    try:
        with Image.open(path) as img:
            return img.convert("RGB")  # convert() decodes the whole file
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        reason = str(err).replace("\n", " ")
        raise ImageDecodeError(
            f"cannot decode image {path} ({type(err).__name__}: {reason}); replace or delete it."
        ) from None


class ImageFolderDataset(Dataset):
    """Decodes ``samples[i]`` with Pillow and applies ``transform`` (PIL image -> uint8 tensor)."""

    def __init__(
        self, samples: list[tuple[str, int]], transform: Callable[[Image.Image], torch.Tensor]
    ) -> None:
        self.samples, self.transform = samples, transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        path, label = self.samples[index]
        return self.transform(load_rgb(path)), label
