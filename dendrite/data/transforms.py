"""Array transforms for one sample: normalisation and data augmentation.

Each transform takes one sample, a NumPy array or a dendrite tensor of shape
``(C, H, W)`` or ``(H, W)`` (``Normalize`` and ``GaussianNoise`` take any
shape), and returns the same kind of object. Use them as
``TensorDataset(x, y, transform=Compose([...]))``.

Random transforms draw from ``generator=`` / ``seed=`` when given, otherwise
from dendrite's global generator at call time, so ``dendrite.manual_seed``
makes augmented epochs repeat.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import numpy as np

from dendrite import backend
from dendrite.backend import xp
from dendrite.data._random import make_generator
from dendrite.tensor import Tensor, wrap


def _unwrap(sample) -> tuple:
    if isinstance(sample, Tensor):
        return sample.array, True
    return xp.asarray(sample), False


def _wrap(array, as_tensor: bool):
    return wrap(array) if as_tensor else array


def _check_image(array, who: str) -> None:
    if array.ndim not in (2, 3):
        raise ValueError(
            f"{who}: expected an image of shape (C, H, W) or (H, W), got shape {tuple(array.shape)}"
        )


class Transform:
    """Base class: a callable on one sample. Subclasses define ``__call__``.

    Example:
        >>> class Negate(Transform):
        ...     def __call__(self, sample):
        ...         return -sample
        >>> Negate()(np.array([1.0, -2.0])).tolist(), Negate()
        ([-1.0, 2.0], Negate())
    """

    def __call__(self, sample):
        raise NotImplementedError

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


class _RandomTransform(Transform):
    def __init__(self, generator, seed) -> None:
        self._generator = make_generator(generator, seed, type(self).__name__)

    def _rng(self) -> np.random.Generator:
        return self._generator if self._generator is not None else backend.generator()


class Compose(Transform):
    """Apply transforms one after another.

    Example:
        >>> t = Compose([Normalize(0.5, 0.5), RandomHorizontalFlip(p=1.0)])
        >>> t(np.array([[0.0, 1.0]])).tolist()
        [[1.0, -1.0]]
    """

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, sample):
        for transform in self.transforms:
            sample = transform(sample)
        return sample


class Lambda(Transform):
    """Wrap a function as a transform: ``Lambda(lambda x: x[None])`` adds a channel axis.

    Example:
        >>> Lambda(lambda x: x[None])(np.zeros((8, 8))).shape   # (H, W) -> (1, H, W)
        (1, 8, 8)
    """

    def __init__(self, function: Callable) -> None:
        self.function = function

    def __call__(self, sample):
        return self.function(sample)


class ToTensor(Transform):
    """Make a dendrite tensor; uint8 images are scaled to float32 in [0, 1] (as torchvision does).

    Any shape in, the same shape out.

    Example:
        >>> ToTensor()(np.array([[0, 255]], np.uint8)).tolist()
        [[0.0, 1.0]]
    """

    def __init__(self, dtype=None, scale_uint8: bool = True) -> None:
        self.dtype = None if dtype is None else backend.as_dtype(dtype)
        self.scale_uint8 = scale_uint8

    def __call__(self, sample) -> Tensor:
        array, _ = _unwrap(sample)
        if self.scale_uint8 and array.dtype == backend.uint8:
            array = array.astype(backend.float32) / 255.0
        if self.dtype is not None:
            array = array.astype(self.dtype)
        return wrap(array)


class Normalize(Transform):
    """``(x - mean) / std``, per channel for ``(C, H, W)`` images (per feature for 1-d samples).

    ``mean`` and ``std`` are numbers or sequences of length C (images) / D (feature vectors).

    Example:
        >>> Normalize([0.5, 0.0], [0.5, 2.0])(np.ones((2, 1, 1))).ravel().tolist()
        [1.0, 0.5]
    """

    def __init__(self, mean, std) -> None:
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.asarray(std, dtype=np.float64)
        if self.mean.ndim > 1 or self.std.ndim > 1:
            raise ValueError("Normalize: mean and std must be numbers or 1-d sequences (one per channel)")
        if np.any(self.std == 0):
            raise ValueError(f"Normalize: std must be non-zero, got {self.std.tolist()}")

    def _shaped(self, values: np.ndarray, array) -> np.ndarray:
        if values.ndim == 0 or values.size == 1:
            return values.reshape(())
        channels = array.shape[0] if array.ndim >= 1 else 0
        if array.ndim in (1, 3) and values.size == channels:
            return values.reshape((-1,) + (1,) * (array.ndim - 1))
        raise ValueError(
            f"Normalize: {values.size} values do not match a sample of shape {tuple(array.shape)}; "
            "expected one per channel of a (C, H, W) image or per feature of a (D,) vector"
        )

    def __call__(self, sample):
        array, is_tensor = _unwrap(sample)
        dtype = array.dtype if array.dtype.kind == "f" else backend.get_default_dtype()
        mean = xp.asarray(self._shaped(self.mean, array), dtype=dtype)
        std = xp.asarray(self._shaped(self.std, array), dtype=dtype)
        return _wrap((array.astype(dtype) - mean) / std, is_tensor)


class RandomCrop(_RandomTransform):
    """Pad the image by ``padding`` on each side, then cut a random ``size`` window.

    Args:
        size: output ``(height, width)`` or one int for a square.
        padding: pixels added on every side of H and W before cropping (0: none).
        fill: the padding value for ``padding_mode='constant'``.
        padding_mode: ``'constant'``, ``'edge'`` or ``'reflect'`` (NumPy's pad modes).

    Example:
        >>> RandomCrop(28, padding=4, seed=0)(np.zeros((1, 28, 28))).shape
        (1, 28, 28)
    """

    def __init__(self, size, padding: int = 0, fill: float = 0.0, padding_mode: str = "constant",
                 generator=None, *, seed: int | None = None) -> None:
        super().__init__(generator, seed)
        self.size = (int(size), int(size)) if isinstance(size, numbers.Integral) else tuple(map(int, size))
        if len(self.size) != 2 or min(self.size) <= 0:
            raise ValueError(f"RandomCrop: size must be a positive int or (height, width), got {size!r}")
        if not isinstance(padding, numbers.Integral) or padding < 0:
            raise ValueError(f"RandomCrop: padding must be a non-negative int, got {padding!r}")
        if padding_mode not in ("constant", "edge", "reflect"):
            raise ValueError(
                f"RandomCrop: padding_mode {padding_mode!r} is not one of 'constant', 'edge', 'reflect'"
            )
        self.padding, self.fill, self.padding_mode = int(padding), fill, padding_mode

    def __call__(self, sample):
        array, is_tensor = _unwrap(sample)
        _check_image(array, "RandomCrop")
        if self.padding:
            widths = [(0, 0)] * (array.ndim - 2) + [(self.padding, self.padding)] * 2
            extra = {"constant_values": self.fill} if self.padding_mode == "constant" else {}
            array = xp.pad(array, widths, mode=self.padding_mode, **extra)
        height, width = array.shape[-2:]
        out_h, out_w = self.size
        if out_h > height or out_w > width:
            raise ValueError(
                f"RandomCrop: crop size {self.size} is larger than the padded image ({height}, {width})"
            )
        rng = self._rng()
        top = int(rng.integers(0, height - out_h + 1))
        left = int(rng.integers(0, width - out_w + 1))
        return _wrap(xp.ascontiguousarray(array[..., top:top + out_h, left:left + out_w]), is_tensor)


class RandomHorizontalFlip(_RandomTransform):
    """Mirror the image left-right (the last axis) with probability ``p``.

    A ``(C, H, W)`` or ``(H, W)`` image in, the same shape out.

    Example:
        >>> RandomHorizontalFlip(p=1.0)(np.array([[1, 2, 3]])).tolist()
        [[3, 2, 1]]
    """

    def __init__(self, p: float = 0.5, generator=None, *, seed: int | None = None) -> None:
        super().__init__(generator, seed)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p = float(p)

    def __call__(self, sample):
        array, is_tensor = _unwrap(sample)
        _check_image(array, "RandomHorizontalFlip")
        if self._rng().random() < self.p:
            array = xp.ascontiguousarray(array[..., ::-1])
        return _wrap(array, is_tensor)


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror the image top-bottom (the second-last axis) with probability ``p``.

    A ``(C, H, W)`` or ``(H, W)`` image in, the same shape out.

    Example:
        >>> RandomVerticalFlip(p=1.0)(np.array([[1, 2], [3, 4]])).tolist()
        [[3, 4], [1, 2]]
    """

    def __call__(self, sample):
        array, is_tensor = _unwrap(sample)
        _check_image(array, "RandomVerticalFlip")
        if self._rng().random() < self.p:
            array = xp.ascontiguousarray(array[..., ::-1, :])
        return _wrap(array, is_tensor)


class GaussianNoise(_RandomTransform):
    """Add ``N(0, std^2)`` noise to every element; optionally clip to ``clip=(low, high)``.

    Integer samples become the default float dtype first.

    Example:
        >>> noisy = GaussianNoise(0.1, clip=(0.0, 1.0), seed=0)(np.zeros((8, 8)))
        >>> bool(noisy.min() >= 0.0), noisy.shape
        (True, (8, 8))
    """

    def __init__(self, std: float, clip: tuple[float, float] | None = None, generator=None, *,
                 seed: int | None = None) -> None:
        super().__init__(generator, seed)
        if not std >= 0:
            raise ValueError(f"GaussianNoise: std must be >= 0, got {std}")
        if clip is not None and (len(clip) != 2 or not clip[0] <= clip[1]):
            raise ValueError(f"GaussianNoise: clip must be (low, high) with low <= high, got {clip!r}")
        self.std, self.clip = float(std), clip

    def __call__(self, sample):
        array, is_tensor = _unwrap(sample)
        dtype = array.dtype if array.dtype.kind == "f" else backend.get_default_dtype()
        noise = xp.asarray(self._rng().normal(0.0, self.std, array.shape), dtype=dtype)
        result = array.astype(dtype) + noise
        if self.clip is not None:
            result = xp.clip(result, self.clip[0], self.clip[1])
        return _wrap(result, is_tensor)
