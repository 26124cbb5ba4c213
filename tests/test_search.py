"""hparams_search: the Pareto sweeper (Optuna ask/tell behind Hydra), its YAML search space,
resuming a study, and the report of its front."""
import os
import signal
import sqlite3
import subprocess
import sys
import time

import optuna
import pytest

from bwma_exp.search.space import SearchSpace
from bwma_exp.search.sweeper import direction, objective_values
from bwma_exp.utils.errors import ConfigError
from cli_helpers import REPO, read_summary, run_entry


def test_space_reads_hydra_sweep_syntax_and_writes_one_override_per_key():
    space = SearchSpace.from_config({"act_bits": "choice(2, 4)", "crossbar_size": "range(32, 97, 32)",
                                     "optimizer.lr": "interval(0.01, 0.1)"},
                                    {"stages.2.*": {"act_bits": "choice(3, 5)"}},
                                    ["adc_bits >= act_bits - 1"])
    assert space.params["act_bits"] == optuna.distributions.CategoricalDistribution([2, 4])
    assert space.params["crossbar_size"] == optuna.distributions.IntDistribution(32, 96, step=32)
    assert space.params["optimizer.lr"] == optuna.distributions.FloatDistribution(0.01, 0.1)
    assert SearchSpace.overrides({"act_bits": 4, "stages.2.*/act_bits": 3}) == \
        ["act_bits=4", "quant.layers={stages.2.*: {act_bits: 3}}"]
    assert space.feasible({"act_bits": 4}, {"adc_bits": 3})
    assert not space.feasible({"act_bits": 5}, {"adc_bits": 3})


@pytest.mark.parametrize("params, constraints, key", [
    ({"act_bits": "lots"}, [], "hydra.sweeper.params.act_bits"),
    ({"act_bits": "range(4, 2)"}, [], "hydra.sweeper.params.act_bits"),
    ({}, ["__import__('os')"], "hydra.sweeper.constraints"),
    ({}, ["adc_bits"], "hydra.sweeper.constraints"),
])
def test_bad_spaces_are_config_errors(params, constraints, key):
    with pytest.raises(ConfigError) as err:
        SearchSpace.from_config(params, None, constraints)
    assert err.value.key == key


def test_objectives_and_directions():
    assert direction("test_acc") == "maximize" and direction("hw.energy_pj") == "minimize"
    result = {"test_acc": 0.9, "hw": {"energy_pj": 5.0}}
    assert objective_values(result, ["test_acc", "hw.energy_pj"]) == [0.9, 5.0]
    assert objective_values({"test_acc": float("nan"), "hw": {"energy_pj": 1}},
                            ["test_acc", "hw.energy_pj"]) is None
    assert objective_values(None, ["test_acc"]) is None


@pytest.mark.parametrize("config, search", [("train", "pareto"), ("estimate", "hw_pareto")])
def test_shipped_searches_compose_into_a_space(compose_cfg, config, search):
    from omegaconf import OmegaConf

    cfg = compose_cfg(config, [f"hparams_search={search}"])
    sweeper = OmegaConf.to_container(cfg.hydra.sweeper, resolve=True)
    space = SearchSpace.from_config(sweeper["params"], sweeper["layer_params"],
                                    sweeper["constraints"])
    assert {"act_bits", "adc_bits", "crossbar_size", "device"} <= set(space.params)
    assert sweeper["optimized_metrics"] == list(cfg.optimized_metrics)
    if search == "pareto":
        assert "stages.2.*/act_bits" in space.params


def _states(folder):
    with sqlite3.connect(folder / "study.db") as db:
        return [s for (s,) in db.execute("SELECT state FROM trials ORDER BY number")]


def test_hardware_study_resumes_and_reports_its_front(tmp_path):
    sweep = tmp_path / "hw"
    args = ["-m", "hparams_search=hw_pareto", "model=resnet20", f"hydra.sweep.dir={sweep}"]
    first = run_entry("estimate.py", *args, "hydra.sweeper.n_trials=4")
    assert first.returncode == 0, first.stderr[-2000:]
    done = [s for s in _states(sweep) if s != "PRUNED"]
    assert done == ["COMPLETE"] * 4
    stamps = {p.name: read_summary(p)["finished_at"] for p in sweep.iterdir() if p.is_dir()}
    again = run_entry("estimate.py", *args, "hydra.sweeper.n_trials=6")   # 2 more, not 6
    assert again.returncode == 0, again.stderr[-2000:]
    assert [s for s in _states(sweep) if s != "PRUNED"] == ["COMPLETE"] * 6
    assert all(read_summary(sweep / name)["finished_at"] == t for name, t in stamps.items())
    for job in sweep.iterdir():
        if job.is_dir():
            s = read_summary(job)
            assert s["adc_bits"] >= s["act_bits"] - 1                 # the constraint held
    report = subprocess.run([sys.executable, "-m", "bwma_exp.report", str(sweep)],
                            capture_output=True, text=True, cwd=REPO)
    assert report.returncode == 0, report.stderr
    table = (sweep / "pareto_front.md").read_text()
    assert "| trial | hw.energy_pj | hw.latency_ns | configuration |" in table
    assert "6 complete" in table and (sweep / "pareto_front.png").stat().st_size > 0


@pytest.mark.slow
def test_demo_search_of_12_trials_resumes_after_a_kill(tmp_path):
    """The issue's demo-budget search, killed while a trial runs, then run again."""
    sweep = tmp_path / "search"
    args = [sys.executable, str(REPO / "train.py"), "-m", "hparams_search=pareto",
            "hydra.sweeper.n_trials=12", "++trainer.max_epochs=2", "logger.wandb.mode=disabled",
            f"hydra.sweep.dir={sweep}"]
    env = {**os.environ, "WANDB_MODE": "offline", "BWMA_EXP_COMPILE": "0"}
    proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 900
    while time.time() < deadline:
        assert proc.poll() is None, "the search ended before it could be killed"
        if (sweep / "study.db").exists() and _states(sweep).count("COMPLETE") >= 2 \
                and _states(sweep)[-1] == "RUNNING":
            break
        time.sleep(2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _states(sweep)
    finished = {n: read_summary(sweep / str(n))["finished_at"]
                for n, s in enumerate(before) if s == "COMPLETE"}
    assert len(finished) >= 2 and before[-1] == "RUNNING"
    res = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    assert res.returncode == 0, res.stderr[-3000:]
    after = _states(sweep)
    assert after[:len(before) - 1] == before[:-1] and after[len(before) - 1] == "FAIL"
    assert after.count("COMPLETE") + after.count("FAIL") == 12
    assert all(read_summary(sweep / str(n))["finished_at"] == t for n, t in finished.items())
    report = subprocess.run([sys.executable, "-m", "bwma_exp.report", str(sweep)],
                            capture_output=True, text=True, cwd=REPO)
    assert report.returncode == 0 and (sweep / "pareto_front.png").exists()
