"""BWMA's multi-bit activation quantizer (Eq. 6) with the G-surrogate gradient (Eqs. 7-8):
the module ``ActQuantizer`` that the layers use, its autograd functions, and the same
quantizer as a plain function, ``bwma_quantize_act``. The elementwise formulas themselves are
in ``activation_formulas``, the surrogate in ``surrogate``.

The activation quantizer module: BWMA's multi-bit quantizer on a running range.

The range [a_min, a_max] is an exponential moving average of the batch min/max during
training, ``new = (1 - m)·old + m·batch`` (BatchNorm's convention, m = 0.1), started from the
first training batch; the batch being trained is quantized on the updated range. In eval the
range is frozen. Before the first training batch (Lightning's sanity check, an eval-mode
forward) the batch's own range is used and nothing is stored. a_min, a_max and ``initialized``
are buffers, so checkpoints carry them.

``learnable_clip=True`` makes a_min/a_max parameters instead (PACT-style): set from the first
training batch, then learned from the clip gradient (see ``act_quant``), not averaged.

``bits=1`` uses the fixed range [-1, 1] (sign activations of the binary-specific models).

Autograd: ranges are 0-dim tensors (they live on the device, so no host sync is needed). When
a_min / a_max require grad (``learnable_clip``) they get the PACT-style clip gradient: the
incoming gradient summed over the elements clamped to that bound (a < a_min, resp. a > a_max);
in-range elements pass their gradient to ``a`` only.
"""
from __future__ import annotations

import torch
from torch import nn

from ...utils.errors import ConfigError
from ...utils.schema import check_value
from ..common.compiled import KernelMode
from ..contract import ActivationQuantizer, Grid
from . import activation_formulas as formulas
from .options import ActBits, Momentum, Positive


def _save(ctx, a, a_min, a_max, delta, levels: int, width: float, mode: str) -> None:
    ctx.save_for_backward(a, a_min, a_max, delta)
    ctx.levels, ctx.width, ctx.mode = levels, width, mode


def _surrogate_backward(ctx, grad):
    a, a_min, a_max, delta = ctx.saved_tensors
    grad_a = grad_min = grad_max = None
    if ctx.needs_input_grad[0]:
        grad_a = formulas.grid_surrogate_grad_kernel(ctx.mode, grad, a, a_min, a_max, delta, ctx.width,
                                             ctx.levels)
    if ctx.needs_input_grad[1]:
        grad_min = torch.where(a < a_min, grad, 0.0).sum().reshape(a_min.shape)
    if ctx.needs_input_grad[2]:
        grad_max = torch.where(a > a_max, grad, 0.0).sum().reshape(a_max.shape)
    return grad_a, grad_min, grad_max


class MultiBitActQuant(torch.autograd.Function):
    """Quantization on a given range [a_min, a_max]."""

    @staticmethod
    def forward(ctx, a, a_min, a_max, levels: int, width: float, mode: str):
        q, delta = formulas.quantize_kernel(mode, a, a_min, a_max, levels)
        _save(ctx, a, a_min, a_max, delta, levels, width, mode)
        return q

    @staticmethod
    def backward(ctx, grad):
        return *_surrogate_backward(ctx, grad), None, None, None


class RunningRangeActQuant(torch.autograd.Function):
    """A training step on the running range: one call folds the batch's min/max into the EMA
    and quantizes on the new range (see ``act_math.observe_and_quantize``). Returns
    (Q(a), new a_min, new a_max); the caller stores the new range."""

    @staticmethod
    def forward(ctx, a, run_min, run_max, initialized, momentum: float, levels: int,
                width: float, mode: str):
        q, new_min, new_max, delta = formulas.observe_and_quantize_kernel(
            mode, a, run_min, run_max, initialized, momentum, levels)
        _save(ctx, a, new_min, new_max, delta, levels, width, mode)
        ctx.mark_non_differentiable(new_min, new_max)
        return q, new_min, new_max

    @staticmethod
    def backward(ctx, grad, _grad_min, _grad_max):
        grad_a, _, _ = _surrogate_backward(ctx, grad)
        return grad_a, None, None, None, None, None, None, None


