"""calibrate.py: CIMQ post-training quantization on the tiled chip, block by block, with random
quantization dropping (QDrop)."""
from __future__ import annotations

import json
import math

import pytest
import torch
from omegaconf import OmegaConf

from bwma_exp.cim.attach import crossbar_layers
from bwma_exp.cim.reconstruction import (
    calibrate_unit,
    calibration_units,
    qdrop_inputs,
    unit_io,
    unit_parameters,
)
from bwma_exp.models.registry import build_model
from bwma_exp.quant import QuantSpec
from cli_helpers import TINY, run_entry

# The chip of the tiny runs: one 4-bit cell per weight and multi-bit partial sums, so a tiled
# forward costs a sixteenth of the bit-serial, bit-sliced default (tests/cim/test_crossbar.py
# covers those reads); calibration reads whatever chip the run was trained for.
CHEAP_CHIP = ["hardware.cell_bits=4", "cim.bit_serial=false"]
# A few more training batches than TINY: two batches leave BatchNorm's statistics so far off
# that activations grow by orders of magnitude through the blocks (72 % test accuracy here).
TRAIN_MORE = ["trainer.limit_train_batches=40", "trainer.max_epochs=2", "optimizer.lr=0.05"]
TINY_CALIBRATION = ["calibration.images=16", "calibration.batch_size=16", "calibration.iters=16",
                    "calibration.lr=0.01", "test_batches=1"]
THETA0 = math.log(math.e - 1)   # ReparamClipADC's θ before any training: softplus(θ) = 1


def _resnet20(**spec):
    return build_model("resnet20", QuantSpec("cimq", w_bits=4, act_bits=4, **spec), 10, 32, 3)


def test_resnet20_calibrates_its_nine_basic_blocks():
    units = calibration_units(_resnet20())
    assert [u.name for u in units] == [f"stages.{s}.{b}" for s in range(3) for b in range(3)]
    assert all(u.layers == (f"{u.name}.conv1", f"{u.name}.conv2") for u in units)
    assert all(type(u.module).__name__ == "BasicBlock" for u in units)


def test_quantized_stem_and_classifier_are_units_of_their_own():
    net = _resnet20(fp_first=False, fp_last=False)
    units = calibration_units(net)
    assert len(units) == 11
    assert (units[0].name, units[0].layers) == ("stem.0", ("stem.0",))
    assert (units[-1].name, units[-1].layers) == ("head.fc", ("head.fc",))
    held = [name for u in units for name in u.layers]
    assert held == [name for name, _ in crossbar_layers(net)]   # each layer once, in order


def test_layers_outside_blocks_are_calibrated_one_by_one():
    net = build_model("vgg8", QuantSpec("cimq", w_bits=4, act_bits=4), 10, 32, 3)
    units = calibration_units(net)
    assert [u.layers for u in units] == [(name,) for name, _ in crossbar_layers(net)]
    assert len(units) == 6   # five quantized convs (the first is FP) and the hidden FC


def test_qdrop_replaces_each_input_element_by_its_full_precision_value_or_keeps_it():
    x, x_fp = torch.rand(64, 4, 5, 5), torch.rand(64, 4, 5, 5) + 2
    mixed = qdrop_inputs(x, x_fp, 0.5, torch.Generator().manual_seed(3))
    keep = torch.rand(x.shape, generator=torch.Generator().manual_seed(3)) < 0.5
    torch.testing.assert_close(mixed, torch.where(keep, x_fp, x))
    assert 0.45 < (mixed >= 2).float().mean() < 0.55
    assert qdrop_inputs(x, x_fp, 0.0) is x


def test_unit_io_records_the_unit_and_stops_there():
    torch.manual_seed(0)
    net = build_model("resnet20", QuantSpec("fp"), 10, 32, 3).eval()
    block = net.stages[1][0]
    ran = []
    net.head.register_forward_hook(lambda *a: ran.append(True))
    images = torch.rand(5, 3, 32, 32)
    inputs, outputs = unit_io(net, block, images, chunk=2)
    with torch.no_grad():
        expected_in = net.stages[0](net.stem(images))
        torch.testing.assert_close(inputs, expected_in)
        torch.testing.assert_close(outputs, block(expected_in))
    assert not ran   # the forward stopped at the block
    only_inputs, none = unit_io(net, block, images, outputs=False)
    assert none is None
    torch.testing.assert_close(only_inputs, inputs)


