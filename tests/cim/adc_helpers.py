"""An ADC with a fixed, already calibrated range, as after training (evaluation mode)."""
from bwma_exp.quant.common.adc import ADC


def fixed_adc(bits: int, lo: float, hi: float) -> ADC:
    adc = ADC(bits).eval()
    adc.lo.fill_(lo)
    adc.hi.fill_(hi)
    adc.initialized.fill_(True)
    return adc
