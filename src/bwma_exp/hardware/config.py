"""Validated estimator settings: one crossbar technology, one subarray size, one ADC.

Annotations are evaluated at import (no ``from __future__ import annotations``), so the schema
checker reads them without re-parsing strings on every configuration."""

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Annotated, Literal, get_type_hints

from bwma_exp.hardware.devices import _HINT, available_devices
from bwma_exp.utils.errors import ConfigError
from bwma_exp.utils.schema import Range, check, check_value, power_of_two
from bwma_exp.utils.validation import AdcBits, CrossbarSize

Positive = Annotated[float, Range(0, lo_open=True)]


@dataclass(frozen=True)
class DeviceParams:
    """A crossbar technology preset (configs/device/<name>.yaml)."""

    name: str
    cell_type: Literal["envm", "sram"]
    cell_area_f2: Positive
    cell_height_f: Positive
    cell_width_f: Positive
    r_on_ohm: Positive | None
    """Low-resistance state (eNVM cells); null for SRAM."""
    r_off_ohm: Positive | None
    read_voltage: Positive
    read_pulse_ns: Annotated[float, Range(0)]
    """0 for SRAM, whose read takes the sensing cycle alone."""
    write_voltage: Positive
    access_resistance_ohm: Annotated[float, Range(0)]
    """The access transistor's on-resistance (the SRAM cell's read path)."""
    max_cell_bits: Annotated[int, Range(1, 8)]
    """The most bits one cell of this technology holds (``hardware.cell_bits`` at most this)."""


@dataclass(frozen=True)
class HardwareConfig:
    """The ``hardware`` group (configs/hardware/default.yaml) with the run's device, crossbar
    size and ADC bits; ``from_dicts`` checks it against this schema."""

    device: DeviceParams
    crossbar_size: CrossbarSize
    adc_bits: AdcBits
    cell_bits: Annotated[int, Range(1, 8)] = 1
    """NeuroSim cellBit: bits per cell; a w_bits weight takes ceil(w_bits / cell_bits) cells
    (bit slices), each slice's column read by its own ADC and shift-added digitally."""
    technology_nm: Literal[130, 90, 65, 45, 32, 22, 14, 10, 7] = 22
    """Technology node (nm): NeuroSim V1.3's nodes; 22 nm is characterised, the others are
    scaled from it with NeuroSim's per-node parameters (hardware/technology.py)."""
    columns_per_adc: Annotated[int, power_of_two()] = 8
    """NeuroSim numColMuxed: columns sharing one ADC (at most the crossbar size)."""
    adc_type: Literal["sar", "flash"] = "sar"
    clocking: Literal["synchronous", "asynchronous"] = "synchronous"
    mode: Literal["layer_by_layer", "pipelined"] = "layer_by_layer"
    input_density: Annotated[float, Range(0, 1)] = 0.3
    """Fraction of 1s among activation bits."""
    weight_on_fraction: Annotated[float, Range(0, 1)] = 0.5
    """Fraction of cells in the low-resistance state."""
    fp_bits: Annotated[int, Range(1, 32)] = 8
    """Weight and input bits of full-precision layers when costed."""
    fp_layers: Literal["costed", "digital"] = "costed"
    mapping: Literal["auto", "novel", "im2col", "channel_grouped"] = "auto"
    input_vectors: Literal["neurosim", "exact"] = "neurosim"
    weight_coding: Literal["auto", "offset", "differential"] = "auto"
    """How signed multi-bit weights sit in the cells (cim/cells.py): ``offset`` (NeuroSim's:
    w = offset + scale·u in one array, the offset term from each array's Σx), ``differential``
    (ColumnQuant's reference: the positive and the negative magnitudes in separate columns,
    each read by its ADC, the digital side subtracting; twice the columns, no offset term),
    ``auto``: the method's own (columnquant and cimq differential, the others offset).
    Binary weights are one cell each under every coding."""
    reference_column: bool = False
    """Offset-coded weights (cim/cells.py: w = offset + scale·u) need Σ_rows x of every
    subarray: one reference column of on-cells per subarray and column block, read by an ADC
    (true), or an exact digital sum that costs no ADC read (false, the default: the input bits
    are digital, so the periphery counts each array's active rows; a 4-bit read of that large
    common sum took the demo's ColumnQuant from 74 % to 16 %). Differential layers have no
    offset term, so no reference column."""

    @classmethod
    def from_dicts(cls, device: Mapping, hardware: Mapping, crossbar_size: int,
                   adc_bits: int) -> "HardwareConfig":
        dev = _device_params(device)
        check_value("crossbar_size", CrossbarSize, crossbar_size)
        check_value("adc_bits", AdcBits, adc_bits)
        hw = {k: v for k, v in dict(hardware or {}).items()
              if k not in HARDWARE_ONLY_KEYS}   # targets and activity, read by the builders
        for key in ("device", "crossbar_size", "adc_bits"):
            if key in hw:
                raise ConfigError(f"hardware.{key}", hw[key], "no value here",
                                  hint=f"set the top-level {key} instead.")
        config = check(cls, {**hw, "device": dev, "crossbar_size": crossbar_size,
                             "adc_bits": adc_bits}, "hardware")
        if config.cell_bits > dev.max_cell_bits:
            raise ConfigError("hardware.cell_bits", config.cell_bits,
                              f"1 to {dev.max_cell_bits} for device={dev.name}",
                              hint=f"a {dev.name} cell holds at most {dev.max_cell_bits} bit(s).")
        if config.columns_per_adc > crossbar_size:
            raise ConfigError("hardware.columns_per_adc", config.columns_per_adc,
                              "a power of two from 1 to the crossbar size")
        return config

    def summary(self) -> dict:
        """The settings as plain values, for hardware.json's ``config`` entry."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}   # flat: no deep copy
        out["device"] = self.device.name
        out["device_params"] = {f.name: getattr(self.device, f.name) for f in fields(self.device)}
        return out


# Read by the builders, not by this schema: the extra targets, and the measured activity
# (hardware/activity.py) that sets the layer table's densities.
HARDWARE_ONLY_KEYS = ("devices", "crossbar_sizes", "activity")
_RUN_KEYS = ("device", "crossbar_size", "adc_bits")


def check_hardware_group(hardware: Mapping | None) -> None:
    """The ``hardware`` group's own keys against HardwareConfig, before anything is built
    (the entry pre-check); the device, crossbar size and ADC bits are checked elsewhere."""
    hints = get_type_hints(HardwareConfig, include_extras=True)
    if (hardware or {}).get("activity") is not None:
        from bwma_exp.hardware.activity import activity_path
        activity_path(hardware["activity"])      # the file exists (its layers: run_layers)
    for key, value in dict(hardware or {}).items():
        if key in hints and key not in _RUN_KEYS:
            check_value(f"hardware.{key}", hints[key], value)


def _device_params(device: Mapping) -> DeviceParams:
    if not isinstance(device, Mapping) or "name" not in device:
        raise ConfigError("device", device, ", ".join(available_devices()), hint=_HINT)
    params = check(DeviceParams, device, "device",
                   hint=f"(the preset configs/device/{device['name']}.yaml)")
    if params.cell_type == "envm" and not (params.r_on_ohm and params.r_off_ohm
                                           and 0 < params.r_on_ohm < params.r_off_ohm):
        raise ConfigError("device.r_on_ohm", params.r_on_ohm, "0 < r_on_ohm < r_off_ohm")
    if params.cell_type == "sram" and params.access_resistance_ohm <= 0:
        raise ConfigError("device.access_resistance_ohm", params.access_resistance_ohm,
                          "a positive resistance (the SRAM read path)")
    return params
