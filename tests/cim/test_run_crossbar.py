"""``cim.tiled: auto`` and ``hardware.mapping: auto`` resolved per method (``run_crossbar``): the
tiled forward and the hardware estimate of one run describe the same chip, and the run says
whether its partial sums were ideal. Composed configs, no subprocess."""
import pytest
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf

from bwma_exp.cim.attach import crossbar_layers
from bwma_exp.cim.config import run_crossbar
from bwma_exp.quant.spec import CROSSBARS
from bwma_exp.tasks.common import fmt_partial_sums
from bwma_exp.utils.builders import attach_cim, build_model, build_spec, estimate_hardware
from bwma_exp.utils.dataset_shapes import dataset_shape
from bwma_exp.utils.errors import ConfigError
from bwma_exp.utils.validation import validate_common

# method -> (tiled, mapping) under the defaults (cim.tiled: auto, hardware.mapping: auto)
SHIPPED = {"fp": (False, "auto"), "bwba": (False, "auto"), "bwma": (False, "auto"),
           "mwma": (False, "auto"), "origin": (False, "auto"),
           "columnquant": (True, "channel_grouped"), "cimq": (True, "auto")}
SMALL = ["experiment=demo", "dataset=synthetic", "dataset.image_size=8"]


def _precheck(cfg) -> None:
    """The entry point's check of a train config (``validate``), as Hydra runs it."""
    HydraConfig.instance().set_config(cfg)
    try:
        validate_common(cfg)
    finally:
        HydraConfig.instance().cfg = None


def test_the_shipped_methods_are_registered():
    assert set(SHIPPED) <= set(CROSSBARS)


@pytest.mark.parametrize("method", sorted(SHIPPED))
def test_auto_is_what_the_method_declares(compose_cfg, method):
    cfg = compose_cfg("train", [f"quant={method}"])
    assert cfg.cim.tiled == "auto" and cfg.hardware.mapping == "auto"
    chip = run_crossbar(cfg)
    assert (chip.tiled, chip.mapping) == SHIPPED[method]
    assert chip.cim.tiled is SHIPPED[method][0]
    assert chip.hardware["mapping"] == SHIPPED[method][1]
    assert chip.partial_sums == ("adc" if SHIPPED[method][0] else "ideal")


@pytest.mark.parametrize("method", ["bwma", "columnquant", "cimq"])
@pytest.mark.parametrize("tiled", [True, False])
def test_an_explicit_cim_tiled_wins(compose_cfg, method, tiled):
    chip = run_crossbar(compose_cfg("train", [f"quant={method}", f"cim.tiled={tiled}"]))
    assert chip.tiled is tiled
    assert chip.summary() == {"cim_tiled": tiled, "partial_sums": "adc" if tiled else "ideal",
                              "mapping": SHIPPED[method][1],
                              "weight_coding": CROSSBARS[method].weight_coding,
                              "cell_bits": 1, "reference_column": False}


def test_explicit_mappings(compose_cfg):
    chip = run_crossbar(compose_cfg("train", ["quant=columnquant",
                                              "hardware.mapping=channel_grouped"]))
    assert chip.mapping == "channel_grouped"
    chip = run_crossbar(compose_cfg("train", ["quant=cimq", "hardware.mapping=im2col"]))
    assert (chip.tiled, chip.mapping) == (True, "im2col")
    # estimate.py has no cim group: the mapping resolves all the same
    assert run_crossbar(compose_cfg("estimate", ["quant=columnquant"])).mapping == \
        "channel_grouped"


@pytest.mark.parametrize("mapping", ["im2col", "novel"])
def test_columnquant_refuses_other_mappings(compose_cfg, mapping):
    cfg = compose_cfg("train", ["quant=columnquant", f"hardware.mapping={mapping}"])
    with pytest.raises(ConfigError) as err:
        _precheck(cfg)
    assert err.value.key == "hardware.mapping" and err.value.value == mapping
    assert "auto or channel_grouped for quant=columnquant" in str(err.value)


