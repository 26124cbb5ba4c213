"""The tiled forward is the plain layer when the ADC is ideal and σ = 0; the ADC reads at most
2^b values; variation is a no-op at σ = 0 and reproducible for a seed; mapping counts agree."""
import copy
import itertools

import pytest
import torch
from adc_helpers import fixed_adc

from bwma_exp.cim import streamed
from bwma_exp.cim.crossbar import Crossbar
from bwma_exp.quant import QuantSpec
from bwma_exp.quant.common.adc import ADC

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


@pytest.mark.parametrize("bits", [1, 2, 3, 4])
@pytest.mark.parametrize("mode", ["sigma", "minmax", "learnable"])
def test_adc_reads_a_zero_partial_sum_as_exactly_zero(bits, mode):
    torch.manual_seed(bits)
    adc = ADC(bits, mode).train()
    p = torch.cat([torch.randn(5000) * 3 + 0.7, torch.zeros(100)])
    out = adc(p)
    assert (out[-100:] == 0).all() and out.unique().numel() <= 2 ** bits
    lo, hi, step = adc.grid(p)
    torch.testing.assert_close(hi - lo, step * (2 ** bits - 1))
    torch.testing.assert_close(torch.round(lo / step) * step, lo)   # zero is a level


def test_each_partial_sum_is_adc_quantized_in_the_layer():
    torch.manual_seed(0)
    layer = QuantSpec(method="bwma", w_bits=1, act_bits=4).conv2d(8, 16, 3, padding=1)
    adc = ADC(3)
    layer.cim = Crossbar(72, 32, "novel", (3, 3), adc, True)
    layer.cim.streamed = False
    seen = []
    adc.register_forward_hook(lambda m, i, o: seen.append(o))
    _calibrated(layer, torch.randn(2, 8, 6, 6))(torch.randn(2, 8, 6, 6))
    assert seen[-1].shape[2] == layer.cim.arrays == 9
    assert seen[-1].unique().numel() <= 8


def test_streamed_read_adc_quantizes_each_partial_sum(monkeypatch):
    """The streamed path adds ADC output codes: at most 2^b integer values per partial sum,
    one partial sum per subarray, plane, column and output position."""
    torch.manual_seed(0)
    layer = QuantSpec(method="bwma", w_bits=1, act_bits=4).conv2d(8, 16, 3, padding=1)
    layer.cim = Crossbar(72, 32, "novel", (3, 3), ADC(3), True, adc_grad="clipped")
    seen = []

    read = streamed.adc_codes

    def spy(z, lo, hi, step, groups, arrays, mask, scratch):
        seen.append((z.shape, read(z.clone(), lo, hi, step, 1, 1, None, streamed.Scratch())))
        return read(z, lo, hi, step, groups, arrays, mask, scratch)
    monkeypatch.setattr(streamed, "adc_codes", spy)
    _calibrated(layer, torch.randn(2, 8, 6, 6))(torch.randn(2, 8, 6, 6))
    shape, codes = seen[-1]
    assert shape == (9, 16, 4 * 2 * 36)             # (A, O, P·N·L)
    assert set(codes.unique().tolist()) <= set(range(8)) and codes.unique().numel() > 2



def _read_both_ways(layer, x, make_cim):
    """(output, input gradient, weight gradient, ADC range) of the streamed and op-by-op paths."""
    results = []
    for stream in (True, False):
        tiled = copy.deepcopy(layer)
        tiled.cim = make_cim()
        tiled.cim.streamed = stream
        tiled.cim.adc_grad = "clipped"   # the written-out backward against autograd's
        xx = x.clone().requires_grad_()
        y = tiled(xx)
        (y * torch.linspace(-1, 1, y.numel()).reshape(y.shape)).sum().backward()
        adc = tiled.cim.adc
        results.append((y, xx.grad, tiled.weight.grad,
                        torch.stack([adc.lo, adc.hi]) if adc is not None else torch.zeros(2)))
    return results


