"""The tiled forward is the plain layer when the ADC is ideal and σ = 0; the ADC reads at most
2^b values; variation is a no-op at σ = 0 and reproducible for a seed; mapping counts agree."""
import itertools

import pytest
import torch

from bwma_exp.cim.adc import ADC
from bwma_exp.cim.attach import sample_variation
from bwma_exp.cim.config import CIMConfig
from bwma_exp.cim.crossbar import Crossbar
from bwma_exp.errors import ConfigError
from bwma_exp.hardware.mapping import arrays_per_group, row_arrays
from bwma_exp.quant import QuantSpec

CONVS = [(3, 1, 1, 1), (1, 2, 0, 1), (5, 2, 2, 2), (3, 1, 0, 4)]  # kernel, stride, padding, groups
MAPPINGS = ["im2col", "novel", "channel_grouped"]


def _calibrated(layer, x):
    layer.train()
    layer(x)  # sets the activation range (and the ADC's, when there is one)
    layer.eval()
    return layer


@pytest.mark.parametrize("method,w_bits", [("bwma", 1), ("mwma", 4)])
def test_ideal_tiled_conv_equals_plain_conv(method, w_bits):
    torch.manual_seed(0)
    spec = QuantSpec(method=method, w_bits=w_bits, act_bits=4)
    for (k, st, p, g), mapping, size, serial in itertools.product(CONVS, MAPPINGS, [32, 128],
                                                                  [True, False]):
        layer = spec.conv2d(8, 16, k, stride=st, padding=p, groups=g)
        x = torch.randn(3, 8, 9, 9)
        ref = _calibrated(layer, x)(x)
        layer.cim = Crossbar(8 // g * k * k, size, mapping, (k, k), None, serial)
        torch.testing.assert_close(layer(x), ref, atol=1e-4, rtol=1e-4,
                                   msg=f"{k=} {st=} {p=} {g=} {mapping} {size} {serial}")


def test_ideal_tiled_linear_equals_plain_linear():
    torch.manual_seed(0)
    layer = QuantSpec(method="bwma", w_bits=1, act_bits=3).linear(40, 10)
    x = torch.randn(4, 40)
    ref = _calibrated(layer, x)(x)
    layer.cim = Crossbar(40, 16, "im2col", (1, 1), None, True)
    torch.testing.assert_close(layer(x), ref, atol=1e-5, rtol=1e-5)


def test_tiled_gradients_match_plain_layer_with_ideal_adc():
    torch.manual_seed(0)
    spec = QuantSpec(method="bwma", w_bits=1, act_bits=4)
    plain = spec.conv2d(8, 16, 3, padding=1)
    tiled = spec.conv2d(8, 16, 3, padding=1)
    tiled.load_state_dict(plain.state_dict())
    tiled.cim = Crossbar(72, 32, "novel", (3, 3), None, True)
    x = torch.randn(2, 8, 6, 6)
    for layer in (plain, tiled):
        layer.train()
        layer(x).square().sum().backward()
    torch.testing.assert_close(tiled.weight.grad, plain.weight.grad, atol=1e-3, rtol=1e-3)


@pytest.mark.parametrize("bits", [1, 2, 3, 4])
@pytest.mark.parametrize("mode", ["sigma", "minmax", "learnable"])
def test_adc_reads_at_most_two_to_the_bits_values(bits, mode):
    adc = ADC(bits, mode).train()
    p = torch.randn(10_000) * 7
    for out in (adc(p), adc.eval()(p * 1.3)):
        assert 2 <= out.unique().numel() <= 2 ** bits


def test_each_partial_sum_is_adc_quantized_in_the_layer():
    torch.manual_seed(0)
    layer = QuantSpec(method="bwma", w_bits=1, act_bits=4).conv2d(8, 16, 3, padding=1)
    adc = ADC(3)
    layer.cim = Crossbar(72, 32, "novel", (3, 3), adc, True)
    seen = []
    adc.register_forward_hook(lambda m, i, o: seen.append(o))
    _calibrated(layer, torch.randn(2, 8, 6, 6))(torch.randn(2, 8, 6, 6))
    assert seen[-1].shape[2] == layer.cim.arrays == 9
    assert seen[-1].unique().numel() <= 8


def test_variation_zero_is_identity_and_seeded_variation_reproducible():
    torch.manual_seed(0)
    net = torch.nn.Sequential(QuantSpec(method="bwma", w_bits=1, act_bits=4).conv2d(8, 16, 3))
    net[0].cim = Crossbar(72, 32, "im2col", (3, 3), None, True)
    x = torch.randn(2, 8, 6, 6)
    ref = _calibrated(net, x)(x)
    sample_variation(net, 0.0, "lognormal", seed=1)
    torch.testing.assert_close(net(x), ref)
    for kind in ("lognormal", "gaussian"):
        sample_variation(net, 0.1, kind, seed=1)
        a = net(x)
        sample_variation(net, 0.1, kind, seed=1)
        torch.testing.assert_close(net(x), a)
        sample_variation(net, 0.1, kind, seed=2)
        assert not torch.allclose(net(x), a)
        assert not torch.allclose(a, ref)


@pytest.mark.parametrize("c_in,k,size", [(16, 3, 128), (64, 3, 128), (300, 1, 64), (20, 5, 32)])
@pytest.mark.parametrize("mapping", MAPPINGS)
def test_row_partition_covers_every_row_once_within_subarrays(c_in, k, size, mapping):
    arrays = row_arrays(c_in, k, k, size, mapping)
    rows = sorted(r for a in arrays for r in a)
    assert rows == list(range(c_in * k * k))
    assert max(len(a) for a in arrays) <= size
    assert len(arrays) == arrays_per_group(c_in, k, k, size, mapping)


@pytest.mark.parametrize("cim,adc_bits,key", [({"variation_sigma": -1}, 4, "cim.variation_sigma"),
                                               ({}, 0, "adc_bits"),
                                               ({"adc_range": "auto"}, 4, "cim.adc_range"),
                                               ({"tiled": "yes"}, 4, "cim.tiled")])
def test_bad_cim_settings_are_rejected(cim, adc_bits, key):
    with pytest.raises(ConfigError, match=key):
        CIMConfig.from_dict(cim, adc_bits)
