"""From traced LayerSpecs to what the crossbar runs: effective weight/input bits, cells per
weight, and the NeuroSim layer description the floorplan consumes.

One rule for full-precision layers (the first conv and the classifier of binary networks):
with ``fp_layers: costed`` they are mapped like any other layer with ``fp_bits`` weight
bits and ``fp_bits`` input bits (an 8-bit image or an unquantized activation needs that
many bit-serial input cycles); with ``fp_layers: digital`` they run off the crossbar and
are reported with zero cost and ``digital: true``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from bwma_exp.hardware.config import HardwareConfig
from bwma_exp.hardware.floorplan import MatrixLayer
from bwma_exp.hardware.spec import LayerSpec
from bwma_exp.utils.errors import ConfigError
from bwma_exp.utils.schema import Range, check_value

LayerBits = Annotated[int, Range(1, 32)]


@dataclass(frozen=True)
class PreparedLayer:
    spec: LayerSpec
    w_bits: int
    in_bits: int
    cells_per_weight: int
    matrix: MatrixLayer
    vectors: int  # input vectors per image
    binary: bool  # 1-bit weights: BWMA's w = c + r·s, one cell each
    reference_column: bool  # an ADC-read reference column per subarray (offset coding only)


def differential(w_bits: int, weight_coding: str) -> bool:
    """Whether a w_bits weight sits in a positive and a negative array
    (``hardware.weight_coding=differential``, cim/cells.py). Binary weights are one cell
    under every coding; ``auto`` left unresolved (no method) is NeuroSim's offset coding."""
    return weight_coding == "differential" and w_bits > 1


def has_reference_column(w_bits: int, hw: HardwareConfig) -> bool:
    """An ADC-read reference column per subarray (``hardware.reference_column``): only an
    offset-coded layer has an offset term to read."""
    return hw.reference_column and not differential(w_bits, hw.weight_coding)


def cells_per_weight(w_bits: int, cell_bits: int, weight_coding: str) -> int:
    """Columns (cells on one row) per weight: ceil(w_bits / cell_bits) bit slices, in each
    of the positive and the negative columns when differential."""
    return math.ceil(w_bits / cell_bits) * (2 if differential(w_bits, weight_coding) else 1)


def input_vectors(spec: LayerSpec, rule: str) -> int:
    """NeuroSim counts ((H−K+1)/s)·((W−K+1)/s) sliding positions, padding ignored and the
    product truncated; ``exact`` uses the true output size H_out·W_out."""
    if rule == "exact" or spec.kind == "linear":
        return spec.out_h * spec.out_w
    count = int((spec.in_h - spec.k_h + 1) / spec.stride * (spec.in_w - spec.k_w + 1) / spec.stride)
    return max(1, count)


def prepare(layers: list[LayerSpec] | tuple[LayerSpec, ...], hw: HardwareConfig
            ) -> tuple[list[PreparedLayer], list[LayerSpec]]:
    """(layers on the crossbar, layers left digital)."""
    if not layers:
        raise ConfigError("layers", "[]", "at least one conv or linear layer",
                          hint="the model has nothing a crossbar can map")
    mapped, digital = [], []
    for spec in layers:
        _check(spec)
        if spec.full_precision:
            if hw.fp_layers == "digital":
                digital.append(spec)
                continue
            w_bits = in_bits = hw.fp_bits
        else:
            w_bits, in_bits = int(spec.w_bits), int(spec.act_bits)
        cps = cells_per_weight(w_bits, hw.cell_bits, hw.weight_coding)
        matrix = MatrixLayer(in_h=spec.in_h, in_w=spec.in_w, c_in=spec.c_in // spec.groups,
                             k_h=spec.k_h, k_w=spec.k_w, c_out=spec.c_out // spec.groups,
                             pool=spec.pool_after, stride=spec.stride, groups=spec.groups,
                             cells_per_weight=cps)
        mapped.append(PreparedLayer(spec=spec, w_bits=w_bits, in_bits=in_bits,
                                    cells_per_weight=cps, matrix=matrix,
                                    vectors=input_vectors(spec, hw.input_vectors),
                                    binary=w_bits == 1,
                                    reference_column=has_reference_column(w_bits, hw)))
    if not mapped:
        raise ConfigError("hardware.fp_layers", hw.fp_layers, "costed",
                          hint="every layer is full precision, so nothing is left on the crossbar")
    return mapped, digital


def _check(spec: LayerSpec) -> None:
    if spec.kind not in ("conv", "linear"):
        raise ConfigError(f"layer {spec.name}.kind", spec.kind, "conv, linear")
    dims = (spec.in_h, spec.in_w, spec.c_in, spec.c_out, spec.k_h, spec.k_w, spec.stride,
            spec.groups, spec.out_h, spec.out_w)
    if min(dims) < 1 or spec.c_in % spec.groups or spec.c_out % spec.groups:
        raise ConfigError(f"layer {spec.name}", dims, "positive sizes with C_in and C_out "
                          "divisible by groups", hint="this layer cannot be mapped to a crossbar")
    if spec.k_h > spec.in_h + 2 * spec.padding or spec.k_w > spec.in_w + 2 * spec.padding:
        raise ConfigError(f"layer {spec.name}.kernel", (spec.k_h, spec.k_w),
                          "a kernel no larger than the padded input",
                          hint="this layer cannot be mapped to a crossbar")
    if spec.full_precision:
        return
    for key in ("w_bits", "act_bits"):
        value = getattr(spec, key)
        if not (type(value) is int and 1 <= value <= 32):   # fast path; the schema says why
            check_value(f"layer {spec.name}.{key}", LayerBits, value)
