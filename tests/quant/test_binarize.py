"""bwma_binarize: moment matching (Eqs. 2-4), median vs mean split, Eq. 5 gradient."""
import math

import pytest
import torch

from bwma_exp.quant.bwma import bwma_binarize
from bwma_exp.utils.errors import ConfigError

# Asymmetric: mean 0, population std 0.5, median (lower middle) -0.25; only 2 of 6 above the mean.
SKEWED = [-0.625, -0.375, -0.25, 0.0, 0.375, 0.875]


def test_median_split_gives_c_plus_minus_r_on_equal_halves():
    w = torch.tensor(SKEWED)
    out = bwma_binarize(w)
    assert out.tolist() == [-0.5, -0.5, -0.5, 0.5, 0.5, 0.5]
    assert out.mean().item() == w.mean().item()
    assert out.std(correction=0).item() == w.std(correction=0).item()


def test_mean_split_keeps_the_values_but_not_the_mean_on_skewed_weights():
    out = bwma_binarize(torch.tensor(SKEWED), split="mean")
    assert out.tolist() == [-0.5, -0.5, -0.5, -0.5, 0.5, 0.5]
    assert out.mean().item() == pytest.approx(-1 / 6)


def test_values_follow_the_layer_mean_and_std():
    w = torch.tensor([1.0, 2.0, 3.0, 6.0])  # c = 3, r = sqrt(3.5)
    out = bwma_binarize(w)
    r = math.sqrt(3.5)
    torch.testing.assert_close(out, torch.tensor([3 - r, 3 - r, 3 + r, 3 + r]))


def test_odd_count_puts_the_median_in_the_lower_half():
    out = bwma_binarize(torch.tensor([-1.0, 0.0, 1.0]))
    r = math.sqrt(2 / 3)
    torch.testing.assert_close(out, torch.tensor([-r, -r, r]))


def test_output_has_exactly_two_values():
    torch.manual_seed(0)
    out = bwma_binarize(torch.randn(16, 8, 3, 3) * 0.1 + 0.02)
    assert out.unique().numel() == 2


def test_gradient_is_eq5_on_raw_weights_and_zero_beyond_one():
    w = torch.tensor([-1.5, -1.0, -0.2, 0.0, 0.5, 1.0, 1.01], requires_grad=True)
    alpha, t = 1.5, 2.0
    bwma_binarize(w, alpha=alpha, temperature=t).backward(torch.full((7,), 2.0))
    slope = [0.0] + [2 * alpha * (1 - math.tanh(x * t) ** 2) for x in (-1.0, -0.2, 0.0, 0.5, 1.0)]
    torch.testing.assert_close(w.grad, torch.tensor(slope + [0.0]))


def test_mean_and_std_are_constants_of_the_backward():
    # If c and r carried gradient, the sum of the outputs (constant N·c = sum w) would pass a
    # gradient of exactly 1 to every weight; Eq. 5 alone gives α(1 - tanh²(t·w)) instead.
    w = torch.tensor([0.3, -0.1, 0.2, 0.0], requires_grad=True)
    bwma_binarize(w, alpha=1.0, temperature=1.0).sum().backward()
    torch.testing.assert_close(w.grad, 1 - torch.tanh(w.detach()) ** 2)


def test_unknown_split_is_a_config_error():
    with pytest.raises(ConfigError, match="median or mean"):
        bwma_binarize(torch.zeros(4), split="mode")
