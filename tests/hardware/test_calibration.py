"""Against DNN+NeuroSim V1.3 (neurosim_vgg8_calibration.json): VGG-8 at 32x32 and 64x64, SAR
3-6 bits, RRAM and SRAM, binary weights and 4-bit activations everywhere, no reference
column, as NeuroSim ran it. Every point in the file is checked."""
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
IDS = [f"{p['device']}-{p['crossbar_size']}-{p['adc_bits']}b" for p in POINTS]
SIZES = sorted({p["crossbar_size"] for p in POINTS})

# Relative bounds the estimator holds today (DISCREPANCIES.md says why each is what it is).
# SRAM at 64x64 keeps two known gaps: its clock period lacks the column-mux decoder delay
# that grows with S² in NeuroSim (so latency is short), and its dynamic energy is high.
BOUNDS = {"latency": 0.15, "energy_dynamic": 0.15, "energy_total": 0.15, "area": 0.15,
          "clock": 0.05}
SRAM_64 = {"latency": 0.15, "energy_dynamic": 0.23, "energy_total": 0.20, "area": 0.15,
           "clock": 0.12}


def _bounds(point):
    return SRAM_64 if (point["device"], point["crossbar_size"]) == ("sram", 64) else BOUNDS


def _run(make_hw, point):
    hw = make_hw(point["device"], point["crossbar_size"], point["adc_bits"],
                 reference_column=False)
    return estimate(vgg8(w_bits=point["w_bits"], act_bits=point["act_bits"]), hw)


def test_file_holds_both_sizes():
    assert len(POINTS) == 16 and SIZES == [32, 64]


@pytest.mark.parametrize("point", POINTS, ids=IDS)
def test_totals_within_bounds(make_hw, point):
    r, b = _run(make_hw, point), _bounds(point)
    total = point["energy_pj_dynamic"] + point["energy_pj_leakage"]
    assert r["latency_ns"] == pytest.approx(point["latency_ns"], rel=b["latency"])
    assert r["energy_dynamic_pj"] == pytest.approx(point["energy_pj_dynamic"],
                                                   rel=b["energy_dynamic"])
    assert r["energy_pj"] == pytest.approx(total, rel=b["energy_total"])
    assert r["area_um2"] == pytest.approx(point["area_um2"], rel=b["area"])
    assert r["clock_period_ns"] == pytest.approx(point["clock_period_ns"], rel=b["clock"])


@pytest.mark.parametrize("point", POINTS, ids=IDS)
def test_shares_within_10_points(make_hw, point):
    """Latency and dynamic-energy shares (the area split of SRAM chips is still off, see
    DISCREPANCIES.md)."""
    r = _run(make_hw, point)
    for ours, theirs, total, ref_total in (
            (r["breakdown"]["latency"], point["latency_breakdown_ns"], r["latency_ns"],
             point["latency_ns"]),
            (r["breakdown"]["energy_neurosim"], point["dynamic_energy_breakdown_pj"],
             r["energy_dynamic_pj"], point["energy_pj_dynamic"])):
        for key, value in theirs.items():
            assert 100 * ours[key] / total == pytest.approx(100 * value / ref_total, abs=10)


@pytest.mark.parametrize("device", ["sram", "rram"])
@pytest.mark.parametrize("size", SIZES)
def test_energy_ratio_to_3_bit_adc(make_hw, device, size):
    points = {p["adc_bits"]: p for p in POINTS
              if p["device"] == device and p["crossbar_size"] == size}
    base = _run(make_hw, points[3])["energy_pj"]
    ref_base = points[3]["energy_pj_dynamic"] + points[3]["energy_pj_leakage"]
    for bits in (4, 5, 6):
        ratio = _run(make_hw, points[bits])["energy_pj"] / base
        ref = (points[bits]["energy_pj_dynamic"] + points[bits]["energy_pj_leakage"]) / ref_base
        assert ratio == pytest.approx(ref, abs=0.05)


def _cycles(make_hw, size):
    hw = make_hw("rram", size, 3, reference_column=False)
    prepared, _ = prepare(vgg8(), hw)
    plan = plan_chip(tuple(p.matrix for p in prepared), size, "auto")
    bus = global_bus_width(plan, 8)
    return [layer_cycles(plan, i, p.matrix, p.vectors, 4, 3, 8, 1, 1, 1, 32, bus)[0]
            for i, p in enumerate(prepared)]


@pytest.mark.parametrize("size", SIZES)
def test_cycle_counts_equal_neurosim(make_hw, size):
    """NeuroSim's cycles are its latencies over its clock (device independent). ADC cycles
    match exactly (32x32: 264661 ns / 5.81878 ns = 45484), accumulation within 0.1 %, and
    buffer cycles within 2 % since tile buffers share the CM tile's core counts."""
    point = next(p for p in POINTS if p["device"] == "rram" and p["crossbar_size"] == size
                 and p["adc_bits"] == 3)
    clock = point["clock_period_ns"]
    cycles = _cycles(make_hw, size)
    assert sum(c.adc for c in cycles) == pytest.approx(
        point["latency_breakdown_ns"]["adc"] / clock, abs=1)
    assert sum(c.accumulation for c in cycles) == pytest.approx(
        point["latency_breakdown_ns"]["accumulation"] / clock, rel=1e-3)
    assert sum(c.buffer for c in cycles) == pytest.approx(
        point["latency_within_other_ns"]["buffer"] / clock, rel=0.02)


@pytest.mark.parametrize("size", SIZES)
def test_neurosim_utilization_equals_neurosim(make_hw, size):
    point = next(p for p in POINTS if p["crossbar_size"] == size)
    r = _run(make_hw, point)
    assert 100 * r["neurosim_utilization"] == pytest.approx(point["reported_utilization_pct"],
                                                            abs=1e-3)
