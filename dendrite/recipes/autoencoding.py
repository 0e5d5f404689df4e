"""The autoencoder recipes: ``ae``, ``dae`` and ``convae`` (reconstruct the input) and ``vae`` (the ELBO).

* ``ae``: an MLP squeezed through a bottleneck of 8 numbers, trained on the mean
  squared error. ``pca_test_mse`` is the best a *linear* code of the same size
  can do (PCA fitted on the training split), the baseline it has to beat.
* ``dae``: the same network shape with a wider code, trained to undo Gaussian
  noise (std 0.2, clipped to [0, 1]); ``noisy_mse`` is how far the corrupted test
  images are from the clean ones, ``denoised_mse`` how far the network's output is.
* ``convae``: convolutional encoder and transposed-convolution decoder around a
  dense 8-number code (same budget as ``ae``).
* ``vae``: a 2-D latent (so it can be drawn), Bernoulli likelihood per pixel.
  ``test_neg_elbo = test_reconstruction + test_kl`` in nats per image; the
  expectation over ``q(z|x)`` is estimated with 10 samples per test image.

All mean squared errors are averages over pixels and images with pixels in [0, 1].
Files: ``reconstructions.npz`` (``inputs``, ``outputs``, and ``noisy`` for ``dae``:
the whole test split), ``reconstructions.png``, ``curves.png``, and for the VAE
``latent.png`` (test codes coloured by class), ``manifold.png`` (images decoded
from a grid of latent points) and ``samples.png`` (decoded from the prior).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import dendrite
from dendrite.data import DataLoader, TensorDataset
from dendrite.models.autoencoder import VAE, Autoencoder, ConvAutoencoder, gaussian_corrupt, vae_loss
from dendrite.nn import functional as F
from dendrite.recipes.base import RunResult, history_rows, make_optimizer
from dendrite.recipes.pictures import plot_canvas, tile_images
from dendrite.train import Callback, Trainer, plots
from dendrite.utils.atomic import atomic_path

__all__ = ["run_autoencoder", "run_vae", "pca_reconstruction_mse", "save_reconstructions",
           "needs_unit_images", "needs_conv_images", "autoencoder_defaults", "denoising_defaults",
           "conv_autoencoder_defaults", "vae_defaults", "build_autoencoder", "build_conv_autoencoder",
           "build_vae"]

TEST_ELBO_SAMPLES = 10


# ---------------------------------------------------------------------------- helpers
def pca_reconstruction_mse(x_train, x_test, components: int) -> float:
    """Test MSE of the best linear code with ``components`` numbers (PCA fitted on ``x_train``).

    Shapes: x_train (N, *sample), x_test (M, *sample) -> a float.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> data = rng.normal(size=(200, 2)) @ np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]])
        >>> pca_reconstruction_mse(data[:100], data[100:], 2) < 1e-20   # rank-2 data, 2 components
        True
    """
    train = np.asarray(x_train, np.float64).reshape(len(x_train), -1)
    test = np.asarray(x_test, np.float64).reshape(len(x_test), -1)
    mean = train.mean(axis=0)
    basis = np.linalg.svd(train - mean, full_matrices=False)[2][:components]
    reconstruction = (test - mean) @ basis.T @ basis + mean
    return float(((reconstruction - test) ** 2).mean())


def save_reconstructions(path: Path, **arrays) -> Path:
    """``numpy.savez`` of float32 arrays, written atomically.

    Shapes: each keyword's array is saved with its own shape (e.g. ``inputs`` and ``outputs`` (N, H, W)).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = save_reconstructions(Path(tmp.name) / "r.npz", inputs=np.zeros((2, 8, 8)))
        >>> np.load(path)["inputs"].shape
        (2, 8, 8)
        >>> tmp.cleanup()
    """
    with atomic_path(path) as temporary:
        np.savez(temporary, **{name: np.asarray(value, np.float32) for name, value in arrays.items()})
    return Path(path)


def _predict(function, inputs, batch_size: int = 512) -> np.ndarray:
    with dendrite.no_grad():
        parts = [function(dendrite.tensor(np.asarray(inputs[start:start + batch_size], np.float32))).numpy()
                 for start in range(0, len(inputs), batch_size)]
    return np.concatenate(parts)


def _one_per_class(splits, count: int = 10) -> np.ndarray:
    """Indices of ``count`` test images, one per class where labels allow (the first of each)."""
    labels = splits.y_test
    if labels is None or labels.ndim != 1:
        return np.arange(min(count, len(splits.x_test)))
    firsts = [int(np.flatnonzero(labels == label)[0]) for label in np.unique(labels)[:count]]
    return np.asarray(firsts)


def _plot_rows(rows: list, path: Path, title: str) -> Path:
    """A grid with one row per ``(name, images)``; the name is written over the row's first image."""
    columns = len(rows[0][1])
    images = np.concatenate([np.reshape(images, (columns, *np.shape(images)[-2:])) for _, images in rows])
    titles = [name if column == 0 else "" for name, _ in rows for column in range(columns)]
    return plots.plot_image_grid(images, path, titles=titles, columns=columns, title=title)