def test_untiled_partial_sums_are_ideal_in_summary_and_table(compose_cfg):
    untiled = run_crossbar(compose_cfg("train", ["quant=columnquant", "cim.tiled=false"]))
    assert untiled.summary() == {"cim_tiled": False, "partial_sums": "ideal",
                                 "mapping": "channel_grouped", "weight_coding": "differential",
                                 "cell_bits": 1, "reference_column": False}
    assert fmt_partial_sums({**untiled.summary(), "adc_bits": 4}) == [
        ("partial sums", "ideal (untiled layers, cim.tiled=false)")]
    tiled = run_crossbar(compose_cfg("train", ["quant=columnquant", "adc_bits=3"]))
    assert fmt_partial_sums({**tiled.summary(), "adc_bits": 3}) == [
        ("partial sums", "3-bit ADC, tiled, hardware.mapping=channel_grouped"),
        ("cells", "1-bit, differential (positive and negative columns)")]
    no_adc = run_crossbar(compose_cfg("train", ["cim.tiled=true", "cim.adc=false",
                                                "hardware.reference_column=true"]))
    assert no_adc.summary() == {"cim_tiled": True, "partial_sums": "ideal", "mapping": "auto",
                                "weight_coding": "offset", "cell_bits": 1,
                                "reference_column": True}
    assert fmt_partial_sums({**no_adc.summary(), "adc_bits": 4}) == [
        ("partial sums", "ideal ADC (cim.adc=false), tiled, hardware.mapping=auto"),
        ("cells", "1-bit, offset-coded, offset read by a reference column's ADC")]
    mwma = run_crossbar(compose_cfg("train", ["quant=mwma", "cim.tiled=true",
                                              "hardware.cell_bits=2"]))
    assert fmt_partial_sums({**mwma.summary(), "adc_bits": 4})[1] == (
        "cells", "2-bit, offset-coded, offset added in digital")
    assert fmt_partial_sums({}) == []             # a summary written before these fields


def _model(cfg):
    shape = dataset_shape(cfg.dataset)
    net = build_model(cfg, build_spec(cfg), shape)
    return net, (shape.in_channels, shape.image_size, shape.image_size)


def _estimate_mappings(cfg, net, shape):
    own, _ = estimate_hardware(cfg, net, shape)
    return {layer["name"]: layer["mapping"] for layer in own["layers"]}


def test_columnquant_crossbars_and_estimate_are_channel_grouped(compose_cfg):
    cfg = compose_cfg("train", [*SMALL, "quant=columnquant", "crossbar_size=64"])
    net, shape = _model(cfg)
    assert attach_cim(cfg, net, shape) == 18       # every quantized conv of ResNet-20
    tiled = {name: layer.cim.mapping for name, layer in crossbar_layers(net)}
    assert set(tiled.values()) == {"channel_grouped"}
    estimated = _estimate_mappings(cfg, net, shape)
    assert set(estimated.values()) == {"channel_grouped"}   # the FP stem and classifier too
    assert all(estimated[name] == mapping for name, mapping in tiled.items())


def test_cimq_crossbars_follow_the_estimates_auto_mapping(compose_cfg):
    cfg = compose_cfg("train", [*SMALL, "quant=cimq", "crossbar_size=64"])
    net, shape = _model(cfg)
    assert attach_cim(cfg, net, shape) == 18
    tiled = {name: layer.cim.mapping for name, layer in crossbar_layers(net)}
    estimated = _estimate_mappings(cfg, net, shape)
    assert tiled == {name: estimated[name] for name in tiled}
    assert "novel" in tiled.values()               # NeuroSim's K×K rule, not channel_grouped


def test_untiled_methods_attach_nothing(compose_cfg):
    cfg = compose_cfg("train", [*SMALL, "quant=mwma"])
    net, shape = _model(cfg)
    assert attach_cim(cfg, net, shape) == 0
    assert all(layer.cim is None for _, layer in crossbar_layers(net))


def test_a_trained_runs_saved_config_resolves_the_same():
    """eval.py reads .hydra/config.yaml: an old run's explicit tiled: false stays untiled, a
    new run's auto is resolved by its method."""
    old = OmegaConf.create({"quant": {"method": "columnquant"}, "adc_bits": 4,
                            "cim": {"tiled": False}, "hardware": {"mapping": "auto"}})
    assert run_crossbar(old).tiled is False
    new = OmegaConf.create({"quant": {"method": "cimq"}, "adc_bits": 4,
                            "cim": {"tiled": "auto"}, "hardware": {"mapping": "auto"}})
    assert run_crossbar(new).tiled is True


