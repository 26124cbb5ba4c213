"""`python calibrate.py ckpt_path=<run> quant=cimq`: CIMQ's post-training quantization with
random quantization dropping (QDrop, Wei et al., ICLR 2022).

The trained network (full precision or already cimq) is rebuilt twice from its run config: a
full-precision reference and the quant=cimq network, both with the checkpoint's weights. Layer
by layer, on ``calibration.images`` training images, the quantized layer's learnable steps
(weight and activation; the weights themselves stay fixed) are fitted by Adam to minimise the
mean squared error between its output and the reference layer's output. The quantized layer
reads what the quantized network (its earlier layers already calibrated) feeds it, so the
fit corrects the error accumulated so far; in every step each input element is replaced, with
probability ``calibration.drop_prob``, by the full-precision network's value there (QDrop's
dropping; 0 turns it off), which keeps the steps from overfitting the few images.
Calibration runs untiled (partial sums at infinite resolution); tiled runs are refused, as
their per-array steps do not fit the untiled layers.

Writes ``checkpoints/calibrated.ckpt`` (the state dict and the composed train config of the
calibrated network) and ``calibrate.json`` (test accuracy before and after) in its run folder.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from omegaconf import DictConfig, OmegaConf
from torch import nn

from ..cim.attach import crossbar_layers
from ..module import CIMClassifier
from ..quant.layers import QConv2d
from ..utils.builders import build_datamodule, build_model, build_spec
from ..utils.checkpoint_io import AtomicCheckpointIO
from ..utils.errors import ConfigError
from ..utils.progress import step_line
from ..utils.schema import PositiveFloat, PositiveInt, Range, check, check_value
from ..utils.summary import atomic_write_json
from .common import fmt_pct, print_result_table, run_dir
from .evaluate import load_run_config, resolve_checkpoint

METHODS = ("cimq",)


@dataclass(frozen=True)
class Calibration:
    """The ``calibration`` section of configs/calibrate.yaml."""

    images: PositiveInt = 256
    """Training images the steps are fitted on."""
    iters: PositiveInt = 200
    """Adam steps per layer."""
    batch_size: PositiveInt = 32
    drop_prob: Annotated[float, Range(0, 1, hi_open=True)] = 0.5
    """Probability an activation element keeps its full-precision value (QDrop)."""
    lr: PositiveFloat = 1e-3


def _settings(cfg: DictConfig) -> dict[str, Any]:
    s = check(Calibration, OmegaConf.to_container(cfg.calibration, resolve=True), "calibration")
    return {"images": s.images, "iters": s.iters, "batch_size": s.batch_size,
            "drop_prob": float(s.drop_prob), "lr": float(s.lr)}


def _network(train_cfg: DictConfig, datamodule, state: dict[str, torch.Tensor], ckpt: Path
             ) -> nn.Module:
    """The model of ``train_cfg`` with the checkpoint's weights; quantizer state it lacks (a
    full-precision checkpoint) or has but the new method does not use is left to the method."""
    net = build_model(train_cfg, build_spec(train_cfg), datamodule)
    weights = {k[len("net."):]: v for k, v in state.items() if k.startswith("net.")}
    missing, unexpected = net.load_state_dict(weights, strict=False)
    own = ("weight_quantizer.", "act_quantizer.", ".cim.")
    bad = [k for k in missing + unexpected if not any(part in k for part in own)]
    if bad:
        raise ConfigError("ckpt_path", str(ckpt), f"a checkpoint of model={train_cfg.model.name}",
                          hint=f"parameter {bad[0]} does not match.")
    return net


def _variant(train_cfg: DictConfig, method_cfg: DictConfig | None) -> DictConfig:
    cfg = OmegaConf.create(OmegaConf.to_container(train_cfg, resolve=True))
    cfg.cim = {**(cfg.get("cim") or {}), "tiled": False}
    if method_cfg is None:   # the full-precision reference
        cfg.quant = {**cfg.quant, "method": "fp", "options": {}}
        cfg.w_bits = 32
    else:
        cfg.quant, cfg.w_bits = method_cfg.quant, method_cfg.w_bits
        if method_cfg.get("act_bits") is not None:
            cfg.act_bits = method_cfg.act_bits
    return cfg


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


@torch.no_grad()
def _layer_io(net: nn.Module, layer: nn.Module, images: torch.Tensor, chunk: int = 64):
    inputs, outputs = [], []

    def record(module, args, output) -> None:   # returns None: the output is left unchanged
        inputs.append(args[0])
        outputs.append(output)

    handle = layer.register_forward_hook(record)
    try:
        for start in range(0, images.shape[0], chunk):
            net(images[start:start + chunk])
    finally:
        handle.remove()
    return torch.cat(inputs), torch.cat(outputs)


def qdrop_forward(layer: nn.Module, x: torch.Tensor, drop_prob: float,
                  generator: torch.Generator | None = None,
                  x_fp: torch.Tensor | None = None) -> torch.Tensor:
    """The layer's output on its quantized input ``x``, each element replaced w.p.
    ``drop_prob`` by the full-precision value ``x_fp`` (default: x itself, unquantized)."""
    a = layer.act_quantizer(x)
    if drop_prob > 0:
        keep_fp = torch.rand(x.shape, generator=generator, device=x.device) < drop_prob
        a = torch.where(keep_fp, x if x_fp is None else x_fp, a)
    w = layer.weight_quantizer(layer.weight)
    if isinstance(layer, QConv2d):
        return layer._conv_forward(a, w, layer.bias)
    return F.linear(a, w, layer.bias)


def calibrate_layer(layer: nn.Module, inputs: torch.Tensor, targets: torch.Tensor,
                    settings: dict[str, Any], generator: torch.Generator,
                    fp_inputs: torch.Tensor | None = None) -> tuple[float, float]:
    """Fit the layer's quantizer steps on ``inputs`` (the quantized network's) towards
    ``targets``; ``fp_inputs``: the reference's inputs for QDrop (default: ``inputs``).
    Returns the reconstruction MSE before and after."""
    layer.train()
    layer(inputs[:settings["batch_size"]])       # first batch: the quantizers' initial steps
    layer.eval()                                 # fixed steps from here; no regulariser
    params = [p for n, p in layer.named_parameters() if "_quantizer." in n]

    def full_error() -> float:
        with torch.no_grad():
            return float(F.mse_loss(qdrop_forward(layer, inputs, 0.0), targets))

    before = full_error()
    if params:
        optimizer = torch.optim.Adam(params, lr=settings["lr"])
        for _ in range(settings["iters"]):
            idx = torch.randint(inputs.shape[0], (settings["batch_size"],), generator=generator)
            out = qdrop_forward(layer, inputs[idx], settings["drop_prob"], generator,
                                None if fp_inputs is None else fp_inputs[idx])
            loss = F.mse_loss(out, targets[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return before, full_error()


def calibrate(cfg: DictConfig) -> dict[str, Any]:
    if cfg.quant.method not in METHODS:
        raise ConfigError("quant", cfg.quant.method, ", ".join(METHODS),
                          hint="post-training calibration is CIMQ's (QDrop).")
    settings = _settings(cfg)
    ckpt, run = resolve_checkpoint(str(cfg.ckpt_path))
    train_cfg = load_run_config(run)
    if train_cfg.quant.method not in ("fp",) + METHODS:
        raise ConfigError("ckpt_path", str(ckpt), "a run trained with quant=fp or quant=cimq")
    if (train_cfg.get("cim") or {}).get("tiled", False):
        raise ConfigError("ckpt_path", str(ckpt), "a run trained with cim.tiled=false",
                          hint="calibration fits untiled steps (one per layer).")
    pl.seed_everything(int(cfg.seed), verbose=False)
    state = torch.load(ckpt, map_location="cpu", weights_only=False)["state_dict"]
    datamodule = build_datamodule(train_cfg)
    reference = _network(_variant(train_cfg, None), datamodule, state, ckpt).eval()
    quant_cfg = _variant(train_cfg, cfg)
    net = _network(quant_cfg, datamodule, state, ckpt)
    images = _images(datamodule, settings["images"])
    generator = torch.Generator().manual_seed(int(cfg.seed))
    ref_layers = dict(reference.named_modules())
    errors = {}
    net.eval()   # calibrate_layer leaves each layer in eval mode too
    # Two passes per layer: keeping every layer's activations for all images at once would
    # not fit for ImageNet networks, and the quantized inputs change as layers are fitted.
    layers = list(crossbar_layers(net))
    width = len(str(len(layers)))
    for index, (name, layer) in enumerate(layers, 1):
        fp_inputs, targets = _layer_io(reference, ref_layers[name], images)
        inputs, _ = _layer_io(net, layer, images)   # what the calibrated layers before feed it
        errors[name] = calibrate_layer(layer, inputs, targets, settings, generator, fp_inputs)
        before, after = errors[name]
        step_line(f"layer {index:>{width}}/{len(layers)} {name}: "
                  f"MSE {before:.4g} -> {after:.4g}")
    acc = _test_accuracy(cfg, net, datamodule)
    folder = run_dir()
    (folder / "checkpoints").mkdir(parents=True, exist_ok=True)
    out_ckpt = folder / "checkpoints" / "calibrated.ckpt"
    module = CIMClassifier(net, datamodule.num_classes, optimizer=torch.optim.SGD)
    AtomicCheckpointIO().save_checkpoint({"state_dict": module.state_dict(),  # atomic, in place
                                          "config": OmegaConf.to_container(quant_cfg, resolve=True)},
                                         out_ckpt)
    result = {"ckpt_path": str(ckpt), "calibrated_ckpt": str(out_ckpt), "test_acc": acc,
              "quant": cfg.quant.method, "w_bits": int(quant_cfg.w_bits),
              "act_bits": int(quant_cfg.act_bits), **settings,
              "layer_mse": {k: {"before": b, "after": a} for k, (b, a) in errors.items()}}
    atomic_write_json(folder / "calibrate.json", result)
    print_result_table(f"QDrop calibration of {ckpt}",
                       [("test accuracy", fmt_pct(acc)), ("calibrated layers", len(errors)),
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
