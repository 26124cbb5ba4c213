"""Chip floorplan: how each layer's weight matrix is cut into subarrays, processing
elements (PEs) and tiles, following DNN+NeuroSim V1.3's ChipFloorPlan.

Two mappings exist. Conventional (im2col): one (C_in·K²) × (C_out·n_c) matrix per layer on
"CM" tiles. NeuroSim's "novel" K×K mapping: each of the K² kernel positions gets its own PE,
holding a C_in × (C_out·n_c) matrix, on "NM" tiles of K² PEs; it is used for convolutions
whose K² is the most common K² of the network and whose C_in·K² fills a subarray.
Tile and PE sizes are powers of two picked to maximise the utilisation of the chip, and
layers much smaller than a PE or tile are duplicated to run faster (the "speed-up").
A grouped convolution maps each group as its own matrix on its own tiles.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property, lru_cache

from bwma_exp.hardware.mapping import padded_rows, row_blocks_of
from bwma_exp.utils.errors import ConfigError


@dataclass(frozen=True)
class MatrixLayer:
    """A layer as the floorplan sees it (NeuroSim's netStructure row plus groups/cells)."""

    in_h: int
    in_w: int
    c_in: int  # per group
    k_h: int
    k_w: int
    c_out: int  # per group
    pool: bool
    stride: int
    groups: int
    cells_per_weight: int


@dataclass(frozen=True)
class LayerPlacement:
    novel: bool
    matrix_rows: int  # rows of the layer's (per group) matrix, in cells
    matrix_cols: int  # columns of the layer's (per group) matrix, in cells
    tile_rows: int  # tiles along the matrix rows (NeuroSim numTileEachLayer[0])
    tile_cols: int
    speedup_row: int  # PE duplication x subarray duplication along rows
    speedup_col: int
    pe_dup_row: int
    pe_dup_col: int
    array_dup_row: int
    array_dup_col: int
    neurosim_utilization: float  # NeuroSim's own: duplicates count as used
    # (rows used, subarrays) when subarrays hold fewer rows than S apart from the last
    # (channel_grouped); empty: the matrix rows cut into blocks of S
    used_row_blocks: tuple[tuple[int, int], ...] = ()

    @property
    def tiles(self) -> int:
        return self.tile_rows * self.tile_cols


@dataclass(frozen=True)
class FloorPlan:
    subarray: int
    pes_per_nm_tile: int  # K² of the novel mapping (PEs per NM tile); 0 if none
    pe_size_nm: int
    tile_size_cm: int
    pe_size_cm: int
    pes_per_cm_tile_side: int  # CM tiles hold (side × side) PEs
    layers: tuple[LayerPlacement, ...]
    groups: tuple[int, ...]

    @cached_property
    def tiles_per_layer(self) -> tuple[int, ...]:
        return tuple(p.tiles * g for p, g in zip(self.layers, self.groups))

    @cached_property
    def total_tiles(self) -> int:
        return sum(self.tiles_per_layer)

    @cached_property
    def nm_tiles(self) -> int:
        return sum(p.tiles * g for p, g in zip(self.layers, self.groups) if p.novel)

    @property
    def cm_tiles(self) -> int:
        return self.total_tiles - self.nm_tiles


def _pow2_ceil(x: float) -> int:
    return 2 ** math.ceil(math.log2(x))


def most_common_kernel_area(layers: tuple[MatrixLayer, ...]) -> int:
    """NeuroSim's PE count for NM tiles: the most frequent K² among layers with K² > 1."""
    best, best_count = 0, 0
    for layer in layers:
        area = layer.k_h * layer.k_w
        if area == 1:
            continue
        count = sum(1 for other in layers if other.k_h * other.k_w == area)
        if count > best_count:
            best, best_count = area, count
    return best


def choose_novel(layers: tuple[MatrixLayer, ...], subarray: int, mapping: str) -> tuple[bool, ...]:
    """Which layers use the K×K mapping: ``auto`` is NeuroSim's rule, ``im2col`` none,
    ``novel`` every conv whose K² equals the NM tiles' PE count."""
    if mapping in ("im2col", "channel_grouped"):
        return tuple(False for _ in layers)
    kernel_area = most_common_kernel_area(layers)
    marks = []
    for layer in layers:
        same_kernel = kernel_area > 1 and layer.k_h * layer.k_w == kernel_area
        fills_subarray = layer.c_in * layer.k_h * layer.k_w >= subarray
        marks.append(same_kernel and (fills_subarray or mapping == "novel"))
    return tuple(marks)


def _dup(capacity_units: int, needed_units: int) -> int:
    return max(1, capacity_units // needed_units)


@lru_cache(maxsize=256)
def plan_chip(layers: tuple[MatrixLayer, ...], subarray: int, mapping: str) -> FloorPlan:
    """Floorplan of the whole network (cached: it depends only on shapes, S and mapping)."""
    s = subarray
    novel = choose_novel(layers, s, mapping)
    k2 = most_common_kernel_area(layers) if any(novel) else 0
    # channel_grouped (ColumnQuant): whole K×K kernels per subarray, spare rows left empty.
    rows = [padded_rows(lay.c_in, lay.k_h, lay.k_w, s) if mapping == "channel_grouped"
            else lay.c_in * lay.k_h * lay.k_w for lay in layers]
    nm_rows = [lay.c_in for lay in layers]
    cols = [lay.c_out * lay.cells_per_weight for lay in layers]
    mult = [lay.groups for lay in layers]

    def nm_design(pe: int) -> tuple[int, float]:
        tiles = sum(math.ceil(nm_rows[i] / pe) * math.ceil(cols[i] / pe) * mult[i]
                    for i in range(len(layers)) if novel[i])
        cells = sum(rows[i] * cols[i] * mult[i] for i in range(len(layers)) if novel[i])
        return tiles, cells / (tiles * pe * pe * k2) if tiles else 0.0

    def cm_design(tile: int) -> tuple[int, float]:
        tiles = sum(math.ceil(rows[i] / tile) * math.ceil(cols[i] / tile) * mult[i]
                    for i in range(len(layers)) if not novel[i])
        cells = sum(rows[i] * cols[i] * mult[i] for i in range(len(layers)) if not novel[i])
        return tiles, cells / (tiles * tile * tile) if tiles else 0.0

    max_pe_nm = max([_pow2_ceil(cols[i]) for i in range(len(layers)) if novel[i]], default=0)
    max_tile_cm = max([_pow2_ceil(cols[i]) for i in range(len(layers)) if not novel[i]],
                      default=0)

    # Largest sizes first; a smaller size wins only with strictly higher utilisation.
    pe_nm = max(max_pe_nm, 2 * s)
    best = 0.0
    size = pe_nm
    while size > 2 * s:
        _, util = nm_design(size)
        if util > best:
            best, pe_nm = util, size
        size //= 2
    tile_cm = max(max_tile_cm, 4 * s)
    best_cm = 0.0
    size = tile_cm
    while size > 4 * s:
        _, util = cm_design(size)
        if util > best_cm:
            best_cm, tile_cm = util, size
        size //= 2
    cm_tiles_total, _ = cm_design(tile_cm)

    def pe_duplication(pe: int) -> tuple[list[int], list[int], float]:
        per_tile = math.ceil(tile_cm / pe)
        dup_r, dup_c, cells = [], [], 0.0
        for i in range(len(layers)):
            dr = dc = 1
            if not novel[i]:
                if rows[i] <= tile_cm or cols[i] <= tile_cm:
                    dr = _dup(per_tile, math.ceil(rows[i] / pe))
                    dc = _dup(per_tile, math.ceil(cols[i] / pe))
                cells += dr * dc * rows[i] * cols[i] * mult[i]
            dup_r.append(dr)
            dup_c.append(dc)
        util = cells / (cm_tiles_total * tile_cm * tile_cm) if cm_tiles_total else 0.0
        return dup_r, dup_c, util

    pe_cm = tile_cm // 2
    size = tile_cm // 2
    while size > 2 * s:
        _, _, util = pe_duplication(size)
        if util > best_cm:
            best_cm, pe_cm = util, size
        size //= 2
    pe_dup_r, pe_dup_c, _ = pe_duplication(pe_cm)

    placements = []
    for i, layer in enumerate(layers):
        pe_size = pe_nm if novel[i] else pe_cm
        r = nm_rows[i] if novel[i] else rows[i]
        ar = ac = 1
        if r <= pe_size or cols[i] <= pe_size:
            per_pe = math.ceil(pe_size / s)
            ar = _dup(per_pe, math.ceil(r / s))
            ac = _dup(per_pe, math.ceil(cols[i] / s))
        dup = pe_dup_r[i] * pe_dup_c[i] * ar * ac
        if novel[i]:
            tr, tc = math.ceil(r / pe_nm), math.ceil(cols[i] / pe_nm)
            util = dup * rows[i] * cols[i] / (tr * tc * pe_nm * pe_nm * k2)
        else:
            tr, tc = math.ceil(r / tile_cm), math.ceil(cols[i] / tile_cm)
            util = dup * rows[i] * cols[i] / (tr * tc * tile_cm * tile_cm)
        placements.append(LayerPlacement(
            novel=novel[i], matrix_rows=rows[i], matrix_cols=cols[i], tile_rows=tr,
            tile_cols=tc, speedup_row=pe_dup_r[i] * ar, speedup_col=pe_dup_c[i] * ac,
            pe_dup_row=pe_dup_r[i], pe_dup_col=pe_dup_c[i], array_dup_row=ar,
            array_dup_col=ac, neurosim_utilization=util,
            used_row_blocks=tuple(row_blocks_of(layer.c_in, layer.k_h, layer.k_w, s, mapping))
            if mapping == "channel_grouped" else ()))
    if not placements:
        raise ConfigError("layers", "[]", "a network with at least one conv or linear layer")
    return FloorPlan(subarray=s, pes_per_nm_tile=k2, pe_size_nm=pe_nm if k2 else 0,
                     tile_size_cm=tile_cm, pe_size_cm=pe_cm,
                     pes_per_cm_tile_side=math.ceil(tile_cm / pe_cm),
                     layers=tuple(placements), groups=tuple(mult))
