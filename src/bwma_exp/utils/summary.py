"""summary.json: the one file that says what a run is, how far it got and what it measured.

Written atomically (temp file + rename) so a killed run never leaves half a file: at start with
``status: running``, after each validation, and at the end as ``finished`` or ``failed``.
"""
from __future__ import annotations

import json
import math
import os
import secrets
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

SUMMARY_FILE = "summary.json"


def atomic_write(path: Path, write: Callable[[IO], None], *, text: bool = True,
                 newline: str | None = None) -> None:
    """Write ``path`` all at once or not at all: ``write(handle)`` fills a temporary file next
    to it (the same folder, so the same file system), which is synced and renamed over it.

    The file gets the mode a plain ``open()`` gives (0666 less the user's umask: 0644 under
    umask 022), not tempfile's 0600, so teammates can read the run. When writing fails (a full
    disk), the temporary file is removed, the old file stays as it was, and the OSError
    propagates."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w" if text else "wb", newline=newline) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:  # named by the file meant, not by the temporary one
        tmp.unlink(missing_ok=True)
        raise OSError(err.errno, err.strerror, str(path)) from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write(path, lambda f: json.dump(_jsonable(data), f, indent=1, sort_keys=False))


def _jsonable(x: Any) -> Any:
    """Plain JSON: tensors/numpy scalars become numbers, NaN/inf become null."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if hasattr(x, "item") and callable(x.item) and getattr(x, "ndim", 0) == 0:
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


# A run that "finishes" but learned nothing is flagged, not hidden (lr=1e6 ends at chance with a
# finite loss of 1e33). The rules:
# - diverged: the last epoch's mean training loss is above 100x the first epoch's, or above 100x
#   ln(num_classes) (the cross-entropy of a uniform guess; catches a loss that exploded within
#   the first epoch already);
# - at chance: test accuracy (else the best validation accuracy) is at most
#   1/num_classes + CHANCE_MARGIN.
LOSS_GROWTH = 100.0
CHANCE_MARGIN = 0.02


def run_warnings(data: dict[str, Any], num_classes: int) -> tuple[bool, list[str]]:
    """(diverged, warnings) of a finished run's summary, by the rules above."""
    warnings, diverged = [], False
    first, last = data.get("train_loss_first"), data.get("train_loss")
    uniform = math.log(num_classes) if num_classes > 1 else 1.0
    if last is not None and (not math.isfinite(last)
                             or (first is not None and first > 0 and last > LOSS_GROWTH * first)
                             or last > LOSS_GROWTH * uniform):
        diverged = True
        start = f"{first:.3g} → " if first is not None else ""
        warnings.append(f"diverged: training loss {start}{last:.3g} (over {LOSS_GROWTH:g}× the "
                        f"first epoch's or ln({num_classes})); try a lower optimizer.lr")
    acc = data.get("test_acc") if data.get("test_acc") is not None else data.get("best_val_acc")
    chance = 1.0 / num_classes if num_classes > 0 else 0.0
    if acc is not None and acc <= chance + CHANCE_MARGIN:
        which = "test" if data.get("test_acc") is not None else "best val"
        warnings.append(f"at chance: {which} accuracy {100 * acc:.2f} % (guessing: "
                        f"{100 * chance:.2f} %, {num_classes} classes)")
    return diverged, warnings


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class RunSummary:
    """The in-memory summary of one run, flushed to ``<run_dir>/summary.json`` on every change."""

    def __init__(self, run_dir: Path, initial: dict[str, Any]) -> None:
        self.path = Path(run_dir) / SUMMARY_FILE
        self.data: dict[str, Any] = {"status": "running", "error": None, **initial,
                                     "run_dir": str(run_dir), "started_at": now_iso(),
                                     "finished_at": None}
        self.write()

    @classmethod
    def resume(cls, run_dir: Path, initial: dict[str, Any]) -> RunSummary:
        """Continue an existing run's summary (resumed training keeps what it had measured)."""
        path = Path(run_dir) / SUMMARY_FILE
        self = cls.__new__(cls)
        self.path = path
        old = json.loads(path.read_text()) if path.exists() else {}
        self.data = {**old, **initial, "status": "running", "error": None, "finished_at": None,
                     "run_dir": str(run_dir)}
        self.data.setdefault("started_at", now_iso())
        self.write()
        return self

    def update(self, **fields: Any) -> None:
        self.data.update(fields)
        self.write()

    def finish(self, **fields: Any) -> None:
        self.update(**fields, status="finished", finished_at=now_iso())

    def fail(self, error: str) -> None:
        self.update(status="failed", error=error, finished_at=now_iso())

    def write(self) -> None:
        # Under DDP every rank runs the task; only rank 0 owns the run folder's files.
        if _global_rank() == 0:
            atomic_write_json(self.path, self.data)


def _global_rank() -> int:
    """This process's rank: Lightning's (set from the launcher's environment variables before a
    Trainer exists, and by the Trainer's strategy afterwards); 0 outside distributed runs."""
    from lightning_fabric.utilities.rank_zero import rank_zero_only

    return int(getattr(rank_zero_only, "rank", 0) or 0)
