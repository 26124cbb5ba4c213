"""The row partition of a layer: which rows of its unrolled weight matrix share a subarray.

One definition, read by both the analytic estimator (``row_blocks_of``: how many subarrays and
how many rows each uses) and the crossbar-in-the-loop forward pass (``row_arrays``: the row
indices of every subarray), so accuracy and hardware figures describe the same chip.

Rows are numbered as PyTorch flattens a conv weight ``(C_out, C_in/g, K_h, K_w)``:
``row = c·K_h·K_w + i·K_w + j`` for input channel c (within its group) and kernel position
(i, j). Three mappings:

- ``im2col`` (conventional): the C·K² rows in that order, cut into blocks of S rows.
- ``novel`` (NeuroSim's K×K): each kernel position (i, j) has its own PE holding a C-row
  matrix; its C channels are cut into blocks of S rows. K²·ceil(C/S) subarrays.
- ``channel_grouped`` (ColumnQuant): each subarray holds whole K×K kernels of
  ``ic = min(floor(S/K²), C)`` channels; ``ceil(C/ic)`` subarrays of ic·K² rows (the last
  may hold fewer channels); a subarray's spare rows stay empty.
"""
from __future__ import annotations

import math

from bwma_exp.utils.errors import ConfigError

MAPPINGS = ("novel", "im2col", "channel_grouped")


def channels_per_array(c_in: int, k_h: int, k_w: int, subarray: int) -> int:
    """ColumnQuant's ``ic_per_array = min(floor(S/K²), C_in)``."""
    area = k_h * k_w
    if area > subarray:
        raise ConfigError("hardware.mapping", "channel_grouped",
                          f"kernels of at most crossbar_size={subarray} cells (K×K={area})",
                          hint="use mapping=im2col or a larger crossbar_size.")
    return min(subarray // area, c_in)


def row_arrays(c_in: int, k_h: int, k_w: int, subarray: int, mapping: str) -> list[list[int]]:
    """Row indices (PyTorch flatten order) held by each subarray of one group's matrix."""
    area = k_h * k_w
    rows = c_in * area
    if mapping == "im2col":
        return [list(range(start, min(start + subarray, rows)))
                for start in range(0, rows, subarray)]
    if mapping == "novel":
        arrays = []
        for position in range(area):
            for c0 in range(0, c_in, subarray):
                arrays.append([c * area + position for c in range(c0, min(c0 + subarray, c_in))])
        return arrays
    if mapping == "channel_grouped":
        ic = channels_per_array(c_in, k_h, k_w, subarray)
        return [list(range(c0 * area, min(c0 + ic, c_in) * area)) for c0 in range(0, c_in, ic)]
    raise ConfigError("hardware.mapping", mapping, ", ".join(MAPPINGS))


def row_blocks_of(c_in: int, k_h: int, k_w: int, subarray: int, mapping: str
                  ) -> list[tuple[int, int]]:
    """(rows used, number of such subarrays) for one group's matrix under ``mapping``; the
    counts match ``row_arrays`` without building it."""
    area = k_h * k_w
    if mapping == "im2col":
        return _blocks(c_in * area, subarray)
    if mapping == "novel":
        return [(rows, count * area) for rows, count in _blocks(c_in, subarray)]
    if mapping == "channel_grouped":
        ic = channels_per_array(c_in, k_h, k_w, subarray)
        return [(channels * area, count) for channels, count in _blocks(c_in, ic)]
    raise ConfigError("hardware.mapping", mapping, ", ".join(MAPPINGS))


def arrays_per_group(c_in: int, k_h: int, k_w: int, subarray: int, mapping: str) -> int:
    return sum(count for _, count in row_blocks_of(c_in, k_h, k_w, subarray, mapping))


def _blocks(items: int, size: int) -> list[tuple[int, int]]:
    full, rem = divmod(items, size)
    blocks = [(size, full)] if full else []
    if rem:
        blocks.append((rem, 1))
    return blocks


def padded_rows(c_in: int, k_h: int, k_w: int, subarray: int) -> int:
    """Channel-grouped rows as the floorplan lays them out: every subarray but the last is
    S rows tall (its spare rows unused), so the matrix spans ceil(C/ic) subarrays."""
    ic = channels_per_array(c_in, k_h, k_w, subarray)
    arrays = math.ceil(c_in / ic)
    return (arrays - 1) * subarray + (c_in - (arrays - 1) * ic) * k_h * k_w


def layer_mappings(matrices, subarray: int, mapping: str) -> tuple[str, ...]:
    """The mapping each layer gets under ``hardware.mapping``: ``auto``/``novel`` mark the
    K×K layers with NeuroSim's rule (``floorplan.choose_novel``) and map the rest im2col;
    ``im2col`` and ``channel_grouped`` apply to every layer."""
    if mapping in ("im2col", "channel_grouped"):
        return tuple(mapping for _ in matrices)
    from bwma_exp.hardware.floorplan import choose_novel

    return tuple("novel" if mark else "im2col"
                 for mark in choose_novel(tuple(matrices), subarray, mapping))