def test_calibration_fits_a_tiled_blocks_steps_and_adc_clips(compose_cfg):
    from bwma_exp.utils.builders import attach_cim

    cfg = compose_cfg("train", ["experiment=demo", "quant=cimq", "act_bits=4", *CHEAP_CHIP])
    torch.manual_seed(0)
    net = _resnet20()
    reference = build_model("resnet20", QuantSpec("fp"), 10, 32, 3)
    reference.load_state_dict(net.state_dict(), strict=False)
    attach_cim(cfg, net, (3, 32, 32), force=True)
    net.eval(), reference.eval()
    unit = calibration_units(net)[6]                       # stages.2.0: 32 -> 64 channels
    assert unit.name == "stages.2.0"
    params = unit_parameters(net, unit)
    names = {n for n, p in net.named_parameters() if any(p is q for q in params)}
    assert names == {f"stages.2.0.{conv}.{part}" for conv in ("conv1", "conv2")
                     for part in ("weight_quantizer.step", "act_quantizer.step",
                                  "cim.adc.theta")}
    x = torch.relu(torch.randn(32, 32, 16, 16))
    for module in unit.module.modules():                  # steps and clips from a first batch
        if hasattr(module, "initialized"):
            module.train()
    with torch.no_grad():
        unit.module(x[:16])
        target = reference.stages[2][0](x)
    unit.module.eval()
    weight = unit.module.conv1.weight.detach().clone()
    settings = {"iters": 20, "batch_size": 16, "drop_prob": 0.5, "lr": 0.01}
    before, after = calibrate_unit(unit.module, params, x, target, settings,
                                   torch.Generator().manual_seed(0), fp_inputs=x)
    assert after < 0.9 * before, (before, after)
    assert all(abs(float(b.cim.adc.theta.detach()) - THETA0) > 1e-3
               for b in (unit.module.conv1, unit.module.conv2))
    assert torch.equal(unit.module.conv1.weight, weight)   # the weights themselves stay fixed


@pytest.fixture(scope="module")
def fp_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("calibrate") / "fp"
    done = run_entry("train.py", "experiment=demo", "quant=fp", *TINY, *TRAIN_MORE, *CHEAP_CHIP,
                     f"hydra.run.dir={run}")
    assert done.returncode == 0, done.stderr[-2000:]
    return run


@pytest.fixture(scope="module")
def calibrated(fp_run):
    out = fp_run.parent / "cal"
    done = run_entry("calibrate.py", f"ckpt_path={fp_run}", "quant=cimq", "w_bits=4",
                     "act_bits=4", "adc_bits=4", *TINY_CALIBRATION, f"hydra.run.dir={out}")
    assert done.returncode == 0, done.stderr[-2000:]
    return out, done.stdout


def test_the_network_is_built_tiled_with_one_weight_step_per_array(fp_run, compose_cfg,
                                                                   tmp_path):
    from bwma_exp.tasks.calibrate import _network, _variant
    from bwma_exp.tasks.evaluate import load_run_config, resolve_checkpoint
    from bwma_exp.utils.builders import build_datamodule

    ckpt, run = resolve_checkpoint(str(fp_run))
    train_cfg = load_run_config(run)
    train_cfg.paths.output_dir = str(tmp_path)   # ${hydra:runtime.output_dir} outside Hydra
    method = compose_cfg("calibrate", [f"ckpt_path={fp_run}", "adc_bits=3"])
    datamodule = build_datamodule(train_cfg)
    state = torch.load(ckpt, map_location="cpu", weights_only=False)["state_dict"]
    net = _network(_variant(train_cfg, method), datamodule, state, ckpt, tiled=True)
    layers = crossbar_layers(net)
    assert len(layers) == 18
    for _, layer in layers:
        assert layer.cim is not None and layer.cim.adc.bits == 3
        assert layer.weight_quantizer.step.shape == (1, layer.cim.arrays)
    assert max(layer.cim.arrays for _, layer in layers) > 1
    # the checkpoint's weights, unchanged
    torch.testing.assert_close(net.stages[0][0].conv1.weight,
                               state["net.stages.0.0.conv1.weight"])


def test_calibrating_a_full_precision_run_on_the_tiled_chip(calibrated):
    out, stdout = calibrated
    result = json.loads((out / "calibrate.json").read_text())
    assert result["quant"] == "cimq" and result["cim_tiled"] is True
    assert (result["w_bits"], result["act_bits"], result["adc_bits"]) == (4, 4, 4)
    assert 0 <= result["test_acc_before"] <= 1 and 0 <= result["test_acc"] <= 1
    assert result["crossbar_layers"] == 18
    units = result["unit_mse"]
    assert list(units) == [f"stages.{s}.{b}" for s in range(3) for b in range(3)]
    assert all(u["layers"] == [f"{name}.conv1", f"{name}.conv2"] for name, u in units.items())
    # the fit lowers every block's reconstruction error (QDrop on, drop_prob 0.5)
    assert result["drop_prob"] == 0.5
    for name, u in units.items():
        assert u["after"] < u["before"], (name, u)
    # one plain line per block (stdout is not a terminal)
    steps = [line for line in stdout.splitlines() if line.startswith("block ")]
    assert len(steps) == 9
    assert steps[0].startswith("block 1/9 stages.0.0 (2 layers): MSE ")
    assert steps[-1].startswith("block 9/9 stages.2.2 (2 layers): MSE ") and " -> " in steps[-1]
    assert "test accuracy before" in stdout and "test accuracy after" in stdout


