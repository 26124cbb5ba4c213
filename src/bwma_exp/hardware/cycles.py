"""Clock cycles each layer spends, per bucket, in NeuroSim's synchronous dataflow.

Per input bit every used subarray senses its columns through the shared ADCs
(numColMuxed cycles) and shift-adds them; PE, tile and chip adder trees merge partial
sums; register-file buffers move one line per cycle; H-trees move one bus word per hop.
A layer's time is that of its slowest (first, fullest) tile divided by the duplication
speed-up, plus the chip-level steps (activation, global adder, pooling, global buffer and
H-tree). Counts follow NeuroSim V1.3 (Chip.cpp, Tile.cpp, ProcessingUnit.cpp), integer
divisions included, so that cycle totals agree with it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from bwma_exp.hardware.floorplan import FloorPlan, LayerPlacement, MatrixLayer

BUFFER_CORE_BITS = 32 * 32  # tile/PE register-file core (NeuroSim tileBufferCore 32x32)
GLOBAL_BUFFER_LINE = 128  # global buffer core 128x128, one 128-bit line per cycle
GLOBAL_BUFFER_CORE_BITS = 128 * 128
MAX_GLOBAL_BUS = 2048


@dataclass(frozen=True)
class LayerCycles:
    adc: float
    accumulation: float
    buffer: float
    interconnect: float
    rest: float  # activation and pooling units

    @property
    def total(self) -> float:
        return self.adc + self.accumulation + self.buffer + self.interconnect + self.rest


@dataclass(frozen=True)
class Traffic:
    """Bits a layer moves through each level, used for both cycles and energy."""

    tile_in_bits: float  # per tile: inputs into the tile buffer
    tile_out_bits: float  # per tile: partial sums out of the tile buffer
    pe_in_bits: float  # per PE
    pe_out_bits: float
    global_bits: float  # through the global buffer and chip H-tree
    relu_reads: float
    pool_reads: float
    global_adds: float  # adder-tree reads at chip level
    tile_adds: float
    pe_adds: float


def _clog2(x: float) -> int:
    return math.ceil(math.log2(x)) if x > 1 else 0


def global_bus_width(plan: FloorPlan, numcolmuxed: int) -> float:
    width = 0.0
    for placement in plan.layers:
        tile_io = (plan.pe_size_nm * math.ceil(math.sqrt(plan.pes_per_nm_tile))
                   if placement.novel else plan.tile_size_cm)
        width += tile_io + tile_io / numcolmuxed
    while width > MAX_GLOBAL_BUS:
        width /= 2
    return width


def _buffer_port(size_bits: float, width_bits: float) -> tuple[float, int]:
    """(interface width, cores) of a tile buffer: one small core or 32x32-bit cores."""
    cores = max(1, math.ceil(size_bits / BUFFER_CORE_BITS))
    if size_bits < BUFFER_CORE_BITS:
        return width_bits, cores
    return 32.0, cores


def shared_tile_buffer_cores(plan: FloorPlan, bits: int, adc_bits: int, numcolmuxed: int
                             ) -> tuple[int, int]:
    """(input, output) register-file cores of *every* tile buffer. NeuroSim's TileInitialize
    keeps the core counts in two file-scope variables that the conventional (CM) tile's
    set-up writes last, so novel-mapped tiles are given the CM tile's counts too: their
    buffers keep their own interface width but get the CM tile's parallelism (and area)."""
    s, q = plan.subarray, plan.pes_per_cm_tile_side
    acc_bits = adc_bits + bits + 1 + _clog2(plan.pe_size_cm / s)
    _, cores_in = _buffer_port(q * bits * s, q * s)
    _, cores_out = _buffer_port(acc_bits * q * s / numcolmuxed, acc_bits * q)
    return cores_in, cores_out


