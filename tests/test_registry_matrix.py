"""Every registered model under every registered quantization method (timm's test_models.py
pattern): the pairs come from ``MODELS`` x ``METHODS``, never from a list kept here, so a model
or method is tested the day it registers itself.

Each pair is built as the pipeline builds it (``utils.builders.build_spec`` on the root
config's ``act_bits``/``adc_bits`` and the method's ``configs/quant/<method>.yaml``, model
options from ``configs/model/<name>.yaml``), then: one forward pass (shape and finite values),
the layer table (one row per QConv2d/QLinear the model holds), and the estimator on rram at
crossbar 64 (positive latency, energy and area).

Pairs run at 32 px; models whose experiment configs train them on larger inputs (ImageNet,
224 px) run there too, marked ``slow``.
"""
from __future__ import annotations

import dataclasses
import math
from functools import cache
from importlib import resources
from pathlib import Path

import pytest
import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn

from bwma_exp.hardware import HardwareConfig, estimate, layer_table, load_device
from bwma_exp.models import MODELS, build_model
from bwma_exp.quant import METHODS, QConv2d, QLinear, QuantSpec
from bwma_exp.utils.builders import build_spec
from bwma_exp.utils.errors import ConfigError

CONFIGS = Path(str(resources.files("bwma_exp") / "configs"))
SMALL = 32          # every model accepts 32 px (resnet18 then takes its CIFAR stem)
NUM_CLASSES = 10
BATCH = 2
DEVICE, CROSSBAR = "rram", 64

# Documented refusals: method -> the spec option it needs and that only some models set.
# A pair whose model does not set the option must fail with a one-line ConfigError naming
# ``quant.options.<option>``; with the option set by hand it must then work. Any other
# refusal fails the test: add it here, with its reason, if it is legitimate.
REFUSALS = {
    # origin is each binary architecture's own binarization: reactnet_a, bdensenet28 and
    # meliusnet22/29 put options["variant"] on the spec; other models do not have one.
    "origin": "variant",
}


def _yaml(*parts: str) -> DictConfig:
    return OmegaConf.load(CONFIGS.joinpath(*parts))


def _config_names(group: str) -> set[str]:
    return {p.stem for p in (CONFIGS / group).glob("*.yaml")}


@cache
def _experiments() -> tuple[dict, ...]:
    """(model, quant, dataset, teacher, config) of every configs/experiment/*.yaml."""
    found = []
    for path in sorted((CONFIGS / "experiment").glob("*.yaml")):
        cfg = OmegaConf.load(path)
        picks = {}
        for entry in cfg.get("defaults") or []:
            if isinstance(entry, DictConfig):
                for key, value in entry.items():
                    picks[str(key).removeprefix("override ").strip("/")] = value
        teacher = OmegaConf.select(cfg, "distill.teacher_model")
        found.append({"name": path.stem, "model": picks.get("model"),
                      "quant": picks.get("quant"), "dataset": picks.get("dataset"),
                      "teacher": teacher, "cfg": cfg})
    return tuple(found)


@cache
def _natural_size(model: str) -> int:
    """The largest input size an experiment config trains (or distils from) ``model`` at;
    SMALL when no experiment names it or its datasets leave the size to the datamodule."""
    sizes = [SMALL]
    for exp in _experiments():
        if model in (exp["model"], exp["teacher"]) and exp["dataset"]:
            size = _yaml("dataset", f"{exp['dataset']}.yaml").get("image_size")
            sizes.append(int(size) if size is not None else SMALL)
    return max(sizes)


def _run_cfg(method: str, experiment: DictConfig | None = None) -> DictConfig:
    """The keys of a composed train config that build_spec and the estimator read: the root
    train.yaml, the method's quant group (``@package _global_``), optionally an experiment."""
    root = _yaml("train.yaml")
    root.pop("defaults", None)
    parts = [root, _yaml("quant", f"{method}.yaml")]
    if experiment is not None:
        exp = experiment.copy()
        exp.pop("defaults", None)
        parts.append(exp)
    return OmegaConf.merge(*parts)


def _model_options(model: str) -> dict:
    opts = OmegaConf.to_container(_yaml("model", f"{model}.yaml"), resolve=True)
    assert opts.pop("name") == model
    opts.pop("_target_", None)
    return opts


def _pairs():
    assert MODELS and METHODS, "importing bwma_exp.models / bwma_exp.quant fills the registries"
    for model in sorted(MODELS):
        sizes = sorted({SMALL, _natural_size(model)})
        for size in sizes:
            marks = [pytest.mark.slow] if size > SMALL else []
            for method in sorted(METHODS):
                yield pytest.param(model, method, size, marks=marks,
                                   id=f"{model}-{method}-{size}px")


