"""CIFAR-size zoo: resnet20, resnet18 (CIFAR and ImageNet stems) and vgg8."""
import pytest
import torch
from torch import nn

from bwma_exp.models import build_model
from bwma_exp.quant import METHODS, QConv2d, QLinear, QuantSpec
from bwma_exp.quant.contract import IdentityActivation, IdentityWeight
from bwma_exp.utils.errors import ConfigError


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def quant_layers(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, (QConv2d, QLinear))]


@pytest.fixture
def identity_method(monkeypatch):
    """A throw-away non-fp method, so FP marking is testable without any real quantizer."""
    monkeypatch.setitem(METHODS, "identity_test", lambda spec, kind, out: (IdentityWeight(),
                                                                             IdentityActivation()))
    return QuantSpec("identity_test", w_bits=1, act_bits=4)


@pytest.mark.parametrize("name, kwargs, image_size, classes, expected", [
    ("resnet20", {}, 32, 10, 269_722),
    ("resnet20", {"bn_before_fc": True}, 32, 10, 269_850),
    ("resnet18", {}, 32, 10, 11_173_962),
    ("resnet18", {"bn_before_fc": True}, 32, 10, 11_174_986),
    ("resnet18", {}, 224, 1000, 11_689_512),
    ("vgg8", {}, 32, 10, 12_978_058),                      # 4,574,592 conv + 3,584 BN + FCs
    ("vgg8", {"batch_norm": False}, 32, 10, 12_976_266),   # NeuroSim: biased convs, no BN
])
def test_exact_parameter_counts(name, kwargs, image_size, classes, expected):
    assert n_params(build_model(name, QuantSpec(), classes, image_size, **kwargs)) == expected


@pytest.mark.parametrize("name", ["resnet20", "resnet18", "vgg8"])
def test_cifar_output_shape(name):
    model = build_model(name, QuantSpec(), num_classes=10, image_size=32)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_resnet18_imagenet_output_shape():
    model = build_model("resnet18", QuantSpec(), num_classes=1000, image_size=224).eval()
    assert model.stem[0].kernel_size == (7, 7)
    with torch.no_grad():
        assert model(torch.randn(1, 3, 224, 224)).shape == (1, 1000)


def test_resnet18_stem_follows_image_size():
    assert build_model("resnet18", QuantSpec(), 10, 64).stem[0].kernel_size == (3, 3)
    assert build_model("resnet18", QuantSpec(), 10, 65).stem[0].kernel_size == (7, 7)


def test_vgg8_flatten_follows_image_size():
    assert build_model("vgg8", QuantSpec(), 10, 32).classifier[0].in_features == 8192
    model = build_model("vgg8", QuantSpec(), 10, 20, in_channels=1)
    assert model.classifier[0].in_features == 512 * 2 * 2
    assert model(torch.randn(2, 1, 20, 20)).shape == (2, 10)


def test_in_channels_and_classes_are_honoured():
    model = build_model("resnet20", QuantSpec(), num_classes=7, image_size=12, in_channels=1)
    assert model.stem[0].in_channels == 1
    assert model(torch.randn(2, 1, 12, 12)).shape == (2, 7)


# (name, image_size, kwargs) -> FP flags of the QConv2d/QLinear layers in module order
FP_LAYOUT = {
    "resnet20": (32, {}, [True] + [False] * 18 + [True]),
    # per stage: block1 conv1, conv2, [shortcut], block2 conv1, conv2
    "resnet18": (32, {}, [True] + [False] * 4 + ([False, False, True, False, False] * 3)
                 + [True]),
    "vgg8": (32, {}, [True] + [False] * 5 + [False, True]),
}


