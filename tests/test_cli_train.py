"""train.py end to end, as a user runs it (subprocess, tiny budgets)."""
import json

import pytest
import torch

from cli_helpers import TINY, read_summary, run_entry


def test_single_run_writes_a_complete_summary(tmp_path):
    run = tmp_path / "run"
    # W&B offline, as a user without a login gets it: its logger is built too
    res = run_entry("train.py", "experiment=demo", *TINY, "logger.wandb.mode=offline",
                    f"hydra.run.dir={run}")
    assert res.returncode == 0, res.stderr[-3000:]
    output = res.stdout + res.stderr
    assert "anonymous setting" not in output and "litlogger" not in output
    assert str(run) in res.stdout                      # the run folder, whole, in the table
    s = read_summary(run)
    assert s["status"] == "finished" and s["error"] is None
    assert (s["model"], s["dataset"], s["quant"]) == ("resnet20", "digits", "bwma")
    assert (s["w_bits"], s["act_bits"], s["seed"]) == (1, 4, 0)
    assert s["params"] == 269_722
    assert 0.0 <= s["best_val_acc"] <= 1.0 and 0.0 <= s["test_acc"] <= 1.0
    hw = s["hw"]
    assert hw["latency_ns"] > 0 and hw["energy_pj"] > 0 and hw["area_um2"] > 0
    assert set(s["hw_targets"]) == {"rram/128"}
    assert (run / ".hydra" / "config.yaml").exists()
    assert (run / "checkpoints" / "last.ckpt").exists()
    assert (run / "csv" / "metrics.csv").exists()
    assert "test accuracy" in res.stdout
    # bwma trains untiled by default (cim.tiled: auto): the run says its partial sums are ideal
    assert (s["cim_tiled"], s["partial_sums"], s["mapping"]) == (False, "ideal", "auto")
    assert "ideal (untiled layers, cim.tiled=false)" in res.stdout
    # the test set's activity, measured per quantized layer, is what the run's estimate costs
    activity = json.loads((run / "activity.json").read_text())
    assert s["activity"] == "activity.json" and activity["model"] == "resnet20"
    rows = {r["name"]: r for r in hw["layers"]}
    assert len(activity["layers"]) == 18 and set(activity["layers"]) < set(rows)  # stem, fc: fp
    for name, entry in activity["layers"].items():
        assert len(entry["input_bit_density"]) == 4 and 0 <= entry["input_density"] <= 1
        assert rows[name]["input_density"] == entry["input_density"]
        assert rows[name]["weight_on_fraction"] == entry["weight_on_fraction"]
    assert rows["stem.0"]["input_density"] == 0.3      # full precision: the default
    # another chip costed with this run's measured bits
    again = tmp_path / "estimate"
    res = run_entry("estimate.py", "model=resnet20", "dataset=digits", "device=sram",
                    f"hardware.activity={run}", f"hydra.run.dir={again}")
    assert res.returncode == 0, res.stderr[-3000:]
    costed = {r["name"]: r for r in json.loads((again / "hardware.json").read_text())["layers"]}
    for name, entry in activity["layers"].items():
        assert costed[name]["input_density"] == entry["input_density"]


def test_an_activity_of_another_model_is_one_line_before_the_data(tmp_path):
    (tmp_path / "activity.json").write_text(json.dumps(
        {"model": "vgg8", "layers": {"features.3": {"input_density": 0.2}}}))
    for entry, extra in (("train.py", ["experiment=demo", *TINY]),
                         ("estimate.py", ["model=resnet20", "dataset=digits"])):
        res = run_entry(entry, *extra, f"hardware.activity={tmp_path}",
                        f"hydra.run.dir={tmp_path / entry}", timeout=120)
        assert res.returncode == 2, res.stderr[-2000:]
        assert res.stderr.strip().splitlines()[-1].startswith(
            f"error: hardware.activity='{tmp_path}' is not valid: allowed the activity of a run "
            "of this model"), res.stderr[-2000:]
        assert "Traceback" not in res.stderr and "Epoch" not in res.stdout


