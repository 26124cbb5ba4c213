import pytest
import torch
import torch.nn.functional as F

from bwma_exp.data.augment import (
    normalize,
    random_crop_with_padding,
    random_horizontal_flip,
    to_unit_float,
)


def test_crop_takes_the_window_at_each_samples_drawn_offset():
    x = torch.arange(4 * 2 * 3 * 3, dtype=torch.float32).reshape(4, 2, 3, 3) + 1
    out = random_crop_with_padding(x, padding=1, generator=torch.Generator().manual_seed(7))
    offsets = torch.randint(0, 3, (4, 2), generator=torch.Generator().manual_seed(7))
    padded = F.pad(x, (1, 1, 1, 1))
    assert out.shape == x.shape
    for n, (dy, dx) in enumerate(offsets.tolist()):
        assert torch.equal(out[n], padded[n, :, dy : dy + 3, dx : dx + 3])


def test_crop_on_a_tiny_image_with_hand_picked_offsets(monkeypatch):
    # One 1x2x2 image, padding 1; offsets (dy, dx) = (0, 2) and (2, 1) for two copies.
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]).repeat(2, 1, 1, 1)
    monkeypatch.setattr(torch, "randint", lambda *a, **k: torch.tensor([[0, 2], [2, 1]]))
    out = random_crop_with_padding(x, padding=1)
    assert out[0, 0].tolist() == [[0.0, 0.0], [2.0, 0.0]]
    assert out[1, 0].tolist() == [[3.0, 4.0], [0.0, 0.0]]


def test_crop_uses_every_offset_and_padding_zero_is_identity():
    x = torch.rand(500, 1, 4, 4)
    g = torch.Generator().manual_seed(0)
    assert random_crop_with_padding(x, 0, g) is x
    offsets = torch.randint(0, 5, (500, 2), generator=torch.Generator().manual_seed(1))
    assert set(offsets[:, 0].tolist()) == set(range(5)) == set(offsets[:, 1].tolist())


def test_crop_keeps_uint8_dtype():
    x = torch.full((3, 3, 8, 8), 200, dtype=torch.uint8)
    out = random_crop_with_padding(x, 2, torch.Generator().manual_seed(0))
    assert out.dtype == torch.uint8 and out.shape == x.shape


def test_flip_mirrors_exactly_the_drawn_samples():
    x = torch.arange(16 * 1 * 2 * 3, dtype=torch.float32).reshape(16, 1, 2, 3)
    out = random_horizontal_flip(x, torch.Generator().manual_seed(3))
    flipped = torch.rand(16, generator=torch.Generator().manual_seed(3)) < 0.5
    assert 0 < int(flipped.sum()) < 16
    for n in range(16):
        expected = x[n].flip(-1) if flipped[n] else x[n]
        assert torch.equal(out[n], expected)
    assert out[0, 0, 0].tolist() in ([0.0, 1.0, 2.0], [2.0, 1.0, 0.0])


def test_same_seed_same_augmentation():
    x = torch.rand(8, 3, 6, 6)
    a = random_crop_with_padding(x, 2, torch.Generator().manual_seed(5))
    b = random_crop_with_padding(x, 2, torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


def test_normalize_per_channel():
    x = torch.tensor([[[[0.5]], [[1.0]]]])
    out = normalize(x, (0.25, 0.5), (0.5, 0.25))
    assert out.flatten().tolist() == [0.5, 2.0]


@pytest.mark.parametrize(
    ("x", "expected"),
    [(torch.tensor([0, 51, 255], dtype=torch.uint8), [0.0, 0.2, 1.0]),
     (torch.tensor([0.0, 0.5], dtype=torch.float64), [0.0, 0.5])],
)
def test_to_unit_float(x, expected):
    out = to_unit_float(x)
    assert out.dtype == torch.float32
    assert out.tolist() == pytest.approx(expected)
