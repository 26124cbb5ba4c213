"""Fetch, verify and unpack dataset archives: MD5, download with a timeout, safe tar extraction."""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import urllib.request
from pathlib import Path

from bwma_exp.utils.errors import DataUnavailableError

DOWNLOAD_TIMEOUT_S = 10.0


def md5sum(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def verify_md5(path: Path, expected: str) -> None:
    actual = md5sum(path)
    if actual != expected:
        raise DataUnavailableError(
            f"{path} is corrupt or not the expected file: MD5 {actual}, expected {expected}; "
            "delete it and download it again."
        )


def download(url: str, destination: Path, timeout: float = DOWNLOAD_TIMEOUT_S) -> None:
    """Stream ``url`` to ``destination`` via a ``.part`` file, so an interrupted download never
    leaves a file that looks complete. Network errors propagate as ``OSError``."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(partial, "wb") as f:
            shutil.copyfileobj(response, f)
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)


def safe_extract_tar(archive: Path, destination: Path) -> None:
    """Extract regular files and folders only, all inside ``destination``; refuse links,
    devices and paths escaping it (absolute or with ``..``)."""
    root = destination.resolve()
    with tarfile.open(archive, "r:*") as tar:
        members = tar.getmembers()
        for member in members:
            target = (root / member.name).resolve()
            inside = target == root or root in target.parents
            if not inside or not (member.isfile() or member.isdir()):
                raise DataUnavailableError(
                    f"{archive} holds an unsafe entry {member.name!r}; delete the archive and "
                    "download it again."
                )
        if hasattr(tarfile, "data_filter"):
            tar.extractall(root, members=members, filter="data")
        else:  # Python < 3.10.12 / 3.11.4: members were checked above
            tar.extractall(root, members=members)
