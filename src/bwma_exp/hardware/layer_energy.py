"""Dynamic energy of one layer per image, in fJ, by bucket.

Energy follows the unique mapping: duplicated copies only shorten latency, every weight is
read once per input bit. Per input bit each subarray holding weights reads its used rows,
converts only its mapped columns and clocks its shift-adders; PE, tile and chip adder
trees, buffers and H-trees then move what NeuroSim's dataflow moves (``Traffic``).
"""
from __future__ import annotations

import math

from bwma_exp.hardware.cycles import Traffic
from bwma_exp.hardware.floorplan import FloorPlan, LayerPlacement
from bwma_exp.hardware.layers_prep import PreparedLayer
from bwma_exp.hardware.periphery import adder_tree_bits
from bwma_exp.hardware.subarray import Subarray


def row_blocks(rows: int, size: int) -> list[tuple[int, int]]:
    """(rows in block, how many such blocks) when ``rows`` are cut into subarrays."""
    full, rem = divmod(rows, size)
    blocks = [(size, full)] if full else []
    if rem:
        blocks.append((rem, 1))
    return blocks


def subarray_count(p: LayerPlacement, layer: PreparedLayer, plan: FloorPlan) -> int:
    s = plan.subarray
    slice_rows = layer.matrix.c_in if p.novel else p.matrix_rows
    slices = plan.pes_per_nm_tile if p.novel else 1
    return slices * math.ceil(slice_rows / s) * math.ceil(p.matrix_cols / s) * layer.matrix.groups


def adc_reads(p: LayerPlacement, layer: PreparedLayer, plan: FloorPlan,
              reference_column: bool) -> int:
    """ADC conversions per image: every used subarray converts each of its mapped columns
    (every weight bit slice is a column) and its reference column once per input bit and
    input vector (the counts the energy below charges)."""
    return sum(count for _, count in _conversions(p, layer, plan, reference_column))


def _conversions(p: LayerPlacement, layer: PreparedLayer, plan: FloorPlan,
                 reference_column: bool) -> list[tuple[int, int]]:
    """(rows used, ADC conversions per image) of each row block of the layer."""
    s = plan.subarray
    slice_rows = layer.matrix.c_in if p.novel else p.matrix_rows
    slices = plan.pes_per_nm_tile if p.novel else 1
    col_blocks = math.ceil(p.matrix_cols / s)
    ref = 1 if reference_column else 0
    reads = layer.vectors * layer.in_bits * slices * layer.matrix.groups
    return [(rows_used, count * (p.matrix_cols + ref * col_blocks) * reads)
            for rows_used, count in p.used_row_blocks or row_blocks(slice_rows, s)]


def layer_energy(sub: Subarray, plan: FloorPlan, index: int, layer: PreparedLayer,
                 traffic: Traffic, wire_um: dict[str, float], reference_column: bool
                 ) -> dict[str, float]:
    t, s, m = sub.tech, sub.size, sub.hw.columns_per_adc
    p = plan.layers[index]
    b, n, cps, adc_bits = layer.in_bits, layer.vectors, layer.cells_per_weight, sub.hw.adc_bits
    groups = layer.matrix.groups
    slice_rows = layer.matrix.c_in if p.novel else p.matrix_rows
    slices = plan.pes_per_nm_tile if p.novel else 1
    cols = p.matrix_cols
    col_blocks = math.ceil(cols / s)
    reads = n * b * slices * groups  # subarray reads per row-block per column-block

    array = adc = switch = shift = 0.0
    shift_per_sub = sub.shift_add_energy_fj(b, cps)
    # A channel-grouped subarray reads only the rows of its whole kernels, not its spare rows.
    blocks = p.used_row_blocks or row_blocks(slice_rows, s)
    conversions = _conversions(p, layer, plan, reference_column)
    for (rows_used, count), (_, converted) in zip(blocks, conversions):
        adc += converted / reads * sub.conversion_energy_fj(rows_used)
        subs = count * col_blocks
        array += subs * sub.array_energy_fj(rows_used)
        adc += subs * sub.precharge_energy_fj()
        switch += subs * sub.switch_energy_fj(rows_used)
        shift += subs * shift_per_sub
    array, adc, switch, shift = (x * reads for x in (array, adc, switch, shift))

    # PE adder trees: one read per input vector and mux step, all trees of the PE.
    pe_size = plan.pe_size_nm if p.novel else plan.pe_size_cm
    pe_rows = min(slice_rows, pe_size)
    pes = slices * math.ceil(slice_rows / pe_size) * math.ceil(cols / pe_size) * groups
    tree_inputs = math.ceil(pe_rows / s)
    trees_per_pe = pe_size // m
    accumulation = shift
    accumulation += (traffic.pe_adds * pes * trees_per_pe
                     * adder_tree_bits(tree_inputs, adc_bits + b + 1) * t.energy_adder_bit)
    tiles = p.tiles * groups
    if p.novel:
        tile_tree = adder_tree_bits(plan.pes_per_nm_tile, adc_bits + b + 2)
        tile_trees = math.ceil(plan.pes_per_nm_tile * s / m)
    else:
        q = plan.pes_per_cm_tile_side
        tile_tree = adder_tree_bits(q, adc_bits + b + 2)
        tile_trees = math.ceil(q * s / m)
    accumulation += traffic.tile_adds * tiles * tile_trees * tile_tree * t.energy_adder_bit
    throughput = max(plan.tile_size_cm, math.ceil(math.sqrt(plan.pes_per_nm_tile))
                     * plan.pe_size_nm)
    units = math.ceil(throughput / m)
    accumulation += (traffic.global_adds * units * adder_tree_bits(p.tile_rows, adc_bits + b + 2)
                     * t.energy_adder_bit)

    # Buffers (register files: every stored or read bit clocks a DFF) and H-trees.
    pe_bits = traffic.pe_in_bits * math.ceil(cols / pe_size) * slices * groups \
        + traffic.pe_out_bits * math.ceil(slice_rows / pe_size) * slices * groups
    tile_bits = 2 * (traffic.tile_in_bits * p.tile_cols
                     + traffic.tile_out_bits * p.tile_rows) * groups
    buffer = (pe_bits + tile_bits + traffic.global_bits) * t.energy_dff_clock
    wire = t.wire_energy_fj_per_bit_um()
    kind = "nm" if p.novel else "cm"
    interconnect = wire * (pe_bits * wire_um[f"pe_{kind}"] + tile_bits / 2 * wire_um[f"tile_{kind}"]
                           + traffic.global_bits * wire_um["chip"])
    other = switch + traffic.relu_reads * units * b * t.energy_dff_clock
    other += traffic.pool_reads * units * 3 * b * t.energy_adder_bit
    return {"array": array, "adc": adc, "accumulation": accumulation, "buffer": buffer,
            "interconnect": interconnect, "other": other}