def test_sweep_runs_every_job_in_its_own_folder(tmp_path):
    sweep = tmp_path / "sweep"
    res = run_entry("train.py", "-m", "experiment=demo", "act_bits=2,4", "quant=bwma,fp", *TINY,
                    f"hydra.sweep.dir={sweep}")
    assert res.returncode == 0, res.stderr[-3000:]
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir() and (p / "summary.json").exists())
    assert len(jobs) == 4
    seen = {(read_summary(j)["quant"], read_summary(j)["act_bits"]) for j in jobs}
    # fp reports its effective precision (32 bits) whatever act_bits the sweep set.
    assert seen == {("bwma", 2), ("bwma", 4), ("fp", 32)}
    assert all(read_summary(j)["status"] == "finished" for j in jobs)


BAD_INPUTS = [
    (["model=foo"], "model='foo'", "resnet20"),
    (["quant=nope"], "quant='nope'", "bwma"),
    (["dataset=mnist"], "dataset='mnist'", "digits"),
    (["device=gpu"], "device='gpu'", "trainer.accelerator"),
    (["act_bits=0"], "act_bits=0", "1 to 16"),
    (["act_bits=abc"], "act_bits='abc'", "1 to 16"),
    (["w_bits=2"], "w_bits=2", "quant=bwma"),
    (["crossbar_size=-8"], "crossbar_size=-8", "power of two"),
    (["adc_bits=13"], "adc_bits=13", "1 to 12"),
    # values torch or Lightning would refuse only later (or never), named by the schema
    (["optimizer.lr=-1"], "optimizer.lr=-1", "a positive number"),
    (["optimizer.lr=abc"], "optimizer.lr='abc'", "a positive number"),
    (["trainer.max_epochs=-1"], "trainer.max_epochs=-1", "an integer >= 1"),
    (["trainer.max_epochs=abc"], "trainer.max_epochs='abc'", "an integer >= 1"),
    (["seed=abc"], "seed='abc'", "an integer >= 0"),
    (["scheduler.name=step"], "scheduler.name='step'", "cosine, linear or constant"),
    (["quant.options.split=mode"], "quant.options.split='mode'", "median or mean"),
    # raised inside a datamodule that Hydra instantiates (Hydra wraps the error)
    (["dataset.batch_size=0"], "dataset.batch_size=0", ">= 1"),
    # keys the config does not have: the keys it does have, before Hydra's own report
    (["trainer.max_epoch=3"], "trainer.max_epoch is not a key", "max_epochs"),
    (["foo.bar=1"], "foo is not a key", "optimizer"),
    (["-m", "cim.adc_gradd=ste,clipped"], "cim.adc_gradd is not a key", "adc_grad"),
    # a full-width digit, which Hydra's lexer refuses
    (["act_bits=４"], "act_bits='４'", "an integer from 1 to 16 (32 means full precision). "
                                       "Type 4 in ASCII characters."),
]


