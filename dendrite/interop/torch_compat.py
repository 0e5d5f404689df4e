"""PyTorch weights in: copy a PyTorch model's weights into its dendrite twin and check they agree.

dendrite layers use PyTorch's parameter names and shapes, so a model written with
``dendrite.nn`` with the same attribute names as a PyTorch model loads its weights
without renaming::

    model.load_state_dict(dendrite.load("weights.safetensors"))   # saved by safetensors.torch
    model.load_state_dict(dendrite.load("weights.pt"))            # torch.save(model.state_dict())

:func:`compare_with_torch` runs both models on one example and reports how far
apart their outputs are -- the parity test to run after every import.

torch is imported only inside these functions (``pip install "dendrite[torch]"``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import numpy as np

from dendrite.autograd.grad_mode import no_grad
from dendrite.interop._modes import evaluating
from dendrite.nn.modules.module import Module
from dendrite.tensor import Tensor, wrap

__all__ = ["TorchComparison", "compare_with_torch", "copy_weights_from_torch"]


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError('this needs PyTorch: pip install "dendrite[torch]"') from None
    return torch


def _state_arrays(source) -> dict:
    """``{name: numpy array}`` from a torch Module or a mapping of torch tensors / arrays."""
    torch = _torch()
    if isinstance(source, torch.nn.Module):
        source = source.state_dict()
    if not isinstance(source, Mapping):
        raise TypeError(f"expected a torch.nn.Module or a state_dict, got {type(source).__name__}")
    arrays = {}
    for key, value in source.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu()
            if value.dtype == torch.bfloat16:
                value = value.float()
            value = value.numpy()
        arrays[key] = np.array(value, copy=True)
    return arrays


def copy_weights_from_torch(model: Module, source, strict: bool = True):
    """Copy the weights of a PyTorch model (or its ``state_dict``) into the dendrite ``model``.

    Keys and shapes must match (``strict=False`` tolerates missing or extra keys); values are
    cast to each dendrite parameter's dtype. Returns ``load_state_dict``'s ``(missing, unexpected)``.

    Example:
        >>> import torch, dendrite
        >>> theirs, ours = torch.nn.Linear(3, 2), dendrite.nn.Linear(3, 2)
        >>> _ = copy_weights_from_torch(ours, theirs)
        >>> bool((ours.weight.detach().numpy() == theirs.weight.detach().numpy()).all())
        True
    """
    return model.load_state_dict(_state_arrays(source), strict=strict)


class TorchComparison(float):
    """The largest absolute difference between the two models' outputs (a float), with details.

    ``per_output`` lists ``(index, shape, max_abs_diff)`` for every output tensor, in the
    order the (possibly nested) outputs are flattened; ``str()`` is a short report.

    Example:
        >>> result = TorchComparison([(0, (2, 3), 2.5e-07), (1, (2,), 0.0)])
        >>> float(result), result.per_output[0][1]
        (2.5e-07, (2, 3))
        >>> print(result)
        max |dendrite - torch| = 2.5e-07 over 2 output(s)
          output 0 (2, 3): 2.5e-07
          output 1 (2,): 0
    """

    per_output: list

    def __new__(cls, per_output: list) -> TorchComparison:
        worst = max((diff for _, _, diff in per_output), default=0.0)
        result = super().__new__(cls, worst)
        result.per_output = per_output
        return result

    def __str__(self) -> str:
        lines = [f"max |dendrite - torch| = {float(self):.3g} over {len(self.per_output)} output(s)"]
        lines += [f"  output {index} {shape}: {diff:.3g}" for index, shape, diff in self.per_output]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"TorchComparison({float(self)!r})"


def _flatten(output, kind, where: str = "output") -> list:
    """The tensors of a (nested) tuple / list output, in order."""
    if isinstance(output, (tuple, list)):
        items = []
        for item in output:
            items += _flatten(item, kind, where)
        return items
    if isinstance(output, kind):
        return [output]
    if output is None:
        return []
    raise TypeError(f"compare_with_torch: the {where} returned a {type(output).__name__}; "
                    "expected tensors (or tuples of them)")


def _examples(example) -> list:
    items = list(example) if isinstance(example, (tuple, list)) else [example]
    arrays = []
    for item in items:
        if isinstance(item, Tensor):
            arrays.append(np.array(item.array, copy=True))
        else:
            arrays.append(np.array(item, copy=True))
    return arrays


def compare_with_torch(model: Module, torch_model, example, copy_weights: bool = False,
                       eval_mode: bool = True) -> TorchComparison:
    """Run ``model`` (dendrite) and ``torch_model`` on the same ``example``; return max |difference|.

    ``example`` is one input or a tuple of inputs (tensors or NumPy arrays), passed to both
    models as positional arguments. ``copy_weights=True`` first copies the torch weights
    into ``model`` (:func:`copy_weights_from_torch`). With ``eval_mode`` (default) both
    models run in evaluation mode and are put back in their previous mode afterwards.
    The result is a float (``TorchComparison``); ``print()`` it for a per-output report.

    Example:
        >>> import torch, dendrite
        >>> theirs, ours = torch.nn.Linear(3, 2), dendrite.nn.Linear(3, 2)
        >>> compare_with_torch(ours, theirs, dendrite.randn(4, 3), copy_weights=True) < 1e-6
        True
    """
    torch = _torch()
    if not isinstance(model, Module):
        raise TypeError(f"compare_with_torch: model must be a dendrite Module, got {type(model).__name__}")
    if not isinstance(torch_model, torch.nn.Module):
        raise TypeError(f"compare_with_torch: torch_model must be a torch.nn.Module, "
                        f"got {type(torch_model).__name__}")
    if copy_weights:
        copy_weights_from_torch(model, torch_model)
    arrays = _examples(example)
    with contextlib.ExitStack() as stack:
        if eval_mode:
            stack.enter_context(evaluating(model))
            stack.enter_context(evaluating(torch_model))
        with no_grad():
            ours = model(*[wrap(array.copy()) for array in arrays])
        with torch.no_grad():
            theirs = torch_model(*[torch.from_numpy(array.copy()) for array in arrays])
    ours = _flatten(ours, Tensor, "dendrite model")
    theirs = _flatten(theirs, torch.Tensor, "torch model")
    if len(ours) != len(theirs):
        raise ValueError(f"compare_with_torch: the dendrite model returned {len(ours)} tensor(s), "
                         f"the torch model {len(theirs)}")
    per_output = []
    for index, (a, b) in enumerate(zip(ours, theirs)):
        a = np.asarray(a.array, dtype=np.float64)
        b = b.detach().cpu().double().numpy()
        if a.shape != b.shape:
            raise ValueError(f"compare_with_torch: output {index} has shape {a.shape} in dendrite but "
                             f"{b.shape} in torch")
        both_nan = np.isnan(a) & np.isnan(b)
        if (np.isnan(a) != np.isnan(b)).any():
            diff = float("inf")  # NaN on one side only: as far apart as can be
        else:
            diff = float(np.max(np.abs(a - b)[~both_nan], initial=0.0))
        per_output.append((index, tuple(a.shape), diff))
    return TorchComparison(per_output)
