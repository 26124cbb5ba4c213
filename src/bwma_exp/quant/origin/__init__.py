"""``quant=origin``: each binary architecture's own binarization, the "Origin" rows of Table II.

The rule depends on the architecture, so model builders put ``options["variant"]`` on the spec:

- ``reactnet`` (liuzechun/ReActNet): weights ``mean|W| * sign(W)`` per output channel, gradient
  passed where ``|W| <= 1``; activations ``sign(x)`` with the Bi-Real piecewise-quadratic
  gradient ``2 - 2|x|`` on ``|x| < 1``.
- ``bmxnet`` (BMXNet-v2 BinaryDenseNet / MeliusNet): ``sign`` of inputs and weights, no weight
  scaling, gradient passed where ``|x| <= 1.3``. The reference also clamps the latent weights to
  ±1.3 after every optimizer step; the training loop does that with ``clip_latent_weights``.

``w_bits`` / ``act_bits`` may each be 1 (binarize) or 32 (leave real), so ReActNet's first
training step (binary activations, real weights) is ``w_bits=32 act_bits=1``.
``sign`` maps 0 to +1: a binary layer has exactly two values.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from ...utils.errors import ConfigError
from ..contract import IdentityActivation, IdentityWeight
from ..options import read_options
from ..spec import QuantSpec, register_method
from .quantizers import BiRealSign, ChannelScaledSign, ClippedSign, check_bits

__all__ = ["BiRealSign", "ChannelScaledSign", "ClippedSign"]

Variant = Literal["reactnet", "bmxnet"]


@dataclass(frozen=True)
class OriginOptions:
    variant: Variant | None = None
    """Whose binarization: the binary models set it themselves (reactnet_a: reactnet;
    bdensenet28, meliusnet22/29: bmxnet)."""


# act_bits is fixed; w_bits stays (32 = real weights, ReActNet's first training step)
@register_method("origin", fixed_bits={"act_bits": 1})
def origin_quantizers(spec: QuantSpec, kind: str, out_channels: int):
    check_bits("w_bits", spec.w_bits)
    check_bits("act_bits", spec.act_bits)
    variant = read_options("origin", spec.options, OriginOptions).variant
    if variant is None:
        raise ConfigError("quant.options.variant", variant, ", ".join(get_args(Variant)),
                          hint="reactnet_a, bdensenet28 and meliusnet22/29 set it themselves; "
                               "other models need it set: add quant.options.variant=reactnet "
                               "(or =bmxnet).")
    if variant == "reactnet":
        weight, act = ChannelScaledSign(), BiRealSign()
    else:
        weight, act = ClippedSign(), ClippedSign()
    if int(spec.w_bits) == 32:
        weight = IdentityWeight()
    if int(spec.act_bits) == 32:
        act = IdentityActivation()
    return weight, act
