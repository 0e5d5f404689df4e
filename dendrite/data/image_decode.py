"""Reading image files with Pillow: a header without the pixels, one image's pixels, a lazy array of many.

The pixels of a folder of pictures can be more than memory holds, so nothing here
decodes ahead of need: :func:`read_header` opens a file and reads its size and
mode only (Pillow's ``Image.open`` is lazy), :func:`read_image` decodes one file,
and :class:`ImageArray` is an array-like over many files that decodes just the
rows it is indexed with (a batch at a time).

Decoded images are float32 in ``[0, 1]``, shaped ``(H, W)`` for grayscale and
``(3, H, W)`` (channels first, as the convolution layers want) for colour:

* grayscale modes (:data:`GRAY_MODES`): ``1`` (0 or 1), ``L`` and ``LA``/``La``
  (divided by 255; the alpha channel is dropped), ``I;16*`` and ``I``
  (divided by 65,535, the 16-bit range ``I`` images mostly come from, then
  clipped to ``[0, 1]``), ``F`` (the stored floats, taken as ``[0, 1]`` already);
* every other mode (``RGB``, ``RGBA``, ``P``, ``CMYK``, ``YCbCr`` ...) is
  colour: converted to ``RGB`` (alpha dropped) and divided by 255. A palette
  image counts as colour even when its palette is grey (only decoding would tell).

A grayscale image read as colour has its one channel repeated three times. The
first frame of a multi-frame GIF or TIFF is the image; the EXIF orientation tag
is not applied (as torchvision's ``ImageFolder``).

Pillow is imported when first needed, never at module import.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dendrite.data.file_errors import DataFileError

__all__ = ["GRAY_MODES", "ImageArray", "read_header", "read_image"]  # is_colour: image_folder's

#: Pillow modes read as one grayscale channel; every other mode is read as RGB.
GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"})


def _pillow():
    """Pillow's ``Image`` module, or an ImportError naming the extra that installs it."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            "reading images needs Pillow, which is not installed; install it with: "
            'pip install "dendrite[images]"'
        ) from None
    return Image


def _open(path: Path):
    """``Image.open(path)`` (lazy: the header only), with a DataFileError for a file Pillow cannot read."""
    Image = _pillow()
    try:
        return Image.open(path)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        # UnidentifiedImageError is an OSError; some format plugins raise SyntaxError for bad headers.
        raise DataFileError(path, f"is not a readable image ({_reason(error)}); expected a picture file "
                                  "such as PNG or JPEG") from None


def _reason(error: Exception) -> str:
    return str(error).replace("\n", " ") or type(error).__name__


def read_header(path: str | Path) -> tuple[int, int, str]:
    """The ``(width, height, mode)`` of an image file, read from its header without decoding the pixels.

    Raises DataFileError when Pillow does not recognise the file as an image.

    Example:
        >>> from PIL import Image
        >>> Image.new("RGB", (6, 5)).save("red.png")
        >>> read_header("red.png")
        (6, 5, 'RGB')
    """
    path = Path(path)
    with _open(path) as image:
        return image.size[0], image.size[1], image.mode


def is_colour(mode: str) -> bool:
    """True when images of this Pillow mode are read as RGB, False for the :data:`GRAY_MODES`."""
    return mode not in GRAY_MODES


def _check_shape(input_shape: Sequence[int]) -> tuple[int, ...]:
    shape = tuple(int(n) for n in input_shape)
    if not (len(shape) == 2 or (len(shape) == 3 and shape[0] == 3)) or min(shape) <= 0:
        raise ValueError(f"input_shape {shape} is not an image shape; expected (H, W) for grayscale "
                         "or (3, H, W) for colour")
    return shape


def _gray(image) -> np.ndarray:
    """One channel of ``image`` as float32 ``(H, W)`` in [0, 1] (see the module docstring for the scales)."""
    mode = image.mode
    if mode in ("LA", "La"):
        image, mode = image.getchannel(0), "L"
    if mode not in GRAY_MODES:  # a colour image where grayscale is wanted (not made by index_image_folder)
        image, mode = image.convert("L"), "L"
    pixels = np.asarray(image)
    if mode == "1":
        return pixels.astype(np.float32)
    if mode == "F":
        return pixels.astype(np.float32, copy=True)
    if mode.startswith("I"):
        return np.clip(pixels.astype(np.float32) / 65535.0, 0.0, 1.0)
    return pixels.astype(np.float32) / 255.0


def _rgb(image) -> np.ndarray:
    """``image`` as float32 ``(3, H, W)`` in [0, 1]: colour converted to RGB, grayscale repeated."""
    if image.mode in GRAY_MODES:
        return np.repeat(_gray(image)[None], 3, axis=0)
    if image.mode != "RGB":
        if image.mode in ("P", "PA") and "transparency" in image.info:
            image = image.convert("RGBA")  # Pillow warns when such a palette goes straight to RGB
        image = image.convert("RGB")
    return np.asarray(image).transpose(2, 0, 1).astype(np.float32) / 255.0


def _expected(input_shape: tuple[int, ...]) -> str:
    kind = "colour" if len(input_shape) == 3 else "grayscale"
    return f"{input_shape[-1]}x{input_shape[-2]} pixels (width x height), read as {kind} {input_shape}"


