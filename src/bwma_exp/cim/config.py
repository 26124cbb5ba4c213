"""The ``cim`` group (configs/cim/default.yaml): its schema, checked by ``utils.schema``."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from ..quant.common.adc import ADCSettings, RangeMode
from ..utils.schema import Range, check, check_value
from ..utils.validation import AdcBits
from .variation import VariationKind


@dataclass(frozen=True)
class CIMConfig:
    tiled: bool = False
    """Compute every quantized layer subarray by subarray, as the chip does."""
    adc: bool = True
    """False: ideal partial sums (infinite ADC resolution)."""
    adc_bits: AdcBits = 4
    """The run's top-level ``adc_bits``."""
    bit_serial: bool = True
    """One ADC read per input bit plane (the chip's 1-bit wordline drive); False: one read of
    the multi-bit partial sum."""
    adc_range: RangeMode = "sigma"
    """sigma: EMA of mean ± k·σ; minmax: EMA of min/max; learnable: trained lo/hi."""
    adc_sigmas: Annotated[float, Range(0, lo_open=True)] = 3.0
    """k of the sigma range."""
    adc_momentum: Annotated[float, Range(0, 1, lo_open=True)] = 0.1
    """EMA momentum of calibrated ranges."""
    adc_grad: Literal["ste", "clipped"] = "ste"
    """ste: the ideal layer's gradient, straight through the ADC; clipped: none through a
    clipped partial sum."""
    variation_sigma: Annotated[float, Range(0)] = 0.0
    """Device conductance variation (eval.py); 0: none."""
    variation_kind: VariationKind = "lognormal"
    variation_samples: Annotated[int, Range(1)] = 1
    """Chips sampled by eval.py; accuracy reported as mean ± std."""
    variation_seed: Annotated[int, Range(0)] = 0
    """Sample i uses seed variation_seed + i."""

    def adc_settings(self, bits: int | None = None) -> ADCSettings:
        """The ADC design; ``bits``: a layer's own resolution (quant.layers), else the run's."""
        return ADCSettings(bits or self.adc_bits, self.adc_range, self.adc_sigmas,
                           self.adc_momentum)

    @classmethod
    def from_dict(cls, cim: Mapping[str, Any] | None, adc_bits: Any) -> CIMConfig:
        values = {k: v for k, v in dict(cim or {}).items() if k != "adc_bits"}
        check_value("adc_bits", AdcBits, adc_bits)
        return check(cls, {**values, "adc_bits": adc_bits}, "cim")
