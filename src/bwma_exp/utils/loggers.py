"""Loggers of a run: CSV always; W&B online when logged in, offline otherwise, never prompting."""
from __future__ import annotations

import csv
import netrc
import os
from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.loggers import CSVLogger
from pytorch_lightning.loggers.csv_logs import ExperimentWriter
from pytorch_lightning.utilities import rank_zero_only

from .errors import ConfigError

WANDB_MODES = ("auto", "online", "offline", "disabled")


def wandb_logged_in() -> bool:
    """True when an API key is available without asking (env var or ~/.netrc)."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        rc = netrc.netrc(os.environ.get("NETRC") or None)
    except (OSError, netrc.NetrcParseError):
        return False
    host = os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai").split("//")[-1].rstrip("/")
    return rc.authenticators(host) is not None


def resolve_wandb_mode(mode: str) -> str:
    if mode not in WANDB_MODES:
        raise ConfigError("logger.wandb.mode", mode, ", ".join(WANDB_MODES))
    env = os.environ.get("WANDB_MODE")
    if mode == "auto" and env in ("online", "offline", "disabled", "dryrun"):
        return "offline" if env == "dryrun" else env
    if mode == "auto":
        return "online" if wandb_logged_in() else "offline"
    return mode


class KeptRowsCSVLogger(CSVLogger):
    """Lightning's CSVLogger, except that a resumed run keeps the rows it logged before.

    Lightning deletes ``metrics.csv`` when its folder exists ("Previous log files in this
    directory will be deleted"); this one appends to it instead, and flushes its rows whenever a
    checkpoint is saved. ``callbacks.CSVRowsCallback`` drops the rows a resumed run logs again
    (those logged between its checkpoint and the kill), so no row is there twice."""

    @property
    def experiment(self):
        if self._experiment is None and rank_zero_only.rank == 0:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _KeepingWriter(log_dir=self.log_dir)
        return super().experiment

    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        self.save()

    @property
    def metrics_file(self) -> Path:
        return Path(self.log_dir) / _KeepingWriter.NAME_METRICS_FILE

    def keep_rows_before(self, step: int) -> None:
        """Cut metrics.csv back to its rows logged before ``step`` (where a resume restarts)."""
        if rank_zero_only.rank != 0:
            return
        self.experiment.metrics = []  # nothing of the resumed run is logged before this
        path = self.metrics_file
        if not path.is_file():
            return
        with open(path, newline="") as handle:
            table = list(csv.reader(handle))
        if not table:
            return
        header, rows = table[0], table[1:]
        at = header.index("step") if "step" in header else None
        kept = [r for r in rows if at is None or not r[at] or float(r[at]) < step]
        if len(kept) == len(rows):
            return
        from .summary import atomic_write

        def write(handle) -> None:
            csv.writer(handle).writerows([header, *kept])  # Lightning's dialect (excel)
        atomic_write(path, write, text=True, newline="")


class _KeepingWriter(ExperimentWriter):
    def _check_log_dir_exists(self) -> None:
        """Continue an existing metrics.csv (its header gives the columns) instead of
        deleting it."""
        if self._fs.isfile(self.metrics_file_path):
            with self._fs.open(self.metrics_file_path, "r", newline="") as handle:
                self.metrics_keys = [k for k in next(csv.reader(handle), []) if k]


def build_loggers(cfg: DictConfig, run_dir: Path, *, group: str | None, tags: list[str],
                  run_id: str | None = None) -> list[Any]:
    loggers: list[Any] = []
    if cfg.logger.get("csv"):
        loggers.append(instantiate(cfg.logger.csv))
    wb = cfg.logger.get("wandb") or {}
    mode = resolve_wandb_mode(wb.get("mode", "auto"))
    if mode != "disabled":
        loggers.append(_wandb_logger(cfg, run_dir, wb, mode, group, tags, run_id))
    return loggers


def _wandb_logger(cfg, run_dir, wb, mode, group, tags, run_id):
    import wandb
    from pytorch_lightning.loggers import WandbLogger

    os.environ.setdefault("WANDB_SILENT", "true")
    os.environ.setdefault("WANDB_CONSOLE", "off")
    logger = WandbLogger(
        project=wb.get("project", "bwma-exp"), entity=wb.get("entity"),
        group=wb.get("group") or group, tags=sorted(set(list(wb.get("tags") or []) + tags)),
        save_dir=str(run_dir), offline=mode == "offline", id=run_id, resume="allow",
        name=Path(run_dir).name, log_model=False,
        settings=wandb.Settings(init_timeout=30, silent=True, console="off"),
    )
    # Lightning passes ``anonymous=None`` to wandb.init, which wandb >= 0.19 answers with
    # "WARNING The anonymous setting has no effect" on every run: leave the key unset.
    getattr(logger, "_wandb_init", {}).pop("anonymous", None)
    logger.experiment.config.update(OmegaConf.to_container(cfg, resolve=True),
                                    allow_val_change=True)
    logger.experiment.define_metric("val/acc", summary="max")
    return logger


def finish_wandb(exit_code: int = 0) -> None:
    """One W&B run per job: close it so the next multirun job starts its own."""
    import sys
    if "wandb" in sys.modules:
        import wandb
        if wandb.run is not None:
            wandb.finish(exit_code=exit_code)
