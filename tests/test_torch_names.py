"""PyTorch's one-line names (is_tensor, numel, finfo, compile, Variable, utils.data paths) vs torch."""

import pytest

import dendrite

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("lib", [dendrite, torch], ids=["dendrite", "torch"])
def test_small_names_answer_as_torch(lib):
    x = lib.ones(2, 3)
    assert lib.is_tensor(x) and not lib.is_tensor([1.0]) and not lib.is_tensor(x.numpy())
    assert lib.is_floating_point(x) and not lib.is_floating_point(lib.arange(3))
    assert lib.numel(x) == 6 and lib.numel(lib.tensor(2.0)) == 1
    assert float(lib.finfo(lib.float32).eps) == 2.0 ** -23
    assert lib.finfo(lib.float64).max > 1e308 and lib.iinfo(lib.int8).min == -128
    model = lib.nn.Linear(3, 1)
    assert lib.compile(model) is not None and lib.compile(model)(x).shape == (2, 1)


@pytest.mark.parametrize("lib", [dendrite, torch], ids=["dendrite", "torch"])
def test_variable_is_a_detached_tensor_sharing_memory(lib):
    t = lib.ones(2) * lib.tensor(3.0, requires_grad=True)
    v = lib.autograd.Variable(t)
    assert v.grad_fn is None and not v.requires_grad and v.tolist() == [3.0, 3.0]
    w = lib.autograd.Variable(lib.zeros(2), requires_grad=True)
    assert w.requires_grad and w.is_leaf
    with pytest.raises(TypeError, match="Variable data has to be a tensor"):
        lib.autograd.Variable([1.0])


def test_compile_returns_the_model_itself_and_works_as_a_decorator():
    model = dendrite.nn.Linear(2, 1)
    assert dendrite.compile(model, mode="reduce-overhead") is model  # compiled in place (its forward)
    assert dendrite.compile()(len)([1, 2]) == 2  # a function of no tensors runs eagerly


def test_finfo_and_iinfo_refuse_the_other_kind_clearly():
    with pytest.raises(TypeError, match="finfo: expected a floating dtype"):
        dendrite.finfo(dendrite.int64)
    with pytest.raises(TypeError, match="iinfo: expected an integer dtype"):
        dendrite.iinfo(dendrite.float32)
    with pytest.raises(RuntimeError, match="cuda"):
        dendrite.set_default_device("cuda")


def test_utils_data_submodules_are_torchs_paths_to_the_same_objects():
    from dendrite.utils.data.dataloader import DataLoader, default_collate
    from dendrite.utils.data.dataset import TensorDataset, random_split
    from dendrite.utils.data.sampler import RandomSampler

    assert DataLoader is dendrite.data.DataLoader and default_collate is dendrite.data.default_collate
    assert random_split is dendrite.data.random_split and RandomSampler is dendrite.data.RandomSampler
    parts = random_split(TensorDataset(dendrite.arange(10.0)), [7, 3])
    assert [len(part) for part in parts] == [7, 3]
