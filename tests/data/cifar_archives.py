"""Tiny CIFAR archives in the real on-disk format (test helpers)."""

import hashlib
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np


def _add(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


def _add_dir(tar: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, 0o755
    tar.addfile(info)


def _pickle(obj) -> bytes:
    # Protocol 2 like the original (Python 2) files; keys are bytes as in those files.
    return pickle.dumps(obj, protocol=2)


def write_cifar10_archive(path: Path, train_per_batch: int = 2, test_count: int = 3) -> dict:
    """data_batch_1..5, test_batch and batches.meta under cifar-10-batches-py/. Returns the
    arrays written: {"train": (data, labels), "test": (data, labels)}."""
    rng = np.random.default_rng(0)
    batches, written = {}, {}
    for i in range(1, 6):
        data = rng.integers(0, 256, (train_per_batch, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, train_per_batch)]
        batches[f"data_batch_{i}"] = (data, labels)
    test = (rng.integers(0, 256, (test_count, 3072), dtype=np.uint8),
            [int(v) for v in rng.integers(0, 10, test_count)])
    batches["test_batch"] = test
    with tarfile.open(path, "w:gz") as tar:
        _add_dir(tar, "cifar-10-batches-py")
        for name, (data, labels) in batches.items():
            record = {b"batch_label": name.encode(), b"labels": labels, b"data": data,
                      b"filenames": [f"img_{k}.png".encode() for k in range(len(labels))]}
            _add(tar, f"cifar-10-batches-py/{name}", _pickle(record))
        meta = {b"label_names": [b"airplane"] * 10, b"num_cases_per_batch": train_per_batch,
                b"num_vis": 3072}
        _add(tar, "cifar-10-batches-py/batches.meta", _pickle(meta))
        _add(tar, "cifar-10-batches-py/readme.html", b"<html></html>")
    train = [batches[f"data_batch_{i}"] for i in range(1, 6)]
    written["train"] = (np.concatenate([d for d, _ in train]), [v for _, ls in train for v in ls])
    written["test"] = test
    return written


def write_cifar100_archive(path: Path) -> dict:
    rng = np.random.default_rng(1)
    written = {}
    with tarfile.open(path, "w:gz") as tar:
        for name, count in (("train", 6), ("test", 2)):
            data = rng.integers(0, 256, (count, 3072), dtype=np.uint8)
            fine = [int(v) for v in rng.integers(0, 100, count)]
            coarse = [v // 5 for v in fine]
            record = {b"filenames": [b"x.png"] * count, b"batch_label": name.encode(),
                      b"fine_labels": fine, b"coarse_labels": coarse, b"data": data}
            _add(tar, f"cifar-100-python/{name}", _pickle(record))
            written[name] = (data, fine)
        _add(tar, "cifar-100-python/meta", _pickle({b"fine_label_names": [b"apple"] * 100}))
    return written


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()
