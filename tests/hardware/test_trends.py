"""Breakdowns add up; trends and the paper's qualitative claims hold."""
import itertools

import pytest
from vgg8_layers import resnet20, vgg8

from bwma_exp.hardware import estimate


def test_breakdowns_sum_to_totals(make_hw):
    r = estimate(vgg8(), make_hw("rram", 64, 4))
    b = r["breakdown"]
    assert sum(b["latency"].values()) == pytest.approx(r["latency_ns"])
    assert sum(b["latency_other"].values()) == pytest.approx(b["latency"]["other"])
    assert sum(b["energy"].values()) == pytest.approx(r["energy_pj"])
    assert r["energy_pj"] == pytest.approx(r["energy_dynamic_pj"] + r["energy_leakage_pj"])
    assert sum(b["energy_neurosim"].values()) == pytest.approx(r["energy_dynamic_pj"])
    assert sum(b["area"].values()) == pytest.approx(r["area_um2"])
    assert sum(layer["latency_ns"] for layer in r["layers"]) == pytest.approx(r["latency_ns"])
    assert sum(layer["energy_pj"] for layer in r["layers"]) == pytest.approx(r["energy_pj"])


@pytest.mark.parametrize("device", ["rram", "sram", "fefet"])
def test_more_adc_bits_cost_more(make_hw, device):
    results = [estimate(vgg8(), make_hw(device, 64, bits)) for bits in range(1, 9)]
    for low, high in itertools.pairwise(results):
        assert high["energy_pj"] > low["energy_pj"]
        assert high["latency_ns"] > low["latency_ns"]
        assert high["area_um2"] > low["area_um2"]


def test_device_ordering(make_hw):
    for size in (32, 64, 128, 256):
        e = {d: estimate(vgg8(), make_hw(d, size, 4))["energy_pj"] for d in ("rram", "sram", "fefet")}
        assert e["fefet"] > e["rram"] > e["sram"]
        assert e["sram"] / e["rram"] < 0.8


def test_larger_crossbars_are_faster(make_hw):
    lat = [estimate(vgg8(), make_hw("rram", s, 4))["latency_ns"] for s in (32, 64, 128)]
    assert lat[0] > lat[1] > lat[2]
    lat = [estimate(resnet20(), make_hw("rram", s, 4))["latency_ns"] for s in (32, 64)]
    assert lat[0] > lat[1]


def test_array_is_a_small_share_of_area(make_hw):
    for size in (32, 64):
        for net in (vgg8, resnet20):
            r = estimate(net(), make_hw("rram", size, 4))
            assert 0.005 < r["breakdown"]["area"]["array"] / r["area_um2"] < 0.15


@pytest.mark.parametrize("device,targets", [("sram", (1.16, 1.32, 1.48)),
                                            ("rram", (1.19, 1.39, 1.59))])
def test_paper_normalized_energy(make_hw, device, targets):
    base = estimate(vgg8(), make_hw(device, 32, 3))["energy_pj"]
    for bits, target in zip((4, 5, 6), targets):
        assert estimate(vgg8(), make_hw(device, 32, bits))["energy_pj"] / base == pytest.approx(
            target, abs=0.05)


@pytest.mark.parametrize("size", [64, 128, 256])
def test_resnet20_on_large_crossbars(make_hw, size):
    r = estimate(resnet20(fp_ends=True), make_hw("rram", size, 4))
    assert r["latency_ns"] > 0 and r["energy_pj"] > 0 and 0 < r["utilization"] <= 1


def test_pipelined_reports_period(make_hw):
    by_layer = estimate(vgg8(), make_hw("rram", 64, 4))
    piped = estimate(vgg8(), make_hw("rram", 64, 4, mode="pipelined"))
    assert piped["latency_ns"] == pytest.approx(by_layer["latency_ns"])
    assert piped["period_ns"] == pytest.approx(max(layer["latency_ns"] for layer in piped["layers"]))
    assert "period_ns" not in by_layer


def test_digital_full_precision_layers_cost_nothing(make_hw):
    r = estimate(resnet20(fp_ends=True), make_hw("rram", 64, 4, fp_layers="digital"))
    digital = [layer for layer in r["layers"] if layer["digital"]]
    assert [layer["name"] for layer in digital] == ["conv1", "fc"]
    assert all(layer["energy_pj"] == 0 and layer["subarrays"] == 0 for layer in digital)
