"""dendrite: deep learning from scratch on NumPy, readable and verified.

Example:
    >>> import dendrite
    >>> x = dendrite.tensor([1.0, 2.0], requires_grad=True)
    >>> (x ** 2).sum().backward()
    >>> x.grad
    tensor([2., 4.])
"""

from dendrite import accelerator, autograd, backends, cuda, distributions, linalg, nn, optim
from dendrite.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from dendrite.backend import bool_ as bool  # noqa: A004  (PyTorch's name: dendrite.bool)
from dendrite.backend import (
    float16,
    float32,
    float64,
    get_default_dtype,
    get_rng_state,
    int8,
    int16,
    int32,
    int64,
    set_default_dtype,
    set_rng_state,
    uint8,
)
from dendrite.backends import (
    are_deterministic_algorithms_enabled,
    get_float32_matmul_precision,
    is_deterministic_algorithms_warn_only_enabled,
    set_float32_matmul_precision,
    use_deterministic_algorithms,
)
from dendrite.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from dendrite.devices import device
from dendrite.interop.freeze import freeze, unfreeze
from dendrite.interop.serialization import load, save
from dendrite.legacy_tensors import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
)

# PyTorch's top-level names for these functional forms (torch.cosine_similarity, torch.pixel_shuffle ...)
from dendrite.linalg import det, matrix_exp, slogdet
from dendrite.linalg import inv as inverse
from dendrite.nn.functional.distance import cdist, cosine_similarity, pairwise_distance
from dendrite.nn.functional.vision import pixel_shuffle, pixel_unshuffle
from dendrite.ops import *  # noqa: F403  (the operations as functions: dendrite.exp(x), ...)
from dendrite.ops import cat, concat, concatenate  # noqa: F401
from dendrite.ops.boundary import export as _export
from dendrite.random_generator import Generator, default_generator, initial_seed, manual_seed, seed
from dendrite.random_sampling import bernoulli, multinomial
from dendrite.summary import summary
from dendrite.tensor import Tensor
from dendrite.torch_names import (
    compile,  # noqa: A004  (PyTorch's name: torch.compile)
    finfo,
    get_default_device,
    iinfo,
    is_floating_point,
    is_tensor,
    numel,
    set_default_device,
)
from dendrite.utils import data as _utils_data  # noqa: F401  (dendrite.utils.data: a lazy path, cheap)
from dendrite.utils.allocator import keep_freed_memory as _keep_freed_memory
from dendrite.utils.threads import get_num_threads, set_num_threads
from dendrite.version import __version__  # noqa: F401  (dendrite.__version__)

_keep_freed_memory()  # steps reuse freed arrays instead of page-faulting them back in (utils/allocator.py)

half, double, long = float16, float64, int64
float = float32  # noqa: A001  (PyTorch's name: dendrite.float)


def __getattr__(name: str):
    # dendrite.onnx loads on first use: it needs the optional onnx package only inside export().
    # dendrite.models (ready architectures) sits above the facade's layers: loaded on first use too.
    if name in ("onnx", "models"):
        import importlib

        return importlib.import_module(f"dendrite.{name}")
    # The data package (and its PyTorch path dendrite.utils.data) load on first use: a tenth of import time.
    if name == "data":
        import dendrite.data

        return dendrite.data
    raise AttributeError(f"module 'dendrite' has no attribute {name!r}")

# The op boundary for the creation functions that read a tensor (ops/boundary.py).
_export(globals(), ["empty_like", "full_like", "ones_like", "rand_like", "randint_like", "randn_like",
                    "zeros_like"])
