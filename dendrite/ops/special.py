"""Special functions: the error function ``erf`` (PyTorch's ``torch.erf``).

    d erf(x) = 2 / sqrt(pi) * exp(-x^2)

NumPy has no ``erf``, so :func:`erf_array` computes it here on backend arrays
(float64 to within 1 ulp); :func:`erf` is the differentiable operation on
tensors. Integer and bool inputs become the default float dtype first, as
PyTorch does.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from dendrite import backend
from dendrite.autograd.function import Function
from dendrite.backend import xp
from dendrite.ops.operands import to_float

if TYPE_CHECKING:  # annotations only: dendrite.tensor sits on top of the operations
    from dendrite.tensor import Tensor

__all__ = ["erf"]

# erf(x) for float64 to within 1 ulp (checked against mpmath). |x| < 1: the Taylor series
# 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1)) by Horner. 1 <= |x| < 6: erf = 1 - exp(-x^2) q(x)
# where q = erfc(x) exp(x^2) is smooth; q is a Chebyshev series on three intervals whose
# coefficients were computed in 50-digit arithmetic (mpmath) at Chebyshev nodes. |x| >= 6: erf = 1
# (erfc(6) < 2.2e-17 is below half an ulp of 1).
_TAYLOR = [2 / math.sqrt(math.pi) * (-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(20)]
_ERFCX_PIECES = (
    (1.0, 2.0, (
        0.331427281639452, -0.0850021377067432, 0.009951127341466115, -0.0010810888102208325,
        0.0001102324363119495, -1.0636830518218601e-05, 9.775012680479055e-07, -8.597922867888315e-08,
        7.267708411724842e-09, -5.92354384059248e-10, 4.6683928572192346e-11, -3.566127699920895e-12,
        2.645877690568859e-13, -1.9101252151284302e-14, 1.3377839153951851e-15)),
    (2.0, 3.5, (
        0.19943078169681192, -0.04938002535992735, 0.00584049638189269, -0.0006632226933017975,
        7.259178935511736e-05, -7.682952765978158e-06, 7.883915794570548e-07, -7.861599623239447e-08,
        7.632681897920262e-09, -7.227220937984241e-10, 6.683956650683305e-11, -6.045467137874447e-12,
        5.353820541482656e-13, -4.646940573283179e-14, 3.930197474173177e-15)),
    (3.5, 6.0, (
        0.12011119518612726, -0.03077508367843977, 0.003865397162805732, -0.00047649553104630324,
        5.77037152814629e-05, -6.8706380375240234e-06, 8.049536979190978e-07, -9.28595712109178e-08,
        1.0554537407133947e-08, -1.1826590114866816e-09, 1.3069652718560293e-10, -1.4093933436568164e-11)),
)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def erf_array(x):
    """The error function of an array (or number), computed and returned in float64.

    Example:
        >>> round(float(erf_array(0.5)), 4)
        0.5205
    """
    a = xp.abs(backend.asarray(x, dtype=xp.float64))
    out = xp.where(a >= 6.0, 1.0, xp.nan)
    small = a < 1.0
    if small.any():
        s, t = a[small], a[small] * a[small]
        total = xp.zeros_like(t)
        for coefficient in reversed(_TAYLOR):
            total = total * t + coefficient
        out[small] = s * total
    for low, high, coefficients in _ERFCX_PIECES:
        inside = (a >= low) & (a < high)
        if inside.any():
            s = a[inside]
            u2 = (4.0 * s - 2.0 * (low + high)) / (high - low)  # 2u, u in [-1, 1]; Clenshaw's recurrence
            b1 = b2 = xp.zeros_like(s)
            for coefficient in reversed(coefficients[1:]):
                b1, b2 = u2 * b1 - b2 + coefficient, b1
            out[inside] = 1.0 - xp.exp(-s * s) * (0.5 * u2 * b1 - b2 + coefficients[0])
    return xp.copysign(out, x)


class Erf(Function):
    """``erf(x)``; backward: ``g * 2 / sqrt(pi) * exp(-x^2)``."""
    def forward(self, x):
        self.x = x
        return erf_array(x).astype(x.dtype, copy=False)

    def backward(self, grad):
        with xp.errstate(over="ignore"):  # x * x overflows for |x| > 1e154: exp(-inf) = 0, as it should
            return grad * (_TWO_OVER_SQRT_PI * xp.exp(-self.x * self.x))

    def backward_graph(self, grad):
        x = self.inputs[0]
        return grad * (_TWO_OVER_SQRT_PI * (-x * x).exp())


def erf(input: Tensor) -> Tensor:
    """The error function ``2 / sqrt(pi) * integral_0^x exp(-t^2) dt``, in (-1, 1). Any shape.

    Example:
        >>> import dendrite
        >>> round(dendrite.erf(dendrite.tensor([0.5])).item(), 4)
        0.5205
    """
    return Erf.apply(to_float(input))
