"""``dendrite tour``: one small model per network family, trained on built-in data, in one report.

Each entry is an ordinary ``dendrite train`` run (same recipes, same files) with
settings trimmed so the whole tour takes a few minutes on 2 CPU cores. The
report is ``OUT/index.html`` (open it offline in a browser) and ``OUT/summary.json``.
"""

from __future__ import annotations

import html
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from dendrite.recipes.base import RunConfig
from dendrite.recipes.tour_text import caption, explain, lesson_of
from dendrite.utils.atomic import atomic_write_text
from dendrite.utils.strict_json import dumps

__all__ = ["TOUR", "TourEntry", "run_tour"]


@dataclass
class TourEntry:
    """One run of the tour: a label, the model and data set, the headline metric, trimmed settings.

    Shapes: no arrays; ``settings`` may hold ``epochs`` and any model option.

    Example:
        >>> [entry.label for entry in TOUR][:2]
        ['mlp-spiral', 'mlp-digits']
    """
    label: str
    model: str
    dataset: str
    headline: str  # the metric shown in the summary table
    settings: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)


TOUR: list[TourEntry] = [
    TourEntry("mlp-spiral", "mlp", "spiral", "test_accuracy", {"epochs": 120}),
    TourEntry("mlp-digits", "mlp", "digits", "test_accuracy", {"epochs": 25}),
    TourEntry("cnn-digits", "cnn", "digits", "test_accuracy", {"epochs": 12}),
    # Recurrent family: a digit read row by row, a character language model (its sample is shown),
    # one-step-ahead forecasting of a chaotic series.
    TourEntry("lstm-digits", "lstm", "digits", "test_accuracy", {"epochs": 30}),
    TourEntry(
        "charlm-pytext", "charlm", "pytext", "val_bits_per_char", {"epochs": 1, "train_chars": 500_000}
    ),
    TourEntry("forecast-mackey-glass", "forecaster", "mackey-glass", "test_nrmse", {"epochs": 30}),
    # Generative family: a GAN covering the 8 modes of a ring, an MLP GAN drawing digits (4x faster
    # than the DCGAN), a VAE with a 2-D latent space (see its latent.png and manifold.png). Their
    # default epochs already fit in 5-30 s here, so the tour shows the full results.
    TourEntry("gan-ring8", "gan", "ring8", "modes_covered", {"epochs": 80}),
    TourEntry("gan-digits", "gan", "digits", "frechet_distance", {"epochs": 40}),
    TourEntry("vae-digits", "vae", "digits", "test_neg_elbo", {"epochs": 100}),
]


