"""Chip area bottom-up: subarray -> PE -> tile -> chip, in NeuroSim's buckets (array, ADC,
accumulation, interconnect, other). Also returns the unit sizes the H-trees span."""
from __future__ import annotations

import math
from dataclasses import dataclass

from bwma_exp.hardware.cycles import BUFFER_CORE_BITS, GLOBAL_BUFFER_CORE_BITS
from bwma_exp.hardware.floorplan import FloorPlan
from bwma_exp.hardware.periphery import adder_tree_bits, htree_area_um2, register_file_cores
from bwma_exp.hardware.subarray import Subarray

BUCKETS = ("array", "adc", "accumulation", "interconnect", "other")
TILE_TREE_FOLD = 16  # NeuroSim folds tile H-trees 16x and the chip H-tree 4x
CHIP_TREE_FOLD = 4


@dataclass(frozen=True)
class ChipGeometry:
    area: dict[str, float]  # µm² per bucket
    pe_side_nm: float  # µm
    pe_side_cm: float
    tile_side_nm: float
    tile_side_cm: float
    tile_grid: tuple[int, int]
    tile_leakage_nw: dict[str, float]  # per tile type "nm"/"cm"

    @property
    def total(self) -> float:
        return sum(self.area.values())


def _add(into: dict[str, float], parts: dict[str, float], times: float = 1.0) -> None:
    for key, value in parts.items():
        into[key] = into.get(key, 0.0) + value * times


def _pe(sub: Subarray, pe_size: int, bits: int, cps: int) -> tuple[dict[str, float], float]:
    t, s, m = sub.tech, sub.size, sub.hw.columns_per_adc
    side = math.ceil(pe_size / s)
    parts: dict[str, float] = {}
    _add(parts, sub.area_parts(bits, cps), side * side)
    adc_bits = sub.hw.adc_bits
    tree_bits = adder_tree_bits(side, adc_bits + bits + 1) * (pe_size // m)
    parts["accumulation"] += tree_bits * t.area_full_adder
    stages = math.ceil(math.log2(side)) if side > 1 else 0
    dffs = bits * s + (s // m) * (adc_bits + bits + stages)
    parts["other"] += dffs * t.area_dff
    leak = (sub.leakage_nw(bits, cps) * side * side + tree_bits * t.leak_full_adder_nw
            + dffs * t.leak_dff_nw)
    return parts, leak


def _tile(sub: Subarray, pes: int, pe_parts: dict[str, float], pe_leak: float,
          pe_size: int, bits: int) -> tuple[dict[str, float], float, float]:
    t, s, m, adc_bits = sub.tech, sub.size, sub.hw.columns_per_adc, sub.hw.adc_bits
    parts: dict[str, float] = {}
    _add(parts, pe_parts, pes)
    side_pes = math.ceil(math.sqrt(pes))
    acc_bits = adc_bits + bits + 1 + (math.ceil(math.log2(pe_size / s)) if pe_size > s else 0)
    tree_bits = adder_tree_bits(pes, acc_bits) * math.ceil(pes * s / m)
    parts["accumulation"] += tree_bits * t.area_full_adder
    in_bits, in_cores = register_file_cores(pes * bits * s, BUFFER_CORE_BITS)
    out_bits, out_cores = register_file_cores(acc_bits * pes * s / m, BUFFER_CORE_BITS)
    buffer_dffs = in_bits * in_cores + out_bits * out_cores
    parts["other"] += buffer_dffs * t.area_dff
    pe_side = math.sqrt(sum(pe_parts.values()))
    parts["interconnect"] = parts.get("interconnect", 0.0) + htree_area_um2(
        side_pes, side_pes, pe_side, pe_side, pes * s, t.repeater_width_um, TILE_TREE_FOLD)
    leak = pe_leak * pes + tree_bits * t.leak_full_adder_nw + buffer_dffs * t.leak_dff_nw
    return parts, leak, pe_side


def chip_geometry(sub: Subarray, plan: FloorPlan, bits: int, cps: int, buffer_cores: int,
                  bus_width: float, max_tile_rows: int) -> ChipGeometry:
    t, m = sub.tech, sub.hw.columns_per_adc
    area: dict[str, float] = dict.fromkeys(BUCKETS, 0.0)
    leaks: dict[str, float] = {}
    sides = {"nm": (0.0, 0.0), "cm": (0.0, 0.0)}
    kinds = (("nm", plan.pes_per_nm_tile, plan.pe_size_nm, plan.nm_tiles),
             ("cm", plan.pes_per_cm_tile_side ** 2, plan.pe_size_cm, plan.cm_tiles))
    for kind, pes, pe_size, count in kinds:
        if pes == 0 or pe_size == 0:
            continue
        pe_parts, pe_leak = _pe(sub, pe_size, bits, cps)
        tile_parts, tile_leak, pe_side = _tile(sub, pes, pe_parts, pe_leak, pe_size, bits)
        _add(area, tile_parts, count)
        leaks[kind] = tile_leak
        sides[kind] = (pe_side, math.sqrt(sum(tile_parts.values())))
    tiles = plan.total_tiles
    grid_rows = math.ceil(math.sqrt(tiles))
    grid = (grid_rows, math.ceil(tiles / grid_rows))
    tile_side = max(sides["nm"][1], sides["cm"][1])
    area["other"] += buffer_cores * GLOBAL_BUFFER_CORE_BITS * t.area_dff
    area["interconnect"] += htree_area_um2(grid[0], grid[1], tile_side, tile_side, bus_width,
                                           t.repeater_width_um, CHIP_TREE_FOLD)
    throughput = max(plan.tile_size_cm, math.ceil(math.sqrt(plan.pes_per_nm_tile))
                     * plan.pe_size_nm)
    units = math.ceil(throughput / m)
    global_tree = adder_tree_bits(max_tile_rows, sub.hw.adc_bits + bits + 2) * units
    area["accumulation"] += global_tree * t.area_full_adder
    area["other"] += units * bits * t.area_dff  # ReLU
    area["other"] += units * 3 * bits * t.area_full_adder  # 2x2 max-pool comparators
    return ChipGeometry(area=area, pe_side_nm=sides["nm"][0], pe_side_cm=sides["cm"][0],
                        tile_side_nm=sides["nm"][1], tile_side_cm=sides["cm"][1],
                        tile_grid=grid, tile_leakage_nw=leaks)
