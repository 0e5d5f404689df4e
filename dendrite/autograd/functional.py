"""PyTorch's ``torch.autograd.functional`` (jacobian, hessian, vjp, jvp, vhp, hvp), and ``grad``/``backward``.

``grad`` and ``backward`` live in :mod:`dendrite.autograd.gradients`, the derivative-of-a-function
helpers in :mod:`dendrite.autograd.jacobians`; this module is the path PyTorch code imports them by.

Example:
    >>> import dendrite
    >>> from dendrite.autograd.functional import jacobian
    >>> jacobian(lambda x: x * x, dendrite.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
"""

from dendrite.autograd.gradients import backward, grad
from dendrite.autograd.jacobians import hessian, hvp, jacobian, jvp, vhp, vjp

__all__ = ["backward", "grad", "hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]
