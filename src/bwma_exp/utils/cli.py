"""What every entry point shares: config-group checks before Hydra composes, and errors
turned into one line (key, value, what is allowed) with a non-zero exit and no traceback."""
from __future__ import annotations

import errno
import os
import re
import sys
import traceback
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfigError, DataUnavailableError

# The configs ship inside the package, so an installed wheel runs as a checkout does.
CONFIG_DIR = Path(str(resources.files("bwma_exp") / "configs"))
# Errors that are the user's to fix: one line, no traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (ConfigError, DataUnavailableError)
DEVICE_HINT = "device is the crossbar technology; to train on a CPU/GPU set trainer.accelerator."


def group_options(group: str) -> list[str]:
    folder = CONFIG_DIR / group
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def check_group_overrides(argv: list[str]) -> None:
    """Unknown options of our config groups (model=foo) fail here with one line instead of
    Hydra's multi-line report. Hydra's own groups (hydra/launcher=...) are left to Hydra."""
    for arg in argv:
        if "=" not in arg or arg.startswith(("-", "~")):
            continue
        key, value = arg.split("=", 1)
        key = key.lstrip("+")
        if key.startswith("hydra") or "." in key or not (CONFIG_DIR / key).is_dir():
            continue
        if "(" in value or value in ("null", ""):
            continue  # sweep functions and "no option" are Hydra's to parse
        allowed = group_options(key)
        for option in value.split(","):
            if option not in allowed:
                # every wrong device gets the hint: users type device=cuda meaning the GPU
                hint = DEVICE_HINT if key == "device" else ""
                raise ConfigError(key, option, ", ".join(allowed), hint=hint)


def check_parsable(argv: list[str]) -> None:
    """An override Hydra's grammar cannot read (``act_bits=４``, a full-width digit) fails here
    with one line naming its key and what the key accepts, instead of Hydra's lexer report."""
    import unicodedata

    from hydra.core.override_parser.overrides_parser import OverridesParser

    from .validation import allowed_for

    parser = OverridesParser.create()
    for arg in argv:
        if "=" not in arg or arg.startswith("-"):
            continue
        try:
            parser.parse_override(arg)
        except Exception:  # Hydra's OverrideParseException, or the lexer's own errors
            key, value = arg.split("=", 1)
            key = key.lstrip("+~")
            if key.startswith("hydra"):
                continue  # Hydra's own keys: Hydra's report
            plain = unicodedata.normalize("NFKC", value)
            hint = (f"Type {plain} in ASCII characters." if plain != value and plain.isascii()
                    else "Hydra's override grammar cannot read it; quote it: "
                         f"{key}='{value}'.")
            raise ConfigError(key, value, allowed_for(key) or "a value Hydra can read",
                              hint=hint) from None


def check_keys(argv: list[str], config_name: str) -> None:
    """An override of a key the composed config does not have (trainer.max_epoch=3) fails
    here with one line naming the keys it could be, instead of Hydra's five-line report.
    Sweeps are checked at their first value; syntax errors and Hydra's own keys are left to
    Hydra."""
    from hydra import compose, initialize_config_dir
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import ConfigCompositionException, HydraException
    from omegaconf import OmegaConf

    try:
        parsed = OverridesParser.create().parse_overrides(
            [a for a in argv if "=" in a and not a.startswith("-")])
        first = [f"{o.get_key_element()}={next(iter(o.sweep_string_iterator()))}"
                 if o.is_sweep_override() else o.input_line
                 for o in parsed if not o.get_key_element().lstrip("+~").startswith("hydra")]
    except (HydraException, StopIteration, TypeError, ValueError):
        return
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        try:
            compose(config_name, overrides=first)
            return
        except ConfigCompositionException as err:
            missing = re.match(r"Could not override '([^']+)'", str(err))
            if missing is None:
                return
            key = missing.group(1)
            rest = [o for o in first if o.split("=", 1)[0] != key]
            try:
                cfg = compose(config_name, overrides=rest)
            except HydraException:
                return
    parent, _, name = key.rpartition(".")
    while parent and not OmegaConf.is_dict(OmegaConf.select(cfg, parent)):
        parent, _, name = parent.rpartition(".")       # the first missing part of the key
    node = OmegaConf.select(cfg, parent) if parent else cfg
    keys = ", ".join(sorted(k for k in node.keys() if not str(k).startswith("_")))
    missing = f"{parent}.{name}" if parent else name
    where = f"{parent} has" if parent else "its top-level keys are"
    fail(f"{missing} is not a key of the {config_name} config: {where} {keys}. "
         f"Add a new key with +{key}=...")


