"""Training recipes: model catalog, per-family training code, the tour (behind the ``dendrite`` CLI)."""
