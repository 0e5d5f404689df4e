"""Automatic differentiation: the graph engine, grad modes and verification tools.

``backward()`` on a tensor and :func:`grad` run the engine; :func:`gradcheck`
compares analytic gradients with finite differences; :class:`detect_anomaly`
finds the operation that first produced a NaN or Inf.
"""

from dendrite.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)

__all__ = [
    "Function", "GradcheckError", "AnomalyError", "backward", "detect_anomaly", "enable_grad", "grad",
    "gradcheck", "inference_mode", "is_anomaly_enabled", "is_grad_enabled", "no_grad",
    "set_detect_anomaly", "set_grad_enabled",
]


_LAZY = {
    "Function": "function",
    "grad": "functional",
    "backward": "functional",
    "gradcheck": "gradient_check",
    "GradcheckError": "gradient_check",
    "detect_anomaly": "anomaly",
    "AnomalyError": "anomaly",
    "is_anomaly_enabled": "anomaly",
    "set_detect_anomaly": "anomaly",
}


def __getattr__(name):
    # Loaded on first use: these modules import the Tensor class, which imports this package.
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f"dendrite.autograd.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'dendrite.autograd' has no attribute {name!r}")
