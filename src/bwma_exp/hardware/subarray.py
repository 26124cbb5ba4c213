"""One S×S crossbar subarray with its periphery: geometry, read physics, per-read energy,
area and leakage of each part, and the sensing cycle that sets the clock.

Parts (NeuroSim SubArray.cpp, parallel read): the cell array; row switch matrix (and, for
eNVM written above 1.5 V, level shifters on rows and columns); column mux and its
decoder; one ADC per ``columns_per_adc`` columns (SRAM adds bit-line prechargers); shift-add
units that weight the input bits (and the cell slices of multi-bit weights).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from bwma_exp.hardware.adc import AdcModel
from bwma_exp.hardware.config import HardwareConfig
from bwma_exp.hardware.technology import BETA_SENSING, Technology

# At 22 nm; other nodes scale them by the node's transistor resistance and gate capacitance.
R_SWITCH_OHM = 4e3  # output resistance of a row switch-matrix driver
MUX_DECODER_NS = 0.11  # 3-bit column-mux decoder + transmission gate, about 5 FO4 at 22 nm
C_ACCESS_GATE_FF = 0.2  # gate of the 1T1R access transistor on the word line
C_CELL_DRAIN_FF = 0.1  # drain of an access transistor on the bit line
SENSE_MARGIN = 0.2  # eNVM: 15-20 % bit-line swing is enough to sense (NeuroSim colDelay)
SRAM_MIN_SENSE_V = 0.1  # NeuroSim minSenseVoltage: the bit line swings half of it from VDD


@dataclass(frozen=True)
class Subarray:
    hw: HardwareConfig
    tech: Technology

    # ---- geometry -------------------------------------------------------------------
    @property
    def size(self) -> int:
        return self.hw.crossbar_size

    @property
    def feature_um(self) -> float:
        return self.tech.node_nm * 1e-3

    @property
    def row_length_um(self) -> float:
        return self.size * self.hw.device.cell_width_f * self.feature_um

    @property
    def column_length_um(self) -> float:
        return self.size * self.hw.device.cell_height_f * self.feature_um

    @property
    def word_line_cap_ff(self) -> float:
        gates = (2 * self.tech.cap_gate_min_ff if self.is_sram
                 else C_ACCESS_GATE_FF * self.tech.cap_scale)
        return self.row_length_um * self.tech.wire_cap_ff_per_um + self.size * gates

    @property
    def bit_line_cap_ff(self) -> float:
        return (self.column_length_um * self.tech.wire_cap_ff_per_um
                + self.size * C_CELL_DRAIN_FF * self.tech.cap_scale)

    @property
    def switch_ohm(self) -> float:
        return R_SWITCH_OHM * self.tech.transistor_res_scale

    @property
    def access_ohm(self) -> float:
        """The cell's series access resistance: an SRAM preset's transistor is characterised at
        22 nm and scales with the node; a 1T1R access is sized to 0.25 R_on at every node."""
        r = self.hw.device.access_resistance_ohm
        return r * self.tech.transistor_res_scale if self.is_sram else r

    @property
    def is_sram(self) -> bool:
        return self.hw.device.cell_type == "sram"

    @property
    def adcs(self) -> int:
        return math.ceil(self.size / self.hw.columns_per_adc)

    @property
    def adc(self) -> AdcModel:
        return AdcModel(self.hw.adc_type, self.hw.adc_bits, int(self.tech.node_nm))

    # ---- read physics -----------------------------------------------------------------
    def mean_cell_conductance(self) -> float:
        """Average conductance one activated row adds to a column (S), wire included."""
        d = self.hw.device
        wire = self.tech.wire_res_ohm_per_um * (self.row_length_um + self.column_length_um) / 2
        if self.is_sram:
            return 1.0 / (self.access_ohm + wire)
        on = self.hw.weight_on_fraction
        series = self.access_ohm + wire
        return on / (d.r_on_ohm + series) + (1 - on) / (d.r_off_ohm + series)

    def conversion_energy_fj(self, rows_used: float) -> float:
        """One column conversion when ``rows_used`` rows hold weights: the expected column
        conductance is density x rows x mean cell conductance."""
        g = self.hw.input_density * rows_used * self.mean_cell_conductance()
        # The SAR's current term is characterised at a 0.5 V read; an eNVM read at another
        # voltage scales the current. SRAM's access path is characterised as it is.
        voltage = 0.5 if self.is_sram else self.hw.device.read_voltage
        return self.adc.energy_fj(g, voltage)

    def sensing_ns(self) -> float:
        """One sensing cycle: row drive (or column selection, whichever is slower),
        bit-line settling, conversion, times β (NeuroSim). In synchronous mode the clock
        period is this, capped at 1 GHz."""
        t = self.tech
        mux = MUX_DECODER_NS * t.transistor_res_scale * t.cap_scale
        row = max(self.switch_ohm * self.word_line_cap_ff * 1e-6,  # Ω·fF = 1e-6 ns
                  mux if self.hw.columns_per_adc > 1 else 0.0)
        d = self.hw.device
        if self.is_sram:
            sense_log = math.log(t.vdd / (t.vdd - SRAM_MIN_SENSE_V / 2))
            column = (self.access_ohm + self.switch_ohm) * self.bit_line_cap_ff * 1e-6 * sense_log
        else:
            r_avg = (d.r_on_ohm + d.r_off_ohm) / 2 + self.access_ohm
            column = SENSE_MARGIN * self.bit_line_cap_ff * 1e-6 * r_avg / (self.size / 2)
        return BETA_SENSING * (row + column + self.adc.conversion_ns)

    # ---- per input bit, per subarray (fJ) --------------------------------------------------
    def array_energy_fj(self, rows_used: float) -> float:
        """Bit-line charging of the sensed columns and the word lines of active rows, for
        the ``columns_per_adc`` sensing steps of one input bit (NeuroSim's array read)."""
        m = self.hw.columns_per_adc
        wl = self.word_line_cap_ff * self.tech.vdd ** 2 * rows_used * self.hw.input_density
        if self.is_sram:  # bit lines discharge from the precharge (counted there)
            return wl * m
        bl = self.bit_line_cap_ff * self.hw.device.read_voltage ** 2 * self.adcs
        return (bl + wl) * m

    def precharge_energy_fj(self) -> float:
        """SRAM: each sensed bit line is precharged to VDD once per input bit."""
        if not self.is_sram:
            return 0.0
        return self.size * self.bit_line_cap_ff * self.tech.vdd ** 2

    def switch_energy_fj(self, rows_used: float) -> float:
        """Row switch matrix and column mux for the m sensing steps of one input bit: the
        row input register (a DFF per row) is clocked and the active word lines driven
        at every step; the mux switches its transmission gates."""
        t, m = self.tech, self.hw.columns_per_adc
        registers = self.size * t.energy_dff_clock
        drive = rows_used * self.hw.input_density * self.word_line_cap_ff * t.vdd ** 2
        mux = self.size * t.energy_tg_switch * 2
        return m * (registers + drive) + mux

    def shift_add_energy_fj(self, input_bits: int, cells_per_weight: int) -> float:
        """Shift-adders after the ADCs (all units clocked on every read, activity γ/δ)."""
        units = self.adcs
        bits = self.hw.adc_bits + cells_per_weight
        reads = math.ceil(self.hw.columns_per_adc / cells_per_weight)
        dffs = (bits + input_bits) * units
        per_read = units * bits * self.tech.energy_adder_bit + dffs * self.tech.energy_dff_accumulate
        energy = reads * per_read
        if cells_per_weight > 1:  # weight-slice shift-add
            energy += self.hw.columns_per_adc * per_read
        return energy

    # ---- area (µm²) and leakage (nW) ------------------------------------------------------
    def area_parts(self, input_bits: int, cells_per_weight: int) -> dict[str, float]:
        t, s, d = self.tech, self.size, self.hw.device
        array = s * s * d.cell_area_f2 * self.feature_um ** 2
        adc = self.adcs * self.adc.area_um2
        if self.is_sram:
            adc += s * t.area_sram_precharger
        bits = self.hw.adc_bits + cells_per_weight
        shift = self.adcs * ((bits + input_bits) * t.area_dff + bits * t.area_full_adder)
        if cells_per_weight > 1:
            shift *= 2
        other = 3 * s * t.area_transmission_gate  # row switches, column mux, SL switches
        other += s * t.area_dff  # row input registers of the switch matrix
        other += math.ceil(math.log2(self.hw.columns_per_adc) + 1) * 4 * t.area_inv  # mux decoder
        if self.is_sram:
            other += s * t.area_sram_write_driver
        elif d.write_voltage > 1.5:
            other += 3 * s * t.area_level_shifter
        return {"array": array, "adc": adc, "accumulation": shift, "other": other}

    def leakage_nw(self, input_bits: int, cells_per_weight: int) -> float:
        t = self.tech
        bits = self.hw.adc_bits + cells_per_weight
        dffs = self.adcs * (bits + input_bits)
        return (self.adcs * t.leak_adc_nw + dffs * t.leak_dff_nw
                + self.adcs * bits * t.leak_full_adder_nw + 3 * self.size * t.leak_tg_nw
                + self.size * t.leak_dff_nw)
