"""Build dendrite/data/files/digits.npz from scikit-learn's bundled copy of the 8x8 digits.

Run once by a maintainer (scikit-learn needed here only, never at runtime):

    python scripts/make_digits.py            # writes the file, prints its SHA-256
    python scripts/make_digits.py --check    # rebuilds in memory, compares with the shipped file

The data: UCI ML hand-written digits (E. Alpaydin, C. Kaynak, 1998), 1,797 images
of 8x8 pixels with values 0..16, CC BY 4.0
(https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits).

The split is made here and stored in the file, so it never depends on a
random-number algorithm at load time: per class, a seeded permutation puts a
share of the images proportional to the class size in the test part (360 test
images in all, largest-remainder rounding), the rest in the training part; both
parts keep scikit-learn's original order. The zip is written with fixed
timestamps so that rebuilding gives the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "dendrite" / "data" / "files" / "digits.npz"
TEST_SIZE = 360
SEED = 0


def stratified_test_mask(labels: np.ndarray, n_test: int, seed: int) -> np.ndarray:
    """A boolean mask choosing ``n_test`` rows, class shares as in ``labels`` (largest remainder)."""
    classes, counts = np.unique(labels, return_counts=True)
    quotas = counts * n_test / counts.sum()
    chosen = np.floor(quotas).astype(int)
    order = sorted(range(len(classes)), key=lambda i: (-(quotas[i] - chosen[i]), i))
    for i in order[: n_test - chosen.sum()]:
        chosen[i] += 1
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(labels), bool)
    for label, count in zip(classes, chosen):
        members = np.flatnonzero(labels == label)
        mask[rng.permutation(members)[:count]] = True
    return mask


def build() -> bytes:
    from sklearn.datasets import load_digits  # maintainer-only dependency

    bunch = load_digits()
    images = bunch.images
    if images.shape != (1797, 8, 8) or images.min() < 0 or images.max() > 16:
        raise SystemExit(
            f"unexpected sklearn digits: shape {images.shape}, range {images.min()}..{images.max()}"
        )
    images = images.astype(np.uint8)
    labels = bunch.target.astype(np.uint8)
    test = stratified_test_mask(labels, TEST_SIZE, SEED)
    index = np.arange(len(labels), dtype=np.uint16)
    arrays = {
        "x_train": images[~test], "y_train": labels[~test], "index_train": index[~test],
        "x_test": images[test], "y_test": labels[test], "index_test": index[test],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, member.getvalue(), compresslevel=9)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare a rebuild with the shipped file")
    args = parser.parse_args(argv)
    data = build()
    digest = hashlib.sha256(data).hexdigest()
    if args.check:
        shipped = hashlib.sha256(TARGET.read_bytes()).hexdigest()
        print(f"rebuilt {digest}\nshipped {shipped}")
        return 0 if digest == shipped else 1
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    temporary = TARGET.with_suffix(".npz.tmp")
    temporary.write_bytes(data)
    temporary.replace(TARGET)
    print(f"wrote {TARGET} ({len(data)} bytes)\nsha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
