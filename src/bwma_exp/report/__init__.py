"""Aggregate runs and sweeps into tables and figures (`python -m bwma_exp.report`)."""

from .aggregate import aggregate
from .collect import ReportInputError, collect_runs
from .pareto import pareto_front
from .write import write_report

__all__ = ["ReportInputError", "aggregate", "collect_runs", "pareto_front", "write_report"]
