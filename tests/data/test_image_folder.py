"""Image folders (root/<class>/<image>): indexing by headers only, lazy decoding, every error, image_files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dendrite.data import DataLoader, TensorDataset, image_decode
from dendrite.data.file_errors import DataFileError
from dendrite.data.image_folder import (
    IMAGE_SUFFIXES,
    ImageArray,
    ImageFolder,
    image_files,
    index_image_folder,
    read_image,
)
from dendrite.data.lazy_rows import LazyRowsDataset

H, W = 5, 6
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def Image():
    return pytest.importorskip("PIL.Image")


def _save(Image, path: Path, pixels: np.ndarray, **options) -> np.ndarray:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, **options)
    return pixels


def _noise(seed: int, shape=(H, W, 3)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def _chw(pixels: np.ndarray) -> np.ndarray:
    """What an 8-bit picture should decode to: float32 / 255, colour channels first."""
    scaled = pixels.astype(np.float32) / 255.0
    return scaled.transpose(2, 0, 1) if scaled.ndim == 3 else scaled


@pytest.fixture
def tree(tmp_path, Image):
    """bird/e.PNG (grey), cat/a.png (RGB), cat/b.png (grey), dog/c.png, dog/d.jpg (RGB) + files to skip."""
    root = tmp_path / "train"
    written = {
        "bird/e.PNG": _save(Image, root / "bird/e.PNG", _noise(1, (H, W))),
        "cat/a.png": _save(Image, root / "cat/a.png", _noise(2)),
        "cat/b.png": _save(Image, root / "cat/b.png", _noise(3, (H, W))),
        "dog/c.png": _save(Image, root / "dog/c.png", _noise(4)),
        "dog/d.jpg": _save(Image, root / "dog/d.jpg", np.full((H, W, 3), (200, 40, 90), np.uint8),
                           quality=95),
    }
    (root / "dog/notes.txt").write_text("not a picture")
    (root / "dog/.hidden.png").write_bytes(b"hidden and not an image: must not be read")
    (root / ".cache/x.png").parent.mkdir()
    (root / ".cache/x.png").write_bytes(b"a hidden folder is not a class")
    (root / "readme.png").write_bytes(b"a file at the top is not a class")
    return root, written


def test_index_lists_classes_labels_and_colour_shape(tree):
    root, written = tree
    folder = index_image_folder(root)
    assert isinstance(folder, ImageFolder) and folder.root == root
    assert folder.classes == ["bird", "cat", "dog"]
    assert [p.relative_to(root).as_posix() for p in folder.paths] == list(written)
    assert folder.labels.dtype == np.int64 and folder.labels.tolist() == [0, 1, 1, 2, 2]
    assert folder.input_shape == (3, H, W)  # colour wins: some images are RGB
    images = folder.images
    assert images.shape == (5, 3, H, W) and images.dtype == np.float32 and images.ndim == 4
    assert len(images) == len(folder) == 5


def test_png_pixels_exact_grey_repeated_jpeg_close(tree):
    root, written = tree
    images = index_image_folder(root).images
    np.testing.assert_array_equal(images[1], _chw(written["cat/a.png"]))
    np.testing.assert_array_equal(images[3], _chw(written["dog/c.png"]))
    grey = _chw(written["cat/b.png"])
    np.testing.assert_array_equal(images[2], np.stack([grey, grey, grey]))
    jpeg = images[4] * 255.0  # lossy, but a flat colour comes back within a few levels
    for channel, value in enumerate((200, 40, 90)):
        assert np.abs(jpeg[channel] - value).max() <= 3
    assert 0.0 <= images[:].min() and images[:].max() <= 1.0


def test_indexing_batches_slices_masks_and_array(tree):
    root, written = tree
    images = index_image_folder(root).images
    everything = np.asarray(images)
    assert everything.shape == (5, 3, H, W) and everything.dtype == np.float32
    np.testing.assert_array_equal(images[[3, 1]], everything[[3, 1]])
    np.testing.assert_array_equal(images[np.array([4, 0])], everything[[4, 0]])
    np.testing.assert_array_equal(images[1:4], everything[1:4])
    np.testing.assert_array_equal(images[::-2], everything[::-2])
    np.testing.assert_array_equal(images[-1], everything[4])
    mask = np.array([True, False, False, True, False])
    np.testing.assert_array_equal(images[mask], everything[mask])
    np.testing.assert_array_equal(images[1, 0], everything[1, 0])
    np.testing.assert_array_equal(images[[0, 2], :, 1], everything[[0, 2], :, 1])
    assert images[[]].shape == (0, 3, H, W)
    assert np.asarray(images, dtype=np.float64).dtype == np.float64
    with pytest.raises(IndexError, match="out of range for 5 images"):
        images[5]
    with pytest.raises(IndexError, match="expected an int, a slice"):
        images[np.zeros((2, 2), np.int64)]


def test_indexing_reads_headers_only_and_decodes_just_the_batch(tree, monkeypatch):
    from PIL import ImageFile

    root, _ = tree
    loads, reads = [], []
    real_load, real_read = ImageFile.ImageFile.load, image_decode.read_image

    def counting_load(self):
        loads.append(self.filename)
        return real_load(self)

    def counting_read(path, input_shape):
        reads.append(Path(path).name)
        return real_read(path, input_shape)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    monkeypatch.setattr(image_decode, "read_image", counting_read)
    folder = index_image_folder(root)
    assert loads == [] and reads == []  # five headers read, no pixel decoded
    batch = folder.images[[3, 0]]
    assert batch.shape == (2, 3, H, W)
    assert reads == ["c.png", "e.PNG"] and len(loads) == 2  # the counters do see a decode
    folder.images[1:3]
    assert reads[2:] == ["a.png", "b.png"]


def test_all_grey_folder_is_single_channel(tmp_path, Image):
    root = tmp_path / "digits"
    ones = _save(Image, root / "one/1.png", _noise(5, (H, W)))
    sevens = _save(Image, root / "seven/7.bmp", _noise(6, (H, W)))
    _save(Image, root / "seven/7b.png", np.zeros((H, W, 2), np.uint8))  # LA: grey with alpha
    folder = index_image_folder(root)
    assert folder.input_shape == (H, W) and folder.labels.tolist() == [0, 1, 1]
    np.testing.assert_array_equal(folder.images[0], _chw(ones))
    np.testing.assert_array_equal(folder.images[1], _chw(sevens))


def test_modes_scale_to_unit_range(tmp_path, Image):
    bits = np.array([[True, False, True]])
    Image.fromarray(bits).save(tmp_path / "bits.png")
    np.testing.assert_array_equal(read_image(tmp_path / "bits.png", (1, 3)), [[1.0, 0.0, 1.0]])
    deep = np.array([[0, 65535, 1000]], np.uint16)
    Image.fromarray(deep).save(tmp_path / "deep.png")
    assert image_decode.read_header(tmp_path / "deep.png") == (3, 1, "I;16")
    np.testing.assert_array_equal(read_image(tmp_path / "deep.png", (1, 3)),
                                  deep.astype(np.float32) / 65535.0)
    rgba = np.array([[[10, 20, 30, 0], [250, 0, 5, 255]]], np.uint8)
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    np.testing.assert_array_equal(read_image(tmp_path / "rgba.png", (3, 1, 2)), _chw(rgba[..., :3]))
    palette = Image.new("P", (2, 1))
    palette.putpalette([0, 0, 0, 255, 128, 0] + [0] * 762)
    palette.putpixel((1, 0), 1)
    palette.save(tmp_path / "palette.gif")
    np.testing.assert_array_equal(read_image(tmp_path / "palette.gif", (3, 1, 2)),
                                  _chw(np.array([[[0, 0, 0], [255, 128, 0]]], np.uint8)))
    assert image_decode.read_header(tmp_path / "palette.gif") == (2, 1, "P")


def test_errors_name_the_folder_and_the_layout(tmp_path, Image):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        index_image_folder(tmp_path / "nowhere")
    (tmp_path / "file.png").write_bytes(b"")
    with pytest.raises(DataFileError, match=r"file\.png: is a file, not a folder"):
        index_image_folder(tmp_path / "file.png")
    flat = tmp_path / "flat"
    _save(Image, flat / "a.png", _noise(0))
    (flat / ".hidden").mkdir()
    with pytest.raises(DataFileError) as caught:
        index_image_folder(flat)
    message = str(caught.value)
    assert "flat: has no class folders (it holds 1 images directly" in message
    assert "root/<class>/<image>" in message and "\n" not in message


def test_class_without_images_is_named(tree):
    root, _ = tree
    (root / "empty").mkdir()
    (root / "empty/notes.txt").write_text("no pictures here")
    with pytest.raises(DataFileError) as caught:
        index_image_folder(root)
    assert caught.value.path == str(root / "empty")
    assert "class folder 'empty' holds no images" in str(caught.value)
    assert "at least one image per class" in str(caught.value)


def test_image_of_another_size_is_named_with_both_sizes(tree, Image):
    root, _ = tree
    _save(Image, root / "cat/wide.png", _noise(7, (H, W + 1, 3)))
    with pytest.raises(DataFileError) as caught:
        index_image_folder(root)
    message = str(caught.value)
    assert caught.value.path == str(root / "cat/wide.png")
    assert "image is 7x5 pixels (width x height); expected 6x5" in message
    assert f"the first image {root / 'bird/e.PNG'}" in message


def test_unreadable_image_is_named(tree):
    root, _ = tree
    (root / "cat/broken.jpg").write_bytes(b"these bytes are no JPEG")
    with pytest.raises(DataFileError) as caught:
        index_image_folder(root)
    assert caught.value.path == str(root / "cat/broken.jpg")
    assert "is not a readable image" in str(caught.value) and "\n" not in str(caught.value)


def test_truncated_image_fails_when_decoded(tree):
    root, _ = tree
    path = root / "dog/c.png"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # the header survives, the pixels do not
    folder = index_image_folder(root)
    with pytest.raises(DataFileError, match=r"c\.png: is not a readable image \(image file is truncated\)"):
        folder.images[3]


def test_file_resized_after_indexing_is_refused(tree, Image):
    root, _ = tree
    folder = index_image_folder(root)
    _save(Image, root / "cat/a.png", _noise(8, (H + 2, W, 3)))
    with pytest.raises(DataFileError) as caught:
        folder.images[0:2]
    assert caught.value.path == str(root / "cat/a.png")
    assert "image is 6x7 pixels (width x height); expected 6x5 pixels" in str(caught.value)
    np.testing.assert_array_equal(folder.images[0].shape, (3, H, W))  # the others still read


def test_test_folder_checked_against_training_classes(tree, tmp_path, Image):
    root, _ = tree
    training = index_image_folder(root)
    test = tmp_path / "test"
    _save(Image, test / "dog/x.png", _noise(9, (H, W)))
    _save(Image, test / "bird/y.png", _noise(10, (H, W)))
    folder = index_image_folder(test, classes=training.classes, input_shape=training.input_shape)
    assert folder.classes == ["bird", "cat", "dog"]  # cat is missing from the test folder: fine
    assert folder.labels.tolist() == [0, 2]  # positions in the training classes
    assert folder.input_shape == (3, H, W) and folder.images[:].shape == (2, 3, H, W)
    assert index_image_folder(test, classes=training.classes).input_shape == (H, W)
    _save(Image, test / "fox/z.png", _noise(11, (H, W)))
    with pytest.raises(DataFileError) as caught:
        index_image_folder(test, classes=training.classes)
    message = str(caught.value)
    assert caught.value.path == str(test / "fox")
    assert "class folder 'fox' is a label not seen in training" in message
    assert "the training classes are 'bird', 'cat', 'dog'" in message


def test_test_folder_of_another_size_names_the_training_size(tree, tmp_path, Image):
    root, _ = tree
    training = index_image_folder(root)
    _save(Image, tmp_path / "test/cat/big.png", _noise(12, (H + 1, W + 1, 3)))
    with pytest.raises(DataFileError, match=r"big\.png: image is 7x6 .* expected 6x5, the size of the "
                                            r"training images \(3, 5, 6\)"):
        index_image_folder(tmp_path / "test", classes=training.classes, input_shape=training.input_shape)


def test_progress_bar_counts_images(tree):
    root, _ = tree
    assert len(index_image_folder(root, progress=True)) == 5


def test_read_image_checks_size(tmp_path, Image):
    pixels = _save(Image, tmp_path / "new.png", _noise(13))
    np.testing.assert_array_equal(read_image(tmp_path / "new.png", (3, H, W)), _chw(pixels))
    with pytest.raises(DataFileError, match=r"new\.png: image is 6x5 pixels .* expected 4x4 pixels"):
        read_image(tmp_path / "new.png", (3, 4, 4))
    with pytest.raises(ValueError, match="expected \\(H, W\\) for grayscale or \\(3, H, W\\)"):
        read_image(tmp_path / "new.png", (2, H, W))


def test_image_files_of_a_file_a_flat_folder_and_a_tree(tree, tmp_path, Image):
    root, written = tree
    assert image_files(root / "cat/a.png") == [root / "cat/a.png"]
    flat = tmp_path / "flat"
    for name in ("b.jpeg", "A.TIF", "c.webp"):
        (flat / name).parent.mkdir(exist_ok=True)
        (flat / name).write_bytes(b"")
    (flat / "notes.txt").write_text("skip me")
    (flat / ".d.png").write_bytes(b"")
    assert [p.name for p in image_files(flat)] == ["A.TIF", "b.jpeg", "c.webp"]
    # a class tree class by class; the loose image at its top is found too
    assert [p.relative_to(root).as_posix() for p in image_files(root)] == [*written, "readme.png"]
    with pytest.raises(DataFileError, match=r"notes\.txt: is not an image file; expected a suffix among "
                                            r"\.png/\.jpg"):
        image_files(flat / "notes.txt")
    (tmp_path / "none").mkdir()
    with pytest.raises(DataFileError, match="none: holds no images"):
        image_files(tmp_path / "none")
    with pytest.raises(FileNotFoundError, match="missing"):
        image_files(tmp_path / "missing")
    assert IMAGE_SUFFIXES == (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def test_loader_over_lazy_images_matches_tensor_dataset(tree):
    root, _ = tree
    folder = index_image_folder(root)
    lazy = DataLoader(LazyRowsDataset(folder.images, folder.labels), batch_size=4, shuffle=True, seed=0)
    eager = DataLoader(TensorDataset(np.asarray(folder.images), folder.labels), batch_size=4, shuffle=True,
                       seed=0)
    assert lazy.uses_fast_path
    for _ in range(2):  # two epochs: two different orders, the same in both loaders
        batches = list(zip(lazy, eager))
        assert len(batches) == 2
        for (x, y), (ex, ey) in batches:
            assert x.dtype == ex.dtype == np.float32 and y.dtype == ey.dtype == np.int64
            np.testing.assert_array_equal(x.array, ex.array)
            np.testing.assert_array_equal(y.array, ey.array)


def test_array_without_files_and_repr():
    images = ImageArray([], (3, 2, 2))
    assert images.shape == (0, 3, 2, 2) and np.asarray(images).shape == (0, 3, 2, 2)
    assert repr(images) == "ImageArray(0 images of shape (3, 2, 2))"


def test_without_pillow_the_error_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)  # `from PIL import Image` now raises ImportError
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat/a.png").write_bytes(b"")
    with pytest.raises(ImportError, match=r'needs Pillow.*pip install "dendrite\[images\]"'):
        index_image_folder(tmp_path)
    assert image_files(tmp_path) == [tmp_path / "cat/a.png"]  # listing needs no Pillow


def test_modules_import_without_pillow():
    code = ("import sys; sys.modules['PIL'] = None\n"
            "import dendrite.data.image_folder, dendrite.data.lazy_rows\n"
            "assert 'PIL.Image' not in sys.modules")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT, timeout=120)