@pytest.mark.parametrize("name", sorted(FP_LAYOUT))
def test_first_last_and_shortcuts_are_full_precision(name, identity_method):
    image_size, kwargs, expected = FP_LAYOUT[name]
    layers = quant_layers(build_model(name, identity_method, 10, image_size, **kwargs))
    assert [m.full_precision for m in layers] == expected
    assert all(m.method == "identity_test" and (m.w_bits, m.act_bits) == (1, 4)
               for m in layers if not m.full_precision)
    assert all(m.method == "fp" and (m.w_bits, m.act_bits) == (32, 32)
               for m in layers if m.full_precision)


def test_layer_counts_and_fp_options(identity_method):
    def fp_flags(name, spec, **kwargs):
        return [m.full_precision for m in quant_layers(build_model(name, spec, 10, 32, **kwargs))]

    assert fp_flags("resnet18", identity_method, fp_shortcut=False) == [True] + [False] * 19 + [True]
    imagenet = quant_layers(build_model("resnet18", identity_method, 1000, 224))
    assert [type(m).__name__ for m in imagenet].count("QConv2d") == 20
    assert sum(m.full_precision for m in imagenet) == 5  # stem, 3 shortcuts, fc
    all_quant = QuantSpec("identity_test", w_bits=1, act_bits=4, fp_first=False, fp_last=False)
    assert not any(fp_flags("resnet20", all_quant))
    assert not any(fp_flags("vgg8", all_quant))


def test_fp_spec_keeps_every_layer_full_precision():
    layers = quant_layers(build_model("resnet20", QuantSpec(), 10, 32))
    assert len(layers) == 20
    assert all(m.full_precision and m.method == "fp" for m in layers)


@pytest.mark.parametrize("name, image_size, kwargs", [
    ("resnet20", 16, {"bn_before_fc": True}),
    ("resnet18", 16, {"bn_before_fc": True}),
    ("resnet18", 72, {}),
    ("vgg8", 16, {}),
    ("vgg8", 16, {"batch_norm": False}),
])
def test_backward_reaches_every_parameter(name, image_size, kwargs):
    torch.manual_seed(0)
    model = build_model(name, QuantSpec(), 10, image_size, **kwargs)
    model(torch.randn(2, 3, image_size, image_size)).square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert missing == []


def test_bwma_layers_build_and_train():
    if "bwma" not in METHODS:
        pytest.skip("the bwma method is not registered yet")
    spec = QuantSpec("bwma", w_bits=1, act_bits=4)
    for name in ("resnet20", "resnet18", "vgg8"):
        model = build_model(name, spec, 10, 16)
        layers = quant_layers(model)
        assert layers[0].full_precision and layers[-1].full_precision
        assert all(m.method == "bwma" and (m.w_bits, m.act_bits) == (1, 4)
                   for m in layers if not m.full_precision)
        out = model(torch.randn(2, 3, 16, 16))
        assert out.shape == (2, 10)
        out.square().mean().backward()
        assert layers[1].weight.grad is not None


def test_unknown_model_lists_known_names():
    with pytest.raises(ConfigError, match=r"model='resnet21'.*resnet18, resnet20.*vgg8"):
        build_model("resnet21", QuantSpec(), 10, 32)


@pytest.mark.parametrize("name, kwargs, key, allowed", [
    ("resnet20", {"bn_befor_fc": True}, "model.bn_befor_fc", "bn_before_fc"),
    ("resnet18", {"batch_norm": True}, "model.batch_norm", "bn_before_fc, fp_shortcut"),
    ("vgg8", {"bn_before_fc": True}, "model.bn_before_fc", "batch_norm"),
    ("vgg8", {"batch_norm": "yes"}, "model.batch_norm", "true or false"),
])
def test_bad_kwarg_names_key_and_allowed(name, kwargs, key, allowed):
    with pytest.raises(ConfigError) as err:
        build_model(name, QuantSpec(), 10, 32, **kwargs)
    assert (err.value.key, err.value.allowed) == (key, allowed)


def test_vgg8_rejects_inputs_smaller_than_its_pooling():
    with pytest.raises(ConfigError, match=r"dataset.image_size=4 .*at least 8"):
        build_model("vgg8", QuantSpec(), 10, 4)
