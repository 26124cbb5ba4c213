"""Validated estimator settings: one crossbar technology, one subarray size, one ADC."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from bwma_exp.utils.errors import ConfigError
from bwma_exp.hardware.devices import _HINT, available_devices


@dataclass(frozen=True)
class DeviceParams:
    name: str
    cell_type: str  # "envm" | "sram"
    cell_area_f2: float
    cell_height_f: float
    cell_width_f: float
    r_on_ohm: float | None
    r_off_ohm: float | None
    read_voltage: float
    read_pulse_ns: float
    write_voltage: float
    access_resistance_ohm: float
    bits_per_cell: int


@dataclass(frozen=True)
class HardwareConfig:
    device: DeviceParams
    crossbar_size: int
    adc_bits: int
    technology_nm: float = 22
    columns_per_adc: int = 8
    adc_type: str = "sar"
    clocking: str = "synchronous"
    mode: str = "layer_by_layer"
    input_density: float = 0.3
    weight_on_fraction: float = 0.5
    fp_bits: int = 8
    fp_layers: str = "costed"
    mapping: str = "auto"
    input_vectors: str = "neurosim"
    reference_column: bool = True

    @classmethod
    def from_dicts(cls, device: Mapping, hardware: Mapping, crossbar_size: int,
                   adc_bits: int) -> HardwareConfig:
        dev = _device_params(device)
        _check_int("crossbar_size", crossbar_size, "a positive power of two (e.g. 32, 64, 128, 256)",
                   lambda v: v >= 2 and v & (v - 1) == 0)
        _check_int("adc_bits", adc_bits, "an integer from 1 to 12", lambda v: 1 <= v <= 12)
        hw = dict(hardware or {})
        for key in ("devices", "crossbar_sizes"):
            hw.pop(key, None)
        known = {f for f in cls.__dataclass_fields__} - {"device", "crossbar_size", "adc_bits"}
        unknown = sorted(set(hw) - known)
        if unknown:
            raise ConfigError(f"hardware.{unknown[0]}", hw[unknown[0]],
                              "one of " + ", ".join(sorted(known)))
        _choice(hw, "adc_type", ("sar", "flash"))
        _choice(hw, "clocking", ("synchronous", "asynchronous"))
        _choice(hw, "mode", ("layer_by_layer", "pipelined"))
        _choice(hw, "fp_layers", ("costed", "digital"))
        _choice(hw, "mapping", ("auto", "novel", "im2col", "channel_grouped"))
        _choice(hw, "input_vectors", ("neurosim", "exact"))
        for key in ("input_density", "weight_on_fraction"):
            if key in hw:
                value = hw[key]
                if isinstance(value, bool) or not isinstance(value, (int, float)) \
                        or not 0 <= value <= 1:
                    raise ConfigError(f"hardware.{key}", value, "a number from 0 to 1")
        if "columns_per_adc" in hw:
            _check_int("hardware.columns_per_adc", hw["columns_per_adc"],
                       "a power of two from 1 to the crossbar size",
                       lambda v: v >= 1 and v & (v - 1) == 0 and v <= crossbar_size)
        if "fp_bits" in hw:
            _check_int("hardware.fp_bits", hw["fp_bits"], "an integer from 1 to 32",
                       lambda v: 1 <= v <= 32)
        if "reference_column" in hw and not isinstance(hw["reference_column"], bool):
            raise ConfigError("hardware.reference_column", hw["reference_column"], "true or false")
        if "technology_nm" in hw and hw["technology_nm"] != 22:
            raise ConfigError("hardware.technology_nm", hw["technology_nm"], "22",
                              hint="only NeuroSim's 22 nm node is characterised")
        return cls(device=dev, crossbar_size=int(crossbar_size), adc_bits=int(adc_bits), **hw)

    def summary(self) -> dict:
        """The settings as plain values, for hardware.json's ``config`` entry."""
        out = asdict(self)
        out["device"] = self.device.name
        out["device_params"] = asdict(self.device)
        return out


def _check_int(key: str, value, allowed: str, ok) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not ok(value):
        raise ConfigError(key, value, allowed)


def _choice(hw: dict, key: str, options: tuple[str, ...]) -> None:
    if key in hw and hw[key] not in options:
        raise ConfigError(f"hardware.{key}", hw[key], ", ".join(options))


def _device_params(device: Mapping) -> DeviceParams:
    if not isinstance(device, Mapping) or "name" not in device:
        raise ConfigError("device", device, ", ".join(available_devices()), hint=_HINT)
    fields = DeviceParams.__dataclass_fields__
    missing = [k for k in fields if k not in device]
    if missing:
        raise ConfigError(f"device.{missing[0]}", None, "a value in the device preset",
                          hint=f"add it to configs/device/{device['name']}.yaml")
    params = DeviceParams(**{k: device[k] for k in fields})
    if params.cell_type not in ("envm", "sram"):
        raise ConfigError("device.cell_type", params.cell_type, "envm, sram")
    if params.cell_type == "envm" and not (params.r_on_ohm and params.r_off_ohm
                                           and 0 < params.r_on_ohm < params.r_off_ohm):
        raise ConfigError("device.r_on_ohm", params.r_on_ohm, "0 < r_on_ohm < r_off_ohm")
    if params.cell_type == "sram" and params.access_resistance_ohm <= 0:
        raise ConfigError("device.access_resistance_ohm", params.access_resistance_ohm,
                          "a positive resistance (the SRAM read path)")
    if isinstance(params.bits_per_cell, bool) or not isinstance(params.bits_per_cell, int) \
            or params.bits_per_cell < 1:
        raise ConfigError("device.bits_per_cell", params.bits_per_cell, "a positive integer")
    return params
