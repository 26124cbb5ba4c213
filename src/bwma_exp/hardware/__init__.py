"""Analytic compute-in-memory hardware estimator (latency, energy, area) after DNN+NeuroSim
V1.3. Entry points: ``layer_table`` (LayerSpecs from a model), ``HardwareConfig.from_dicts``,
``estimate`` (the hardware.json dict) and ``render_report`` (a rich table)."""
from bwma_exp.hardware.config import HardwareConfig
from bwma_exp.hardware.devices import DEVICES, available_devices, load_device
from bwma_exp.hardware.estimator import estimate
from bwma_exp.hardware.spec import LayerSpec

__all__ = ["DEVICES", "HardwareConfig", "LayerSpec", "available_devices", "estimate",
           "layer_table", "load_device", "render_report"]


def __getattr__(name: str):
    # torch and rich load only when these are used, so the estimator itself stays light.
    if name == "layer_table":
        from bwma_exp.hardware.tracing import layer_table
        return layer_table
    if name == "render_report":
        from bwma_exp.hardware.report import render_report
        return render_report
    raise AttributeError(name)
