"""Bad input ends in one ConfigError line naming the key."""
import pytest
from vgg8_layers import conv

from bwma_exp.hardware import DEVICES, HardwareConfig, LayerSpec, estimate, load_device
from bwma_exp.utils.errors import ConfigError


def test_presets_load():
    assert DEVICES == ("rram", "sram", "fefet")
    rram, fefet = load_device("rram"), load_device("fefet")
    assert rram["name"] == "rram" and rram["r_on_ohm"] == 6000 and rram["r_off_ohm"] == 900000
    assert fefet["access_resistance_ohm"] == 0 and fefet["cell_area_f2"] == 48


def test_unknown_device_points_to_accelerator():
    with pytest.raises(ConfigError, match="trainer.accelerator") as err:
        load_device("gpu")
    assert "\n" not in str(err.value) and "rram, sram, fefet" in str(err.value)


@pytest.mark.parametrize("size", [0, -8, 48, 100, 1.5, True])
def test_crossbar_size_power_of_two(hw_defaults, size):
    with pytest.raises(ConfigError, match="crossbar_size"):
        HardwareConfig.from_dicts(load_device("rram"), hw_defaults, size, 4)


@pytest.mark.parametrize("bits", [0, 13, -1, 4.0])
def test_adc_bits_range(hw_defaults, bits):
    with pytest.raises(ConfigError, match="adc_bits"):
        HardwareConfig.from_dicts(load_device("rram"), hw_defaults, 64, bits)


@pytest.mark.parametrize("key,value", [("adc_type", "pipeline"), ("mode", "fast"),
                                       ("mapping", "diagonal"), ("input_density", 1.5),
                                       ("technology_nm", 5), ("colums_per_adc", 8)])
def test_bad_hardware_keys(hw_defaults, key, value):
    with pytest.raises(ConfigError, match=key):
        HardwareConfig.from_dicts(load_device("rram"), {**hw_defaults, key: value}, 64, 4)


def test_unmappable_layer(make_hw):
    bad = LayerSpec(name="odd", kind="conv", in_h=8, in_w=8, c_in=6, c_out=8, k_h=3, k_w=3,
                    stride=1, padding=1, groups=4, out_h=8, out_w=8, w_bits=1, act_bits=4)
    with pytest.raises(ConfigError, match="cannot be mapped"):
        estimate([bad], make_hw())
    with pytest.raises(ConfigError, match="layers"):
        estimate([], make_hw())
    big = LayerSpec(name="big", kind="conv", in_h=2, in_w=2, c_in=4, c_out=4, k_h=7, k_w=7,
                    stride=1, padding=0, groups=1, out_h=1, out_w=1, w_bits=1, act_bits=4)
    with pytest.raises(ConfigError, match="kernel"):
        estimate([big], make_hw())


def test_summary_names_the_config(make_hw):
    cfg = estimate([conv("c", 8, 16, 16)], make_hw("sram", 64, 5))["config"]
    assert (cfg["device"], cfg["crossbar_size"], cfg["adc_bits"]) == ("sram", 64, 5)
