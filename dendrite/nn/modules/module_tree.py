"""Walking a :class:`Module`'s tree, switching its modes and casting it: a base class of ``Module``.

:class:`ModuleTreeMixin` holds ``modules``/``children``/``parameters``/``buffers`` (and their
``named_`` forms), ``train``/``eval``, ``requires_grad_``/``zero_grad``, ``apply``, and
``to``/``float``/``double``/``half``. It uses the module's tables (``_parameters``, ``_buffers``,
``_modules``) and holds no state of its own. ``Module`` builds on the mixin, never the other
way round: this file imports ``module.py`` only for type hints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd import capture
from dendrite.devices import resolve_device
from dendrite.tensor import Tensor, read_to_device_arguments

if TYPE_CHECKING:
    from dendrite.nn.modules.module import Module
    from dendrite.nn.parameter import Parameter

__all__ = ["ModuleTreeMixin"]


class ModuleTreeMixin:
    """Traversal, modes, gradients and dtype for :class:`Module` (``model.parameters()``, ``model.eval()``).

    Example:
        >>> from dendrite import nn
        >>> model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
        >>> [name for name, _ in model.named_parameters()], model.eval().training
        (['0.weight', '0.bias'], False)
    """

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True):
        """Yield ``(dotted_name, module)`` for this module and every descendant, depth first.

        Example:
            >>> from dendrite import nn
            >>> model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU()))
            >>> [name for name, _ in model.named_modules()]
            ['', '0', '1', '1.0']
        """
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """Yield this module and every descendant, depth first (each shared one once).

        Example:
            >>> from dendrite import nn
            >>> [type(m).__name__ for m in nn.Sequential(nn.Linear(2, 2), nn.ReLU()).modules()]
            ['Sequential', 'Linear', 'ReLU']
        """
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Yield ``(name, child)`` for the direct sub-modules only.

        Example:
            >>> from dendrite import nn
            >>> model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU()))
            >>> [name for name, _ in model.named_children()]
            ['0', '1']
        """
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """Yield the direct sub-modules only.

        Example:
            >>> from dendrite import nn
            >>> model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU()))
            >>> [type(m).__name__ for m in model.children()]
            ['Linear', 'Sequential']
        """
        for _, module in self.named_children():
            yield module

    def _named_members(self, table: str, prefix: str, recurse: bool, remove_duplicate: bool = True):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [
            (prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, table).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """Yield ``(dotted_name, parameter)``, e.g. ``("0.weight", Parameter)``; shared ones once.

        Example:
            >>> from dendrite import nn
            >>> [(name, p.shape) for name, p in nn.Linear(3, 2).named_parameters()]
            [('weight', (2, 3)), ('bias', (2,))]
        """
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Yield every parameter (what an optimizer takes); ``recurse=False``: this module's own only.

        Example:
            >>> from dendrite import nn
            >>> sum(p.numel() for p in nn.Linear(3, 2).parameters())   # 2 * 3 weights + 2 biases
            8
        """
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """Yield ``(dotted_name, buffer)`` for every buffer (persistent or not).

        Example:
            >>> from dendrite import nn
            >>> [name for name, _ in nn.BatchNorm1d(4).named_buffers()]
            ['running_mean', 'running_var', 'num_batches_tracked']
        """
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Yield every buffer: state that is not trained, such as BatchNorm's running statistics.

        Example:
            >>> from dendrite import nn
            >>> [b.shape for b in nn.BatchNorm1d(4).buffers()]
            [(4,), (4,), ()]
        """
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout drops, BatchNorm uses batch statistics) on every sub-module.

        Returns ``self``.

        Example:
            >>> from dendrite import nn
            >>> model = nn.Sequential(nn.Dropout(0.5)).train(False)
            >>> model.training, model[0].training, model.train().training
            (False, False, True)
        """
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        for module in self.modules():
            if module.training is not mode:
                capture.modules.version += 1  # compiled functions record again (autograd/capture.py)
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode; the same as ``train(False)``. Returns ``self``.

        Example:
            >>> import dendrite
            >>> dropout = dendrite.nn.Dropout(0.5).eval()   # now the identity
            >>> dropout(dendrite.ones(3)).tolist()
            [1.0, 1.0, 1.0]
        """
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (``False``) or unfreeze every parameter in place; returns ``self``.

        Example:
            >>> from dendrite import nn
            >>> [p.requires_grad for p in nn.Linear(2, 1).requires_grad_(False).parameters()]
            [False, False]
        """
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's ``.grad`` (to ``None``, or to zeros in place).

        Example:
            >>> import dendrite
            >>> layer = dendrite.nn.Linear(2, 1)
            >>> layer(dendrite.ones(1, 2)).sum().backward()
            >>> layer.weight.grad.tolist()
            [[1.0, 1.0]]
            >>> layer.zero_grad()
            >>> layer.weight.grad is None
            True
        """
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.array[...] = 0

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every sub-module (children first) and then on this module; returns ``self``.

        Example:
            >>> from dendrite import nn
            >>> def zero_bias(module):
            ...     if isinstance(module, nn.Linear):
            ...         nn.init.zeros_(module.bias)
            >>> nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1)).apply(zero_bias)[2].bias.tolist()
            [0.0]
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ dtype
    def _apply(self, fn) -> Module:
        """Replace every parameter's and buffer's array with ``fn(array)``, keeping the objects."""
        for module in self.modules():
            for table in (module._parameters, module._buffers):
                for tensor in table.values():
                    if tensor is None:
                        continue
                    tensor.data = fn(tensor.array)
                    if tensor.grad is not None:
                        tensor.grad.data = fn(tensor.grad.array)
        return self

    def to(self, *args, **kwargs) -> Module:
        """Move and/or cast parameters and buffers in place: ``model.to("cuda")``, ``.to(dendrite.float64)``.

        Integer buffers keep their dtype. ``"cuda"`` needs CuPy and a GPU
        (:func:`dendrite.cuda.is_available`); gradients move with their parameters.

        Example:
            >>> import dendrite
            >>> dendrite.nn.Linear(2, 1).to(dendrite.float64).weight.dtype
            dtype('float64')
        """
        # Other keywords (non_blocking, memory_format) mean nothing on the CPU and are ignored.
        device, dtype, _ = read_to_device_arguments(
            args, {key: kwargs[key] for key in ("dtype", "device") if key in kwargs})
        if device is not None:
            kind = device.type
            self._apply(lambda array: backend.to_device(array, kind))
        if dtype is None:
            return self
        dtype = backend.as_dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Module.to only accepts floating point dtypes, but got desired dtype={dtype}")
        # Integer buffers such as num_batches_tracked keep their dtype, as in PyTorch.
        return self._apply(lambda array: array.astype(dtype) if array.dtype.kind == "f" else array)

    def float(self) -> Module:
        """Cast floating parameters and buffers to float32, in place.

        Example:
            >>> from dendrite import nn
            >>> nn.Linear(2, 1).double().float().weight.dtype
            dtype('float32')
        """
        return self.to(backend.float32)

    def double(self) -> Module:
        """Cast floating parameters and buffers to float64, in place (what gradient checks need).

        Example:
            >>> from dendrite import nn
            >>> nn.Linear(2, 1).double().bias.dtype
            dtype('float64')
        """
        return self.to(backend.float64)

    def half(self) -> Module:
        """Cast floating parameters and buffers to float16, in place.

        Example:
            >>> from dendrite import nn
            >>> nn.Linear(2, 1).half().weight.dtype
            dtype('float16')
        """
        return self.to(backend.float16)

    def type(self, dst_type) -> Module:
        """Cast floating parameters and buffers to ``dst_type``, in place; the same as ``to(dst_type)``.

        Example:
            >>> import dendrite
            >>> dendrite.nn.Linear(2, 1).type(dendrite.float64).weight.dtype
            dtype('float64')
        """
        return self.to(dst_type)

    def cpu(self) -> Module:
        """Move parameters and buffers to the CPU, in place; returns ``self``.

        Example:
            >>> from dendrite import nn
            >>> layer = nn.Linear(2, 1)
            >>> layer.cpu() is layer
            True
        """
        return self.to("cpu")

    def cuda(self, device=None) -> Module:
        """Move parameters and buffers to the GPU, in place; ``RuntimeError`` without CuPy and a GPU.

        Example:
            >>> from dendrite import nn
            >>> nn.Linear(2, 1).cuda()
            Traceback (most recent call last):
            ...
            RuntimeError: Module.cuda: CUDA is not available: ...
        """
        return self.to(resolve_device("cuda" if device is None else device, "Module.cuda"))
