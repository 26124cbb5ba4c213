"""One chip: the tiled forward's own counts (subarrays used, ADC conversions per image, cells
holding weights) equal the estimator's per-layer figures for the same run, for every method,
mapping and cell width."""
import itertools

import pytest
import torch

from bwma_exp.cim.attach import crossbar_layers
from bwma_exp.cim.counts import chip_counts
from bwma_exp.utils.builders import (
    attach_cim,
    build_datamodule,
    build_model,
    build_spec,
    estimate_hardware,
    input_shape,
)

METHODS = [("bwma", 1), ("bwba", 1), ("mwma", 4), ("columnquant", 4), ("cimq", 4)]
MAPPINGS = ["im2col", "novel", "channel_grouped"]
# weight codings: binary weights are one cell under every coding (only offset is accepted);
# a differential layer drops the reference column, in the forward and the estimate alike
CASES = [(m, b, mapping, cells, ref, coding)
         for (m, b), mapping, cells, ref, coding in itertools.product(
             METHODS, MAPPINGS, [1, 2], [True, False], ["offset", "differential"])
         if cells <= b and (m != "columnquant" or mapping == "channel_grouped")
         and (coding == "offset" or b > 1)]


@pytest.mark.parametrize("method,w_bits,mapping,cell_bits,reference,coding", CASES)
def test_forward_counts_equal_the_estimate(compose_cfg, method, w_bits, mapping, cell_bits,
                                           reference, coding):
    cfg = compose_cfg("train", [
        "experiment=demo", f"quant={method}", f"w_bits={w_bits}", "cim.tiled=true",
        "crossbar_size=64", f"hardware.mapping={mapping}", f"hardware.cell_bits={cell_bits}",
        f"hardware.reference_column={str(reference).lower()}", "hardware.input_vectors=exact",
        f"hardware.weight_coding={coding}"])
    datamodule = build_datamodule(cfg)
    shape = input_shape(datamodule)
    net = build_model(cfg, build_spec(cfg), datamodule)
    assert attach_cim(cfg, net, shape) > 0
    with torch.no_grad():
        net.train()(torch.rand(4, *shape))   # the quantizers' and ADCs' first ranges
        net.eval()(torch.rand(2, *shape))
    own, _ = estimate_hardware(cfg, net, shape)
    counts = chip_counts(net, own)
    assert len(counts) == len(crossbar_layers(net)) > 0
    for name, entry in counts.items():
        forward, costed = entry["forward"], entry["estimate"]
        assert forward == costed, f"{name}: forward {forward} != estimate {costed}"
        assert entry["agree"]
