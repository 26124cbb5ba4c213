"""hardware.technology_nm: NeuroSim V1.3's nodes, each with its own parameters."""
import math
import subprocess
import sys
from pathlib import Path

import pytest
from vgg8_layers import vgg8

from bwma_exp.hardware import estimate
from bwma_exp.hardware.adc import AdcModel
from bwma_exp.hardware.config import check_hardware_group
from bwma_exp.hardware.technology import NODES, TECH_22NM, technology
from bwma_exp.utils.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_nodes_are_neurosims():
    assert NODES == (130, 90, 65, 45, 32, 22, 14, 10, 7)
    assert technology(22) is TECH_22NM


@pytest.mark.parametrize("node", [5, 28, 22.5, "22"])
def test_other_nodes_are_refused_with_the_list(node):
    with pytest.raises(ConfigError, match="130, 90, 65, 45, 32, 22, 14, 10 or 7"):
        check_hardware_group({"technology_nm": node})


def test_wire_resistance_is_param_cpps():
    """Param.cpp: ρ/(w²·AR); 45 nm: 3.31e-8 Ω·m over (80 nm)² · 1.7."""
    assert technology(45).wire_res_ohm_per_um == pytest.approx(
        TECH_22NM.wire_res_ohm_per_um * (3.31e-8 / (80e-9 ** 2 * 1.7)) / (4.03e-8 / (40e-9 ** 2 * 1.9)))


def test_sar_power_is_the_nodes_own_fit():
    """SarADC.cpp, LP, 45 nm, 4 bits, a 10 kΩ column at a 0.5 V read."""
    r = 1e4
    expected = (2.1691 * 4 + 16.693) + 0.100225 / r * 1e6   # exp(-ln10·log10 R) = 1/R
    assert AdcModel("sar", 4, 45).power_uw(1 / r, 0.5) == pytest.approx(expected)
    assert AdcModel("sar", 4, 45).area_um2 == pytest.approx(AdcModel("sar", 4).area_um2
                                                            * (45 / 22) ** 2)


def test_every_node_estimates_and_scales(make_hw):
    results = {n: estimate(vgg8(), make_hw("rram", 64, 4, technology_nm=n,
                                            reference_column=False)) for n in NODES}
    assert results[22] == estimate(vgg8(), make_hw("rram", 64, 4, reference_column=False))
    areas = [results[n]["area_um2"] for n in NODES]
    energies = [results[n]["energy_dynamic_pj"] for n in NODES]
    assert all(a > b for a, b in zip(areas, areas[1:]))       # smaller node, smaller chip
    assert all(a > b for a, b in zip(energies, energies[1:]))  # and less energy per image
    for r in results.values():
        assert r["latency_ns"] > 0 and math.isfinite(r["energy_pj"])


def test_cli_refuses_a_bad_node_in_one_line(tmp_path):
    res = subprocess.run([sys.executable, str(ROOT / "estimate.py"), "hardware.technology_nm=5",
                          f"hydra.run.dir={tmp_path / 'run'}"], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert lines[-1] == ("error: hardware.technology_nm=5 is not valid: allowed 130, 90, 65, "
                         "45, 32, 22, 14, 10 or 7.") and "Traceback" not in res.stderr
