"""``dendrite.cuda``: PyTorch's ``torch.cuda``, answered from CuPy where a GPU is present.

With CuPy installed (``pip install 'dendrite[cuda]'``) and a GPU, ``is_available()`` is True,
``device_count()``, ``current_device()``, ``synchronize()``, ``get_device_name()``,
``memory_allocated()``/``memory_reserved()`` and ``empty_cache()`` ask CuPy (one GPU:
``cuda:0``). Random numbers come from dendrite's one generator (``dendrite.manual_seed``) on
every device, so ``cuda.manual_seed`` has nothing more to seed. Without CuPy or a GPU,
dendrite computes on the CPU (NumPy). So that a device-agnostic PyTorch script
runs unchanged (``device = "cuda" if dendrite.cuda.is_available() else "cpu"``),
this module answers the questions such a script asks exactly as a CPU-only
PyTorch build does:

=====================================  ==========================================
``is_available()``                     False
``device_count()``                     0
``is_initialized()``                   False
``manual_seed``, ``manual_seed_all``,  accepted, do nothing: there is no CUDA
``seed``, ``seed_all``                 generator to seed (the CPU one is seeded by
                                       ``dendrite.manual_seed``)
``empty_cache()``                      does nothing: there is no GPU memory cache
``memory_allocated()`` and friends     0
``current_device()``, ``synchronize``,  raise ``RuntimeError`` (PyTorch raises too:
``get_device_name()``, ...             "Torch not compiled with CUDA enabled")
=====================================  ==========================================
"""

from __future__ import annotations

from dendrite import backend
from dendrite.devices import cuda_unavailable_message

__all__ = ["is_available", "device_count", "is_initialized", "manual_seed", "manual_seed_all", "seed",
           "seed_all", "empty_cache", "memory_allocated", "max_memory_allocated", "memory_reserved",
           "max_memory_reserved", "is_bf16_supported", "current_device", "synchronize", "get_device_name",
           "get_device_properties", "get_device_capability", "set_device"]


def _cupy():
    """CuPy when it imports and sees a GPU (or the stand-in a test plugged in), else None."""
    return backend.device_module_or_none("cuda")


def is_available() -> bool:
    """True when CuPy imports and sees a GPU; False otherwise (the CPU does all the work).

    Example:
        >>> import dendrite
        >>> device = "cuda" if dendrite.cuda.is_available() else "cpu"
        >>> device
        'cpu'
    """
    return _cupy() is not None


def device_count() -> int:
    """How many GPUs CuPy sees (0 without CuPy or a GPU).

    Example:
        >>> import dendrite
        >>> dendrite.cuda.device_count()
        0
    """
    cupy = _cupy()
    return 0 if cupy is None else int(cupy.cuda.runtime.getDeviceCount())


def is_initialized() -> bool:
    """False: there is no CUDA state to initialise.

    Example:
        >>> import dendrite
        >>> dendrite.cuda.is_initialized()
        False
    """
    return False


def manual_seed(seed: int) -> None:
    """Accepted and does nothing, as PyTorch without a GPU: there is no CUDA generator.

    ``dendrite.manual_seed(seed)`` seeds the CPU generator, which is the one that counts.

    Example:
        >>> import dendrite
        >>> dendrite.cuda.manual_seed(0)
    """
    _check_seed(seed, "manual_seed")


def manual_seed_all(seed: int) -> None:
    """Accepted and does nothing (no CUDA generators); see :func:`manual_seed`.

    Example:
        >>> import dendrite
        >>> dendrite.cuda.manual_seed_all(0)
    """
    _check_seed(seed, "manual_seed_all")


def seed() -> None:
    """Accepted and does nothing (no CUDA generator to seed at random).

    Example:
        >>> import dendrite
        >>> dendrite.cuda.seed()
    """


def seed_all() -> None:
    """Accepted and does nothing (no CUDA generators to seed at random).

    Example:
        >>> import dendrite
        >>> dendrite.cuda.seed_all()
    """


def _check_seed(value, who: str) -> None:
    # Harmless is not careless: a seed that PyTorch would refuse is refused here too.
    if isinstance(value, bool) or not isinstance(value, int) and not hasattr(value, "__index__"):
        raise TypeError(f"cuda.{who} expects an int seed, got {type(value).__name__}")


def empty_cache() -> None:
    """Free CuPy's cached, unused GPU blocks; does nothing without a GPU.

    Example:
        >>> import dendrite
        >>> dendrite.cuda.empty_cache()
    """
    cupy = _cupy()
    if cupy is not None:
        cupy.get_default_memory_pool().free_all_blocks()


