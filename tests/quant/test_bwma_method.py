"""quant=bwma through QuantSpec: quantizers, options, bit checks, the IR-Net schedule."""
import math

import pytest
import torch
from torch import nn

from bwma_exp.quant import ActQuantizer, BWMAWeightQuantizer, QuantSpec, set_training_progress
from bwma_exp.quant.bwma import irnet_schedule
from bwma_exp.utils.errors import ConfigError


def test_bwma_layers_binarize_weights_and_quantize_inputs():
    spec = QuantSpec("bwma", w_bits=1, act_bits=3, options={"kernels": "eager"})
    conv = spec.conv2d(2, 4, 3, padding=1)
    assert isinstance(conv.weight_quantizer, BWMAWeightQuantizer)
    assert isinstance(conv.act_quantizer, ActQuantizer) and conv.act_quantizer.bits == 3
    assert (conv.w_bits, conv.act_bits, conv.method) == (1, 3, "bwma")
    assert conv.quantized_weight().unique().numel() == 2
    conv(torch.rand(2, 2, 5, 5)).sum().backward()
    assert conv.weight.grad.abs().sum() > 0


def test_options_reach_the_quantizers():
    options = {"split": "mean", "schedule": "fixed", "alpha": 2.0, "temperature": 3.0,
               "surrogate_width": 0.5, "momentum": 0.2, "learnable_clip": True,
               "kernels": "eager"}
    linear = QuantSpec("bwma", w_bits=1, act_bits=4, options=options).linear(4, 2)
    wq, aq = linear.weight_quantizer, linear.act_quantizer
    assert (wq.split, wq.schedule, wq.alpha, wq.temperature) == ("mean", "fixed", 2.0, 3.0)
    assert (aq.surrogate_width, aq.momentum, aq.learnable_clip) == (0.5, 0.2, True)


def test_full_precision_activations_with_32_act_bits():
    conv = QuantSpec("bwma", w_bits=1, act_bits=32).conv2d(2, 2, 1)
    assert isinstance(conv.act_quantizer, nn.Identity) and conv.act_bits == 32


def test_multi_bit_weights_are_refused():
    with pytest.raises(ConfigError) as err:
        QuantSpec("bwma", w_bits=2, act_bits=4).conv2d(2, 2, 3)
    assert err.value.key == "w_bits"
    assert "use quant=mwma for multi-bit weights" in str(err.value)


@pytest.mark.parametrize("act_bits", [0, 17, 31])
def test_unsupported_act_bits_are_refused(act_bits):
    with pytest.raises(ConfigError) as err:
        QuantSpec("bwma", w_bits=1, act_bits=act_bits).conv2d(2, 2, 3)
    assert err.value.key == "act_bits"


@pytest.mark.parametrize("options, key", [
    ({"splt": "median"}, "quant.options.splt"),
    ({"split": "mode"}, "quant.options.split"),
    ({"schedule": "cosine"}, "quant.options.schedule"),
    ({"alpha": 0}, "quant.options.alpha"),
    ({"temperature": True}, "quant.options.temperature"),
    ({"momentum": 1.5}, "quant.options.momentum"),
    ({"learnable_clip": "yes"}, "quant.options.learnable_clip"),
])
def test_bad_options_name_the_key(options, key):
    with pytest.raises(ConfigError) as err:
        QuantSpec("bwma", w_bits=1, act_bits=4, options=options).conv2d(2, 2, 3)
    assert err.value.key == key


def test_irnet_schedule_values():
    assert irnet_schedule(0, 10) == (0.1, 1.0)
    t, alpha = irnet_schedule(5, 10)
    assert t == pytest.approx(1.0) and alpha == pytest.approx(1.0)
    t, alpha = irnet_schedule(9, 10)
    assert t == pytest.approx(10 ** 0.8) and alpha == t
    with pytest.raises(ConfigError):
        irnet_schedule(0, 0)


def test_set_progress_follows_irnet_and_leaves_fixed_alone():
    scheduled = BWMAWeightQuantizer()
    fixed = BWMAWeightQuantizer(schedule="fixed", alpha=2.0, temperature=3.0)
    assert (scheduled.temperature, scheduled.alpha) == (0.1, 1.0)
    model = nn.Sequential(scheduled, nn.Sequential(fixed), nn.ReLU())
    assert set_training_progress(model, 3, 4) == 2
    assert scheduled.temperature == pytest.approx(10 ** 0.5)
    assert scheduled.alpha == scheduled.temperature
    assert (fixed.temperature, fixed.alpha) == (3.0, 2.0)


def test_scheduled_gradient_uses_the_current_temperature():
    wq = BWMAWeightQuantizer()
    wq.set_progress(3, 4)  # t = 10^0.5, α = t
    w = torch.tensor([0.2, -0.4], requires_grad=True)
    wq(w).sum().backward()
    t = 10 ** 0.5
    expected = [t * (1 - math.tanh(t * x) ** 2) for x in (0.2, -0.4)]
    torch.testing.assert_close(w.grad, torch.tensor(expected))
