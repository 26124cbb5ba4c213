"""``quant=mwma``: uniform multi-bit weights and activations with learned step sizes (LSQ,
see ``lsq.py``), the multi-bit baseline. Needs at least 2 bits for each (LSQ's signed 1-bit
range is empty: Qp = 0); binary settings are ``quant=bwma`` / ``quant=bwba``."""
from __future__ import annotations

from ...utils.errors import ConfigError
from ..common.lsq import LSQActQuantizer, LSQWeightQuantizer
from ..options import NoOptions, read_options
from ..spec import QuantSpec, register_method

MIN_BITS, MAX_BITS = 2, 16

@register_method("mwma")
def mwma_quantizers(spec: QuantSpec, kind: str, out_channels: int):
    for key, bits in (("w_bits", spec.w_bits), ("act_bits", spec.act_bits)):
        if not MIN_BITS <= int(bits) <= MAX_BITS:
            raise ConfigError(key, bits, f"{MIN_BITS} to {MAX_BITS} for quant=mwma",
                              hint="use quant=bwma or quant=bwba for binary weights.")
    read_options("mwma", spec.options, NoOptions)
    return LSQWeightQuantizer(int(spec.w_bits)), LSQActQuantizer(int(spec.act_bits))
