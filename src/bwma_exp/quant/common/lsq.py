"""Learned step size quantization (LSQ, Esser et al., ICLR 2020), the MWMA baseline's quantizer.

``Q(v) = round(clamp(v/s, -Qn, Qp))·s`` with a learnable step s per layer. The rounding passes
gradients straight through, so ``dQ/dv = 1`` inside the range and 0 outside, and
``dQ/ds = round(v/s) - v/s`` inside, ``-Qn`` / ``Qp`` at the clamps; s's gradient is scaled by
``1/sqrt(N·Qp)``. ``round`` is torch's (ties to even). Init: ``s = 2·mean|v|/sqrt(Qp)``.

Weights are signed: Qn = 2^(b-1), Qp = 2^(b-1) - 1. Activations are unsigned (Qn = 0,
Qp = 2^b - 1) when the first training batch is non-negative (after a ReLU) and signed otherwise;
the choice is stored in the buffer ``signed``, so checkpoints keep it.
"""
from __future__ import annotations

import math

import torch

from ..contract import ActivationQuantizer, Grid, WeightQuantizer


class RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.round(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


class ScaleGrad(torch.autograd.Function):
    """Identity forward; multiplies the gradient by ``scale`` (LSQ's step-size gradient scale)."""

    @staticmethod
    def forward(ctx, x, scale: float):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale, None


def lsq_quantize(v: torch.Tensor, step: torch.Tensor, qn: int, qp: int,
                 grad_scale: float) -> torch.Tensor:
    s = ScaleGrad.apply(step, grad_scale)
    return RoundSTE.apply(torch.clamp(v / s, -qn, qp)) * s


def signed_range(bits: int) -> tuple[int, int]:
    return 2 ** (bits - 1), 2 ** (bits - 1) - 1


def unsigned_range(bits: int) -> tuple[int, int]:
    return 0, 2 ** bits - 1


def initial_step(v: torch.Tensor, qp: int) -> torch.Tensor:
    return 2 * v.detach().abs().mean() / math.sqrt(qp)


class LSQWeightQuantizer(WeightQuantizer):
    """Signed per-layer LSQ; the step starts from the weights seen at the first forward."""

    def __init__(self, bits: int) -> None:
        super().__init__()
        self.bits = bits
        self.qn, self.qp = signed_range(bits)
        self.step = torch.nn.Parameter(torch.tensor(1.0))
        self.register_buffer("initialized", torch.tensor(False))

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        if not bool(self.initialized):
            with torch.no_grad():
                self.step.copy_(initial_step(w, self.qp))
                self.initialized.fill_(True)
        return lsq_quantize(w, self.step, self.qn, self.qp, 1 / math.sqrt(w.numel() * self.qp))

    def cim_cells(self, w: torch.Tensor, bits: int):
        """w = step·k, k in [−2^(b−1), 2^(b−1) − 1]: u = k + 2^(b−1) (offset −2^(b−1)·step)."""
        step = self.step.detach().reshape(1, 1)
        return -self.qn * step, step, self.bits

    def extra_repr(self) -> str:
        return f"bits={self.bits}, signed"


class LSQActQuantizer(ActivationQuantizer):
    """LSQ on activations; step and sign are set by the first training batch. Before it (an
    eval-mode forward) the batch's own initial step and sign are used and nothing is stored."""

    def __init__(self, bits: int) -> None:
        super().__init__()
        self.bits = bits
        self.step = torch.nn.Parameter(torch.tensor(1.0))
        self.register_buffer("initialized", torch.tensor(False))
        self.register_buffer("signed", torch.tensor(False))

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        if bool(self.initialized):
            step, signed = self.step, bool(self.signed)
        else:
            signed = bool(a.detach().min() < 0)
            step = initial_step(a, self._range(signed)[1])
            if self.training:
                with torch.no_grad():
                    self.step.copy_(step)
                    self.signed.fill_(signed)
                    self.initialized.fill_(True)
                step = self.step
        qn, qp = self._range(signed)
        features = a[0].numel() if a.dim() > 1 else a.numel()
        return lsq_quantize(a, step, qn, qp, 1 / math.sqrt(features * qp))

    def cim_grid(self, x: torch.Tensor) -> Grid | None:
        """Codes -Qn..Qp on the learned step; unknown before the first training batch."""
        if not bool(self.initialized):
            return None
        qn, _ = self._range(bool(self.signed))
        step = self.step.detach().abs()
        return -qn * step, step, self.bits

    def _range(self, signed: bool) -> tuple[int, int]:
        return signed_range(self.bits) if signed else unsigned_range(self.bits)

    def extra_repr(self) -> str:
        return f"bits={self.bits}"
