import random
from types import SimpleNamespace

import pytest
import torch
from PIL import Image

from bwma_exp.data.augment import normalize, random_horizontal_flip
from bwma_exp.data.imagenet import ImageNetDataModule
from bwma_exp.data.pil_transforms import ResizeCenterCrop, random_resized_crop_box
from bwma_exp.utils.errors import ConfigError, DataUnavailableError

SIZES = [(40, 30), (64, 64), (30, 50)]


@pytest.fixture
def imagenet(tmp_path):
    """tmp_path/imagenet/{train,val}/{n01,n02}/ with 3 JPEGs of different sizes per class."""
    root = tmp_path / "imagenet"
    for split in ("train", "val"):
        for k, cls in enumerate(("n02", "n01")):  # created unsorted on purpose
            folder = root / split / cls
            folder.mkdir(parents=True)
            for i, size in enumerate(SIZES):
                Image.new("RGB", size, (80 * k, 40 * i, 200)).save(folder / f"img{i}.JPEG")
            (folder / "notes.txt").write_text("not an image")
    return root


def make(root, **kwargs):
    dm = ImageNetDataModule(data_dir=str(root), batch_size=4, image_size=16, num_classes=2, **kwargs)
    dm.setup("fit")
    return dm


def test_classes_come_from_sorted_folders_and_images_decode_to_uint8_squares(imagenet):
    dm = make(imagenet)
    assert dm.classes == ["n01", "n02"]
    assert (len(dm.train_set), len(dm.val_set)) == (6, 6) and dm.test_set is dm.val_set
    assert [label for _, label in dm.train_set.samples] == [0, 0, 0, 1, 1, 1]
    assert dm.train_set.samples[0][0] == str(imagenet / "train" / "n01" / "img0.JPEG")
    for dataset in (dm.train_set, dm.val_set):
        for i in range(6):
            x, _ = dataset[i]
            assert x.shape == (3, 16, 16) and x.dtype == torch.uint8


def test_loaders_stack_uint8_batches(imagenet):
    dm = make(imagenet)
    x, y = next(iter(dm.val_dataloader()))
    assert x.shape == (4, 3, 16, 16) and x.dtype == torch.uint8 and y.tolist() == [0, 0, 0, 1]
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (4, 3, 16, 16) and sorted(y.tolist()) in ([0, 0, 1, 1], [0, 0, 0, 1],
                                                                [0, 1, 1, 1])


def test_training_hook_flips_but_never_pads(imagenet):
    dm = make(imagenet, seed=4)
    dm.trainer = SimpleNamespace(training=True)
    x = torch.randint(0, 256, (8, 3, 16, 16), dtype=torch.uint8)
    out, _ = dm.on_after_batch_transfer((x, torch.zeros(8)), 0)
    flipped = random_horizontal_flip(x.float() / 255, torch.Generator().manual_seed(4))
    assert torch.equal(out, normalize(flipped, dm.mean, dm.std))


def test_centre_crop_geometry_on_a_two_colour_image():
    # 40x20: left half red, right half blue. Shorter side 20 -> 18 (16 * 256/224 = 18.3),
    # so 36x18, then the centred 16x16 crop starts at column 10 and row 1.
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    img.paste((0, 0, 255), (20, 0, 40, 20))
    out = ResizeCenterCrop(16, int(16 * 256 / 224))(img)
    resized = img.resize((36, 18), Image.BILINEAR)
    expected = torch.tensor(list(resized.crop((10, 1, 26, 17)).getdata()), dtype=torch.uint8)
    assert torch.equal(out, expected.reshape(16, 16, 3).permute(2, 0, 1))
    assert out[:, 5, 0].tolist() == [255, 0, 0] and out[:, 5, 15].tolist() == [0, 0, 255]


def test_random_resized_crop_boxes_stay_inside_and_in_range():
    rng = random.Random(0)
    for _ in range(200):
        left, top, w, h = random_resized_crop_box(64, 48, rng=rng)
        assert 0 <= left and left + w <= 64 and 0 <= top and top + h <= 48
        assert 0.08 * 64 * 48 * 0.8 <= w * h <= 64 * 48
        assert 3 / 4 * 0.8 <= w / h <= 4 / 3 * 1.25


