"""quant=origin: ReActNet's and BMXNet's binarizations, forward values and gradients by hand."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from bwma_exp.quant import QuantSpec, clip_latent_weights
from bwma_exp.quant.origin import BiRealSign, ChannelScaledSign, ClippedSign
from bwma_exp.utils.errors import ConfigError

X = [-1.5, -0.5, 0.0, 0.25, 1.2, 1.4]


def _value_and_grad(module: nn.Module, values):
    x = torch.tensor(values, requires_grad=True)
    y = module(x)
    y.sum().backward()
    return y.tolist(), x.grad.tolist()


def test_bireal_sign():
    y, g = _value_and_grad(BiRealSign(), X)
    assert y == [-1, -1, 1, 1, 1, 1]
    assert g == [0, 1.0, 2.0, 1.5, 0, 0]  # 2 - 2|x| inside (-1, 1)


def test_clipped_sign():
    y, g = _value_and_grad(ClippedSign(), X)
    assert y == [-1, -1, 1, 1, 1, 1]
    assert g == [0, 1, 1, 1, 1, 0]        # straight through on |x| <= 1.3


def test_channel_scaled_sign():
    w = torch.tensor([[1.0, -3.0], [-0.5, 0.25]], requires_grad=True)
    y = ChannelScaledSign()(w)
    assert y.tolist() == [[2.0, -2.0], [-0.375, 0.375]]   # mean|W| per output channel
    y.sum().backward()
    assert w.grad.tolist() == [[1, 0], [1, 1]]            # straight through on |W| <= 1


def test_variant_and_bits_are_checked():
    with pytest.raises(ConfigError, match="quant.options.variant"):
        QuantSpec("origin", w_bits=1, act_bits=1).conv2d(4, 4, 3)
    with pytest.raises(ConfigError, match="act_bits"):
        QuantSpec("origin", w_bits=1, act_bits=4, options={"variant": "bmxnet"}).conv2d(4, 4, 3)


def test_real_weights_binary_activations():
    # ReActNet's first training step: binary activations, real weights
    conv = QuantSpec("origin", w_bits=32, act_bits=1, options={"variant": "reactnet"}).conv2d(4, 4, 3)
    assert isinstance(conv.weight_quantizer, nn.Identity)
    assert isinstance(conv.act_quantizer, BiRealSign)
    assert (conv.w_bits, conv.act_bits) == (32, 1)


def test_clip_latent_weights_only_touches_bmxnet_layers():
    bmxnet = QuantSpec("origin", w_bits=1, act_bits=1, options={"variant": "bmxnet"}).conv2d(2, 2, 1)
    reactnet = QuantSpec("origin", w_bits=1, act_bits=1, options={"variant": "reactnet"}).conv2d(2, 2, 1)
    with torch.no_grad():
        bmxnet.weight.fill_(2.0)
        reactnet.weight.fill_(2.0)
    clip_latent_weights(nn.Sequential(bmxnet, reactnet))
    assert bmxnet.weight.max().item() == pytest.approx(1.3)
    assert reactnet.weight.max().item() == 2.0
