"""set_num_threads / get_num_threads: the BLAS pool behind NumPy, through threadpoolctl."""

from __future__ import annotations

import builtins

import pytest
import torch
from threadpoolctl import threadpool_info

import dendrite


def _blas_threads() -> list:
    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


@pytest.fixture
def restore_threads():
    before = dendrite.get_num_threads()
    yield
    dendrite.set_num_threads(before)


def test_set_num_threads_limits_the_blas_pool(restore_threads):
    assert _blas_threads(), "NumPy's BLAS should be visible to threadpoolctl"
    dendrite.set_num_threads(1)
    assert dendrite.get_num_threads() == 1 and set(_blas_threads()) == {1}
    dendrite.set_num_threads(2)
    assert dendrite.get_num_threads() == 2 and set(_blas_threads()) == {2}


@pytest.mark.parametrize("value, error, pattern", [
    (0, ValueError, "positive integer"), (-1, ValueError, "positive integer"),
    (2.0, TypeError, "expects an int, but got float"), (True, TypeError, "expects an int, but got bool"),
])
def test_bad_thread_counts_are_refused_as_torch(value, error, pattern):
    if not isinstance(value, bool):
        with pytest.raises(RuntimeError):
            torch.set_num_threads(value)
    with pytest.raises(error, match=pattern):
        dendrite.set_num_threads(value)


def test_without_threadpoolctl_the_error_names_the_package(monkeypatch):
    real_import = builtins.__import__

    def refuse(name, *args, **kwargs):
        if name == "threadpoolctl":
            raise ImportError("No module named 'threadpoolctl'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)
    for call in (lambda: dendrite.set_num_threads(1), dendrite.get_num_threads):
        with pytest.raises(ImportError, match=r"needs the threadpoolctl package.*pip install threadpoolctl"):
            call()
