"""The tiled forward is the plain layer when the ADC is ideal and σ = 0, for every method,
mapping, cell width and readout; the cells hold the documented levels; the ADC reads at most
2^b values; the counts of what a forward read follow the partition by hand."""
import copy
import itertools

import pytest
import torch

from bwma_exp.cim import cells as cell_layout
from bwma_exp.cim import crossbar as crossbar_module
from bwma_exp.cim.crossbar import Crossbar
from bwma_exp.hardware.mapping import row_arrays
from bwma_exp.quant import QuantSpec
from bwma_exp.quant.common.adc import ADC

CONVS = [(3, 1, 1, 1), (1, 2, 0, 1), (5, 2, 2, 2), (3, 1, 0, 4)]  # kernel, stride, padding, groups
MAPPINGS = ["im2col", "novel", "channel_grouped"]
METHODS = [("bwma", 1, 4), ("bwba", 1, 1), ("mwma", 4, 4), ("columnquant", 4, 3), ("cimq", 3, 4)]


def _calibrated(layer, x):
    layer.train()
    layer(x)  # sets the activation range (and the ADC's, when there is one)
    layer.eval()
    return layer


# the three readouts: offset coding with a digital offset, with a reference column, and
# differential (positive and negative columns, no offset term)
READOUTS = [("offset", False), ("offset", True), ("differential", False)]


