"""quant=columnquant: column-wise weight steps, DoReFa activations, per-column ADC ranges."""
from __future__ import annotations

import math

import pytest
import torch
import yaml
from torch import nn

from bwma_exp.cim.attach import attach_crossbars
from bwma_exp.cim.config import CIMConfig
from bwma_exp.hardware import HardwareConfig
from bwma_exp.quant import QuantSpec
from bwma_exp.quant.columnquant import ArrayWeightQuantizer, ColumnADC, DoReFaActQuantizer
from bwma_exp.utils.errors import ConfigError
from cli_helpers import CONFIGS


def hardware(mapping: str, size: int, adc_bits: int = 3) -> HardwareConfig:
    device = yaml.safe_load((CONFIGS / "device" / "rram.yaml").read_text())
    hw = yaml.safe_load((CONFIGS / "hardware" / "default.yaml").read_text())
    return HardwareConfig.from_dicts(device, {**hw, "mapping": mapping}, size, adc_bits)


def test_weights_get_one_initial_step_per_output_channel_per_array():
    q = ArrayWeightQuantizer(3, 2, per_column=True)   # Qn = 4, Qp = 3
    q.set_arrays([[0, 1], [2, 3]])
    w = torch.tensor([[0.1, -0.2, 0.4, 0.8], [1.0, 0.5, -0.25, 0.0]])
    out = q(w)
    # step = 2·mean|w over the array's rows|/sqrt(3)
    steps = torch.tensor([[0.3, 1.2], [1.5, 0.25]]) / math.sqrt(3)
    torch.testing.assert_close(q.step.detach(), steps)
    codes = torch.tensor([[1.0, -1.0, 1.0, 1.0], [1.0, 1.0, -2.0, 0.0]])
    torch.testing.assert_close(out, codes * steps.repeat_interleave(2, dim=1))


def test_weight_and_step_gradients_are_lsq():
    q = ArrayWeightQuantizer(2, 1, per_column=True)   # Qn = 2, Qp = 1
    q(torch.ones(1, 3))
    with torch.no_grad():
        q.step.fill_(0.5)
    w = torch.tensor([[0.3, -0.5, 2.0]], requires_grad=True)
    out = q(w)
    torch.testing.assert_close(out, torch.tensor([[0.5, -0.5, 0.5]]))
    out.sum().backward()
    torch.testing.assert_close(w.grad, torch.tensor([[1.0, 1.0, 0.0]]))  # 0 past the clamp
    # d/ds: round(v) - v inside (0.4 + 0), Qp at the clamp (1); scaled by 1/sqrt(3·Qp)
    torch.testing.assert_close(q.step.grad, torch.tensor([[1.4 / math.sqrt(3)]]))


@pytest.mark.parametrize("bits", [2, 3, 4])
def test_each_column_of_each_array_has_at_most_two_to_the_bits_levels(bits):
    torch.manual_seed(0)
    q = ArrayWeightQuantizer(bits, 4, per_column=True)
    q.set_arrays([list(range(50)), list(range(50, 72))])
    out = q(torch.randn(4, 8, 3, 3)).reshape(4, 72)
    for o in range(4):
        for rows in (slice(0, 50), slice(50, 72)):
            assert out[o, rows].unique().numel() <= 2 ** bits


def test_dorefa_activations_and_their_gradient():
    q = DoReFaActQuantizer(2)   # levels k/3
    x = torch.tensor([-0.5, 0.1, 0.5, 0.95, 1.7], requires_grad=True)
    out = q(x)
    torch.testing.assert_close(out, torch.tensor([0.0, 0.0, 2 / 3, 1.0, 1.0]))  # 1.5 ties to 2
    out.sum().backward()
    torch.testing.assert_close(x.grad, torch.tensor([0.0, 1.0, 1.0, 1.0, 0.0]))
    assert q(torch.randn(1000) * 2).unique().numel() <= 4


def test_untiled_layer_has_one_step_per_output_channel():
    layer = QuantSpec("columnquant", w_bits=4, act_bits=4).conv2d(8, 6, 3, padding=1)
    layer(torch.rand(2, 8, 5, 5))
    assert layer.weight_quantizer.step.shape == (6, 1)


