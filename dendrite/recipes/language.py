"""``charlm``: a character-level language model trained with truncated back-propagation through time.

The training stream is cut into ``batch_size`` parallel rows; each batch is the next
``seq_len`` characters of every row (:func:`dendrite.data.bptt_batches`). The
recurrent state at the end of one batch starts the next one, *detached*: the network
sees an unbroken text, but gradients flow back at most ``seq_len`` steps (truncated
BPTT). Gradients are clipped (``clip``) because one long dependency can make them
explode.

The score is **bits per character** on the held-out tail of the text: the mean
cross-entropy in bits of predicting each next character. ``unigram_bits_per_char``
beside it is the model that knows only how frequent each character is; anything
below it has learnt some structure.

Files: ``curves.png`` (bits/char over training), ``model.safetensors`` (or ``.npz``),
``charlm.json`` (vocabulary and architecture: everything :func:`sample_from_run`
needs, as JSON, no pickle) and a ``"sample"`` of generated text in ``metrics.json``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from dendrite import nn, no_grad, tensor
from dendrite.data import CharVocab, bptt_batches
from dendrite.models.recurrent import CharLM, detach_state
from dendrite.recipes.base import RunResult, history_rows, make_optimizer, saved_weights
from dendrite.train import Callback, Trainer, plots
from dendrite.utils.atomic import atomic_write_text
from dendrite.utils.strict_json import dumps

__all__ = ["unigram_bits_per_char", "bits_per_char", "generate", "load_charlm", "sample_from_run",
           "run_charlm", "charlm_defaults", "needs_text", "build_charlm", "save_run_info", "read_run_folder",
           "plot_language_curves"]

RUN_FILE = "charlm.json"
_LN2 = math.log(2.0)
# Adam learning rates per cell when none is given (measured on pytext, batch 32 x 64 characters):
# the gated cells take a large rate with clipping; a plain tanh RNN needs a gentler one.
CELL_LR = {"gru": 5e-3, "lstm": 8e-3, "rnn": 2e-3}


def unigram_bits_per_char(train_ids, eval_ids, vocab_size: int) -> float:
    """Bits/char on ``eval_ids`` of the character frequencies of ``train_ids`` (add-one smoothed).

    The baseline a language model must beat: it knows how common each character is
    and nothing about order. Smoothing gives unseen characters a small probability.

    Shapes: train_ids (L,), eval_ids (M,) ints -> a float.

    Example:
        >>> round(unigram_bits_per_char([0, 0, 1, 1], [0, 1], vocab_size=2), 6)  # p = 1/2 each
        1.0
    """
    counts = np.bincount(np.asarray(train_ids, dtype=np.int64), minlength=vocab_size) + 1.0
    probabilities = counts / counts.sum()
    return float(-np.log2(probabilities[np.asarray(eval_ids, dtype=np.int64)]).mean())


def bits_per_char(model: CharLM, ids, batch_size: int = 32, seq_len: int = 128) -> float:
    """Mean next-character cross-entropy of ``model`` on the stream ``ids``, in bits.

    The stream is read as ``batch_size`` rows with the state carried along each row, the
    way the model was trained; the tail that does not fill a row is left out.

    Shapes: ids (L,) ints -> a float (the model maps (N, T) ids to (N, T, vocab) logits).

    Example:
        >>> model = CharLM(5, embedding_dim=4, hidden_size=8)
        >>> 0 < bits_per_char(model, np.arange(40) % 5, batch_size=2, seq_len=8) < 4
        True
    """
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    try:
        with no_grad():
            for inputs, targets in bptt_batches(np.asarray(ids), batch_size, seq_len):
                logits, state = model(inputs, state)
                loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                                   reduction="sum")
                total += float(loss.item())
                count += int(targets.shape[0]) * int(targets.shape[1])
    finally:
        model.train(was_training)
    return total / count / _LN2


class _LanguageMonitor(Callback):
    """Resets the carried state each epoch, tracks validation bits/char for the curves."""

    def __init__(self, holder: dict, val_ids, every: int, curve_chars: int) -> None:
        super().__init__()
        self.holder, self.val_ids, self.every = holder, val_ids, every
        self.curve_ids = val_ids[:curve_chars]
        self.points: list[tuple[int, float, float]] = []  # (step, train bits/char, val bits/char)
        self.steps, self.recent = 0, []

    def on_epoch_begin(self, epoch, logs=None):
        self.holder["state"] = None  # each epoch starts the rows from their beginning again

    def on_batch_end(self, batch, logs=None):
        self.steps += 1
        self.recent.append(logs["bits_per_char"])
        if self.steps % self.every == 0:
            val = bits_per_char(self.trainer.model, self.curve_ids)
            self.points.append((self.steps, float(np.mean(self.recent)), val))
            self.recent = []

    def on_epoch_end(self, epoch, logs=None):
        logs["val_bits_per_char"] = bits_per_char(self.trainer.model, self.val_ids)


def plot_language_curves(points, path: Path, baseline: float, title: str) -> Path:
    """Training and validation bits/char against optimizer steps, the unigram baseline dashed.

    Shapes: ``points`` a list of (step, train bits/char, validation bits/char).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> tmp = tempfile.TemporaryDirectory()
        >>> plot_language_curves([(1, 3.0, 3.1), (2, 2.5, 2.7)], Path(tmp.name) / "c.png", 4.0, "x").name
        'c.png'
        >>> tmp.cleanup()
    """
    from dendrite.train.plots import _figure, _save

    figure = _figure(6.5, 3.8)
    axis = figure.subplots()
    steps = [p[0] for p in points]
    axis.plot(steps, [p[1] for p in points], "-", label="train (mean since last point)")
    axis.plot(steps, [p[2] for p in points], "o-", markersize=3, label="validation (first part)")
    axis.axhline(baseline, color="gray", linestyle="--", label=f"unigram baseline {baseline:.2f}")
    axis.set_xlabel("optimizer step")
    axis.set_ylabel("bits per character")
    axis.grid(alpha=0.3)
    axis.legend()
    axis.set_title(title)
    return _save(figure, path, dpi=100)


def run_charlm(spec, splits, settings: dict, config, out: Path) -> RunResult:
    """Train a :class:`CharLM` on a text dataset's streams; write curves, run info and a sample.

    Shapes: ids streams (L,) read as batches (batch_size, seq_len) -> logits (batch_size, seq_len, vocab).
    Writes ``curves.png``, ``charlm.json``; the sample text goes into ``metrics.json``.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> tmp = tempfile.TemporaryDirectory()
        >>> from dendrite.data import load_dataset
        >>> from dendrite.recipes.catalog import MODELS
        >>> from dendrite.recipes.runner import train
        >>> from dendrite.recipes.base import RunConfig
        >>> config = RunConfig("charlm", "pytext", epochs=1, quiet=True, out=Path(tmp.name),
        ...                    options={"train_chars": 2000, "hidden_size": 16, "embedding_dim": 8})
        >>> metrics = train(MODELS["charlm"], load_dataset("pytext"), config)
        >>> metrics["final"]["val_bits_per_char"] > 0, (Path(tmp.name) / "charlm.json").exists()
        (True, True)
        >>> tmp.cleanup()
    """
    from dendrite.optim import lr_scheduler

    vocab: CharVocab = splits.info["vocab"]
    if settings.get("lr") is None:  # recorded in metrics.json's settings, as if given
        settings["lr"] = CELL_LR.get(settings["cell"], 3e-3)
    model = spec.build(splits, settings)
    train_ids = splits.x_train
    if settings.get("train_chars"):  # a shorter run (the tour): the first part of the stream only
        train_ids = train_ids[:int(settings["train_chars"])]
    loader = bptt_batches(train_ids, int(settings["batch_size"]), int(settings["seq_len"]))
    optimizer = make_optimizer(settings["optimizer"], model.parameters(), settings["lr"],
                               weight_decay=settings.get("weight_decay", 0.0))
    total_steps = int(settings["epochs"]) * len(loader)
    scheduler = lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps, eta_min=settings["lr"] * 0.05)
    holder = {"state": None}

    def train_step(trainer, batch) -> dict:
        inputs, targets = batch
        logits, state = model(inputs, holder["state"])
        holder["state"] = detach_state(state)  # truncated BPTT: keep the values, cut the graph
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        trainer.optimizer.zero_grad()
        loss.backward()
        trainer.optimizer_step()
        value = float(loss.item())
        return {"loss": value, "bits_per_char": value / _LN2}

    every = max(1, total_steps // 30)  # about 30 points on the curve
    monitor = _LanguageMonitor(holder, splits.x_test, every, curve_chars=16384)
    trainer = Trainer(model, optimizer=optimizer, scheduler=scheduler, scheduler_interval="step",
                      callbacks=[monitor], grad_clip_norm=float(settings["clip"]), train_step=train_step,
                      progress=False if config.quiet else None, seed=config.seed)
    history = trainer.fit(loader, epochs=int(settings["epochs"]))

    baseline = unigram_bits_per_char(splits.x_train, splits.x_test, len(vocab))
    rows = history_rows(history)
    val = float(history["val_bits_per_char"][-1])
    final = {"val_bits_per_char": val, "unigram_bits_per_char": baseline,
             "train_bits_per_char": float(history["bits_per_char"][-1]),
             "val_perplexity": 2.0 ** val if val < 1024 else math.inf}  # 2.0 ** 1024 overflows
    if monitor.points:
        plot_language_curves(monitor.points, out / "curves.png", baseline, f"{spec.name} on {splits.name}")
    else:
        plots.plot_history(history, out / "curves.png", title=f"{spec.name} on {splits.name}")
    save_run_info(out, vocab, settings)
    prime = settings.get("sample_prime", "def ")
    prime = prime if all(char in vocab.chars for char in prime) else ""
    sample = generate(model, vocab, length=200, temperature=0.8, prime=prime, seed=config.seed)
    return RunResult(final=final, history=rows, model=model, extra={"sample": sample})


def save_run_info(out: Path, vocab: CharVocab, settings: dict, model: str = "charlm",
                  keys: tuple[str, ...] = ("cell", "embedding_dim", "hidden_size", "num_layers")) -> Path:
    """``out/MODEL.json`` (``charlm.json``): the vocabulary and the architecture, for :func:`load_charlm`.

    ``model`` names the file and its format (``dendrite-MODEL``); ``keys`` are the settings that
    rebuild the network (the ``gpt`` recipe passes its own).
    Shapes: no arrays; JSON with ``vocab`` and ``model`` (cell, embedding_dim, hidden_size, num_layers).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> tmp = tempfile.TemporaryDirectory()
        >>> settings = {"cell": "gru", "embedding_dim": 4, "hidden_size": 8, "num_layers": 1}
        >>> json.loads(save_run_info(Path(tmp.name), CharVocab("ab"), settings).read_text())["vocab"]
        'ab'
        >>> tmp.cleanup()
    """
    info = {"format": f"dendrite-{model}", "version": 1, "vocab": vocab.chars,
            "model": {key: settings[key] for key in keys}}
    path = Path(out) / f"{model}.json"
    atomic_write_text(path, dumps(info, indent=2) + "\n")
    return path


def read_run_folder(run_dir, model: str = "charlm") -> tuple[dict, Path]:
    """The run description (``MODEL.json``) and the weights file of a ``dendrite train MODEL`` folder.

    Raises ``FileNotFoundError`` (naming what is missing) when the folder, its description or
    its weights are not there, ``ValueError`` when the description is of another kind.
    Shapes: no arrays; (the JSON as a dict, the path of ``model.safetensors`` or ``model.npz``).

    Example:
        >>> read_run_folder("no/such/run", "charlm")
        Traceback (most recent call last):
        ...
        FileNotFoundError: no run folder 'no/such/run'; ...
    """
    run_dir = Path(run_dir)
    run_file = f"{model}.json"
    if not run_dir.is_dir():
        raise FileNotFoundError(f"no run folder {str(run_dir)!r}; train one with "
                                f"`dendrite train {model} --data pytext --out {run_dir}`")
    info_path = run_dir / run_file
    if not info_path.is_file():
        raise FileNotFoundError(f"{str(run_dir)!r} is not a {model} run folder: it has no {run_file} "
                                f"(only `dendrite train {model}` runs can be sampled)")
    info = json.loads(info_path.read_text(encoding="utf-8"))
    if not isinstance(info, dict) or info.get("format") != f"dendrite-{model}":
        found = info.get("format") if isinstance(info, dict) else None
        raise ValueError(f"{str(info_path)!r} is not a dendrite {model} description (format {found!r})")
    weights = saved_weights(run_dir)
    if weights is None:
        raise FileNotFoundError(f"{str(run_dir)!r} has no model.safetensors or model.npz: "
                                "did the training run finish?")
    return info, weights


def load_charlm(run_dir) -> tuple[CharLM, CharVocab]:
    """The trained model and its vocabulary from a ``charlm`` run folder.

    Raises ``FileNotFoundError`` (naming what is missing) when the folder, its
    ``charlm.json`` or its weights are not there.
    Shapes: the model maps ids (N, T) to (logits (N, T, len(vocab)), state).

    Example:
        >>> load_charlm("no/such/run")
        Traceback (most recent call last):
        ...
        FileNotFoundError: no run folder 'no/such/run'; ...
    """
    import dendrite

    info, weights = read_run_folder(run_dir, "charlm")
    vocab = CharVocab(info["vocab"])
    settings = info["model"]
    model = CharLM(len(vocab), embedding_dim=int(settings["embedding_dim"]),
                   hidden_size=int(settings["hidden_size"]), num_layers=int(settings["num_layers"]),
                   cell=settings["cell"])
    model.load_state_dict(dendrite.load(weights))
    model.eval()
    return model, vocab


def generate(model: CharLM, vocab: CharVocab, length: int = 400, temperature: float = 0.8, prime: str = "",
             seed: int = 0) -> str:
    """``prime`` followed by ``length`` characters sampled one at a time from ``model``.

    Each next character is drawn from ``softmax(logits / temperature)``: a low
    temperature picks the likeliest characters (repetitive), a high one flattens the
    distribution (inventive, then noisy). The same ``seed`` gives the same text.
    Without a prime the model starts after a newline (or the first vocabulary character).

    Shapes: the model maps ids (1, T) to logits (1, T, len(vocab)); the text has ``len(prime) + length``
    characters.

    Example:
        >>> from dendrite.data import CharVocab
        >>> vocab = CharVocab("ab\\n")
        >>> text = generate(CharLM(3, 4, 8), vocab, length=5, prime="a", seed=0)
        >>> len(text), text[0]
        (6, 'a')
    """
    if length < 0:
        raise ValueError(f"generate: length must be >= 0, got {length}")
    if not temperature > 0:
        raise ValueError(f"generate: temperature must be > 0, got {temperature}")
    try:
        start = prime or ("\n" if "\n" in vocab.chars else vocab.chars[0])
        prime_ids = vocab.encode(start)
    except KeyError as error:
        detail = error.args[0] if error.args else error
        raise ValueError(f"generate: the prime {prime!r} has a character the model never saw "
                         f"({detail})") from None
    rng = np.random.default_rng(seed)
    was_training = model.training
    model.eval()
    generated = []
    try:
        with no_grad():
            logits, state = model(tensor(prime_ids[None, :]), None)
            for _ in range(length):
                scores = logits.numpy()[0, -1].astype(np.float64) / temperature
                scores -= scores.max()
                probabilities = np.exp(scores)
                probabilities /= probabilities.sum()
                next_id = int(rng.choice(len(probabilities), p=probabilities))
                generated.append(next_id)
                logits, state = model(tensor(np.array([[next_id]], dtype=np.int64)), state)
    finally:
        model.train(was_training)
    return prime + vocab.decode(np.array(generated, dtype=np.int64))


def sample_from_run(run_dir, length: int = 400, temperature: float = 0.8, prime: str = "",
                    seed: int = 0) -> str:
    """Text generated by the ``charlm`` saved in ``run_dir`` (what ``dendrite sample DIR`` prints).

    Shapes: no arrays; ``len(prime) + length`` characters out.

    Example:
        >>> import tempfile
        >>> from dendrite.data import load_dataset
        >>> from dendrite.recipes.base import RunConfig
        >>> from dendrite.recipes.catalog import MODELS
        >>> from dendrite.recipes.runner import train
        >>> with tempfile.TemporaryDirectory() as folder:  # a tiny run: 2,000 characters, 16 units
        ...     _ = train(MODELS["charlm"], load_dataset("pytext"), RunConfig(
        ...         "charlm", "pytext", epochs=1, quiet=True, out=Path(folder),
        ...         options={"train_chars": 2000, "hidden_size": 16, "embedding_dim": 8}))
        ...     text = sample_from_run(folder, length=20, prime="def ")
        >>> text.startswith("def "), len(text)
        (True, 24)
    """
    model, vocab = load_charlm(run_dir)
    return generate(model, vocab, length=length, temperature=temperature, prime=prime, seed=seed)


def needs_text(splits) -> str | None:
    """``None`` for a character-stream dataset with a vocabulary (``pytext``), else why not.

    Shapes: ``splits.x_train`` a stream of ids (L,); ``splits.info['vocab']`` its :class:`CharVocab`.

    Example:
        >>> from dendrite.data import load_dataset
        >>> needs_text(load_dataset("pytext")) is None, needs_text(load_dataset("digits")) is None
        (True, False)
    """
    if splits.task != "text" or "vocab" not in splits.info:
        return f"it is a character language model, and {splits.name!r} is a {splits.task} dataset, not text"
    return None


def charlm_defaults(splits) -> dict:
    """One pass over ``pytext``: about 2.1 bits/char (GRU) in under a minute on 2 free cores.

    ``lr`` ``None`` means the cell's rate from :data:`CELL_LR`.
    Shapes: splits in (unused), a settings dict out.

    Example:
        >>> charlm_defaults(None)["seq_len"]
        64
    """
    return {"epochs": 1, "batch_size": 32, "seq_len": 64, "lr": None, "optimizer": "adam", "clip": 1.0,
            "cell": "gru", "embedding_dim": 64, "hidden_size": 256, "num_layers": 1, "dropout": 0.0,
            "train_chars": None}


def build_charlm(splits, settings: dict) -> CharLM:
    """A :class:`CharLM` over ``splits``' vocabulary.

    Shapes: ids (N, T) -> (logits (N, T, splits.num_classes), state).

    Example:
        >>> from dendrite.data import load_dataset
        >>> splits = load_dataset("pytext")
        >>> model = build_charlm(splits, {**charlm_defaults(splits), "hidden_size": 8, "embedding_dim": 4})
        >>> model(tensor(np.zeros((2, 5), np.int64)))[0].shape == (2, 5, splits.num_classes)
        True
    """
    return CharLM(splits.num_classes, embedding_dim=int(settings["embedding_dim"]),
                  hidden_size=int(settings["hidden_size"]), num_layers=int(settings["num_layers"]),
                  cell=settings["cell"], dropout=float(settings["dropout"]))

