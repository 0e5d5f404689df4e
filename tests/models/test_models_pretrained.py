"""The pretrained-model zoo: manifest, checksums, and the shipped models' measured accuracy."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import dendrite
import dendrite.models
from dendrite.data import load_dataset
from dendrite.models import PretrainedChecksumError, list_pretrained, pretrained, pretrained_info
from dendrite.models.zoo import MANIFEST_NAME, ZOO_DIR, sha256_of

SHIPPED = {"digits-cnn": "cnn", "digits-mlp": "mlp", "digits04-cnn": "cnn"}


def test_the_shipped_models_are_listed_with_their_facts():
    rows = {row["name"]: row for row in list_pretrained()}
    assert set(SHIPPED) <= set(rows)
    for name, architecture in SHIPPED.items():
        row, entry = rows[name], pretrained_info(name)
        assert row["architecture"] == entry["architecture"] == architecture
        assert row["dataset"] == "digits" and 0 < row["bytes"] < 1_000_000
        assert sha256_of(ZOO_DIR / entry["file"]) == entry["sha256"]
        assert entry["arguments"]["input_shape"] == [8, 8]
        assert entry["arguments"]["num_classes"] == len(entry["data"]["classes"])
        assert 0.9 < entry["test_accuracy"] <= 1.0
    assert rows["digits04-cnn"]["classes"] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_loaded_model_reaches_its_manifest_accuracy(name):
    entry = pretrained_info(name)
    model = pretrained(name)
    assert not model.training  # ready for inference: dropout off
    digits = load_dataset("digits")
    classes = entry["data"]["classes"]
    keep = np.isin(digits.y_test, classes)
    labels = np.searchsorted(classes, digits.y_test[keep])
    with dendrite.no_grad():
        predicted = model(dendrite.tensor(digits.x_test[keep])).numpy().argmax(axis=1)
    assert keep.sum() == entry["n_test"]
    # Identical on the machine that made the file; another BLAS may flip at most a borderline image.
    assert abs(float((predicted == labels).mean()) - entry["test_accuracy"]) <= 1 / entry["n_test"] + 1e-9


def test_weights_are_plain_float32_arrays_named_like_the_state_dict():
    for name in SHIPPED:
        with np.load(ZOO_DIR / pretrained_info(name)["file"], allow_pickle=False) as archive:
            assert set(archive.files) == set(pretrained(name).state_dict())
            assert all(archive[key].dtype == np.float32 for key in archive.files)


def test_a_corrupted_copy_is_detected(tmp_path):
    shutil.copytree(ZOO_DIR, tmp_path / "zoo")
    assert pretrained("digits-cnn", directory=tmp_path / "zoo") is not None  # the copy itself is fine
    path = tmp_path / "zoo" / pretrained_info("digits-cnn")["file"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit inside the weights
    path.write_bytes(bytes(data))
    with pytest.raises(PretrainedChecksumError, match=r"'digits-cnn': .* is damaged .*SHA-256 [0-9a-f]{64}, "
                                                      r"expected [0-9a-f]{64}"):
        pretrained("digits-cnn", directory=tmp_path / "zoo")


def test_a_replaced_but_valid_file_is_caught_only_by_the_checksum(tmp_path):
    shutil.copytree(ZOO_DIR, tmp_path / "zoo")
    original = pretrained("digits-cnn").state_dict()
    altered = {key: value.numpy() + np.float32(0.01) for key, value in original.items()}
    dendrite.save(altered, tmp_path / "zoo" / pretrained_info("digits-cnn")["file"])
    with pytest.raises(PretrainedChecksumError):
        pretrained("digits-cnn", directory=tmp_path / "zoo")
    # Without the check the file loads: a well-formed file with the wrong weights.
    loaded = pretrained("digits-cnn", directory=tmp_path / "zoo", verify=False).state_dict()
    np.testing.assert_array_equal(loaded["features.0.bias"].numpy(), altered["features.0.bias"])


def test_unknown_names_and_missing_files_are_clear(tmp_path):
    with pytest.raises(KeyError, match="no pretrained model 'digits-gpt'; available: .*digits-cnn"):
        pretrained("digits-gpt")
    shutil.copy(ZOO_DIR / MANIFEST_NAME, tmp_path / MANIFEST_NAME)
    with pytest.raises(FileNotFoundError, match="weights file .* is missing"):
        pretrained("digits-mlp", directory=tmp_path)
    (tmp_path / MANIFEST_NAME).write_text(json.dumps({"models": {}}))
    with pytest.raises(ValueError, match="not a dendrite pretrained-model manifest"):
        list_pretrained(tmp_path)
