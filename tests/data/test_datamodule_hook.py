"""The shared datamodule behaviour: config checks, batched loaders, device-side hook, RNG state."""

from types import SimpleNamespace

import pytest
import torch

from bwma_exp.data.augment import normalize, random_crop_with_padding, random_horizontal_flip
from bwma_exp.data.synthetic import SyntheticDataModule
from bwma_exp.utils.errors import ConfigError


def small(**kwargs):
    # flip/padding as synthetic.yaml sets them (the class takes ImageDataModule's defaults).
    defaults = {"batch_size": 8, "image_size": 8, "train_size": 40, "val_size": 20, "test_size": 10,
                "flip": False, "padding": 2}
    dm = SyntheticDataModule(**{**defaults, **kwargs})
    dm.setup("fit")
    return dm


@pytest.mark.parametrize(
    ("key", "value"),
    [("batch_size", 0), ("batch_size", -8), ("batch_size", 2.5), ("batch_size", True),
     ("eval_batch_size", 0), ("num_workers", -1), ("padding", -1), ("augment", "yes"),
     ("seed", -1), ("num_classes", 1), ("noise_std", -0.1)],
)
def test_bad_values_name_the_key(key, value):
    with pytest.raises(ConfigError, match=rf"^dataset\.{key}={value!r} is not valid"):
        SyntheticDataModule(**{key: value})


def test_loaders_yield_whole_batches_and_eval_batch_size_defaults_to_batch_size():
    dm = small(batch_size=16)
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (16, 3, 8, 8) and y.shape == (16,) and y.dtype == torch.int64
    assert [len(b[1]) for b in dm.val_dataloader()] == [16, 4]
    dm = small(batch_size=16, eval_batch_size=7)
    assert [len(b[1]) for b in dm.test_dataloader()] == [7, 3]


def test_train_loader_shuffles_reproducibly_and_eval_loader_keeps_order():
    first = torch.cat([y for _, y in small(seed=3).train_dataloader()])
    again = torch.cat([y for _, y in small(seed=3).train_dataloader()])
    dm = small(seed=3)
    assert torch.equal(first, again)
    assert not torch.equal(first, dm.train_set.y)
    assert torch.equal(torch.cat([y for _, y in dm.val_dataloader()]), dm.val_set.y)


def test_eval_batches_are_only_normalised():
    dm = small()
    x, y = next(iter(dm.val_dataloader()))
    for trainer in (None, SimpleNamespace(training=False)):
        dm.trainer = trainer
        out, out_y = dm.on_after_batch_transfer((x, y), 0)
        assert torch.equal(out, normalize(x, dm.mean, dm.std)) and out_y is y


def test_training_batches_are_cropped_flipped_then_normalised():
    dm = small(flip=True, padding=2, seed=11)
    dm.trainer = SimpleNamespace(training=True)
    x, y = next(iter(dm.train_dataloader()))
    out, _ = dm.on_after_batch_transfer((x, y), 0)
    g = torch.Generator().manual_seed(11)
    expected = random_horizontal_flip(random_crop_with_padding(x, 2, g), g)
    assert torch.equal(out, normalize(expected, dm.mean, dm.std))


def test_augment_false_skips_augmentation_in_training():
    dm = small(augment=False)
    dm.trainer = SimpleNamespace(training=True)
    x, y = next(iter(dm.train_dataloader()))
    assert torch.equal(dm.on_after_batch_transfer((x, y), 0)[0], normalize(x, dm.mean, dm.std))


def test_uint8_batches_are_scaled_to_unit_range():
    dm = small()
    x = torch.tensor([0, 255], dtype=torch.uint8).reshape(2, 1, 1, 1).expand(2, 3, 1, 1)
    out, _ = dm.on_after_batch_transfer((x, torch.zeros(2)), 0)
    assert out[:, 0].flatten().tolist() == [-1.0, 1.0]


def test_state_dict_resumes_the_augmentation_and_shuffle_streams():
    dm = small(flip=True)
    dm.trainer = SimpleNamespace(training=True)
    batch = next(iter(dm.train_dataloader()))
    dm.on_after_batch_transfer(batch, 0)
    state = dm.state_dict()
    expected_aug = dm.on_after_batch_transfer(batch, 0)[0]
    expected_order = torch.cat([y for _, y in dm.train_dataloader()])

    resumed = small(flip=True)
    resumed.trainer = SimpleNamespace(training=True)
    resumed.load_state_dict(state)
    assert torch.equal(resumed.on_after_batch_transfer(batch, 0)[0], expected_aug)
    assert torch.equal(torch.cat([y for _, y in resumed.train_dataloader()]), expected_order)


def test_loaders_before_setup_say_so():
    with pytest.raises(RuntimeError, match="setup"):
        SyntheticDataModule().train_dataloader()
