"""`python calibrate.py ckpt_path=<run> quant=cimq`: CIMQ's post-training quantization on the
tiled chip, block by block, with random quantization dropping (QDrop, Wei et al., ICLR 2022;
block reconstruction as in BRECQ, Li et al., ICLR 2021).

The trained network (full precision or cimq, trained tiled or untiled) is rebuilt twice from
its run config: a full-precision reference and the quant=cimq network, both with the
checkpoint's weights. The quantized network is the chip: crossbars are attached to every
quantized layer before the checkpoint is loaded, with the run's device, crossbar_size,
``hardware.mapping`` and ``cim`` settings (``adc_bits``: the run's unless given), so each layer
is computed subarray by subarray with one weight step per crossbar array, bit-sparse
activation codes and the ReparamClipADC partial sums (an untiled checkpoint's per-layer weight
step holds for every array; quantizer state the checkpoint lacks starts from the first
calibration batch).

Calibration units and the fit: ``cim/reconstruction.py``.

Unit by unit, in forward order, on ``calibration.images`` training images: the unit's inputs
are what the quantized network (its earlier units already calibrated) feeds it, its targets
the reference unit's outputs, and Adam fits the quantizer parameters of the unit's crossbar
layers (weight steps per array, activation steps, the ADC clip θ; weights, biases and
BatchNorm stay fixed) to minimise the mean squared error between the two outputs, with a
learning rate relative to each parameter's size; the fit's parameters with the lowest error
on all the images (measured at its start and ``CHECKS`` times during it) are kept, so no unit
ends worse than it started. In every
step each element of the unit's input is replaced, with probability ``calibration.drop_prob``,
by the full-precision network's value there (QDrop's dropping on the block input; 0 turns it
off), which keeps the steps from overfitting the few images. The chip reads every wordline
input as an activation code, so a dropped element still passes the unit's first activation
quantizer: what is dropped is the quantization error accumulated before the unit.

Each unit costs two forward passes over the images (the reference's and the quantized
network's, both stopped at the unit); no whole-network activation cache is kept. A rich bar
shows the units in a terminal; a pipe, a log or ``CI=true`` gets one line per unit.

Writes ``checkpoints/calibrated.ckpt`` (the state dict and the composed train config of the
calibrated, tiled network) and ``calibrate.json`` (test accuracy of the same chip before
calibration, its quantizers started from the first calibration batch, and after, and each
unit's reconstruction MSE before and after) in its run folder.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pytorch_lightning as pl
import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn

from ..cim.config import run_crossbar
from ..cim.reconstruction import (
    calibrate_unit,
    calibration_units,
    initialize_quantizers,
    unit_io,
    unit_parameters,
)
from ..module import CIMClassifier
from ..utils.builders import attach_cim, build_datamodule, build_model, build_spec, input_shape
from ..utils.checkpoint_io import AtomicCheckpointIO
from ..utils.errors import ConfigError
from ..utils.progress import StepBar
from ..utils.schema import PositiveFloat, PositiveInt, Range, check, check_value
from ..utils.summary import atomic_write_json
from ..utils.validation import AdcBits
from .common import fmt_pct, print_result_table, run_dir
from .evaluate import load_run_config, resolve_checkpoint

METHODS = ("cimq",)


@dataclass(frozen=True)
class Calibration:
    """The ``calibration`` section of configs/calibrate.yaml."""

    images: PositiveInt = 256
    """Training images the steps are fitted on."""
    iters: PositiveInt = 200
    """Adam steps per unit (residual block or single layer)."""
    batch_size: PositiveInt = 32
    drop_prob: Annotated[float, Range(0, 1, hi_open=True)] = 0.5
    """Probability an input element of a unit takes its full-precision value (QDrop)."""
    lr: PositiveFloat = 1e-3
    """Adam's learning rate relative to each parameter's size (lr · mean |p| at the start)."""


def _settings(cfg: DictConfig) -> dict[str, Any]:
    s = check(Calibration, OmegaConf.to_container(cfg.calibration, resolve=True), "calibration")
    return {"images": s.images, "iters": s.iters, "batch_size": s.batch_size,
            "drop_prob": float(s.drop_prob), "lr": float(s.lr)}


# -- data ------------------------------------------------------------------------------------

def _images(datamodule, count: int) -> torch.Tensor:
    datamodule.setup("fit")
    batches, seen = [], 0
    for batch in datamodule.train_dataloader():
        x, _ = datamodule.on_after_batch_transfer(batch, 0)   # unit floats, normalised
        batches.append(x)
        seen += x.shape[0]
        if seen >= count:
            break
    return torch.cat(batches)[:count]


# -- the task --------------------------------------------------------------------------------

def _network(train_cfg: DictConfig, datamodule, state: dict[str, torch.Tensor], ckpt: Path,
             tiled: bool) -> nn.Module:
    """The model of ``train_cfg`` with the checkpoint's weights, with crossbars attached first
    when ``tiled`` (so a tiled checkpoint's per-array steps and ADC state load into matching
    shapes, and an untiled step is expanded to every array); quantizer and crossbar state it
    lacks (a full-precision checkpoint) or has but the new method does not use is left to the
    method."""
    net = build_model(train_cfg, build_spec(train_cfg), datamodule)
    if tiled:
        attach_cim(train_cfg, net, input_shape(datamodule), force=True)
    weights = {k[len("net."):]: v for k, v in state.items() if k.startswith("net.")}
    missing, unexpected = net.load_state_dict(weights, strict=False)
    own = ("weight_quantizer.", "act_quantizer.", ".cim.")
    bad = [k for k in missing + unexpected if not any(part in k for part in own)]
    if bad:
        raise ConfigError("ckpt_path", str(ckpt), f"a checkpoint of model={train_cfg.model.name}",
                          hint=f"parameter {bad[0]} does not match.")
    return net


def _variant(train_cfg: DictConfig, method_cfg: DictConfig | None) -> DictConfig:
    """The reference's config (method_cfg None: full precision, untiled) or the chip's: the
    run's model, data, device, crossbar and cim settings, tiled, with the method, w_bits and
    (when given) act_bits and adc_bits of ``method_cfg``."""
    cfg = OmegaConf.create(OmegaConf.to_container(train_cfg, resolve=True))
    cfg.cim = {**(cfg.get("cim") or {}), "tiled": method_cfg is not None}
    if method_cfg is None:   # the full-precision reference
        cfg.quant = {**cfg.quant, "method": "fp", "options": {}}
        cfg.w_bits = 32
    else:
        cfg.quant, cfg.w_bits = method_cfg.quant, method_cfg.w_bits
        if method_cfg.get("act_bits") is not None:
            cfg.act_bits = method_cfg.act_bits
        if method_cfg.get("adc_bits") is not None:
            cfg.adc_bits = method_cfg.adc_bits
    return cfg


def _device(cfg: DictConfig) -> torch.device:
    if str(cfg.accelerator) in ("auto", "gpu", "cuda") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def calibrate(cfg: DictConfig) -> dict[str, Any]:
    if cfg.quant.method not in METHODS:
        raise ConfigError("quant", cfg.quant.method, ", ".join(METHODS),
                          hint="post-training calibration is CIMQ's (QDrop).")
    check_value("adc_bits", AdcBits | None, cfg.get("adc_bits"))
    settings = _settings(cfg)
    ckpt, run = resolve_checkpoint(str(cfg.ckpt_path))
    train_cfg = load_run_config(run)
    if train_cfg.quant.method not in ("fp",) + METHODS:
        raise ConfigError("ckpt_path", str(ckpt), "a run trained with quant=fp or quant=cimq")
    pl.seed_everything(int(cfg.seed), verbose=False)
    started = time.perf_counter()
    state = torch.load(ckpt, map_location="cpu", weights_only=False)["state_dict"]
    datamodule = build_datamodule(train_cfg)
    device = _device(cfg)
    reference = _network(_variant(train_cfg, None), datamodule, state, ckpt, tiled=False)
    quant_cfg = _variant(train_cfg, cfg)
    chip = run_crossbar(quant_cfg)
    net = _network(quant_cfg, datamodule, state, ckpt, tiled=True)
    reference, net = reference.to(device).eval(), net.to(device).eval()
    reference.requires_grad_(False)
    net.requires_grad_(False)   # calibrate_unit enables each unit's quantizer parameters
    images = _images(datamodule, settings["images"]).to(device)
    generator = torch.Generator(device=device).manual_seed(int(cfg.seed))
    initialize_quantizers(net, images[:settings["batch_size"]])
    acc_before = _test_accuracy(cfg, net, datamodule)
    net.to(device).eval()
    units = calibration_units(net)
    ref_modules = dict(reference.named_modules())
    errors: dict[str, tuple[float, float]] = {}
    width = len(str(len(units)))
    with StepBar(len(units), "calibrating") as bar:
        report = None
        if bar.interactive:
            def report(step: int, loss: torch.Tensor) -> None:
                bar.detail(f"step {step}/{settings['iters']} · MSE {float(loss):.3g}")
        for index, unit in enumerate(units, 1):
            bar.start(unit.name)
            # Two passes per unit, each stopped at it: keeping every unit's activations for
            # all images at once would not fit for ImageNet networks, and the quantized
            # inputs change as the units before are fitted.
            fp_inputs, targets = unit_io(reference, ref_modules[unit.name], images)
            inputs, _ = unit_io(net, unit.module, images, outputs=False)
            errors[unit.name] = calibrate_unit(
                unit.module, unit_parameters(net, unit), inputs, targets, settings, generator,
                fp_inputs if settings["drop_prob"] > 0 else None, report)
            del fp_inputs, targets, inputs
            before, after = errors[unit.name]
            layers = len(unit.layers)
            bar.done(f"block {index:>{width}}/{len(units)} {unit.name} "
                     f"({layers} layer{'s' if layers > 1 else ''}): "
                     f"MSE {before:.4g} -> {after:.4g}")
    acc = _test_accuracy(cfg, net, datamodule)
    seconds = time.perf_counter() - started
    folder = run_dir()
    (folder / "checkpoints").mkdir(parents=True, exist_ok=True)
    out_ckpt = folder / "checkpoints" / "calibrated.ckpt"
    module = CIMClassifier(net.cpu(), datamodule.num_classes, optimizer=torch.optim.SGD)
    AtomicCheckpointIO().save_checkpoint({"state_dict": module.state_dict(),  # atomic, in place
                                          "config": OmegaConf.to_container(quant_cfg, resolve=True)},
                                         out_ckpt)
    result = {"ckpt_path": str(ckpt), "calibrated_ckpt": str(out_ckpt),
              "test_acc_before": acc_before, "test_acc": acc,
              "quant": cfg.quant.method, "w_bits": int(quant_cfg.w_bits),
              "act_bits": int(quant_cfg.act_bits), "adc_bits": int(quant_cfg.adc_bits),
              **chip.summary(), "device": str(quant_cfg.device.name),
              "crossbar_size": int(quant_cfg.crossbar_size),
              "crossbar_layers": sum(len(u.layers) for u in units), **settings,
              "seconds": round(seconds, 1),
              "unit_mse": {u.name: {"layers": list(u.layers), "before": errors[u.name][0],
                                    "after": errors[u.name][1]} for u in units}}
    atomic_write_json(folder / "calibrate.json", result)
    print_result_table(
        f"QDrop calibration of {ckpt}",
        [("test accuracy before (same chip, uncalibrated)", fmt_pct(acc_before)),
         ("test accuracy after", fmt_pct(acc)),
         ("chip", f"W{result['w_bits']}/A{result['act_bits']}, {result['adc_bits']}-bit ADC, "
                  f"{result['crossbar_size']}-row arrays, hardware.mapping={chip.mapping}"),
         ("calibrated blocks", f"{len(units)} ({result['crossbar_layers']} crossbar layers)"),
         ("time", f"{seconds:.0f} s"),
         ("checkpoint", str(out_ckpt))])
    return result


def _test_accuracy(cfg: DictConfig, net: nn.Module, datamodule) -> float:
    module = CIMClassifier(net, datamodule.num_classes, optimizer=torch.optim.SGD)
    batches = cfg.get("test_batches")
    check_value("test_batches", PositiveInt | None, batches)   # null: the whole test split
    trainer = pl.Trainer(accelerator=cfg.accelerator, devices=1, logger=False,
                         enable_checkpointing=False, enable_model_summary=False,
                         limit_test_batches=batches if batches is not None else 1.0)
    return float(trainer.test(module, datamodule=datamodule, verbose=False)[0]["test/acc"])
