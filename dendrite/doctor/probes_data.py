"""Probes of the data and of the static setup: they read arrays and flags, they train nothing.

Each probe takes the :class:`~dendrite.doctor.context.Context` and returns a list
of :class:`~dendrite.doctor.report.Finding`. Thresholds and why they are what
they are: ``docs/doctor.md``.
"""

from __future__ import annotations

import numpy as np

from dendrite import nn
from dendrite.doctor.context import Context
from dendrite.doctor.report import Finding

__all__ = ["nan_in_data", "labels", "inputs_scale", "train_val_overlap", "batchnorm_batch", "eval_mode",
           "optimizer_coverage"]

_BATCHNORM = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
_DROPOUT = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.AlphaDropout)
SCALE_LIMIT = 10.0  # a feature whose root-mean-square exceeds this is an order of magnitude off unit scale
OFFSET_LIMIT = 10.0  # |mean| / std above this: the feature is a large constant plus a small signal
SPREAD_LIMIT = 1000.0  # ratio of the largest to the smallest feature scale: three orders of magnitude
MAJORITY_LIMIT = 0.75  # a constant prediction would score at least 75 % accuracy
RARE_RATIO_LIMIT = 20.0  # the most common class is at least 20x as frequent as the rarest


def _floating_nonfinite(array: np.ndarray) -> np.ndarray:
    """Per example: does it hold a NaN or an infinity? (all False for integer arrays)"""
    if not np.issubdtype(array.dtype, np.inexact):
        return np.zeros(len(array), bool)
    return ~np.isfinite(array.reshape(len(array), -1)).all(axis=1)


def nan_in_data(ctx: Context) -> list[Finding]:
    """``nan-in-data``: NaN or infinite values in the inputs or targets of the training or validation data."""
    bad = {}
    for part, data in (("train", ctx.train), ("val", ctx.val)):
        if data is None:
            continue
        for what, array in (("inputs", data.inputs), ("targets", data.targets)):
            rows = _floating_nonfinite(array)
            if rows.any():
                values = array[rows]
                bad[f"{part}_{what}"] = {"examples": int(rows.sum()), "of": len(array),
                                         "first_index": int(np.flatnonzero(rows)[0]),
                                         "nan": int(np.isnan(values).sum()),
                                         "inf": int(np.isinf(values).sum())}
    if not bad:
        return []
    where = ", ".join(f"{name}: {info['examples']} of {info['of']} examples" for name, info in bad.items())
    evidence = {f"{name}_{key}": value for name, info in bad.items() for key, value in info.items()}
    return [Finding("nan-in-data", "error", f"Non-finite values (NaN/Inf) in the data ({where})", evidence,
                    "Clean or impute the data before training: find the rows with "
                    "`numpy.isfinite(x).all(axis=1)`"
                    " and drop or fill them (e.g. with the feature's mean), then rebuild the "
                    "`TensorDataset`.",
                    "data")]


def _class_targets(ctx: Context) -> np.ndarray | None:
    """The integer class ids of the training sample, or None when the targets are not class ids."""
    y = ctx.train.targets
    if ctx.kind in ("bce_logits", "bce"):
        return None
    if ctx.task != "classification" or not np.issubdtype(y.dtype, np.integer):
        return None
    return y.reshape(-1)