def memory_allocated(device=None) -> int:
    """Bytes of GPU memory held by tensors (CuPy's memory pool in use); 0 without a GPU.

    Example:
        >>> import dendrite
        >>> dendrite.cuda.memory_allocated()
        0
    """
    cupy = _cupy()
    return 0 if cupy is None else int(cupy.get_default_memory_pool().used_bytes())


def max_memory_allocated(device=None) -> int:
    """0 bytes: nothing ever lived on a GPU.

    Example:
        >>> import dendrite
        >>> dendrite.cuda.max_memory_allocated()
        0
    """
    return 0


def memory_reserved(device=None) -> int:
    """Bytes of GPU memory CuPy's pool holds (in use or cached); 0 without a GPU.

    Example:
        >>> import dendrite
        >>> dendrite.cuda.memory_reserved()
        0
    """
    cupy = _cupy()
    return 0 if cupy is None else int(cupy.get_default_memory_pool().total_bytes())


def max_memory_reserved(device=None) -> int:
    """0 bytes: no GPU memory was ever reserved.

    Example:
        >>> import dendrite
        >>> dendrite.cuda.max_memory_reserved()
        0
    """
    return 0


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: there is no CUDA device to support bfloat16.

    Example:
        >>> import dendrite
        >>> dendrite.cuda.is_bf16_supported()
        False
    """
    return False


def current_device() -> int:
    """0 (dendrite uses one GPU); ``RuntimeError`` without a GPU, as PyTorch without one.

    Example:
        >>> import dendrite
        >>> dendrite.cuda.current_device()
        Traceback (most recent call last):
        ...
        RuntimeError: cuda.current_device: CUDA is not available: ...
    """
    if _cupy() is None:
        raise RuntimeError(cuda_unavailable_message("cuda.current_device"))
    return 0


def synchronize(device=None) -> None:
    """Wait for the GPU's queued work to finish (before reading a clock); ``RuntimeError`` without a GPU.

    Guard it as a device-agnostic script does:
    ``if dendrite.cuda.is_available(): dendrite.cuda.synchronize()``.

    Example:
        >>> import dendrite
        >>> dendrite.cuda.synchronize()
        Traceback (most recent call last):
        ...
        RuntimeError: cuda.synchronize: CUDA is not available: ...
    """
    cupy = _cupy()
    if cupy is None:
        raise RuntimeError(cuda_unavailable_message("cuda.synchronize"))
    cupy.cuda.Device().synchronize()


def get_device_name(device=None) -> str:
    """The GPU's name, as CuPy reports it; ``RuntimeError`` without a GPU.

    Example:
        >>> import dendrite
        >>> dendrite.cuda.get_device_name()
        Traceback (most recent call last):
        ...
        RuntimeError: cuda.get_device_name: CUDA is not available: ...
    """
    cupy = _cupy()
    if cupy is None:
        raise RuntimeError(cuda_unavailable_message("cuda.get_device_name"))
    name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def get_device_properties(device=None):
    """Raise ``RuntimeError``: there is no CUDA device to describe.

    Example:
        >>> import dendrite
        >>> dendrite.cuda.get_device_properties(0)
        Traceback (most recent call last):
        ...
        RuntimeError: cuda.get_device_properties: CUDA is not available: ...
    """
    raise RuntimeError(cuda_unavailable_message("cuda.get_device_properties"))


def get_device_capability(device=None) -> tuple:
    """Raise ``RuntimeError``: there is no CUDA device with a compute capability.

    Example:
        >>> import dendrite
        >>> dendrite.cuda.get_device_capability()
        Traceback (most recent call last):
        ...
        RuntimeError: cuda.get_device_capability: CUDA is not available: ...
    """
    raise RuntimeError(cuda_unavailable_message("cuda.get_device_capability"))


def set_device(device) -> None:
    """Select the GPU: dendrite uses device 0 only (accepted, nothing to do); ``RuntimeError`` without a GPU.

    Example:
        >>> import dendrite
        >>> dendrite.cuda.set_device(0)
        Traceback (most recent call last):
        ...
        RuntimeError: cuda.set_device: CUDA is not available: ...
    """
    if _cupy() is None:
        raise RuntimeError(cuda_unavailable_message("cuda.set_device"))
    from dendrite.devices import resolve_device

    resolve_device(device, "cuda.set_device")  # 0, "cuda", "cuda:0"; another index raises