def _plot_latent(codes, labels, path: Path, title: str) -> Path:
    """Test codes (N, 2) as a scatter coloured by class."""
    figure = plots._figure(5.5, 4.8)
    axis = figure.subplots()
    points = axis.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=10, alpha=0.8)
    figure.colorbar(points, ax=axis, label="class")
    axis.set_xlabel("z[0] (posterior mean)")
    axis.set_ylabel("z[1]")
    axis.grid(alpha=0.3)
    axis.set_title(title)
    return plots._save(figure, path, 100)


class EpochEvaluation(Callback):
    """Adds test-split numbers (``val_*`` keys) to each epoch's logs, computed by ``evaluate()``.

    Shapes: no arrays; ``evaluate()`` returns {name: number}, logged as ``val_<name>``.

    Example:
        >>> from types import SimpleNamespace
        >>> from dendrite import nn
        >>> callback = EpochEvaluation(lambda: {"loss": 0.5})
        >>> callback.set_trainer(SimpleNamespace(model=nn.Linear(2, 2)))  # the Trainer does this in fit()
        >>> logs = {}
        >>> callback.on_epoch_end(0, logs); logs
        {'val_loss': 0.5}
    """

    def __init__(self, evaluate) -> None:
        self.evaluate = evaluate

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self.model.eval()
        try:
            values = self.evaluate()
        finally:
            self.model.train()
        if logs is not None:
            logs.update({f"val_{key}": value for key, value in values.items()})


def _fit(model, splits, settings: dict, config, step, evaluate):
    """Trainer over the training images (inputs only), cosine LR per step; returns the History."""
    from dendrite.optim import lr_scheduler

    if config.resume:
        raise ValueError("--resume is not supported for autoencoders yet; start the run again")
    optimizer = make_optimizer(settings["optimizer"], model.parameters(), settings["lr"],
                               weight_decay=settings.get("weight_decay", 0.0))
    loader = DataLoader(TensorDataset(np.asarray(splits.x_train, np.float32)),
                        batch_size=settings["batch_size"], shuffle=True, seed=config.seed)
    scheduler = None
    if settings.get("schedule", "cosine") == "cosine":
        scheduler = lr_scheduler.CosineAnnealingLR(optimizer, T_max=settings["epochs"] * len(loader))

    def train_step(trainer, batch) -> dict:
        values, loss = step(batch[0])
        optimizer.zero_grad()
        loss.backward()
        trainer.optimizer_step()
        return values

    trainer = Trainer(model, optimizer=optimizer, scheduler=scheduler, scheduler_interval="step", metrics=[],
                      train_step=train_step, callbacks=[EpochEvaluation(evaluate)],
                      progress=False if config.quiet else None)
    return trainer.fit(loader, epochs=settings["epochs"])