def fail(message: str, code: int = 2) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


def quiet_known_warnings() -> None:
    """Warnings a user can do nothing about: in-memory datasets need no loader workers,
    Lightning 2.6 trips over a torch deprecation of its own, and Lightning tips about litlogger
    on every Trainer."""
    import warnings
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
    import logging

    class _DropTips(logging.Filter):
        """Lightning's advertisement for its cloud logger (an INFO record on every Trainer)."""

        def filter(self, record: logging.LogRecord) -> bool:
            return "litlogger" not in record.getMessage()

    for name in ("pytorch_lightning.utilities.rank_zero", "lightning_fabric.utilities.rank_zero",
                 "lightning.pytorch.utilities.rank_zero"):
        target = logging.getLogger(name)
        if not any(type(f).__name__ == "_DropTips" for f in target.filters):  # called twice
            target.addFilter(_DropTips())


def precheck(argv: list[str], config_name: str, resumable: bool = False) -> None:
    """Checks the command line; for train.py also turns ``ckpt_path=last`` into a resume of that
    run (rewriting sys.argv before Hydra parses it)."""
    # Run folders and data live under the folder the command is started from (the checkout's
    # root in the README's commands); PROJECT_ROOT moves them elsewhere.
    os.environ.setdefault("PROJECT_ROOT", os.getcwd())
    quiet_known_warnings()
    try:
        check_group_overrides(argv)
        check_parsable(argv)
        if resumable:
            from .resume import resume_argv
            runs_root = Path(os.environ["PROJECT_ROOT"]) / "outputs" / "runs" / "train"
            sys.argv[1:] = resume_argv(argv, runs_root)
    except ConfigError as err:
        fail(str(err))
    check_keys(sys.argv[1:] if resumable else argv, config_name)


