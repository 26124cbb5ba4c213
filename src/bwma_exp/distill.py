"""Knowledge distillation from a frozen real-valued teacher (ReActNet trains both of its steps
with the distillation loss only, from a ResNet-34 teacher).

The teacher lives outside the student's module tree (``FrozenTeacher`` is not an ``nn.Module``):
it is not in the student's ``state_dict`` (so not in its checkpoints), not in ``parameters()``
(so not in the optimizer), never switched back to ``train()`` by Lightning, and not wrapped
by DDP. It follows the student's batches to their device on first use.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch import nn

from .models import MODELS, build_model
from .quant import QuantSpec
from .utils.errors import ConfigError
from .utils.schema import PositiveFloat, UnitInterval, check_value

NO_TEACHER_HINT = "distill.teacher_model names the zoo model whose weights distill.teacher_ckpt holds."


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                      temperature: float = 1.0) -> torch.Tensor:
    """``KL(p_teacher || p_student)`` of the softened distributions, averaged over the batch and
    scaled by T² (Hinton et al.) so its gradients keep their size when T changes.

    ReActNet's ``DistributionLoss`` is the soft cross-entropy ``-sum p_t log p_s``; it differs from
    this KL by the teacher's entropy, a constant for the student, so the gradients are the same;
    the KL has the advantage of being 0 when the student matches the teacher."""
    t = float(temperature)
    log_p_student = F.log_softmax(student_logits.float() / t, dim=1)
    log_p_teacher = F.log_softmax(teacher_logits.float() / t, dim=1)
    kl = F.kl_div(log_p_student, log_p_teacher, log_target=True, reduction="batchmean")
    return kl * (t * t)


class FrozenTeacher:
    """A model in eval mode with ``requires_grad=False`` everywhere; calling it never records
    an autograd graph."""

    def __init__(self, net: nn.Module) -> None:
        self.net = net.eval()
        for p in self.net.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        first = next(self.net.parameters(), None)
        if first is not None and first.device != x.device:
            self.net.to(x.device)
        return self.net(x)


def distill_options(cfg: DictConfig) -> dict[str, Any]:
    """``alpha`` (weight of the KD loss, 1 - alpha weights cross-entropy) and ``temperature``,
    checked; keys of CIMClassifier."""
    d = cfg.get("distill") or {}
    alpha, temperature = d.get("alpha", 1.0), d.get("temperature", 1.0)
    check_value("distill.alpha", UnitInterval, alpha)    # 1: the distillation loss only
    check_value("distill.temperature", PositiveFloat, temperature)
    return {"distill_alpha": float(alpha), "distill_temperature": float(temperature)}


def build_teacher(cfg: DictConfig, num_classes: int, image_size: int,
                  in_channels: int) -> FrozenTeacher | None:
    """The frozen teacher of ``distill.teacher_ckpt`` (None: no distillation). The teacher is the
    zoo model ``distill.teacher_model`` in full precision, its weights loaded strictly."""
    from .utils.weights import load_weights_strict

    d = cfg.get("distill") or {}
    if not d.get("teacher_ckpt"):
        return None
    name = d.get("teacher_model")
    if name not in MODELS:
        raise ConfigError("distill.teacher_model", name, ", ".join(sorted(MODELS)),
                          hint=NO_TEACHER_HINT)
    net = build_model(name, QuantSpec("fp"), num_classes=num_classes, image_size=image_size,
                      in_channels=in_channels)
    load_weights_strict(net, "distill.teacher_ckpt", d.teacher_ckpt)
    return FrozenTeacher(net)
