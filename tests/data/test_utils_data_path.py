"""``dendrite.utils.data`` is PyTorch's import path to dendrite.data; IterableDataset streams as in torch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import dendrite
import dendrite.data
import dendrite.utils.data
from dendrite.utils.data import ChainDataset, DataLoader, IterableDataset, get_worker_info

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", dendrite.utils.data.__all__)
def test_every_name_is_dendrite_datas_own_and_torch_has_it(name):
    assert getattr(dendrite.utils.data, name) is getattr(dendrite.data, name)
    assert hasattr(torch.utils.data, name)


def test_an_unknown_name_says_what_there_is():
    with pytest.raises(AttributeError, match="has no attribute 'Nope'; it offers Dataset, IterableDataset"):
        dendrite.utils.data.Nope  # noqa: B018


def test_import_dendrite_reaches_both_paths_without_loading_the_data_package():
    code = ("import sys, dendrite; loaded = 'dendrite.data' in sys.modules; "
            "loader = dendrite.utils.data.DataLoader; "
            "print(loaded, loader is dendrite.data.DataLoader)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    assert result.stdout.split() == ["False", "True"]


class _Counting:
    """The same stream for both libraries: ``n`` Python ints."""

    @staticmethod
    def make(lib, n, with_length=False):
        class Counting(lib.utils.data.IterableDataset):
            def __iter__(self):
                return iter(range(n))

        if with_length:
            Counting.__len__ = lambda self: n
        return Counting()


@pytest.mark.parametrize("options", [dict(batch_size=2), dict(batch_size=2, drop_last=True),
                                     dict(batch_size=5), dict(batch_size=None), dict()])
def test_iterable_batches_match_torch(options):
    ours = [b.tolist() if isinstance(b, dendrite.Tensor) else b
            for b in DataLoader(_Counting.make(dendrite, 5), **options)]
    theirs = [b.tolist() if isinstance(b, torch.Tensor) else b
              for b in torch.utils.data.DataLoader(_Counting.make(torch, 5), **options)]
    assert ours == theirs


@pytest.mark.parametrize("options", [dict(batch_size=2), dict(batch_size=2, drop_last=True),
                                     dict(batch_size=None)])
def test_iterable_length_matches_torch(options):
    assert len(DataLoader(_Counting.make(dendrite, 5, True), **options)) == \
        len(torch.utils.data.DataLoader(_Counting.make(torch, 5, True), **options))
    with pytest.raises(TypeError):
        len(torch.utils.data.DataLoader(_Counting.make(torch, 5), **options))
    with pytest.raises(TypeError, match="has no len()"):
        len(DataLoader(_Counting.make(dendrite, 5), **options))


@pytest.mark.parametrize("option", [dict(shuffle=True), dict(sampler=[0, 1]), dict(batch_sampler=[[0]])])
def test_iterable_refuses_index_options_as_torch(option):
    name = next(iter(option))
    with pytest.raises(ValueError, match=f"expected unspecified {name} option"):
        torch.utils.data.DataLoader(_Counting.make(torch, 3), **option)
    with pytest.raises(ValueError, match=f"with IterableDataset: expected unspecified {name} option"):
        DataLoader(_Counting.make(dendrite, 3), **option)


def test_iterable_is_a_dataset_without_indexing_and_chains():
    stream = _Counting.make(dendrite, 2)
    assert isinstance(stream, dendrite.utils.data.Dataset)
    with pytest.raises(TypeError, match="is an IterableDataset: it has no dataset\\[i\\]"):
        stream[0]
    chained = stream + _Counting.make(dendrite, 3)
    assert isinstance(chained, ChainDataset)
    assert list(chained) == list(_Counting.make(torch, 2) + _Counting.make(torch, 3)) == [0, 1, 0, 1, 2]
    with pytest.raises(TypeError, match="dataset 1 is a list"):
        ChainDataset([stream, [1, 2]])
    assert isinstance(stream, IterableDataset)


def test_get_worker_info_is_none_in_the_calling_process_as_torch():
    assert get_worker_info() is None and torch.utils.data.get_worker_info() is None