class JobRunner:
    """Runs one Hydra job. In a single run a user error exits non-zero with one line; in a
    multirun a failing job is recorded (summary.json says why) and the sweep goes on."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def __call__(self, task: Callable[[Any], Any], cfg: Any) -> Any:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        multirun = HydraConfig.get().mode == RunMode.MULTIRUN
        run_dir = Path(HydraConfig.get().runtime.output_dir)
        if multirun:  # the same sweep command again: finished jobs are kept as they are
            earlier = _earlier_job(run_dir, list(HydraConfig.get().overrides.task))
            if isinstance(earlier, str):
                self.failures.append(earlier)
                print(f"error: {earlier}", file=sys.stderr)
                return None
            if earlier is not None:
                print(f"skipped, finished earlier: {run_dir}")
                return earlier
            if HydraConfig.get().job.config_name == "train":
                cfg = _resume_interrupted(run_dir, cfg, list(HydraConfig.get().overrides.task))
        try:
            return task(cfg)
        except KeyboardInterrupt:
            self._mark_failed(run_dir, "interrupted")
            raise
        except Exception as err:  # recorded; re-raised outside sweeps unless the user's to fix
            user_error = _user_error_in(err)
            if user_error is not None:  # also when Hydra wraps it (errors raised by _target_s)
                return self._failed(run_dir, str(user_error), multirun, show_traceback=False)
            message = os_error_line(err) or one_line(err)
            if not multirun and not _is_known_runtime_error(err):
                self._mark_failed(run_dir, message)
                raise
            return self._failed(run_dir, message, multirun, show_traceback=multirun)

    def _failed(self, run_dir: Path, message: str, multirun: bool, show_traceback: bool) -> None:
        try:
            self._mark_failed(run_dir, message)
        except OSError as err:  # the disk that failed the run may refuse summary.json too
            message += f" (summary.json not updated: {err.strerror})"
        if show_traceback and os.environ.get("HYDRA_FULL_ERROR") == "1":
            traceback.print_exc()
        self.failures.append(message)
        where = f" ({run_dir})" if multirun else ""
        print(f"error: {message}{where}", file=sys.stderr)

    @staticmethod
    def _mark_failed(run_dir: Path, message: str) -> None:
        import json

        from .summary import SUMMARY_FILE, RunSummary

        path = run_dir / SUMMARY_FILE
        data = json.loads(path.read_text()) if path.exists() else {}
        if data.get("status") == "failed":
            return
        summary = RunSummary.resume(run_dir, {}) if path.exists() else RunSummary(run_dir, {})
        summary.fail(message)

    def exit(self) -> None:
        if self.failures:
            sys.exit(1 if len(self.failures) > 1 else 2)


def _earlier_job(run_dir: Path, overrides: list[str]) -> dict | str | None:
    """What a rerun sweep finds in this job's folder: the summary of a job that finished with
    these overrides (kept, not rerun); a one-line error when a finished job with other
    overrides is there (the folder belongs to another sweep: it is not overwritten); else None.
    Hydra has rewritten ``.hydra/`` by now, so the overrides are read from summary.json."""
    import json

    from .summary import SUMMARY_FILE

    try:
        data = json.loads((run_dir / SUMMARY_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("status") != "finished":
        return None
    if data.get("overrides") == overrides:
        return data
    return (f"{run_dir} holds a finished job of another command ({' '.join(data.get('overrides') or [])}); "
            "it is left as it is. Rerun the sweep with its own command or a new hydra.sweep.dir.")


def _resume_interrupted(run_dir: Path, cfg: Any, overrides: list[str]) -> Any:
    """A train job a kill left ``running`` continues from its checkpoints/last.ckpt (the resume
    of ``ckpt_path=<run>``); a failed one reruns from the start, its old checkpoints removed
    (Lightning would otherwise save best-v1.ckpt beside them)."""
    import json
    import shutil

    from omegaconf import open_dict

    from .summary import SUMMARY_FILE

    try:
        data = json.loads((run_dir / SUMMARY_FILE).read_text())
    except (OSError, ValueError):
        return cfg  # a new job (or one killed before its summary): nothing to resume
    if cfg.get("ckpt_path") or not isinstance(data, dict):
        return cfg
    last = run_dir / "checkpoints" / "last.ckpt"
    if data.get("status") == "running" and last.is_file() and data.get("overrides") == overrides:
        with open_dict(cfg):
            cfg.ckpt_path = str(last)
        print(f"resuming, interrupted earlier: {run_dir}")
    elif (run_dir / "checkpoints").is_dir():
        shutil.rmtree(run_dir / "checkpoints")
    return cfg


def _user_error_in(err: BaseException | None) -> BaseException | None:
    """The user error that caused ``err`` (itself, or one in its cause chain), if any."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, USER_ERRORS):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


def one_line(err: BaseException) -> str:
    """The error and its causes on one line (Hydra wraps errors raised by _target_ calls)."""
    parts, seen = [], set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        parts.append(f"{type(err).__name__}: {' '.join(str(err).split())}")
        err = err.__cause__ or err.__context__
    return " <- ".join(parts)[:1000]


# Writes the machine refused (a full disk or quota, a file size limit, a read-only or foreign
# folder): the user's to fix, reported in one line naming the file.
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}


def _write_error_in(err: BaseException | None) -> OSError | None:
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, OSError) and err.errno in WRITE_ERRNOS:
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


def os_error_line(err: BaseException) -> str | None:
    """``could not write <file>: No space left on device`` for a refused write, else None."""
    found = _write_error_in(err)
    if found is None:
        return None
    where = f" {found.filename}" if found.filename else ""
    return f"could not write{where}: {found.strerror or found}"


def _is_known_runtime_error(err: BaseException) -> bool:
    from ..module import NonFiniteLossError
    return isinstance(err, NonFiniteLossError) or _write_error_in(err) is not None
