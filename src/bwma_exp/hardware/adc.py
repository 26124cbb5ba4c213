"""Column ADC models at 22 nm (LSTP), after NeuroSim V1.3's SarADC and MultilevelSenseAmp.

A conversion's power has a fixed part that grows with the resolution and a part set by the
current the column draws: the lower the column resistance, the more the sense front end
burns. Energy per conversion = power x conversion time.
"""
from __future__ import annotations

from dataclasses import dataclass

# SAR (NeuroSim SarADC.cpp, LP roadmap, 22 nm): P = (0.538 b + 4.3753) µW + 0.072341 / R_col.
SAR_STATIC_UW_PER_BIT = 0.538
SAR_STATIC_UW = 4.3753
SAR_CURRENT_COEFF = 0.072341  # W·Ω: the column-current term, at a 0.5 V read
SAR_NS_PER_STEP = 1.0  # one comparison per bit plus sampling: (b + 1) ns
SAR_AREA_UM2_AT_3_BITS = 86.7  # 269/109 NMOS and 209/73 PMOS unit transistors
SAR_AREA_UM2_PER_BIT = 18.8

# Flash / multilevel sense amplifier: 2^b - 1 comparators sensing at once.
FLASH_UW_PER_COMPARATOR = 1.7
FLASH_CURRENT_COEFF = 0.0631
FLASH_SENSE_NS = 1.0
FLASH_AREA_UM2_PER_COMPARATOR = 13.7
FLASH_AREA_UM2_OFFSET = -11.0


@dataclass(frozen=True)
class AdcModel:
    kind: str
    bits: int

    @property
    def conversion_ns(self) -> float:
        """Time of one conversion (enters the sensing cycle and hence the clock)."""
        if self.kind == "sar":
            return (self.bits + 1) * SAR_NS_PER_STEP
        return FLASH_SENSE_NS

    def power_uw(self, column_conductance_s: float, read_voltage: float) -> float:
        """Power while converting a column of the given conductance. The fitted current
        term was characterised at a 0.5 V read; other voltages scale the current."""
        g = column_conductance_s * read_voltage / 0.5
        if self.kind == "sar":
            return (SAR_STATIC_UW_PER_BIT * self.bits + SAR_STATIC_UW) + SAR_CURRENT_COEFF * g * 1e6
        levels = 2 ** self.bits
        return FLASH_UW_PER_COMPARATOR * (levels - 1) + FLASH_CURRENT_COEFF * g * 1e6

    def energy_fj(self, column_conductance_s: float, read_voltage: float) -> float:
        """Energy of one conversion (fJ): µW x ns = fJ."""
        return self.power_uw(column_conductance_s, read_voltage) * self.conversion_ns

    @property
    def area_um2(self) -> float:
        if self.kind == "sar":
            return SAR_AREA_UM2_AT_3_BITS + SAR_AREA_UM2_PER_BIT * (self.bits - 3)
        comparators = 2 ** self.bits - 1
        return max(FLASH_AREA_UM2_PER_COMPARATOR,
                   FLASH_AREA_UM2_PER_COMPARATOR * comparators + FLASH_AREA_UM2_OFFSET)
