"""Layers as Modules, one file per family (as in ``torch/nn/modules``)."""

from dendrite.nn.modules.activation import *  # noqa: F403
from dendrite.nn.modules.activation_dim import *  # noqa: F403
from dendrite.nn.modules.activation_shrink import *  # noqa: F403
from dendrite.nn.modules.attention import *  # noqa: F403
from dendrite.nn.modules.container import *  # noqa: F403
from dendrite.nn.modules.conv import *  # noqa: F403
from dendrite.nn.modules.distance import *  # noqa: F403
from dendrite.nn.modules.dropout import *  # noqa: F403
from dendrite.nn.modules.linear import *  # noqa: F403
from dendrite.nn.modules.loss import *  # noqa: F403
from dendrite.nn.modules.loss_margin import *  # noqa: F403
from dendrite.nn.modules.module import *  # noqa: F403
from dendrite.nn.modules.normalization import *  # noqa: F403
from dendrite.nn.modules.pooling import *  # noqa: F403
from dendrite.nn.modules.rnn import *  # noqa: F403
from dendrite.nn.modules.rnn_cell import *  # noqa: F403
from dendrite.nn.modules.shape import *  # noqa: F403
from dendrite.nn.modules.sparse import *  # noqa: F403
from dendrite.nn.modules.transformer import *  # noqa: F403
