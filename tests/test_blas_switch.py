"""dendrite.utils.blas: one BLAS thread for small products, the user's pool for large ones.

The policy is checked with a stand-in for OpenBLAS's two functions (which counts it asks for, in
which order), then against the real OpenBLAS where NumPy has one. No test looks at time.
"""

import threading
import types

import numpy as np
import pytest

import dendrite
from dendrite.utils import blas

SMALL = (32, 256, 256)  # 4.2 MFLOP: above OpenBLAS's own serial threshold, below dendrite's
TINY = (32, 16, 16)  # OpenBLAS runs it on one thread by itself
LARGE = (256, 512, 512)  # 134 MFLOP


def _operands(m, k, n, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((m, k)).astype(np.float32), rng.standard_normal((k, n)).astype(np.float32))


class FakeOpenBLAS:
    """``openblas_get_num_threads`` / ``openblas_set_num_threads``, recording every call."""

    def __init__(self, pool: int):
        self.count, self.calls, self.seen_inside = pool, [], []

    def get(self):
        self.calls.append("get")
        return self.count

    def set(self, count):
        self.calls.append(count)
        self.count = count


@pytest.fixture
def fake(monkeypatch):
    library = FakeOpenBLAS(pool=2)
    monkeypatch.setattr(blas, "_switch", {"looked_up": True, "get": library.get, "set": library.set,
                                          "owner": threading.get_ident()})
    real_matmul = np.matmul

    def spying_matmul(a, b, out=None):  # which count the product itself ran with
        library.seen_inside.append(library.count)
        return real_matmul(a, b, out=out)

    monkeypatch.setattr(blas, "xp", types.SimpleNamespace(matmul=spying_matmul, tensordot=np.tensordot))
    return library


def test_a_small_product_runs_on_one_thread_and_the_pool_is_put_back(fake):
    a, b = _operands(*SMALL)
    assert np.array_equal(blas.matmul(a, b), a @ b)
    assert fake.calls == ["get", 1, 2] and fake.seen_inside == [1] and fake.count == 2


def test_a_large_product_keeps_the_pool(fake):
    blas.matmul(*_operands(*LARGE))
    assert fake.calls == [] and fake.seen_inside == [2]


def test_a_tiny_product_is_left_to_openblas(fake):
    blas.matmul(*_operands(*TINY))
    blas.dot(*_operands(*TINY))
    assert fake.calls == []  # OpenBLAS runs it on one thread by itself: nothing to switch


def test_dot_and_the_context_manager_follow_the_same_policy(fake):
    a, b = _operands(*SMALL)
    assert np.array_equal(blas.dot(a, b), a.dot(b))
    with blas.serial_threads(2 * 32 * 256 * 256):
        assert fake.count == 1
    with blas.serial_threads(2 * 256 * 512 * 512):
        assert fake.count == 2
    assert fake.calls == ["get", 1, 2, "get", 1, 2]


def test_tensordot_counts_its_one_matrix_product(fake):
    a, b = np.ones((64, 256, 16), np.float32), np.ones((8, 256), np.float32)  # 64*16 x 256 x 8: 2 MFLOP
    assert blas.tensordot(a, b, axes=(1, 1)).shape == (64, 16, 8)
    assert fake.calls == ["get", 1, 2]


def test_the_users_maximum_is_what_large_products_get_and_what_comes_back(fake):
    fake.count = 3  # dendrite.set_num_threads(3) or threadpool_limits(3): read at each product
    blas.matmul(*_operands(*SMALL))
    blas.matmul(*_operands(*LARGE))
    assert fake.calls == ["get", 1, 3, ] and fake.seen_inside == [1, 3]
    assert blas.threads_for(2 * 256 * 512 * 512) == 3 and blas.threads_for(2 * 32 * 256 * 256) == 1


def test_a_pool_of_one_is_not_touched(fake):
    fake.count = 1  # dendrite.set_num_threads(1)
    blas.matmul(*_operands(*SMALL))
    assert fake.calls == ["get"]


def test_other_threads_do_not_switch(fake):
    # OpenBLAS (pthreads) has one pool per process: only the thread that looked it up switches it.
    worker = threading.Thread(target=blas.matmul, args=_operands(*SMALL))
    worker.start()
    worker.join()
    assert fake.calls == []


