"""``gpt``: a small character-level GPT (:class:`~dendrite.models.gpt.CharGPT`) on a text stream.

Training reads **random windows**: each batch is ``batch_size`` windows of
``block_size + 1`` characters cut at random places in the training stream; the
first ``block_size`` are the input, the last ``block_size`` (shifted by one) the
targets, so every position of every window is one next-character prediction. One
"epoch" is as many windows as make one pass over the stream's characters, so
``--epochs`` means the same amount of text as for ``charlm``. The optimizer is
AdamW (weight decay on the matrices only, not on biases, LayerNorms or embeddings),
the learning rate warms up linearly for ``warmup`` of the steps, then decays along
a cosine to 10%.

The score is the ``charlm`` recipe's (:mod:`dendrite.recipes.language`): **bits per
character** on the same held-out tail, the unigram baseline beside it. A GPT sees at
most ``block_size`` characters, so the tail is read in windows that overlap by half
(:func:`gpt_bits_per_char`): every character after the first is scored once, with at
least ``block_size / 2`` characters of context (all of them, near the start).

Files: ``curves.png``, ``model.safetensors`` (or ``.npz``), ``gpt.json`` (vocabulary and
architecture: everything :func:`load_gpt` needs, JSON, no pickle) and a ``"sample"`` of
generated text in ``metrics.json``; ``dendrite sample DIR`` prints more.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from dendrite import nn, no_grad, tensor
from dendrite.data import CharVocab
from dendrite.models.gpt import CharGPT
from dendrite.recipes.base import RunResult, history_rows, make_optimizer
from dendrite.recipes.language import (
    plot_language_curves,
    read_run_folder,
    save_run_info,
    unigram_bits_per_char,
)
from dendrite.train import Callback, Trainer

__all__ = ["RandomWindows", "gpt_bits_per_char", "warmup_cosine", "decay_groups", "gpt_optimizer",
           "gpt_defaults", "build_gpt", "run_gpt", "load_gpt", "generate_text", "sample_from_run"]

_LN2 = math.log(2.0)
ARCHITECTURE = ("block_size", "d_model", "n_layers", "n_heads", "ngram", "alibi")
# What a gpt.json written before a key existed means: the architecture it had then.
_OLD_ARCHITECTURE = {"ngram": 1, "alibi": False}


class RandomWindows:
    """Batches of random windows of a token stream: ``(inputs, targets)``, each ``(batch_size, block_size)``.

    ``targets`` are ``inputs`` shifted one token ahead. ``len()`` is ``steps`` batches; each
    iteration draws new windows from its own generator (seeded once), so a run repeats exactly.

    Example:
        >>> windows = RandomWindows(np.arange(100), batch_size=2, block_size=4, steps=3, seed=0)
        >>> x, y = next(iter(windows))
        >>> len(windows), tuple(x.shape), bool((y.numpy()[:, :-1] == x.numpy()[:, 1:]).all())
        (3, (2, 4), True)
    """

    def __init__(self, ids, batch_size: int, block_size: int, steps: int, seed: int = 0) -> None:
        self.ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(self.ids) < block_size + 1:
            raise ValueError(f"RandomWindows: a stream of {len(self.ids)} tokens is shorter than one window "
                             f"of block_size + 1 = {block_size + 1}; use a smaller block_size or more text")
        self.batch_size, self.block_size, self.steps = int(batch_size), int(block_size), int(steps)
        self.rng = np.random.default_rng(seed)
        self.offsets = np.arange(self.block_size + 1)

    def __len__(self) -> int:
        return self.steps

    def __iter__(self):
        for _ in range(self.steps):
            starts = self.rng.integers(0, len(self.ids) - self.block_size, size=self.batch_size)
            windows = self.ids[starts[:, None] + self.offsets]  # (batch_size, block_size + 1)
            yield tensor(windows[:, :-1]), tensor(windows[:, 1:])


def gpt_bits_per_char(model: CharGPT, ids, batch_size: int = 64) -> float:
    """Mean next-character cross-entropy of ``model`` on the stream ``ids``, in bits.

    Windows of ``block_size + 1`` tokens start every ``block_size // 2`` tokens; the first window
    scores all its predictions, the others only their second half (the first half was scored
    with less context by the window before). So every token after the first is scored exactly once.

    Shapes: ids (L,) ints, L >= 2 -> a float.

    Example:
        >>> model = CharGPT(5, block_size=8, d_model=8, n_layers=1, n_heads=2)
        >>> 0 < gpt_bits_per_char(model, np.arange(40) % 5) < 4
        True
    """
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    if len(ids) < 2:
        raise ValueError(f"gpt_bits_per_char: need at least 2 tokens to score one prediction, got {len(ids)}")
    block = model.block_size
    stride = max(1, block // 2)
    # Window k covers ids[s_k : s_k + n_k + 1]; it scores the predictions of ids[from_k + 1 : s_k + n_k + 1].
    starts = list(range(0, max(1, len(ids) - block), stride))
    windows = []
    scored_until = 0  # the predictions of ids[1 : scored_until + 1] are taken
    for start in starts:
        stop = min(start + block, len(ids) - 1)  # the last input position
        windows.append((start, stop, scored_until - start))
        scored_until = stop
    if scored_until < len(ids) - 1:  # the tail beyond the last full window
        start = max(0, len(ids) - 1 - block)
        windows.append((start, len(ids) - 1, scored_until - start))
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        with no_grad():
            full = [w for w in windows if w[1] - w[0] == block]
            rest = [w for w in windows if w[1] - w[0] != block]
            groups = [full[i:i + batch_size] for i in range(0, len(full), batch_size)] + [[w] for w in rest]
            for group in groups:
                inputs = np.stack([ids[start:stop] for start, stop, _ in group])
                targets = np.stack([ids[start + 1:stop + 1] for start, stop, _ in group])
                logits = model(tensor(inputs)).numpy().astype(np.float64)
                logits -= logits.max(axis=-1, keepdims=True)
                log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
                picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
                for row, (_, _, skip) in enumerate(group):
                    total -= float(picked[row, skip:].sum())
                    count += picked.shape[1] - skip
    finally:
        model.train(was_training)
    return total / count / _LN2


def warmup_cosine(total_steps: int, warmup_steps: int, floor: float = 0.1):
    """The multiplier of the base learning rate at each step: linear warm-up, then a cosine to ``floor``.

    Shapes: no arrays; a function of the step (an int) for ``LambdaLR``.

    Example:
        >>> factor = warmup_cosine(total_steps=10, warmup_steps=2)
        >>> [round(factor(step), 3) for step in (0, 1, 2, 10)]
        [0.5, 1.0, 1.0, 0.1]
    """
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
    return factor


def decay_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """AdamW parameter groups: weight decay on the matrices of the Linear layers and attention only.

    Decaying biases, LayerNorm gains or embeddings would pull them towards 0 for no benefit.
    Shapes: parameters with 2+ dimensions (but not embeddings) decay; the rest do not.

    Example:
        >>> groups = decay_groups(CharGPT(5, block_size=4, d_model=8, n_layers=1, n_heads=2), 0.1)
        >>> [(len(group["params"]), group["weight_decay"]) for group in groups]
        [(5, 0.1), (13, 0.0)]
    """
    decay, keep = [], []
    for name, parameter in model.named_parameters():
        is_matrix = parameter.ndim >= 2 and "embedding" not in name
        (decay if is_matrix else keep).append(parameter)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": keep, "weight_decay": 0.0}]


class _GPTMonitor(Callback):
    """Validation bits/char for the curves (every ``every`` steps) and at the end of each epoch."""

    def __init__(self, val_ids, every: int, curve_chars: int) -> None:
        super().__init__()
        self.val_ids, self.every, self.curve_ids = val_ids, every, val_ids[:curve_chars]
        self.points: list[tuple[int, float, float]] = []  # (step, train bits/char, val bits/char)
        self.steps, self.recent = 0, []

    def on_batch_end(self, batch, logs=None):
        self.steps += 1
        self.recent.append(logs["bits_per_char"])
        if self.steps % self.every == 0:
            val = gpt_bits_per_char(self.trainer.model, self.curve_ids)
            self.points.append((self.steps, float(np.mean(self.recent)), val))
            self.recent = []

    def on_epoch_end(self, epoch, logs=None):
        logs["val_bits_per_char"] = gpt_bits_per_char(self.trainer.model, self.val_ids)


def run_gpt(spec, splits, settings: dict, config, out: Path) -> RunResult:
    """Train a :class:`CharGPT` on random windows of a text stream; write curves, run info and a sample.

    Shapes: batches (batch_size, block_size) ids -> logits (batch_size, block_size, vocab).
    Writes ``curves.png``, ``gpt.json``; the sample text goes into ``metrics.json``.

    Example:
        >>> import tempfile
        >>> from dendrite.data import load_pytext
        >>> from dendrite.recipes.base import RunConfig
        >>> from dendrite.recipes.catalog import MODELS
        >>> from dendrite.recipes.runner import train
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     metrics = train(MODELS["gpt"], load_pytext(max_chars=5000), RunConfig(
        ...         "gpt", "pytext", epochs=1, quiet=True, out=Path(folder),
        ...         options={"train_chars": 2000, "d_model": 16, "block_size": 16}))
        ...     made = (Path(folder) / "gpt.json").exists()
        >>> metrics["final"]["val_bits_per_char"] > 0, made
        (True, True)
    """
    from dendrite.optim import lr_scheduler

    vocab: CharVocab = splits.info["vocab"]
    model = spec.build(splits, settings)
    train_ids = splits.x_train
    if settings.get("train_chars"):  # a shorter run: the first part of the stream only
        train_ids = train_ids[:int(settings["train_chars"])]
    batch_size, block_size = int(settings["batch_size"]), int(settings["block_size"])
    steps = max(1, len(train_ids) // (batch_size * block_size))  # one epoch = one stream's worth of text
    loader = RandomWindows(train_ids, batch_size, block_size, steps, seed=config.seed)
    optimizer = gpt_optimizer(model, settings)
    total_steps = int(settings["epochs"]) * steps
    warmup_steps = max(1, int(round(float(settings["warmup"]) * total_steps)))
    scheduler = lr_scheduler.LambdaLR(optimizer, warmup_cosine(total_steps, warmup_steps))

    def train_step(trainer, batch) -> dict:
        inputs, targets = batch
        logits = model(inputs)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        trainer.optimizer.zero_grad()
        loss.backward()
        trainer.optimizer_step()
        value = float(loss.item())
        return {"loss": value, "bits_per_char": value / _LN2}

    # 8,192 characters read in half-overlapping windows cost what charlm's 16,384 in one pass do.
    monitor = _GPTMonitor(splits.x_test, max(1, total_steps // 30), curve_chars=8192)
    trainer = Trainer(model, optimizer=optimizer, scheduler=scheduler, scheduler_interval="step",
                      callbacks=[monitor], grad_clip_norm=float(settings["clip"]), train_step=train_step,
                      progress=False if config.quiet else None, seed=config.seed)
    history = trainer.fit(loader, epochs=int(settings["epochs"]))

    baseline = unigram_bits_per_char(splits.x_train, splits.x_test, len(vocab))
    val = float(history["val_bits_per_char"][-1])
    final = {"val_bits_per_char": val, "unigram_bits_per_char": baseline,
             "train_bits_per_char": float(history["bits_per_char"][-1]),
             "val_perplexity": 2.0 ** val if val < 1024 else math.inf}
    points = monitor.points or [(total_steps, final["train_bits_per_char"], val)]
    plot_language_curves(points, out / "curves.png", baseline, f"{spec.name} on {splits.name}")
    save_run_info(out, vocab, {**settings, "vocab_size": len(vocab)}, model="gpt",
                  keys=("vocab_size", *ARCHITECTURE))
    prime = settings.get("sample_prime", "def ")
    prime = prime if all(char in vocab.chars for char in prime) else ""
    sample = generate_text(model, vocab, length=200, temperature=0.8, prime=prime, seed=config.seed)
    return RunResult(final=final, history=history_rows(history), model=model, extra={"sample": sample})


def gpt_optimizer(model: CharGPT, settings: dict):
    """The recipe's optimizer for ``model``: weight decay on the matrices only, ``betas`` for Adam(W).

    ``settings["betas"]`` (two floats in [0, 1)) is passed to ``adam`` and ``adamw``; the other
    optimizers have no betas, so it does not apply to them. Bad betas raise a one-line ``ValueError``.
    Shapes: no arrays.

    Example:
        >>> model = CharGPT(5, block_size=4, d_model=8, n_layers=1, n_heads=2)
        >>> settings = {"optimizer": "adamw", "lr": 1e-3, "weight_decay": 0.1, "betas": (0.9, 0.99)}
        >>> gpt_optimizer(model, settings).param_groups[0]["betas"]
        (0.9, 0.99)
    """
    options = {}
    if str(settings["optimizer"]).lower() in ("adam", "adamw"):
        betas = settings.get("betas", (0.9, 0.999))
        if (isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2
                or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0.0 <= b < 1.0
                           for b in betas)):
            raise ValueError(f"gpt: betas must be two numbers in [0, 1) (Adam's decay rates of the mean and "
                             f"of the squared gradient), got {betas!r}")
        options["betas"] = (float(betas[0]), float(betas[1]))
    return make_optimizer(settings["optimizer"], decay_groups(model, float(settings["weight_decay"])),
                          settings["lr"], **options)


def gpt_defaults(splits) -> dict:
    """Three passes over ``pytext`` in random windows of 8 x 64 characters, with both locality priors.

    ``ngram`` 4 (the three previous characters' embeddings added to each input) and ``alibi``
    (distance biases on the attention scores) gained 0.03-0.04 bits/char over the plain GPT at
    equal steps; windows of 64 (every scored character has at least 32 of context), small
    batches, AdamW 4e-3 with betas (0.9, 0.99) and a 2% warm-up were the best of five tuning
    rounds. Against the char-LSTM at a quiet machine's 90 s: a win on each of the seeds
    measured (docs/gpt.md, fifth round).

    Shapes: splits in (unused), a settings dict out.

    Example:
        >>> gpt_defaults(None)["block_size"]
        64
    """
    return {"epochs": 3, "batch_size": 8, "block_size": 64, "d_model": 64, "n_layers": 2, "n_heads": 4,
            "ngram": 4, "alibi": True, "dropout": 0.0, "lr": 4e-3, "optimizer": "adamw", "betas": (0.9, 0.99),
            "weight_decay": 0.1, "warmup": 0.02, "clip": 1.0, "train_chars": None}


def _whole(settings: dict, key: str) -> int:
    value = settings[key]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"gpt: {key} must be a whole number >= 1, got {value!r}")
    return int(value)


def _flag(settings: dict, key: str) -> bool:
    value = settings[key]
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"gpt: {key} must be true or false, got {value!r}")
    return bool(value)


def build_gpt(splits, settings: dict) -> CharGPT:
    """A :class:`CharGPT` over ``splits``' vocabulary; bad sizes raise a one-line ``ValueError``.

    Shapes: ids (N, T <= block_size) -> logits (N, T, splits.num_classes).

    Example:
        >>> from dendrite.data import load_dataset
        >>> splits = load_dataset("pytext")
        >>> model = build_gpt(splits, {**gpt_defaults(splits), "d_model": 16})
        >>> model(tensor(np.zeros((2, 5), np.int64))).shape == (2, 5, splits.num_classes)
        True
    """
    for key in ("batch_size", "epochs"):
        _whole(settings, key)
    warmup = settings["warmup"]
    if not isinstance(warmup, (int, float)) or not 0.0 <= warmup < 1.0:
        raise ValueError(f"gpt: warmup is the fraction of steps spent warming up, in [0, 1); got {warmup!r}")
    return CharGPT(splits.num_classes, block_size=_whole(settings, "block_size"),
                   d_model=_whole(settings, "d_model"), n_layers=_whole(settings, "n_layers"),
                   n_heads=_whole(settings, "n_heads"), dropout=float(settings["dropout"]),
                   ngram=_whole(settings, "ngram"), alibi=_flag(settings, "alibi"))


def load_gpt(run_dir) -> tuple[CharGPT, CharVocab]:
    """The trained model and its vocabulary from a ``gpt`` run folder (``gpt.json`` + weights).

    Raises ``FileNotFoundError`` naming what is missing. Shapes: the model maps ids (N, T) to
    logits (N, T, len(vocab)).

    Example:
        >>> load_gpt("no/such/run")
        Traceback (most recent call last):
        ...
        FileNotFoundError: no run folder 'no/such/run'; ...
    """
    import dendrite

    info, weights = read_run_folder(run_dir, "gpt")
    vocab = CharVocab(info["vocab"])
    settings = info["model"]
    unknown = sorted(set(settings) - {"vocab_size", *ARCHITECTURE})
    if unknown:
        raise ValueError(f"load_gpt: {run_dir}/gpt.json describes a model with {', '.join(unknown)}, which "
                         f"this version of dendrite does not know (it knows {', '.join(ARCHITECTURE)}); "
                         "use the dendrite version that trained it")
    settings = {**_OLD_ARCHITECTURE, **settings}
    model = CharGPT(len(vocab), **{key: settings[key] if key == "alibi" else int(settings[key])
                                   for key in ARCHITECTURE})
    model.load_state_dict(dendrite.load(weights))
    model.eval()
    return model, vocab


def generate_text(model: CharGPT, vocab: CharVocab, length: int = 400, temperature: float = 0.8,
                  prime: str = "", seed: int = 0) -> str:
    """``prime`` followed by ``length`` characters sampled from ``model`` (:meth:`CharGPT.generate`).

    Without a prime the model starts after a newline (or the first vocabulary character), which
    is not part of the text returned.
    Shapes: no arrays; ``len(prime) + length`` characters out.

    Example:
        >>> vocab = CharVocab("ab\\n")
        >>> model = CharGPT(3, block_size=4, d_model=8, n_layers=1, n_heads=2)
        >>> text = generate_text(model, vocab, length=5, prime="a")
        >>> len(text), text[0]
        (6, 'a')
    """
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise ValueError(f"generate: length must be a whole number >= 0, got {length!r}")
    if not temperature > 0:
        raise ValueError(f"generate: temperature must be > 0, got {temperature}")
    start = prime or ("\n" if "\n" in vocab.chars else vocab.chars[0])
    try:
        start_ids = vocab.encode(start)
    except KeyError as error:
        detail = error.args[0] if error.args else error
        raise ValueError(f"generate: the prime {prime!r} has a character the model never saw "
                         f"({detail})") from None
    ids = model.generate(start_ids, length, temperature=temperature, seed=seed)
    return prime + vocab.decode(ids[len(start_ids):])


def sample_from_run(run_dir, length: int = 400, temperature: float = 0.8, prime: str = "",
                    seed: int = 0) -> str:
    """Text generated by the ``gpt`` saved in ``run_dir`` (what ``dendrite sample DIR`` prints for it).

    Shapes: no arrays; ``len(prime) + length`` characters out.

    Example:
        >>> sample_from_run("no/such/run")
        Traceback (most recent call last):
        ...
        FileNotFoundError: no run folder 'no/such/run'; ...
    """
    model, vocab = load_gpt(run_dir)
    return generate_text(model, vocab, length=length, temperature=temperature, prime=prime, seed=seed)
