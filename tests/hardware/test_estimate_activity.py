"""Measured activity in the estimate: a layer's own input density and on-cell share replace the
chip defaults in exactly that layer's energy (latency and area do not read them); an activity
from another model, or with other input bits, is refused naming hardware.activity."""
import json
from dataclasses import replace

import pytest
from vgg8_layers import vgg8

from bwma_exp.hardware import estimate
from bwma_exp.hardware.activity import activity_path, apply_activity, load_activity
from bwma_exp.utils.errors import ConfigError


def _measured(layers, name, density=None, on=None):
    return [replace(lay, input_density=density, weight_on_fraction=on) if lay.name == name
            else lay for lay in layers]


def test_a_layers_measured_density_is_the_default_when_equal(make_hw):
    layers, hw = vgg8(), make_hw("rram", 64, 4)
    base = estimate(layers, hw)
    same = estimate(_measured(layers, layers[2].name, hw.input_density, hw.weight_on_fraction), hw)
    assert same["energy_pj"] == pytest.approx(base["energy_pj"], rel=1e-12)
    assert base["layers"][2]["input_density"] == hw.input_density == 0.3


@pytest.mark.parametrize("device", ["rram", "sram"])
def test_fewer_input_ones_cost_less_dynamic_energy_in_that_layer_only(make_hw, device):
    layers, hw = vgg8(), make_hw(device, 64, 4)
    name = layers[2].name
    base = estimate(layers, hw)
    sparse = estimate(_measured(layers, name, density=0.1), hw)
    rows = {r["name"]: r for r in sparse["layers"]}
    assert rows[name]["input_density"] == 0.1
    assert sparse["energy_dynamic_pj"] < base["energy_dynamic_pj"]
    assert sparse["breakdown"]["energy"]["adc"] < base["breakdown"]["energy"]["adc"]
    for before, after in zip(base["layers"], sparse["layers"]):
        if after["name"] == name:
            assert after["energy_pj"] < before["energy_pj"]
        else:   # other layers and every latency and the area are unchanged
            assert after["energy_pj"] == pytest.approx(before["energy_pj"], rel=1e-6)
        assert after["latency_ns"] == before["latency_ns"]
    assert sparse["area_um2"] == base["area_um2"]


def test_more_on_cells_draw_more_conversion_energy_on_rram(make_hw):
    layers, hw = vgg8(), make_hw("rram", 64, 4)
    name = layers[3].name
    low = estimate(_measured(layers, name, on=0.2), hw)
    high = estimate(_measured(layers, name, on=0.8), hw)
    assert high["breakdown"]["energy"]["adc"] > low["breakdown"]["energy"]["adc"]
    assert {r["name"]: r for r in high["layers"]}[name]["weight_on_fraction"] == 0.8


def _write(tmp_path, layers):
    (tmp_path / "activity.json").write_text(json.dumps({"model": "vgg8", "layers": layers}))
    return tmp_path


def test_an_activity_file_sets_the_named_layers(tmp_path):
    layers = vgg8()
    name = layers[1].name
    run = _write(tmp_path, {name: {"input_bit_density": [0.5] * layers[1].act_bits,
                                   "input_density": 0.5, "weight_on_fraction": 0.25}})
    out = apply_activity(layers, load_activity(run), str(run))
    assert (out[1].input_density, out[1].weight_on_fraction) == (0.5, 0.25)
    assert out[0] == layers[0]
    assert activity_path(run / "activity.json") == run / "activity.json"


def test_an_activity_from_another_model_or_bit_width_is_refused(tmp_path):
    layers = vgg8()
    with pytest.raises(ConfigError, match="hardware.activity=.*this model does not have"):
        apply_activity(layers, load_activity(_write(tmp_path, {"stages.0.0.conv1": {}})), "x")
    planes = {layers[1].name: {"input_bit_density": [0.5] * (layers[1].act_bits + 1)}}
    with pytest.raises(ConfigError, match="hardware.activity=.*bit planes"):
        apply_activity(layers, load_activity(_write(tmp_path, planes)), "x")
    with pytest.raises(ConfigError, match="hardware.activity='/no/such/run'.*run folder"):
        activity_path("/no/such/run")
    (tmp_path / "activity.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="'layers' table"):
        load_activity(tmp_path)
