"""Subarray counts and utilization, hand-computed, under both mappings."""
import pytest
from vgg8_layers import conv, linear, resnet20, vgg8

from bwma_exp.hardware import estimate
from bwma_exp.hardware.floorplan import plan_chip
from bwma_exp.hardware.layers_prep import prepare


def test_small_conv_im2col_and_novel(make_hw):
    layer = [conv("c", 8, 16, 16)]  # 3x3, 16 -> 16: a 144 x 16 im2col matrix
    im2col = estimate(layer, make_hw(size=32, mapping="im2col", reference_column=False))
    # ceil(144/32) = 5 row blocks x 1 column block; 144*16 / (5*1024) = 0.45
    assert im2col["layers"][0]["subarrays"] == 5
    assert im2col["utilization"] == pytest.approx(144 * 16 / (5 * 1024))
    novel = estimate(layer, make_hw(size=32, mapping="novel", reference_column=False))
    # one 16 x 16 matrix per kernel position: 9 subarrays, 2304 / 9216 = 0.25
    assert novel["layers"][0]["subarrays"] == 9
    assert novel["utilization"] == pytest.approx(0.25)
    assert novel["layers"][0]["mapping"] == "novel"


def test_multibit_weights_take_cells_and_reference_column_counted(make_hw):
    layer = [linear("fc", 64, 10, w_bits=4, act_bits=4)]
    digital = estimate(layer, make_hw(size=32))       # default: the offset is a digital count
    assert digital["layers"][0]["adc_reads"] == 2 * 40 * 4
    assert digital["utilization"] == pytest.approx(64 * 40 / (4 * 1024))
    r = estimate(layer, make_hw(size=32, reference_column=True))
    # 4 one-bit cells per weight: 64 x 40 cells -> 2 x 2 subarrays, each with one 32-cell
    # reference column (offset-coded weights), read once per input bit and vector
    assert r["layers"][0]["cols"] == 40 and r["layers"][0]["subarrays"] == 4
    assert r["utilization"] == pytest.approx(64 * 40 / (4 * 1024 + 4 * 32))
    assert r["layers"][0]["adc_reads"] == 2 * (40 + 2) * 4 and r["layers"][0]["weight_cells"] == 2560
    binary = estimate([linear("fc", 64, 10)], make_hw(size=32, reference_column=True))
    # binary: 64 x 10 in 2 subarrays, each with one 32-cell reference column
    assert binary["utilization"] == pytest.approx(640 / (2 * 1024 + 2 * 32))


@pytest.mark.parametrize("mapping,expected", [("auto", [0.2, 0.5, 1.0, 7.5]),
                                              ("im2col", [0.2, 0.5, 1.0, 3.9])])
def test_vgg8_unused_cells(make_hw, mapping, expected):
    got = [round(100 * (1 - estimate(vgg8(), make_hw(size=s, mapping=mapping,
                                                     reference_column=False))["utilization"]), 1)
           for s in (32, 64, 128, 256)]
    assert got == expected


@pytest.mark.parametrize("mapping,expected", [("auto", [15.2, 60.1, 90.0, 96.2]),
                                              ("im2col", [6.7, 33.2, 72.2, 88.6])])
def test_resnet20_unused_cells(make_hw, mapping, expected):
    got = [round(100 * (1 - estimate(resnet20(), make_hw(size=s, mapping=mapping,
                                                         reference_column=False))["utilization"]), 1)
           for s in (32, 64, 128, 256)]
    assert got == expected


def test_neurosim_floorplan_of_vgg8(make_hw):
    hw = make_hw(size=32, reference_column=False)
    prepared, _ = prepare(vgg8(), hw)
    plan = plan_chip(tuple(p.matrix for p in prepared), 32, "auto")
    assert (plan.pe_size_nm, plan.tile_size_cm, plan.pe_size_cm) == (128, 256, 128)
    assert [p.novel for p in plan.layers] == [False] + [True] * 5 + [False, False]
    assert plan.total_tiles == 164
    assert [p.speedup_row * p.speedup_col for p in plan.layers] == [16, 1, 1, 1, 1, 1, 1, 8]
    # NeuroSim V1.3 reports 98.2279 % memory utilization for this chip
    assert estimate(vgg8(), hw)["neurosim_utilization"] == pytest.approx(0.982279, abs=1e-6)


def test_grouped_conv_maps_each_group(make_hw):
    from bwma_exp.hardware import LayerSpec
    depthwise = LayerSpec(name="dw", kind="conv", in_h=8, in_w=8, c_in=32, c_out=32, k_h=3,
                          k_w=3, stride=1, padding=1, groups=32, out_h=8, out_w=8, w_bits=1,
                          act_bits=4)
    r = estimate([depthwise], make_hw(size=32, reference_column=False))
    # 32 groups, each a 9 x 1 matrix on its own subarray
    assert r["layers"][0]["subarrays"] == 32
    assert r["utilization"] == pytest.approx(9 / 1024)


def test_channel_grouped_reads_only_the_rows_its_kernels_use(make_hw):
    """3x3, 16 -> 16 at S = 128: channel-grouped subarrays hold 14 and 2 whole kernels (126 and
    18 rows), im2col 128 and 16 rows. Both read the same 144 rows in the same two subarrays, so
    the array and ADC energy agree; the spare rows of the channel-grouped floorplan cost none."""
    layer = [conv("c", 8, 16, 16)]
    grouped = estimate(layer, make_hw(size=128, mapping="channel_grouped", reference_column=False))
    im2col = estimate(layer, make_hw(size=128, mapping="im2col", reference_column=False))
    assert grouped["layers"][0]["mapping"] == "channel_grouped"
    assert grouped["layers"][0]["subarrays"] == im2col["layers"][0]["subarrays"] == 2
    for part in ("array", "adc"):
        assert grouped["breakdown"]["energy"][part] == pytest.approx(
            im2col["breakdown"]["energy"][part], rel=1e-9)