def labels(ctx: Context) -> list[Finding]:
    """``labels-out-of-range`` (class ids outside ``[0, C)``) and ``class-imbalance`` (a dominant class)."""
    findings = []
    y = _class_targets(ctx)
    if ctx.kind in ("bce_logits", "bce"):
        targets = ctx.train.targets[np.isfinite(ctx.train.targets)] if np.issubdtype(
            ctx.train.targets.dtype, np.inexact) else ctx.train.targets
        outside = (targets < 0) | (targets > 1)
        if outside.any():
            findings.append(Finding(
                "labels-out-of-range", "error", "Binary targets outside [0, 1] fed to a binary cross-entropy",
                {"min": float(targets.min()), "max": float(targets.max()), "outside": int(outside.sum())},
                "Binary cross-entropy needs targets in [0, 1] (0/1 labels as floats); map the labels, e.g. "
                "`y = (y == positive_class).astype(numpy.float32)`.", "labels"))
        y = targets.astype(np.int64).reshape(-1) if not outside.any() else None
    if y is None:
        return findings
    classes = ctx.num_outputs
    ignore = getattr(ctx.loss_fn, "ignore_index", -100)
    valid = y[y != ignore]
    if classes is not None and ctx.kind in ("cross_entropy", "nll") and len(valid):
        outside = (valid < 0) | (valid >= classes)
        if outside.any():
            low, high = int(valid.min()), int(valid.max())
            hint = " The labels look 1-based: subtract 1." if low >= 1 and high == classes else ""
            findings.append(Finding(
                "labels-out-of-range", "error",
                f"Class ids run from {low} to {high} but the model has {classes} outputs (ids "
                f"0..{classes - 1})",
                {"min_label": low, "max_label": high, "num_outputs": classes, "outside": int(outside.sum()),
                 "of": len(valid)},
                f"Make the labels 0..C-1 and the last layer `nn.Linear(..., C)` with C = number of classes."
                f"{hint}", "labels"))
    if len(valid) < 20:
        return findings
    counts = np.bincount(valid[valid >= 0]) if (valid >= 0).any() else np.zeros(1, int)
    present = counts[counts > 0]
    majority = float(present.max() / present.sum())
    ratio = float(present.max() / present.min())
    if len(present) >= 2 and (majority >= MAJORITY_LIMIT or ratio >= RARE_RATIO_LIMIT):
        findings.append(Finding(
            "class-imbalance", "warning",
            f"Class {int(counts.argmax())} is {majority:.0%} of the labels: accuracy is misleading",
            {"majority_class": int(counts.argmax()), "majority_share": majority, "max_to_min_ratio": ratio,
             "classes_present": int(len(present)), "constant_prediction_accuracy": majority},
            "Balance the batches with `DataLoader(..., sampler=WeightedRandomSampler(balanced_weights(y), "
            "len(y)))` or weight the loss (`F.cross_entropy(..., weight=...)`), and judge the model by "
            "per-class recall or balanced accuracy, not plain accuracy.", "labels"))
    return findings


def _features(x: np.ndarray) -> np.ndarray:
    """Examples x features: columns of a table, channels of images (N, C, H, W), the last axis otherwise."""
    x = x.astype(np.float64, copy=False)
    if x.ndim == 1:
        return x[:, None]
    if x.ndim == 2:
        return x
    if x.ndim >= 4:
        return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])
    return x.reshape(-1, x.shape[-1])


def inputs_scale(ctx: Context) -> list[Finding]:
    """``inputs-not-normalized``: features far from zero mean / unit scale, or scales orders of "
      "magnitude apart."""
    x = ctx.train.inputs
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        return []
    if np.issubdtype(x.dtype, np.integer) and any(isinstance(m, nn.Embedding) for m in ctx.model.modules()):
        ctx.notes["inputs"] = "token ids (integer inputs feeding an Embedding): not features"
        return []
    features = _features(x)
    features = features[np.isfinite(features).all(axis=1)]
    if len(features) < 2:
        return []
    mean, std = features.mean(axis=0), features.std(axis=0)
    varying = std > 0
    if not varying.any():
        return []
    rms = np.sqrt(mean ** 2 + std ** 2)
    low, high = features.min(axis=0), features.max(axis=0)
    binary = np.all((features == low) | (features == high), axis=0)
    offset = np.abs(mean) / np.where(std > 0, std, np.inf)
    scale = rms[varying]
    worst_scale, worst_offset = float(scale.max()), float(offset[varying].max())
    spread_set = std[varying & ~binary]
    spread = float(spread_set.max() / spread_set.min()) if len(spread_set) >= 2 else 1.0
    evidence = {"max_feature_rms": worst_scale, "max_mean_over_std": worst_offset,
                "max_to_min_feature_std": spread, "features": int(varying.sum()),
                "value_range": [float(low.min()), float(high.max())]}
    if worst_scale > SCALE_LIMIT:
        title = f"Input features reach a scale of {worst_scale:.3g} (root mean square); expected about 1"
        severity = "error"
    elif worst_offset > OFFSET_LIMIT and float(np.abs(mean[varying]).max()) > 1.0:
        title = f"An input feature sits {worst_offset:.3g} standard deviations away from zero"
        severity = "error"
    elif spread > SPREAD_LIMIT:
        title = f"Input feature scales differ by a factor of {spread:.3g}"
        severity = "warning"
    else:
        return []
    return [Finding("inputs-not-normalized", severity, title, evidence,
                    "Standardise each feature with the training set's statistics: `x = (x - mean) / std` "
                    "(mean and std per feature or per channel, computed on the training split), or scale "
                    "pixels to [0, 1] with `transforms.ToTensor()`/`x / 255`.", "inputs")]


