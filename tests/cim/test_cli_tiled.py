"""The crossbar in the loop from the command line: tiled training, evaluation under device
variation and at another ADC resolution, and the one-line errors for bad CIM settings."""
import json

import pytest
import torch

from cli_helpers import TINY, read_summary, run_entry


@pytest.fixture(scope="module")
def tiled_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("tiled") / "run"
    res = run_entry("train.py", "experiment=demo", *TINY, "cim.tiled=true", "adc_bits=3",
                    f"hydra.run.dir={run}")
    assert res.returncode == 0, res.stderr[-3000:]
    return run


def test_tiled_training_keeps_each_layers_adc_range_in_the_checkpoint(tiled_run):
    summary = read_summary(tiled_run)
    assert summary["status"] == "finished" and summary["adc_bits"] == 3
    state = torch.load(tiled_run / "checkpoints" / "last.ckpt", map_location="cpu",
                       weights_only=False)["state_dict"]
    lows = [k for k in state if k.endswith("cim.adc.lo")]
    assert len(lows) == 18                  # every binary conv of ResNet-20 (stem and fc stay FP)
    assert all(state[k] < state[k.replace(".lo", ".hi")] for k in lows)


def test_a_tiled_run_says_its_adc_bits_and_mapping(tiled_run):
    summary = read_summary(tiled_run)
    assert (summary["cim_tiled"], summary["partial_sums"], summary["mapping"],
            summary["adc_bits"]) == (True, "adc", "auto", 3)


def _eval(run, out, *args, stdout: list | None = None):
    res = run_entry("eval.py", f"ckpt_path={run}", f"hydra.run.dir={out}", *args)
    assert res.returncode == 0, res.stderr[-3000:]
    if stdout is not None:
        stdout.append(res.stdout)
    return json.loads((out / "eval.json").read_text())


@pytest.mark.slow   # three chips through the PyTorch read (varied cells are not integers): minutes
def test_variation_is_sampled_per_chip_and_reproducible(tiled_run, tmp_path):
    """Chip i is seeded with variation_seed + i: the second chip of a two-chip evaluation is
    the first chip of an evaluation seeded one higher."""
    printed: list[str] = []
    two = _eval(tiled_run, tmp_path / "a", "cim.variation_sigma=0.3", "cim.variation_samples=2",
                "cim.variation_seed=5", stdout=printed)
    chips = [line for line in printed[0].splitlines() if line.startswith("chip ")]
    first, second = two["variation"]["accs"]
    assert chips[0] == f"chip 1/2: acc {100 * first:.2f} %, mean {100 * first:.2f} ± 0.00 %"
    assert chips[1].startswith(f"chip 2/2: acc {100 * second:.2f} %, mean "
                               f"{100 * (first + second) / 2:.2f} ± ")
    one = _eval(tiled_run, tmp_path / "b", "cim.variation_sigma=0.3", "cim.variation_seed=6")
    assert len(two["variation"]["accs"]) == 2
    assert one["variation"]["accs"] == two["variation"]["accs"][1:]
    assert two["acc"] == pytest.approx(sum(two["variation"]["accs"]) / 2)


def test_eval_rereads_a_tiled_run_at_another_adc_resolution(tiled_run, tmp_path):
    result = _eval(tiled_run, tmp_path / "e", "adc_bits=2")
    assert result["cim_tiled"] and result["adc_bits"] == 2 and 0.0 <= result["acc"] <= 1.0
    assert result["partial_sums"] == "adc"


@pytest.mark.parametrize("entry,args,key", [
    ("train.py", ("cim.tiled=true", "cim.variation_sigma=-1"), "cim.variation_sigma=-1"),
    ("train.py", ("cim.tiled=true", "adc_bits=0"), "adc_bits=0"),
    ("train.py", ("cim.tiled=true", "cim.adc_range=auto"), "cim.adc_range='auto'"),
    ("train.py", ("cim.tiled=true", "cim.adc_grad=exact"), "cim.adc_grad='exact'"),
])
def test_bad_cim_settings_end_in_one_line(tmp_path, entry, args, key):
    res = run_entry(entry, "experiment=demo", *TINY, *args, f"hydra.run.dir={tmp_path}")
    assert res.returncode != 0
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and key in last and "Traceback" not in res.stderr, last


def test_adc_bits_at_eval_of_an_untiled_run_is_one_line(tmp_path):
    run = tmp_path / "run"
    assert run_entry("train.py", "experiment=demo", *TINY, f"hydra.run.dir={run}").returncode == 0
    res = run_entry("eval.py", f"ckpt_path={run}", "adc_bits=3", f"hydra.run.dir={tmp_path / 'e'}")
    assert res.returncode != 0
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("error: adc_bits=3") and "cim.tiled=true" in last, last
