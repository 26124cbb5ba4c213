"""Fixtures for the data tests."""

import pytest
from cifar_archives import md5_of, write_cifar10_archive


@pytest.fixture
def cifar10_archive(tmp_path, monkeypatch):
    """A test archive at tmp_path/data/cifar-10-python.tar.gz whose MD5 is the expected one."""
    from bwma_exp.data import cifar

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    archive = data_dir / "cifar-10-python.tar.gz"
    written = write_cifar10_archive(archive)
    monkeypatch.setattr(cifar, "CIFAR10_MD5", md5_of(archive))
    return archive, written
