"""`python train.py`: fit, test, and write summary.json with accuracy and hardware figures."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.utilities import rank_zero_only

from ..callbacks import CSVRowsCallback, HardwareEstimateCallback, RNGStateCallback, SummaryCallback
from ..cim.config import run_crossbar
from ..distill import build_teacher, distill_options
from ..module import CIMClassifier
from ..utils.builders import (
    attach_cim,
    build_datamodule,
    build_model,
    build_spec,
    count_ops,
    input_shape,
    run_identity,
    run_layers,
)
from ..utils.checkpoint_io import AtomicCheckpointIO
from ..utils.errors import ConfigError
from ..utils.loggers import build_loggers, finish_wandb
from ..utils.summary import RunSummary, run_warnings
from ..utils.validation import validate_common
from ..utils.weights import load_weights_strict
from .common import (
    fmt_hw,
    fmt_partial_sums,
    fmt_pct,
    overrides,
    print_result_table,
    run_dir,
    sweep_group,
)


def train(cfg: DictConfig) -> dict[str, Any]:
    validate_common(cfg)
    _check_sync_batchnorm(cfg)
    _check_required_keys(cfg)
    out = run_dir()
    pl.seed_everything(int(cfg.seed), workers=True, verbose=False)
    spec = build_spec(cfg)
    datamodule = build_datamodule(cfg)
    net = build_model(cfg, spec, datamodule)
    shape = input_shape(datamodule)
    attach_cim(cfg, net, shape)  # tiled runs: crossbar-tiled layers with ADC partial sums
    # init_from starts a new run from another run's weights (ReActNet step 2 from step 1);
    # ckpt_path, by contrast, resumes a run (optimizer, epoch and RNG states too).
    init_from = None
    if cfg.get("init_from"):
        init_from = str(load_weights_strict(net, "init_from", cfg.init_from))
    teacher = build_teacher(cfg, datamodule.num_classes, datamodule.image_size,
                            datamodule.in_channels)
    ops = count_ops(net, shape)
    if (cfg.get("hardware") or {}).get("activity"):
        run_layers(cfg, net, shape)   # hardware.activity is this model's, before data loads
    identity = run_identity(cfg, spec)
    fields = {"task": "train", **identity, **run_crossbar(cfg).summary(),
              "params": ops["params"], "ops": ops,
              "overrides": overrides(), "init_from": init_from,
              "teacher": cfg.distill.teacher_model if teacher is not None else None}
    resuming = bool(cfg.get("ckpt_path")) and (out / "summary.json").exists()
    summary = (RunSummary.resume(out, fields) if resuming
               else RunSummary(out, {**fields, "best_val_acc": None, "test_acc": None}))
    module = CIMClassifier(net, datamodule.num_classes, instantiate(cfg.optimizer),
                           OmegaConf.to_container(cfg.scheduler, resolve=True),
                           label_smoothing=cfg.label_smoothing, teacher=teacher,
                           weight_decay_scope=cfg.get("weight_decay_scope", "all"),
                           **distill_options(cfg))
    hw_callback = HardwareEstimateCallback(cfg, shape, summary)
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values() if c]
    callbacks += [hw_callback, SummaryCallback(summary), RNGStateCallback(), CSVRowsCallback()]
    if rank_zero_only.rank != 0 and cfg.logger.get("wandb"):
        # Under DDP every rank runs this task. The W&B run is rank 0's; the other ranks would
        # get Lightning's dummy experiment, which has no config or summary to write to.
        cfg.logger.wandb.mode = "disabled"
    tags = [f"quant:{spec.method}", f"model:{cfg.model.name}", f"device:{cfg.device.name}"]
    loggers = build_loggers(cfg, out, group=sweep_group(), tags=tags,
                            run_id=summary.data.get("wandb_run_id"))
    for logger in loggers:  # the same W&B run continues when this run is resumed
        if type(logger).__name__ == "WandbLogger":
            summary.update(wandb_run_id=logger.experiment.id)
    exit_code = 1
    try:
        trainer: pl.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers,
                                          plugins=[AtomicCheckpointIO()])
        trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
        test_acc = None
        if cfg.get("test", True):
            ckpt = "best" if _has_best_checkpoint(trainer) else None
            results = trainer.test(module, datamodule=datamodule, ckpt_path=ckpt, verbose=False)
            test_acc = float(results[0]["test/acc"]) if results else None
            for logger in loggers if rank_zero_only.rank == 0 else []:
                if hasattr(logger.experiment, "summary"):
                    logger.experiment.summary["test/acc"] = test_acc
        diverged, warnings = run_warnings({**summary.data, "test_acc": test_acc},
                                          datamodule.num_classes)
        summary.finish(test_acc=test_acc, diverged=diverged, warnings=warnings)
        exit_code = 0
    finally:
        finish_wandb(exit_code)
    data = summary.data
    if rank_zero_only.rank != 0:  # one result table per run, not one per DDP process
        return data
    print_result_table(
        f"{identity['model']} · {identity['quant']} W{identity['w_bits']}/A{identity['act_bits']}"
        f" · {identity['dataset']} · seed {identity['seed']}",
        [("test accuracy", fmt_pct(data.get("test_acc"))),
         ("best val accuracy", fmt_pct(data.get("best_val_acc"))),
         ("parameters", f"{data['params']:,}"),
         *fmt_partial_sums(data),
         *fmt_hw(data.get("hw")),
         ("run folder", str(out)),
         *(("warning", w) for w in data.get("warnings") or [])])
    return data


def _check_required_keys(cfg: DictConfig) -> None:
    """Keys an experiment lists in ``required_keys`` (a teacher checkpoint, step 1's run) must be
    set on the command line: without them the run would not be that experiment's recipe.
    (OmegaConf's ``???`` cannot do this: a merged ``???`` never replaces a default.)"""
    for key in cfg.get("required_keys") or []:
        if OmegaConf.select(cfg, str(key), default=None) is None:
            raise ConfigError(str(key), None, "a value: this experiment lists it in required_keys",
                              hint=f"Add {key}=... (see the experiment's comments), or "
                                   f"required_keys=[] to run without it.")


def _check_sync_batchnorm(cfg: DictConfig) -> None:
    """torch's SyncBatchNorm runs on GPUs only; say so before DDP starts its processes."""
    if cfg.trainer.get("sync_batchnorm") and str(cfg.trainer.get("accelerator")) == "cpu":
        raise ConfigError("trainer.sync_batchnorm", True, "false with trainer.accelerator=cpu",
                          hint="SyncBatchNorm needs GPUs; add trainer.sync_batchnorm=false.")


def _has_best_checkpoint(trainer: pl.Trainer) -> bool:
    ckpt = trainer.checkpoint_callback
    return bool(ckpt is not None and getattr(ckpt, "best_model_path", "")
                and Path(ckpt.best_model_path).exists())