class BinaryActQuant(torch.autograd.Function):
    """1-bit activations: sign on the fixed range [-1, 1], slope ``g(a/w)/w``."""

    @staticmethod
    def forward(ctx, a, width: float, mode: str):
        ctx.save_for_backward(a)
        ctx.width, ctx.mode = width, mode
        return formulas.sign_values_kernel(mode, a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return formulas.sign_surrogate_grad_kernel(ctx.mode, grad, a, ctx.width), None, None



class ActQuantizer(ActivationQuantizer):
    def __init__(self, bits: int, momentum: float = 0.1, surrogate_width: float = 1.0,
                 learnable_clip: bool = False, kernels: str = "auto") -> None:
        super().__init__()
        check_value("act_bits", ActBits, bits)
        check_value("quant.options.momentum", Momentum, momentum)
        check_value("quant.options.surrogate_width", Positive, surrogate_width)
        check_value("quant.options.learnable_clip", bool, learnable_clip)
        check_value("quant.options.kernels", KernelMode, kernels)
        if learnable_clip and bits == 1:
            raise ConfigError("quant.options.learnable_clip", learnable_clip,
                              "false when act_bits=1", hint="1-bit activations use [-1, 1].")
        self.bits, self.levels = bits, 2 ** bits
        self.momentum, self.surrogate_width = float(momentum), float(surrogate_width)
        self.learnable_clip, self.kernels = learnable_clip, kernels
        self.register_buffer("initialized", torch.tensor(bits == 1))
        if learnable_clip:
            self.a_min = nn.Parameter(torch.tensor(-1.0))
            self.a_max = nn.Parameter(torch.tensor(1.0))
        else:
            self.register_buffer("a_min", torch.tensor(-1.0))
            self.register_buffer("a_max", torch.tensor(1.0))

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        if self.bits == 1:
            return BinaryActQuant.apply(a, self.surrogate_width, self.kernels)
        if self.training and not self.learnable_clip:
            return self._running_range_step(a)
        a_min, a_max = self._fixed_range(a)
        return MultiBitActQuant.apply(a, a_min, a_max, self.levels, self.surrogate_width,
                                      self.kernels)

    def _running_range_step(self, a: torch.Tensor) -> torch.Tensor:
        # One call updates the range and quantizes; the flag is read on the device, not
        # with an `if`, so the training step needs no host-device sync.
        q, new_min, new_max = RunningRangeActQuant.apply(
            a, self.a_min, self.a_max, self.initialized, self.momentum, self.levels,
            self.surrogate_width, self.kernels)
        with torch.no_grad():
            self.a_min.copy_(new_min)
            self.a_max.copy_(new_max)
            self.initialized.fill_(True)
        return q

    def _fixed_range(self, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.training and not bool(self.initialized):  # learnable clip: first batch
            with torch.no_grad():
                lo, hi = torch.aminmax(a.detach())
                self.a_min.copy_(lo)
                self.a_max.copy_(hi)
                self.initialized.fill_(True)
        if self.learnable_clip:
            return self.a_min, self.a_max
        if bool(self.initialized):
            # Copies: a later training step changes the buffers in place, and a saved
            # tensor must not change before its backward.
            return self.a_min.clone(), self.a_max.clone()
        return torch.aminmax(a.detach())  # eval before any training batch: nothing stored

    def cim_grid(self, x: torch.Tensor) -> Grid:
        if self.bits == 1:
            return x.new_tensor(-1.0), x.new_tensor(2.0), 1
        if self.training or bool(self.initialized):
            lo, hi = self.a_min.detach(), self.a_max.detach()
        else:  # this batch was quantized on its own range, whose ends are levels of x
            lo, hi = torch.aminmax(x.detach())
        return lo, formulas.grid_step(lo, hi, self.levels), self.bits

    def extra_repr(self) -> str:
        return (f"bits={self.bits}, momentum={self.momentum}, "
                f"surrogate_width={self.surrogate_width}, learnable_clip={self.learnable_clip}, "
                f"kernels={self.kernels}")


def bwma_quantize_act(a: torch.Tensor, bits: int, a_min: float | torch.Tensor | None = None,
                      a_max: float | torch.Tensor | None = None, surrogate_width: float = 1.0,
                      kernels: str = "auto") -> torch.Tensor:
    """Multi-bit activation quantization (Eq. 6) with the G-surrogate gradient (Eqs. 7, 8).

    δ = (a_max - a_min)/(2^b - 1) and ``Q(a) = a_min + δ·floor((clamp(a, a_min, a_max) - a_min)/δ
    + ½)``: exactly 2^b levels starting at a_min, ties rounded up. Backward on [a_min, a_max] is
    ``grad·g(2·frac((a - a_min)/δ) - 1)`` (5/3 mid-interval, -1/3 on a level), 0 outside: the
    derivative of ``a_min + Σ_i (δ/2)(1 + G((a - c_i)/(δ/2)))``, c_i = a_min + (i - ½)δ.
    Scaling G's argument by δ/2 is our reading of the paper; ``surrogate_width`` w rescales it
    to (a - c_i)/(w·δ/2), with gradient g(·)/w (see ``activation_formulas``).

    ``bits=1`` ignores a_min/a_max and uses [-1, 1]: +1 for a >= 0, -1 otherwise, gradient
    g(a/w)/w. If a_min / a_max are tensors that require grad they receive the PACT-style clip
    gradient (see the autograd functions above). ``kernels`` picks eager or compiled execution
    (``common/compiled.py``).
    """
    check_value("bits", ActBits, bits)
    check_value("surrogate_width", Positive, surrogate_width)
    check_value("kernels", KernelMode, kernels)
    if bits == 1:
        return BinaryActQuant.apply(a, float(surrogate_width), kernels)
    if a_min is None or a_max is None:
        raise ConfigError("a_min/a_max", (a_min, a_max), "both bounds for bits > 1")
    numbers = not isinstance(a_min, torch.Tensor) and not isinstance(a_max, torch.Tensor)
    if numbers and not a_max > a_min:  # tensor bounds are not read back (no device sync)
        raise ConfigError("a_max", a_max, f"a value above a_min={a_min}")
    lo, hi = (torch.as_tensor(x, dtype=a.dtype, device=a.device) for x in (a_min, a_max))
    return MultiBitActQuant.apply(a, lo, hi, 2 ** bits, float(surrogate_width), kernels)
