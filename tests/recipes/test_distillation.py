"""Distillation loss, the frozen teacher, conv-only weight decay and BMXNet's latent clipping."""
import math
from functools import partial

import pytest
import pytorch_lightning as pl
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from bwma_exp.distill import FrozenTeacher, distillation_loss
from bwma_exp.module import CIMClassifier
from bwma_exp.quant import QuantSpec
from bwma_exp.utils.errors import ConfigError


def test_kl_matches_a_hand_computation():
    student = torch.tensor([[1.0, 2.0, 0.0], [0.5, 0.5, 0.5]])
    teacher = torch.tensor([[2.0, 0.0, 1.0], [3.0, 0.0, 0.0]])

    def softmax(row):
        e = [math.exp(v) for v in row]
        return [v / sum(e) for v in e]

    expected = 0.0
    for s, t in zip(student.tolist(), teacher.tolist()):
        ps, pt = softmax(s), softmax(t)
        expected += sum(q * math.log(q / p) for p, q in zip(ps, pt))
    expected /= 2   # batch mean
    assert distillation_loss(student, teacher).item() == pytest.approx(expected, rel=1e-6)
    assert distillation_loss(teacher, teacher).item() == pytest.approx(0.0, abs=1e-7)
    # At temperature T both distributions soften and the KL is scaled by T^2.
    soft = distillation_loss(student / 2, teacher / 2) * 4
    assert distillation_loss(student, teacher, temperature=2).item() == pytest.approx(soft.item())


def _classifier(teacher=None, alpha=1.0, scope="all", net=None):
    torch.manual_seed(0)
    net = net or nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    opt = partial(torch.optim.SGD, lr=0.1, weight_decay=0.5)
    return CIMClassifier(net, 3, opt, {"name": "constant"}, teacher=teacher, distill_alpha=alpha,
                         weight_decay_scope=scope)


def test_teacher_is_frozen_in_eval_mode_and_outside_the_students_state():
    teacher_net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 6 * 6, 3), nn.Dropout(0.5))
    teacher = FrozenTeacher(teacher_net)
    module = _classifier(teacher)
    module.train()   # what Lightning does at every training epoch
    assert not teacher_net.training
    assert all(not p.requires_grad for p in teacher_net.parameters())
    x = torch.randn(2, 3, 6, 6)
    out = teacher(x)
    assert not out.requires_grad and torch.equal(out, teacher(x))   # eval: dropout off
    assert not any(k.startswith("teacher") for k in module.state_dict())
    teacher_ids = {id(p) for p in teacher_net.parameters()}
    assert not any(id(p) in teacher_ids for p in module.parameters())


def test_loss_mixes_kd_and_cross_entropy_by_alpha():
    x, y = torch.randn(4, 3, 6, 6), torch.tensor([0, 1, 2, 0])
    teacher = FrozenTeacher(nn.Sequential(nn.Flatten(), nn.Linear(3 * 6 * 6, 3)))
    logits = torch.randn(4, 3)
    ce = nn.functional.cross_entropy(logits, y)
    kd = distillation_loss(logits, teacher(x))
    module = _classifier()
    module.log = lambda *a, **k: None   # outside a Trainer
    assert module.training_loss(logits, x, y).item() == pytest.approx(ce.item())
    for alpha in (1.0, 0.25):
        module = _classifier(teacher, alpha=alpha)
        module.log = lambda *a, **k: None
        want = alpha * kd + (1 - alpha) * ce
        assert module.training_loss(logits, x, y).item() == pytest.approx(want.item())


def test_conv_scope_decays_only_conv_weights():
    module = _classifier(scope="conv")
    groups = module.parameter_groups()
    assert [p.ndim for p in groups[0]["params"]] == [4]
    assert "weight_decay" not in groups[0] and groups[1]["weight_decay"] == 0.0
    assert sorted(p.ndim for p in groups[1]["params"]) == [1, 1, 2]
    assert len(_classifier().parameter_groups()) == 1
    with pytest.raises(ConfigError, match="weight_decay_scope"):
        _classifier(scope="bn")


def test_bmxnet_latent_weights_are_clipped_after_every_optimizer_step(tmp_path):
    spec = QuantSpec("origin", w_bits=1, act_bits=1, options={"variant": "bmxnet"})
    conv = spec.conv2d(3, 4, 3)
    with torch.no_grad():
        conv.weight.fill_(5.0)   # far outside the clip: one step must bring it back to 1.3
        conv.weight[0].fill_(0.5)
    net = nn.Sequential(conv, nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    module = _classifier(net=net)
    assert module.clips_latent_weights and not _classifier().clips_latent_weights
    data = DataLoader(TensorDataset(torch.randn(8, 3, 6, 6), torch.randint(0, 3, (8,))),
                      batch_size=4)
    trainer = pl.Trainer(max_steps=1, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False,
                         default_root_dir=tmp_path, accelerator="cpu")
    trainer.fit(module, train_dataloaders=data)
    assert conv.weight.abs().max().item() == pytest.approx(1.3)
    assert conv.weight[1:].eq(1.3).all()   # one SGD step leaves them near 5; the clip caps them
    assert conv.weight[0].abs().max().item() < 1.3
