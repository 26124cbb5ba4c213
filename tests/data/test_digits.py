import numpy as np
import pytest
import torch

from bwma_exp.data.digits import DigitsDataModule


def labels(dataset):
    return dataset.y.numpy()


@pytest.fixture(scope="module")
def digits():
    dm = DigitsDataModule(batch_size=32)
    dm.setup("fit")
    return dm


def test_split_sizes_and_per_class_counts_are_stratified(digits):
    assert [len(s) for s in (digits.train_set, digits.val_set, digits.test_set)] == [1077, 360, 360]
    assert np.bincount(labels(digits.train_set)).tolist() == [107, 109, 106, 109, 109, 109, 109, 107, 104, 108]
    assert np.bincount(labels(digits.val_set)).tolist() == [35, 37, 36, 37, 36, 36, 36, 36, 35, 36]
    assert np.bincount(labels(digits.test_set)).tolist() == [36, 36, 35, 37, 36, 37, 36, 36, 35, 36]


def test_split_is_the_same_for_every_training_seed(digits):
    other = DigitsDataModule(seed=123)
    other.setup("fit")
    for a, b in [(digits.train_set, other.train_set), (digits.test_set, other.test_set)]:
        assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)


def test_images_are_three_equal_channels_of_32x32_in_unit_range(digits):
    x = digits.train_set.x
    assert x.shape == (1077, 3, 32, 32) and x.dtype == torch.float32
    assert float(x.min()) == 0.0 and float(x.max()) <= 1.0
    assert torch.equal(x[:, 0], x[:, 1]) and torch.equal(x[:, 0], x[:, 2])
    assert (digits.num_classes, digits.image_size, digits.in_channels) == (10, 32, 3)


def test_images_are_the_bilinear_upsampling_of_the_grey_levels_over_16():
    from sklearn.datasets import load_digits

    from bwma_exp.data.digits import digits_images

    x, y = digits_images()
    original = torch.from_numpy(load_digits().images[:5]).float().unsqueeze(1) / 16
    expected = torch.nn.functional.interpolate(original, size=(32, 32), mode="bilinear")
    assert torch.equal(x[:5, :1], expected)
    assert y[:5].tolist() == [0, 1, 2, 3, 4]
    # Bilinear keeps flat regions exact: the top-left corner of a "0" is background.
    assert float(x[0, 0, 0, 0]) == 0.0


def test_normalisation_constants_match_the_train_split(digits):
    x = digits.train_set.x
    assert digits.mean[0] == pytest.approx(float(x.mean()), abs=1e-4)
    assert digits.std[0] == pytest.approx(float(x.std()), abs=1e-4)


def test_digits_defaults_do_not_flip(compose_cfg):
    # The digits defaults live in configs/dataset/digits.yaml, not in the class.
    from hydra.utils import instantiate

    dm = instantiate(compose_cfg("train", ["dataset=digits"]).dataset)
    assert isinstance(dm, DigitsDataModule)
    assert (dm.flip, dm.padding, dm.augment, dm.batch_size) == (False, 2, True, 64)
