"""``dendrite.nn.functional``: layers as plain functions (PyTorch's ``torch.nn.functional``).

Each family lives in its own file; modules in ``dendrite.nn`` call these.
"""

from dendrite.nn.functional.activation import *  # noqa: F403
from dendrite.nn.functional.activation_gated import *  # noqa: F403
from dendrite.nn.functional.activation_leaky import *  # noqa: F403
from dendrite.nn.functional.activation_shrink import *  # noqa: F403
from dendrite.nn.functional.attention import *  # noqa: F403
from dendrite.nn.functional.conv import *  # noqa: F403
from dendrite.nn.functional.distance import *  # noqa: F403
from dendrite.nn.functional.dropout import *  # noqa: F403
from dendrite.nn.functional.linear import *  # noqa: F403
from dendrite.nn.functional.loss_binary import *  # noqa: F403
from dendrite.nn.functional.loss_classification import *  # noqa: F403
from dendrite.nn.functional.loss_distribution import *  # noqa: F403
from dendrite.nn.functional.loss_margin import *  # noqa: F403
from dendrite.nn.functional.loss_regression import *  # noqa: F403
from dendrite.nn.functional.normalization import *  # noqa: F403
from dendrite.nn.functional.padding import *  # noqa: F403
from dendrite.nn.functional.pooling import *  # noqa: F403
from dendrite.nn.functional.recurrent import *  # noqa: F403
from dendrite.nn.functional.recurrent_cell import *  # noqa: F403
from dendrite.nn.functional.sampling import *  # noqa: F403
from dendrite.nn.functional.sparse import *  # noqa: F403
from dendrite.nn.functional.upsampling import *  # noqa: F403
from dendrite.nn.functional.vision import *  # noqa: F403

# The op boundary: each public function checks its tensor arguments before it runs (ops/operands.py).
from dendrite.ops.boundary import export as _export  # noqa: E402

_export(globals(), [_name for _name, _value in list(globals().items())
                    if not _name.startswith("_") and getattr(_value, "__module__", "").startswith(__name__)])
