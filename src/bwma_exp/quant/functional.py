"""BWMA's quantizers as plain functions (the modules in ``bwma.py`` / ``act_quantizer.py`` wrap
them). Each is differentiable with the paper's surrogate gradients.

>>> from bwma_exp.quant.functional import bwma_binarize, bwma_quantize_act, g, G
"""
from __future__ import annotations

import torch

from ..utils.errors import ConfigError
from .act_quant import BinaryActQuant, MultiBitActQuant
from .binarize import SPLITS, MomentMatchedBinarize
from .kernels import KERNEL_MODES
from .surrogate import G, g

__all__ = ["G", "bwma_binarize", "bwma_quantize_act", "g"]

MAX_ACT_BITS = 16


def bwma_binarize(w: torch.Tensor, alpha: float = 1.0, temperature: float = 1.0,
                  split: str = "median") -> torch.Tensor:
    """Moment-matched binarization of one layer's weights (Eqs. 2-5).

    c = mean(w) and r = population std(w) are computed per tensor and detached. With
    ``split="median"`` (the paper) the weights above the median take c + r, the rest c - r.
    ``torch.median`` returns the lower of the two middle values for an even count, so for
    distinct weights exactly half take each value (N odd: the median itself joins the lower
    half) and the output's mean and std equal c and r. ``split="mean"`` is AdaBin's rule
    (sign of w - c); it matches the two moments only when the weights are symmetric about
    their mean.

    Backward is Eq. 5 on the raw weights: ``grad·α·(1 - tanh²(w·t))`` where |w| <= 1, else 0.
    The paper leaves α and t open; the training default is IR-Net's schedule (see
    ``schedule.irnet_schedule`` and ``BWMAWeightQuantizer``), this function takes fixed values.
    """
    if split not in SPLITS:
        raise ConfigError("split", split, " or ".join(SPLITS))
    return MomentMatchedBinarize.apply(w, float(alpha), float(temperature), split)


def bwma_quantize_act(a: torch.Tensor, bits: int, a_min: float | torch.Tensor | None = None,
                      a_max: float | torch.Tensor | None = None, surrogate_width: float = 1.0,
                      kernels: str = "auto") -> torch.Tensor:
    """Multi-bit activation quantization (Eq. 6) with the G-surrogate gradient (Eqs. 7, 8).

    δ = (a_max - a_min)/(2^b - 1) and ``Q(a) = a_min + δ·floor((clamp(a, a_min, a_max) - a_min)/δ
    + ½)``: exactly 2^b levels starting at a_min, ties rounded up. Backward on [a_min, a_max] is
    ``grad·g(2·frac((a - a_min)/δ) - 1)`` (5/3 mid-interval, -1/3 on a level), 0 outside: the
    derivative of ``a_min + Σ_i (δ/2)(1 + G((a - c_i)/(δ/2)))``, c_i = a_min + (i - ½)δ.
    Scaling G's argument by δ/2 is our reading of the paper; ``surrogate_width`` w rescales it
    to (a - c_i)/(w·δ/2), with gradient g(·)/w (see ``act_math``).

    ``bits=1`` ignores a_min/a_max and uses [-1, 1]: +1 for a >= 0, -1 otherwise, gradient
    g(a/w)/w. If a_min / a_max are tensors that require grad they receive the PACT-style clip
    gradient (see ``act_quant``). ``kernels`` picks eager or compiled execution (``kernels.py``).
    """
    if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= MAX_ACT_BITS:
        raise ConfigError("bits", bits, f"an integer from 1 to {MAX_ACT_BITS}")
    if not surrogate_width > 0:
        raise ConfigError("surrogate_width", surrogate_width, "a positive number")
    if kernels not in KERNEL_MODES:
        raise ConfigError("kernels", kernels, ", ".join(KERNEL_MODES))
    if bits == 1:
        return BinaryActQuant.apply(a, float(surrogate_width), kernels)
    if a_min is None or a_max is None:
        raise ConfigError("a_min/a_max", (a_min, a_max), "both bounds for bits > 1")
    numbers = not isinstance(a_min, torch.Tensor) and not isinstance(a_max, torch.Tensor)
    if numbers and not a_max > a_min:  # tensor bounds are not read back (no device sync)
        raise ConfigError("a_max", a_max, f"a value above a_min={a_min}")
    lo, hi = (torch.as_tensor(x, dtype=a.dtype, device=a.device) for x in (a_min, a_max))
    return MultiBitActQuant.apply(a, lo, hi, 2 ** bits, float(surrogate_width), kernels)
