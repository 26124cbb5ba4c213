"""Progress of long jobs: one line per finished step ("chip 2/10 ...", "[3/24] ..."), so that
it reads the same in a terminal, next to Lightning's own bars, and in a log file. ``StepBar``
adds a rich progress bar over the steps in an interactive terminal (the same lines are printed
above it); elsewhere (a pipe, a log file, ``CI=true``) it prints only the lines."""
from __future__ import annotations

import math
import os
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def step_line(text: str) -> None:
    """Print one progress line; never wrapped, never highlighted, flushed at once."""
    console = Console(highlight=False, soft_wrap=True)
    console.print(text, markup=False)
    console.file.flush()


def in_ci() -> bool:
    """True under a CI service (``CI`` set to anything but empty, 0, false or no)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def interactive(console: Console | None = None) -> bool:
    """Whether a progress bar may redraw in place: a real terminal and not CI."""
    console = console or Console()
    return console.is_terminal and not console.is_dumb_terminal and not in_ci()


class StepBar:
    """Progress over ``total`` steps, as a context manager::

        with StepBar(9, "calibrating") as bar:
            for ...:
                bar.start("stages.0.0")           # the step now running (shown on the bar)
                bar.detail("iter 10/200")         # its running detail (bar only)
                bar.done("block 1/9 ...: ...")    # one line per finished step

    In an interactive terminal: a rich bar (description, bar, done/total, the step's detail,
    elapsed and remaining time) with each step's line printed above it. Elsewhere: only the
    lines, as ``step_line`` prints them, so logs read the same. ``console``: stdout's unless
    given."""

    def __init__(self, total: int, description: str, console: Console | None = None) -> None:
        self.total, self.description = int(total), description
        self.console = console or Console(highlight=False, soft_wrap=True)
        self.interactive = interactive(self.console)
        self._progress: Progress | None = None
        self._task = None

    def __enter__(self) -> StepBar:
        if self.interactive:
            self._progress = Progress(
                TextColumn("{task.description}", markup=False), BarColumn(),
                MofNCompleteColumn(), TextColumn("{task.fields[detail]}", markup=False),
                TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                console=self.console)
            self._progress.start()
            self._task = self._progress.add_task(self.description, total=self.total, detail="")
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def start(self, label: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=f"{self.description} {label}",
                                  detail="")

    def detail(self, text: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, detail=text)

    def done(self, line: str) -> None:
        if self._progress is None:   # as step_line prints it
            self.console.print(line, markup=False, highlight=False)
            self.console.file.flush()
            return
        self._progress.console.print(line, markup=False, highlight=False)
        self._progress.update(self._task, advance=1, detail="")


def sweep_size(overrides: list[str]) -> int | None:
    """How many jobs a multirun of these overrides runs (BasicSweeper: the product of every
    sweep's length; a later override of the same key replaces an earlier one); None when an
    override is not countable."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
        last = {override.get_key_element(): override for override in parsed}
        size = 1
        for override in last.values():
            if override.is_sweep_override():
                size *= sum(1 for _ in override.sweep_iterator())
        return size
    except Exception:   # a count is a nicety; never fail a job over it
        return None


def multirun_position() -> tuple[int, int | None]:
    """(this job's number from 1, the sweep's number of jobs or None) of the current Hydra
    multirun job, from the sweeper's params and the command line kept in ``multirun.yaml``."""
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    hydra = HydraConfig.get()
    number = int(hydra.job.num) + 1
    try:
        kept = OmegaConf.load(Path(hydra.sweep.dir) / "multirun.yaml").hydra
        params = kept.sweeper.get("params") or {}
        total = sweep_size([f"{k}={v}" for k, v in params.items()]
                           + list(kept.overrides.task))
    except Exception:   # no multirun.yaml (a custom launcher): count unknown
        total = None
    return number, (max(total, number) if total is not None else None)


def done_of(number: int, total: int | None) -> str:
    width = len(str(total)) if total else 1
    return f"{number:>{width}}/{total}" if total else f"{number}"


def fmt_mean_std(values: list[float]) -> tuple[float, float]:
    mean = math.fsum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    var = math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(var)


def jobs_done(sweep_dir: Path, at_least: int = 0) -> int:
    """Jobs of a sweep folder whose summary.json is no longer ``running`` (finished or failed);
    with a parallel launcher the job number alone does not say how many are done."""
    import json

    done = 0
    for path in Path(sweep_dir).glob("*/summary.json"):
        try:
            if json.loads(path.read_text()).get("status") not in (None, "running"):
                done += 1
        except (OSError, ValueError):
            continue   # being written or unreadable: not counted
    return max(done, at_least)
