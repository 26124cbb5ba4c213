"""``estimate(layers, hw)``: latency, energy and area of a network on a CIM chip, with the
breakdowns of hardware.json. Units: ns, pJ, µm².

Latency: NeuroSim's synchronous cycle counts (cycles.py) times the clock period, which is
the sensing cycle β·(row drive + bit-line settling + conversion), capped at 1 GHz.
Asynchronous clocking runs the digital logic at 1 GHz and times each sensing step by its
own delay. Layer by layer, the chip latency is the sum over layers; pipelined, the
per-image period is the slowest layer (latency stays the sum).
Energy: dynamic per image (layer_energy.py) plus leakage: layer by layer every tile not
busy with the current layer leaks for that layer's latency; pipelined every tile leaks for
one period.
"""
from __future__ import annotations

import math
from dataclasses import replace

from bwma_exp.hardware.area import chip_geometry
from bwma_exp.hardware.config import HardwareConfig
from bwma_exp.hardware.cycles import GLOBAL_BUFFER_CORE_BITS, global_bus_width, layer_cycles
from bwma_exp.hardware.floorplan import plan_chip
from bwma_exp.hardware.layer_energy import adc_reads, layer_energy, subarray_count
from bwma_exp.hardware.layers_prep import prepare
from bwma_exp.hardware.periphery import htree_path_um
from bwma_exp.hardware.result import assemble
from bwma_exp.hardware.spec import LayerSpec
from bwma_exp.hardware.subarray import Subarray
from bwma_exp.hardware.technology import MAX_CLOCK_GHZ, technology

ADDER_STAGE_CYCLES = 1  # a ≤ 20-bit ripple adder settles within one sensing-limited cycle


def layer_adc_bits(layer, hw: HardwareConfig) -> int:
    return layer.spec.adc_bits or hw.adc_bits


def _activity_subarray(layer_sub: dict, layer_hw: dict, adc_bits: int, layer, tech) -> Subarray:
    """The subarray model at the layer's measured input density and on-cell share (only the
    energies read them); the chip's defaults where the layer has none."""
    density, on = layer.spec.input_density, layer.spec.weight_on_fraction
    if density is None and on is None:
        return layer_sub[adc_bits]
    key = (adc_bits, density, on)
    if key not in layer_sub:
        hw = layer_hw[adc_bits]
        layer_sub[key] = Subarray(replace(
            hw, input_density=hw.input_density if density is None else density,
            weight_on_fraction=hw.weight_on_fraction if on is None else on), tech)
    return layer_sub[key]


def estimate(layers: list[LayerSpec], hw: HardwareConfig) -> dict:
    tech = technology(hw.technology_nm)
    prepared, digital = prepare(layers, hw)
    # Per-layer ADC resolutions (quant.layers): the chip's ADCs are designed for the finest
    # one (area, clock); a layer read at fewer bits takes that resolution's conversion energy
    # and cycles, as a SAR ADC stops after its last bit.
    layer_hw = {b: replace(hw, adc_bits=b) for b in {layer_adc_bits(p, hw) for p in prepared}}
    hw = layer_hw[max(layer_hw)] if layer_hw else hw
    plan = plan_chip(tuple(p.matrix for p in prepared), hw.crossbar_size, hw.mapping)
    sub = Subarray(hw, tech)
    layer_sub = {b: Subarray(h, tech) if b != hw.adc_bits else sub for b, h in layer_hw.items()}
    bits = max(p.in_bits for p in prepared)
    cps = max(p.cells_per_weight for p in prepared)
    m = hw.columns_per_adc
    bus = global_bus_width(plan, m)
    max_input = max(p.spec.in_h * p.spec.in_w * p.spec.c_in for p in prepared)
    buffer_cores = math.ceil(bits * max_input / GLOBAL_BUFFER_CORE_BITS)
    geometry = chip_geometry(sub, plan, bits, cps, buffer_cores, bus,
                             max(pl.tile_rows for pl in plan.layers))

    sensing = sub.sensing_ns()
    synchronous = hw.clocking == "synchronous"
    clock = max(sensing, 1.0 / MAX_CLOCK_GHZ) if synchronous else 1.0 / MAX_CLOCK_GHZ
    wire_um = {
        "pe_nm": geometry.pe_side_nm, "pe_cm": geometry.pe_side_cm,
        "tile_nm": htree_path_um(3, 3, geometry.pe_side_nm, geometry.pe_side_nm)
        if plan.pes_per_nm_tile else 0.0,
        "tile_cm": htree_path_um(plan.pes_per_cm_tile_side, plan.pes_per_cm_tile_side,
                                 geometry.pe_side_cm, geometry.pe_side_cm),
        "chip": htree_path_um(*geometry.tile_grid, max(geometry.tile_side_nm, geometry.tile_side_cm),
                              max(geometry.tile_side_nm, geometry.tile_side_cm)),
    }
    if plan.pes_per_nm_tile:
        side = math.ceil(math.sqrt(plan.pes_per_nm_tile))
        wire_um["tile_nm"] = htree_path_um(side, side, geometry.pe_side_nm, geometry.pe_side_nm)
    ns_per_um = tech.repeated_wire_ns_per_mm * 1e-3

    def hops(path_um: float) -> int:
        return max(1, math.ceil(path_um * ns_per_um / 1.0))

    per_layer = []
    for i, layer in enumerate(prepared):
        p = plan.layers[i]
        ref = 1 if layer.reference_column else 0
        adc_bits = layer_adc_bits(layer, hw)
        cycles, traffic = layer_cycles(
            plan, i, layer.matrix, layer.vectors, layer.in_bits, adc_bits, m,
            ADDER_STAGE_CYCLES, hops(wire_um["tile_nm" if p.novel else "tile_cm"]),
            hops(wire_um["chip"]), buffer_cores, bus, extra_conversions=ref)
        adc_ns = cycles.adc * (clock if synchronous else sensing)
        latency = {"adc": adc_ns, "accumulation": cycles.accumulation * clock,
                   "buffer": cycles.buffer * clock, "interconnect": cycles.interconnect * clock,
                   "rest": cycles.rest * clock}
        energy_fj = layer_energy(_activity_subarray(layer_sub, layer_hw, adc_bits, layer, tech),
                                 plan, i, layer, traffic, wire_um, layer.reference_column)
        subarrays = subarray_count(p, layer, plan)
        per_layer.append({"layer": layer, "placement": p, "latency": latency,
                          "energy_fj": energy_fj, "subarrays": subarrays,
                          "adc_reads": adc_reads(p, layer, plan, layer.reference_column)})

    # Leakage: idle tiles leak while another layer runs (layer by layer), or all tiles for
    # one pipeline period.
    tile_leak_nw = [geometry.tile_leakage_nw["nm" if pl.novel else "cm"] * pl.tiles * g
                    for pl, g in zip(plan.layers, plan.groups)]
    total_leak_nw = sum(tile_leak_nw)
    layer_ns = [sum(entry["latency"].values()) for entry in per_layer]
    if hw.mode == "pipelined":
        period = max(layer_ns)
        leakage_fj = [total_leak_nw * period * 1e-3 * ns / sum(layer_ns) for ns in layer_ns]
    else:
        period = None
        leakage_fj = [(total_leak_nw - own) * ns * 1e-3 for own, ns in zip(tile_leak_nw, layer_ns)]
    return assemble(hw, prepared, digital, plan, geometry, per_layer, leakage_fj, clock, period,
                    sensing)
