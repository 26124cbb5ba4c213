"""init_from / teacher weights: all tensors or a one-line error, never a partial load."""
import pytest
import torch

from bwma_exp.models import build_model
from bwma_exp.quant import QuantSpec
from bwma_exp.utils.errors import ConfigError
from bwma_exp.utils.weights import load_weights_strict

STEP1 = QuantSpec("bwma", w_bits=32, act_bits=1, options={"kernels": "eager"})
STEP2 = QuantSpec("bwma", w_bits=1, act_bits=1, options={"kernels": "eager"})


def _resnet20(spec):
    torch.manual_seed(0)
    return build_model("resnet20", spec, num_classes=10, image_size=32)


def _trained_step1():
    """A step-1 model whose activation ranges were set by a forward pass (not the init values)."""
    net = _resnet20(STEP1).train()
    net(torch.randn(4, 3, 32, 32))
    return net


def _save_lightning(net, path, extra=None):
    state = {f"net.{k}": v for k, v in net.state_dict().items()}
    torch.save({"state_dict": {**state, **(extra or {})}, "epoch": 3}, path)
    return path


def test_lightning_checkpoint_of_step1_loads_into_step2_exactly(tmp_path):
    step1 = _trained_step1()
    _save_lightning(step1, tmp_path / "last.ckpt")
    torch.manual_seed(1)
    step2 = build_model("resnet20", STEP2, num_classes=10, image_size=32)
    load_weights_strict(step2, "init_from", str(tmp_path / "last.ckpt"))
    want, got = step1.state_dict(), step2.state_dict()
    assert set(want) == set(got)
    assert any("act_quantizer.a_max" in k for k in got)   # quantizer buffers are handed over
    for key in want:
        assert torch.equal(want[key], got[key]), key


def test_run_folder_means_its_last_checkpoint_and_plain_state_dicts_load(tmp_path):
    step1 = _trained_step1()
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    _save_lightning(step1, tmp_path / "run" / "checkpoints" / "last.ckpt")
    torch.save(step1.state_dict(), tmp_path / "plain.pt")
    for source in (tmp_path / "run", tmp_path / "plain.pt"):
        net = _resnet20(STEP2)
        assert load_weights_strict(net, "init_from", str(source)).is_file()
        assert torch.equal(net.state_dict()["head.fc.weight"], step1.state_dict()["head.fc.weight"])


@pytest.mark.parametrize("change, words", [
    ("extra", ["1 unexpected", "bogus.weight"]),
    ("missing", ["1 missing", "head.fc.bias"]),
    ("shape", ["1 shape", "head.fc.weight (5, 64) vs model (10, 64)"]),
])
def test_mismatched_checkpoint_is_one_error_and_leaves_the_model_untouched(tmp_path, change,
                                                                             words):
    state = _trained_step1().state_dict()
    if change == "extra":
        state["bogus.weight"] = torch.zeros(1)
    elif change == "missing":
        del state["head.fc.bias"]
    else:
        state["head.fc.weight"] = torch.zeros(5, 64)
    torch.save(state, tmp_path / "bad.pt")
    net = _resnet20(STEP2)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with pytest.raises(ConfigError) as err:
        load_weights_strict(net, "init_from", str(tmp_path / "bad.pt"))
    message = str(err.value)
    assert message.startswith("init_from=") and "\n" not in message
    assert all(w in message for w in words), message
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_missing_file_and_foreign_files_are_config_errors(tmp_path):
    net = _resnet20(STEP2)
    with pytest.raises(ConfigError, match="does not exist"):
        load_weights_strict(net, "init_from", str(tmp_path / "nope.ckpt"))
    torch.save({"state_dict": {"model.w": torch.zeros(1)}}, tmp_path / "other.ckpt")
    with pytest.raises(ConfigError, match="no 'net.\\*' model tensors"):
        load_weights_strict(net, "distill.teacher_ckpt", str(tmp_path / "other.ckpt"))
    (tmp_path / "junk.ckpt").write_text("not a checkpoint")
    with pytest.raises(ConfigError, match="Reading it failed"):
        load_weights_strict(net, "init_from", str(tmp_path / "junk.ckpt"))
