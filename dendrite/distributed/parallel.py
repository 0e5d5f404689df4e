"""``DistributedDataParallel``: the same model on every rank, gradients averaged over all of them.

Each rank runs the model on its own part of the global batch; after ``loss.backward()``
every parameter's ``.grad`` is the average of the ranks' gradients, so one optimizer step
on each rank moves every copy of the model identically. With the mean loss of a batch of
B per rank over K ranks, that average is the gradient of the mean loss over the whole
K·B batch: the run follows, step for step, the single-process run with batch K·B.

How the gradients travel (the design of PyTorch's DDP, on dendrite's engine):

* **Buckets.** The parameters are grouped, in reverse order of ``parameters()`` (the order in
  which backward reaches them), into flat buffers, one dtype per bucket, with PyTorch's rule: a
  bucket closes once it holds at least its limit, 1 MiB for the first bucket (PyTorch's
  ``_DEFAULT_FIRST_BUCKET_BYTES``: the last layers' gradients leave early) and ``bucket_cap_mb``
  for the others. One allreduce per bucket instead of one per parameter: fewer, larger
  messages, which is what a network is fast at.
* **Hooks, overlapped with backward.** A post-accumulate-grad hook on every parameter
  (``Tensor.register_post_accumulate_grad_hook``) runs as soon as the engine has finished that
  parameter's ``.grad`` for this backward, while the earlier layers' backward is still to come.
  It copies the ``.grad`` (which includes what :meth:`no_sync` steps accumulated, so that is
  averaged too) into its bucket; once every parameter of a bucket is in, the bucket's
  non-blocking ``MPI_Iallreduce`` starts, buckets always in the same order on every rank, and
  travels while backward goes on (each later hook also polls MPI, which moves the messages
  along: Open MPI has no progress thread). The hook of the last parameter waits for all of
  them, divides by K and writes the averages into every ``.grad``: when ``backward()``
  returns, the gradients are averaged.

**Uneven batches.** Averaging the ranks' gradients equally is right when every rank's batch
has the same size. Set ``ddp.sample_count`` (every rank, before each forward: its batch's size n_r)
and the average is weighted instead, Σ n_r·g_r / Σ n_r, the gradient of the mean loss over
all the samples whatever their split; the counts travel in the first bucket (no extra message).
:class:`~dendrite.distributed.DistributedTrainer` sets it, so a last batch of 15 + 14 samples
equals one process's batch of 29, and a rank with no batch left contributes n_r = 0.

**Dropout.** During a training forward on K > 1 ranks, every dropout whose input's first
dimension is this rank's batch draws the mask of the whole global batch from the global
generator (the same state on every rank) and keeps this rank's rows r, r + K, ... (the
``DistributedSampler``'s split): the masks are the single process's, and the generators stay in
step (``nn.functional.dropout.global_batch_masks``). The global batch is K times this rank's, or,
with ``sample_count`` set, the sum of the counts (one small allreduce, made only if a dropout runs).

At construction rank 0's parameters and buffers are broadcast to every rank, so ranks seeded
differently start equal; with ``broadcast_buffers=True`` (default) buffers (batch-norm
statistics) are broadcast from rank 0 again before each training forward, as in PyTorch.
Every parameter that requires grad must receive a gradient in each backward
(``find_unused_parameters`` is not supported): a backward that misses some is reported by
the next forward, naming them.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator

import numpy as np

from dendrite.autograd.engine import add_backward_observer
from dendrite.distributed import communication
from dendrite.interop.checkpoint_tree import flatten, unflatten
from dendrite.nn import Module
from dendrite.nn.functional.dropout import global_batch_masks

__all__ = ["DistributedDataParallel", "broadcast_parameters", "broadcast_optimizer_state",
           "bucket_assignment"]


def broadcast_parameters(module: Module, src: int = 0) -> None:
    """Copy rank ``src``'s parameters and buffers into every rank's ``module``, in place.

    Example:
        >>> import dendrite
        >>> from dendrite.distributed import init
        >>> init(); model = dendrite.nn.Linear(2, 1); broadcast_parameters(model)
    """
    for tensor in (*module.parameters(), *(buffer for buffer in module.buffers() if buffer is not None)):
        communication.broadcast(tensor, src)


def _broadcast_bytes(payload: bytes | None, src: int) -> bytes:
    length = np.array([len(payload) if payload is not None else 0], dtype=np.int64)
    communication.broadcast(length, src)
    if payload is not None:
        buffer = np.frombuffer(payload, dtype=np.uint8).copy()
    else:
        buffer = np.empty(int(length[0]), dtype=np.uint8)
    communication.broadcast(buffer, src)
    return buffer.tobytes()


def broadcast_optimizer_state(optimizer, src: int = 0) -> None:
    """Give every rank rank ``src``'s optimizer state (moments, step counts, learning rates).

    Used when resuming: rank 0 reads the checkpoint and the others receive its state. The
    state travels as JSON plus arrays (``dendrite.interop.checkpoint_tree``), never pickled.

    Example:
        >>> import dendrite
        >>> from dendrite.distributed import init
        >>> init(); model = dendrite.nn.Linear(2, 1)
        >>> broadcast_optimizer_state(dendrite.optim.Adam(model.parameters()))
    """
    import json

    comm = communication._comm()
    if comm.Get_size() == 1:
        return
    root = comm.Get_rank() == src
    arrays: dict = {}
    payload = None
    if root:
        tree, arrays = flatten(optimizer.state_dict())
        layout = {name: [array.dtype.str, list(array.shape)] for name, array in arrays.items()}
        payload = json.dumps({"tree": tree, "arrays": layout}).encode()
    message = json.loads(_broadcast_bytes(payload, src))
    received = {}
    for name, (dtype, shape) in message["arrays"].items():
        array = np.ascontiguousarray(arrays[name]) if root else np.empty(shape, dtype=np.dtype(dtype))
        communication.broadcast(array, src)
        received[name] = array
    if not root:
        optimizer.load_state_dict(unflatten(message["tree"], received, "the broadcast optimizer state"))


DEFAULT_BUCKET_CAP_MB = 25.0  # PyTorch's default bucket_cap_mb
FIRST_BUCKET_BYTES = 1024 * 1024  # PyTorch's dist._DEFAULT_FIRST_BUCKET_BYTES (with the default cap only)


def bucket_assignment(parameters: list, bucket_cap_mb: float = 25.0,
                      first_bucket_bytes: int | None = FIRST_BUCKET_BYTES) -> list[list]:
    """Group ``parameters`` into gradient buckets, PyTorch's rule, in the order backward fills them.

    Walks the parameters in reverse order; per dtype a bucket closes as soon as it holds at least
    its limit (``first_bucket_bytes`` for the dtype's first bucket, at most ``bucket_cap_mb``; then
    ``bucket_cap_mb``; ``first_bucket_bytes=None``: ``bucket_cap_mb`` for all). Buckets are ordered
    by their first parameter in that reversed order.

    Example:
        >>> import dendrite
        >>> model = dendrite.nn.Sequential(dendrite.nn.Linear(600, 600), dendrite.nn.Linear(600, 10))
        >>> [[tuple(p.shape) for p in bucket] for bucket in bucket_assignment(list(model.parameters()))]
        [[(10,), (10, 600), (600,), (600, 600)]]
        >>> [len(bucket) for bucket in bucket_assignment(list(model.parameters()), first_bucket_bytes=1000)]
        [2, 2]
    """
    cap = int(bucket_cap_mb * 1024 * 1024)
    limits = [cap if first_bucket_bytes is None else min(first_bucket_bytes, cap), cap]
    open_buckets: dict = {}  # dtype -> [parameters, bytes, how many buckets of this dtype closed]
    closed: list[list] = []
    for parameter in reversed(parameters):
        entry = open_buckets.setdefault(parameter.array.dtype, [[], 0, 0])
        entry[0].append(parameter)
        entry[1] += parameter.array.nbytes
        if entry[1] >= limits[min(entry[2], 1)]:
            closed.append(entry[0])
            entry[0], entry[1], entry[2] = [], 0, entry[2] + 1
    closed += [entry[0] for entry in open_buckets.values() if entry[0]]
    order = {id(parameter): position for position, parameter in enumerate(reversed(parameters))}
    return sorted(closed, key=lambda bucket: order[id(bucket[0])])


class _Bucket:
    """One flat buffer of gradients and the parameters whose gradients it holds."""

    def __init__(self, parameters: list, dtype, extra: int = 0) -> None:
        self.parameters = parameters
        self.offsets, total = [], 0
        for parameter in parameters:
            self.offsets.append(total)
            total += parameter.array.size
        self.buffer = np.zeros(total + extra, dtype=dtype)  # extra: the sample count, in the first bucket
        self.reduced = np.empty_like(self.buffer)
        self.pending = len(parameters)

    def view(self, index: int) -> np.ndarray:
        parameter, start = self.parameters[index], self.offsets[index]
        return self.reduced[start:start + parameter.array.size].reshape(parameter.array.shape)


def _leading_size(args: tuple, kwargs: dict) -> int | None:
    """The first dimension of the forward's first tensor argument (this rank's batch), or None."""
    for value in (*args, *kwargs.values()):
        shape = getattr(value, "shape", None)
        if shape is not None:
            return int(shape[0]) if len(shape) else None
    return None


class DistributedDataParallel(Module):
    """Wrap ``module`` so that ``backward()`` averages its gradients over every rank of the job.

    Arguments:
        module: the model; every rank builds the same architecture (rank 0's weights are broadcast).
        bucket_cap_mb: the size of one gradient bucket (one allreduce) in megabytes. Default (``None``):
            25, with a first bucket of 1 MiB (PyTorch's defaults); a number given: every bucket that size.
        broadcast_buffers: broadcast rank 0's buffers before each training-mode forward.

    Shapes: the forward is ``module``'s. ``state_dict()`` keys carry the ``module.`` prefix, as in
    PyTorch; save ``ddp.module.state_dict()`` to get the plain model's keys.

    Example:
        >>> import dendrite
        >>> from dendrite.distributed import init
        >>> init()   # under mpirun every rank runs this same code
        >>> model = DistributedDataParallel(dendrite.nn.Linear(3, 1))
        >>> model(dendrite.ones(4, 3)).sum().backward()
        >>> model.module.weight.grad     # averaged over the ranks: here one rank
        tensor([[4., 4., 4.]])
    """

    def __init__(self, module: Module, bucket_cap_mb: float | None = None,
                 broadcast_buffers: bool = True) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel wraps a dendrite.nn.Module, got "
                            f"{type(module).__name__}")
        self._first_bucket_bytes = FIRST_BUCKET_BYTES if bucket_cap_mb is None else None  # None: the cap
        bucket_cap_mb = DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb
        if not bucket_cap_mb > 0:
            raise ValueError(f"bucket_cap_mb must be a positive number of megabytes, got {bucket_cap_mb!r}")
        self.world_size, self.rank = communication.get_world_size(), communication.get_rank()
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.bucket_cap_mb = float(bucket_cap_mb)
        self.sample_count: int | None = None  # this rank's batch size: a weighted average (module docstring)
        broadcast_parameters(module)
        self._syncing = True
        self._expecting = False  # a forward ran; the next backward should reduce
        self._active = False  # inside a backward that reduces
        self._buckets: list[_Bucket] = []
        self._place: dict[int, tuple[int, int]] = {}  # id(parameter) -> (bucket, index in bucket)
        self._handles = []
        if self.world_size > 1:
            self._build_buckets()
            reference = weakref.ref(self)

            def on_backward(outputs) -> None:
                ddp = reference()
                if ddp is not None and ddp._expecting:
                    ddp._start_backward()

            self._remove_observer = add_backward_observer(on_backward)

    # ------------------------------------------------------------------ buckets and hooks
    def _build_buckets(self) -> None:
        names = {id(parameter): name for name, parameter in self.module.named_parameters()}
        self._names = names
        trainable = [parameter for parameter in self.module.parameters() if parameter.requires_grad]
        for bucket_index, parameters in enumerate(bucket_assignment(trainable, self.bucket_cap_mb,
                                                                        self._first_bucket_bytes)):
            bucket = _Bucket(parameters, parameters[0].array.dtype, extra=1 if bucket_index == 0 else 0)
            self._buckets.append(bucket)
            for index, parameter in enumerate(parameters):
                self._place[id(parameter)] = (bucket_index, index)
                self._handles.append(parameter.register_post_accumulate_grad_hook(self._make_hook()))
        self._parameter_count = len(self._place)

    def _make_hook(self):
        reference = weakref.ref(self)

        def gradient_ready(parameter) -> None:
            ddp = reference()
            if ddp is not None and ddp._active:
                ddp._collect(parameter)

        return gradient_ready

    def _start_backward(self) -> None:
        # _expecting stays set until the reduction completes: a backward of some other graph that
        # happens in between (and reaches none of these parameters) must not use up the next one's turn.
        self._active = True
        self._ready = 0
        self._seen: set[int] = set()
        self._next_launch = 0
        self._requests = []
        for bucket in self._buckets:
            bucket.pending = len(bucket.parameters)
        self._weight = self.sample_count
        if self._buckets:
            self._buckets[0].buffer[-1] = 0 if self._weight is None else self._weight

    def _collect(self, parameter) -> None:
        """``parameter.grad`` is complete for this backward: into its bucket; launch what is ready."""
        if id(parameter) in self._seen:
            return
        bucket_index, index = self._place[id(parameter)]
        bucket = self._buckets[bucket_index]
        start = bucket.offsets[index]
        slot = bucket.buffer[start:start + parameter.array.size].reshape(parameter.array.shape)
        np.copyto(slot, parameter.grad.array)  # with what no_sync() steps accumulated: averaged too
        if self._weight is not None:
            slot *= self._weight
        bucket.pending -= 1
        self._ready += 1
        self._seen.add(id(parameter))
        self._launch_ready_buckets()
        if self._ready == self._parameter_count:
            self._finish()
        elif self._requests:  # let MPI move the buckets in flight along (no progress thread)
            communication._group["MPI"].Request.Testall(self._requests)

    def _launch_ready_buckets(self) -> None:
        comm, MPI = communication._comm(), communication._group["MPI"]
        while self._next_launch < len(self._buckets) and self._buckets[self._next_launch].pending == 0:
            bucket = self._buckets[self._next_launch]
            self._requests.append(comm.Iallreduce(bucket.buffer, bucket.reduced, op=MPI.SUM))
            self._next_launch += 1

    def _finish(self) -> None:
        communication.wait_all(self._requests, f"the gradient allreduce of {len(self._buckets)} bucket(s)")
        self._active = self._expecting = False
        divisor = self.world_size if self._weight is None else max(float(self._buckets[0].reduced[-1]), 1.0)
        for bucket in self._buckets:
            np.divide(bucket.reduced, divisor, out=bucket.reduced)
            for index, parameter in enumerate(bucket.parameters):
                average, grad = bucket.view(index), parameter.grad
                if grad.array.flags.writeable and grad.array.dtype == average.dtype:
                    np.copyto(grad.array, average)
                else:
                    grad.data = average.copy()

    # ------------------------------------------------------------------ the module
    def forward(self, *args, **kwargs):
        """Run the wrapped module; the next ``backward()`` averages its gradients over the ranks."""
        if self.world_size > 1:
            self._check_previous_backward()
            if self.broadcast_buffers and self.training:
                for buffer in self.module.buffers():
                    if buffer is not None:
                        communication.broadcast(buffer, 0)
            self._expecting = self._syncing
            if self.training:
                local = _leading_size(args, kwargs)
                if local is not None:  # dropout: this rank's rows of the global batch's mask
                    with global_batch_masks(self.rank, self.world_size, local, self._global_batch(local)):
                        return self.module(*args, **kwargs)
        return self.module(*args, **kwargs)

    def _global_batch(self, local: int):
        """The global batch's size: K·local, or (``sample_count`` set) a function summing the ranks' counts.

        The sum is a collective, so it runs only if a dropout asks for it (every rank's forward runs
        the same dropouts): a model without dropout pays nothing.
        """
        if self.sample_count is None:
            return self.world_size * local
        count = np.array([self.sample_count], dtype=np.int64)

        def total() -> int:
            communication.all_reduce(count, "sum")
            return int(count[0])

        return total

    def _check_previous_backward(self) -> None:
        if not self._active:
            return
        self._active = False
        if self._ready == 0:  # that backward did not involve this model
            return
        missing = [self._names.get(id(parameter), "?") for bucket in self._buckets
                   for parameter in bucket.parameters if id(parameter) not in self._seen]
        raise RuntimeError(
            f"DistributedDataParallel: the last backward gave gradients to only {self._ready} of the "
            f"{self._parameter_count} parameters that require grad, so their allreduce never completed "
            f"(no gradient for: {', '.join(missing[:8])}). Every parameter must take part in the loss "
            "(find_unused_parameters is not supported); freeze unused ones with requires_grad_(False) "
            "before wrapping the model")

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside this block backward only accumulates local gradients (no allreduce), as in PyTorch.

        The first backward after the block averages everything accumulated.

        Example:
            >>> import dendrite
            >>> from dendrite.distributed import init
            >>> init(); model = DistributedDataParallel(dendrite.nn.Linear(2, 1))
            >>> with model.no_sync():
            ...     model(dendrite.ones(1, 2)).sum().backward()
            >>> model(dendrite.ones(1, 2)).sum().backward()
            >>> model.module.bias.grad
            tensor([2.])
        """
        previous, self._syncing = self._syncing, False
        try:
            yield
        finally:
            self._syncing = previous

    def extra_repr(self) -> str:
        return (f"world_size={self.world_size}, buckets={len(self._buckets)}, "
                f"bucket_cap_mb={self.bucket_cap_mb:g}")
