"""The Pareto front of a search folder (``hparams_search=...``): every trial of its Optuna study
drawn on the first two objectives, the front highlighted and each front point labelled with
its configuration, and the front as a Markdown table."""
from __future__ import annotations

from pathlib import Path
from typing import Any

STUDY_FILE = "study.db"


def is_search(folder: Path) -> bool:
    return (Path(folder) / STUDY_FILE).is_file()


def load_trials(folder: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """(objective names, one dict per trial: number, state, params, values, on_front)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{Path(folder) / STUDY_FILE}"
    names = optuna.get_all_study_names(storage)
    study = optuna.load_study(study_name=names[0], storage=storage)
    metrics = list(study.user_attrs.get("optimized_metrics")
                   or [f"objective {i}" for i in range(len(study.directions))])
    front = {t.number for t in study.best_trials}
    trials = [{"number": t.number, "state": t.state.name, "params": dict(t.params),
               "values": list(t.values) if t.values else None, "on_front": t.number in front}
              for t in study.trials if t.state.name != "PRUNED"]
    return metrics, trials


def label(params: dict[str, Any]) -> str:
    return " ".join(f"{k.split('.')[-1] if '/' not in k else k}={v}" for k, v in params.items())


def front_table(metrics: list[str], trials: list[dict[str, Any]]) -> str:
    rows = sorted((t for t in trials if t["on_front"]), key=lambda t: t["values"][-1])
    lines = ["| trial | " + " | ".join(metrics) + " | configuration |",
             "|---:|" + "---:|" * len(metrics) + "---|"]
    for t in rows:
        values = " | ".join(f"{v:.4g}" for v in t["values"])
        lines.append(f"| {t['number']} | {values} | {label(t['params'])} |")
    return "\n".join(lines)


def plot_front(metrics: list[str], trials: list[dict[str, Any]], path: Path) -> bool:
    done = [t for t in trials if t["values"]]
    if len(metrics) < 2 or not done:
        return False
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5))
    x_of, y_of = (lambda t: t["values"][1]), (lambda t: t["values"][0])
    others = [t for t in done if not t["on_front"]]
    front = sorted((t for t in done if t["on_front"]), key=x_of)
    ax.scatter([x_of(t) for t in others], [y_of(t) for t in others], c="0.6", s=18,
               label="trials")
    ax.plot([x_of(t) for t in front], [y_of(t) for t in front], "o-", c="tab:red",
            label="Pareto front")
    for t in front:
        ax.annotate(label(t["params"]), (x_of(t), y_of(t)), fontsize=6,
                    xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel(metrics[1])
    ax.set_ylabel(metrics[0])
    ax.set_title(f"{len(done)} trials, {len(front)} on the front")
    ax.legend(loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return True


def write_search_report(folder: Path, out: Path) -> tuple[str, list[Path]]:
    metrics, trials = load_trials(folder)
    table = front_table(metrics, trials)
    out.mkdir(parents=True, exist_ok=True)
    md = out / "pareto_front.md"
    states = {s: sum(t["state"] == s for t in trials) for s in ("COMPLETE", "FAIL", "RUNNING")}
    md.write_text(f"# Pareto front of {folder}\n\nTrials: "
                  + ", ".join(f"{n} {s.lower()}" for s, n in states.items() if n)
                  + f"\n\n{table}\n")
    written = [md]
    png = out / "pareto_front.png"
    if plot_front(metrics, trials, png):
        written.append(png)
    return table, written
