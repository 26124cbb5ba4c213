"""Read an offline W&B run (``wandb/offline-run-*/run-<id>.wandb``) back without a network.

wandb has no Python reader for these files any more. The format is a 7-byte header (``:W&B``
and a version) followed by LevelDB log blocks of 32 KiB: each chunk has a 7-byte header (crc32,
uint16 length, uint8 type: 1 full, 2 first, 3 middle, 4 last) and block tails under 7 bytes are
padding. Each reassembled record is a ``wandb_internal_pb2.Record``.
"""
from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BLOCK = 32 * 1024
HEADER = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def record_payloads(data: bytes) -> Iterator[bytes]:
    """The reassembled records of a ``.wandb`` file's bytes."""
    if not data.startswith(b":W&B"):
        raise ValueError("not a W&B run file (missing ':W&B' header)")
    pos, parts = HEADER, []
    while pos + HEADER <= len(data):
        left_in_block = BLOCK - pos % BLOCK
        if left_in_block < HEADER:  # block trailer padding
            pos += left_in_block
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos:pos + HEADER])
        chunk = data[pos + HEADER:pos + HEADER + length]
        pos += HEADER + length
        if kind == 0 and length == 0:  # zero padding at the end of a block
            pos += BLOCK - pos % BLOCK if pos % BLOCK else 0
            continue
        if kind == FULL:
            yield chunk
        elif kind == FIRST:
            parts = [chunk]
        elif kind == MIDDLE:
            parts.append(chunk)
        elif kind == LAST:
            parts.append(chunk)
            yield b"".join(parts)
            parts = []


def read_offline_run(path: str | Path) -> dict[str, Any]:
    """{"summary": {...}, "history": [{...}, ...], "config": {...}, "group": str | None,
    "tags": [...]} of one offline run.

    ``path`` is the ``.wandb`` file or the ``offline-run-*`` folder holding it. ``config`` merges
    the run record's (``wandb.init(config=...)``) with later ``config.update`` records."""
    from wandb.proto import wandb_internal_pb2

    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.wandb"))
        if not files:
            raise FileNotFoundError(f"no .wandb file in {path}")
        path = files[0]
    summary: dict[str, Any] = {}
    history: list[dict[str, Any]] = []
    config: dict[str, Any] = {}
    group: str | None = None
    tags: list[str] = []
    for payload in record_payloads(path.read_bytes()):
        record = wandb_internal_pb2.Record()
        record.ParseFromString(payload)
        kind = record.WhichOneof("record_type")
        if kind == "summary":
            for item in record.summary.update:
                summary[_key(item)] = json.loads(item.value_json)
        elif kind == "history":
            history.append({_key(item): json.loads(item.value_json) for item in record.history.item})
        elif kind == "config":
            for item in record.config.update:
                config[_key(item)] = json.loads(item.value_json)
        elif kind == "run":  # written at init (and again on resume): the latest one holds
            for item in record.run.config.update:
                config[_key(item)] = json.loads(item.value_json)
            group, tags = record.run.run_group or None, list(record.run.tags)
    return {"summary": summary, "history": history, "config": config, "group": group,
            "tags": tags}


def _key(item) -> str:
    return item.key or "/".join(item.nested_key)