def _tiled(layer, c_in, k, g, size, mapping, adc=None, serial=True, cell_bits=1,
           reference=False, reference_adc=None, coding="offset"):
    """``layer`` on a crossbar, its array-wise steps (columnquant, cimq) on the partition."""
    layer.weight_quantizer.set_arrays(row_arrays(c_in // g, k, k, size, mapping), g)
    layer.cim = Crossbar(c_in // g * k * k, size, mapping, (k, k), adc, serial,
                         cell_bits=cell_bits, reference_column=reference,
                         reference_adc=reference_adc, weight_coding=coding)
    return layer


@pytest.mark.parametrize("method,w_bits,act_bits", METHODS)
def test_ideal_tiled_conv_equals_plain_conv(method, w_bits, act_bits):
    torch.manual_seed(0)
    spec = QuantSpec(method=method, w_bits=w_bits, act_bits=act_bits)
    for (k, st, p, g), mapping, size, serial, cell_bits, (coding, reference) in \
            itertools.product(CONVS, MAPPINGS, [32, 128], [True, False], [1, 2], READOUTS):
        if cell_bits > w_bits or (size == 128 and cell_bits == 2):
            continue
        layer = _tiled(spec.conv2d(8, 16, k, stride=st, padding=p, groups=g), 8, k, g, size,
                       mapping, None, serial, cell_bits, reference, coding=coding)
        x = torch.randn(3, 8, 9, 9)
        cim, layer.cim = layer.cim, None
        ref = _calibrated(layer, x)(x)
        layer.cim = cim
        for native in (True, False):
            layer.cim.native = native
            torch.testing.assert_close(layer(x), ref, atol=5e-4, rtol=1e-3, msg=lambda m: (
                f"{k=} {st=} {p=} {g=} {mapping} {size} {serial} {cell_bits=} {coding} "
                f"{reference=} {native=}: {m}"))


@pytest.mark.parametrize("method,w_bits,act_bits", METHODS)
def test_ideal_tiled_linear_equals_plain_linear(method, w_bits, act_bits):
    torch.manual_seed(0)
    layer = QuantSpec(method=method, w_bits=w_bits, act_bits=act_bits).linear(40, 10)
    x = torch.randn(4, 40)
    _tiled(layer, 40, 1, 1, 16, "im2col")       # the array-wise steps' partition
    layer.cim = None                            # the plain layer first
    ref = _calibrated(layer, x)(x)
    for cell_bits, (coding, reference) in itertools.product([1, 2], READOUTS):
        if cell_bits <= w_bits:
            layer.cim = Crossbar(40, 16, "im2col", (1, 1), None, True, cell_bits=cell_bits,
                                 reference_column=reference, weight_coding=coding)
            torch.testing.assert_close(layer(x), ref, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("cell_bits,reference,coding", [
    (1, False, "offset"), (2, True, "offset"), (4, True, "offset"), (1, False, "differential"),
    (2, False, "differential")])
def test_tiled_gradients_match_plain_layer_with_ideal_adc(cell_bits, reference, coding):
    """Through the op-by-op read (adc_grad=clipped, nothing clips): the slices' and planes'
    straight-through shares add up to the plain layer's gradients."""
    torch.manual_seed(0)
    for method, w_bits in (("bwma", 1), ("mwma", 4)):
        if cell_bits > w_bits:
            continue
        spec = QuantSpec(method=method, w_bits=w_bits, act_bits=4)
        plain = spec.conv2d(8, 16, 3, padding=1)
        tiled = copy.deepcopy(plain)
        _tiled(tiled, 8, 3, 1, 32, "novel", cell_bits=cell_bits, reference=reference,
               coding=coding)
        tiled.cim.adc_grad = "clipped"
        x = torch.randn(2, 8, 6, 6)
        grads = []
        for layer in (plain, tiled):
            layer.train()
            xx = x.clone().requires_grad_()
            layer(xx).square().sum().backward()
            grads.append((xx.grad, layer.weight.grad))
        for a, b in zip(*grads):
            torch.testing.assert_close(a, b, atol=1e-3, rtol=1e-3)


def test_cells_hold_the_offset_coded_bit_slices_by_hand():
    """mwma 4-bit, step 0.5: w = 0.5·k, k in [−8, 7], u = k + 8; 2-bit cells hold u's two
    slices (low first); the digital side weights them 0.5·1 and 0.5·4, offset −8·0.5."""
    quantizer = QuantSpec(method="mwma", w_bits=4, act_bits=4).conv2d(1, 2, 1).weight_quantizer
    quantizer.step.data.fill_(0.5)
    quantizer.initialized.fill_(True)
    w = torch.tensor([[-4.0, 3.5], [0.0, -0.5]]).reshape(2, 2, 1, 1)
    cells = cell_layout.build(w, quantizer.cim_cells(w, 4), 2, torch.tensor([0]), 1)
    u = [[0, 15], [8, 7]]                          # k + 8
    assert cells.values.tolist() == [[u[0][0] & 3, u[0][1] & 3], [u[0][0] >> 2, u[0][1] >> 2],
                                     [u[1][0] & 3, u[1][1] & 3], [u[1][0] >> 2, u[1][1] >> 2]]
    assert cells.colscale.tolist() == [[[0.5, 2.0, 0.5, 2.0]]]
    assert cells.refcoef.tolist() == [[[-4.0, -4.0]]] and cells.slices == 2


def test_differential_cells_hold_the_magnitudes_in_positive_and_negative_columns_by_hand():
    """The same weights differentially: k = −8, 7, 0, −1 sit as magnitudes, the positive
    columns (then the negative ones) each in two 2-bit slices weighted ±0.5·1 and ±0.5·4;
    no offset term."""
    quantizer = QuantSpec(method="mwma", w_bits=4, act_bits=4).conv2d(1, 2, 1).weight_quantizer
    quantizer.step.data.fill_(0.5)
    quantizer.initialized.fill_(True)
    w = torch.tensor([[-4.0, 3.5], [0.0, -0.5]]).reshape(2, 2, 1, 1)
    cells = cell_layout.build(w, quantizer.cim_cells(w, 4), 2, torch.tensor([0]), 1,
                              differential=True)
    assert cells.values.tolist() == [[0, 3], [0, 1], [0, 0], [2, 0],     # output 0: +lo +hi -lo -hi
                                     [0, 0], [0, 0], [0, 1], [0, 0]]     # output 1
    assert cells.colscale.tolist() == [[[0.5, 2.0, -0.5, -2.0, 0.5, 2.0, -0.5, -2.0]]]
    assert cells.refcoef is None and cells.offset_rows is None and cells.slices == 4
    # straight through: each weight's gradient reaches the columns that hold it, summing to 1/step
    w.requires_grad_(True)
    cells = cell_layout.build(w, quantizer.cim_cells(w, 4), 2, torch.tensor([0]), 1,
                              differential=True)
    (cells.values * cells.colscale.reshape(-1, 1)).sum().backward()
    torch.testing.assert_close(w.grad, torch.ones_like(w))


def test_binary_weights_are_off_and_on_cells():
    """Two values per channel: the lower one is an off cell, the upper one an on cell; the
    offset is the lower value and the column weight their distance."""
    w = torch.tensor([[-0.3, 0.7, 0.7, -0.3], [0.2, 0.2, 0.4, 0.4]])
    quantizer = QuantSpec(method="bwma", w_bits=1, act_bits=4).linear(4, 2).weight_quantizer
    cells = cell_layout.build(w, quantizer.cim_cells(w, 1), 1, torch.tensor([0]), 1)
    assert cells.values.tolist() == [[0, 1, 1, 0], [0, 0, 1, 1]]
    torch.testing.assert_close(cells.colscale, torch.tensor([[[1.0, 0.2]]]))
    torch.testing.assert_close(cells.refcoef, torch.tensor([[[-0.3, 0.2]]]))


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


def test_each_slice_partial_sum_is_adc_quantized_in_the_layer():
    """One ADC read per (plane, subarray, slice column, position): 2-bit cells give mwma's
    4-bit weights two columns each."""
    torch.manual_seed(0)
    layer = QuantSpec(method="mwma", w_bits=4, act_bits=4).conv2d(8, 16, 3, padding=1)
    adc = ADC(3)
    _tiled(layer, 8, 3, 1, 32, "novel", adc, cell_bits=2)
    layer.cim.native = False
    seen = []
    adc.register_forward_hook(lambda m, i, o: seen.append(o))
    _calibrated(layer, torch.randn(2, 8, 6, 6))(torch.randn(2, 8, 6, 6))
    assert seen[-1].shape == (4 * 2, 1, 9, 32, 36)     # (P·N, g, A, O·J, L)
    assert seen[-1].unique().numel() <= 8


def test_the_reference_column_is_read_through_its_own_adc():
    """With a reference column the offset term carries the reference ADC's error; read
    ideally it is exact, as without one."""
    torch.manual_seed(0)
    spec = QuantSpec(method="bwma", w_bits=1, act_bits=4)
    layer = spec.conv2d(8, 16, 3, padding=1)
    x = torch.randn(2, 8, 6, 6)
    ref = _calibrated(layer, x)(x)
    coarse = ADC(1).eval()
    coarse.lo.fill_(0.0)
    coarse.hi.fill_(3.0)
    coarse.initialized.fill_(True)
    outputs = {}
    for name, reference, adc in (("exact", False, None), ("ideal", True, None),
                                 ("coarse", True, coarse)):
        _tiled(layer, 8, 3, 1, 32, "novel", reference=reference, reference_adc=adc)
        outputs[name] = layer(x)
    torch.testing.assert_close(outputs["exact"], ref, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(outputs["ideal"], ref, atol=1e-4, rtol=1e-4)
    assert (outputs["coarse"] - ref).abs().max() > 0.1


def test_counts_follow_the_partition_by_hand():
    """8 → 16 channels, 3×3, 32-row im2col: 72 rows in 3 subarrays; 4-bit weights in 2-bit
    cells: 32 columns, one column block. Per image and bit plane (4) and position (6×6):
    3·32 ADC reads of weight columns, plus 3 of reference columns."""
    torch.manual_seed(0)
    layer = QuantSpec(method="mwma", w_bits=4, act_bits=4).conv2d(8, 16, 3, padding=1)
    _tiled(layer, 8, 3, 1, 32, "im2col", ADC(3), cell_bits=2, reference=True,
           reference_adc=ADC(3))
    for native in (True, False):
        layer.cim.native = native
        _calibrated(layer, torch.randn(2, 8, 6, 6))(torch.randn(5, 8, 6, 6))
        assert layer.cim.counts == {"subarrays": 3, "adc_reads": (3 * 32 + 3) * 4 * 36,
                                    "weight_cells": 16 * 2 * 72, "input_vectors": 36}


def test_differential_counts_twice_the_columns_and_no_reference_by_hand():
    """The same layer differentially: 16 outputs × 2 slices × 2 signs = 64 columns, two column
    blocks of 32 in each of the 3 row blocks (6 subarrays), no reference column."""
    torch.manual_seed(0)
    layer = QuantSpec(method="mwma", w_bits=4, act_bits=4).conv2d(8, 16, 3, padding=1)
    _tiled(layer, 8, 3, 1, 32, "im2col", ADC(3), cell_bits=2, coding="differential")
    for native in (True, False):
        layer.cim.native = native
        _calibrated(layer, torch.randn(2, 8, 6, 6))(torch.randn(5, 8, 6, 6))
        assert layer.cim.counts == {"subarrays": 6, "adc_reads": 3 * 64 * 4 * 36,
                                    "weight_cells": 16 * 4 * 72, "input_vectors": 36}


def test_a_differential_crossbar_refuses_a_reference_column():
    """Differential cells have no offset term: a reference column would be counted but never
    read (attach asks layers_prep.has_reference_column; a direct caller is told)."""
    layer = QuantSpec(method="mwma", w_bits=4, act_bits=4).conv2d(8, 16, 3, padding=1)
    _tiled(layer, 8, 3, 1, 32, "im2col", ADC(3), reference=True, coding="differential")
    with pytest.raises(ValueError, match="no offset term for a reference column"):
        layer(torch.randn(2, 8, 6, 6))
    binary = QuantSpec(method="bwma", w_bits=1, act_bits=4).conv2d(8, 16, 3, padding=1)
    _tiled(binary, 8, 3, 1, 32, "im2col", ADC(3), reference=True, coding="differential")
    assert binary(torch.randn(2, 8, 6, 6)).shape == (2, 16, 6, 6)   # binary: offset-coded


def test_training_with_variation_draws_new_cells_each_step_and_evaluates_without():
    torch.manual_seed(0)
    layer = QuantSpec(method="bwma", w_bits=1, act_bits=4).conv2d(8, 16, 3, padding=1)
    x = torch.randn(2, 8, 6, 6)
    ideal = _calibrated(layer, x)(x)
    _tiled(layer, 8, 3, 1, 32, "novel")
    layer.cim.train_variation_sigma = 0.3
    layer.train()
    first, second = layer(x), layer(x)
    assert not torch.allclose(first, second) and not torch.allclose(first, ideal)
    layer.eval()
    torch.testing.assert_close(layer(x), ideal, atol=1e-4, rtol=1e-4)


def test_training_adc_statistics_come_from_the_first_images(monkeypatch):
    """The popcount read's training batch takes its ADC range from its first images' partial
    sums, as few as give STAT_SAMPLES of them (here one image: 9 subarrays × 4 planes × 16
    columns × 36). (The op-by-op read hands the ADC all of them: a strided subsample.)"""
    adc_grad = "ste"
    monkeypatch.setattr(crossbar_module, "STAT_SAMPLES", 9 * 4 * 16 * 36)
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


def test_a_range_that_reads_no_batch_costs_no_partial_sums(monkeypatch):
    """Statistics are read where a range takes them (a calibrated ADC in training, any range
    before it starts); a started learnable range or CIMQ clip, and every stored range in
    evaluation, read none. A layer-wide range takes them from an even subset of columns."""
    from bwma_exp.quant.cimq.quantizers import ReparamClipADC
    from bwma_exp.quant.columnquant.quantizers import ColumnADC

    calibrated, learnable, clip = ADC(3), ADC(3, "learnable"), ReparamClipADC(3)
    for adc in (calibrated, learnable, clip):
        assert adc.reads_batch()                       # not started: in training or not
        adc.grid(torch.randn(100))                     # starts it
    assert calibrated.reads_batch() and not learnable.reads_batch() and not clip.reads_batch()
    calibrated.eval()
    assert not calibrated.reads_batch()
    assert ColumnADC((1, 2, 3), 3).per_column and not calibrated.per_column

    read = []
    original = Crossbar._partial_sums
    monkeypatch.setattr(Crossbar, "_partial_sums",
                        lambda self, layer, planes, values, groups: read.append(values.shape[0])
                        or original(self, layer, planes, values, groups))
    monkeypatch.setattr(crossbar_module, "STAT_SAMPLES", 9 * 4 * 4 * 36)
    torch.manual_seed(0)
    layer = QuantSpec(method="bwma", w_bits=1, act_bits=4).conv2d(8, 16, 3, padding=1)
    x = torch.randn(6, 8, 6, 6)
    _calibrated(layer, x)
    layer.cim = Crossbar(72, 32, "novel", (3, 3), ADC(3), True)
    layer.train()
    with torch.no_grad():
        layer(x)
    assert read == [4]                  # 4 of the 16 columns of the first image: 9·4·4·36
    read.clear()
    layer.eval()
    with torch.no_grad():
        layer(x)
    assert read == []


def test_learnable_range_gradient_from_a_subset_of_images_and_outputs_is_the_whole(monkeypatch):
    """A learnable ADC range's gradient comes from the first images and, where those give more
    than STAT_SAMPLES partial sums, every stride-th output, scaled up. With every image and
    every output alike (and the loss their plain sum) the estimate is the whole read's."""
    torch.manual_seed(0)
    layer = QuantSpec(method="bwma", w_bits=1, act_bits=4).conv2d(8, 16, 3, padding=1)
    with torch.no_grad():
        layer.weight.copy_(layer.weight[:1].expand_as(layer.weight))
    x = torch.randn(1, 8, 6, 6).expand(6, -1, -1, -1).contiguous()
    _calibrated(layer, x)
    grads = {}
    for samples in (10**9, 9 * 4 * 4 * 36):   # everything; one image and 4 of 16 outputs
        monkeypatch.setattr(crossbar_module, "STAT_SAMPLES", samples)
        adc = ADC(3, "learnable")
        layer.cim = Crossbar(72, 32, "novel", (3, 3), adc, True)
        layer.train()
        adc.grid(torch.linspace(-2, 10, 1000))     # start the range before the read
        layer(x).sum().backward()
        grads[samples] = torch.stack([adc.lo.grad, adc.hi.grad])
    assert grads[10**9].abs().sum() > 0
    torch.testing.assert_close(grads[9 * 4 * 4 * 36], grads[10**9], rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("native", [True, False])
def test_integer_partial_sums_read_exactly_where_the_levels_span_them(native):
    """The crossbar's sums are integers: a calibrated ADC's step is a whole number of unit
    currents (>= 1) and lo a multiple of it. 8-row subarrays (novel mapping, 8 channels) give
    sums 0..8, which a 4-bit ADC's 16 levels span: the W4 tiled layer is the plain one, with
    or without the reference column (its sums are 0..8 too)."""
    torch.manual_seed(0)
    layer = QuantSpec(method="mwma", w_bits=4, act_bits=4).conv2d(8, 6, 3, padding=1)
    x = torch.relu(torch.randn(4, 8, 6, 6))
    ref = _calibrated(layer, x)(x)
    for reference in (False, True):
        layer.cim = Crossbar(72, 32, "novel", (3, 3), ADC(4), True, cell_bits=1,
                             reference_column=reference, reference_adc=ADC(4))
        layer.cim.native = native
        layer.train()
        with torch.no_grad():
            layer(x)
        layer.eval()
        lo, hi, step = layer.cim.adc.grid(torch.empty(0))
        assert float(step) >= 1 and float(step) == round(float(step))
        assert float(lo) % float(step) == 0 and float(hi - lo) == float(step) * 15
        with torch.no_grad():
            torch.testing.assert_close(layer(x), ref, atol=1e-4, rtol=1e-4)
    layer.cim.adc.integer_sums = False    # a real-valued read keeps the fractional step
    assert float(layer.cim.adc.grid(torch.empty(0))[2]) < 1