@pytest.mark.parametrize("method,w_bits", [("bwma", 1), ("mwma", 4), ("bwba", 1)])
def test_streamed_read_equals_op_by_op_values_and_gradients(method, w_bits):
    torch.manual_seed(0)
    act_bits = 1 if method == "bwba" else 4
    spec = QuantSpec(method=method, w_bits=w_bits, act_bits=act_bits)
    for (k, st, p, g), mapping, size, serial, adc in itertools.product(
            CONVS, MAPPINGS, [32, 128], [True, False], [None, "sigma"]):
        layer = spec.conv2d(8, 16, k, stride=st, padding=p, groups=g)
        x = torch.randn(3, 8, 9, 9)
        layer.train()
        layer(x)
        fast, ref = _read_both_ways(layer, x, lambda: Crossbar(
            8 // g * k * k, size, mapping, (k, k), ADC(3, adc) if adc else None, serial))
        for a, b, what in zip(fast, ref, ("output", "x.grad", "w.grad", "adc range")):
            torch.testing.assert_close(a, b, atol=5e-4, rtol=1e-3, msg=lambda m: (
                f"{what}: {k=} {st=} {p=} {g=} {mapping} {size} {serial} {adc}: {m}"))


@pytest.mark.parametrize("chunk_elements", [1, 1 << 20])   # one image per chunk, or all
def test_streamed_read_equals_op_by_op_for_linear_layers(chunk_elements, monkeypatch):
    monkeypatch.setattr(streamed, "CHUNK_ELEMENTS", chunk_elements)
    torch.manual_seed(0)
    layer = QuantSpec(method="bwma", w_bits=1, act_bits=3).linear(40, 10)
    x = torch.randn(4, 40)
    layer.train()
    layer(x)
    for serial in (True, False):   # a calibrated ADC: a fresh one takes the first chunk's range
        fast, ref = _read_both_ways(layer, x, lambda: Crossbar(40, 16, "im2col", (1, 1),
                                                               fixed_adc(4, -3.0, 4.0), serial))
        for a, b in zip(fast, ref):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_streamed_read_in_chunks_equals_one_chunk(monkeypatch):
    torch.manual_seed(0)
    layer = QuantSpec(method="bwma", w_bits=1, act_bits=4).conv2d(8, 16, 3, padding=1)
    x = torch.randn(5, 8, 9, 9)
    layer.train()
    layer(x)

    def make():  # a calibrated ADC (a fresh one would take its range from the first chunk)
        return Crossbar(72, 32, "novel", (3, 3), fixed_adc(4, -3.0, 4.0), True)
    monkeypatch.setattr(streamed, "CHUNK_ELEMENTS", 1)   # one image per chunk
    chunked = _read_both_ways(layer, x, make)[0]
    monkeypatch.setattr(streamed, "CHUNK_ELEMENTS", 1 << 30)
    whole = _read_both_ways(layer, x, make)[0]
    # The tolerance of the streamed-vs-op-by-op comparisons above: chunks sum in another order
    # (seen on this machine's CPU, before any change: 2 of 1152 outputs off by 1.9e-4).
    for a, b in zip(chunked, whole):
        torch.testing.assert_close(a, b, atol=5e-4, rtol=1e-3)
    tiled = copy.deepcopy(layer)
    tiled.cim = make()
    with torch.no_grad():  # evaluation keeps no clip masks and reads the same values
        torch.testing.assert_close(tiled(x), whole[0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("adc_grad", ["ste", "clipped"])
def test_training_adc_statistics_come_from_the_first_images(adc_grad, monkeypatch):
    """A training batch's ADC range is the one of its first images' partial sums, as few as
    give STAT_SAMPLES of them (here one image: 9 subarrays × 4 planes × 16 columns × 36)."""
    monkeypatch.setattr(streamed, "STAT_SAMPLES", 9 * 4 * 16 * 36)
    torch.manual_seed(0)
    layer = QuantSpec(method="bwma", w_bits=1, act_bits=4).conv2d(8, 16, 3, padding=1)
    x = torch.randn(6, 8, 6, 6)
    _calibrated(layer, x)          # the activation range, then kept fixed
    ranges = []
    for batch in (x, x[:1], x[1:2]):
        tiled = copy.deepcopy(layer)
        tiled.cim = Crossbar(72, 32, "novel", (3, 3), ADC(3), True, adc_grad=adc_grad)
        tiled.cim.train()
        tiled(batch)
        ranges.append((tiled.cim.adc.lo.item(), tiled.cim.adc.hi.item()))
    assert ranges[0] == ranges[1] != ranges[2]