def train_val_overlap(ctx: Context) -> list[Finding]:
    """``train-val-overlap``: validation examples identical to training examples, against the training
    set's own duplicate rate as the control."""
    if ctx.val is None:
        return []
    train = [np.ascontiguousarray(row).tobytes() for row in ctx.train.inputs]
    seen = set(train)
    self_duplicates = 1.0 - len(seen) / len(train)
    shared = sum(np.ascontiguousarray(row).tobytes() in seen for row in ctx.val.inputs)
    share = shared / len(ctx.val)
    expected = 2.0 * self_duplicates
    if shared < 2 or share < 0.01 + expected:
        return []
    severity = "error" if share >= 0.5 + expected else "warning"
    return [Finding("train-val-overlap", severity,
                    f"{share:.0%} of the validation examples also appear in the training data",
                    {"val_in_train": int(shared), "val_examples": len(ctx.val), "share": share,
                     "train_self_duplicate_share": self_duplicates,
                     "train_examples_compared": len(train), "train_total": ctx.train.total},
                    "Split once, before any augmentation, with `random_split(dataset, [n_train, n_val], "
                    "seed=0)` or `train_test_split`; never validate on rows the model trains on.", "overlap")]


def batchnorm_batch(ctx: Context) -> list[Finding]:
    """``batchnorm-small-batch``: BatchNorm in training mode fed batches of a few examples."""
    layers = [name for name, m in ctx.model.named_modules() if isinstance(m, _BATCHNORM) and m.training]
    size = ctx.train.batch_size
    if not layers or size is None:
        return []
    last = ctx.train.total % size
    if size > 4 and not (last == 1 and not ctx.train.drop_last):
        return []
    evidence = {"batch_size": size, "batchnorm_layers": layers[:5], "last_batch_size": last or size}
    if size <= 4:
        title = f"BatchNorm layers see batches of {size}: their batch statistics are mostly noise"
        severity = "error" if size <= 2 else "warning"
    else:
        title = "The last batch of every epoch has 1 example: BatchNorm cannot normalise it"
        severity = "error"
    return [Finding("batchnorm-small-batch", severity, title, evidence,
                    "Use `DataLoader(..., batch_size=32, drop_last=True)`, or replace `nn.BatchNorm*d` with "
                    "`nn.GroupNorm`/`nn.LayerNorm`, which do not depend on the batch.", "batchnorm")]


def eval_mode(ctx: Context) -> list[Finding]:
    """``eval-mode``: dropout or batch-norm layers left in eval mode (``model.eval()`` before training)."""
    stuck = [name or type(m).__name__ for name, m in ctx.model.named_modules()
             if isinstance(m, _DROPOUT + _BATCHNORM) and not m.training]
    if not stuck:
        return []
    return [Finding("eval-mode", "warning",
                    f"{len(stuck)} dropout/batch-norm layer(s) are in eval mode: they will not train as "
                    f"intended",
                    {"model_training": bool(ctx.model.training), "layers_in_eval_mode": stuck[:8]},
                    "Call `model.train()` before the training loop (and `model.eval()` only around "
                    "evaluation); the `Trainer` does this for you.", "mode")]


def optimizer_coverage(ctx: Context) -> list[Finding]:
    """``params-not-in-optimizer``: trainable parameters the optimizer does not update."""
    facts = ctx.optimizer_facts
    missing = facts.get("missing") or []
    if not facts.get("given") or not missing:
        return []
    names = [name for name, _ in ctx.model.named_parameters()]
    trainable = sum(p.requires_grad for p in ctx.model.parameters())
    foreign = facts.get("foreign", 0)
    every = len(missing) == trainable
    title = ("The optimizer holds none of the model's parameters" if every else
             f"{len(missing)} of {trainable} trainable parameter tensors are not in the optimizer")
    hint = (" It holds other tensors: was it built for a different model instance (e.g. before the model "
            "was re-created or copied)?" if foreign else "")
    return [Finding("params-not-in-optimizer", "error", title + ("." if not hint else ";" + hint[:-1]),
                    {"missing": [names[i] for i in missing[:8]], "missing_count": len(missing),
                     "trainable_count": trainable, "optimizer_params_not_in_model": foreign},
                    "Build the optimizer from the model you train, after creating it: "
                    "`optim.Adam(model.parameters(), lr=1e-3)`; for layers added later use "
                    "`optimizer.add_param_group({'params': layer.parameters()})`.", "optimizer")]
