"""The tour report explains itself: words per entry and metric, a caption per picture, honest curves."""

import dataclasses
import html
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from dendrite.lessons import LESSONS
from dendrite.recipes import tour
from dendrite.recipes.classification import curve_labels
from dendrite.recipes.tour_text import ENTRY_LESSON, ENTRY_TEXT, METRIC_TEXT, caption, explain, lesson_of
from dendrite.train import plots

# Every tour entry, trimmed to seconds: the report's words and pictures do not depend on how long it trained.
TINY = {
    "mlp-spiral": {"epochs": 2},
    "mlp-digits": {"epochs": 2},
    "cnn-digits": {"epochs": 1},
    "lstm-digits": {"epochs": 1, "hidden_size": 16},
    "charlm-pytext": {"epochs": 1, "train_chars": 2000, "hidden_size": 16, "embedding_dim": 8, "seq_len": 16,
                      "batch_size": 8},
    "forecast-mackey-glass": {"epochs": 1, "hidden_size": 8},
    "gan-ring8": {"epochs": 2, "steps_per_epoch": 5},
    "gan-digits": {"epochs": 2, "steps_per_epoch": 5},
    "vae-digits": {"epochs": 2},
}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A tour of every entry with tiny settings; the legends given to plot_history recorded by file."""
    out = tmp_path_factory.mktemp("tour")
    legends, plot_history = {}, plots.plot_history

    def recording(history, path, *args, **kwargs):
        legends[str(path)] = kwargs.get("labels")
        return plot_history(history, path, *args, **kwargs)

    entries = [dataclasses.replace(entry, settings=TINY[entry.label]) for entry in tour.TOUR]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tour, "TOUR", entries)
        patch.setattr(plots, "plot_history", recording)
        summary = tour.run_tour(out, quiet=True)
    return SimpleNamespace(out=out, summary=summary, html=(out / "index.html").read_text(), legends=legends)


def _section(html: str, label: str) -> str:
    start = html.index(f"<h2 id='{label}'>")
    end = html.find("<h2 ", start + 1)
    return html[start:end if end > 0 else len(html)]


def test_every_tour_entry_has_report_text():
    for entry in tour.TOUR:
        words = explain({"label": entry.label, "headline": entry.headline, "final": {}, "num_classes": 10})
        assert all(len(text) > 40 for text in words.values()), entry.label
    with pytest.raises(KeyError, match="no report text for entry 'nope'"):
        explain({"label": "nope", "headline": "test_accuracy", "final": {}})


def test_each_entry_explains_its_model_metric_and_baseline(report):
    assert [row["ok"] for row in report.summary["runs"]] == [True] * len(tour.TOUR)
    for row in report.summary["runs"]:
        section = _section(report.html, row["label"])
        text = METRIC_TEXT[row["headline"]]
        assert html.escape(ENTRY_TEXT[row["label"]].split(".")[0]) in section
        assert html.escape(text["meaning"].split(",")[0]) in section
        assert html.escape(text["good"].split(";")[0]) in section
        assert "not measured" not in section, row["label"]  # every baseline number was found in the run
    assert "chance accuracy 1/k for k classes: 1/10 = 0.1." in _section(report.html, "mlp-digits")
    assert "1/2 = 0.5." in _section(report.html, "mlp-spiral")
    unigram = report.summary["runs"][4]["final"]["unigram_bits_per_char"]
    assert f"unigram_bits_per_char = {unigram:.4g}" in _section(report.html, "charlm-pytext")
    real = report.summary["runs"][7]["final"]["frechet_distance_real"]
    assert f"frechet_distance_real = {real:.4g}" in _section(report.html, "gan-digits")


def test_each_entry_links_the_lesson_that_teaches_it(report):
    assert sorted(ENTRY_LESSON) == sorted(entry.label for entry in tour.TOUR)
    for row in report.summary["runs"]:
        taught = lesson_of(row["label"])
        found = re.findall(r"<dd class='lesson'>Lesson (\d+) — <a href='([^']+)'>([^<]+)</a>.*?"
                           r"<code>dendrite lessons open (\d+)</code>", _section(report.html, row["label"]))
        assert found == [(str(taught.number), taught.path.as_uri(), html.escape(taught.title),
                          str(taught.number))], row["label"]
    assert {lesson_of(label).slug for label in ENTRY_LESSON} == {
        "feedforward", "convolutional", "recurrent", "autoencoders", "gans"}
    assert all(lesson_of(label) in LESSONS for label in ENTRY_LESSON)
    with pytest.raises(KeyError, match="no lesson for tour entry 'nope'"):
        lesson_of("nope")


def test_every_picture_is_captioned_full_width_and_linked(report):
    assert "figure img{width:100%" in report.html
    for row in report.summary["runs"]:
        section = _section(report.html, row["label"])
        assert row["pictures"], row["label"]
        figures = re.findall(r"<figure><a href='([^']+)'><img src='([^']+)' alt='[^']+'></a>"
                             r"<figcaption><b>([^<]+)</b>: ([^<]+)</figcaption></figure>", section)
        assert [name for _, _, name, _ in figures] == row["pictures"]
        for link, source, name, text in figures:
            assert link == source == f"{row['label']}/{name}" and (report.out / link).exists()
            assert text == html.escape(caption(row["label"], name)) and "written by this run" not in text


def test_classifier_curve_is_labelled_test_and_ends_at_the_printed_test_loss(report):
    for label in ("mlp-digits", "cnn-digits", "lstm-digits", "mlp-spiral"):
        legend = report.legends[str(report.out / label / "curves.png")]
        assert legend["val_loss"].startswith("test: plain CE") and legend["val_accuracy"] == "test"
        metrics = json.loads((report.out / label / "metrics.json").read_text())
        last = metrics["history"][-1]
        assert last["val_loss"] == pytest.approx(metrics["final"]["test_loss"], rel=1e-5, abs=1e-6)
        assert last["val_accuracy"] == pytest.approx(metrics["final"]["test_accuracy"])
    assert report.legends[str(report.out / "mlp-digits" / "curves.png")]["loss"] == "train: CE, smoothing 0.1"
    assert report.legends[str(report.out / "mlp-spiral" / "curves.png")]["loss"] == "train: CE"
    # With label smoothing the training objective is larger than plain cross-entropy on the same data:
    # a held-out curve still computed with it would have missed the printed test loss.
    assert "label smoothing 0.1" in caption("mlp-digits", "curves.png")
    assert report.legends[str(report.out / "forecast-mackey-glass" / "curves.png")]["val_loss"] == "test"


def test_curve_labels_say_validation_only_when_there_is_one():
    with_val = SimpleNamespace(has_validation=True, task="classification")
    labels = curve_labels(with_val, {"label_smoothing": 0.1})
    assert labels["val_loss"] == "validation: plain CE" and labels["val_accuracy"] == "validation"
    regression = curve_labels(SimpleNamespace(has_validation=False, task="regression"), {})
    assert regression["val_loss"] == "test: mean squared error"


def test_the_report_reads_in_chromium(report, playground_browser):
    """Opened in Chromium: every entry shows its words and lesson link, and every picture loads full width."""
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts" / "tour"
    artifacts.mkdir(parents=True, exist_ok=True)
    context = playground_browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto((report.out / "index.html").as_uri())
    page.screenshot(path=str(artifacts / "report-top.png"))
    for row in report.summary["runs"]:
        heading = page.locator(f"h2#{row['label']}")
        explained = heading.locator("xpath=following-sibling::dl[1]")
        terms = explained.locator("dt").all_inner_texts()
        assert terms == ["What it is", f"The metric: {row['headline']}", "Compared to", "Learn it"], terms
        assert all(text.strip() for text in explained.locator("dd").all_inner_texts())
        pictures = page.locator(f"img[src^='{row['label']}/']")
        assert pictures.count() == len(row["pictures"])
        for index in range(pictures.count()):
            picture = pictures.nth(index)
            picture.scroll_into_view_if_needed()
            loaded = picture.evaluate("img => img.complete && img.naturalWidth > 0")
            assert loaded, f"{row['label']}: {picture.get_attribute('src')} did not load"
            shown = picture.bounding_box()
            content = page.locator("body").bounding_box()
            # full width, unless the height cap (85% of the window) keeps a square picture on screen
            assert shown["width"] >= 0.95 * content["width"] or shown["height"] >= 0.8 * 900, (
                row["label"], shown, content)
        heading.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / f"{row['label']}.png"))
    page.screenshot(path=str(artifacts / "report-full.png"), full_page=True)
    context.close()
    assert errors == []
