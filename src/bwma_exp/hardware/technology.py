"""22 nm CMOS primitives (low-standby-power roadmap) the component models are built from.

Values are the standard-cell quantities NeuroSim V1.3 derives from its 22 nm PTM/ITRS
tables and layout rules (28 F standard-cell height, 2 F minimum NMOS, DFF = 12 minimum
inverters, full adder = 9 NAND2, 0.2 fF/µm wires); they are written here as effective
per-event energies and per-instance areas so that every component stays one line of
arithmetic. Switching activities (NeuroSim's validated factors γ, δ, ε) are folded into the
energies they apply to and named so. Nothing here is specific to a network or a device.
"""
from __future__ import annotations

from dataclasses import dataclass

# NeuroSim's calibration factors (Param.cpp, "validated" silicon data).
BETA_SENSING = 1.4  # latency factor of the sensing cycle
GAMMA_DFF = 0.5  # switching activity of DFFs in shift-adders and accumulators
DELTA_ADDER = 0.15  # switching activity of adders
EPSILON_CONTROL = 0.05  # switching activity of control circuits
ALPHA_LEVEL_SHIFTER_WIRING = 1.44  # wiring area of level shifters
ZETA_TOPS_PER_W = 1.22  # post-layout energy increase applied to TOPS/W
MAX_CLOCK_GHZ = 1.0


@dataclass(frozen=True)
class Technology:
    node_nm: float
    vdd: float  # V
    wire_cap_ff_per_um: float  # 0.2 fF/µm (NeuroSim)
    wire_res_ohm_per_um: float  # Cu at 40 nm width, AR 1.9, 300 K
    cell_height_um: float  # standard-cell height, 28 F
    # Areas (µm²) of standard cells at this node.
    area_inv: float
    area_dff: float
    area_full_adder: float  # per bit
    area_transmission_gate: float
    area_level_shifter: float  # IO-transistor level shifter incl. α wiring
    area_sram_precharger: float  # per column
    area_sram_write_driver: float  # per column
    # Dynamic energies (fJ) per event.
    energy_dff_clock: float  # one DFF clocked with D toggling (no activity factor)
    energy_full_adder: float  # one full-adder bit evaluation (no activity factor)
    energy_tg_switch: float  # one transmission gate / switch toggled
    cap_gate_min_ff: float  # minimum inverter input capacitance
    # H-tree repeated wire: delay per mm and the repeater overhead on wire capacitance.
    repeated_wire_ns_per_mm: float
    repeater_cap_factor: float
    repeater_width_um: float  # H-tree repeater (sets the routed bus width)
    # Leakage power (nW) per instance in the LSTP roadmap.
    leak_dff_nw: float
    leak_full_adder_nw: float
    leak_adc_nw: float
    leak_tg_nw: float

    @property
    def energy_dff_accumulate(self) -> float:
        """A DFF in a shift-adder/accumulator, with NeuroSim's activity γ."""
        return self.energy_dff_clock * GAMMA_DFF

    @property
    def energy_adder_bit(self) -> float:
        """One adder bit with NeuroSim's activity δ."""
        return self.energy_full_adder * DELTA_ADDER

    def wire_energy_fj_per_bit_um(self) -> float:
        """Repeated wire, 1/4 of the bits toggling each way (NeuroSim HTree)."""
        return self.wire_cap_ff_per_um * (1 + self.repeater_cap_factor) * self.vdd ** 2 * 0.25


TECH_22NM = Technology(
    node_nm=22.0,
    vdd=0.8,
    wire_cap_ff_per_um=0.2,
    wire_res_ohm_per_um=13.3,
    cell_height_um=28 * 0.022,
    area_inv=0.616 * 0.11,
    area_dff=1.6,
    area_full_adder=1.9,
    area_transmission_gate=0.616 * 0.132,
    area_level_shifter=1.44 * 1.54 * 5.5,
    area_sram_precharger=0.616 * 0.44,
    area_sram_write_driver=0.616 * 0.66,
    energy_dff_clock=5.0,
    energy_full_adder=8.0,
    energy_tg_switch=0.35,
    cap_gate_min_ff=0.11,
    repeated_wire_ns_per_mm=0.35,
    repeater_cap_factor=0.5,
    repeater_width_um=1.1,
    leak_dff_nw=0.25,
    leak_full_adder_nw=0.2,
    leak_adc_nw=5.0,
    leak_tg_nw=0.04,
)


def technology(node_nm: float) -> Technology:
    if node_nm != 22:
        from bwma_exp.utils.errors import ConfigError

        raise ConfigError("hardware.technology_nm", node_nm, "22",
                          hint="only the 22 nm node of NeuroSim V1.3 is characterised")
    return TECH_22NM