@pytest.mark.parametrize("args, names, allowed", BAD_INPUTS)
def test_bad_input_is_one_clear_line(tmp_path, args, names, allowed):
    run = tmp_path / "run"
    res = run_entry("train.py", "experiment=demo", *TINY, *args, f"hydra.run.dir={run}")
    assert res.returncode != 0
    lines = [line for line in res.stderr.strip().splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: "), res.stderr[-2000:]
    assert names in lines[-1] and allowed in lines[-1]
    assert "Traceback" not in res.stderr


def test_missing_cifar_offline_says_where_to_put_the_archive(tmp_path):
    run = tmp_path / "run"
    res = run_entry("train.py", "dataset=cifar10", f"paths.data_dir={tmp_path / 'nodata'}",
                    *TINY, f"hydra.run.dir={run}", timeout=120)
    assert res.returncode != 0
    last = res.stderr.strip().splitlines()[-1]
    assert "cifar-10-python.tar.gz" in last and "dataset=digits" in last
    assert "Traceback" not in res.stderr
    assert read_summary(run)["status"] == "failed"


def test_a_failed_run_never_touches_an_earlier_run(tmp_path):
    run = tmp_path / "run"
    ok = run_entry("train.py", "experiment=demo", *TINY, f"hydra.run.dir={run}")
    assert ok.returncode == 0, ok.stderr[-2000:]
    before = (run / "summary.json").read_text()
    bad = run_entry("train.py", "experiment=demo", "act_bits=0", *TINY,
                    f"hydra.run.dir={tmp_path / 'other'}")
    assert bad.returncode != 0
    assert (run / "summary.json").read_text() == before
    assert json.loads(before)["status"] == "finished"


def test_extra_hardware_devices_are_checked_before_the_trainer(tmp_path):
    res = run_entry("train.py", "experiment=demo", *TINY, "hardware.devices=[rram,bogus]",
                    f"hydra.run.dir={tmp_path / 'run'}", timeout=120)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines()[-1] == (
        "error: hardware.devices=['rram', 'bogus'] is not valid: allowed a list of rram, sram, "
        "fefet. 'bogus' is not a crossbar technology (for a CPU/GPU set trainer.accelerator).")
    assert "Traceback" not in res.stderr and "train_dataloader" not in res.stdout + res.stderr


CHIP_ERRORS = [
    ("train.py", ["quant=columnquant", "hardware.mapping=im2col"],
     "error: hardware.mapping='im2col' is not valid: allowed auto or channel_grouped for "
     "quant=columnquant. quant=columnquant's weight steps and partial-sum ranges are defined "
     "per array of the channel_grouped partition; auto picks it."),
    ("estimate.py", ["quant=columnquant", "hardware.mapping=novel"],
     "error: hardware.mapping='novel' is not valid: allowed auto or channel_grouped"),
    ("train.py", ["hardware.cell_bits=0"],
     "error: hardware.cell_bits=0 is not valid: allowed an integer from 1 to 8."),
    ("train.py", ["hardware.cell_bits=2"],
     "error: hardware.cell_bits=2 is not valid: allowed 1 (at most the fewest weight bits on "
     "the crossbar: w_bits=1 of quant=bwma). A 1-bit weight cannot take 2-bit cells."),
    ("train.py", ["quant=mwma", "hardware.cell_bits=3", "device=sram"],
     "error: hardware.cell_bits=3 is not valid: allowed 1 to 1 for device=sram."),
    ("train.py", ["hardware.activity=/no/such/run"],
     "error: hardware.activity='/no/such/run' is not valid: allowed a run folder holding "
     "activity.json (written by its test or by eval.py) or that file, or null for the defaults."),
    ("estimate.py", ["hardware.technology_nm=5"],
     "error: hardware.technology_nm=5 is not valid: allowed 130, 90, 65, 45, 32, 22, 14, 10 or 7."),
]


@pytest.mark.parametrize("entry, args, line", CHIP_ERRORS)
def test_chip_errors_are_one_line_before_the_data(tmp_path, entry, args, line):
    run = tmp_path / "run"
    extra = ["experiment=demo", *TINY] if entry == "train.py" else []
    res = run_entry(entry, *extra, *args, f"hydra.run.dir={run}", timeout=120)
    assert res.returncode == 2, res.stderr[-2000:]
    assert res.stderr.strip().splitlines()[-1].startswith(line), res.stderr[-2000:]
    assert "Traceback" not in res.stderr
    summary = read_summary(run)                  # failed in the pre-check: no model was built
    assert summary["status"] == "failed" and "params" not in summary


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
@pytest.mark.parametrize("value", ["gpu", "cuda"])
def test_a_gpu_accelerator_without_a_gpu_is_one_line(tmp_path, value):
    res = run_entry("train.py", "experiment=demo", *TINY, f"trainer.accelerator={value}",
                    f"hydra.run.dir={tmp_path / 'run'}", timeout=120)
    assert res.returncode == 2
    last = res.stderr.strip().splitlines()[-1]
    assert last == (f"error: trainer.accelerator='{value}' is not valid: allowed cpu or auto: "
                    f"torch finds no CUDA GPU on this machine.")
    assert "Traceback" not in res.stderr


def test_the_suggested_origin_variant_override_works(tmp_path):
    args = ["experiment=demo", *TINY, "cim.tiled=true", "quant=origin"]
    res = run_entry("train.py", *args, f"hydra.run.dir={tmp_path / 'a'}", timeout=120)
    assert res.returncode == 2
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("error: quant.options.variant=None is not valid: allowed reactnet, "
                           "bmxnet.")
    assert last.endswith("add quant.options.variant=reactnet (or =bmxnet).")
    res = run_entry("train.py", *args, "quant.options.variant=reactnet",
                    f"hydra.run.dir={tmp_path / 'b'}")
    assert res.returncode == 0, res.stderr[-3000:]
    assert read_summary(tmp_path / "b")["status"] == "finished"
