import io
import pickle
import shutil
import tarfile
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
import torch
from cifar_archives import md5_of, write_cifar10_archive, write_cifar100_archive

from bwma_exp.data import cifar
from bwma_exp.data.cifar import Cifar10DataModule, Cifar100DataModule
from bwma_exp.utils.errors import ConfigError, DataUnavailableError


def as_images(data: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(data.reshape(-1, 3, 32, 32))


def test_parses_the_real_archive_layout_into_images_and_labels(cifar10_archive):
    archive, written = cifar10_archive
    dm = Cifar10DataModule(data_dir=str(archive.parent), val_size=0)
    dm.prepare_data()
    dm.setup("fit")
    train_data, train_labels = written["train"]
    assert dm.train_set.x.shape == (10, 3, 32, 32) and dm.train_set.x.dtype == torch.uint8
    assert dm.train_set.y.tolist() == train_labels
    # Row layout: 1024 red values, then green, then blue, each a row-major 32x32 plane.
    assert dm.train_set.x[3, 0].flatten().tolist() == train_data[3, :1024].tolist()
    assert dm.train_set.x[3, 1, 0, :4].tolist() == train_data[3, 1024:1028].tolist()
    assert dm.train_set.x[3, 2, 1, 0].item() == train_data[3, 2048 + 32]
    assert torch.equal(dm.test_set.x, as_images(written["test"][0]))
    assert dm.test_set.y.tolist() == written["test"][1]
    assert dm.val_set is dm.test_set  # val_size=0 validates on the test set


def test_val_split_is_fixed_and_disjoint(cifar10_archive):
    archive, written = cifar10_archive
    splits = []
    for seed in (0, 5):
        dm = Cifar10DataModule(data_dir=str(archive.parent), val_size=4, seed=seed)
        dm.setup("fit")
        splits.append(dm)
    a, b = splits
    assert (len(a.train_set), len(a.val_set), len(a.test_set)) == (6, 4, 3)
    assert torch.equal(a.val_set.x, b.val_set.x) and torch.equal(a.train_set.y, b.train_set.y)
    order = torch.randperm(10, generator=torch.Generator().manual_seed(0))
    everything = as_images(written["train"][0])
    assert torch.equal(a.val_set.x, everything[order[:4]])
    assert torch.equal(a.train_set.x, everything[order[4:]])


def test_val_size_too_large_is_a_config_error(cifar10_archive):
    archive, _ = cifar10_archive
    dm = Cifar10DataModule(data_dir=str(archive.parent), val_size=10)
    with pytest.raises(ConfigError, match=r"^dataset.val_size=10 is not valid: allowed 0 to 9"):
        dm.setup("fit")


def test_extracted_folder_is_used_without_the_archive(cifar10_archive):
    archive, written = cifar10_archive
    Cifar10DataModule(data_dir=str(archive.parent)).prepare_data()
    archive.unlink()
    dm = Cifar10DataModule(data_dir=str(archive.parent), download=False, val_size=0)
    dm.setup("test")
    assert dm.test_set.y.tolist() == written["test"][1]


def test_wrong_checksum_names_file_and_both_md5s(tmp_path):
    archive = tmp_path / "cifar-10-python.tar.gz"
    write_cifar10_archive(archive)
    actual = md5_of(archive)
    with pytest.raises(DataUnavailableError) as err:
        Cifar10DataModule(data_dir=str(tmp_path)).prepare_data()
    message = str(err.value)
    assert "\n" not in message
    assert str(archive) in message
    assert f"MD5 {actual}, expected c58f30108f718f92721af3b95e74349a" in message
    assert not (tmp_path / "cifar-10-batches-py").exists()


def test_download_from_url_verifies_and_extracts(tmp_path, monkeypatch):
    source = tmp_path / "server" / "cifar-10-python.tar.gz"
    source.parent.mkdir()
    written = write_cifar10_archive(source)
    monkeypatch.setattr(cifar, "CIFAR10_URL", source.as_uri())
    monkeypatch.setattr(cifar, "CIFAR10_MD5", md5_of(source))
    data_dir = tmp_path / "fresh" / "data"
    dm = Cifar10DataModule(data_dir=str(data_dir), val_size=0)
    dm.prepare_data()
    assert md5_of(data_dir / "cifar-10-python.tar.gz") == md5_of(source)
    assert (data_dir / "cifar-10-batches-py" / "data_batch_5").is_file()
    assert not (data_dir / "cifar-10-python.tar.gz.part").exists()
    dm.setup("fit")
    assert dm.train_set.y.tolist() == written["train"][1]


def test_bad_download_is_deleted_and_reported(tmp_path, monkeypatch):
    source = tmp_path / "server.tar.gz"
    write_cifar10_archive(source)
    monkeypatch.setattr(cifar, "CIFAR10_URL", source.as_uri())
    with pytest.raises(DataUnavailableError, match="expected c58f30108f718f92721af3b95e74349a"):
        Cifar10DataModule(data_dir=str(tmp_path / "data")).prepare_data()
    assert not (tmp_path / "data" / "cifar-10-python.tar.gz").exists()


def offline(*args, **kwargs):
    raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")


def test_offline_error_is_fast_one_line_and_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    data_dir = tmp_path / "data"
    start = time.monotonic()
    with pytest.raises(DataUnavailableError) as err:
        Cifar10DataModule(data_dir=str(data_dir)).prepare_data()
    assert time.monotonic() - start < 2.0
    message = str(err.value)
    assert "\n" not in message
    assert f"put cifar-10-python.tar.gz at {data_dir.resolve()}/cifar-10-python.tar.gz" in message
    assert "torchvision data folder" in message and "cifar-10-batches-py/" in message
    assert "dataset=digits" in message and "name resolution" in message


def test_unreachable_url_gives_the_offline_error(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar, "CIFAR10_URL", (tmp_path / "nowhere.tar.gz").as_uri())
    with pytest.raises(DataUnavailableError, match="could not be downloaded"):
        Cifar10DataModule(data_dir=str(tmp_path)).setup("fit")


def test_download_false_never_touches_the_network(tmp_path, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", pytest.fail)
    with pytest.raises(DataUnavailableError, match=r"\(dataset.download=false\)"):
        Cifar10DataModule(data_dir=str(tmp_path), download=False).prepare_data()


def test_cifar100_uses_fine_labels(tmp_path, monkeypatch):
    archive = tmp_path / "cifar-100-python.tar.gz"
    written = write_cifar100_archive(archive)
    monkeypatch.setattr(cifar, "CIFAR100_MD5", md5_of(archive))
    dm = Cifar100DataModule(data_dir=str(tmp_path), val_size=2)
    dm.setup("fit")
    assert (dm.name, dm.num_classes, len(dm.train_set), len(dm.val_set)) == ("cifar100", 100, 4, 2)
    assert dm.test_set.y.tolist() == written["test"][1]
    assert torch.equal(dm.test_set.x, as_images(written["test"][0]))
    assert sorted(torch.cat([dm.train_set.y, dm.val_set.y]).tolist()) == sorted(written["train"][1])


def test_archive_with_path_escaping_entry_is_refused(tmp_path, monkeypatch):
    archive = tmp_path / "data" / "cifar-10-python.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    monkeypatch.setattr(cifar, "CIFAR10_MD5", md5_of(archive))
    with pytest.raises(DataUnavailableError, match=r"unsafe entry '\.\./escaped\.txt'"):
        Cifar10DataModule(data_dir=str(archive.parent)).prepare_data()
    assert not (tmp_path / "escaped.txt").exists()


def test_batch_with_foreign_pickle_objects_is_refused_without_running_them(cifar10_archive):
    archive, _ = cifar10_archive
    data_dir = archive.parent
    Cifar10DataModule(data_dir=str(data_dir)).prepare_data()
    batch = data_dir / "cifar-10-batches-py" / "data_batch_2"
    batch.write_bytes(pickle.dumps({b"data": shutil.rmtree}, protocol=2))
    with pytest.raises(DataUnavailableError, match=rf"^{batch} is not a readable CIFAR batch"):
        Cifar10DataModule(data_dir=str(data_dir)).setup("fit")
    assert data_dir.exists()


def test_truncated_batch_names_the_file(cifar10_archive):
    archive, _ = cifar10_archive
    Cifar10DataModule(data_dir=str(archive.parent)).prepare_data()
    batch = archive.parent / "cifar-10-batches-py" / "test_batch"
    batch.write_bytes(batch.read_bytes()[:100])
    with pytest.raises(DataUnavailableError, match="test_batch is not a readable CIFAR batch"):
        Cifar10DataModule(data_dir=str(archive.parent)).setup("test")


def test_interface_attributes():
    dm = Cifar10DataModule()
    assert (dm.name, dm.num_classes, dm.image_size, dm.in_channels) == ("cifar10", 10, 32, 3)
    assert (dm.flip, dm.padding, dm.val_size, len(dm.mean), len(dm.std)) == (True, 4, 5000, 3, 3)
