"""bwma_quantize_act: Eq. 6 forward values and levels, the G-surrogate gradient."""
import pytest
import torch

from bwma_exp.quant.bwma import bwma_quantize_act
from bwma_exp.utils.errors import ConfigError

MID, EDGE = 5 / 3, -1 / 3  # g at the middle of an interval and on a level


def quantize(values, bits, a_min, a_max, **kwargs):
    a = torch.tensor(values, requires_grad=True)
    q = bwma_quantize_act(a, bits, a_min, a_max, kernels="eager", **kwargs)
    q.backward(torch.ones_like(q))
    return q.detach(), a.grad


def test_two_bits_on_0_3_gives_exactly_four_levels():
    a = torch.linspace(-1, 4, 1001)
    q = bwma_quantize_act(a, 2, 0.0, 3.0, kernels="eager")
    assert q.unique().tolist() == [0.0, 1.0, 2.0, 3.0]


def test_levels_are_anchored_at_a_min_with_step_delta():
    q = bwma_quantize_act(torch.linspace(-2, 6, 4001), 3, -1.0, 2.5, kernels="eager")
    delta = 3.5 / 7
    expected = torch.tensor([-1.0 + n * delta for n in range(8)])
    torch.testing.assert_close(q.unique(), expected, rtol=0, atol=1e-6)


def test_rounds_to_nearest_level_ties_up_and_clamps():
    q, _ = quantize([-7.0, 0.0, 0.49, 0.5, 1.5, 2.5, 2.51, 3.0, 9.0], 2, 0.0, 3.0)
    assert q.tolist() == [0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0]


def test_gradient_is_g_of_the_position_within_the_interval():
    # δ = 1: mid-interval 5/3, on a level (interval boundary) g(±1) = -1/3, a quarter in 17/12.
    points = [0.0, 0.25, 0.5, 1.0, 1.5, 1.75, 2.0, 2.5, 3.0]
    _, grad = quantize(points, 2, 0.0, 3.0)
    quarter = MID - 2 * 0.25
    expected = [EDGE, quarter, MID, EDGE, MID, quarter, EDGE, MID, EDGE]
    torch.testing.assert_close(grad, torch.tensor(expected), rtol=0, atol=1e-6)


def test_gradient_is_zero_outside_the_range():
    _, grad = quantize([-0.001, -5.0, 3.001, 10.0], 2, 0.0, 3.0)
    assert grad.tolist() == [0.0, 0.0, 0.0, 0.0]


def test_gradient_scales_the_incoming_gradient():
    a = torch.tensor([0.5, 1.5], requires_grad=True)
    bwma_quantize_act(a, 2, 0.0, 3.0, kernels="eager").backward(torch.tensor([2.0, -3.0]))
    torch.testing.assert_close(a.grad, torch.tensor([2 * MID, -3 * MID]))


def test_narrow_surrogate_is_g_of_the_stretched_argument_over_width():
    # w = 0.5: argument (2f - 1)/0.5; f = 0.375 -> g(-0.5)/0.5, f = 0.1 -> outside the support.
    _, grad = quantize([0.375, 0.5, 0.1], 2, 0.0, 3.0, surrogate_width=0.5)
    expected = [(MID - 0.5) / 0.5, MID / 0.5, 0.0]
    torch.testing.assert_close(grad, torch.tensor(expected), rtol=0, atol=1e-6)


def test_wide_surrogate_sums_the_overlapping_neighbours():
    # w = 2 on δ = 1: at a = 1 (a level) the terms of intervals 0 and 1 each give g(±0.5)/2;
    # at a = 0.5 its own term g(0)/2 and the next one's g(-1)/2; at a = 0 only interval 0.
    _, grad = quantize([1.0, 0.5, 0.0], 2, 0.0, 3.0, surrogate_width=2.0)
    expected = [2 * (MID - 0.5) / 2, (MID + EDGE) / 2, (MID - 0.5) / 2]
    torch.testing.assert_close(grad, torch.tensor(expected), rtol=0, atol=1e-6)


def test_one_bit_is_sign_on_minus_one_to_one_with_slope_g():
    q, grad = quantize([-2.0, -1.0, -1e-8, 0.0, 0.5, 1.0, 1.5], 1, None, None)
    assert q.tolist() == [-1.0, -1.0, -1.0, 1.0, 1.0, 1.0, 1.0]
    expected = [0.0, EDGE, MID, MID, MID - 0.5, EDGE, 0.0]
    torch.testing.assert_close(grad, torch.tensor(expected), rtol=0, atol=1e-6)


def test_one_bit_ignores_any_given_range():
    q = bwma_quantize_act(torch.tensor([0.3, -0.3]), 1, 5.0, 9.0, kernels="eager")
    assert q.tolist() == [1.0, -1.0]


def test_clip_bounds_that_require_grad_get_the_pact_gradient():
    a = torch.tensor([-2.0, 0.5, 1.0, 3.5, 4.0], requires_grad=True)
    lo = torch.tensor(0.0, requires_grad=True)
    hi = torch.tensor(3.0, requires_grad=True)
    q = bwma_quantize_act(a, 2, lo, hi, kernels="eager")
    q.backward(torch.tensor([1.0, 10.0, 100.0, 1000.0, 10000.0]))
    assert lo.grad.item() == 1.0          # only a = -2 is clamped to a_min
    assert hi.grad.item() == 11000.0      # a = 3.5 and 4 are clamped to a_max
    torch.testing.assert_close(a.grad, torch.tensor([0.0, 10 * MID, 100 * EDGE, 0.0, 0.0]))


def test_constant_range_maps_everything_to_a_min():
    q = bwma_quantize_act(torch.tensor([1.0, 2.0]), 4, torch.tensor(1.5), torch.tensor(1.5))
    assert q.tolist() == [1.5, 1.5]


@pytest.mark.parametrize("kwargs, key", [
    ({"bits": 0, "a_min": 0.0, "a_max": 1.0}, "bits"),
    ({"bits": 17, "a_min": 0.0, "a_max": 1.0}, "bits"),
    ({"bits": 2, "a_min": 1.0, "a_max": 1.0}, "a_max"),
    ({"bits": 2, "a_min": None, "a_max": 1.0}, "a_min/a_max"),
    ({"bits": 2, "a_min": 0.0, "a_max": 1.0, "surrogate_width": 0}, "surrogate_width"),
    ({"bits": 2, "a_min": 0.0, "a_max": 1.0, "kernels": "fast"}, "kernels"),
])
def test_bad_arguments_raise_config_error(kwargs, key):
    with pytest.raises(ConfigError) as err:
        bwma_quantize_act(torch.zeros(3), **kwargs)
    assert err.value.key == key
