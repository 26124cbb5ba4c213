"""SAR and flash ADC per-bit area, energy and latency."""
import pytest

from bwma_exp.hardware.adc import AdcModel


@pytest.mark.parametrize("bits", [1, 3, 4, 6, 8])
def test_sar_area_latency_energy(bits):
    adc = AdcModel("sar", bits)
    assert adc.area_um2 == pytest.approx(86.7 + 18.8 * (bits - 3))
    assert adc.conversion_ns == bits + 1
    # 1 mS column at 0.5 V: (0.538 b + 4.3753) µW + 72.341 µW, for (b+1) ns
    assert adc.energy_fj(1e-3, 0.5) == pytest.approx((0.538 * bits + 4.3753 + 72.341) * (bits + 1))


def test_sar_energy_per_extra_bit():
    a3, a4 = AdcModel("sar", 3), AdcModel("sar", 4)
    g = 6.45e-4
    assert a4.energy_fj(g, 0.5) - a3.energy_fj(g, 0.5) == pytest.approx(
        (0.538 * 4 + 4.3753 + 72.341 * 0.645) * 5 - (0.538 * 3 + 4.3753 + 72.341 * 0.645) * 4)


def test_read_voltage_scales_the_current_term():
    adc = AdcModel("sar", 4)
    assert adc.power_uw(1e-3, 1.0) - adc.power_uw(0.0, 1.0) == pytest.approx(2 * 72.341)


def test_flash_levels():
    adc = AdcModel("flash", 4)
    assert adc.conversion_ns == 1.0
    assert adc.power_uw(0.0, 0.5) == pytest.approx(1.7 * 15)
    assert adc.area_um2 == pytest.approx(13.7 * 15 - 11)
