"""Put a ``Crossbar`` on every quantized layer of a model, mapped as the hardware model maps it.

Which mapping a layer gets (NeuroSim's K×K "novel", im2col or channel-grouped) depends on the
whole network (``hardware.mapping: auto`` picks the most common kernel), so it is read from
the estimator's own preparation of the traced layer table (``hardware.mapping.layer_mappings``).
Full-precision layers (the stem and classifier of the binary networks) stay ideal: their
inputs are not on an activation grid the crossbar could read bit by bit.
"""
from __future__ import annotations

import torch
from torch import nn

from ..hardware import HardwareConfig, layer_table
from ..hardware.layers_prep import cells_per_weight, has_reference_column, prepare
from ..hardware.mapping import layer_mappings, row_arrays
from ..quant import QConv2d, quantized_layers
from ..quant.common.adc import ADC
from .config import CIMConfig
from .crossbar import Crossbar


def crossbar_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(name, m) for name, m in quantized_layers(model) if not m.full_precision]


def attach_crossbars(model: nn.Module, cim: CIMConfig, hw: HardwareConfig,
                     input_shape: tuple[int, int, int]) -> int:
    """Attach a Crossbar to every quantized layer; returns how many were attached."""
    prepared, _ = prepare(layer_table(model, input_shape), hw)
    names = [p.spec.name for p in prepared]
    mappings = dict(zip(names, layer_mappings([p.matrix for p in prepared], hw.crossbar_size,
                                              hw.mapping)))
    count = 0
    for name, layer in crossbar_layers(model):
        if isinstance(layer, QConv2d):
            kernel = tuple(layer.kernel_size)
            rows = layer.in_channels // layer.groups * kernel[0] * kernel[1]
        else:
            kernel, rows = (1, 1), layer.in_features
        mapping = mappings.get(name, "im2col")
        slices = cells_per_weight(layer.w_bits, hw.cell_bits, hw.weight_coding)
        reference_column = has_reference_column(layer.w_bits, hw)   # as the estimate has it
        adc = _method_adc(layer, cim, rows, kernel, hw.crossbar_size, mapping, slices)
        settings = cim.adc_settings(layer.adc_bits)
        reference = None
        if not cim.adc:
            adc = None
        else:
            adc = adc or ADC(settings.bits, settings.range_mode, settings.sigmas,
                             settings.momentum)
            # the reference column's ADC: the same design, its own range (its partial sums
            # are the inputs' popcounts, larger than any weight column's)
            reference = ADC(settings.bits, "sigma" if settings.range_mode == "learnable"
                            else settings.range_mode, settings.sigmas, settings.momentum)
        layer.cim = Crossbar(rows, hw.crossbar_size, mapping, kernel, adc, cim.bit_serial,
                             cim.adc_grad, cell_bits=hw.cell_bits, reference_adc=reference,
                             reference_column=reference_column,
                             weight_coding=hw.weight_coding)
        layer.cim.train_variation_sigma = cim.train_variation_sigma
        layer.cim.train_variation_kind = cim.variation_kind
        count += 1
    return count


def _method_adc(layer: nn.Module, cim: CIMConfig, rows: int, kernel: tuple[int, int],
                subarray: int, mapping: str, slices: int) -> nn.Module | None:
    """Every weight quantizer is told the partition (``set_arrays``: columnquant's and cimq's
    scales follow it) and may bring its own ADC (``cim_adc``); None: the default ADC."""
    quantizer = layer.weight_quantizer
    groups = layer.groups if isinstance(layer, QConv2d) else 1
    arrays = row_arrays(rows // (kernel[0] * kernel[1]), kernel[0], kernel[1], subarray, mapping)
    quantizer.set_arrays(arrays, groups)
    out = layer.weight.shape[0]
    return quantizer.cim_adc(cim.adc_settings(layer.adc_bits),
                             (groups, len(arrays), out // groups * slices))


def sample_variation(model: nn.Module, sigma: float, kind: str, seed: int) -> None:
    """Draw one chip's conductance deviations for every crossbar layer (σ = 0 clears them)."""
    generator = torch.Generator().manual_seed(int(seed))
    for _, layer in crossbar_layers(model):
        if isinstance(layer.cim, Crossbar):
            layer.cim.variation.sample(layer.cim.cell_shape(layer), sigma, kind, generator,
                                       layer.weight.device)
