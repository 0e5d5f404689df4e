"""Probe the public API with awkward arguments and compare with PyTorch (issue 11 item 3).

For every public function of ``dendrite.ops`` and ``dendrite.nn.functional`` that
PyTorch also has, this builds a call PyTorch accepts, then replaces each tensor
argument by a list, tuple, None, string, NumPy array or Python number, calls
reductions and dim-taking ops on 0-d tensors with dims 0/-1/1/-2, and unary ops
on empty tensors. Each case is classified:

* ``ok``: both succeed (with equal values) or both raise;
* ``leaked``: dendrite raised an error from its internals (AttributeError,
  KeyError, ZeroDivisionError, NumPy's errors, a message about ``_data``...);
* ``parity``: dendrite succeeded where PyTorch raised, raised cleanly where
  PyTorch succeeded, or gave different values.

    python scripts/probe_args.py            # counts
    python scripts/probe_args.py -v         # and every failing case
"""

from __future__ import annotations

import inspect
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dendrite  # noqa: E402
import dendrite.nn.functional as DF  # noqa: E402
from dendrite import ops  # noqa: E402

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # pragma: no cover
    sys.exit("probe_args needs PyTorch (pip install torch)")

SKIP = {"getitem", "plain_index", "setitem", "printing", "set_printoptions", "cast"}
RANDOM = {"dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d", "dropout3d", "rrelu"}
NON_TENSORS = {
    "list": lambda: [1.0, 2.0],
    "tuple": lambda: (1.0, 2.0),
    "None": lambda: None,
    "str": lambda: "a",
    "ndarray": lambda: np.ones(3),
    "float": lambda: 1.5,
}
INTERNAL_TYPES = (AttributeError, KeyError, ZeroDivisionError, UnboundLocalError, NameError,
                  np.exceptions.AxisError)
INTERNAL_WORDS = ("_data", "ndarray", "numpy", "has no attribute", "unsupported operand type(s)",
                  "object is not", "not subscriptable", "takes", "positional argument", "unhashable")


def public_functions():
    """(name, dendrite function, torch function) for each public function both libraries have."""
    seen = {}
    for name in ops.__all__:
        seen[name] = (getattr(ops, name), getattr(torch, name, None))
    for name in dir(DF):
        value = getattr(DF, name)
        if name.startswith("_") or not inspect.isfunction(value):
            continue
        seen.setdefault(name, (value, getattr(TF, name, None)))
    return [(n, d, t) for n, (d, t) in sorted(seen.items()) if t is not None and n not in SKIP]


def is_tensor_param(param: inspect.Parameter) -> bool:
    return isinstance(param.annotation, str) and param.annotation.split("|")[0].strip() == "Tensor"


def leaked(error: BaseException, name: str) -> bool:
    """An error from the internals: an internal type, or internal words in a message not naming the op."""
    if isinstance(error, INTERNAL_TYPES):
        return True
    text = str(error)
    if f"{name}()" in text or "(): argument '" in text:  # names the op (or the op an alias calls)
        return False
    return any(word in text for word in INTERNAL_WORDS)


