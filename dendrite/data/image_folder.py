"""Folders of users' own pictures laid out as ``root/<class name>/<image files>`` (torchvision's ImageFolder).

:func:`index_image_folder` lists the images and checks every file's header
(size and mode, read by Pillow without decoding the pixels), so that a folder
larger than memory is indexed in one quick pass and any bad file is named before
training starts. The pixels are decoded later, a batch at a time, through
:attr:`ImageFolder.images` (an :class:`~dendrite.data.image_decode.ImageArray`).

The layout rules:

* the class names are the sub-folders of ``root``, sorted; the label of an image
  is the position of its class in that list (for a validation or test folder, the
  position in the *training* classes, see ``classes=``);
* images are the files whose suffix is one of :data:`IMAGE_SUFFIXES` (any case),
  anywhere below a class folder (sub-sub-folders are walked too, as torchvision
  does); other files and hidden files or folders (a name starting with ``.``)
  are ignored;
* every image must have the size of the first one (in sorted order);
* the images are read as grayscale ``(H, W)`` when every one of them has a
  grayscale mode, and as colour ``(3, H, W)`` when at least one is colour: then
  the grayscale ones have their channel repeated (colour wins, so that one RGB
  picture among grey ones loses nothing). See :mod:`dendrite.data.image_decode`
  for the modes and how pixels are scaled to ``[0, 1]``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dendrite.data.file_errors import DataFileError
from dendrite.data.image_decode import ImageArray, is_colour, read_header, read_image
from dendrite.data.progress import indexing_bar

__all__ = ["IMAGE_SUFFIXES", "ImageArray", "ImageFolder", "image_files", "index_image_folder", "read_image"]

#: The file suffixes read as images (matched in any case: ``.PNG`` and ``.Jpg`` count).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")

_LAYOUT = "root/<class>/<image>"


@dataclass
class ImageFolder:
    """The images of a class-folder tree, indexed but not decoded.

    Attributes:
        root: the folder that holds the class folders.
        paths: the image files, class by class, each class's files sorted.
        labels: int64 array of shape ``(N,)``: the index into ``classes`` of each image's class.
        classes: the class names (for a folder indexed with ``classes=``, the training classes).
        input_shape: the shape of one decoded image: ``(H, W)`` grayscale or ``(3, H, W)`` colour.

    Example:
        >>> import numpy as np
        >>> paths = [Path("shapes/round/a.png")]
        >>> folder = ImageFolder(Path("shapes"), paths, np.array([0]), ["round"], (8, 8))
        >>> len(folder), folder.images.shape
        (1, (1, 8, 8))
    """

    root: Path
    paths: list[Path]
    labels: np.ndarray
    classes: list[str]
    input_shape: tuple

    @property
    def images(self) -> ImageArray:
        """The images as a lazy float32 array of shape ``(N, *input_shape)``, decoded when indexed."""
        return ImageArray(self.paths, self.input_shape)

    def __len__(self) -> int:
        return len(self.paths)


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def _images_below(folder: Path) -> list[Path]:
    """The image files in ``folder`` and its sub-folders (hidden ones skipped), sorted by path."""
    found, seen = [], set()
    for directory, subfolders, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(directory)
        if real in seen:  # a symbolic link back up the tree: walk each folder once
            subfolders[:] = []
            continue
        seen.add(real)
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        found.extend(Path(directory, name) for name in files if _is_image(Path(name)))
    return sorted(found)


def _some(names: Sequence[str], most: int = 20) -> str:
    shown = ", ".join(repr(name) for name in names[:most])
    return shown if len(names) <= most else f"{shown}, ... ({len(names)} in all)"


def _class_folders(root: Path) -> list[Path]:
    if not root.exists():
        raise FileNotFoundError(f"image folder {root} does not exist")
    if not root.is_dir():
        raise DataFileError(root, f"is a file, not a folder; expected a folder of class folders laid out as "
                                  f"{_LAYOUT}")
    folders = sorted((entry for entry in root.iterdir() if entry.is_dir() and not entry.name.startswith(".")),
                     key=lambda entry: entry.name)
    if not folders:
        loose = sum(1 for entry in root.iterdir() if entry.is_file() and _is_image(entry))
        hint = f" (it holds {loose} images directly: move them into one folder per class)" if loose else ""
        raise DataFileError(root, f"has no class folders{hint}; expected the layout {_LAYOUT}, one "
                                  "sub-folder per class holding that class's images")
    return folders


def _check_size(path: Path, size: tuple[int, int], expected: tuple[int, int], setter: str) -> None:
    if size != expected:
        raise DataFileError(path, f"image is {size[0]}x{size[1]} pixels (width x height); expected "
                                  f"{expected[0]}x{expected[1]}, the size of {setter} (all images must have "
                                  "one size: resize them first)")


def index_image_folder(root: str | Path, classes: Sequence[str] | None = None, progress: bool = False,
                       input_shape: Sequence[int] | None = None) -> ImageFolder:
    """List the images of a ``root/<class>/<image>`` tree and check every header, without decoding pixels.

    Args:
        root: the folder whose sub-folders are the classes.
        classes: the training classes, when ``root`` is a validation or test folder: its class
            folders must be among them (a training class may be missing) and the labels index
            into them. ``None``: the classes are ``root``'s sub-folders, sorted.
        progress: show a bar (unit "images") while the headers are read, when tqdm is installed.
        input_shape: the training images' shape, when ``root`` is a validation or test folder:
            every image must have its height and width, and they are read as grayscale or colour
            as the training images were. ``None``: the images decide (see the module docstring).

    Shapes: ``labels`` is ``(N,)`` int64; ``input_shape`` is ``(H, W)`` or ``(3, H, W)``.

    Raises:
        FileNotFoundError: ``root`` does not exist.
        DataFileError: ``root`` is not a folder or has no class folders; a class folder holds no
            image or is not one of ``classes``; an image is unreadable or of another size.

    Example:
        >>> import numpy as np
        >>> from pathlib import Path
        >>> from PIL import Image
        >>> for name, value in (("cat/a.png", 0), ("cat/b.png", 9), ("dog/c.png", 255)):
        ...     Path(name).parent.mkdir(exist_ok=True)
        ...     Image.fromarray(np.full((5, 6), value, np.uint8)).save(name)
        >>> folder = index_image_folder(".")
        >>> folder.classes, folder.labels.tolist(), folder.input_shape
        (['cat', 'dog'], [0, 0, 1], (5, 6))
        >>> folder.images.shape, float(folder.images[2].max())
        ((3, 5, 6), 1.0)
    """
    root = Path(root)
    folders = _class_folders(root)
    names = [folder.name for folder in folders]
    if classes is not None:
        classes = [str(name) for name in classes]
        unknown = [name for name in names if name not in classes]
        if unknown:
            raise DataFileError(root / unknown[0], f"class folder '{unknown[0]}' is a label not seen in "
                                                   f"training; the training classes are {_some(classes)}")
    else:
        classes = names
    paths, labels = [], []
    for folder in folders:
        found = _images_below(folder)
        if not found:
            raise DataFileError(folder, f"class folder '{folder.name}' holds no images ("
                                        f"{'/'.join(IMAGE_SUFFIXES)}); expected at least one image per class")
        paths.extend(found)
        labels.extend([classes.index(folder.name)] * len(found))
    expected, colour = None, False
    if input_shape is not None:
        input_shape = ImageArray([], input_shape).input_shape  # checks it is (H, W) or (3, H, W)
        expected, setter = (input_shape[-1], input_shape[-2]), f"the training images {input_shape}"
    with indexing_bar(len(paths), f"indexing {root}", enabled=progress, unit="images") as bar:
        for path in paths:
            width, height, mode = read_header(path)
            if expected is None:
                expected, setter = (width, height), f"the first image {path}"
            _check_size(path, (width, height), expected, setter)
            colour = colour or is_colour(mode)
            bar.update(1)
    if input_shape is not None:
        shape = input_shape
    else:
        shape = (3, expected[1], expected[0]) if colour else (expected[1], expected[0])
    return ImageFolder(root, paths, np.asarray(labels, dtype=np.int64), list(classes), shape)


def image_files(path: str | Path) -> list[Path]:
    """The image files at ``path``: one image file, a flat folder of images, or a class tree (for prediction).

    A folder's images are found in it and its sub-folders (hidden ones skipped), sorted by path,
    so a class tree gives its images class by class.

    Raises FileNotFoundError when ``path`` does not exist, DataFileError when it is a file with
    another suffix or a folder without images.

    Example:
        >>> from pathlib import Path
        >>> Path("pics/cat").mkdir(parents=True)
        >>> for name in ("pics/cat/b.png", "pics/a.JPG", "pics/notes.txt"):
        ...     _ = Path(name).write_bytes(b"")
        >>> [p.as_posix() for p in image_files("pics")]
        ['pics/a.JPG', 'pics/cat/b.png']
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    if path.is_file():
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise DataFileError(path, "is not an image file; expected a suffix among "
                                      f"{'/'.join(IMAGE_SUFFIXES)}")
        return [path]
    found = _images_below(path)
    if not found:
        raise DataFileError(path, f"holds no images ({'/'.join(IMAGE_SUFFIXES)}); expected an image file, a "
                                  f"folder of images or a class tree {_LAYOUT}")
    return found
