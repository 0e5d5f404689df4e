"""Loss functions as layers: ``criterion = nn.CrossEntropyLoss(); loss = criterion(logits, target)``.

Each loss stores its options (``reduction`` is ``'mean'``, ``'sum'`` or ``'none'``)
and calls the function of the same name in ``dendrite.nn.functional``. Class
weights are registered as buffers, so they follow ``.to(dtype)`` and appear in
the state_dict, as in PyTorch. The margin and embedding losses are in ``loss_margin``.
"""

from __future__ import annotations

from dendrite.nn import functional as F
from dendrite.nn.modules.module import Module
from dendrite.tensor import Tensor

__all__ = [
    "L1Loss", "MSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss",
    "SmoothL1Loss", "HuberLoss", "PoissonNLLLoss", "GaussianNLLLoss",
]


def _legacy_reduction(size_average, reduce) -> str:
    """PyTorch's mapping of the deprecated ``size_average``/``reduce`` flags to ``reduction``."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        return "mean"
    return "sum" if reduce else "none"


def _optional_tensor(value, name: str, layer: str) -> Tensor | None:
    if value is None or isinstance(value, Tensor):
        return value
    try:
        return Tensor(value)
    except Exception as error:
        raise TypeError(f"{layer}: {name} must be a Tensor or None, got {type(value).__name__}") from error


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = _legacy_reduction(size_average, reduce)
        if reduction not in ("none", "mean", "sum"):
            raise ValueError(
                f"{type(self).__name__}: {reduction!r} is not a valid value for reduction; "
                "expected 'none', 'mean' or 'sum'"
            )
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _optional_tensor(weight, "weight", type(self).__name__))


class L1Loss(_Loss):
    """Mean absolute error ``|input - target|``.

    Shapes: input ``(*)``, target the same shape; output a scalar (``(*)`` with ``reduction='none'``).

    Example:
        >>> import dendrite
        >>> float(dendrite.nn.L1Loss()(dendrite.tensor([1.0, 3.0]), dendrite.zeros(2)))
        2.0
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error ``(input - target)**2``.

    Shapes: input ``(*)``, target the same shape; output a scalar (``(*)`` with ``reduction='none'``).

    Example:
        >>> import dendrite
        >>> float(dendrite.nn.MSELoss()(dendrite.tensor([1.0, 3.0]), dendrite.tensor([0.0, 0.0])))
        5.0
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax + negative log-likelihood on raw scores (logits).

    Shapes: input ``(N, C)`` or ``(N, C, d1, ...)`` logits; target ``(N)`` / ``(N, d1, ...)``
    class indices in ``[0, C)`` (``ignore_index`` skipped), or class probabilities shaped
    like the input; output a scalar (the target's shape with ``reduction='none'``).
    ``label_smoothing`` mixes the target with the uniform distribution.

    Example:
        >>> import dendrite
        >>> loss = dendrite.nn.CrossEntropyLoss()(dendrite.zeros(4, 10), dendrite.tensor([1, 0, 3, 9]))
        >>> round(float(loss), 4)   # log(10)
        2.3026
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}")
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (use after ``LogSoftmax``).

    Shapes: input ``(N, C)`` or ``(N, C, d1, ...)``; target ``(N)`` / ``(N, d1, ...)`` class indices;
    output a scalar (the target's shape with ``reduction='none'``).

    Example:
        >>> import dendrite
        >>> log_probabilities = dendrite.tensor([[-1.0, -2.0], [-3.0, -0.5]])
        >>> float(dendrite.nn.NLLLoss()(log_probabilities, dendrite.tensor([0, 1])))   # (1 + 0.5) / 2
        0.75
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities in ``[0, 1]`` (after ``Sigmoid``).

    Shapes: input ``(*)``, target the same shape; output a scalar (``(*)`` with ``reduction='none'``).

    Example:
        >>> import dendrite
        >>> loss = dendrite.nn.BCELoss()(dendrite.tensor([0.5, 0.5]), dendrite.tensor([0.0, 1.0]))
        >>> round(float(loss), 4)   # log(2)
        0.6931
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one numerically stable step; input is raw logits.

    ``pos_weight`` (one per class, broadcast over the last dimension) scales the positive term,
    to balance rare positives.

    Shapes: input ``(*)``, target the same shape; output a scalar (``(*)`` with ``reduction='none'``).

    Example:
        >>> import dendrite
        >>> loss = dendrite.nn.BCEWithLogitsLoss()(dendrite.zeros(3), dendrite.tensor([0.0, 1.0, 1.0]))
        >>> round(float(loss), 4)   # log(2)
        0.6931
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean",
                 pos_weight=None) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _optional_tensor(weight, "weight", "BCEWithLogitsLoss"))
        self.register_buffer("pos_weight", _optional_tensor(pos_weight, "pos_weight", "BCEWithLogitsLoss"))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence; ``input`` is log-probabilities, ``target`` probabilities
    (or log-probabilities with ``log_target=True``). Use ``reduction='batchmean'`` for the true KL.

    Shapes: input ``(N, *)``, target the same shape; output a scalar (``(N, *)`` with ``reduction='none'``).

    Example:
        >>> import dendrite
        >>> kl = dendrite.nn.KLDivLoss(reduction="batchmean")
        >>> round(float(kl(dendrite.tensor([[0.5, 0.5]]).log(), dendrite.tensor([[1.0, 0.0]]))), 4)
        0.6931
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        # 'batchmean' is valid only here, so check it before the generic validation.
        super().__init__(size_average, reduce, "mean" if reduction == "batchmean" else reduction)
        if reduction == "batchmean" and size_average is None and reduce is None:
            self.reduction = "batchmean"
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class SmoothL1Loss(_Loss):
    """Squared error below ``beta``, absolute error above it (``0.5 x**2 / beta`` vs ``|x| - 0.5 beta``).

    Shapes: input ``(*)``, target the same shape; output a scalar (``(*)`` with ``reduction='none'``).

    Example:
        >>> import dendrite
        >>> loss = dendrite.nn.SmoothL1Loss(reduction="none")
        >>> loss(dendrite.tensor([0.5, 3.0]), dendrite.zeros(2)).tolist()
        [0.125, 2.5]
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Squared error below ``delta``, linear above it (``delta`` times SmoothL1 with ``beta=delta``).

    Shapes: input ``(*)``, target the same shape; output a scalar (``(*)`` with ``reduction='none'``).

    Example:
        >>> import dendrite
        >>> loss = dendrite.nn.HuberLoss(reduction="none", delta=2.0)
        >>> loss(dendrite.tensor([0.5, 3.0]), dendrite.zeros(2)).tolist()
        [0.125, 4.0]
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class PoissonNLLLoss(_Loss):
    """Negative log-likelihood of a Poisson target (counts): ``exp(input) - target * input`` for log rates.

    Shapes: input ``(*)``, target the same shape; output a scalar (``(*)`` with ``reduction='none'``).

    Example:
        >>> import dendrite
        >>> float(dendrite.nn.PoissonNLLLoss()(dendrite.zeros(2), dendrite.tensor([1.0, 2.0])))
        1.0
    """

    def __init__(self, log_input: bool = True, full: bool = False, size_average=None, eps: float = 1e-8,
                 reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full, eps=self.eps,
                                  reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Negative log-likelihood of a Gaussian with predicted mean ``input`` and variance ``var``.

    Shapes: input ``(N, *)``, target the same shape, var the same shape, that shape without its
    last dimension, or with one dimension of size 1; output a scalar (``(N, *)`` with ``reduction='none'``).

    Example:
        >>> import dendrite
        >>> loss = dendrite.nn.GaussianNLLLoss()
        >>> float(loss(dendrite.zeros(2), dendrite.tensor([1.0, 0.0]), dendrite.ones(2)))
        0.25
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Tensor, target: Tensor, var: Tensor | float) -> Tensor:
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)
