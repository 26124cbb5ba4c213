"""`python eval.py ckpt_path=...`: accuracy of a trained checkpoint, rebuilt from its run config."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from omegaconf import DictConfig, OmegaConf

from ..cim.activity import ACTIVITY_FILE, ActivityMeter
from ..cim.config import CIMConfig, run_crossbar
from ..cim.evaluation import eval_cim_config, variation_accuracies
from ..module import CIMClassifier
from ..utils.builders import (
    attach_cim,
    build_datamodule,
    build_model,
    build_spec,
    estimate_hardware,
    input_shape,
)
from ..utils.errors import ConfigError
from ..utils.summary import atomic_write_json
from ..utils.validation import validate
from .common import fmt_hw, fmt_pct, print_result_table, run_dir


def resolve_checkpoint(path: str) -> tuple[Path, Path]:
    """(checkpoint file, training run folder) from a .ckpt path or a run folder."""
    p = Path(path).expanduser()
    if p.is_dir():
        for name in ("best.ckpt", "last.ckpt"):
            if (p / "checkpoints" / name).exists():
                return p / "checkpoints" / name, p
        raise ConfigError("ckpt_path", path, "a .ckpt file or a run folder with checkpoints/")
    if not p.is_file():
        raise ConfigError("ckpt_path", path, "an existing .ckpt file or run folder")
    run = p.parent.parent if p.parent.name == "checkpoints" else p.parent
    return p, run


def load_run_config(run: Path, named: str | None = None) -> DictConfig:
    """The training run's config; ``named`` is what the user passed (a file is named as such)."""
    cfg_file = run / ".hydra" / "config.yaml"
    if not cfg_file.exists():
        raise ConfigError("ckpt_path", named or str(run),
                          "a checkpoint inside a run folder with .hydra/config.yaml",
                          hint=f"{run} has no .hydra/config.yaml.")
    return OmegaConf.load(cfg_file)


def read_checkpoint(ckpt: Path) -> dict[str, Any]:
    """The checkpoint's contents; a truncated or foreign file is one line naming it."""
    try:
        state = torch.load(ckpt, map_location="cpu", weights_only=False)
    except Exception as err:  # torch raises RuntimeError, UnpicklingError, EOFError, ...
        reason = " ".join(str(err).split())[:200]
        raise ConfigError("ckpt_path", str(ckpt), "a complete checkpoint written by train.py",
                          hint=f"It cannot be read ({type(err).__name__}: {reason}); it may be "
                               f"truncated. checkpoints/last.ckpt of the run may still be whole."
                          ) from None
    if not isinstance(state, dict) or "state_dict" not in state:
        raise ConfigError("ckpt_path", str(ckpt), "a complete checkpoint written by train.py",
                          hint="It holds no state_dict.")
    return state


def load_module(ckpt: Path, train_cfg: DictConfig, cim: CIMConfig,
                state: dict[str, Any] | None = None) -> tuple[CIMClassifier, Any]:
    spec = build_spec(train_cfg)
    datamodule = build_datamodule(train_cfg)
    net = build_model(train_cfg, spec, datamodule)
    # Tiled runs carry ADC ranges in their checkpoint; variation needs crossbars even on an
    # untiled run (then with ideal ADCs). Attach before loading so strict loading matches.
    attach_cim(train_cfg, net, input_shape(datamodule), force=cim.variation_sigma > 0)
    module = CIMClassifier(net, datamodule.num_classes, optimizer=torch.optim.SGD)
    state = state if state is not None else read_checkpoint(ckpt)
    module.load_state_dict(state["state_dict"], strict=True)
    return module, datamodule


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    validate(cfg, "eval")
    ckpt, run = resolve_checkpoint(str(cfg.ckpt_path))
    named = str(cfg.ckpt_path) if Path(str(cfg.ckpt_path)).expanduser().is_file() else None
    train_cfg = load_run_config(run, named)
    state = read_checkpoint(ckpt)  # before the data and model are built
    if cfg.get("batch_size"):
        train_cfg.dataset.batch_size = int(cfg.batch_size)
    pl.seed_everything(int(cfg.seed), verbose=False)
    tiled = run_crossbar(train_cfg).tiled   # cim.tiled=auto: as the run's method declares
    if cfg.get("adc_bits") is not None:
        if not tiled:
            raise ConfigError("adc_bits", cfg.adc_bits, "set only for a run trained with "
                              "cim.tiled=true", hint="an untiled run has no ADC ranges to reuse.")
        train_cfg.adc_bits = cfg.adc_bits
    cim = eval_cim_config(cfg, train_cfg)
    if not tiled:
        train_cfg.cim = {**OmegaConf.to_container(train_cfg.get("cim") or {}), "adc": False}
    module, datamodule = load_module(ckpt, train_cfg, cim, state)
    trainer = pl.Trainer(accelerator=cfg.accelerator, devices=1, logger=False,
                         enable_checkpointing=False, enable_model_summary=False)
    run_eval = trainer.test if cfg.split == "test" else trainer.validate

    def accuracy() -> float:
        return float(run_eval(module, datamodule=datamodule, verbose=False)[0][f"{cfg.split}/acc"])

    with ActivityMeter.for_run(module.net, train_cfg) as meter:   # the bits this evaluation reads
        variation = (variation_accuracies(module.net, cim, accuracy) if cim.variation_sigma > 0
                     else None)
        acc = variation["acc_mean"] if variation else accuracy()
    activity = {"model": train_cfg.model.name, "layers": meter.result()}
    atomic_write_json(run_dir() / ACTIVITY_FILE, activity)
    hw, _ = estimate_hardware(train_cfg, module.net, input_shape(datamodule), activity=activity)
    result = {"ckpt_path": str(ckpt), "split": cfg.split, "acc": acc,
              **run_crossbar(train_cfg).summary(), "adc_bits": cim.adc_bits if tiled else None,
              "model": train_cfg.model.name, "quant": train_cfg.quant.method,
              "input_shape": list(input_shape(datamodule)),
              **({"variation": variation} if variation else {}),
              "activity": ACTIVITY_FILE, "hw": hw}
    atomic_write_json(run_dir() / "eval.json", result)
    rows = [(f"{cfg.split} accuracy", fmt_pct(acc))]
    if variation:
        rows = [(f"{cfg.split} accuracy (σ={cim.variation_sigma}, {cim.variation_kind}, "
                 f"{cim.variation_samples} chips)",
                 f"{fmt_pct(variation['acc_mean'])} ± {100 * variation['acc_std']:.2f}")]
    rows += fmt_hw(hw)
    print_result_table(f"{cfg.split} accuracy of {ckpt}", rows)
    return result
