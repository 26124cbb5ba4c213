"""A Hydra sweeper that runs a multi-objective Optuna study (NSGA-II by default, MOTPE as
``sampler: tpe``) over the search space of ``hparams_search/*.yaml``.

Optuna's own ask/tell drives Hydra's launcher, rather than the hydra-optuna-sweeper plugin:
that plugin pins optuna<3 (and with it an SQLAlchemy that fails on SQLite here) and pulls a
rich that breaks Lightning's progress bar. Ask/tell keeps the current Optuna and lets the study
live where the trials live:

- the study is an SQLite file in the sweep folder, ``study.db``; the same command (the sweep
  folder is fixed by the search config) loads it, marks trials a kill left RUNNING as FAIL and
  runs only the trials still missing;
- every trial is a normal run folder, ``<sweep>/<trial number>``, and its job returns the
  run's summary, from which the objectives (``optimized_metrics``: dotted keys such as
  ``test_acc`` or ``hw.energy_pj``; accuracies are maximised, everything else minimised) are
  read; a failed job or a NaN objective is told as a failed trial and the study goes on.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import optuna
from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper
from omegaconf import DictConfig, OmegaConf
from optuna.trial import TrialState

from ..utils.errors import ConfigError
from .space import SearchSpace

STUDY_FILE = "study.db"
MAXIMISED = ("acc",)        # an objective whose last key part contains this is maximised
MAX_REJECTS = 1000          # infeasible samples in a row before the study gives up


def direction(metric: str) -> str:
    last = metric.rsplit(".", 1)[-1]
    return "maximize" if any(word in last for word in MAXIMISED) else "minimize"


def objective_values(result: Any, metrics: Sequence[str]) -> list[float] | None:
    """The objectives read from a job's return value; None when any is missing or not finite."""
    values = []
    for metric in metrics:
        node = result
        for part in metric.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        if not isinstance(node, (int, float)) or isinstance(node, bool) \
                or not math.isfinite(node):
            return None
        values.append(float(node))
    return values


class ParetoSweeper(Sweeper):
    def __init__(self, n_trials: int, optimized_metrics: list[str], params: Any = None,
                 layer_params: Any = None, constraints: Any = None, sampler: str = "nsga2",
                 seed: int = 0, n_jobs: int = 1, study_name: str = "pareto") -> None:
        if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
            raise ConfigError("hydra.sweeper.n_trials", n_trials, "a positive integer")
        if sampler not in ("nsga2", "tpe"):
            raise ConfigError("hydra.sweeper.sampler", sampler, "nsga2 or tpe")
        self.metrics = [str(m) for m in optimized_metrics]
        if not self.metrics:
            raise ConfigError("optimized_metrics", optimized_metrics, "one or more metrics")
        self.n_trials, self.sampler_name, self.seed = n_trials, sampler, int(seed)
        self.n_jobs, self.study_name = max(1, int(n_jobs)), study_name
        as_plain = lambda node: OmegaConf.to_container(node, resolve=True) \
            if OmegaConf.is_config(node) else node  # noqa: E731
        self.space = SearchSpace.from_config(as_plain(params), as_plain(layer_params),
                                             as_plain(constraints))

    def setup(self, *, hydra_context, task_function, config: DictConfig) -> None:
        self.hydra_context, self.config = hydra_context, config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config)

    def _study(self) -> optuna.Study:
        folder = Path(self.config.hydra.sweep.dir)
        folder.mkdir(parents=True, exist_ok=True)
        sampler = (optuna.samplers.NSGAIISampler(seed=self.seed) if self.sampler_name == "nsga2"
                   else optuna.samplers.TPESampler(seed=self.seed, multivariate=True))
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(
            storage=f"sqlite:///{folder / STUDY_FILE}", study_name=self.study_name,
            directions=[direction(m) for m in self.metrics], sampler=sampler,
            load_if_exists=True)
        study.set_user_attr("optimized_metrics", self.metrics)   # for the report
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            study.tell(trial.number, state=TrialState.FAIL)   # left running by a kill
        return study

    def sweep(self, arguments: list[str]) -> list[Any]:
        study = self._study()
        base = {k: self.config.get(k) for k in ("act_bits", "w_bits", "adc_bits",
                                               "crossbar_size") if k in self.config}
        results = []
        done = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,
                                                            TrialState.FAIL)))
        print(f"[pareto] study {self.study_name}: {done} of {self.n_trials} trials done "
              f"({self.config.hydra.sweep.dir})")
        rejects = 0
        while done < self.n_trials:
            batch = []
            while len(batch) < min(self.n_jobs, self.n_trials - done):
                trial = study.ask(self.space.params)
                if self.space.feasible(trial.params, base):
                    batch.append(trial)
                    rejects = 0
                    continue
                study.tell(trial, state=TrialState.PRUNED)     # never launched, not counted
                rejects += 1
                if rejects > MAX_REJECTS:
                    raise ConfigError("hydra.sweeper.constraints", list(self.space.constraints),
                                      "constraints that some point of the space satisfies")
            jobs = [[*arguments, *SearchSpace.overrides(t.params)] for t in batch]
            self.validate_batch_is_legal(jobs)
            returns = self.launcher.launch(jobs, initial_job_idx=batch[0].number)
            for trial, ret in zip(batch, returns):
                try:
                    values = objective_values(ret.return_value, self.metrics)
                except Exception:   # the job raised: its run folder says why
                    values = None
                if values is None:
                    study.tell(trial, state=TrialState.FAIL)
                else:
                    study.tell(trial, values)
                results.append(ret)
            done += len(batch)
            print(f"[pareto] {done}/{self.n_trials} trials")
        return results
