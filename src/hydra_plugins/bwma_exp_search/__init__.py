"""Hydra discovers sweepers in the ``hydra_plugins`` namespace: this registers
``hydra/sweeper=pareto`` (the implementation lives in ``bwma_exp.search``)."""
from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore

from bwma_exp.search import sweeper


class ParetoSweeper(sweeper.ParetoSweeper):
    """Hydra accepts sweepers whose class lives in ``hydra_plugins``; the work is done by
    ``bwma_exp.search.sweeper.ParetoSweeper``."""


@dataclass
class ParetoSweeperConf:
    _target_: str = "hydra_plugins.bwma_exp_search.ParetoSweeper"
    n_trials: int = 20
    optimized_metrics: list[str] = field(default_factory=lambda: ["test_acc", "hw.energy_pj"])
    params: dict[str, Any] = field(default_factory=dict)
    layer_params: dict[str, Any] = field(default_factory=dict)
    constraints: list[str] = field(default_factory=list)
    sampler: str = "nsga2"     # nsga2 (NSGA-II) or tpe (MOTPE)
    seed: int = 0
    n_jobs: int = 1            # trials per launcher batch
    study_name: str = "pareto"


ConfigStore.instance().store(group="hydra/sweeper", name="pareto", node=ParetoSweeperConf,
                             provider="bwma_exp")
