"""Tensor creation, attributes, conversions, in-place updates and printing, against PyTorch."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import dendrite

torch = pytest.importorskip("torch")


def same_dtype(ours, theirs) -> bool:
    return str(ours.dtype) == str(theirs.dtype).replace("torch.", "")


# ----------------------------------------------------------------------------- creation
CREATION = {
    "tensor floats": lambda m: m.tensor([1.5, 2.0]),
    "tensor ints": lambda m: m.tensor([[1, 2], [3, 4]]),
    "tensor bools": lambda m: m.tensor([True, False]),
    "tensor mixed int float": lambda m: m.tensor([1, 2.5]),
    "tensor scalar": lambda m: m.tensor(3.5),
    "tensor empty": lambda m: m.tensor([]),
    "tensor float64 array": lambda m: m.tensor(np.array([1.0, 2.0])),
    "tensor int32 array": lambda m: m.tensor(np.array([1, 2], dtype=np.int32)),
    "tensor numpy scalar": lambda m: m.tensor(np.float64(1.5)),
    "tensor dtype": lambda m: m.tensor([1, 2], dtype=m.float64),
    "tensor of tensors": lambda m: m.tensor([m.tensor(1.0), m.tensor(2.0)]),
    "zeros": lambda m: m.zeros(2, 3),
    "zeros tuple": lambda m: m.zeros((2, 3), dtype=m.int64),
    "ones list": lambda m: m.ones([2]),
    "full float": lambda m: m.full((2, 2), 1.5),
    "full int": lambda m: m.full((2,), 7),
    "full bool": lambda m: m.full((2,), True),
    "arange int": lambda m: m.arange(5),
    "arange start end step": lambda m: m.arange(1, 10, 3),
    "arange float": lambda m: m.arange(0, 1, 0.25),
    "arange dtype": lambda m: m.arange(4, dtype=m.float64),
    "linspace": lambda m: m.linspace(0, 1, 5),
    "linspace float64": lambda m: m.linspace(-1, 1, 7, dtype=m.float64),
    "eye": lambda m: m.eye(3),
    "eye rectangular": lambda m: m.eye(2, 3),
    "zeros_like": lambda m: m.zeros_like(m.tensor([[1.0, 2.0]], dtype=m.float64)),
    "ones_like dtype": lambda m: m.ones_like(m.tensor([1.0, 2.0]), dtype=m.int64),
    "full_like": lambda m: m.full_like(m.tensor([1, 2]), 9),
    "empty shape": lambda m: m.zeros_like(m.empty(2, 3)),
}


@pytest.mark.parametrize("name", sorted(CREATION))
def test_creation_matches_torch(name):
    ours, theirs = CREATION[name](dendrite), CREATION[name](torch)
    assert same_dtype(ours, theirs), f"{ours.dtype} vs {theirs.dtype}"
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-7)


@pytest.mark.parametrize(
    "make",
    [
        lambda: dendrite.rand(2, 3),
        lambda: dendrite.randn(2, 3),
        lambda: dendrite.randint(0, 10, (5,)),
        lambda: dendrite.randperm(6),
        lambda: dendrite.rand_like(dendrite.zeros(3)),
        lambda: dendrite.randn_like(dendrite.zeros(3, dtype=dendrite.float64)),
        lambda: dendrite.normal(0.0, 2.0, (4,)),
    ],
)
def test_random_creation_is_repeatable_with_manual_seed(make):
    dendrite.manual_seed(7)
    first = make()
    dendrite.manual_seed(7)
    second = make()
    np.testing.assert_array_equal(first.numpy(), second.numpy())
    dendrite.manual_seed(8)
    assert first.numel() == 1 or not np.array_equal(first.numpy(), make().numpy())


def test_random_ranges_and_dtypes():
    dendrite.manual_seed(0)
    u = dendrite.rand(1000)
    assert u.dtype == dendrite.float32 and 0 <= u.min().item() and u.max().item() < 1
    n = dendrite.randn(4000, dtype=dendrite.float64)
    assert n.dtype == dendrite.float64 and abs(n.mean().item()) < 0.1 and abs(n.std().item() - 1) < 0.1
    k = dendrite.randint(3, (1000,))
    assert k.dtype == dendrite.int64 and set(np.unique(k.numpy())) == {0, 1, 2}
    assert sorted(dendrite.randperm(5).tolist()) == [0, 1, 2, 3, 4]


def test_rng_state_round_trip():
    state = dendrite.get_rng_state()
    a = dendrite.rand(3)
    dendrite.set_rng_state(state)
    assert dendrite.rand(3).tolist() == a.tolist()


def test_from_numpy_shares_memory_and_tensor_copies():
    array = np.zeros(3)
    shared, copied = dendrite.from_numpy(array), dendrite.tensor(array)
    array[0] = 5.0
    assert shared.tolist() == [5.0, 0.0, 0.0] and copied.tolist() == [0.0, 0.0, 0.0]
    assert shared.dtype == dendrite.float64
    shared.numpy()[1] = 2.0
    assert array[1] == 2.0
    assert dendrite.as_tensor(array)._data is array


def test_requires_grad_at_creation():
    for make in (dendrite.zeros, dendrite.ones, dendrite.randn, dendrite.rand, dendrite.empty):
        assert make(2, requires_grad=True).requires_grad
    assert dendrite.tensor([1.0], requires_grad=True).is_leaf


# ----------------------------------------------------------------------------- attributes, conversions
def test_attributes():
    x = dendrite.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.ndim == 3 and x.dim() == 3 and x.numel() == 24 and len(x) == 2
    assert x.dtype == dendrite.float32 and x.device == dendrite.device("cpu") and x.is_floating_point()
    assert x.stride() == tuple(torch.zeros(2, 3, 4).stride())
    assert x.T.shape == (4, 3, 2) and x.mT.shape == (2, 4, 3)


def test_item_tolist_numpy():
    assert dendrite.tensor(2.5).item() == 2.5 and isinstance(dendrite.tensor(2.5).item(), float)
    assert isinstance(dendrite.tensor([3]).item(), int)
    assert dendrite.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    x = dendrite.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Use tensor.detach\(\).numpy\(\)"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0]
    assert float(dendrite.tensor(1.5)) == 1.5 and int(dendrite.tensor(2)) == 2
    assert np.asarray(dendrite.tensor([1, 2])).tolist() == [1, 2]


def test_conversions():
    x = dendrite.tensor([1.7, -2.2])
    assert x.double().dtype == dendrite.float64 and x.float() is x
    assert x.long().tolist() == [1, -2] and x.long().dtype == dendrite.int64
    assert x.int().dtype == dendrite.int32 and x.bool().dtype == dendrite.bool
    assert x.to(dendrite.float64).dtype == dendrite.float64 and x.to("cpu") is x
    assert x.to(dtype=dendrite.float16).dtype == dendrite.float16
    assert x.to(dendrite.tensor([1])).dtype == dendrite.int64
    assert x.to(dendrite.float32, copy=True) is not x
    assert x.type_as(dendrite.tensor([1], dtype=dendrite.int32)).dtype == dendrite.int32


def test_detach_shares_memory_and_leaves_the_graph():
    x = dendrite.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None
    d[0] = 10.0
    assert y[0].item() == 10.0


def test_clone_is_a_differentiable_copy():
    x = dendrite.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.grad_fn is not None and c._data is not x._data
    (c * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    assert dendrite.clone(x).tolist() == [1.0, 2.0]


def test_deepcopy_of_leaves():
    x = dendrite.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    y = copy.deepcopy(x)
    assert y.requires_grad and y.tolist() == [1.0, 2.0] and y.grad.tolist() == [2.0, 2.0]
    y.detach()[0] = 5.0
    assert x[0].item() == 1.0
    p = dendrite.nn.Parameter(dendrite.ones(2))
    assert type(copy.deepcopy(p)) is type(p)
    with pytest.raises(RuntimeError, match="deepcopy"):
        copy.deepcopy(x * 2)


def test_new_tensor_helpers():
    x = dendrite.zeros(2, dtype=dendrite.float64)
    assert x.new_zeros(3).dtype == dendrite.float64 and x.new_ones((2, 2)).shape == (2, 2)
    assert x.new_full((2,), 4.0).tolist() == [4.0, 4.0] and x.new_tensor([1, 2]).dtype == dendrite.float64


def test_requires_grad_and_grad_attributes():
    x = dendrite.zeros(2)
    assert not x.requires_grad and x.grad is None
    assert x.requires_grad_() is x and x.requires_grad
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    x.requires_grad_(False)
    assert not (x * 2).requires_grad


def test_iteration_and_bool():
    x = dendrite.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert [row.tolist() for row in x] == [[1.0, 2.0], [3.0, 4.0]]
    assert bool(dendrite.tensor([0.5])) and not bool(dendrite.tensor(0.0))
    with pytest.raises(TypeError):
        len(dendrite.tensor(1.0))


# ----------------------------------------------------------------------------- in-place updates
def test_in_place_updates_match_torch():
    def run(m):
        x = m.arange(6, dtype=m.float64).reshape(2, 3)
        x.add_(1.0).mul_(2.0).sub_(m.ones(3, dtype=m.float64), alpha=0.5).div_(2.0)
        x[0, 1] = -1.0
        x[1] = m.tensor([7.0, 8.0, 9.0], dtype=m.float64)
        x.masked_fill_(x > 8, 0.0)
        x.clamp_(min=-0.5)
        y = m.zeros(2, 3, dtype=m.float64).copy_(x)
        return x, y.fill_(2.0).zero_().add_(x, alpha=3)

    for ours, theirs in zip(run(dendrite), run(torch)):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy())


def test_copy_broadcasts_and_casts_into_the_tensor():
    x = dendrite.zeros(2, 3, dtype=dendrite.int64)
    x.copy_(dendrite.tensor([1.7, 2.2, 3.9]))
    assert x.tolist() == [[1, 2, 3], [1, 2, 3]] and x.dtype == dendrite.int64
    with pytest.raises(RuntimeError, match=r"copy_: a value of shape \(4,\) cannot be written"):
        x.copy_(dendrite.zeros(4))


def test_data_assignment_and_views():
    w = dendrite.ones(2, requires_grad=True)
    w.data = dendrite.tensor([3.0, 4.0])
    assert w.tolist() == [3.0, 4.0] and w.requires_grad
    w.data.mul_(2)  # .data is outside the graph and shares memory
    assert w.tolist() == [6.0, 8.0]


def test_in_place_update_with_an_optimizer_pattern():
    w = dendrite.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with dendrite.no_grad():
        w.sub_(w.grad, alpha=0.1)
    w.grad.zero_()
    np.testing.assert_allclose(w.detach().numpy(), [0.8, 1.6])
    assert w.grad.tolist() == [0.0, 0.0]


# ----------------------------------------------------------------------------- printing
@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.tensor([0.5, 1.5]),
        lambda m: m.tensor([1, 2]),
        lambda m: m.tensor([True]),
        lambda m: m.tensor([1.0, 2.0]),
        lambda m: m.tensor(3.25),
        lambda m: m.tensor([[1.0, 2.0], [3.0, 4.0]]),
    ],
)
def test_repr_like_torch(make):
    assert repr(make(dendrite)) == repr(make(torch))


def test_repr_shows_dtype_and_autograd_state():
    assert repr(dendrite.tensor([1.0], dtype=dendrite.float64)) == "tensor([1.], dtype=dendrite.float64)"
    x = dendrite.tensor([0.5], requires_grad=True)
    assert repr(x) == "tensor([0.5000], requires_grad=True)"
    assert repr(x * 2) == "tensor([1.], grad_fn=<MulBackward>)"
    assert f"{dendrite.tensor(2.5):.2f}" == "2.50"


@pytest.mark.parametrize(
    "values",
    [
        [1.5, -2.25, 1e-5],
        [1e9, 1.0],
        [float("nan"), 1.0, float("inf")],
        [-1.0, 2.0],
        [0.1, 100.0],
        [True, False],
        [[True], [False]],
        [[-1, 200], [3, 4]],
        [0.0, 0.0],
    ],
)
def test_number_format_like_torch(values):
    assert repr(dendrite.tensor(values)) == repr(torch.tensor(values))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "start, end, steps", [(-1, 1, 7), (0, 1, 11), (-3.7, 2.9, 101), (2, -5, 17), (0, 1, 1)]
)
def test_linspace_matches_torch_bit_for_bit(start, end, steps, dtype):
    ours = dendrite.linspace(start, end, steps, dtype=getattr(dendrite, dtype))
    theirs = torch.linspace(start, end, steps, dtype=getattr(torch, dtype))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_import_dendrite_leaves_numpy_random_for_the_first_random_call():
    # The global generator is made on first use: importing numpy.random is a tenth of the import.
    import os
    import subprocess
    import sys

    code = ("import sys, dendrite; lazy = 'numpy.random' not in sys.modules; "
            "state = dendrite.get_rng_state(); a = dendrite.rand(2).tolist(); "
            "dendrite.set_rng_state(state); b = dendrite.rand(2).tolist(); "
            "print(lazy, a == b)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=root)
    assert result.stdout.split() == ["True", "True"]


def test_dendrite_tensor_is_the_function_after_importing_the_submodule():
    # dendrite.tensor names both the function tensor(data) and the submodule dendrite/tensor.py;
    # importing the submodule by name must not rebind the package attribute (fresh process).
    import os
    import subprocess
    import sys

    code = "import dendrite.tensor, dendrite; print(dendrite.tensor([1.0]).tolist() == [1.0])"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=root)
    assert result.stdout.split() == ["True"]


def test_doctests_of_the_tensor_module_run_when_collected_first():
    # pytest's importlib mode executes a collected file a second time when its package is not
    # imported yet: a second Tensor class. The root conftest.py imports dendrite first.
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                             "--doctest-modules", "dendrite/tensor.py", "dendrite/tensor_base.py"],
                            capture_output=True, text=True, cwd=root)
    assert result.returncode == 0, result.stdout[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
