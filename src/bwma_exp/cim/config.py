"""The ``cim`` group (configs/cim/default.yaml): its schema, checked by ``utils.schema``, and
``run_crossbar``, the one place where ``auto`` in ``cim.tiled``, ``hardware.mapping`` and
``hardware.weight_coding`` is resolved for the run's quantization method (train, eval,
estimate, calibrate and the summary all read it, so the tiled forward and the hardware
estimate describe the same chip)."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from omegaconf import OmegaConf

from ..quant.common.adc import ADCSettings, RangeMode
from ..quant.spec import CROSSBARS, FIXED_BITS, METHODS
from ..utils.errors import ConfigError
from ..utils.schema import Range, check, check_value
from ..utils.validation import AdcBits
from .variation import VariationKind


@dataclass(frozen=True)
class CIMConfig:
    tiled: bool | Literal["auto"] = "auto"
    """Compute every quantized layer subarray by subarray, as the chip does; auto: as the
    method declares (``register_method(tiled=...)``: columnquant and cimq tiled, the others
    not). ``run_crossbar`` resolves it."""
    adc: bool = True
    """False: ideal partial sums (infinite ADC resolution)."""
    adc_bits: AdcBits = 4
    """The run's top-level ``adc_bits``."""
    bit_serial: bool = True
    """One ADC read per input bit plane (the chip's 1-bit wordline drive); False: one read of
    the multi-bit partial sum."""
    adc_range: RangeMode = "sigma"
    """sigma: EMA of mean ± k·σ; minmax: EMA of min/max; learnable: trained lo/hi."""
    adc_sigmas: Annotated[float, Range(0, lo_open=True)] = 3.0
    """k of the sigma range."""
    adc_momentum: Annotated[float, Range(0, 1, lo_open=True)] = 0.1
    """EMA momentum of calibrated ranges."""
    adc_grad: Literal["ste", "clipped"] = "ste"
    """ste: the ideal layer's gradient, straight through the ADC; clipped: none through a
    clipped partial sum."""
    variation_sigma: Annotated[float, Range(0)] = 0.0
    """Device conductance variation (eval.py); 0: none."""
    train_variation_sigma: Annotated[float, Range(0)] = 0.0
    """Conductance variation drawn afresh in every training forward (noise-aware training,
    the ``variation_kind`` model); 0: none."""
    variation_kind: VariationKind = "lognormal"
    variation_samples: Annotated[int, Range(1)] = 1
    """Chips sampled by eval.py; accuracy reported as mean ± std."""
    variation_seed: Annotated[int, Range(0)] = 0
    """Sample i uses seed variation_seed + i."""

    def adc_settings(self, bits: int | None = None) -> ADCSettings:
        """The ADC design; ``bits``: a layer's own resolution (quant.layers), else the run's."""
        return ADCSettings(bits or self.adc_bits, self.adc_range, self.adc_sigmas,
                           self.adc_momentum)

    @classmethod
    def from_dict(cls, cim: Mapping[str, Any] | None, adc_bits: Any) -> CIMConfig:
        values = {k: v for k, v in dict(cim or {}).items() if k != "adc_bits"}
        check_value("adc_bits", AdcBits, adc_bits)
        return check(cls, {**values, "adc_bits": adc_bits}, "cim")


@dataclass(frozen=True)
class RunCrossbar:
    """The crossbar one run computes on and is costed on: ``cim.tiled`` and
    ``hardware.mapping`` with ``auto`` resolved for the run's method."""

    method: str
    cim: CIMConfig
    """The run's cim group; ``tiled`` is a bool here."""
    mapping: str
    """The ``hardware.mapping`` of both the tiled forward and the estimate: auto (NeuroSim's
    K×K rule per layer), novel, im2col or channel_grouped."""
    hardware: dict[str, Any]
    """The run's hardware group with ``mapping`` and ``weight_coding`` resolved (for
    ``HardwareConfig.from_dicts``)."""

    @property
    def tiled(self) -> bool:
        return bool(self.cim.tiled)

    @property
    def partial_sums(self) -> str:
        """adc: each subarray's partial sum read by an ADC; ideal: infinite resolution
        (untiled layers, or ``cim.adc=false``)."""
        return "adc" if self.tiled and self.cim.adc else "ideal"

    def summary(self) -> dict[str, Any]:
        """The fields summary.json and eval.json carry about the run's partial sums and
        cells (multi-bit weights: their coding; binary ones are one cell under any)."""
        return {"cim_tiled": self.tiled, "partial_sums": self.partial_sums,
                "mapping": self.mapping, "weight_coding": self.hardware["weight_coding"],
                "cell_bits": int(self.hardware.get("cell_bits", 1)),
                "reference_column": bool(self.hardware.get("reference_column", False))}


def _plain(node: Any) -> dict[str, Any]:
    if node is None:
        return {}
    if OmegaConf.is_config(node):
        return OmegaConf.to_container(node, resolve=True)
    return dict(node)


def run_crossbar(cfg: Any, adc_bits: Any = None) -> RunCrossbar:
    """``cim.tiled`` and ``hardware.mapping`` of a composed run config (train, estimate, or a
    trained run's .hydra/config.yaml), ``auto`` replaced by what ``cfg.quant.method``
    declared at registration. A mapping the method's quantizers are not defined on is one
    ConfigError naming ``hardware.mapping``. ``adc_bits``: the run's top-level one unless
    given."""
    method = str(cfg.get("quant", {}).get("method", "fp"))
    if method not in METHODS:
        raise ConfigError("quant", method, ", ".join(sorted(METHODS)))
    own = CROSSBARS[method]
    bits = adc_bits if adc_bits is not None else cfg.get("adc_bits", 4)
    cim = CIMConfig.from_dict(_plain(cfg.get("cim")), bits)
    if cim.tiled == "auto":
        cim = dataclasses.replace(cim, tiled=own.tiled)
    hardware = _plain(cfg.get("hardware"))
    mapping = hardware.get("mapping", "auto")
    if own.mapping is not None:
        if mapping not in ("auto", own.mapping):
            raise ConfigError("hardware.mapping", mapping, f"auto or {own.mapping} for "
                              f"quant={method}",
                              hint=f"quant={method}'s weight steps and partial-sum ranges are "
                                   f"defined per array of the {own.mapping} partition; auto "
                                   f"picks it.")
        mapping = own.mapping
    coding = hardware.get("weight_coding", "auto")
    if coding == "differential" and _binary_weights(cfg, method):   # asked for, not auto
        raise ConfigError("hardware.weight_coding", coding, f"offset or auto for quant={method}",
                          hint="its weights are binary, one cell each; differential coding "
                               "puts signed multi-bit weights in positive and negative columns.")
    coding = own.weight_coding if coding == "auto" else coding
    return RunCrossbar(method, cim, str(mapping),
                       {**hardware, "mapping": mapping, "weight_coding": coding})


def _binary_weights(cfg: Any, method: str) -> bool:
    """Every crossbar weight of the run is binary (the method fixes it, or w_bits = 1 and no
    per-layer bits)."""
    fixed = FIXED_BITS[method].get("w_bits")
    if fixed is not None:
        return fixed == 1
    layers = cfg.get("quant", {}).get("layers")
    return not layers and cfg.get("w_bits") == 1
