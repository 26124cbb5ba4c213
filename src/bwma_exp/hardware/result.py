"""The hardware.json document: totals, breakdowns that sum to their totals, per-layer rows
and the configuration it was computed for. Units: ns, pJ, µm²."""
from __future__ import annotations

from bwma_exp.hardware.area import ChipGeometry
from bwma_exp.hardware.config import HardwareConfig
from bwma_exp.hardware.floorplan import FloorPlan
from bwma_exp.hardware.layers_prep import PreparedLayer
from bwma_exp.hardware.spec import LayerSpec
from bwma_exp.hardware.technology import ZETA_TOPS_PER_W

FJ_PER_PJ = 1000.0


def _or(measured: float | None, default: float) -> float:
    return default if measured is None else measured


def neurosim_operations(layers: list[PreparedLayer]) -> float:
    """NeuroSim's operation count: 2·H_in·W_in·C_in·K²·C_out per layer (input size, as its
    main.cpp counts; equal to 2·MACs for stride-1 'same' convolutions)."""
    return sum(2.0 * lay.spec.in_h * lay.spec.in_w * lay.spec.c_in // lay.spec.groups
               * lay.spec.k_h * lay.spec.k_w * lay.spec.c_out for lay in layers)


def assemble(hw: HardwareConfig, prepared: list[PreparedLayer], digital: list[LayerSpec],
             plan: FloorPlan, geometry: ChipGeometry, per_layer: list[dict],
             leakage_fj: list[float], clock_ns: float, period_ns: float | None,
             sensing_ns: float) -> dict:
    lat = {k: sum(e["latency"][k] for e in per_layer)
           for k in ("adc", "accumulation", "buffer", "interconnect", "rest")}
    dyn = {k: sum(e["energy_fj"][k] for e in per_layer) / FJ_PER_PJ
           for k in ("array", "adc", "accumulation", "buffer", "interconnect", "other")}
    leakage = sum(leakage_fj) / FJ_PER_PJ
    latency_ns = sum(lat.values())
    dynamic = sum(dyn.values())
    energy = dynamic + leakage
    area = dict(geometry.area)
    unique_cells = sum(lay.matrix.c_in * lay.matrix.k_h * lay.matrix.k_w * lay.matrix.c_out
                       * lay.cells_per_weight * lay.matrix.groups for lay in prepared)
    ref_cells = [hw.crossbar_size * e["subarrays"] if e["layer"].reference_column else 0
                 for e in per_layer]
    allocated = sum(e["subarrays"] * hw.crossbar_size ** 2 for e in per_layer) + sum(ref_cells)
    ops = neurosim_operations(prepared)
    tops_per_w = ops / (energy * 1e-12) / 1e12 / ZETA_TOPS_PER_W if energy > 0 else 0.0
    chip_tiles = plan.total_tiles
    neurosim_util = sum(pl.neurosim_utilization * pl.tiles * g
                        for pl, g in zip(plan.layers, plan.groups)) / chip_tiles

    rows = []
    for lay, entry, leak, ref in zip(prepared, per_layer, leakage_fj, ref_cells):
        p = entry["placement"]
        cells = (lay.matrix.c_in * lay.matrix.k_h * lay.matrix.k_w * lay.matrix.c_out
                 * lay.cells_per_weight * lay.matrix.groups)
        alloc = entry["subarrays"] * hw.crossbar_size ** 2 + ref
        rows.append({
            "name": lay.spec.name, "rows": p.matrix_rows, "cols": p.matrix_cols,
            "groups": lay.matrix.groups,
            "mapping": "novel" if p.novel else "channel_grouped" if p.used_row_blocks else "im2col",
            "w_bits": lay.w_bits, "in_bits": lay.in_bits,
            "adc_bits": lay.spec.adc_bits or hw.adc_bits, "input_vectors": lay.vectors,
            "subarrays": entry["subarrays"], "adc_reads": entry["adc_reads"],
            "weight_cells": cells, "tiles": p.tiles * lay.matrix.groups,
            "speedup": p.speedup_row * p.speedup_col, "utilization": cells / alloc,
            "latency_ns": sum(entry["latency"].values()),
            "energy_pj": (sum(entry["energy_fj"].values()) + leak) / FJ_PER_PJ,
            "input_density": _or(lay.spec.input_density, hw.input_density),
            "weight_on_fraction": _or(lay.spec.weight_on_fraction, hw.weight_on_fraction),
            "digital": False,
        })
    for spec in digital:
        rows.append({"name": spec.name, "rows": spec.rows_per_group, "cols": spec.cols_per_group,
                     "groups": spec.groups, "mapping": "digital", "w_bits": spec.w_bits,
                     "in_bits": spec.act_bits, "adc_bits": None, "input_vectors": 0,
                     "subarrays": 0, "adc_reads": 0, "weight_cells": 0, "tiles": 0,
                     "speedup": 1, "utilization": 0.0, "latency_ns": 0.0, "energy_pj": 0.0,
                     "input_density": None, "weight_on_fraction": None, "digital": True})

    result = {
        "latency_ns": latency_ns,
        "energy_pj": energy,
        "energy_dynamic_pj": dynamic,
        "energy_leakage_pj": leakage,
        "area_um2": sum(area.values()),
        "tops_per_w": tops_per_w,
        "tops_per_w_note": f"divided by NeuroSim's post-layout factor zeta = {ZETA_TOPS_PER_W}",
        "clock_period_ns": clock_ns,
        "sensing_cycle_ns": sensing_ns,
        "utilization": unique_cells / allocated,
        "neurosim_utilization": neurosim_util,
        "subarrays": sum(e["subarrays"] for e in per_layer),
        "tiles": chip_tiles,
        "operations": ops,
        "breakdown": {
            "latency": {"adc": lat["adc"], "accumulation": lat["accumulation"],
                        "other": lat["buffer"] + lat["interconnect"] + lat["rest"]},
            "latency_other": {"buffer": lat["buffer"], "interconnect": lat["interconnect"],
                              "rest": lat["rest"]},
            "energy": {**dyn, "leakage": leakage},
            "energy_neurosim": {"adc": dyn["array"] + dyn["adc"],
                                "accumulation": dyn["accumulation"],
                                "other": dyn["buffer"] + dyn["interconnect"] + dyn["other"]},
            "area": area,
        },
        "layers": rows,
        "config": hw.summary(),
    }
    if period_ns is not None:
        result["period_ns"] = period_ns
    return result
