"""estimate.py end to end: hardware.json + summary.json, sweeps, bad input."""
import json
import time

import pytest

from cli_helpers import read_summary, run_entry

BREAKDOWNS = {"latency": {"adc", "accumulation", "other"},
              "latency_other": {"buffer", "interconnect", "rest"},
              "energy": {"array", "adc", "accumulation", "buffer", "interconnect", "leakage", "other"},
              "energy_neurosim": {"adc", "accumulation", "other"},
              "area": {"array", "adc", "accumulation", "interconnect", "other"}}


def test_single_estimate_writes_hardware_json_with_the_schema(tmp_path):
    run = tmp_path / "run"
    res = run_entry("estimate.py", "model=vgg8", "device=rram", "crossbar_size=64", "act_bits=4",
                    f"hydra.run.dir={run}")
    assert res.returncode == 0, res.stderr[-3000:]
    hw = json.loads((run / "hardware.json").read_text())
    for key in ("latency_ns", "energy_pj", "energy_dynamic_pj", "energy_leakage_pj", "area_um2",
                "tops_per_w", "clock_period_ns", "utilization", "layers", "config",
                "params", "bops", "flops", "ops"):
        assert key in hw, key
    assert hw["energy_pj"] == pytest.approx(hw["energy_dynamic_pj"] + hw["energy_leakage_pj"])
    assert set(hw["breakdown"]) == set(BREAKDOWNS)
    for group, parts in BREAKDOWNS.items():
        assert set(hw["breakdown"][group]) == parts
    totals = {"latency": hw["latency_ns"], "energy": hw["energy_pj"],
              "energy_neurosim": hw["energy_dynamic_pj"], "area": hw["area_um2"],
              "latency_other": hw["breakdown"]["latency"]["other"]}
    for group, total in totals.items():
        assert sum(hw["breakdown"][group].values()) == pytest.approx(total, rel=1e-9), group
    assert 0 < hw["utilization"] <= 1
    assert hw["config"]["crossbar_size"] == 64 and hw["config"]["adc_bits"] == 4
    s = read_summary(run)
    assert s["status"] == "finished" and s["task"] == "estimate" and s["hw"] == hw
    assert "test_acc" not in s or s["test_acc"] is None
    assert "latency" in res.stdout and "OPs" in res.stdout


def test_adc_bits_sweep_at_fixed_activations(tmp_path):
    sweep = tmp_path / "sweep"
    res = run_entry("estimate.py", "-m", "model=vgg8", "device=rram,sram", "act_bits=4",
                    "adc_bits=3,4,5,6", f"hydra.sweep.dir={sweep}")
    assert res.returncode == 0, res.stderr[-3000:]
    jobs = [read_summary(sweep / str(i)) for i in range(8)]
    # one line per job, each ending with how many of the sweep's jobs are done
    progress = [line for line in res.stdout.splitlines() if line.startswith("[") and "/8]" in line]
    assert [line.split("]")[0] for line in progress] == [f"[{i}/8" for i in range(1, 9)]
    assert "vgg8 sram 128x128 A4 ADC6" in progress[-1]
    energy = {(j["device"], j["adc_bits"]): j["hw"]["energy_pj"] for j in jobs}
    assert all(j["act_bits"] == 4 for j in jobs)
    for device in ("rram", "sram"):
        values = [energy[(device, b)] for b in (3, 4, 5, 6)]
        assert values == sorted(values) and len(set(values)) == 4


@pytest.mark.slow
def test_96_configurations_in_under_a_minute(tmp_path):
    sweep = tmp_path / "sweep"
    start = time.time()
    res = run_entry("estimate.py", "-m", "model=vgg8,resnet20", "device=rram,sram,fefet",
                    "crossbar_size=32,64,128,256", "act_bits=3,4,5,6", f"hydra.sweep.dir={sweep}")
    elapsed = time.time() - start
    assert res.returncode == 0, res.stderr[-3000:]
    assert len([p for p in sweep.iterdir() if (p / "hardware.json").exists()]) == 96
    assert elapsed < 60, elapsed


@pytest.mark.parametrize("args, expect", [
    (["device=foo"], ["device='foo'", "rram", "trainer.accelerator"]),
    (["device=cuda"], ["device='cuda'", "trainer.accelerator"]),
    (["crossbar_size=100"], ["crossbar_size=100", "power of two"]),
    (["adc_bits=0"], ["adc_bits=0", "1 to 12"]),
    (["model=resnet50"], ["model='resnet50'", "vgg8"]),
])
def test_bad_estimate_input_is_one_line(tmp_path, args, expect):
    res = run_entry("estimate.py", *args, f"hydra.run.dir={tmp_path / 'run'}")
    assert res.returncode != 0
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "Traceback" not in res.stderr
    for text in expect:
        assert text in last