@pytest.mark.parametrize("overrides, allowed", [
    (["hardware.cell_bits=0"], "an integer from 1 to 8"),
    (["hardware.cell_bits=2"], "allowed 1 (at most the fewest weight bits on the crossbar: "
                               "w_bits=1 of quant=bwma)"),
    (["quant=bwba", "w_bits=4", "hardware.cell_bits=2"], "w_bits=1 of quant=bwba"),
    (["quant=mwma", "w_bits=4", "hardware.cell_bits=4", "+quant.layers={stages.0.*: {w_bits: 2}}"],
     "from 1 to 2 (at most the fewest weight bits on the crossbar: "
     "quant.layers.stages.0.*.w_bits=2)"),
    (["quant=fp", "hardware.cell_bits=4", "hardware.fp_bits=2"],
     "the full-precision layers' hardware.fp_bits=2"),
    (["quant=mwma", "w_bits=4", "hardware.cell_bits=3", "device=sram"], "1 to 1 for device=sram"),
    (["quant=mwma", "w_bits=4", "hardware.cell_bits=2", "hardware.devices=[rram,sram]"],
     "1 to 1 for device=sram"),
])
def test_bad_cell_bits_are_refused_by_the_precheck(compose_cfg, overrides, allowed):
    with pytest.raises(ConfigError) as err:
        _precheck(compose_cfg("train", overrides))
    assert err.value.key == "hardware.cell_bits" and allowed in str(err.value), str(err.value)


@pytest.mark.parametrize("overrides", [
    ["quant=mwma", "w_bits=4", "hardware.cell_bits=4"],
    ["quant=mwma", "w_bits=4", "hardware.cell_bits=2", "device=fefet"],
    ["quant=fp", "hardware.cell_bits=4"],                 # FP layers costed at fp_bits=8
    ["quant=fp", "hardware.cell_bits=4", "hardware.fp_bits=2", "hardware.fp_layers=digital"],
])
def test_cell_bits_within_the_weight_bits_pass(compose_cfg, overrides):
    _precheck(compose_cfg("train", overrides))


# method -> hardware.weight_coding under the default (auto)
CODINGS = {"fp": "offset", "bwba": "offset", "bwma": "offset", "mwma": "offset",
           "origin": "offset", "columnquant": "differential", "cimq": "differential"}


@pytest.mark.parametrize("method", sorted(CODINGS))
def test_weight_coding_auto_is_what_the_method_declares(compose_cfg, method):
    cfg = compose_cfg("train", [f"quant={method}"])
    assert cfg.hardware.weight_coding == "auto"
    assert run_crossbar(cfg).hardware["weight_coding"] == CODINGS[method]


def test_an_explicit_weight_coding_wins_and_binary_weights_refuse_differential(compose_cfg):
    chip = run_crossbar(compose_cfg("train", ["quant=columnquant",
                                              "hardware.weight_coding=offset"]))
    assert chip.hardware["weight_coding"] == "offset"
    chip = run_crossbar(compose_cfg("train", ["quant=mwma", "hardware.weight_coding=differential"]))
    assert chip.hardware["weight_coding"] == "differential"
    for method in ("bwma", "bwba"):
        cfg = compose_cfg("train", [f"quant={method}", "hardware.weight_coding=differential"])
        with pytest.raises(ConfigError) as err:
            _precheck(cfg)
        assert err.value.key == "hardware.weight_coding" and "\n" not in str(err.value)
        assert f"offset or auto for quant={method}" in str(err.value)


def test_differential_crossbars_and_estimate_hold_twice_the_columns(compose_cfg):
    """ColumnQuant's default chip: every 4-bit weight takes 4 positive and 4 negative 1-bit
    cells in the forward and in the estimate; no reference column even where asked for."""
    cfg = compose_cfg("train", [*SMALL, "quant=columnquant", "crossbar_size=64",
                                "hardware.reference_column=true"])
    net, shape = _model(cfg)
    attach_cim(cfg, net, shape)
    own, _ = estimate_hardware(cfg, net, shape)
    rows = {layer["name"]: layer for layer in own["layers"]}
    for name, layer in crossbar_layers(net):
        assert layer.cim.slices(layer.w_bits) == 8 and not layer.cim.reference_column
        assert rows[name]["weight_cells"] == layer.weight.numel() * 8
        assert rows[name]["cols"] == layer.weight.shape[0] * 8