def test_the_threshold_is_a_setting(fake, monkeypatch):
    monkeypatch.setattr(blas, "SERIAL_BELOW_FLOPS", 0)  # off: every product gets the pool
    blas.matmul(*_operands(*SMALL))
    assert fake.calls == []


def test_the_pool_is_put_back_when_the_product_fails(fake):
    with pytest.raises(ValueError):
        blas.matmul(np.ones((32, 256), np.float32), np.ones((256, 256), np.float32),
                    out=np.empty((3, 3), np.float32))
    assert fake.count == 2


# ----------------------------------------------------------------------------- the real library
def _real_switch():
    blas._reset()
    blas._find_openblas()
    if blas._switch["get"] is None:
        pytest.skip("NumPy's BLAS is not OpenBLAS with a pthreads pool, threadpoolctl is missing, "
                    "or the environment fixes the thread count")
    return dict(blas._switch)  # a copy: the tests below look the library up again


@pytest.fixture
def real(monkeypatch):
    for name in blas.USER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    switch = _real_switch()
    pool = switch["get"]()
    switch["set"](2)  # a pool of two even on one core, so that there is something to switch
    yield switch
    switch["set"](pool)
    blas._reset()


def test_on_openblas_a_small_product_runs_on_one_thread(real):
    with blas.serial_threads(2 * 32 * 256 * 256):
        assert real["get"]() == 1
    assert real["get"]() == 2
    blas.matmul(*_operands(*SMALL))
    assert real["get"]() == 2 and dendrite.get_num_threads() == 2


def test_set_num_threads_is_the_maximum(real):
    dendrite.set_num_threads(1)
    with blas.serial_threads(2 * 32 * 256 * 256):
        assert real["get"]() == 1
    assert dendrite.get_num_threads() == 1
    assert blas.threads_for(2 * 256 * 512 * 512) == 1  # a large product gets the user's 1, not more


@pytest.mark.parametrize("variable", ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"])
def test_a_thread_count_set_in_the_environment_wins(real, monkeypatch, variable):
    monkeypatch.setenv(variable, "2")
    blas._reset()
    with blas.serial_threads(2 * 32 * 256 * 256):
        assert real["get"]() == 2  # the user's choice: dendrite switches nothing
    assert blas._switch["get"] is None


@pytest.mark.parametrize("shape", [SMALL, (64, 128, 384), (33, 257, 129), LARGE, (1, 512, 512)])
def test_the_thread_count_changes_only_the_rounding(real, shape):
    """OpenBLAS's one-thread and pooled products differ in the last bits (the order of the partial
    sums), each within float32's error bound of the exact product, and each count repeats its bits."""
    a, b = _operands(*shape, seed=1)
    exact = a.astype(np.float64) @ b.astype(np.float64)
    bound = shape[1] * np.finfo(np.float32).eps * (np.abs(a).astype(np.float64) @ np.abs(b))
    results = {}
    for count in (1, 2, 1, 2):
        real["set"](count)
        product = a @ b
        assert np.all(np.abs(product - exact) <= bound)
        if count in results:
            assert np.array_equal(product, results[count])  # deterministic for a given count
        results[count] = product


def test_layers_agree_with_the_policy_on_and_off(real, monkeypatch):
    """Linear, conv and LSTM steps whose products fall in the serial range: the same up to rounding,
    and the same bits every time with the policy on."""
    def run():
        dendrite.manual_seed(0)
        layers = [dendrite.nn.Linear(256, 256), dendrite.nn.Conv2d(8, 32, 3, padding=1),
                  dendrite.nn.LSTM(64, 128, batch_first=True)]
        rng = np.random.default_rng(0)
        inputs = [rng.standard_normal((32, 256)), rng.standard_normal((4, 8, 16, 16)),
                  rng.standard_normal((32, 5, 64))]
        results = []
        for layer, x in zip(layers, inputs):
            out = layer(dendrite.tensor(x.astype(np.float32)))
            out = out[0] if isinstance(out, tuple) else out
            out.square().sum().backward()
            results += [out.detach().numpy()] + [p.grad.numpy() for p in layer.parameters()]
        return results

    with_policy, again = run(), run()
    monkeypatch.setattr(blas, "SERIAL_BELOW_FLOPS", 0)
    without = run()
    for ours, repeated, pooled in zip(with_policy, again, without):
        assert np.array_equal(ours, repeated)
        np.testing.assert_allclose(ours, pooled, rtol=1e-5, atol=1e-5 * np.abs(pooled).max())
