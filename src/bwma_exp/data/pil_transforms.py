"""Per-image geometry for ImageNet, done in Pillow while decoding (in the loader's workers).

Both transforms end in a fixed ``size`` x ``size`` uint8 tensor (C, H, W), so batches collate
by stacking and everything else (flip, normalisation) runs batched on the training device.
Random draws use Python's ``random`` module, which DataLoader seeds in every worker.
"""

from __future__ import annotations

import math
import random

import numpy as np
import torch
from PIL import Image


def pil_to_uint8_tensor(img: Image.Image) -> torch.Tensor:
    """RGB image to a (3, H, W) uint8 tensor."""
    return torch.from_numpy(np.array(img, dtype=np.uint8)).permute(2, 0, 1).contiguous()


def random_resized_crop_box(
    width: int,
    height: int,
    scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
    rng: random.Random | None = None,
) -> tuple[int, int, int, int]:
    """(left, top, crop_width, crop_height) of a crop covering a random fraction ``scale`` of
    the image area with a random aspect ratio (log-uniform in ``ratio``). Like torchvision's
    RandomResizedCrop: 10 tries, then the largest centred crop with a ratio in range."""
    rng = random if rng is None else rng  # module-level: DataLoader seeds it in each worker
    area = width * height
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target_area = area * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(*log_ratio))
        w = round(math.sqrt(target_area * aspect))
        h = round(math.sqrt(target_area / aspect))
        if 0 < w <= width and 0 < h <= height:
            return rng.randint(0, width - w), rng.randint(0, height - h), w, h
    image_ratio = width / height
    if image_ratio < ratio[0]:
        w, h = width, round(width / ratio[0])
    elif image_ratio > ratio[1]:
        w, h = round(height * ratio[1]), height
    else:
        w, h = width, height
    return (width - w) // 2, (height - h) // 2, w, h


class RandomResizedCrop:
    """Training transform: random crop box, resized to ``size`` x ``size`` in one Pillow call."""

    def __init__(self, size: int, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)) -> None:
        self.size, self.scale, self.ratio = size, tuple(scale), tuple(ratio)

    def __call__(self, img: Image.Image) -> torch.Tensor:
        left, top, w, h = random_resized_crop_box(img.width, img.height, self.scale, self.ratio)
        box = (left, top, left + w, top + h)
        return pil_to_uint8_tensor(img.resize((self.size, self.size), Image.BILINEAR, box=box))


class ResizeCenterCrop:
    """Evaluation transform: shorter side to ``resize_size``, then the centred ``size`` square."""

    def __init__(self, size: int, resize_size: int) -> None:
        if resize_size < size:
            raise ValueError(f"resize_size {resize_size} is smaller than the crop {size}")
        self.size, self.resize_size = size, resize_size

    def __call__(self, img: Image.Image) -> torch.Tensor:
        short, long = sorted((img.width, img.height))
        long = int(self.resize_size * long / short)
        new_size = (self.resize_size, long) if img.width <= img.height else (long, self.resize_size)
        img = img.resize(new_size, Image.BILINEAR)
        left = round((img.width - self.size) / 2)
        top = round((img.height - self.size) / 2)
        return pil_to_uint8_tensor(img.crop((left, top, left + self.size, top + self.size)))
