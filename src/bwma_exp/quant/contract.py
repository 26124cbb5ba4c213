"""The quantizer contract: everything the rest of the project may ask of a quantizer.

Every quantized layer (``QConv2d``/``QLinear``, a ``QuantizedLayer``) holds one
``WeightQuantizer`` and one ``ActivationQuantizer``; full-precision layers hold the identity
ones. The LightningModule, ``cim/`` and ``hardware/`` use only the hooks declared here (with
the model-level helpers at the bottom), never a method's class, so a new method is a folder
that subclasses these two bases and registers a factory (see ``spec.register_method``).

Each hook has a default that means "this method does nothing special", so a method overrides
only what it needs, in the style of aihwkit's documented parameter dataclasses.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

# (a_min, δ, bits): the input lies on the integer grid x = a_min + δ·q, q in [0, 2^bits - 1]
Grid = tuple[torch.Tensor, torch.Tensor, int]
# (offset, scale, bits): the weight is w = offset + scale·u with integer u in [0, 2^bits - 1]
# (the levels the cells store); offset and scale broadcast to the flattened (O, R) weight
CellGrid = tuple[torch.Tensor, torch.Tensor, int]


class Quantizer(nn.Module):
    """Hooks shared by weight and activation quantizers."""

    def set_progress(self, epoch: int, max_epochs: int) -> None:
        """Told at every train epoch start (0-based ``epoch`` of ``max_epochs``); quantizers
        whose behaviour follows a schedule (BWMA's IR-Net temperature) update it here.
        Default: nothing."""

    def regularization_loss(self) -> torch.Tensor | None:
        """A loss term of the last training forward that the task adds to its loss (CIMQ's
        bit sparsity), read once: a second call before the next forward returns None.
        Default: None."""
        return None


class WeightQuantizer(Quantizer):
    """Maps a layer's latent (real) weight to the weight the crossbar holds."""

    latent_clip: float | None = None
    """Clamp the latent weights to ±latent_clip after every optimizer step (BMXNet's 1.3);
    None (default): leave them alone."""

    digital_offset: bool = False
    """True when binary weights w = c + r·s carry a per-layer offset c whose c·Σx the method
    adds as an extra MAC per output (BWMA): the OPs counter charges it."""

    def set_arrays(self, arrays: list[list[int]], groups: int) -> None:
        """The crossbar partition of the layer's unrolled rows (one list of row indices per
        subarray, from ``hardware.mapping.row_arrays``) and the conv groups; called by
        ``cim.attach`` before training or loading a checkpoint. Methods whose scales follow the
        arrays (ColumnQuant, CIMQ) resize them here. Default: nothing."""

    def cim_cells(self, w: torch.Tensor, bits: int) -> CellGrid | None:
        """The levels of the quantized weight ``w`` (this quantizer's output, ``bits`` wide) as
        the crossbar stores them: (offset, scale, bits) with ``w = offset + scale·u``, u an
        integer in [0, 2^bits − 1], detached, broadcastable to ``w.reshape(O, -1)`` and
        constant on each crossbar array's rows (the digital side applies them per array).
        Default: binary weights take their two values per output channel (u = 0 the lower,
        1 the upper one); wider weights have no known grid (None: the crossbar refuses them)."""
        if bits != 1:
            return None
        flat = w.detach().reshape(w.shape[0], -1)
        lo, hi = torch.aminmax(flat, dim=1, keepdim=True)
        return lo, (hi - lo).clamp_min(torch.finfo(w.dtype).tiny), 1

    def cim_adc(self, settings: Any, columns: tuple[int, int, int]) -> nn.Module | None:
        """The partial-sum quantizer this method reads its crossbar columns with, for
        ``columns`` = (groups, arrays, outputs per group) and the run's
        ``common.adc.ADCSettings``; None (default): the crossbar's own ADC."""
        return None


class ActivationQuantizer(Quantizer):
    """Maps a layer's input to the values the crossbar's wordlines are driven with."""

    def cim_grid(self, x: torch.Tensor) -> Grid | None:
        """The grid (a_min, δ, bits) that this quantizer's output ``x`` lies on, detached, so
        the crossbar can read it bit plane by bit plane; None (default): ``x`` is not on a known
        grid and drives the crossbar as one analog plane."""
        return None


class PartialSumQuantizer(nn.Module):
    """What a crossbar asks of the quantizer that reads its column partial sums (an ADC)."""

    @property
    def calibrated(self) -> bool:
        """True when no gradient reaches the range (calibrated from statistics). False
        (default): the range learns (a learnable ADC, CIMQ's clip)."""
        return False

    @property
    def uniform(self) -> bool:
        """True when the read is a clamp to [lo, hi] and a round to the levels
        lo + k·step, as ``grid(p)`` = (lo, hi, step) states them (one value per layer, or per
        column as (g, A, columns, 1)): the crossbar may then apply it inside its popcount
        kernel. False (default): only ``forward`` is known."""
        return False

    def reads_batch(self) -> bool:
        """Whether ``grid(p)`` takes this batch's partial sums ``p`` (statistics in training, a
        range not started yet); False: its stored range, and a crossbar computes none for it.
        Default: in training, or before the range has started."""
        return self.training or not bool(getattr(self, "initialized", True))

    @property
    def per_column(self) -> bool:
        """True when each column has its own range: its statistics need every column's partial
        sums. False (default): one range for the layer, whose statistics a crossbar may take
        from a subset of its columns."""
        return False

# nn.Identity as well, so code that asks "is this layer's quantizer a no-op?" keeps working.
class IdentityWeight(WeightQuantizer, nn.Identity):
    """Full-precision weights."""


class IdentityActivation(ActivationQuantizer, nn.Identity):
    """Real-valued activations."""


class QuantizedLayer:
    """What a quantized conv/linear layer carries besides its torch parameters."""

    weight_quantizer: WeightQuantizer
    act_quantizer: ActivationQuantizer
    full_precision: bool
    method: str       # the run's method, "fp" for full-precision layers
    w_bits: int       # effective precisions: 32/32 for full-precision layers
    act_bits: int
    adc_bits: int | None   # this layer's ADC resolution (quant.layers), None: the run's
    cim: nn.Module | None  # the crossbar that computes the layer (cim.tiled), None: ideal


# -- model-level helpers: the only code that walks a model for the hooks --------------------

def quantizers(model: nn.Module) -> Iterator[Quantizer]:
    return (m for m in model.modules() if isinstance(m, Quantizer))


def quantized_layers(model: nn.Module) -> Iterator[tuple[str, nn.Module]]:
    return ((name, m) for name, m in model.named_modules() if isinstance(m, QuantizedLayer))


def set_training_progress(model: nn.Module, epoch: int, max_epochs: int) -> int:
    """``set_progress`` on every quantizer; returns how many there are."""
    count = 0
    for quantizer in quantizers(model):
        quantizer.set_progress(epoch, max_epochs)
        count += 1
    return count


def regularization_loss(model: nn.Module) -> torch.Tensor | float:
    """Sum of the quantizers' loss terms of the last forward (0.0 when none has one)."""
    terms = (q.regularization_loss() for q in quantizers(model))
    return sum(t for t in terms if t is not None)


def has_latent_clip(model: nn.Module) -> bool:
    return any(layer.weight_quantizer.latent_clip is not None
               for _, layer in quantized_layers(model))


@torch.no_grad()
def clip_latent_weights(model: nn.Module) -> None:
    """Clamp the latent weights of every layer whose weight quantizer has a ``latent_clip``;
    the LightningModule calls it after each optimizer step."""
    for _, layer in quantized_layers(model):
        clip = layer.weight_quantizer.latent_clip
        if clip is not None:
            layer.weight.clamp_(-clip, clip)
