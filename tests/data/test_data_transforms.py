"""Array transforms: results, shapes, randomness and errors."""

from __future__ import annotations

import numpy as np
import pytest

import dendrite
from dendrite.data.transforms import (
    Compose,
    GaussianNoise,
    Lambda,
    Normalize,
    RandomCrop,
    RandomHorizontalFlip,
    RandomVerticalFlip,
    ToTensor,
)


def test_normalize_per_channel_scalar_and_features():
    image = np.stack([np.full((2, 2), 1.0), np.full((2, 2), 3.0)]).astype(np.float32)
    out = Normalize([0.5, 1.0], [0.5, 2.0])(image)
    np.testing.assert_allclose(out[0], 1.0)
    np.testing.assert_allclose(out[1], 1.0)
    assert out.dtype == np.float32
    np.testing.assert_allclose(Normalize(1.0, 2.0)(np.full((3, 3), 5.0)), 2.0)
    per_feature = Normalize([1.0, 2.0, 3.0], [1.0, 1.0, 2.0])(np.array([1.0, 3.0, 5.0]))
    np.testing.assert_allclose(per_feature, [0, 1, 1])


def test_normalize_keeps_tensors_tensors_and_rejects_mismatch():
    out = Normalize(0.5, 0.5)(dendrite.ones(1, 2, 2))
    assert isinstance(out, dendrite.Tensor) and out.tolist() == [[[1.0, 1.0], [1.0, 1.0]]]
    with pytest.raises(ValueError, match=r"3 values do not match a sample of shape \(2, 4, 4\)"):
        Normalize([0.0] * 3, [1.0] * 3)(np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="non-zero"):
        Normalize(0.0, 0.0)


def test_random_crop_with_padding_is_a_shifted_window():
    image = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    crop = RandomCrop(4, padding=1, seed=0)
    seen_shifts = set()
    for _ in range(40):
        out = crop(image)
        assert out.shape == (1, 4, 4)
        # The output is the image shifted by (dy, dx) in [-1, 1]^2 with zero fill: find the shift.
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                padded = np.pad(image, ((0, 0), (1, 1), (1, 1)))
                if np.array_equal(out, padded[:, 1 + dy:5 + dy, 1 + dx:5 + dx]):
                    seen_shifts.add((dy, dx))
    assert len(seen_shifts) >= 5  # random positions, each a true window of the padded image
    assert RandomCrop((2, 3), seed=0)(np.zeros((5, 6))).shape == (2, 3)


def test_random_crop_errors():
    with pytest.raises(ValueError, match=r"larger than the padded image \(4, 4\)"):
        RandomCrop(5)(np.zeros((1, 4, 4)))
    with pytest.raises(ValueError, match=r"expected an image of shape \(C, H, W\) or \(H, W\)"):
        RandomCrop(2)(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match="padding_mode"):
        RandomCrop(2, padding_mode="wrap")


def test_flips():
    image = np.arange(6).reshape(1, 2, 3)
    assert RandomHorizontalFlip(p=1.0)(image).tolist() == [[[2, 1, 0], [5, 4, 3]]]
    assert RandomHorizontalFlip(p=0.0)(image).tolist() == image.tolist()
    assert RandomVerticalFlip(p=1.0)(image).tolist() == [[[3, 4, 5], [0, 1, 2]]]
    flip = RandomHorizontalFlip(p=0.5, seed=0)
    flipped = sum(flip(image)[0, 0, 0] == 2 for _ in range(400))
    assert 150 < flipped < 250
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        RandomHorizontalFlip(p=1.5)


def test_gaussian_noise_std_clip_and_reproducibility():
    noisy = GaussianNoise(0.5, seed=0)(np.zeros((100, 100), np.float32))
    assert noisy.dtype == np.float32 and abs(float(noisy.std()) - 0.5) < 0.02
    clipped = GaussianNoise(0.5, clip=(0.0, 1.0), seed=0)(np.full((50, 50), 0.5))
    assert clipped.min() >= 0.0 and clipped.max() <= 1.0 and clipped.min() == 0.0
    assert GaussianNoise(0.1)(np.zeros((2, 2), np.uint8)).dtype == np.float32
    dendrite.manual_seed(4)
    first = GaussianNoise(1.0)(np.zeros(5))
    dendrite.manual_seed(4)
    assert np.array_equal(GaussianNoise(1.0)(np.zeros(5)), first)


def test_compose_lambda_to_tensor():
    pipeline = Compose([Lambda(lambda x: x[None]), ToTensor()])
    out = pipeline(np.array([[0, 255]], np.uint8))
    assert isinstance(out, dendrite.Tensor) and out.shape == (1, 1, 2) and out.dtype == dendrite.float32
    assert out.tolist() == [[[0.0, 1.0]]]
    assert "Compose" in repr(pipeline)
