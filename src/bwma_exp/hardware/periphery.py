"""Digital periphery shared by PEs, tiles and the chip: adder trees, register-file
buffers and H-tree interconnect (geometry from NeuroSim's AdderTree, Buffer and HTree)."""
from __future__ import annotations

import math


def adder_tree_bits(inputs: int, input_bits: int) -> int:
    """Full-adder bits of one tree summing ``inputs`` words; each stage halves the words
    and widens them by one bit. NeuroSim halves with integer division (ceil(j/2) of an
    int), so 9 inputs take 4 + 2 + 1 + 1 adders."""
    total, words, bits = 0, inputs, input_bits
    for _ in range(math.ceil(math.log2(inputs)) if inputs > 1 else 0):
        adders = max(1, words // 2)
        total += adders * bits
        bits += 1
        words = math.ceil(words / 2)
    return total


def htree_levels(rows: int, cols: int) -> int:
    return math.ceil(math.log2(max(rows, cols))) if max(rows, cols) > 1 else 0


def _center(rows: int, cols: int) -> int:
    x = math.floor(math.log2(min(rows, cols))) if min(rows, cols) > 0 else 0
    if cols - x < 1:
        x -= 1
    return x


def htree_path_um(rows: int, cols: int, unit_w: float, unit_h: float) -> float:
    """Root-to-leaf length of an H-tree over a rows x cols grid of units (µm): each level
    halves the vertical and horizontal spans; the main bus runs from the nearest edge."""
    k = htree_levels(rows, cols)
    vertical, horizontal, length = unit_h * 2 ** k, unit_w * 2 ** k, 0.0
    for _ in range(k):
        vertical /= 2
        horizontal /= 2
        length += vertical + horizontal
    x = _center(rows, cols)
    return length + min(cols - x, x) * unit_w


def htree_area_um2(rows: int, cols: int, unit_w: float, unit_h: float, bus_width: float,
                   wire_pitch_um: float, folded: float) -> float:
    """Repeated wires of the tree: at each level the bus spreads over more branches, so the
    occupied width grows by one bus per level (NeuroSim's folded-tree estimate)."""
    k = htree_levels(rows, cols)
    vertical, horizontal = unit_h * 2 ** k / 2, unit_w * 2 ** k / 2
    width_v = width_h = area = 0.0
    for _ in range(1, k):
        vertical /= 2
        horizontal /= 2
        width_v += bus_width * wire_pitch_um / folded
        width_h += bus_width * wire_pitch_um / folded
        area += width_v * vertical / 2 + width_h * horizontal / 2
    x = _center(rows, cols)
    return area + bus_width * wire_pitch_um / folded * min(cols - x, x) * unit_w


def register_file_cores(size_bits: float, core_bits: int) -> tuple[float, int]:
    """(bits per core, cores) of a buffer: one small core, or several full cores."""
    cores = max(1, math.ceil(size_bits / core_bits))
    return (size_bits if size_bits < core_bits else float(core_bits)), cores