def _pictures(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.png"))


def run_tour(out: Path = Path("tour"), quiet: bool = False, only=None) -> dict:
    """Run every tour entry (or those in ``only``), print a summary table, write the report.

    Shapes: no arrays; returns ``{"seconds", "runs": [one dict per entry]}``, also in ``OUT/summary.json``.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> tmp = tempfile.TemporaryDirectory()
        >>> summary = run_tour(Path(tmp.name), quiet=True, only=["mlp-spiral"])  # doctest: +ELLIPSIS
        [tour] mlp-spiral: mlp on spiral ...
        ...
        >>> [row["ok"] for row in summary["runs"]], (Path(tmp.name) / "index.html").exists()
        ([True], True)
        >>> tmp.cleanup()
    """
    from dendrite.data import load_dataset
    from dendrite.recipes.catalog import MODELS
    from dendrite.recipes.runner import train
    from dendrite.train import plots

    unknown = set(only or ()) - {entry.label for entry in TOUR}
    if unknown:  # checked before the output folder is made: a typo leaves nothing behind
        raise ValueError(
            f"unknown tour entries {sorted(unknown)}; expected some of {[e.label for e in TOUR]}"
        )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    entries = [entry for entry in TOUR if not only or entry.label in only]
    rows, started = [], time.perf_counter()
    with plots.pictures_if_possible():  # without Matplotlib: one note for the whole tour
        for entry in entries:
            folder = out / entry.label
            print(f"[tour] {entry.label}: {entry.model} on {entry.dataset} ...", flush=True)
            row = {
                "label": entry.label,
                "model": entry.model,
                "dataset": entry.dataset,
                "headline": entry.headline,
            }
            try:
                settings = dict(entry.settings)
                config = RunConfig(
                    model=entry.model,
                    dataset=entry.dataset,
                    epochs=settings.pop("epochs", None),
                    seed=0,
                    out=folder,
                    quiet=quiet,
                    options={**settings, **entry.options},
                )
                splits = load_dataset(entry.dataset)
                row["num_classes"] = getattr(splits, "num_classes", None)  # for the chance baseline
                metrics = train(MODELS[entry.model], splits, config)
                row.update(
                    ok=not metrics.get("diverged"),
                    seconds=metrics["seconds"],
                    final=metrics["final"],
                    value=metrics["final"].get(entry.headline),
                    pictures=_pictures(folder),
                    extra={k: v for k, v in metrics.items() if k == "sample"},
                )
                if metrics.get("diverged"):
                    where = metrics.get("diverged_at", {})
                    row["error"] = (f"diverged: {where.get('key')} became {where.get('loss')} at epoch "
                                    f"{where.get('epoch')}, batch {where.get('batch')}")
                    print(f"[tour] {entry.label} failed: {row['error']}", flush=True)
            except Exception as error:  # one failing family must not hide the others
                row.update(ok=False, error=f"{type(error).__name__}: {error}", trace=traceback.format_exc())
                print(f"[tour] {entry.label} failed: {row['error']}", flush=True)
            rows.append(row)
    summary = {"seconds": round(time.perf_counter() - started, 1), "runs": rows}
    atomic_write_text(out / "summary.json", dumps(summary, indent=2, default=str) + "\n")
    atomic_write_text(out / "index.html", render_html(summary))
    print(format_table(summary))
    print(f"report: {out / 'index.html'}")
    return summary


def format_table(summary: dict) -> str:
    """The summary as a text table: one line per run, the headline metric and seconds.

    Shapes: ``summary`` as :func:`run_tour` returns it -> a string.

    Example:
        >>> row = {"label": "a", "model": "mlp", "dataset": "spiral", "headline": "acc", "ok": True,
        ...        "value": 0.5, "seconds": 1.0}
        >>> format_table({"seconds": 1.0, "runs": [row]}).splitlines()[-1]
        'total 1.0 s'
    """
    lines = [f"{'run':<22}{'model':<12}{'dataset':<15}{'metric':<22}{'value':>9}{'seconds':>9}"]
    lines.append("-" * len(lines[0]))
    for row in summary["runs"]:
        if row["ok"]:
            value = row.get("value")
            text = "-" if value is None else f"{value:.4f}"
            lines.append(
                f"{row['label']:<22}{row['model']:<12}{row['dataset']:<15}{row['headline']:<22}"
                f"{text:>9}{row['seconds']:>9.1f}"
            )
        else:
            lines.append(f"{row['label']:<22}{row['model']:<12}{row['dataset']:<15}FAILED: {row['error']}")
    lines.append(f"total {summary['seconds']:.1f} s")
    return "\n".join(lines)


def _lesson_html(label: str) -> str:
    """The report's pointer to the lesson that teaches entry ``label``'s network (its notebook linked)."""
    taught = lesson_of(label)
    return (f"<dt>Learn it</dt><dd class='lesson'>Lesson {taught.number} — "
            f"<a href='{html.escape(taught.path.as_uri())}'>{html.escape(taught.title)}</a>: "
            f"{html.escape(taught.summary)}. Open it in Jupyter with "
            f"<code>dendrite lessons open {taught.number}</code>.</dd>")


def render_html(summary: dict) -> str:
    """A self-contained page (relative image links) with every run's metrics and pictures.

    Shapes: ``summary`` as :func:`run_tour` returns it -> an HTML string.

    Example:
        >>> render_html({"seconds": 0.0, "runs": []}).startswith("<!doctype html>")
        True
    """
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>dendrite tour</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}"
        "figure{margin:1.2em 0}figure img{width:100%;height:auto;max-height:85vh;object-fit:contain;"
        "object-position:left;border:1px solid #eee}"
        "figcaption{color:#444;font-size:.95em;margin-top:.3em}dl.explain dt{font-weight:600;margin-top:.4em}"
        "dl.explain dd{margin-left:1.2em}pre{background:#f6f6f6;padding:8px;"
        "white-space:pre-wrap}.bad{color:#b00}</style></head><body>",
        "<h1>dendrite tour</h1>",
        f"<p>One model per network family, trained on built-in data in {summary['seconds']:.0f} s. "
        "Each section below says what was trained, what its metric means and what it is compared to; "
        "click a picture to open it at full size.</p>",
        "<table><tr><th>run</th><th>model</th><th>dataset</th><th>metric</th><th>value</th><th>seconds</th></tr>",
    ]
    for row in summary["runs"]:
        esc = {k: html.escape(str(row.get(k, ""))) for k in ("label", "model", "dataset", "headline")}
        if row["ok"]:
            value = row.get("value")
            parts.append(
                f"<tr><td><a href='#{esc['label']}'>{esc['label']}</a></td><td>{esc['model']}</td>"
                f"<td>{esc['dataset']}</td><td>{esc['headline']}</td>"
                f"<td>{'-' if value is None else f'{value:.4f}'}</td><td>{row['seconds']:.1f}</td></tr>"
            )
        else:
            parts.append(
                f"<tr><td>{esc['label']}</td><td>{esc['model']}</td><td>{esc['dataset']}</td>"
                f"<td colspan=3 class='bad'>failed: {html.escape(row['error'])}</td></tr>"
            )
    parts.append("</table>")
    for row in summary["runs"]:
        if not row["ok"]:
            continue
        label = html.escape(row["label"])
        parts.append(
            f"<h2 id='{label}'>{label}: {html.escape(row['model'])} on {html.escape(row['dataset'])}</h2>"
        )
        words = {key: html.escape(text) for key, text in explain(row).items()}
        parts.append(
            f"<dl class='explain'><dt>What it is</dt><dd>{words['about']}</dd>"
            f"<dt>The metric: {html.escape(row['headline'])}</dt><dd>{words['meaning']} {words['good']}</dd>"
            f"<dt>Compared to</dt><dd>{words['baseline']}</dd>{_lesson_html(row['label'])}</dl>"
        )
        metrics = ", ".join(f"{html.escape(k)} = {v:.4g}" for k, v in row["final"].items() if v is not None)
        parts.append(f"<p>All numbers of this run: {metrics}</p>")
        sample = row.get("extra", {}).get("sample")
        if sample:
            parts.append(f"<p>Generated text:</p><pre>{html.escape(sample)}</pre>")
        for picture in row.get("pictures", []):
            link, text = f"{label}/{html.escape(picture)}", html.escape(caption(row["label"], picture))
            parts.append(f"<figure><a href='{link}'><img src='{link}' alt='{text}'></a>"
                         f"<figcaption><b>{html.escape(picture)}</b>: {text}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts)
