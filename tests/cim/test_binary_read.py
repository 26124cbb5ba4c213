"""The AND + popcount read of off/on and multi-level cells gives the op-by-op read's values for
every mapping, conv shape, group count, plane mode, cell width and ADC; its terms are the
mapping's rows; the straight-through training read has the ideal layer's gradients."""
import copy
import itertools

import pytest
import torch
from adc_helpers import fixed_adc

from bwma_exp.cim import binary, native
from bwma_exp.cim.crossbar import Crossbar
from bwma_exp.hardware.mapping import row_arrays
from bwma_exp.quant import QuantSpec
from bwma_exp.quant.common.adc import ADC, ADCSettings

pytestmark = pytest.mark.skipif(native.library() is None, reason="no C compiler")

# channels, outputs, kernel, stride, padding, groups
CONVS = [(16, 8, 3, 1, 1, 1), (70, 8, 3, 2, 1, 1), (8, 12, 3, 1, 0, 2), (130, 8, 1, 1, 0, 1),
         (16, 8, 5, 2, 2, 1), (12, 6, 3, 1, 1, 3)]



def _both_reads(layer, x):
    layer.train()
    layer(x)              # the activation and ADC ranges
    layer.eval()
    with torch.no_grad():
        layer.cim.native = True
        fast = layer(x)
        layer.cim.native = False
        slow = layer(x)
    return fast, slow


