"""Column ADC models (LSTP), after NeuroSim V1.3's SarADC and MultilevelSenseAmp, at each of
its technology nodes (SarADC.cpp has one fitted power law per node; 22 nm is the reference).

A conversion's power has a fixed part that grows with the resolution and a part set by the
current the column draws: the lower the column resistance, the more the sense front end
burns. Energy per conversion = power x conversion time.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

# SAR (NeuroSim SarADC.cpp, LP roadmap, 22 nm): P = (0.538 b + 4.3753) µW + 0.072341 / R_col.
SAR_STATIC_UW_PER_BIT = 0.538
SAR_STATIC_UW = 4.3753
SAR_CURRENT_COEFF = 0.072341  # W·Ω: the column-current term, at a 0.5 V read
SAR_NS_PER_STEP = 1.0  # one comparison per bit plus sampling: (b + 1) ns
SAR_AREA_UM2_AT_3_BITS = 86.7  # 269/109 NMOS and 209/73 PMOS unit transistors
SAR_AREA_UM2_PER_BIT = 18.8

# SarADC.cpp, LP roadmap: P = (a·b + c) µW + k·exp(−e·log10 R_col) per node (a, c, k, e).
# Its e = 2.303 is ln 10 rounded (the law is k/R); 32 nm has a fitted 2.297.
LN10 = math.log(10)
SAR_LP_BY_NODE = {
    130: (8.4483, 65.243, 0.169380, LN10), 90: (5.9869, 37.462, 0.144323, LN10),
    65: (3.7506, 25.844, 0.121272, LN10), 45: (2.1691, 16.693, 0.100225, LN10),
    32: (1.1294, 8.8998, 0.079449, 2.297), 22: (0.538, 4.3753, 0.072341, LN10),
    14: (0.3132, 2.5681, 0.061085, LN10), 10: (0.1823, 1.5073, 0.051580, LN10),
    7: (0.1061, 0.8847, 0.043555, LN10),
}

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
    node_nm: int = 22
    """Technology node: the SAR power law is NeuroSim's own for the node; the flash
    comparators scale with the SAR fit's ratio to 22 nm, areas with F²."""

    def _sar(self) -> tuple[float, float, float, float]:
        return SAR_LP_BY_NODE[int(self.node_nm)]

    @property
    def _flash_scale(self) -> tuple[float, float]:
        a, c, k, _ = self._sar()
        a22, c22, k22, _ = SAR_LP_BY_NODE[22]
        return (a * 3 + c) / (a22 * 3 + c22), k / k22

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
            a, c, k, e = self._sar()
            current = k * g ** (e / LN10) if g > 0 else 0.0   # k·R^(−e/ln 10)
            return (a * self.bits + c) + current * 1e6
        static, current = self._flash_scale
        levels = 2 ** self.bits
        return (FLASH_UW_PER_COMPARATOR * static * (levels - 1)
                + FLASH_CURRENT_COEFF * current * g * 1e6)

    def energy_fj(self, column_conductance_s: float, read_voltage: float) -> float:
        """Energy of one conversion (fJ): µW x ns = fJ."""
        return self.power_uw(column_conductance_s, read_voltage) * self.conversion_ns

    @property
    def area_um2(self) -> float:
        f2 = (self.node_nm / 22) ** 2
        if self.kind == "sar":
            return (SAR_AREA_UM2_AT_3_BITS + SAR_AREA_UM2_PER_BIT * (self.bits - 3)) * f2
        comparators = 2 ** self.bits - 1
        return f2 * max(FLASH_AREA_UM2_PER_COMPARATOR,
                        FLASH_AREA_UM2_PER_COMPARATOR * comparators + FLASH_AREA_UM2_OFFSET)