# ---------------------------------------------------------------------------- ae, dae, convae
def run_autoencoder(spec, splits, settings: dict, config, out: Path) -> RunResult:
    """Train a reconstructing autoencoder (denoising when ``settings['noise_std'] > 0``).

    Shapes: images (N, H, W) or (N, C, H, W) with pixels in [0, 1], reconstructed to the same shape.
    Writes ``reconstructions.npz`` (the whole test split), ``reconstructions.png`` and ``curves.png``.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> tmp = tempfile.TemporaryDirectory()
        >>> from dendrite.data import load_dataset
        >>> from dendrite.recipes.catalog import MODELS
        >>> from dendrite.recipes.runner import train
        >>> from dendrite.recipes.base import RunConfig
        >>> config = RunConfig("ae", "digits", epochs=1, quiet=True, out=Path(tmp.name),
        ...                    options={"hidden": (16,)})
        >>> metrics = train(MODELS["ae"], load_dataset("digits"), config)  # train() calls run_autoencoder
        >>> np.load(Path(tmp.name) / "reconstructions.npz")["outputs"].shape
        (360, 8, 8)
        >>> tmp.cleanup()
    """
    model = spec.build(splits, settings)
    noise_std = float(settings.get("noise_std", 0.0))
    clean = np.asarray(splits.x_test, np.float32)
    # Fixed test corruption (its own generator), so noisy_mse can be recomputed from the saved file.
    noisy = np.clip(clean + np.random.default_rng(config.seed).normal(0.0, noise_std, clean.shape), 0.0, 1.0)
    inputs = noisy.astype(np.float32) if noise_std else clean

    def step(batch):
        corrupted = gaussian_corrupt(batch, noise_std) if noise_std else batch
        loss = F.mse_loss(model(corrupted), batch)
        return {"loss": loss.item()}, loss

    def evaluate() -> dict:
        return {"loss": float(((_predict(model, inputs) - clean) ** 2).mean())}

    history = _fit(model, splits, settings, config, step, evaluate)
    model.eval()
    outputs = _predict(model, inputs)
    mse = float(((outputs - clean) ** 2).mean())
    final = {"train_loss": history["loss"][-1]}
    arrays = {"inputs": clean, "outputs": outputs}
    if noise_std:
        final.update(noisy_mse=float(((noisy - clean) ** 2).mean()), denoised_mse=mse)
        arrays["noisy"] = noisy
    else:
        final.update(test_mse=mse,
                     pca_test_mse=pca_reconstruction_mse(splits.x_train, clean, settings["bottleneck"]))
    save_reconstructions(out / "reconstructions.npz", **arrays)
    shown = _one_per_class(splits)
    rows = [("input", clean[shown])] + ([("noisy", noisy[shown])] if noise_std else [])
    _plot_rows(rows + [("output", outputs[shown])], out / "reconstructions.png",
               f"{spec.name} on {splits.name}: test images")
    plots.plot_history(history, out / "curves.png", keys=["loss"],
                       title=f"{spec.name}: MSE (validation = test split)")
    return RunResult(final=final, history=history_rows(history), model=model)


# ---------------------------------------------------------------------------- vae
def _vae_test_terms(model: VAE, images: np.ndarray, samples: int = TEST_ELBO_SAMPLES) -> dict:
    """Test reconstruction (averaged over ``samples`` draws of z per image), KL, and their sum."""
    with dendrite.no_grad():
        x = dendrite.tensor(images)
        mu, logvar = model.encode(x)
        reconstruction = 0.0
        for _ in range(samples):
            term, kl = vae_loss(model.decode_logits(model.reparameterize(mu, logvar)), x, mu, logvar)
            reconstruction += term.item() / samples
    return {"neg_elbo": reconstruction + kl.item(), "reconstruction": reconstruction, "kl": kl.item()}


