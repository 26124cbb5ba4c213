"""Estimator throughput, in process: VGG-8 (NeuroSim's layer table) over devices, subarray
sizes and ADC resolutions. Prints `estimator configurations per second: N` last."""
from __future__ import annotations

import itertools
import time
from pathlib import Path

import yaml

from bwma_exp.hardware import HardwareConfig, LayerSpec, estimate, load_device

ROOT = Path(__file__).resolve().parents[1]


def vgg8_layers() -> list[LayerSpec]:
    shapes = [(32, 3, 128, False), (32, 128, 128, True), (16, 128, 256, False),
              (16, 256, 256, True), (8, 256, 512, False), (8, 512, 512, True)]
    layers = [LayerSpec(name=f"conv{i}", kind="conv", in_h=s, in_w=s, c_in=ci, c_out=co, k_h=3,
                        k_w=3, stride=1, padding=1, groups=1, out_h=s, out_w=s, w_bits=1,
                        act_bits=4, pool_after=pool)
              for i, (s, ci, co, pool) in enumerate(shapes)]
    for i, (ci, co) in enumerate(((8192, 1024), (1024, 10))):
        layers.append(LayerSpec(name=f"fc{i}", kind="linear", in_h=1, in_w=1, c_in=ci, c_out=co,
                                k_h=1, k_w=1, stride=1, padding=0, groups=1, out_h=1, out_w=1,
                                w_bits=1, act_bits=4))
    return layers


def main(repeats: int = 10) -> None:
    hardware = yaml.safe_load((ROOT / "src" / "bwma_exp" / "configs" / "hardware" / "default.yaml").read_text())
    devices = {name: load_device(name) for name in ("rram", "sram", "fefet")}
    layers = vgg8_layers()
    grid = list(itertools.product(devices, (32, 64, 128, 256), (3, 4, 5, 6)))
    estimate(layers, HardwareConfig.from_dicts(devices["rram"], hardware, 32, 4))  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        for device, size, bits in grid:
            estimate(layers, HardwareConfig.from_dicts(devices[device], hardware, size, bits))
    elapsed = time.perf_counter() - start
    count = repeats * len(grid)
    print(f"{count} estimates in {elapsed:.3f} s")
    print(f"estimator configurations per second: {count / elapsed:.0f}")


if __name__ == "__main__":
    main()
