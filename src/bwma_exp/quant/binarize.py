"""Autograd function of BWMA's moment-matched weight binarization (Eqs. 2-5).

Forward, per layer: c = mean(w), r = population std(w) (constants of the step: no gradient
flows through them); weights above the split point take c + r, the others c - r.
Backward is Eq. 5 alone, on the raw weights: ``α·(1 - tanh²(t·w))`` where |w| <= 1, else 0.
"""
from __future__ import annotations

import torch

SPLITS = ("median", "mean")


class MomentMatchedBinarize(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w, alpha: float, temperature: float, split: str):
        c = w.mean()
        r = w.std(correction=0)
        # torch.median returns the lower middle value for an even count, so "> median" puts
        # exactly half of N distinct weights on c + r.
        threshold = w.median() if split == "median" else c
        ctx.save_for_backward(w)
        ctx.alpha, ctx.temperature = alpha, temperature
        return torch.where(w > threshold, c + r, c - r)

    @staticmethod
    def backward(ctx, grad):
        (w,) = ctx.saved_tensors
        slope = ctx.alpha * (1 - torch.tanh(w * ctx.temperature).square())
        return torch.where(w.abs() <= 1, grad * slope, 0.0), None, None, None
