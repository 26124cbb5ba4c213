"""OPs/params counter: hand counts on tiny models, an independent formula for real models at a
second input size, and Table II's published OPs at 224x224."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from bwma_exp.models import build_model
from bwma_exp.models.counter import count_ops
from bwma_exp.quant import BWMAWeightQuantizer, QConv2d, QuantSpec


def qconv(cin, cout, k, *, w_bits=1, act_bits=1, method="origin", **kw):
    # BWMA's offset c·Σx is a property of its weight quantizer (the contract's digital_offset)
    weights = BWMAWeightQuantizer() if method == "bwma" else None
    return QConv2d(cin, cout, k, w_bits=w_bits, act_bits=act_bits, full_precision=False,
                   method=method, weight_quantizer=weights, **kw)


def tiny(first: nn.Module) -> nn.Sequential:
    return nn.Sequential(first, nn.BatchNorm2d(8), nn.Conv2d(8, 16, 1, stride=2), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 3))


def test_binary_conv_counts_bops_and_fp_layers_flops():
    counts = count_ops(tiny(qconv(4, 8, 3, padding=1)), (4, 10, 10))
    # binary 3x3: 10*10 outputs * 4*9 inputs * 8 channels; FP 1x1 stride 2: 5*5 * 8 * 16; FC 16*3
    assert counts["bops"] == 10 * 10 * 4 * 9 * 8 == 28800
    assert counts["flops"] == 5 * 5 * 8 * 16 + 16 * 3 == 3248
    assert counts["ops"] == 28800 / 64 + 3248
    # 288 conv weights, 16 BN, 8*16+16 conv, 16*3+3 linear
    assert counts["params"] == 288 + 16 + 144 + 51
    assert counts["extra_bops_bwma"] == counts["extra_flops_bwma"] == 0


def test_grouped_strided_conv_macs():
    counts = count_ops(tiny(qconv(4, 8, 3, padding=1, stride=2, groups=2)), (4, 10, 10))
    # 5*5 outputs, 2 input channels per group, 8 output channels; the FP 1x1 now sees 5x5 -> 3x3
    assert counts["bops"] == 5 * 5 * 2 * 9 * 8
    assert counts["flops"] == 3 * 3 * 8 * 16 + 16 * 3


@pytest.mark.parametrize("layer, bops", [
    (qconv(4, 8, 3, padding=1, act_bits=4), 28800 * 4),   # W1/A4: 4 BOPs per MAC
    (qconv(4, 8, 3, padding=1, w_bits=2), 28800 * 2),     # W2/A1
    (qconv(4, 8, 3, padding=1, w_bits=4, act_bits=3), 28800 * 12),
])
def test_multi_bit_macs_count_w_bits_times_act_bits_bops(layer, bops):
    # Baskin et al.: a b_w x b_a MAC is b_w*b_a binary operations; the FP layers stay FLOPs
    counts = count_ops(tiny(layer), (4, 10, 10))
    assert counts["bops"] == bops
    assert counts["flops"] == 3248
    assert counts["ops"] == bops / 64 + 3248


@pytest.mark.parametrize("layer", [
    QConv2d(4, 8, 3, padding=1, w_bits=1, act_bits=1, full_precision=True),
    qconv(4, 8, 3, padding=1, w_bits=1, act_bits=32),     # BWMA W1/A32: real activations
    qconv(4, 8, 3, padding=1, w_bits=32, act_bits=1),     # ReActNet step 1: real weights
])
def test_layers_with_a_real_side_are_flops(layer):
    counts = count_ops(tiny(layer), (4, 10, 10))
    assert counts["bops"] == 0
    assert counts["flops"] == 28800 + 3248


def test_bwma_offset_costs():
    counts = count_ops(tiny(qconv(4, 8, 3, padding=1, method="bwma")), (4, 10, 10))
    # sum(x) over each 4*3*3 window (one all-ones column), one offset MAC per output element
    assert counts["extra_bops_bwma"] == 10 * 10 * 36
    assert counts["extra_flops_bwma"] == 10 * 10 * 8
    assert counts["bops"] == 28800 + 3600
    assert counts["flops"] == 3248 + 800
    assert counts["ops"] == (28800 + 3600) / 64 + 3248 + 800


def test_training_modes_restored():
    model = tiny(qconv(4, 8, 3, padding=1))
    model.train()
    model[1].eval()
    count_ops(model, (4, 10, 10))
    assert model.training and not model[1].training and model[0].training


def _dense_family_counts(size, classes, blocks, widths_after, improvement):
    """Independent count of BDenseNet/MeliusNet with the grouped stem: stem convs, then per
    stage 3x3 binary convs producing 64 channels, then FP transitions (after a 2x2 max-pool)."""
    s = (size + 1) // 2                             # stem conv stride 2, padding 1
    flops = s * s * (3 * 9 * 32 + 8 * 9 * 32 + 4 * 9 * 64)
    s = (s + 1) // 2                                # 3x3 stride-2 max-pool, padding 1
    bops, c = 0, 64
    for stage, n in enumerate(blocks):
        for _ in range(n):
            bops += s * s * 9 * 64 * c              # dense layer: c -> 64
            c += 64
            if improvement:
                bops += s * s * 9 * 64 * c          # improvement block: c -> 64
        if stage < len(widths_after):
            s //= 2
            flops += s * s * c * widths_after[stage]
            c = widths_after[stage]
    return bops, flops + c * classes


def _reactnet_counts(size, classes):
    s = (size + 1) // 2
    flops, bops = s * s * 27 * 32 + 1024 * classes, 0
    widths = [32, 64, 128, 128, 256, 256] + [512] * 6 + [1024] * 2
    for i in range(1, len(widths)):
        cin, cout = widths[i - 1], widths[i]
        if cout != cin and cin != 32:
            s = (s + 1) // 2
        bops += s * s * 9 * cin * cin + s * s * cin * cout   # 3x3 in->in, 1x1 in->out
    return bops, flops


@pytest.mark.parametrize("name, size, expected", [
    ("bdensenet28", 64, _dense_family_counts(64, 10, (6, 6, 6, 5), (160, 192, 256), False)),
    ("meliusnet22", 96, _dense_family_counts(96, 10, (4, 5, 4, 4), (160, 224, 256), True)),
    ("meliusnet29", 64, _dense_family_counts(64, 10, (4, 6, 8, 6), (128, 192, 256), True)),
    ("reactnet_a", 96, _reactnet_counts(96, 10)),
])
def test_real_models_match_independent_formula(name, size, expected):
    with torch.device("meta"):  # shapes only: counting needs no arithmetic
        model = build_model(name, QuantSpec("origin", w_bits=1, act_bits=1), 10, size)
    counts = count_ops(model, (3, size, size))
    assert (counts["bops"], counts["flops"]) == expected


def test_meta_count_equals_real_count():
    spec = QuantSpec("origin", w_bits=1, act_bits=1)
    real = count_ops(build_model("bdensenet28", spec, 10, 32), (3, 32, 32))
    with torch.device("meta"):
        meta = count_ops(build_model("bdensenet28", spec, 10, 32), (3, 32, 32))
    assert real == meta


# Table II, "Origin" rows (x 1e8, truncated to two decimals by the papers).
PUBLISHED_OPS = {"reactnet_a": 0.87e8, "bdensenet28": 2.09e8, "meliusnet22": 2.08e8,
                 "meliusnet29": 2.14e8}


@pytest.mark.parametrize("name", sorted(PUBLISHED_OPS))
def test_table2_ops_at_224(name):
    with torch.device("meta"):
        model = build_model(name, QuantSpec("origin", w_bits=1, act_bits=1), 1000, 224)
    ops = count_ops(model)["ops"]
    assert PUBLISHED_OPS[name] <= ops < PUBLISHED_OPS[name] + 0.01e8


def test_basic_stem_costs_more_than_grouped():
    with torch.device("meta"):
        grouped = count_ops(build_model("bdensenet28", QuantSpec(), 1000, 224))
        basic = count_ops(build_model("bdensenet28", QuantSpec(), 1000, 224, stem="basic"))
    # grouped: 112^2 * (3*9*32 + 8*9*32 + 4*9*64); basic: 112^2 * 3*49*64
    assert basic["flops"] - grouped["flops"] == 112 * 112 * (3 * 49 * 64 - 5472)
