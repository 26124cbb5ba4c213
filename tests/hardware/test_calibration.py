"""Against DNN+NeuroSim V1.3 (neurosim_vgg8_calibration.json): VGG-8, 32x32, SAR 3-6 bits,
binary weights and 4-bit activations everywhere, no reference column, as NeuroSim ran it."""
import json
from pathlib import Path

import pytest
from vgg8_layers import vgg8

from bwma_exp.hardware import estimate
from bwma_exp.hardware.cycles import global_bus_width, layer_cycles
from bwma_exp.hardware.floorplan import plan_chip
from bwma_exp.hardware.layers_prep import prepare

# A copy of /work/shared/reference/neurosim_vgg8_calibration.json (NeuroSim's own output).
POINTS = json.loads((Path(__file__).parent / "neurosim_vgg8_calibration.json").read_text())["points"]
IDS = [f"{p['device']}-{p['adc_bits']}b" for p in POINTS]


def _run(make_hw, point):
    hw = make_hw(point["device"], point["crossbar_size"], point["adc_bits"],
                 reference_column=False)
    return estimate(vgg8(w_bits=point["w_bits"], act_bits=point["act_bits"]), hw)


@pytest.mark.parametrize("point", POINTS, ids=IDS)
def test_totals_within_25_percent(make_hw, point):
    r = _run(make_hw, point)
    assert r["latency_ns"] == pytest.approx(point["latency_ns"], rel=0.25)
    assert r["energy_dynamic_pj"] == pytest.approx(point["energy_pj_dynamic"], rel=0.25)
    assert r["area_um2"] == pytest.approx(point["area_um2"], rel=0.25)
    assert r["clock_period_ns"] == pytest.approx(point["clock_period_ns"], rel=0.05)


@pytest.mark.parametrize("point", POINTS, ids=IDS)
def test_shares_within_10_points(make_hw, point):
    r = _run(make_hw, point)
    for ours, theirs, total, ref_total in (
            (r["breakdown"]["latency"], point["latency_breakdown_ns"], r["latency_ns"],
             point["latency_ns"]),
            (r["breakdown"]["energy_neurosim"], point["dynamic_energy_breakdown_pj"],
             r["energy_dynamic_pj"], point["energy_pj_dynamic"])):
        for key, value in theirs.items():
            assert 100 * ours[key] / total == pytest.approx(100 * value / ref_total, abs=10)


@pytest.mark.parametrize("device", ["sram", "rram"])
def test_energy_ratio_to_3_bit_adc(make_hw, device):
    points = {p["adc_bits"]: p for p in POINTS if p["device"] == device}
    base = _run(make_hw, points[3])["energy_pj"]
    ref_base = points[3]["energy_pj_dynamic"] + points[3]["energy_pj_leakage"]
    for bits in (4, 5, 6):
        ratio = _run(make_hw, points[bits])["energy_pj"] / base
        ref = (points[bits]["energy_pj_dynamic"] + points[bits]["energy_pj_leakage"]) / ref_base
        assert ratio == pytest.approx(ref, abs=0.05)


def test_adc_cycles_equal_neurosim(make_hw):
    """NeuroSim's ADC latency / clock period = 264661 ns / 5.81878 ns = 45484 cycles."""
    hw = make_hw("rram", 32, 3, reference_column=False)
    prepared, _ = prepare(vgg8(), hw)
    plan = plan_chip(tuple(p.matrix for p in prepared), 32, "auto")
    bus = global_bus_width(plan, 8)
    adc = sum(layer_cycles(plan, i, p.matrix, p.vectors, 4, 3, 8, 1, 1, 1, 32, bus)[0].adc
              for i, p in enumerate(prepared))
    assert adc == pytest.approx(264661.0 / 5.81878, abs=1)
