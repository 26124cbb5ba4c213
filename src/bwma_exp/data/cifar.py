"""CIFAR-10 and CIFAR-100 from the original python archives (the files torchvision uses).

Where the data come from, in order: an extracted folder ``<data_dir>/cifar-10-batches-py``
(so an existing torchvision data folder works as is), the archive
``<data_dir>/cifar-10-python.tar.gz`` (MD5-checked, then extracted), a download of that archive
from ``CIFAR10_URL`` (resp. the CIFAR-100 names).

Splits: ``val_size`` images of the 50k training set, chosen by a fixed permutation (seed
``SPLIT_SEED``, independent of the training seed), validate; the rest train. ``val_size=0``
trains on all 50k and validates on the test set (the usual protocol of papers that report
test accuracy as "val"). The test split is always the 10k test set.
"""

from __future__ import annotations

import http.client
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bwma_exp.data.archive import download, safe_extract_tar, verify_md5
from bwma_exp.data.base import ImageDataModule, check_bool, check_int
from bwma_exp.data.tensor_dataset import TensorBatchDataset
from bwma_exp.utils.errors import ConfigError, DataUnavailableError

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR100_URL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
CIFAR100_MD5 = "eb9058c3a382ffc7106e4002c42a8d85"
SPLIT_SEED = 0


@dataclass(frozen=True)
class CifarFiles:
    """Where one CIFAR variant lives on disk and on the web."""

    title: str
    archive: str
    folder: str
    train_batches: tuple[str, ...]
    test_batches: tuple[str, ...]
    label_key: str
    url: str
    md5: str


def cifar10_files() -> CifarFiles:
    # Built at call time so tests can monkeypatch CIFAR10_URL / CIFAR10_MD5.
    return CifarFiles(
        "CIFAR-10", "cifar-10-python.tar.gz", "cifar-10-batches-py",
        tuple(f"data_batch_{i}" for i in range(1, 6)), ("test_batch",), "labels",
        CIFAR10_URL, CIFAR10_MD5,
    )


def cifar100_files() -> CifarFiles:
    return CifarFiles(
        "CIFAR-100", "cifar-100-python.tar.gz", "cifar-100-python",
        ("train",), ("test",), "fine_labels", CIFAR100_URL, CIFAR100_MD5,
    )


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles dicts of numpy arrays and lists, nothing that could run code."""

    ALLOWED = frozenset({
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    })

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"unexpected object {module}.{name}")
        return super().find_class(module, name)


def read_batch(path: Path, label_key: str) -> tuple[torch.Tensor, torch.Tensor]:
    """One pickled batch as uint8 images (N, 3, 32, 32) and int64 labels (N,). Rows of
    ``data`` are 1024 red, then 1024 green, then 1024 blue values, each row-major."""
    try:
        with open(path, "rb") as f:
            raw = _ArrayUnpickler(f, encoding="bytes").load()
        batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in raw.items()}
        data = np.asarray(batch["data"], dtype=np.uint8)
        labels = np.asarray(batch[label_key], dtype=np.int64)
    except (pickle.UnpicklingError, EOFError, KeyError, AttributeError, ValueError) as err:
        raise DataUnavailableError(
            f"{path} is not a readable CIFAR batch ({type(err).__name__}: {err}); "
            "delete its folder and extract the archive again."
        ) from None
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(data) != len(labels):
        raise DataUnavailableError(
            f"{path} holds data of shape {data.shape} with {len(labels)} labels, expected "
            "(N, 3072) with N labels; delete its folder and extract the archive again."
        )
    return torch.from_numpy(data.reshape(-1, 3, 32, 32).copy()), torch.from_numpy(labels)


def read_batches(folder: Path, names: tuple[str, ...], label_key: str):
    parts = [read_batch(folder / name, label_key) for name in names]
    return torch.cat([x for x, _ in parts]), torch.cat([y for _, y in parts])


def _missing(folder: Path, files: CifarFiles) -> list[str]:
    return [n for n in files.train_batches + files.test_batches if not (folder / n).is_file()]


def locate_or_fetch(files: CifarFiles, data_dir: Path, allow_download: bool) -> Path:
    """The extracted batch folder, extracting or downloading the archive when needed."""
    folder = data_dir / files.folder
    if not _missing(folder, files):
        return folder
    archive = data_dir / files.archive
    if not archive.is_file():
        if not allow_download:
            raise DataUnavailableError(_offline_message(files, data_dir, "dataset.download=false"))
        try:
            download(files.url, archive)
        except (OSError, http.client.HTTPException) as err:
            reason = str(getattr(err, "reason", err)).replace("\n", " ")
            raise DataUnavailableError(_offline_message(files, data_dir, reason)) from None
        try:
            verify_md5(archive, files.md5)
        except DataUnavailableError:
            archive.unlink()  # a bad download must not masquerade as a local archive
            raise
    else:
        verify_md5(archive, files.md5)
    safe_extract_tar(archive, data_dir)
    if missing := _missing(folder, files):
        raise DataUnavailableError(
            f"{archive} did not contain {files.folder}/{missing[0]}; it is not the "
            f"{files.title} python archive."
        )
    return folder


def _offline_message(files: CifarFiles, data_dir: Path, reason: str) -> str:
    return (
        f"{files.title} is not in {data_dir.resolve()} and could not be downloaded ({reason}): "
        f"put {files.archive} at {(data_dir / files.archive).resolve()}, or set "
        f"dataset.data_dir to an existing torchvision data folder (the one holding "
        f"{files.folder}/), or run dataset=digits, which needs no download."
    )


class _CifarDataModule(ImageDataModule):
    image_size = 32
    in_channels = 3

    # Each dataset names the function that describes its archive (read at call time, so the
    # URL/MD5 module constants can be patched by tests).
    files_of: Callable[[], CifarFiles]

    def __init__(self, val_size: int = 5000, download: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)  # data_dir, batch_size, ... as ImageDataModule
        self.val_size = check_int("val_size", val_size, 0)
        self.download = check_bool("download", download)

    def files(self) -> CifarFiles:
        return type(self).files_of()

    def prepare_data(self) -> None:
        locate_or_fetch(self.files(), Path(self.data_dir), self.download)

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        files = self.files()
        folder = locate_or_fetch(files, Path(self.data_dir), self.download)
        x, y = read_batches(folder, files.train_batches, files.label_key)
        test_x, test_y = read_batches(folder, files.test_batches, files.label_key)
        self.test_set = TensorBatchDataset(test_x, test_y)
        if self.val_size == 0:
            self.train_set, self.val_set = TensorBatchDataset(x, y), self.test_set
            return
        if self.val_size >= len(y):
            raise ConfigError(
                "dataset.val_size", self.val_size, f"0 to {len(y) - 1}",
                "Set 0 to validate on the test set.",
            )
        order = torch.randperm(len(y), generator=torch.Generator().manual_seed(SPLIT_SEED))
        val, train = order[: self.val_size], order[self.val_size :]
        self.train_set = TensorBatchDataset(x[train], y[train])
        self.val_set = TensorBatchDataset(x[val], y[val])


class Cifar10DataModule(_CifarDataModule):
    name = "cifar10"
    num_classes = 10
    mean = (0.4914, 0.4822, 0.4465)
    std = (0.2470, 0.2435, 0.2616)

    files_of = staticmethod(cifar10_files)


class Cifar100DataModule(_CifarDataModule):
    name = "cifar100"
    num_classes = 100
    mean = (0.5071, 0.4865, 0.4409)
    std = (0.2673, 0.2564, 0.2762)

    files_of = staticmethod(cifar100_files)