@pytest.mark.parametrize("method", ["columnquant", "cimq"])
@pytest.mark.parametrize("mapping", ["channel_grouped", "im2col", "novel"])
def test_tiled_forward_with_ideal_adc_equals_plain_layer(method, mapping):
    torch.manual_seed(0)
    spec = QuantSpec(method, w_bits=4, act_bits=3)
    layer = spec.conv2d(8, 6, 3, padding=1)
    model = nn.Sequential(layer)
    attach_crossbars(model, CIMConfig(tiled=True, adc=False, adc_bits=3), hardware(mapping, 32),
                     (8, 5, 5))
    assert layer.cim.adc is None
    x = torch.rand(2, 8, 5, 5)
    layer.train()
    layer(x)
    layer.eval()
    tiled = layer(x)
    cim, layer.cim = layer.cim, None
    torch.testing.assert_close(tiled, layer(x), atol=1e-4, rtol=1e-4)
    layer.cim = cim


def test_tiled_columnquant_has_per_column_steps_and_adc_ranges():
    torch.manual_seed(0)
    layer = QuantSpec("columnquant", w_bits=4, act_bits=3).conv2d(8, 4, 3, padding=1)
    attach_crossbars(nn.Sequential(layer), CIMConfig(tiled=True, adc_bits=3),
                     hardware("channel_grouped", 32), (8, 6, 6))
    # channel_grouped, S = 32, K² = 9: 3 channels per array -> ceil(8/3) = 3 arrays
    assert isinstance(layer.cim.adc, ColumnADC) and layer.cim.arrays == 3
    assert layer.weight_quantizer.step.shape == (4, 3)
    assert layer.cim.adc.lo.shape == (1, 3, 4 * 4, 1)     # 4 one-bit slices per weight
    seen = []
    layer.cim.adc.register_forward_hook(lambda m, i, o: seen.append(o))
    layer.cim.native = False     # the op-by-op read hands the ADC every partial sum
    layer.train()
    layer(torch.rand(2, 8, 6, 6)).sum().backward()
    assert layer.weight_quantizer.step.grad.shape == (4, 3)
    psums = seen[-1]   # (M, g, A, O/g·J, L)
    for a in range(3):
        for o in range(16):
            assert psums[:, 0, a, o].unique().numel() <= 8
    assert len({float(v) for v in layer.cim.adc.hi.flatten()}) > 1  # ranges differ per column


def test_column_adc_sigma_range_per_column():
    adc = ColumnADC((1, 1, 2), 2, "sigma", sigmas=0.5).train()
    p = torch.tensor([[0.0, 2.0], [0.0, 2.0]]).reshape(2, 1, 1, 1, 2)   # column 0: {0, 2}
    p = torch.cat([p, torch.full((2, 1, 1, 1, 2), 5.0)], dim=3)         # column 1: constant
    adc(p)
    half = 0.5 * math.sqrt(4 / 3)   # k·σ, σ the unbiased std of {0, 2, 0, 2}
    torch.testing.assert_close(adc.lo.flatten(), torch.tensor([1 - half, 5.0]))
    torch.testing.assert_close(adc.hi.flatten(), torch.tensor([1 + half, 5.0]))


def test_one_bit_weights_are_rejected():
    with pytest.raises(ConfigError, match="w_bits"):
        QuantSpec("columnquant", w_bits=1, act_bits=4).conv2d(4, 4, 3)






@pytest.mark.parametrize("method", ["columnquant", "cimq"])
def test_untiled_checkpoint_loads_into_tiled_layer_with_the_same_weights(method):
    # eval.py tiles any run to sample device variation; an untiled step holds for every array
    torch.manual_seed(0)
    spec = QuantSpec(method, w_bits=4, act_bits=3)
    plain = spec.conv2d(8, 4, 3, padding=1)
    plain.weight_quantizer(plain.weight)
    tiled = spec.conv2d(8, 4, 3, padding=1)
    attach_crossbars(nn.Sequential(tiled), CIMConfig(tiled=True, adc=False, adc_bits=3),
                     hardware("im2col", 32), (8, 6, 6))
    tiled.load_state_dict(plain.state_dict(), strict=True)
    assert tiled.weight_quantizer.step.shape[1] == 3
    assert tiled.weight_quantizer.row_array.numel() == 72
    torch.testing.assert_close(tiled.weight_quantizer(tiled.weight),
                               plain.weight_quantizer(plain.weight))
