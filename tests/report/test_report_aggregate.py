"""aggregate and pareto_front on hand-made rows and points."""

import math
from pathlib import Path

from bwma_exp.report import aggregate, collect_runs, pareto_front


def test_seeds_of_one_config_merge_into_mean_and_sample_std(sweep: Path):
    merged = aggregate(collect_runs([sweep]))
    assert [r["act_bits"] for r in merged] == [2, 3, 4, 6, 5]  # vgg8 (no task) sorts last
    two_seeds = merged[2]
    assert two_seeds["seeds"] == [0, 1] and two_seeds["n_jobs"] == 2 and two_seeds["n_acc"] == 2
    assert math.isclose(two_seeds["acc_mean"], 0.92, abs_tol=1e-15)
    assert math.isclose(two_seeds["acc_std"], math.sqrt(2 * 0.02**2), abs_tol=1e-15)
    assert two_seeds["energy_pj"] == 20e6 and two_seeds["status"] == "2 finished"


def test_single_seed_has_no_std_and_unfinished_jobs_no_accuracy(sweep: Path):
    merged = {r["act_bits"]: r for r in aggregate(collect_runs([sweep]))}
    assert (merged[2]["acc_mean"], merged[2]["acc_std"]) == (0.80, None)
    assert merged[6]["acc_mean"] is None and merged[6]["errors"] == ["CUDA out of memory | retry"]
    assert merged[3]["status"] == "1 running/incomplete"


def test_mixed_statuses_are_counted_and_only_finished_seeds_averaged():
    base = {"model": "vgg8", "act_bits": 4, "variant": "", "energy_pj": None,
            "latency_ns": None, "area_um2": None}
    rows = [
        {**base, "seed": 0, "status": "finished", "test_acc": 0.5, "error": None},
        {**base, "seed": 1, "status": "failed", "test_acc": 0.9, "error": "boom"},
        {**base, "seed": 2, "status": "running/incomplete", "test_acc": None, "error": None},
    ]
    (merged,) = aggregate(rows)
    assert merged["status"] == "1 finished, 1 failed, 1 running/incomplete"
    assert (merged["acc_mean"], merged["n_acc"], merged["errors"]) == (0.5, 1, ["boom"])


def test_different_variants_are_different_configurations():
    base = {"model": "vgg8", "seed": 0, "status": "finished", "test_acc": 0.5, "error": None}
    merged = aggregate([{**base, "variant": "optimizer.lr=0.1"},
                        {**base, "variant": "optimizer.lr=0.01"}])
    assert [r["variant"] for r in merged] == ["optimizer.lr=0.01", "optimizer.lr=0.1"]


def test_pareto_front_keeps_undominated_points_by_rising_energy():
    points = [(90, 10), (92, 20), (85, 5), (88, 15), (92, 25), (80, 5)]
    assert pareto_front(points) == [2, 0, 1]


def test_pareto_front_keeps_ties_and_handles_no_points():
    assert pareto_front([(1.0, 1.0), (1.0, 1.0), (0.5, 2.0)]) == [0, 1]
    assert pareto_front([]) == []
