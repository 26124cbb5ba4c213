"""ActQuantizer: the running range (first batch, EMA, eval, checkpoint) and the learnable clip."""
import pytest
import torch

from bwma_exp.quant import ActQuantizer
from bwma_exp.utils.errors import ConfigError


def quantizer(**kwargs) -> ActQuantizer:
    return ActQuantizer(2, kernels="eager", **kwargs)


def range_of(q: ActQuantizer) -> list[float]:
    return [q.a_min.item(), q.a_max.item()]


def test_first_training_batch_sets_the_range_and_is_quantized_on_it():
    q = quantizer().train()
    out = q(torch.tensor([0.0, 1.4, 1.6, 3.0]))
    assert bool(q.initialized) and range_of(q) == [0.0, 3.0]
    assert out.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_running_range_is_an_ema_with_momentum_0_1():
    q = quantizer().train()
    q(torch.tensor([0.0, 3.0]))
    q(torch.tensor([-1.0, 13.0]))
    expected = torch.tensor([0.9 * 0.0 + 0.1 * -1.0, 0.9 * 3.0 + 0.1 * 13.0])
    torch.testing.assert_close(torch.stack([q.a_min, q.a_max]), expected, rtol=0, atol=0)
    q(torch.tensor([2.0, 4.0]))
    expected = 0.9 * expected + 0.1 * torch.tensor([2.0, 4.0])
    torch.testing.assert_close(torch.stack([q.a_min, q.a_max]), expected, rtol=0, atol=0)


def test_other_momentum_is_used_as_given():
    q = quantizer(momentum=0.5).train()
    q(torch.tensor([0.0, 4.0]))
    q(torch.tensor([2.0, 8.0]))
    assert range_of(q) == [1.0, 6.0]


def test_eval_before_training_uses_the_batch_range_and_stores_nothing():
    q = quantizer().eval()
    out = q(torch.tensor([-3.0, -0.5, 1.5, 3.0]))  # range [-3, 3], δ = 2
    assert out.tolist() == [-3.0, -1.0, 1.0, 3.0]
    assert not bool(q.initialized) and range_of(q) == [-1.0, 1.0]


def test_range_is_frozen_in_eval():
    q = quantizer().train()
    q(torch.tensor([0.0, 3.0]))
    q.eval()
    out = q(torch.tensor([-5.0, 1.2, 100.0]))
    assert range_of(q) == [0.0, 3.0]
    assert out.tolist() == [0.0, 1.0, 3.0]


def test_range_and_flag_are_saved_and_restored():
    q = quantizer().train()
    q(torch.tensor([-0.5, 2.5]))
    state = q.state_dict()
    assert set(state) == {"initialized", "a_min", "a_max"}
    restored = quantizer()
    restored.load_state_dict(state)
    restored.eval()
    assert bool(restored.initialized) and range_of(restored) == [-0.5, 2.5]


def test_backward_after_the_next_step_updated_the_range():
    q = quantizer().train()
    a = torch.tensor([0.0, 0.5, 2.5, 3.0], requires_grad=True)
    out = q(a)
    q(torch.tensor([-1.0, 10.0]))  # in-place EMA update must not invalidate the saved range
    out.sum().backward()
    expected = torch.tensor([-1 / 3, 5 / 3, 5 / 3, -1 / 3])
    torch.testing.assert_close(a.grad, expected, rtol=0, atol=1e-6)


def test_one_bit_uses_the_fixed_range_and_keeps_it():
    q = ActQuantizer(1, kernels="eager").train()
    assert q(torch.tensor([-0.2, 0.0, 7.0])).tolist() == [-1.0, 1.0, 1.0]
    assert bool(q.initialized) and range_of(q) == [-1.0, 1.0]


def test_learnable_clip_starts_from_the_first_batch_then_learns():
    q = quantizer(learnable_clip=True).train()
    assert {name for name, _ in q.named_parameters()} == {"a_min", "a_max"}
    q(torch.tensor([0.0, 3.0]))
    assert range_of(q) == [0.0, 3.0]
    out = q(torch.tensor([-1.0, 1.5, 4.0, 5.0]))
    assert out.tolist() == [0.0, 2.0, 3.0, 3.0]
    assert range_of(q) == [0.0, 3.0]  # no EMA: only the optimizer moves a learnable range
    out.sum().backward()
    assert q.a_min.grad.item() == 1.0 and q.a_max.grad.item() == 2.0
    assert "a_min" in q.state_dict() and "initialized" in q.state_dict()


@pytest.mark.parametrize("kwargs, key", [
    ({"bits": 0}, "act_bits"),
    ({"bits": 2, "momentum": 0.0}, "quant.options.momentum"),
    ({"bits": 2, "surrogate_width": -1.0}, "quant.options.surrogate_width"),
    ({"bits": 1, "learnable_clip": True}, "quant.options.learnable_clip"),
    ({"bits": 2, "kernels": "jit"}, "quant.options.kernels"),
])
def test_bad_settings_raise_config_error(kwargs, key):
    with pytest.raises(ConfigError) as err:
        ActQuantizer(**kwargs)
    assert err.value.key == key
