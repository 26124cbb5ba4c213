"""CMOS primitives (low-standby-power roadmap) the component models are built from: the
characterised 22 nm node, and NeuroSim V1.3's other nodes scaled from it.

Values are the standard-cell quantities NeuroSim V1.3 derives from its 22 nm PTM/ITRS
tables and layout rules (28 F standard-cell height, 2 F minimum NMOS, DFF = 12 minimum
inverters, full adder = 9 NAND2, 0.2 fF/µm wires); they are written here as effective
per-event energies and per-instance areas so that every component stays one line of
arithmetic. Switching activities (NeuroSim's validated factors γ, δ, ε) are folded into the
energies they apply to and named so. Nothing here is specific to a network or a device.
"""
from __future__ import annotations

import math
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
    # Ratios to the 22 nm node of a minimum transistor's on-resistance and gate capacitance
    # (scale the subarray's driver, access-transistor and mux constants).
    transistor_res_scale: float = 1.0
    cap_scale: float = 1.0

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


# NeuroSim V1.3's nodes (Technology.cpp, LSTP roadmap, conventional transistors at 300 K):
# VDD (V), gate capacitance per width capIdealGate + capFringe (F/m), the CACTI effective-
# resistance multiplier, NMOS on and off currents (µA/µm); and Param.cpp's wire for the node:
# width (nm), aspect ratio and resistivity (Ω·m). FinFET nodes (14/10/7 nm) are taken per
# effective width.
NODE_PARAMS: dict[int, dict[str, float]] = {
    130: dict(vdd=1.3, cap_gate=1.8574e-9 + 9.530642e-10, r_mult=1.54, i_on=300.70,
              i_off=100.20e-6, wire_nm=175, wire_ar=1.60, rho=2.20e-8),
    90: dict(vdd=1.2, cap_gate=1.5413e-9 + 9.601334e-10, r_mult=1.77, i_on=346.30,
             i_off=100.00e-6, wire_nm=110, wire_ar=1.60, rho=2.52e-8),
    65: dict(vdd=1.1, cap_gate=1.1926e-9 + 9.62148e-10, r_mult=1.77, i_on=400.00,
             i_off=100.20e-6, wire_nm=105, wire_ar=1.70, rho=2.68e-8),
    45: dict(vdd=1.0, cap_gate=8.930709e-10 + 8.849901e-10, r_mult=1.77, i_on=500.20,
             i_off=100.00e-6, wire_nm=80, wire_ar=1.70, rho=3.31e-8),
    32: dict(vdd=0.9, cap_gate=8.375279e-10 + 6.856677e-10, r_mult=1.77, i_on=600.20,
             i_off=100.10e-6, wire_nm=56, wire_ar=1.80, rho=3.70e-8),
    22: dict(vdd=0.85, cap_gate=5.245e-10 + 8.004e-10, r_mult=1.77, i_on=791.90,
             i_off=100.00e-6, wire_nm=40, wire_ar=1.90, rho=4.03e-8),
    14: dict(vdd=0.8, cap_gate=1.0572e-9, r_mult=1.76, i_on=893.0, i_off=99.7866e-6,
             wire_nm=25, wire_ar=2.0, rho=5.08e-8),
    10: dict(vdd=0.75, cap_gate=9.418984e-10, r_mult=1.73, i_on=862.0, i_off=99.6973e-6,
             wire_nm=18, wire_ar=2.0, rho=6.35e-8),
    7: dict(vdd=0.7, cap_gate=8.49489e-10, r_mult=1.73, i_on=822.0, i_off=1.00e-4,
            wire_nm=18, wire_ar=2.0, rho=6.35e-8),
}
NODES = tuple(NODE_PARAMS)
REFERENCE_NODE = 22


def _wire_ohm_per_um(node: int) -> float:
    """Param.cpp: unitLengthWireResistance = ρ / (w² · AR)."""
    p = NODE_PARAMS[node]
    return p["rho"] / ((p["wire_nm"] * 1e-9) ** 2 * p["wire_ar"]) * 1e-6


def _scaled(node: int) -> Technology:
    """The 22 nm primitives carried to ``node`` by the ratios of NeuroSim's own per-node
    quantities: areas with F², capacitances with C_gate·F, switching energies with C·V²,
    transistor resistance with r·V/(I_on·F), leakage with I_off·F·V, repeated-wire delay with
    sqrt(r_wire·c_wire·R·C) and wire resistance from the node's wire (Param.cpp)."""
    ref, new = NODE_PARAMS[REFERENCE_NODE], NODE_PARAMS[node]
    t = TECH_22NM
    f = node / REFERENCE_NODE
    cap = new["cap_gate"] * node / (ref["cap_gate"] * REFERENCE_NODE)
    volt = new["vdd"] / ref["vdd"]
    res = (new["r_mult"] * new["vdd"] / (new["i_on"] * node)) / \
        (ref["r_mult"] * ref["vdd"] / (ref["i_on"] * REFERENCE_NODE))
    leak = (new["i_off"] * node * new["vdd"]) / (ref["i_off"] * REFERENCE_NODE * ref["vdd"])
    wire = _wire_ohm_per_um(node) / _wire_ohm_per_um(REFERENCE_NODE)
    energy = cap * volt ** 2
    return Technology(
        node_nm=float(node), vdd=t.vdd * volt, wire_cap_ff_per_um=t.wire_cap_ff_per_um,
        wire_res_ohm_per_um=t.wire_res_ohm_per_um * wire, cell_height_um=28 * node * 1e-3,
        area_inv=t.area_inv * f * f, area_dff=t.area_dff * f * f,
        area_full_adder=t.area_full_adder * f * f,
        area_transmission_gate=t.area_transmission_gate * f * f,
        area_level_shifter=t.area_level_shifter * f * f,
        area_sram_precharger=t.area_sram_precharger * f * f,
        area_sram_write_driver=t.area_sram_write_driver * f * f,
        energy_dff_clock=t.energy_dff_clock * energy,
        energy_full_adder=t.energy_full_adder * energy,
        energy_tg_switch=t.energy_tg_switch * energy, cap_gate_min_ff=t.cap_gate_min_ff * cap,
        repeated_wire_ns_per_mm=t.repeated_wire_ns_per_mm * math.sqrt(wire * res * cap),
        repeater_cap_factor=t.repeater_cap_factor, repeater_width_um=t.repeater_width_um * f,
        leak_dff_nw=t.leak_dff_nw * leak, leak_full_adder_nw=t.leak_full_adder_nw * leak,
        leak_adc_nw=t.leak_adc_nw * leak, leak_tg_nw=t.leak_tg_nw * leak,
        transistor_res_scale=res, cap_scale=cap)


def technology(node_nm: float) -> Technology:
    """The primitives at one of NeuroSim V1.3's nodes (22 nm is the characterised one)."""
    if node_nm not in NODE_PARAMS:
        from bwma_exp.utils.errors import ConfigError

        raise ConfigError("hardware.technology_nm", node_nm, ", ".join(map(str, NODES)),
                          hint="the technology nodes of NeuroSim V1.3")
    node = int(node_nm)
    return TECH_22NM if node == REFERENCE_NODE else _scaled(node)