def run_vae(spec, splits, settings: dict, config, out: Path) -> RunResult:
    """Train a VAE on the negative ELBO; draw its latent space, manifold and samples.

    Shapes: images (N, H, W) or (N, C, H, W) in [0, 1]; codes (N, latent_dim). Reports
    ``test_neg_elbo = test_reconstruction + test_kl`` in nats per image.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> tmp = tempfile.TemporaryDirectory()
        >>> from dendrite.data import load_dataset
        >>> from dendrite.recipes.catalog import MODELS
        >>> from dendrite.recipes.runner import train
        >>> from dendrite.recipes.base import RunConfig
        >>> config = RunConfig("vae", "digits", epochs=1, quiet=True, out=Path(tmp.name),
        ...                    options={"hidden": (16,)})
        >>> final = train(MODELS["vae"], load_dataset("digits"), config)["final"]  # train() calls run_vae
        >>> abs(final["test_neg_elbo"] - final["test_reconstruction"] - final["test_kl"]) < 1e-3
        True
        >>> tmp.cleanup()
    """
    model = spec.build(splits, settings)
    clean = np.asarray(splits.x_test, np.float32)

    def step(batch):
        mu, logvar = model.encode(batch)
        logits = model.decode_logits(model.reparameterize(mu, logvar))
        reconstruction, kl = vae_loss(logits, batch, mu, logvar)
        loss = reconstruction + kl
        return {"loss": loss.item(), "reconstruction": reconstruction.item(), "kl": kl.item()}, loss

    def evaluate() -> dict:
        terms = _vae_test_terms(model, clean, samples=1)
        return {"loss": terms["neg_elbo"], "reconstruction": terms["reconstruction"], "kl": terms["kl"]}

    history = _fit(model, splits, settings, config, step, evaluate)
    model.eval()
    terms = _vae_test_terms(model, clean)
    final = {"test_neg_elbo": terms["neg_elbo"], "test_reconstruction": terms["reconstruction"],
             "test_kl": terms["kl"], "train_neg_elbo": history["loss"][-1]}
    outputs = _predict(model.decode, _predict(lambda x: model.encode(x)[0], clean))
    shown = _one_per_class(splits)
    title = f"{spec.name} on {splits.name}"
    _plot_rows([("input", clean[shown]), ("decoded mean", outputs[shown])], out / "reconstructions.png",
               f"{title}: test images")
    plots.plot_history(history, out / "curves.png", keys=["loss", "reconstruction", "kl"],
                       title=f"{title}: negative ELBO = reconstruction + KL (nats per image)")
    prior = _predict(model.decode, np.random.default_rng(config.seed).normal(size=(100, model.latent_dim)))
    plot_canvas(tile_images(prior, 10), out / "samples.png", f"{title}: decoded z ~ N(0, I)")
    if model.latent_dim == 2:
        codes = _predict(lambda x: model.encode(x)[0], clean)
        if splits.y_test is not None:
            _plot_latent(codes, splits.y_test, out / "latent.png", f"{title}: test codes by class")
        side = np.linspace(-2.0, 2.0, 12)
        grid = np.stack(np.meshgrid(side, side[::-1]), axis=-1).reshape(-1, 2)  # rows top-down = z[1] falling
        plot_canvas(tile_images(_predict(model.decode, grid), 12), out / "manifold.png",
                    f"{title}: decoded z on [-2, 2]^2")
    return RunResult(final=final, history=history_rows(history), model=model)


# ---------------------------------------------------------------------------- data checks, defaults, builders
def needs_unit_images(splits) -> str | None:
    """``None`` for images (H, W) or (C, H, W) with pixels in [0, 1], else why not.

    Shapes: ``splits.input_shape`` must have 2 or 3 dimensions.

    Example:
        >>> from dendrite.data import load_dataset
        >>> needs_unit_images(load_dataset("digits")) is None
        True
        >>> needs_unit_images(load_dataset("ring8")) is None
        False
    """
    if splits.task not in ("classification", "generative") or len(splits.input_shape) not in (2, 3):
        return f"it reconstructs images (H, W) or (C, H, W), and {splits.name!r} has samples of shape " \
               f"{splits.input_shape} ({splits.task})"
    if float(np.min(splits.x_train)) < 0.0 or float(np.max(splits.x_train)) > 1.0:
        return "it needs pixel values in [0, 1] (sigmoid outputs; a Bernoulli likelihood for the VAE)"
    return None


