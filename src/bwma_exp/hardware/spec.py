"""The estimator's view of one network layer: the shape of the matrix-vector products it
runs and the precisions it runs them at. Everything downstream reads only this."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LayerSpec:
    """One conv or linear layer. For linear layers in_h = in_w = out_h = out_w = 1 and
    k_h = k_w = 1. ``pool_after`` marks a max/avg pool between this layer and the next
    (NeuroSim then costs a pooling unit and writes a quarter of the outputs back)."""

    name: str
    kind: str  # "conv" | "linear"
    in_h: int
    in_w: int
    c_in: int
    c_out: int
    k_h: int
    k_w: int
    stride: int
    padding: int
    groups: int
    out_h: int
    out_w: int
    w_bits: int
    act_bits: int
    full_precision: bool = False
    pool_after: bool = False
    adc_bits: int | None = None   # this layer's ADC reads (quant.layers); None: the chip's
    # Measured activity (hardware.activity, a run's activity.json): the fraction of 1s among
    # this layer's input bits and the share of its weight cells in the low-resistance state;
    # None: hardware.input_density / hardware.weight_on_fraction.
    input_density: float | None = None
    weight_on_fraction: float | None = None

    @property
    def rows_per_group(self) -> int:
        """Rows of one group's unrolled (im2col) weight matrix: C_in/g · K_h · K_w."""
        return (self.c_in // self.groups) * self.k_h * self.k_w

    @property
    def cols_per_group(self) -> int:
        """Weights per row of one group's matrix (output channels of the group)."""
        return self.c_out // self.groups

    @property
    def weights(self) -> int:
        return self.rows_per_group * self.cols_per_group * self.groups

    @property
    def macs(self) -> int:
        """Multiply-accumulates per image with the true (padded) output size."""
        return self.weights * self.out_h * self.out_w
