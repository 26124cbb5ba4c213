"""The ImageNet path and DDP end to end through train.py (slow: several processes, big models)."""
import pytest
from PIL import Image

from cli_helpers import read_summary, run_entry


@pytest.fixture
def tiny_imagenet(tmp_path):
    """tmp_path/imagenet/{train,val}/{n01,n02}/ with 4 JPEGs per class, one colour per class."""
    root = tmp_path / "imagenet"
    for split in ("train", "val"):
        for k, cls in enumerate(("n01", "n02")):
            folder = root / split / cls
            folder.mkdir(parents=True)
            for i in range(4):
                Image.new("RGB", (48 + 8 * i, 40), (200 * k, 30 * i, 90)).save(folder / f"{i}.JPEG")
    return root


@pytest.mark.slow
def test_reactnet_trains_on_an_imagenet_folder(tmp_path, tiny_imagenet):
    run = tmp_path / "run"
    res = run_entry("train.py", "dataset=imagenet", f"dataset.data_dir={tiny_imagenet}",
                    "dataset.image_size=32", "dataset.num_classes=2", "dataset.batch_size=4",
                    "dataset.num_workers=0", "model=reactnet_a", "quant=origin", "debug=fast",
                    f"hydra.run.dir={run}")
    assert res.returncode == 0, res.stderr[-3000:]
    s = read_summary(run)
    assert (s["status"], s["dataset"], s["model"], s["quant"]) == (
        "finished", "imagenet", "reactnet_a", "origin")
    assert (s["w_bits"], s["act_bits"]) == (1, 1)
    assert 0.0 <= s["test_acc"] <= 1.0


@pytest.mark.slow
def test_ddp_on_two_cpu_processes_writes_one_summary_from_rank_zero(tmp_path):
    run = tmp_path / "run"
    res = run_entry("train.py", "dataset=synthetic", "model=resnet20", "trainer=ddp",
                    "trainer.accelerator=cpu", "trainer.devices=2", "trainer.sync_batchnorm=false",
                    "debug=fast", "dataset.batch_size=16", "logger.wandb.mode=offline",
                    f"hydra.run.dir={run}", timeout=550)
    assert res.returncode == 0, res.stderr[-3000:]
    s = read_summary(run)
    assert s["status"] == "finished" and s["error"] is None
    assert 0.0 <= s["best_val_acc"] <= 1.0 and 0.0 <= s["test_acc"] <= 1.0
    assert s["wandb_run_id"] and len(list((run / "wandb").glob("offline-run-*"))) == 1
    assert res.stdout.count("test accuracy") == 1            # one result table, from rank 0
    assert (run / "checkpoints" / "last.ckpt").exists()
    assert (run / ".hydra" / "config.yaml").exists()
    # Rank 1 ran in the same folder and wrote no Hydra output of its own.
    assert (run / "train_ddp_process_1.log").exists() and not (run / ".pl_hydra_rank_1").exists()


def test_sync_batchnorm_on_cpu_is_one_line(tmp_path):
    res = run_entry("train.py", "dataset=synthetic", "model=resnet20", "trainer=ddp",
                    "trainer.accelerator=cpu", "debug=fast", f"hydra.run.dir={tmp_path / 'run'}")
    assert res.returncode != 0
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("error: trainer.sync_batchnorm=True") and "=false" in last, last
