"""Automatic differentiation: the graph engine, grad modes and verification tools.

``backward()`` on a tensor and :func:`grad` run the engine; :func:`gradcheck`
compares analytic gradients with finite differences; :class:`detect_anomaly`
finds the operation that first produced a NaN or Inf.
"""

from dendrite.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled

__all__ = [
    "Function", "backward", "detect_anomaly", "enable_grad", "grad", "gradcheck",
    "is_grad_enabled", "no_grad", "set_grad_enabled",
]


def __getattr__(name):
    # Loaded on first use: these modules import the Tensor class, which imports this package.
    if name == "Function":
        from dendrite.autograd.function import Function

        return Function
    if name in ("grad", "backward"):
        from dendrite.autograd import functional

        return getattr(functional, name)
    if name == "gradcheck":
        from dendrite.autograd.gradcheck import gradcheck

        return gradcheck
    if name == "detect_anomaly":
        from dendrite.autograd.anomaly import detect_anomaly

        return detect_anomaly
    raise AttributeError(f"module 'dendrite.autograd' has no attribute {name!r}")
