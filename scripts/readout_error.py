"""How far one tiled W4/A4 conv is from the plain layer under each readout, from one run:
offset coding (digital offset, or a reference column read by an ADC) and differential coding
(positive and negative columns), at several ADC resolutions.

The layer: 3×3, 14 → 64 channels on 128-row subarrays mapped channel_grouped (126 rows per
array, as ColumnQuant maps ResNet-20's 16-channel layers), Kaiming-initialised weights on the
method's grid, ReLU'd Gaussian inputs on its 4-bit activation grid, ADC ranges calibrated on a
first batch as in training (mean ± 3σ of the partial sums). Prints the relative error
‖tiled − plain‖ / ‖plain‖ of the layer's output per readout and ADC resolution:
    .venv/bin/python scripts/readout_error.py [--method columnquant] [--bits 3,4,6]
"""
from __future__ import annotations

import argparse

import torch

from bwma_exp.cim.crossbar import Crossbar
from bwma_exp.hardware.mapping import row_arrays
from bwma_exp.quant import QuantSpec
from bwma_exp.quant.common.adc import ADC

READOUTS = {"offset, digital offset": ("offset", False),
            "offset, reference column": ("offset", True),
            "differential": ("differential", False)}
C_IN, C_OUT, K, SIZE, MAPPING = 14, 64, 3, 128, "channel_grouped"


def relative_error(method: str, coding: str, reference: bool, adc_bits: int, seed: int = 0
                   ) -> float:
    torch.manual_seed(seed)
    layer = QuantSpec(method=method, w_bits=4, act_bits=4).conv2d(C_IN, C_OUT, K, padding=1)
    layer.weight_quantizer.set_arrays(row_arrays(C_IN, K, K, SIZE, MAPPING), 1)
    calibrate = torch.relu(torch.randn(16, C_IN, 16, 16))
    x = torch.relu(torch.randn(16, C_IN, 16, 16))
    layer.train()
    layer(calibrate)                  # the plain layer's weight and activation steps
    layer.eval()
    with torch.no_grad():
        plain = layer(x)
    layer.cim = Crossbar(C_IN * K * K, SIZE, MAPPING, (K, K), ADC(adc_bits), True,
                         reference_adc=ADC(adc_bits), reference_column=reference,
                         weight_coding=coding)
    layer.train()
    with torch.no_grad():
        layer(calibrate)              # the ADC ranges, from the same first batch
    layer.eval()
    with torch.no_grad():
        tiled = layer(x)
    return float((tiled - plain).norm() / plain.norm())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--method", default="columnquant", choices=["mwma", "columnquant", "cimq"])
    parser.add_argument("--bits", default="3,4,6", help="ADC resolutions, comma-separated")
    args = parser.parse_args()
    bits = [int(b) for b in args.bits.split(",")]
    print(f"{args.method} W4/A4 3x3 {C_IN}->{C_OUT}, {SIZE}-row {MAPPING} arrays: "
          "relative output error")
    print(f"{'readout':28s}" + "".join(f"{b}-bit ADC".rjust(12) for b in bits))
    for name, (coding, reference) in READOUTS.items():
        errors = [relative_error(args.method, coding, reference, b) for b in bits]
        print(f"{name:28s}" + "".join(f"{e:12.1%}" for e in errors), flush=True)


if __name__ == "__main__":
    main()
