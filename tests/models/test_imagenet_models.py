"""ReActNet-A, BinaryDenseNet28, MeliusNet22/29: shapes, gradients, layer layout, options."""
from __future__ import annotations

import pytest
import torch

from bwma_exp.models import build_model
from bwma_exp.models.counter import is_binary
from bwma_exp.quant import METHODS, QConv2d, QLinear, QuantSpec
from bwma_exp.quant.origin import BiRealSign, ChannelScaledSign, ClippedSign
from bwma_exp.utils.errors import ConfigError

MODELS = ["reactnet_a", "bdensenet28", "meliusnet22", "meliusnet29"]


def _specs():
    yield pytest.param(QuantSpec(), id="fp")
    yield pytest.param(QuantSpec("origin", w_bits=1, act_bits=1), id="origin")
    bwma = QuantSpec("bwma", w_bits=1, act_bits=1) if "bwma" in METHODS else None
    yield pytest.param(bwma, id="bwma",
                       marks=pytest.mark.skipif(bwma is None, reason="quant=bwma not registered"))


@pytest.mark.parametrize("spec", _specs())
@pytest.mark.parametrize("name", MODELS)
def test_forward_backward(name, spec):
    torch.manual_seed(0)
    model = build_model(name, spec, num_classes=7, image_size=32)
    out = model(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 7)
    out.square().mean().backward()
    convs = [m for m in model.modules() if isinstance(m, QConv2d)]
    assert all(m.weight.grad is not None and torch.isfinite(m.weight.grad).all() for m in convs)
    # the stem and the first conv after it both learn, so gradients cross the binary layers
    stem_convs = 1 if name == "reactnet_a" else 3
    assert convs[0].weight.grad.abs().sum() > 0
    assert convs[stem_convs].weight.grad.abs().sum() > 0


@pytest.mark.parametrize("name, size", [("reactnet_a", 48), ("meliusnet22", 40),
                                        ("bdensenet28", 33)])
def test_other_input_sizes_and_channels(name, size):
    # 48 px gives ReActNet an odd 3x3 map before its last stride-2 block
    model = build_model(name, QuantSpec("origin", w_bits=1, act_bits=1), num_classes=5,
                        image_size=size, in_channels=1).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 1, size, size)).shape == (1, 5)


# (binary convs, FP convs) counted from the architecture descriptions, plus one FP classifier.
LAYOUT = {"reactnet_a": (13 + 8 + 2 * 5, 1),      # 13 3x3; 8 single and 5 doubled 1x1 branches
          "bdensenet28": (6 + 6 + 6 + 5, 3 + 3),  # one conv per dense layer; stem 3, transitions 3
          "meliusnet22": (2 * 17, 3 + 3),         # dense layer + improvement block each
          "meliusnet29": (2 * 24, 3 + 3)}


@pytest.mark.parametrize("name", MODELS)
def test_binary_and_fp_layers(name):
    with torch.device("meta"):
        model = build_model(name, QuantSpec("origin", w_bits=1, act_bits=1), 1000, 224)
    convs = [m for m in model.modules() if isinstance(m, QConv2d)]
    linears = [m for m in model.modules() if isinstance(m, QLinear)]
    n_binary, n_fp = LAYOUT[name]
    assert sum(map(is_binary, convs)) == n_binary
    assert sum(m.full_precision for m in convs) == n_fp
    assert len(linears) == 1 and linears[0].full_precision and linears[0].out_features == 1000


@pytest.mark.parametrize("name, widths", [
    ("bdensenet28", [(448, 160), (544, 192), (576, 256), 576]),
    ("meliusnet22", [(320, 160), (480, 224), (480, 256), 512]),
    ("meliusnet29", [(320, 128), (512, 192), (704, 256), 640]),
])
def test_transition_widths(name, widths):
    with torch.device("meta"):
        model = build_model(name, QuantSpec(), 10, 224)
    transitions = [(m.in_channels, m.out_channels) for m in model.modules()
                   if isinstance(m, QConv2d) and m.kernel_size == (1, 1)]
    assert transitions == widths[:3]
    assert model.fc.in_features == widths[3]


def test_origin_picks_each_architecture_binarization():
    spec = QuantSpec("origin", w_bits=1, act_bits=1)
    with torch.device("meta"):
        reactnet = build_model("reactnet_a", spec, 10, 224)
        melius = build_model("meliusnet22", spec, 10, 224)
    conv = reactnet.blocks[0].conv3x3
    assert isinstance(conv.weight_quantizer, ChannelScaledSign)
    assert isinstance(conv.act_quantizer, BiRealSign)
    conv = melius.features[1].conv
    assert isinstance(conv.weight_quantizer, ClippedSign)
    assert isinstance(conv.act_quantizer, ClippedSign)


def test_fp_spec_keeps_reactnet_shifts():
    # RSign's bias is a module of its own, so every method sees the same architecture
    fp = build_model("reactnet_a", QuantSpec(), 10, 32)
    origin = build_model("reactnet_a", QuantSpec("origin", w_bits=1, act_bits=1), 10, 32)
    assert [n for n, _ in fp.named_parameters()] == [n for n, _ in origin.named_parameters()]


def test_stem_option_and_unknown_options():
    basic = build_model("meliusnet29", QuantSpec(), 10, 32, stem="basic")
    assert basic.features[0][0].kernel_size == (7, 7)
    with pytest.raises(ConfigError, match="model.stem"):
        build_model("bdensenet28", QuantSpec(), 10, 32, stem="deep")
    with pytest.raises(ConfigError, match="model.width"):
        build_model("meliusnet22", QuantSpec(), 10, 32, width=2)
    with pytest.raises(ConfigError, match="model.stem"):
        build_model("reactnet_a", QuantSpec(), 10, 32, stem="grouped")
    with pytest.raises(ConfigError, match="num_classes"):
        build_model("reactnet_a", QuantSpec(), 0, 32)
