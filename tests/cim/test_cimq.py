"""quant=cimq: bit-sparse activations, array-wise weight steps, reparametrized ADC clip."""
from __future__ import annotations

import math

import pytest
import torch
from test_columnquant import hardware
from torch import nn

from bwma_exp.cim.attach import attach_crossbars
from bwma_exp.cim.config import CIMConfig
from bwma_exp.module import CIMClassifier
from bwma_exp.quant import QuantSpec
from bwma_exp.quant.cimq import BitSparseActQuantizer, ReparamClipADC, expected_bit_count
from bwma_exp.utils.errors import ConfigError


def _act(bits: int, lam: float, step: float) -> BitSparseActQuantizer:
    q = BitSparseActQuantizer(bits, lam).train()
    q(torch.ones(4))
    with torch.no_grad():
        q.step.fill_(step)
    q.regularization_loss()
    return q


def test_expected_bit_count_is_exact_at_codes_and_linear_between():
    v = torch.tensor([0.0, 1.5, 3.0, 2.25, 1.0])
    # 1.5: between 1 (one 1-bit) and 2 (one) -> 1; 2.25: 0.75·1 + 0.25·2 (3 = 0b11)
    torch.testing.assert_close(expected_bit_count(v, 2), torch.tensor([0.0, 1.0, 2.0, 1.25, 1.0]))


def test_activation_codes_and_straight_through_gradient():
    q = _act(2, 0.1, 0.5)                      # codes 0..3, levels 0, 0.5, 1, 1.5
    x = torch.tensor([-1.0, 0.3, 0.8, 1.2, 2.0], requires_grad=True)
    out = q(x)
    torch.testing.assert_close(out, torch.tensor([0.0, 0.5, 1.0, 1.0, 1.5]))
    out.sum().backward()
    torch.testing.assert_close(x.grad, torch.tensor([0.0, 1.0, 1.0, 1.0, 0.0]))
    assert q(torch.randn(1000) * 3).unique().numel() <= 4


def test_bit_sparsity_regularizer_value_and_gradient():
    q = _act(2, 0.1, 0.5)
    x = torch.tensor([-1.0, 0.3, 0.8, 1.2, 2.0], requires_grad=True)
    q(x)
    reg = q.regularization_loss()
    # v = [0, 0.6, 1.6, 2.4, 3]: expected 1-bits 0, 0.6, 1.0, 1.4, 2 -> mean 1.0, times λ
    torch.testing.assert_close(reg, torch.tensor(0.1))
    assert q.regularization_loss() is None      # read once
    reg.backward()
    # λ/N·(popcount(n+1) − popcount(n))/s inside the clamp: 0→1 (+1), 1→2 (0), 2→3 (+1)
    torch.testing.assert_close(x.grad, torch.tensor([0.0, 0.04, 0.0, 0.04, 0.0]))


def test_no_regularizer_in_eval_or_with_zero_lambda():
    q = _act(2, 0.1, 0.5).eval()
    q(torch.rand(8))
    assert q.regularization_loss() is None
    q = _act(2, 0.0, 0.5)
    q(torch.rand(8))
    assert q.regularization_loss() is None


def test_lightning_module_adds_the_quantizers_regularizers():
    spec = QuantSpec("cimq", w_bits=4, act_bits=2, options={"bit_sparsity_lambda": 0.5})
    net = nn.Sequential(spec.conv2d(3, 4, 3), nn.ReLU(), spec.conv2d(4, 4, 3))
    module = CIMClassifier(net, 4, optimizer=None)
    net.train()
    net(torch.rand(2, 3, 7, 7))
    expected = sum(float(m.act_quantizer._regularizer.detach()) for m in (net[0], net[2]))
    assert expected > 0
    torch.testing.assert_close(float(module.regularization_loss().detach()), expected)


def test_reparametrized_clip_adc_values_and_gradients():
    adc = ReparamClipADC(2).train()
    with torch.no_grad():
        adc.c0.fill_(3.0)
        adc.initialized.fill_(True)
    # softplus(θ0) = 1: c = 3, levels −3, −1, 1, 3
    p = torch.tensor([-5.0, -1.4, 0.2, 2.1, 4.0], requires_grad=True)
    out = adc(p)
    torch.testing.assert_close(out, torch.tensor([-3.0, -1.0, 1.0, 3.0, 3.0]))
    out.sum().backward()
    torch.testing.assert_close(p.grad, torch.tensor([0.0, 1.0, 1.0, 1.0, 0.0]))
    # d out/dc: −1 / +1 at the clips, (2/3)(round(v) − v) inside; dc/dθ = c0·sigmoid(θ0);
    # times LSQ's gradient scale 1/sqrt(N·Qp), N = 5 partial sums, Qp = 3
    dc = -1 + (2 / 3) * (0.2 + 0.4 + 0.45) + 1
    scale = 1 / math.sqrt(5 * 3)
    torch.testing.assert_close(adc.theta.grad,
                               torch.tensor(dc * 3 * (math.e - 1) / math.e * scale))


def test_clip_starts_at_three_sigma_of_the_first_training_batch():
    adc = ReparamClipADC(3).train()
    p = torch.tensor([1.0, 3.0, 1.0, 3.0])
    adc(p)
    std = math.sqrt(4 / 3)
    torch.testing.assert_close(float(adc.clip().detach()), 2 + 3 * std)
    assert adc(torch.randn(5000) * 4).unique().numel() <= 8


def test_untiled_weights_have_one_step_per_layer_tiled_one_per_array():
    torch.manual_seed(0)
    spec = QuantSpec("cimq", w_bits=3, act_bits=3)
    plain = spec.conv2d(8, 4, 3, padding=1)
    out = plain.weight_quantizer(plain.weight)
    assert plain.weight_quantizer.step.shape == (1, 1) and out.unique().numel() <= 8
    layer = spec.conv2d(8, 4, 3, padding=1)
    attach_crossbars(nn.Sequential(layer), CIMConfig(tiled=True, adc_bits=3),
                     hardware("im2col", 32), (8, 6, 6))
    assert layer.weight_quantizer.step.shape == (1, 3)      # 72 rows in arrays of 32
    assert isinstance(layer.cim.adc, ReparamClipADC)
    layer.train()
    layer(torch.rand(2, 8, 6, 6)).sum().backward()
    assert layer.weight_quantizer.step.grad.shape == (1, 3)
    assert layer.cim.adc.theta.grad is not None
    w = layer.weight_quantizer(layer.weight).reshape(4, 72)
    for rows in (slice(0, 32), slice(32, 64), slice(64, 72)):   # each array: one step
        assert w[:, rows].unique().numel() <= 8


@pytest.mark.parametrize("spec", [{"w_bits": 1, "act_bits": 4},
                                  {"w_bits": 4, "act_bits": 4,
                                       "options": {"bit_sparsity_lambda": -1}}])
def test_bad_cimq_settings_are_rejected(spec):
    with pytest.raises(ConfigError):
        QuantSpec("cimq", **spec).conv2d(4, 4, 3)