def layer_cycles(plan: FloorPlan, index: int, layer: MatrixLayer, vectors: int, bits: int,
                 adc_bits: int, numcolmuxed: int, adder_stage_cycles: int,
                 tile_hops: int, chip_hops: int, buffer_cores: int, bus_width: float,
                 extra_conversions: int = 0) -> tuple[LayerCycles, Traffic]:
    """Cycles of layer ``index`` and the bits it moves. ``extra_conversions``: sensing
    steps added per input bit (a reference column on a shared ADC)."""
    p: LayerPlacement = plan.layers[index]
    s, m, b, n = plan.subarray, numcolmuxed, bits, vectors
    cps = layer.cells_per_weight
    nb = n * b
    sub_adc = m + extra_conversions
    sub_acc = math.ceil(m / cps) + (m if cps > 1 else 0)
    pe_size = plan.pe_size_nm if p.novel else plan.pe_size_cm
    pe_side = math.ceil(pe_size / s)  # subarrays along a PE side
    pe_out_dffs = (s // m) * (adc_bits + b + _clog2(pe_side))

    def pe(rows: int, cols: int, dup: int, partial_dup: bool):
        used_rows = math.ceil(rows / s)
        adds = n * m if (dup == 1 or partial_dup) and used_rows > 1 else 0
        adder = adds * adder_stage_cycles * _clog2(used_rows)
        adc = nb * sub_adc / dup
        acc = (nb * sub_acc + adder) / dup
        buf = (rows * nb) // (b * s) + (cols // cps * (adc_bits + b + 1) * n) // pe_out_dffs
        return adc, acc, buf, rows * nb, cols // cps * (adc_bits + b + 1) * n, adds

    speed = p.speedup_row * p.speedup_col
    k2 = plan.pes_per_nm_tile
    if p.novel:
        rows_t = min(pe_size * k2, p.matrix_rows)
        cols_t = min(pe_size, p.matrix_cols)
        adc, acc, buf, pe_in, pe_out, pe_adds = pe(rows_t // k2, cols_t, 1, False)
        adc, acc, buf = adc / speed, acc / speed, buf / speed
        tile_adds = n * m
        acc += tile_adds * adder_stage_cycles * _clog2(k2)
        in_bits = rows_t * nb / math.sqrt(k2)
        acc_bits = adc_bits + b + 1 + _clog2(pe_size / s)
        out_bits = math.ceil(cols_t / cps) * (1 + acc_bits) * n / k2
        if_in, _ = _buffer_port(k2 * b * s, k2 * s)
        if_out, _ = _buffer_port(acc_bits * k2 * s / m, acc_bits * k2)
        cores_in, cores_out = shared_tile_buffer_cores(plan, b, adc_bits, m)
        bus = k2 * s
        buf += 2 * in_bits / if_in / min(cores_in, math.ceil(bus / if_in))
        buf += 2 * out_bits / if_out / min(cores_out, math.ceil(bus / if_in))
    else:
        q = plan.pes_per_cm_tile_side
        rows_t = min(plan.tile_size_cm, p.matrix_rows)
        cols_t = min(plan.tile_size_cm, p.matrix_cols)
        tile_adds = 0.0
        if speed > 1 and p.speedup_row >= q and p.speedup_col >= q:
            dr, dc = math.ceil(p.speedup_row / q), math.ceil(p.speedup_col / q)
            partial = dr < pe_side or dc < pe_side
            adc, acc, buf, pe_in, pe_out, pe_adds = pe(rows_t, cols_t, dr * dc, partial)
            adc, acc, buf = adc / (q * q), acc / (q * q), buf / (q * q)
        else:
            adc, acc, buf, pe_in, pe_out, pe_adds = pe(min(pe_size, rows_t),
                                                       min(pe_size, cols_t), 1, False)
            adc, acc, buf = adc / speed, acc / speed, buf / speed
            row_pes = math.ceil(rows_t / pe_size)
            if speed == 1 or row_pes > 1:
                tile_adds = n * m
                acc += tile_adds * adder_stage_cycles * _clog2(q if speed == 1 else row_pes)
        in_bits = rows_t * nb
        acc_bits = adc_bits + b + 1 + _clog2(pe_size / s)
        out_bits = math.ceil(cols_t / cps) * (1 + acc_bits) * n
        if_in, cores_in = _buffer_port(q * b * s, q * s)
        if_out, cores_out = _buffer_port(acc_bits * q * s / m, acc_bits * q)
        bus = q * s
        buf += 2 * in_bits / if_in / min(cores_in, math.ceil(bus / if_in))
        buf += 2 * out_bits / if_out / min(cores_out, math.ceil(bus / if_out))
    ic = (in_bits + out_bits) / bus * tile_hops

    # Chip level: activation, global adder tree, pooling, global buffer, chip H-tree.
    throughput = max(plan.tile_size_cm, math.ceil(math.sqrt(k2)) * plan.pe_size_nm)
    units = math.ceil(throughput / m)
    c_out_total = layer.c_out * layer.groups
    relu_reads = math.ceil(n * c_out_total / units)
    rest = float(relu_reads)
    global_adds = 0.0
    if p.tile_rows > 1:
        global_adds = math.ceil(p.matrix_cols * layer.groups * n / units)
        acc += global_adds * adder_stage_cycles * _clog2(p.tile_rows)
    pool_reads = 0.0
    if layer.pool:
        per = plan.pe_size_nm * math.sqrt(k2) if p.novel else plan.tile_size_cm
        pool_reads = math.ceil((n / 4) / per)
        rest += pool_reads
    rows_total = p.matrix_rows * layer.groups
    g_out = rows_total * b * n / (layer.k_h if p.novel else 1)
    g_in = c_out_total * b * n / (4 if layer.pool else 1)
    lines = (g_out + g_in) / GLOBAL_BUFFER_LINE
    layer_tiles = p.tiles * layer.groups
    share = math.ceil(plan.total_tiles / layer_tiles)
    buf += lines / min(buffer_cores, math.ceil(bus_width / GLOBAL_BUFFER_LINE)) * share
    ic += math.ceil((g_out + g_in) / bus_width) * chip_hops
    cycles = LayerCycles(adc=adc, accumulation=acc, buffer=buf, interconnect=ic, rest=rest)
    traffic = Traffic(tile_in_bits=in_bits, tile_out_bits=out_bits, pe_in_bits=pe_in,
                      pe_out_bits=pe_out, global_bits=g_out + g_in, relu_reads=relu_reads,
                      pool_reads=pool_reads, global_adds=global_adds, tile_adds=tile_adds,
                      pe_adds=pe_adds)
    return cycles, traffic