def test_random_resized_crop_is_reproducible_and_falls_back_to_a_centred_crop():
    a = [random_resized_crop_box(64, 48, rng=random.Random(3)) for _ in range(2)]
    assert a[0] == a[1]
    # A 100x10 strip cannot hold a square of >= 90% of its area: centred 10x10 square.
    assert random_resized_crop_box(100, 10, (0.9, 1.0), (1.0, 1.0), random.Random(0)) == (45, 0, 10, 10)
    assert random_resized_crop_box(10, 100, (0.9, 1.0), (1.0, 1.0), random.Random(0)) == (0, 45, 10, 10)


def test_corrupt_image_names_the_file_when_loaded(imagenet):
    bad = imagenet / "train" / "n01" / "img1.JPEG"
    bad.write_bytes(b"this is not a jpeg")
    dm = make(imagenet)  # setup only lists files
    with pytest.raises(DataUnavailableError, match=rf"^cannot decode image {bad} \(Unidentified"):
        dm.train_set[1]


def test_decode_error_rewrapped_by_the_dataloader_stays_one_line(imagenet):
    # DataLoader workers send errors back through ExceptionWrapper, which re-raises
    # type(err)(message + worker traceback) in the main process.
    from torch._utils import ExceptionWrapper

    bad = imagenet / "val" / "n02" / "img0.JPEG"
    bad.write_bytes(b"junk")
    dm = make(imagenet)
    try:
        dm.val_set[3]
    except DataUnavailableError:
        wrapped = ExceptionWrapper(where="in DataLoader worker process 0")
    with pytest.raises(DataUnavailableError) as err:
        wrapped.reraise()
    assert str(err.value).startswith(f"cannot decode image {bad} (UnidentifiedImageError: ")
    assert "\n" not in str(err.value)


@pytest.mark.slow
def test_decode_error_in_a_real_worker_process_stays_one_line(imagenet):
    bad = imagenet / "val" / "n02" / "img0.JPEG"
    bad.write_bytes(b"junk")
    dm = make(imagenet, num_workers=1)
    with pytest.raises(DataUnavailableError) as err:
        list(dm.val_dataloader())
    assert str(err.value).startswith(f"cannot decode image {bad} (UnidentifiedImageError: ")
    assert "\n" not in str(err.value)


def test_truncated_jpeg_names_the_file(imagenet):
    path = imagenet / "val" / "n02" / "img2.JPEG"
    path.write_bytes(path.read_bytes()[:200])
    dm = make(imagenet)
    with pytest.raises(DataUnavailableError, match=f"cannot decode image {path}"):
        dm.val_set[5]


def test_empty_class_folder_is_named(imagenet):
    (imagenet / "train" / "n03").mkdir()
    (imagenet / "val" / "n03").mkdir()
    with pytest.raises(DataUnavailableError, match=f"class folder {imagenet / 'train' / 'n03'} holds no images"):
        make(imagenet)


@pytest.mark.parametrize("missing", ["", "train", "val"])
def test_missing_folder_is_named(imagenet, tmp_path, missing):
    import shutil

    root = tmp_path / "nowhere" if missing == "" else imagenet
    if missing:
        shutil.rmtree(imagenet / missing)
    with pytest.raises(DataUnavailableError, match=str((root / missing).resolve()).rstrip("/")):
        make(root)


def test_flat_or_mismatched_val_folder_is_explained(imagenet):
    import shutil

    shutil.rmtree(imagenet / "val" / "n01")
    with pytest.raises(DataUnavailableError, match=r"\(missing: n01; extra: none\); sort the validation"):
        make(imagenet)


def test_num_classes_must_match_the_folders(imagenet):
    dm = ImageNetDataModule(data_dir=str(imagenet), image_size=16)
    with pytest.raises(ConfigError, match=r"^dataset.num_classes=1000 is not valid: allowed 2 \(the number"):
        dm.setup("fit")


def test_workers_are_persistent_and_defaults_match_imagenet():
    dm = ImageNetDataModule(num_workers=2)
    dm.train_set = [(torch.zeros(3, 8, 8), 0)]
    loader = dm.train_dataloader()
    assert loader.num_workers == 2 and loader.persistent_workers
    assert (dm.image_size, dm.num_classes, dm.padding, dm.flip, dm.in_channels) == (224, 1000, 0, True, 3)
    assert dm.pin_memory == torch.cuda.is_available()