@pytest.mark.parametrize("conv", CONVS)
@pytest.mark.parametrize("method,w_bits", [("bwma", 1), ("mwma", 4), ("columnquant", 3)])
def test_popcount_read_equals_op_by_op_read(conv, method, w_bits):
    """Every mapping, size, plane mode and cell width, through the run's ADC (columnquant: one
    range per column, its array-wise steps) and with a reference column."""
    c, o, k, st, pad, g = conv
    torch.manual_seed(c + k)
    spec = QuantSpec(method=method, w_bits=w_bits, act_bits=4)
    for mapping, size, serial, cell_bits in itertools.product(
            ["im2col", "novel", "channel_grouped"], [32, 128], [True, False], [1, 2]):
        if (mapping == "channel_grouped" and k * k > size) or cell_bits > w_bits:
            continue
        layer = spec.conv2d(c, o, k, stride=st, padding=pad, groups=g)
        arrays = row_arrays(c // g, k, k, size, mapping)
        layer.weight_quantizer.set_arrays(arrays, g)
        slices = -(-w_bits // cell_bits)
        adc = layer.weight_quantizer.cim_adc(ADCSettings(3), (g, len(arrays), o // g * slices))
        layer.cim = Crossbar(c // g * k * k, size, mapping, (k, k), adc or ADC(3), serial,
                             cell_bits=cell_bits, reference_column=True, reference_adc=ADC(3))
        fast, slow = _both_reads(layer, torch.randn(3, c, 9, 9))
        torch.testing.assert_close(fast, slow, atol=1e-3, rtol=1e-3, msg=lambda m: (
            f"{conv} {mapping} {size} {serial} {cell_bits=}: {m}"))


@pytest.mark.parametrize("adc_bits", [3, 8, 9])
def test_popcount_read_of_a_linear_layer_equals_op_by_op_read(adc_bits):
    """ADCs of up to 8 bits read through code tables where partial sums fit a byte (up to 255:
    256-row arrays of 1-bit cells), wider ones and larger sums by the division."""
    torch.manual_seed(0)
    layer = QuantSpec(method="mwma", w_bits=4, act_bits=3).linear(300, 7)
    for serial, cell_bits, size in itertools.product([True, False], [1, 2, 4], [32, 256]):
        layer.cim = Crossbar(300, size, "im2col", (1, 1), ADC(adc_bits), serial,
                             cell_bits=cell_bits)
        fast, slow = _both_reads(layer, torch.randn(5, 300))
        # float32 both ways; the offset term (the kernel's, digital) cancels most of the
        # offset-coded columns' common sum, in another order in each read
        torch.testing.assert_close(fast, slow, atol=1e-3, rtol=1e-3)


def test_terms_follow_the_im2col_rows_by_hand():
    """C = 16, 3×3, 128 rows: subarray 0 holds rows 0..127 (channels 0..13 whole, channel 14 at
    offsets 0 and 1), subarray 1 rows 128..143 (channel 14 at offsets 2..8, channel 15)."""
    terms = binary.Terms.build(16, (3, 3), 128, "im2col")
    assert terms.words == 1 and terms.word_bits == 32
    assert terms.offset.tolist() == list(range(9)) * 2          # one part per offset and array
    assert terms.mask.tolist() == [0x7FFF] * 2 + [0x3FFF] * 7 + [0x8000] * 2 + [0xC000] * 7
    # parts share 32-bit words: subarray 0's 15, 15, 14, ... bit slices two to a term (5
    # terms), subarray 1's 1, 1, 2, ..., 2 bits (16 in all) in one term
    assert terms.start.tolist() == [0, 5, 6]
    assert terms.part_start.tolist() == [0, 2, 4, 6, 8, 9, 18]
    assert terms.shr.tolist() == [0] * 9 + [15, 15] + [14] * 7
    assert terms.shl.tolist() == [0, 15, 0, 14, 0, 14, 0, 14, 0] + [0, 1, 2, 4, 6, 8, 10, 12, 14]
    _rows_once(terms, 16, 9)


def _rows_once(terms, channels, area):
    """Every (channel, kernel offset) row sits in exactly one term, at a bit of its own."""
    channel, offset, term, bit = terms.rows.tolist()
    assert sorted(zip(channel, offset)) == [(c, k) for c in range(channels) for k in range(area)]
    assert len(set(zip(term, bit))) == len(term) and max(bit) < terms.word_bits


def test_terms_of_the_novel_mapping_by_hand():
    """NeuroSim's K×K mapping of 100 channels at 64 rows: per kernel offset, a subarray of
    channels 0..63 (64-bit word 0, whole) and one of 64..99 (word 1's first 36 bits)."""
    terms = binary.Terms.build(100, (3, 3), 64, "novel")
    assert terms.arrays == 18 and terms.words == 2 and terms.word_bits == 64
    assert terms.start.tolist() == list(range(19))
    assert terms.offset.tolist() == [k for k in range(9) for _ in range(2)]
    assert terms.word.tolist() == [0, 1] * 9
    assert terms.mask.tolist() == [-1, (1 << 36) - 1] * 9   # -1: all 64 bits, as an int64
    assert terms.part_start.tolist() == list(range(19))     # a subarray's one slice: a term
    _rows_once(terms, 100, 9)


def test_channel_grouped_terms_pack_narrow_slices_into_one_word():
    """ColumnQuant's 16 channels at 128 rows: 14 channels (all 9 offsets) per subarray, then 2.
    Its 14-bit slices go two to a 32-bit term (5 terms), the 2-bit ones all into one (18 bits);
    one term per slice took 18."""
    terms = binary.Terms.build(16, (3, 3), 128, "channel_grouped")
    assert terms.start.tolist() == [0, 5, 6] and terms.count == 6
    assert terms.mask.tolist() == [0x3FFF] * 9 + [0xC000] * 9
    assert terms.shl.tolist() == [0, 14] * 4 + [0] + list(range(0, 18, 2))
    _rows_once(terms, 16, 9)


def _layer(adc_grad, adc):
    torch.manual_seed(0)
    layer = QuantSpec(method="bwma", w_bits=1, act_bits=4).conv2d(8, 16, 3, padding=1)
    plain = copy.deepcopy(layer)
    layer.cim = Crossbar(72, 32, "novel", (3, 3), adc, True, adc_grad=adc_grad)
    return layer, plain


def test_straight_through_read_has_the_ideal_gradients_and_the_clipped_reads_value():
    x = torch.randn(2, 8, 6, 6)
    results = {}
    for mode in ("ste", "clipped"):
        layer, plain = _layer(mode, fixed_adc(2, -3.0, 4.0))   # coarse: many partial sums clip
        layer.train()
        plain.train()
        xx = x.clone().requires_grad_()
        y = layer(xx)
        (y * torch.linspace(-1, 1, y.numel()).reshape(y.shape)).sum().backward()
        results[mode] = (y.detach(), xx.grad, layer.weight.grad)
    xp = x.clone().requires_grad_()
    yp = plain(xp)
    (yp * torch.linspace(-1, 1, yp.numel()).reshape(yp.shape)).sum().backward()
    ste, clipped = results["ste"], results["clipped"]
    torch.testing.assert_close(ste[0], clipped[0])                    # the same chip output
    assert not torch.allclose(ste[0], yp)                              # which the ADC changed
    torch.testing.assert_close(ste[1], xp.grad)                        # ideal input gradient
    torch.testing.assert_close(ste[2], plain.weight.grad)              # ideal weight gradient
    assert not torch.allclose(clipped[2], plain.weight.grad)           # clipping zeroes some


def test_without_the_native_kernel_the_layer_reads_the_same(monkeypatch):
    layer, _ = _layer("ste", fixed_adc(3, -5.0, 6.0))
    x = torch.randn(3, 8, 6, 6)
    layer.train()
    layer(x)
    layer.eval()
    with torch.no_grad():
        fast = layer(x)
        monkeypatch.setattr(native, "library", lambda word_bits=64: None)
        slow = layer(x)
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=1e-5)


def test_without_a_working_compiler_there_is_no_native_library(monkeypatch, tmp_path):
    monkeypatch.setenv("BWMA_EXP_CACHE", str(tmp_path))
    monkeypatch.setenv("CC", "false")                 # a "compiler" that always fails
    assert native.library.__wrapped__(64) is None and not list(tmp_path.iterdir())
    monkeypatch.setenv("BWMA_EXP_NATIVE", "0")
    assert native.library.__wrapped__(32) is None
