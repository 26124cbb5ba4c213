"""Merge the seeds of one configuration: accuracy as mean ± sample std, hardware as the mean."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from .collect import CONFIG_KEYS, INCOMPLETE, MISSING, NEVER_RAN, RUNNING

GROUP_KEYS = (*CONFIG_KEYS, "variant")
STATUS_ORDER = ("finished", "failed", RUNNING, MISSING, NEVER_RAN)
AGGREGATED_COLUMNS = (
    *GROUP_KEYS, "seeds", "n_jobs", "n_acc", "acc_mean", "acc_std",
    "latency_ns", "energy_pj", "area_um2", "status", "errors",
)


def aggregate(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per configuration (all keys equal except seed), sorted by configuration.

    acc_mean/acc_std are fractions over the finished seeds that have a test accuracy; the
    std is the sample std (n-1) and None for a single seed. `status` counts the jobs per
    status; `errors` lists each distinct error once.
    """
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row.get(key) for key in GROUP_KEYS), []).append(row)
    merged = [merge_group(key, members) for key, members in groups.items()]
    return sorted(merged, key=lambda row: tuple(sort_key(row[key]) for key in GROUP_KEYS))


def merge_group(key: tuple, members: list[dict]) -> dict[str, Any]:
    row: dict[str, Any] = dict(zip(GROUP_KEYS, key))
    row["seeds"] = sorted((m["seed"] for m in members if m.get("seed") is not None), key=sort_key)
    row["n_jobs"] = len(members)
    accuracies = [
        m["test_acc"] for m in members
        if m.get("status") == "finished" and m.get("test_acc") is not None
    ]
    row["n_acc"] = len(accuracies)
    row["acc_mean"] = statistics.fmean(accuracies) if accuracies else None
    row["acc_std"] = statistics.stdev(accuracies) if len(accuracies) > 1 else None
    for metric in ("latency_ns", "energy_pj", "area_um2"):
        values = [m[metric] for m in members if m.get(metric) is not None]
        row[metric] = statistics.fmean(values) if values else None
    row["status"] = status_summary(members)
    row["errors"] = list(dict.fromkeys(m["error"] for m in members if m.get("error")))
    return row


def status_summary(members: list[dict]) -> str:
    """'2 finished', '1 finished, 1 failed', ... in a fixed order, unknown statuses last."""
    counts = Counter(m.get("status") or "unknown" for m in members)
    order = [s for s in STATUS_ORDER if s in counts] + sorted(set(counts) - set(STATUS_ORDER))
    return ", ".join(f"{counts[s]} {s}" for s in order)


def has_problem(row: dict[str, Any]) -> bool:
    """True for a job (or configuration) that failed or may not have finished."""
    return any(word in row.get("status", "") for word in ("failed", *INCOMPLETE)) or bool(
        row.get("errors") or row.get("error")
    )


def sort_key(value: Any) -> tuple:
    """Numbers before strings before None, so mixed columns still sort."""
    if value is None:
        return (2, 0, "")
    if isinstance(value, (int, float)):
        return (0, value, "")
    return (1, 0, str(value))
