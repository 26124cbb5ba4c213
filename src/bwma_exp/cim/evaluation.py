"""Accuracy under device variation: ``cim.variation_samples`` chips, each with its own seeded
conductance deviations (``variation.py``), evaluated on the same split; mean ± std over chips."""
from __future__ import annotations

import statistics
from collections.abc import Callable

from omegaconf import DictConfig, OmegaConf
from torch import nn

from .attach import sample_variation
from .config import CIMConfig


def eval_cim_config(eval_cfg: DictConfig, train_cfg: DictConfig) -> CIMConfig:
    """The training run's cim settings with the eval command's ``cim.*`` keys on top."""
    merged = OmegaConf.to_container(train_cfg.get("cim") or {}, resolve=True)
    merged.update(OmegaConf.to_container(eval_cfg.get("cim") or {}, resolve=True))
    return CIMConfig.from_dict(merged, train_cfg.get("adc_bits", 4))


def variation_accuracies(net: nn.Module, cim: CIMConfig, evaluate: Callable[[], float]
                         ) -> dict:
    """Evaluate ``variation_samples`` chips; sample i is seeded with variation_seed + i.
    Prints one line per chip: "chip i/N: acc, running mean ± std"."""
    from ..utils.progress import fmt_mean_std, step_line

    accs = []
    total = cim.variation_samples
    for i in range(total):
        sample_variation(net, cim.variation_sigma, cim.variation_kind, cim.variation_seed + i)
        accs.append(evaluate())
        mean, std = fmt_mean_std(accs)
        step_line(f"chip {i + 1:>{len(str(total))}}/{total}: acc {100 * accs[-1]:.2f} %, "
                  f"mean {100 * mean:.2f} ± {100 * std:.2f} %")
    sample_variation(net, 0.0, cim.variation_kind, 0)
    return {"variation_sigma": cim.variation_sigma, "variation_kind": cim.variation_kind,
            "variation_samples": cim.variation_samples, "accs": accs,
            "acc_mean": statistics.fmean(accs),
            "acc_std": statistics.stdev(accs) if len(accs) > 1 else 0.0}
