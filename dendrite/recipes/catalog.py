"""The model catalog behind ``dendrite models`` and ``dendrite train MODEL``: one table, nothing else.

Each row names a model and says which data it accepts, how it is built for that
data's shape, its default hyper-parameters, which recipe trains it and on which
built-in data set it trains by default. The functions live in the family modules
(:mod:`~dendrite.recipes.feedforward`, :mod:`~dendrite.recipes.sequence`,
:mod:`~dendrite.recipes.language`, :mod:`~dendrite.recipes.forecasting`,
:mod:`~dendrite.recipes.gan`, :mod:`~dendrite.recipes.autoencoding`); this module
imports them and nothing imports it back. To add a model, write its functions in
its family module and add a row here.

Example:
    >>> MODELS["mlp"].family, MODELS["mlp"].default_dataset
    ('feedforward', 'digits')
    >>> [name for name, spec in MODELS.items() if spec.family == "autoencoder"]
    ['ae', 'dae', 'convae', 'vae']
"""

from __future__ import annotations

from functools import partial

from dendrite.recipes import autoencoding, feedforward, forecasting, gan, gpt, language, sequence
from dendrite.recipes.base import ModelSpec
from dendrite.recipes.classification import needs_supervised, run_classifier

__all__ = ["MODELS"]


def _recurrent_classifier(cell: str, description: str) -> ModelSpec:
    return ModelSpec(cell, "recurrent", description, accepts=sequence.needs_sequences,
                     build=partial(sequence.build_sequence_classifier, cell),
                     defaults=partial(sequence.sequence_defaults, cell),
                     recipe=sequence.run_sequence_classifier, default_dataset="digits")


_ROWS = [
    # name, family, description, accepts, build, defaults, recipe, default data set
    ModelSpec("mlp", "feedforward", "multilayer perceptron (Linear + ReLU): classes or numbers",
              accepts=needs_supervised, build=feedforward.build_mlp, defaults=feedforward.mlp_defaults,
              recipe=run_classifier, default_dataset="digits"),
    ModelSpec("cnn", "convolutional", "LeNet-style CNN: conv-ReLU-pool stages, MLP head",
              accepts=feedforward.needs_images, build=feedforward.build_cnn,
              defaults=feedforward.cnn_defaults, recipe=run_classifier, default_dataset="digits"),
    ModelSpec("resnet", "convolutional", "small residual network with BatchNorm",
              accepts=feedforward.needs_images, build=feedforward.build_resnet,
              defaults=feedforward.resnet_defaults, recipe=run_classifier, default_dataset="digits"),
    _recurrent_classifier("rnn", "plain (Elman, tanh) RNN sequence classifier: shows what vanishing "
                                 "gradients cost"),
    _recurrent_classifier("lstm", "LSTM sequence classifier (an 8x8 digit read as 8 steps of 8 pixels)"),
    _recurrent_classifier("gru", "GRU sequence classifier (an 8x8 digit read as 8 steps of 8 pixels)"),
    ModelSpec("charlm", "recurrent", "character-level language model (embedding, GRU/LSTM/RNN, truncated "
                                     "BPTT); `dendrite sample`",
              accepts=language.needs_text, build=language.build_charlm, defaults=language.charlm_defaults,
              recipe=language.run_charlm, default_dataset="pytext"),
    ModelSpec("gpt", "transformer", "character-level GPT: causal self-attention blocks over random windows; "
                                    "`dendrite sample`",
              accepts=language.needs_text, build=gpt.build_gpt, defaults=gpt.gpt_defaults,
              recipe=gpt.run_gpt, default_dataset="pytext"),
    ModelSpec("forecaster", "recurrent",
              "one-step-ahead series forecaster: GRU/LSTM encoder + linear head, MSE",
              accepts=forecasting.needs_series, build=forecasting.build_forecaster,
              defaults=forecasting.forecaster_defaults, recipe=forecasting.run_forecaster,
              default_dataset="mackey-glass"),
    ModelSpec("gan", "generative", "GAN: MLP generator and discriminator, packing + minibatch std against "
                                   "mode collapse",
              accepts=gan.needs_samples, build=gan.build_gan, defaults=gan.gan_defaults, recipe=gan.run_gan,
              default_dataset="ring8"),
    ModelSpec("dcgan", "generative", "DCGAN: transposed-conv generator, conv discriminator",
              accepts=gan.needs_small_images, build=gan.build_dcgan, defaults=gan.dcgan_defaults,
              recipe=gan.run_gan, default_dataset="digits"),
    ModelSpec("ae", "autoencoder", "MLP autoencoder with an 8-number bottleneck (MSE)",
              accepts=autoencoding.needs_unit_images, build=autoencoding.build_autoencoder,
              defaults=autoencoding.autoencoder_defaults, recipe=autoencoding.run_autoencoder,
              default_dataset="digits"),
    ModelSpec("dae", "autoencoder", "denoising autoencoder (Gaussian noise std 0.2)",
              accepts=autoencoding.needs_unit_images, build=autoencoding.build_autoencoder,
              defaults=autoencoding.denoising_defaults, recipe=autoencoding.run_autoencoder,
              default_dataset="digits"),
    ModelSpec("convae", "autoencoder", "convolutional autoencoder, 8-number bottleneck",
              accepts=autoencoding.needs_conv_images, build=autoencoding.build_conv_autoencoder,
              defaults=autoencoding.conv_autoencoder_defaults, recipe=autoencoding.run_autoencoder,
              default_dataset="digits"),
    ModelSpec("vae", "autoencoder", "variational autoencoder, 2-D latent, Bernoulli pixels",
              accepts=autoencoding.needs_unit_images, build=autoencoding.build_vae,
              defaults=autoencoding.vae_defaults, recipe=autoencoding.run_vae, default_dataset="digits"),
]

# A plain dict (tests swap a row with monkeypatch.setitem); the listing order is the table's.
MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in _ROWS}
if len(MODELS) != len(_ROWS):
    raise ValueError("model names in the catalog must be unique")
