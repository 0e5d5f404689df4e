"""``dendrite.nn.utils``: gradient clipping, parameter/vector conversion, parametrizations, weight norm
and pruning (PyTorch's ``torch.nn.utils``)."""

from dendrite.nn.utils import parametrizations, parametrize, prune, rnn
from dendrite.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_, get_total_norm
from dendrite.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from dendrite.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm
from dendrite.nn.utils.weight_norm import remove_weight_norm, weight_norm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "parameters_to_vector",
           "parametrizations", "parametrize", "prune", "remove_spectral_norm", "rnn", "remove_weight_norm",
           "spectral_norm", "vector_to_parameters", "weight_norm"]
