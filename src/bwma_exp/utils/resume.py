"""Resuming a killed run: `python train.py ckpt_path=last` (or a run folder, or a .ckpt file)
continues from the last checkpoint in the same run folder, with the same overrides and W&B id."""
from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from .errors import ConfigError

ALLOWED = "last, a run folder, or a .ckpt file inside a run folder's checkpoints/"


def latest_run(runs_root: Path) -> Path:
    runs = sorted((p for p in runs_root.glob("*") if (p / "checkpoints" / "last.ckpt").exists()),
                  key=lambda p: p.name)
    if not runs:
        raise ConfigError("ckpt_path", "last", ALLOWED, hint=f"No run with checkpoints/last.ckpt in {runs_root}.")
    return runs[-1]


def locate(value: str, runs_root: Path) -> tuple[Path, Path]:
    """(run folder, checkpoint file) that ``ckpt_path=value`` names."""
    if value == "last":
        run = latest_run(runs_root)
        return run, run / "checkpoints" / "last.ckpt"
    p = Path(value).expanduser().resolve()
    if p.is_dir() and (p / "checkpoints" / "last.ckpt").exists():
        return p, p / "checkpoints" / "last.ckpt"
    if p.is_file() and p.parent.name == "checkpoints" and (p.parent.parent / ".hydra").is_dir():
        return p.parent.parent, p
    raise ConfigError("ckpt_path", value, ALLOWED)


def check_not_finished(value: str, run: Path) -> None:
    """A finished run is never resumed: that would re-test it and rewrite its summary.json,
    config, logs and metrics (its history would be lost). Nothing in the run is touched."""
    try:
        status = json.loads((run / "summary.json").read_text()).get("status")
    except (OSError, ValueError, AttributeError):
        return  # no readable summary: an interrupted run, resumable
    if status == "finished":
        raise ConfigError("ckpt_path", value, "a run that has not finished",
                          hint=f"{run} has finished and is left as it is. Start a new run "
                               f"without ckpt_path (init_from={run} starts one from its "
                               f"weights), or test it with python eval.py ckpt_path={run}.")


# Characters Hydra reads unquoted in an override's value; any other value is quoted.
_PLAIN = re.compile(r"[A-Za-z0-9_./+-]*")


def quote(value: str) -> str:
    """``value`` as Hydra's override grammar reads it back unchanged (paths with spaces,
    quotes, commas or non-ASCII letters are quoted)."""
    if _PLAIN.fullmatch(value):
        return value
    return "'" + value.replace("'", "\\'") + "'"  # a backslash escapes only a quote


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def resume_argv(argv: list[str], runs_root: Path) -> list[str]:
    """The overrides of the run being resumed, then the user's (which win), then the folder."""
    values = [a.split("=", 1)[1] for a in argv if _key(a) == "ckpt_path" and "=" in a]
    if not values or values[-1] in ("null", "") or "-m" in argv or "--multirun" in argv:
        return argv
    run, ckpt = locate(values[-1], runs_root)
    check_not_finished(values[-1], run)
    saved = yaml.safe_load((run / ".hydra" / "overrides.yaml").read_text()) or []
    user = [a for a in argv if _key(a) not in ("ckpt_path", "hydra.run.dir")]
    user_keys = {_key(a) for a in user if "=" in a}
    kept = [o for o in saved if _key(o) not in user_keys | {"ckpt_path", "hydra.run.dir"}]
    return kept + user + [f"ckpt_path={quote(str(ckpt))}", f"hydra.run.dir={quote(str(run))}"]