def test_the_calibrated_checkpoint_is_the_tiled_chip_with_fitted_adc_clips(calibrated):
    out, _ = calibrated
    saved = torch.load(out / "checkpoints" / "calibrated.ckpt", weights_only=False)
    state = saved["state_dict"]
    assert saved["config"]["cim"]["tiled"] is True
    thetas = {k: float(v) for k, v in state.items() if k.endswith("cim.adc.theta")}
    assert len(thetas) == 18                                   # every crossbar layer's ADC
    assert all(abs(t - THETA0) > 1e-4 for t in thetas.values()), thetas
    steps = [v for k, v in state.items() if k.endswith("weight_quantizer.step")]
    assert len(steps) == 18 and max(s.shape[1] for s in steps) > 1   # one per array


def test_a_tiled_cimq_checkpoint_is_accepted_as_it_is(calibrated, tmp_path):
    """The calibrated chip, as a tiled cimq run: it loads with its per-array steps and ADC
    clips (nothing started afresh), so its accuracy before calibrating again is the first
    calibration's after."""
    out, _ = calibrated
    first = json.loads((out / "calibrate.json").read_text())
    saved = torch.load(out / "checkpoints" / "calibrated.ckpt", weights_only=False)
    run = tmp_path / "tiled"
    (run / "checkpoints").mkdir(parents=True)
    (run / ".hydra").mkdir()
    torch.save({"state_dict": saved["state_dict"]}, run / "checkpoints" / "last.ckpt")
    OmegaConf.save(OmegaConf.create(saved["config"]), run / ".hydra" / "config.yaml")
    again = tmp_path / "again"
    done = run_entry("calibrate.py", f"ckpt_path={run}", "quant=cimq", *TINY_CALIBRATION,
                     "calibration.iters=1", f"hydra.run.dir={again}")
    assert done.returncode == 0, done.stderr[-2000:]
    second = json.loads((again / "calibrate.json").read_text())
    assert second["test_acc_before"] == first["test_acc"]
    assert second["unit_mse"]["stages.0.0"]["before"] == pytest.approx(
        first["unit_mse"]["stages.0.0"]["after"], rel=1e-4)


def test_only_cimq_calibrates(fp_run, tmp_path):
    bad = run_entry("calibrate.py", f"ckpt_path={fp_run}", "quant=columnquant",
                    f"hydra.run.dir={tmp_path / 'bad'}")
    assert bad.returncode != 0
    last = bad.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "quant='columnquant'" in last, bad.stderr[-1000:]


def test_calibration_images_are_normalised_as_the_network_sees_them():
    """The loaders yield unit floats; normalisation happens on the device after transfer.
    Calibrating on raw images fitted the steps to the wrong inputs (98.6 % -> 93 % measured)."""
    from bwma_exp.data import DigitsDataModule
    from bwma_exp.data.augment import normalize
    from bwma_exp.tasks.calibrate import _images

    datamodule = DigitsDataModule(batch_size=16, seed=0)
    images = _images(datamodule, 40)
    assert images.shape[0] == 40
    # every value is a normalised unit float: inside normalize([0, 1]) per channel, and the
    # background (0) maps below zero, which raw unit floats never are
    ends = normalize(torch.tensor([0.0, 1.0]).reshape(2, 1, 1, 1).expand(2, 3, 1, 1),
                     datamodule.mean, datamodule.std)
    assert (images >= ends[0] - 1e-5).all() and (images <= ends[1] + 1e-5).all()
    assert images.min() < 0


@pytest.mark.parametrize("terminal,ci,bar", [(False, None, False), (True, "true", False),
                                             (True, None, True)])
def test_the_block_progress_is_a_bar_only_in_an_interactive_terminal(monkeypatch, terminal, ci,
                                                                     bar):
    import io

    from rich.console import Console

    from bwma_exp.utils.progress import StepBar

    monkeypatch.delenv("CI", raising=False)
    if ci is not None:
        monkeypatch.setenv("CI", ci)
    out = io.StringIO()
    console = Console(file=out, force_terminal=terminal, width=120)
    with StepBar(2, "calibrating", console=console) as progress:
        for i in (1, 2):
            progress.start(f"stages.0.{i}")
            progress.detail("step 1/1 · MSE 0.5")
            progress.done(f"block {i}/2 stages.0.{i} (2 layers): MSE 1 -> 0.5")
    assert progress.interactive is bar
    text = out.getvalue()
    lines = [f"block {i}/2 stages.0.{i} (2 layers): MSE 1 -> 0.5" for i in (1, 2)]
    if bar:
        assert all(line in text for line in lines) and "2/2" in text and "\x1b[" in text
    else:
        assert text.splitlines() == lines