def needs_conv_images(splits) -> str | None:
    """As :func:`needs_unit_images`, and H, W divisible by 4 (two stride-2 stages).

    Shapes: ``splits.input_shape`` (H, W) or (C, H, W) with H % 4 == W % 4 == 0.

    Example:
        >>> from dendrite.data import load_dataset
        >>> needs_conv_images(load_dataset("digits")) is None
        True
    """
    reason = needs_unit_images(splits)
    if reason is None and (splits.input_shape[-1] % 4 or splits.input_shape[-2] % 4):
        return f"its two stride-2 stages need H and W divisible by 4, got {splits.input_shape}"
    return reason


_COMMON = {"epochs": 100, "batch_size": 32, "lr": 2e-3, "optimizer": "adam", "schedule": "cosine",
           "hidden": (256, 128)}


def autoencoder_defaults(splits) -> dict:
    """``ae``: an 8-number bottleneck, the size ``pca_test_mse`` compares against.

    Shapes: splits in (unused), a settings dict out.

    Example:
        >>> autoencoder_defaults(None)["bottleneck"]
        8
    """
    return {**_COMMON, "bottleneck": 8}


def denoising_defaults(splits) -> dict:
    """``dae``: a wider code, trained to undo Gaussian noise of std 0.2.

    Shapes: splits in (unused), a settings dict out.

    Example:
        >>> denoising_defaults(None)["noise_std"]
        0.2
    """
    return {**_COMMON, "bottleneck": 32, "noise_std": 0.2}


def conv_autoencoder_defaults(splits) -> dict:
    """``convae``: the ``ae`` budget (8 numbers) behind two convolutional stages.

    Shapes: splits in (unused), a settings dict out.

    Example:
        >>> conv_autoencoder_defaults(None)["channels"]
        (32, 64)
    """
    return {**_COMMON, "epochs": 40, "bottleneck": 8, "channels": (32, 64)}


def vae_defaults(splits) -> dict:
    """``vae``: a 2-D latent, so its codes and manifold can be drawn.

    Shapes: splits in (unused), a settings dict out.

    Example:
        >>> vae_defaults(None)["latent_dim"]
        2
    """
    return {**_COMMON, "latent_dim": 2}


def build_autoencoder(splits, settings: dict) -> Autoencoder:
    """An :class:`~dendrite.models.Autoencoder` for ``splits``' samples.

    Shapes: the model maps (N, *splits.input_shape) to the same shape; codes (N, bottleneck).

    Example:
        >>> from dendrite.data import load_dataset
        >>> model = build_autoencoder(load_dataset("digits"), {"bottleneck": 4, "hidden": (16,)})
        >>> model(dendrite.rand(2, 8, 8)).shape
        (2, 8, 8)
    """
    return Autoencoder(splits.input_shape, settings["bottleneck"], tuple(settings["hidden"]))


def build_conv_autoencoder(splits, settings: dict) -> ConvAutoencoder:
    """A :class:`~dendrite.models.ConvAutoencoder` for ``splits``' images.

    Shapes: the model maps (N, H, W) or (N, C, H, W) to the same shape.

    Example:
        >>> from dendrite.data import load_dataset
        >>> model = build_conv_autoencoder(load_dataset("digits"), {"bottleneck": 4, "channels": (4, 8)})
        >>> model(dendrite.rand(2, 8, 8)).shape
        (2, 8, 8)
    """
    return ConvAutoencoder(splits.input_shape, settings["bottleneck"], tuple(settings["channels"]))


def build_vae(splits, settings: dict) -> VAE:
    """A :class:`~dendrite.models.VAE` for ``splits``' images.

    Shapes: the model maps x (N, *splits.input_shape) to (logits like x, mu, logvar (N, latent_dim)).

    Example:
        >>> from dendrite.data import load_dataset
        >>> logits, mu, logvar = build_vae(load_dataset("digits"), {"latent_dim": 2, "hidden": (16,)})(
        ...     dendrite.rand(3, 8, 8))
        >>> logits.shape, mu.shape
        ((3, 8, 8), (3, 2))
    """
    return VAE(splits.input_shape, settings["latent_dim"], tuple(settings["hidden"]))
