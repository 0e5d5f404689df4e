"""Automatic differentiation: the graph engine, grad modes and verification tools.

``backward()`` on a tensor and :func:`grad` run the engine; :func:`gradcheck`
compares analytic gradients with finite differences; :class:`detect_anomaly`
finds the operation that first produced a NaN or Inf.
"""

from dendrite.autograd.anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from dendrite.autograd.anomaly_origin import AnomalyOrigin
from dendrite.autograd.function import Function
from dendrite.autograd.functional import backward, grad
from dendrite.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from dendrite.autograd.gradient_check import GradcheckError, gradcheck, gradgradcheck

__all__ = [
    "Function", "GradcheckError", "AnomalyError", "AnomalyOrigin", "backward", "detect_anomaly",
    "enable_grad", "grad", "gradcheck", "gradgradcheck", "inference_mode", "is_anomaly_enabled",
    "is_grad_enabled", "no_grad",
    "set_detect_anomaly", "set_grad_enabled",
]