def run(function, args, kwargs):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return True, function(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - classification is the point
        return False, error


class T(np.ndarray):
    """Marks a NumPy array meant as a tensor argument (for both libraries)."""


def tensor_arg(array) -> T:
    result = np.asarray(array).view(T)
    result._is_tensor = True
    return result


def convert(args, lib):
    return [lib.tensor(np.asarray(a)) if isinstance(a, T) else a for a in args]


def same(a, b) -> bool:
    try:
        if isinstance(a, (tuple, list)):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
        if isinstance(b, torch.Tensor):
            a_np = a.numpy() if hasattr(a, "numpy") else np.asarray(a)
            b_np = b.detach().numpy()
            same_kind = a_np.dtype.kind == b_np.dtype.kind  # int stays int, float stays float
            close = a_np.shape == b_np.shape and np.allclose(a_np, b_np, equal_nan=True, atol=1e-5)
            return same_kind and close
        return True
    except Exception:  # noqa: BLE001
        return False


def compare(name, d_fn, t_fn, args, kwargs, tag, results):
    d_ok, d_out = run(d_fn, convert(args, dendrite), kwargs)
    t_ok, t_out = run(t_fn, convert(args, torch), kwargs)
    if not d_ok and leaked(d_out, name):
        verdict = "leaked"
    elif d_ok != t_ok or (d_ok and name not in RANDOM and not same(d_out, t_out)):
        verdict = "parity"
    else:
        verdict = "ok"
    if not d_ok:
        detail = f"{type(d_out).__name__}: {d_out}"[:160]
    else:
        detail = "succeeds" if not t_ok else "values differ" if verdict != "ok" else ""
    torch_side = f"torch: {type(t_out).__name__}" if not t_ok else "torch succeeds"
    results.append((verdict, name, tag, detail, torch_side))


def base_call(name, d_fn, t_fn, rng):
    """Positional arguments PyTorch accepts: tensors where dendrite's signature says Tensor."""
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    params = [p for p in inspect.signature(d_fn).parameters.values()
              if p.default is inspect.Parameter.empty and p.kind in positional]
    shapes = [(2, 3), (3,), (2,), (3, 3)]
    fills = [lambda s: tensor_arg(rng.standard_normal(s)), lambda s: tensor_arg(rng.integers(0, 2, s)),
             lambda s: 1, lambda s: 0]
    for shape in shapes:
        for fill in fills:
            args = [tensor_arg(rng.standard_normal(shape)) if is_tensor_param(p) else fill(shape)
                    for p in params]
            ok, _ = run(t_fn, convert(args, torch), {})
            if ok:
                return params, args
    return params, None


def probe_function(name, d_fn, t_fn, rng) -> list:
    """The cases of one function: (verdict, name, case, dendrite's outcome, PyTorch's outcome)."""
    results = []
    params, args = base_call(name, d_fn, t_fn, rng)
    if args is None:
        return results
    for i, param in enumerate(params):
        if not is_tensor_param(param):
            continue
        for tag, make in NON_TENSORS.items():
            mutated = list(args)
            mutated[i] = make()
            compare(name, d_fn, t_fn, mutated, {}, f"{param.name}={tag}", results)
    signature = inspect.signature(d_fn).parameters
    if len(params) == 1 and is_tensor_param(params[0]):
        scalar = [tensor_arg(np.array(1.5))]
        if "dim" in signature:
            for dim in (0, -1, 1, -2):
                compare(name, d_fn, t_fn, scalar, {"dim": dim}, f"0-d dim={dim}", results)
            compare(name, d_fn, t_fn, [tensor_arg(np.ones((2, 0)))], {"dim": 1}, "empty dim=1", results)
        elif "dims" in signature:
            for dim in (0, -1, 1):
                compare(name, d_fn, t_fn, scalar, {"dims": [dim]}, f"0-d dims={dim}", results)
        else:
            compare(name, d_fn, t_fn, [tensor_arg(np.ones((0,)))], {}, "empty", results)
            compare(name, d_fn, t_fn, scalar, {}, "0-d", results)
            for kind, array in (("int64", np.array([1, 2, 0])), ("bool", np.array([True, False]))):
                compare(name, d_fn, t_fn, [tensor_arg(array)], {}, f"{kind} input", results)
    return results


def probe() -> list:
    """Every case of every public function (fixed seed)."""
    rng = np.random.default_rng(0)
    return [case for name, d_fn, t_fn in public_functions() for case in probe_function(name, d_fn, t_fn, rng)]


def main(argv=None) -> int:
    verbose = "-v" in (argv or sys.argv[1:])
    results = probe()
    counts = {}
    for verdict, *_ in results:
        counts[verdict] = counts.get(verdict, 0) + 1
    if verbose:
        for verdict, name, tag, detail, torch_side in results:
            if verdict != "ok":
                print(f"{verdict:7} {name}({tag}): {detail} | {torch_side}")
    print(f"cases: {len(results)}  " + "  ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
