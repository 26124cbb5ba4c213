"""What every datamodule shares: config checks, loaders, and the batched device-side hook.

Subclasses set the class attributes ``name``, ``num_classes``, ``image_size``, ``in_channels``,
``mean``, ``std`` (or the same as instance attributes) and fill ``train_set``, ``val_set`` and
``test_set`` in ``setup``. Augmentation does not happen in the loader: loaders yield uint8 or
[0, 1] float images and ``on_after_batch_transfer`` crops, flips (training only) and normalises
the whole batch on the training device.

The constructor arguments below exist once: subclasses take only their own arguments and
forward the rest (``**kwargs``); a dataset's own defaults (digits: no flip, ...) are set in its
``configs/dataset/*.yaml``.
"""

from __future__ import annotations

from typing import Annotated, Any

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset

from bwma_exp.data.augment import (
    normalize,
    random_crop_with_padding,
    random_horizontal_flip,
    to_unit_float,
)
from bwma_exp.data.tensor_dataset import TensorBatchDataset, keep_batch
from bwma_exp.utils.schema import Range, check_value


def check_int(key: str, value: Any, minimum: int) -> int:
    """``value`` as an int >= ``minimum``, else a ConfigError naming ``dataset.<key>``."""
    return check_value(f"dataset.{key}", Annotated[int, Range(minimum)], value)


def check_bool(key: str, value: Any) -> bool:
    return check_value(f"dataset.{key}", bool, value)


class ImageDataModule(pl.LightningDataModule):
    name: str
    num_classes: int
    image_size: int
    in_channels: int
    mean: tuple[float, ...]
    std: tuple[float, ...]

    def __init__(
        self,
        data_dir: str = "data",
        batch_size: int = 128,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        pin_memory: bool | None = None,
        augment: bool = True,
        flip: bool = True,
        padding: int = 4,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.data_dir = str(data_dir)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.eval_batch_size = (
            batch_size if eval_batch_size is None else check_int("eval_batch_size", eval_batch_size, 1)
        )
        self.num_workers = check_int("num_workers", num_workers, 0)
        # None: pin when there is a GPU to copy to.
        self.pin_memory = (
            torch.cuda.is_available() if pin_memory is None else check_bool("pin_memory", pin_memory)
        )
        self.augment = check_bool("augment", augment)
        self.flip = check_bool("flip", flip)
        self.padding = check_int("padding", padding, 0)
        self.seed = check_int("seed", seed, 0)
        # Augmentation and shuffling each own a generator so a resumed run continues both.
        self.augment_generator = torch.Generator().manual_seed(self.seed)
        self.shuffle_generator = torch.Generator().manual_seed(self.seed + 1)
        self.train_set: Dataset | None = None
        self.val_set: Dataset | None = None
        self.test_set: Dataset | None = None

    # -- loaders -------------------------------------------------------------------------

    def _loader(self, dataset: Dataset | None, batch_size: int, train: bool) -> DataLoader:
        if dataset is None:
            raise RuntimeError(f"{type(self).__name__}.setup() must run before asking for loaders")
        batched = isinstance(dataset, TensorBatchDataset)
        return DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=train,
            generator=self.shuffle_generator if train else None,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.num_workers > 0,
            collate_fn=keep_batch if batched else None,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, self.batch_size, train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, self.eval_batch_size, train=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_set, self.eval_batch_size, train=False)

    # -- device-side batch transform -----------------------------------------------------

    def _is_training(self) -> bool:
        trainer = getattr(self, "trainer", None)
        return trainer is not None and bool(trainer.training)

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        x, y = batch
        x = to_unit_float(x)
        if self.augment and self._is_training():
            x = random_crop_with_padding(x, self.padding, self.augment_generator)
            if self.flip:
                x = random_horizontal_flip(x, self.augment_generator)
        return normalize(x, self.mean, self.std), y

    # -- checkpointed state --------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {
            "augment_generator": self.augment_generator.get_state(),
            "shuffle_generator": self.shuffle_generator.get_state(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.augment_generator.set_state(state_dict["augment_generator"])
        self.shuffle_generator.set_state(state_dict["shuffle_generator"])
