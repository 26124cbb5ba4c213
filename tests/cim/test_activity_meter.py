"""The activity meter counts, by hand: the 1s of each input bit plane of a layer's integer
activation codes, and the share of its weight cells that are on (offset coding, bit slices)."""
import torch

from bwma_exp.cim.activity import ActivityMeter, weight_on_fraction
from bwma_exp.quant import QuantSpec


def _net(method: str, w_bits: int, act_bits: int) -> torch.nn.Module:
    spec = QuantSpec(method=method, w_bits=w_bits, act_bits=act_bits)
    return torch.nn.Sequential(spec.conv2d(2, 4, 1))


def test_input_bit_planes_count_the_codes_bits():
    """DoReFa 4-bit codes round(15·x): 3 = 0011 on the 18 elements of one image, 12 = 1100 on
    the other's, then a second batch of code 1 = 0001: plane 0 is on in 36 of the 54 codes,
    the others in 18; the batches add up."""
    net = _net("columnquant", 2, 4).eval()
    x = torch.stack([torch.full((2, 3, 3), 3 / 15), torch.full((2, 3, 3), 12 / 15)])
    with ActivityMeter(net) as meter, torch.no_grad():
        net(x)
        net(torch.full((1, 2, 3, 3), 1 / 15))      # code 1 = 0001: 18 more codes
    entry = meter.result()["0"]
    assert entry["input_bit_density"] == [36 / 54, 18 / 54, 18 / 54, 18 / 54]
    assert abs(entry["input_density"] - 90 / 216) < 1e-12
    net(x)   # detached: counts no more
    assert meter.result()["0"]["input_bit_density"] == [36 / 54, 18 / 54, 18 / 54, 18 / 54]


def test_binary_weights_are_on_where_they_take_the_upper_value():
    """bwba's ±α: 3 of 8 weights positive in every output channel -> 3/8 of the cells on (a
    channel whose weights are all one value stores them as off cells and its offset)."""
    spec = QuantSpec(method="bwba", w_bits=1, act_bits=1)
    layer = spec.conv2d(8, 4, 1).eval()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([1.0] * 3 + [-1.0] * 5).repeat(4, 1).reshape(4, 8, 1, 1))
    assert weight_on_fraction(layer, 1) == 3 / 8
    with torch.no_grad():
        layer.weight.fill_(1.0)
    assert weight_on_fraction(layer, 1) == 0.0


def test_multi_bit_cells_count_their_level_fraction():
    """2-bit LSQ weights k·s, k in {-2..1}, stored as u = k + 2: u = 3 everywhere is all cells
    on; u = 1 (k = -1) is one of two 1-bit slices on, or a 2-bit cell at level 1 of 3."""
    net = _net("mwma", 2, 4).eval()
    layer = net[0]
    q = layer.weight_quantizer
    with torch.no_grad():
        q.step.fill_(0.5)
        q.initialized.fill_(True)
        layer.weight.fill_(0.5)       # k = 1, u = 3
        assert weight_on_fraction(layer, 1) == 1.0
        assert weight_on_fraction(layer, 2) == 1.0
        layer.weight.fill_(-0.5)      # k = -1, u = 1 = 01
        assert weight_on_fraction(layer, 1) == 0.5
        assert abs(weight_on_fraction(layer, 2) - 1 / 3) < 1e-7


def test_full_precision_layers_are_not_measured():
    spec = QuantSpec(method="mwma", w_bits=4, act_bits=4)
    net = torch.nn.Sequential(spec.conv2d(2, 4, 1, full_precision=True), spec.conv2d(4, 4, 1))
    net.eval()
    with ActivityMeter(net) as meter, torch.no_grad():
        net(torch.rand(2, 2, 3, 3))
    assert set(meter.result()) == {"1"}
