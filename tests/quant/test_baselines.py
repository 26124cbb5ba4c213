"""quant=bwba (XNOR-style) and quant=mwma (LSQ) forward values and gradients."""
import math

import pytest
import torch

from bwma_exp.quant import QuantSpec
from bwma_exp.quant.bwba import SignActQuantizer, XNORWeightQuantizer
from bwma_exp.quant.common.lsq import LSQActQuantizer, LSQWeightQuantizer
from bwma_exp.utils.errors import ConfigError


def test_bwba_weights_are_sign_times_channel_mean_abs():
    w = torch.tensor([[1.0, -3.0], [0.0, -0.5]], requires_grad=True)
    out = XNORWeightQuantizer()(w)
    assert out.tolist() == [[2.0, -2.0], [0.25, -0.25]]
    out.sum().backward()
    assert w.grad.tolist() == [[1.0, 0.0], [1.0, 1.0]]  # clipped STE: |w| <= 1 only


def test_bwba_activations_are_sign_with_clipped_ste():
    a = torch.tensor([-2.0, -1.0, -0.1, 0.0, 0.7, 1.5], requires_grad=True)
    quantizer = SignActQuantizer().eval()          # threshold 0 until a training batch
    out = quantizer(a)
    assert out.tolist() == [-1.0, -1.0, -1.0, 1.0, 1.0, 1.0]
    out.backward(torch.full((6,), 3.0))
    assert a.grad.tolist() == [0.0, 3.0, 3.0, 3.0, 3.0, 0.0]
    assert quantizer.threshold.grad.item() == -12.0    # −Σ of the passed gradients


def test_bwba_threshold_starts_at_the_first_training_batch_mean():
    quantizer = SignActQuantizer()
    relu_out = torch.tensor([0.0, 0.0, 1.0, 3.0])  # non-negative: sign(a) alone is all +1
    assert quantizer(relu_out).tolist() == [-1.0, -1.0, 1.0, 1.0]   # sign(0) = +1
    assert quantizer.threshold.item() == 1.0
    quantizer(torch.full((4,), 9.0))                # later batches do not reset it
    assert quantizer.threshold.item() == 1.0


def test_bwba_needs_one_bit():
    conv = QuantSpec("bwba", w_bits=1, act_bits=1).conv2d(2, 3, 3)
    assert isinstance(conv.weight_quantizer, XNORWeightQuantizer)
    with pytest.raises(ConfigError) as err:
        QuantSpec("bwba", w_bits=1, act_bits=4).conv2d(2, 3, 3)
    assert err.value.key == "act_bits"


def test_lsq_weights_signed_with_initial_step_and_scaled_step_gradient():
    w = torch.tensor([0.5, -1.0, 0.2, 2.3], requires_grad=True)
    q = LSQWeightQuantizer(3)  # Qn = 4, Qp = 3
    out = q(w)
    step = 2 * 1.0 / math.sqrt(3)  # 2·mean|w|/sqrt(Qp), mean|w| = 1
    assert q.step.item() == pytest.approx(step)
    v = w.detach() / step  # [0.433, -0.866, 0.173, 1.99]
    torch.testing.assert_close(out, torch.tensor([0.0, -1.0, 0.0, 2.0]) * step)
    out.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0, 1.0, 1.0]
    expected = (torch.tensor([0.0, -1.0, 0.0, 2.0]) - v).sum() / math.sqrt(4 * 3)
    torch.testing.assert_close(q.step.grad, expected)


def test_lsq_weights_clamp_to_minus_qn_and_qp():
    q = LSQWeightQuantizer(2)  # Qn = 2, Qp = 1
    q.initialized.fill_(True)
    with torch.no_grad():
        q.step.fill_(0.5)
    w = torch.tensor([-5.0, -0.6, 0.3, 5.0], requires_grad=True)
    out = q(w)
    assert out.tolist() == [-1.0, -0.5, 0.5, 0.5]
    out.sum().backward()
    assert w.grad.tolist() == [0.0, 1.0, 1.0, 0.0]
    # dQ/ds: -Qn, round(v/s) - v/s = -1 + 1.2, 1 - 0.6, Qp; times 1/sqrt(N·Qp) = 1/2
    torch.testing.assert_close(q.step.grad, torch.tensor((-2 + 0.2 + 0.4 + 1) / 2))


def test_lsq_activations_pick_unsigned_for_non_negative_input():
    q = LSQActQuantizer(2).train()  # unsigned: Qn = 0, Qp = 3
    a = torch.tensor([[0.0, 1.0, 2.0, 5.0]])
    out = q(a)
    step = 2 * 2.0 / math.sqrt(3)
    assert not bool(q.signed) and q.step.item() == pytest.approx(step)
    # a/s = [0, 0.43, 0.87, 2.17]
    torch.testing.assert_close(out, torch.tensor([[0.0, 0.0, 1.0, 2.0]]) * step)


def test_lsq_activations_pick_signed_for_negative_input_and_keep_it():
    q = LSQActQuantizer(2).train()  # signed: Qn = 2, Qp = 1
    q(torch.tensor([[-1.0, 1.0]]))
    assert bool(q.signed) and q.step.item() == pytest.approx(2.0)
    assert q(torch.tensor([[-9.0, 0.9, 9.0]])).tolist() == [[-4.0, 0.0, 2.0]]
    assert set(q.state_dict()) == {"step", "initialized", "signed"}


def test_lsq_activations_in_eval_before_training_store_nothing():
    q = LSQActQuantizer(2).eval()
    q(torch.tensor([[-1.0, 1.0]]))
    assert not bool(q.initialized) and q.step.item() == 1.0


@pytest.mark.parametrize("w_bits, act_bits, key", [(1, 4, "w_bits"), (4, 1, "act_bits")])
def test_mwma_needs_at_least_two_bits(w_bits, act_bits, key):
    with pytest.raises(ConfigError) as err:
        QuantSpec("mwma", w_bits=w_bits, act_bits=act_bits).conv2d(2, 2, 3)
    assert err.value.key == key


def test_methods_without_options_refuse_any_option():
    with pytest.raises(ConfigError) as err:
        QuantSpec("mwma", w_bits=4, act_bits=4, options={"split": "median"}).conv2d(2, 2, 3)
    assert err.value.key == "quant.options.split"