def _options_the_model_sets(model: str, method: str, spec: QuantSpec, size: int,
                            monkeypatch) -> dict:
    """Spec options the model builder hands the method's factory (reactnet_a adds origin's
    variant itself, resnet20 does not): the factory is wrapped to record them, then called."""
    seen: dict = {}
    factory = METHODS[method]

    def record(spec, kind, out_channels):
        seen.update(spec.options)
        return factory(spec, kind, out_channels)

    monkeypatch.setitem(METHODS, method, record)
    try:
        build_model(model, spec, NUM_CLASSES, size, **_model_options(model))
    except ConfigError:
        pass  # the refusal itself is asserted by the caller
    finally:
        monkeypatch.setitem(METHODS, method, factory)
    return seen


def _check_pair(model_name: str, spec: QuantSpec, size: int, cfg: DictConfig) -> None:
    torch.manual_seed(0)
    model = build_model(model_name, spec, NUM_CLASSES, size, **_model_options(model_name))

    with torch.no_grad():  # train mode (batch statistics, activation ranges), no autograd
        out = model(torch.randn(BATCH, 3, size, size))
    assert out.shape == (BATCH, NUM_CLASSES)
    assert torch.isfinite(out).all()

    qlayers = {name: m for name, m in model.named_modules() if isinstance(m, (QConv2d, QLinear))}
    plain = [name for name, m in model.named_modules()
             if isinstance(m, (nn.Conv2d, nn.Linear)) and name not in qlayers]
    assert plain == [], f"conv/linear layers built without the spec: {plain}"
    convs = [m for m in qlayers.values() if isinstance(m, QConv2d)]
    if spec.is_fp:
        assert all(m.full_precision for m in qlayers.values())
    else:
        assert any(not m.full_precision for m in convs), "a non-fp method left every conv FP"
        assert all((m.w_bits, m.act_bits) == spec.effective_bits()
                   for m in qlayers.values() if not m.full_precision)

    rows = layer_table(model, (3, size, size))
    assert sorted(row.name for row in rows) == sorted(qlayers)

    hw = HardwareConfig.from_dicts(load_device(DEVICE),
                                   OmegaConf.to_container(_yaml("hardware", "default.yaml"),
                                                          resolve=True),
                                   CROSSBAR, int(cfg.adc_bits))
    result = estimate(rows, hw)
    for key in ("latency_ns", "energy_pj", "area_um2"):
        assert math.isfinite(result[key]) and result[key] > 0, (key, result[key])


@pytest.mark.parametrize("model_name, method, size", _pairs())
def test_pair_builds_runs_and_is_costed(model_name, method, size, monkeypatch):
    cfg = _run_cfg(method)
    spec = build_spec(cfg)
    assert spec.method == method

    option = REFUSALS.get(method)
    if option is not None and _options_the_model_sets(model_name, method, spec, size,
                                                      monkeypatch).get(option) is None:  # null: unset
        key = f"quant.options.{option}"
        with pytest.raises(ConfigError) as err:
            build_model(model_name, spec, NUM_CLASSES, size, **_model_options(model_name))
        message = str(err.value)
        assert err.value.key == key and message.startswith(f"{key}=") and "\n" not in message
        # the documented way out: set the option by hand, to a value the error allows
        value = err.value.allowed.split(", ")[0]
        spec = dataclasses.replace(spec, options={**spec.options, option: value})
    _check_pair(model_name, spec, size, cfg)


def test_every_model_and_method_has_a_config():
    assert set(MODELS) == _config_names("model")
    for name in MODELS:
        assert _yaml("model", f"{name}.yaml").name == name
    assert set(METHODS) == _config_names("quant")
    for method in METHODS:
        assert _yaml("quant", f"{method}.yaml").quant.method == method


@pytest.mark.parametrize("exp", [pytest.param(e, id=e["name"]) for e in _experiments()
                                 if e["model"] and e["quant"]])
def test_experiment_pairs_are_not_refused(exp):
    """The model/method pairs the experiment configs train must build without help (so a
    binary model that stops setting its origin variant fails here, not as a refusal)."""
    assert exp["model"] in MODELS and exp["quant"] in METHODS
    cfg = _run_cfg(exp["quant"], exp["cfg"])
    options = {**_model_options(exp["model"]),
               **OmegaConf.to_container(exp["cfg"].get("model", OmegaConf.create()),
                                        resolve=True)}
    model = build_model(exp["model"], build_spec(cfg), NUM_CLASSES, SMALL, **options)
    assert any(isinstance(m, QConv2d) for m in model.modules())
