"""What the trained network puts on the chip, measured while it evaluates: per quantized layer,
the fraction of 1s in each input bit plane (the integer activation codes, bit by bit, as they
drive the word lines) and the share of its weight cells in the low-resistance state (the
cells of ``cells``: the run's ``hardware.weight_coding`` and ``cell_bits``; a multi-level cell
counts its level's fraction of the on state, as its conductance is that mix of G_on and G_off).

NeuroSim's energies depend on these (it reads the layer inputs and weights the network
produced); the estimator takes them per layer from a run's ``activity.json``
(``hardware.activity``). Layers whose input is not on a quantizer grid (a full-precision
layer) or whose weights state no cell levels are left out: the estimator's defaults apply.
"""
from __future__ import annotations

import torch
from torch import nn

from ..hardware.activity import ACTIVITY_FILE  # noqa: F401  (where the meter's result goes)
from ..hardware.layers_prep import differential
from ..quant.contract import QuantizedLayer
from . import cells as cell_layout
from .config import run_crossbar


class ActivityMeter:
    """Counts input bits through forward hooks on every quantized layer's activation quantizer
    while attached (``with ActivityMeter.for_run(net, cfg) as meter: ...``), then
    ``meter.result()``."""

    def __init__(self, net: nn.Module, cell_bits: int = 1, weight_coding: str = "offset"
                 ) -> None:
        self.net, self.cell_bits, self.weight_coding = net, int(cell_bits), weight_coding
        self.layers = {name: m for name, m in net.named_modules()
                       if isinstance(m, QuantizedLayer) and not getattr(m, "full_precision", False)}
        self.ones: dict[str, torch.Tensor] = {}
        self.codes: dict[str, int] = {}
        self._handles: list = []

    @classmethod
    def for_run(cls, net: nn.Module, cfg) -> ActivityMeter:
        """The meter of a run config's chip (its cells as ``run_crossbar`` resolves them)."""
        hardware = run_crossbar(cfg).hardware
        return cls(net, int(hardware.get("cell_bits", 1)),
                   str(hardware.get("weight_coding", "offset")))

    def __enter__(self) -> ActivityMeter:
        for name, layer in self.layers.items():
            self._handles.append(layer.act_quantizer.register_forward_hook(self._hook(name)))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _hook(self, name: str):
        def count(quantizer, inputs, output) -> None:
            grid = quantizer.cim_grid(output)
            if grid is None:
                return
            a_min, delta, bits = grid
            with torch.no_grad():
                code = torch.round((output.detach() - a_min) / delta).clamp_(0, 2 ** bits - 1)
                code = code.to(torch.int32)
                ones = torch.stack([((code >> p) & 1).sum() for p in range(bits)]).cpu()
            if name in self.ones and self.ones[name].numel() == ones.numel():
                self.ones[name] += ones
            else:
                self.ones[name] = ones
                self.codes[name] = 0
            self.codes[name] += code.numel()
        return count

    def result(self) -> dict[str, dict]:
        """{layer: {"input_bit_density": [plane 0 (LSB) ...], "input_density": their mean,
        "weight_on_fraction": ...}} for every layer measured (inputs or weights)."""
        out: dict[str, dict] = {}
        for name, layer in self.layers.items():
            entry = {}
            if self.codes.get(name):
                planes = (self.ones[name].double() / self.codes[name]).tolist()
                entry["input_bit_density"] = planes
                entry["input_density"] = sum(planes) / len(planes)
            on = weight_on_fraction(layer, self.cell_bits, self.weight_coding)
            if on is not None:
                entry["weight_on_fraction"] = on
            if entry:
                out[name] = entry
        return out


@torch.no_grad()
def weight_on_fraction(layer: nn.Module, cell_bits: int, weight_coding: str = "offset"
                       ) -> float | None:
    """Mean cell level over the layer's weight cells, as a fraction of the on level."""
    w = layer.quantized_weight().detach()
    levels = layer.weight_quantizer.cim_cells(w, layer.w_bits)
    if levels is None:
        return None
    cell_bits = min(cell_bits, layer.w_bits)
    groups = getattr(layer, "groups", 1) if w.dim() == 4 else 1
    first_rows = torch.zeros(1, dtype=torch.long, device=w.device)
    cells = cell_layout.build(w, levels, cell_bits, first_rows, groups,
                              differential(layer.w_bits, weight_coding))
    return float(cells.values.mean() / (2 ** cell_bits - 1))
