"""Loggers of a run: CSV always; W&B online when logged in, offline otherwise, never prompting."""
from __future__ import annotations

import netrc
import os
from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

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
