"""Find job folders under run/sweep folders and flatten each job's summary.json into one row.

A job folder is any folder holding `summary.json` or a Hydra `.hydra/` folder: a single run
dir, or a numbered job inside a multirun sweep dir. A job killed before it wrote its summary
still has `.hydra/`, so it is reported as "missing" with its configuration read back from
Hydra's own record of the job. A job of a sweep (Hydra's basic sweeper, whose
`multirun.yaml` names every job) that never started has no folder: it is reported as "never
ran", with its configuration from the sweep's overrides.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

# The keys that identify a configuration; jobs equal in all of them (and in `variant`) are
# seeds of one configuration.
CONFIG_KEYS = (
    "task", "quant", "model", "dataset", "w_bits", "act_bits",
    "device", "crossbar_size", "adc_bits",
)
HW_KEYS = ("latency_ns", "energy_pj", "area_um2", "tops_per_w", "utilization")
RUN_KEYS = ("params", "best_val_acc", "test_acc", "started_at", "finished_at")

# Jobs that may still be running or were killed: a dead "running" job cannot be told from a
# live one by reading files.
RUNNING = "running/incomplete"
MISSING = "missing"
NEVER_RAN = "never ran"
INCOMPLETE = (RUNNING, MISSING, NEVER_RAN)
BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"

# Column order of the raw per-job CSV (the `hw` dict is kept in rows but not written).
ROW_COLUMNS = (
    "job_dir", "status", "error", *CONFIG_KEYS, "seed", "variant",
    *RUN_KEYS[:3], *HW_KEYS, *RUN_KEYS[3:],
)


class ReportInputError(ValueError):
    """A path given to the report does not exist or holds no jobs."""


def collect_runs(paths: list[str | Path]) -> list[dict[str, Any]]:
    """One flat row per job found in `paths` (run folders or sweep folders, searched recursively)."""
    rows = []
    for root in map(Path, paths):
        if not root.is_dir():
            raise ReportInputError(f"report: {root} is not a folder")
        jobs = find_job_dirs(root)
        if not jobs:
            raise ReportInputError(
                f"report: no jobs (folders with summary.json or .hydra/) found under {root}"
            )
        found = [job_row(job) for job in jobs] + never_ran_rows(root, jobs)
        rows.extend(sorted(found, key=lambda row: path_key(Path(row["job_dir"]), root)))
    return rows


def sweep_jobs(sweep: Path) -> list[list[str]]:
    """The overrides of every job a basic-sweeper sweep defines, in job-number order (empty for
    other folders, or a sweep Hydra's grammar cannot expand without its configs)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    hydra = sweep_config(sweep).get("hydra") or {}
    sweeper = hydra.get("sweeper") or {}
    if sweeper.get("_target_") != BASIC_SWEEPER:
        return []
    params = [f"{k}={v}" for k, v in (sweeper.get("params") or {}).items()]
    try:
        parsed = OverridesParser.create().parse_overrides(
            params + list((hydra.get("overrides") or {}).get("task") or []))
        return BasicSweeper.split_arguments(parsed, None)[0]
    except Exception:  # Hydra's parse errors, or a glob() sweep that needs the config loader
        return []


def sweep_config(sweep: Path) -> dict:
    config = read_yaml(sweep / "multirun.yaml")
    return config if isinstance(config, dict) else {}


def never_ran_rows(root: Path, found: list[Path]) -> list[dict[str, Any]]:
    """A "never ran" row for each job of the sweep in `root` that has no job folder."""
    rows = []
    sweeps = {job.parent for job in found if root in job.parents} | {root}
    for sweep in sweeps:
        for num, overrides in enumerate(sweep_jobs(sweep)):
            job = sweep / str(num)
            if not is_job_dir(job):
                row = empty_row(job)
                row["status"], row["error"] = NEVER_RAN, "the sweep never started this job"
                apply_config(row, sweep_config(sweep))  # the sweep's, before its overrides
                apply_overrides(row, overrides)
                rows.append(row)
    return rows


def find_job_dirs(root: Path) -> list[Path]:
    """Job folders under `root`, in numeric-aware order; a job's own subfolders are not searched."""
    if is_job_dir(root):
        return [root]
    jobs = []
    for child in sorted(root.iterdir(), key=natural_key):
        if child.is_dir() and not child.name.startswith("."):
            jobs.extend(find_job_dirs(child))
    return jobs


def is_job_dir(folder: Path) -> bool:
    return (folder / "summary.json").is_file() or (folder / ".hydra").is_dir()


def natural_key(path: Path) -> tuple:
    """Sort job folders 0, 1, 2, ..., 10 rather than 0, 1, 10, 2."""
    return (0, int(path.name), "") if path.name.isdigit() else (1, 0, path.name)


def path_key(job: Path, root: Path) -> tuple:
    """The order of find_job_dirs (numeric-aware at every level), for any job under `root`."""
    return tuple(natural_key(Path(part)) for part in job.relative_to(root).parts)


def job_row(job: Path) -> dict[str, Any]:
    summary_path = job / "summary.json"
    if not summary_path.is_file():
        return missing_row(job, error="no summary.json (killed before it was written?)")
    try:
        summary = json.loads(summary_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        return missing_row(job, error=f"summary.json unreadable ({err})")

    row = empty_row(job)
    for key in (*CONFIG_KEYS, "seed", *RUN_KEYS):
        row[key] = summary.get(key)
    row["error"] = summary.get("error")
    row["status"] = RUNNING if summary.get("status") == "running" else summary.get("status")
    row["variant"] = variant(summary.get("overrides") or [])
    hw = summary.get("hw") or read_json(job / "hardware.json")
    add_hardware(row, hw)
    return row


def missing_row(job: Path, error: str) -> dict[str, Any]:
    """A job without a usable summary: its configuration comes from Hydra's `.hydra/` record."""
    row = empty_row(job)
    row["status"] = MISSING
    row["error"] = error
    apply_config(row, read_yaml(job / ".hydra" / "config.yaml") or {})
    apply_overrides(row, read_yaml(job / ".hydra" / "overrides.yaml") or [])
    add_hardware(row, read_json(job / "hardware.json"))
    return row


def apply_config(row: dict[str, Any], config: dict) -> None:
    """The configuration columns a composed config (Hydra's `config.yaml`) sets."""
    for key in (*CONFIG_KEYS, "seed"):
        value = config.get(key)
        if isinstance(value, dict):  # a config group such as model: {name: resnet20, ...}
            value = value.get("name")
        if value is not None and not isinstance(value, (dict, list)) and "${" not in str(value):
            row[key] = value  # (an unresolved ${...} of multirun.yaml is left out)


def apply_overrides(row: dict[str, Any], overrides: list[str]) -> None:
    """The configuration columns and `variant` a job's overrides set."""
    for key, value in map(split_override, overrides):
        if key in CONFIG_KEYS or key == "seed":
            row[key] = parse_scalar(value)
    row["variant"] = variant(overrides)


def empty_row(job: Path) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(ROW_COLUMNS)
    row["job_dir"] = str(job)
    row["variant"] = ""
    row["hw"] = None
    return row


def add_hardware(row: dict[str, Any], hw: dict | None) -> None:
    row["hw"] = hw
    for key in HW_KEYS:
        row[key] = hw.get(key) if hw else None


def variant(overrides: list[str]) -> str:
    """The overrides not already shown as columns (e.g. `lr=0.1`): jobs differing in them are
    different configurations, not seeds of one."""
    shown = {*CONFIG_KEYS, "seed", "crossbar"}
    extra = []
    for override in overrides:
        key, _ = split_override(override)
        if key not in shown and not key.startswith("hydra"):
            extra.append(override.lstrip("+~"))
    return " ".join(sorted(extra))


def split_override(override: str) -> tuple[str, str]:
    key, _, value = str(override).lstrip("+~").partition("=")
    return key.strip(), value.strip()


def parse_scalar(text: str) -> Any:
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None


def read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return None