def read_image(path: str | Path, input_shape: Sequence[int]) -> np.ndarray:
    """Decode one image file to float32 in [0, 1], checking that it has the size ``input_shape`` says.

    Args:
        path: an image file Pillow can read.
        input_shape: ``(H, W)`` to read it as grayscale, ``(3, H, W)`` to read it as RGB (channels first).

    Shapes: returns an array of shape ``input_shape``.

    Raises DataFileError when the file is not a readable image or its size is not ``(H, W)``.

    Example:
        >>> import numpy as np
        >>> from PIL import Image
        >>> Image.fromarray(np.full((5, 6), 51, np.uint8)).save("grey.png")
        >>> pixels = read_image("grey.png", (5, 6))
        >>> pixels.shape, pixels.dtype, round(float(pixels[0, 0]), 6)
        ((5, 6), dtype('float32'), 0.2)
        >>> read_image("grey.png", (3, 5, 6)).shape  # grayscale read as colour: the channel repeated
        (3, 5, 6)
    """
    path, input_shape = Path(path), _check_shape(input_shape)
    with _open(path) as image:
        width, height = image.size
        if (height, width) != input_shape[-2:]:
            raise DataFileError(path, f"image is {width}x{height} pixels (width x height); expected "
                                      f"{_expected(input_shape)}")
        try:
            return _rgb(image) if len(input_shape) == 3 else _gray(image)
        except (OSError, ValueError, SyntaxError) as error:  # e.g. "image file is truncated"
            raise DataFileError(path, f"is not a readable image ({_reason(error)}); its header was read "
                                      "but its pixels could not be decoded") from None


class ImageArray:
    """The decoded images of a list of files, as a read-only array that decodes only what is indexed.

    Args:
        paths: the image files, one per row.
        input_shape: the shape of one image: ``(H, W)`` (grayscale) or ``(3, H, W)`` (colour).

    Shapes: ``shape`` is ``(N, *input_shape)``, dtype float32. ``images[i]`` decodes one file
    (shape ``input_shape``); ``images[2:5]``, ``images[[4, 0, 7]]`` and ``images[mask]`` decode
    those files only and stack them; ``np.asarray(images)`` decodes all of them (small folders only).
    A file whose size changed since it was listed raises DataFileError when it is read.

    Example:
        >>> import numpy as np
        >>> from PIL import Image
        >>> for i in range(3):
        ...     Image.fromarray(np.full((2, 4), 255 * i // 2, np.uint8)).save(f"{i}.png")
        >>> images = ImageArray(["0.png", "1.png", "2.png"], (2, 4))
        >>> images.shape, images.dtype, len(images)
        ((3, 2, 4), dtype('float32'), 3)
        >>> images[[2, 0]][:, 0, 0].tolist()
        [1.0, 0.0]
    """

    dtype = np.dtype(np.float32)

    def __init__(self, paths: Sequence[str | Path], input_shape: Sequence[int]) -> None:
        self.paths = [Path(path) for path in paths]
        self.input_shape = _check_shape(input_shape)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.paths), *self.input_shape)

    @property
    def ndim(self) -> int:
        return 1 + len(self.input_shape)

    def __len__(self) -> int:
        return len(self.paths)

    def _decode(self, index: int) -> np.ndarray:
        return read_image(self.paths[index], self.input_shape)

    def __getitem__(self, index) -> np.ndarray:
        if isinstance(index, tuple):  # images[rows, ...]: decode the rows, then index inside them
            if not index:
                return self[:]
            rows = self[index[0]]
            rest = index[1:]
            return rows[rest] if isinstance(index[0], numbers.Integral) else rows[(slice(None), *rest)]
        if isinstance(index, numbers.Integral):
            length = len(self)
            if not -length <= index < length:
                raise IndexError(f"ImageArray index {index} is out of range for {length} images")
            return self._decode(int(index) % length)
        if isinstance(index, slice):
            rows = range(len(self))[index]
        else:
            rows = np.asarray(index)
            if rows.dtype == np.bool_:
                if rows.shape != (len(self),):
                    raise IndexError(f"ImageArray: a boolean index of shape {rows.shape} does not match "
                                     f"{len(self)} images")
                rows = np.flatnonzero(rows)
            elif rows.ndim != 1 or (rows.size and rows.dtype.kind not in "iu"):
                raise IndexError(f"ImageArray: index of shape {rows.shape} and dtype {rows.dtype} is not "
                                 "supported; expected an int, a slice, or a 1-d array of ints or bools")
            rows = [int(row) for row in rows]
        batch = np.empty((len(rows), *self.input_shape), np.float32)
        for position, row in enumerate(rows):
            batch[position] = self[row]
        return batch

    def __iter__(self):
        for index in range(len(self)):
            yield self._decode(index)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        # Decoding always makes a new array, so copy=False (never copy) holds trivially.
        everything = self[:]
        return everything if dtype is None else everything.astype(dtype, copy=False)

    def __repr__(self) -> str:
        return f"ImageArray({len(self)} images of shape {self.input_shape})"
