"""The quantizer contract: every method's quantizers are contract objects, the model-level
helpers reach them only through its hooks, and quant depends on no other domain package."""
import subprocess
import sys

import pytest
import torch
from torch import nn

from bwma_exp.quant import (
    METHODS,
    ActivationQuantizer,
    QConv2d,
    QuantSpec,
    WeightQuantizer,
    clip_latent_weights,
    has_latent_clip,
    regularization_loss,
    set_training_progress,
)

BITS = {"bwma": (1, 4), "bwba": (1, 1), "mwma": (4, 4), "origin": (1, 1), "fp": (32, 32),
        "columnquant": (4, 4), "cimq": (4, 4)}


def _spec(method: str, **options) -> QuantSpec:
    w, a = BITS[method]
    return QuantSpec(method, w_bits=w, act_bits=a, options=options)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_builds_contract_quantizers(method):
    options = {"variant": "bmxnet"} if method == "origin" else {}
    conv = _spec(method, **options).conv2d(4, 8, 3)
    assert isinstance(conv.weight_quantizer, WeightQuantizer)
    assert isinstance(conv.act_quantizer, ActivationQuantizer)


def test_a_layer_refuses_quantizers_outside_the_contract():
    with pytest.raises(TypeError, match="WeightQuantizer"):
        QConv2d(2, 2, 1, weight_quantizer=nn.Identity(), full_precision=False)


def test_progress_reaches_every_quantizer_and_moves_bwma_temperature():
    net = nn.Sequential(_spec("bwma").conv2d(2, 4, 3), _spec("bwma").conv2d(4, 4, 3))
    assert set_training_progress(net, 5, 10) == 4          # two weight + two act quantizers
    assert net[0].weight_quantizer.temperature == pytest.approx(1.0)   # 10^(-1 + 2·5/10)


def test_regularization_loss_is_cimqs_bit_sparsity_only():
    x = torch.rand(2, 4, 6, 6)
    plain = nn.Sequential(_spec("bwma").conv2d(4, 4, 3)).train()
    plain(x)
    assert regularization_loss(plain) == 0
    cimq = nn.Sequential(_spec("cimq", bit_sparsity_lambda=0.5).conv2d(4, 4, 3)).train()
    cimq(x)
    term = regularization_loss(cimq)
    assert torch.is_tensor(term) and term.item() > 0
    assert regularization_loss(cimq) == 0                  # read once


def test_latent_clip_clamps_bmxnet_weights_only():
    bmx = _spec("origin", variant="bmxnet").conv2d(2, 2, 1)
    bwma = _spec("bwma").conv2d(2, 2, 1)
    for layer in (bmx, bwma):
        with torch.no_grad():
            layer.weight.fill_(2.0)
    net = nn.Sequential(bmx, bwma)
    assert has_latent_clip(net) and not has_latent_clip(nn.Sequential(bwma))
    clip_latent_weights(net)
    assert torch.all(bmx.weight == 1.3) and torch.all(bwma.weight == 2.0)


def test_quant_imports_no_other_domain_package():
    code = ("import sys, bwma_exp.quant; "
            "print(sorted({m.split('.')[1] for m in sys.modules "
            "if m.startswith('bwma_exp.') and m.count('.') >= 1}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert eval(out) == ["quant", "utils"]
