"""quant=columnquant and quant=cimq from the command line: the demo trains on the method's
crossbar by default (tiled; columnquant channel-grouped in the forward and the estimate), and
one-bit weights (both need w_bits >= 2) end in one line naming the key and the method."""
import pytest

from cli_helpers import TINY, read_summary, run_entry

METHODS = ["columnquant", "cimq"]
MAPPING = {"columnquant": "channel_grouped", "cimq": "auto"}


@pytest.mark.parametrize("method", METHODS)
def test_demo_trains_with_the_method(tmp_path, method):
    done = run_entry("train.py", "experiment=demo", f"quant={method}", *TINY,
                     f"hydra.run.dir={tmp_path}")
    assert done.returncode == 0, done.stderr[-2000:]
    summary = read_summary(tmp_path)
    assert (summary["cim_tiled"], summary["partial_sums"], summary["mapping"]) == \
        (True, "adc", MAPPING[method])
    assert f"4-bit ADC, tiled, hardware.mapping={MAPPING[method]}" in done.stdout
    assert summary["hw"]["config"]["mapping"] == MAPPING[method]
    if method == "columnquant":   # the estimate costs the chip the forward computed on
        assert {layer["mapping"] for layer in summary["hw"]["layers"]} == {"channel_grouped"}


@pytest.mark.parametrize("method", METHODS)
def test_one_bit_weights_are_a_one_line_error(tmp_path, method):
    done = run_entry("train.py", "experiment=demo", f"quant={method}", "w_bits=1", *TINY,
                     f"hydra.run.dir={tmp_path}")
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "Traceback" not in done.stderr
    assert "w_bits=1" in last and f"quant={method}" in last
