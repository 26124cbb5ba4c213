import torch

from bwma_exp.data.synthetic import SyntheticDataModule


def make(**kwargs):
    dm = SyntheticDataModule(**kwargs)
    dm.setup("fit")
    return dm


def test_shapes_sizes_and_balanced_labels():
    dm = make(num_classes=4, image_size=12, in_channels=1, train_size=40, val_size=8, test_size=12)
    assert dm.train_set.x.shape == (40, 1, 12, 12)
    assert (len(dm.val_set), len(dm.test_set)) == (8, 12)
    assert torch.bincount(dm.train_set.y).tolist() == [10, 10, 10, 10]
    assert torch.bincount(dm.test_set.y).tolist() == [3, 3, 3, 3]
    assert float(dm.train_set.x.min()) >= 0.0 and float(dm.train_set.x.max()) <= 1.0
    assert (dm.num_classes, dm.image_size, dm.in_channels, dm.mean, dm.std) == (
        4, 12, 1, (0.5,), (0.5,))


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = make(seed=1), make(seed=1), make(seed=2)
    assert torch.equal(a.train_set.x, b.train_set.x) and torch.equal(a.test_set.y, b.test_set.y)
    assert not torch.equal(a.train_set.x, c.train_set.x)


def test_classes_are_learnable_from_the_train_split():
    # Nearest class mean, fitted on train, classifies the test split almost perfectly.
    dm = make(num_classes=10, train_size=500, test_size=200)
    train_x = dm.train_set.x.flatten(1)
    means = torch.stack([train_x[dm.train_set.y == k].mean(0) for k in range(10)])
    predicted = torch.cdist(dm.test_set.x.flatten(1), means).argmin(1)
    assert (predicted == dm.test_set.y).float().mean() >= 0.95
