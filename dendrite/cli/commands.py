"""What each ``dendrite`` subcommand does (argument parsing is in :mod:`dendrite.cli.main`)."""

from __future__ import annotations

import shlex
import sys
import tempfile
import warnings
from contextlib import nullcontext
from pathlib import Path

from dendrite.cli.errors import EXIT_DIVERGED, EXIT_INTERRUPTED, UsageError
from dendrite.cli.out_folder import prepare_out, remove_if_empty


def _load_splits(name: str):
    from dendrite.data import list_datasets, load_dataset

    rows = {row["name"]: row for row in list_datasets()}
    if name not in rows:
        raise UsageError(f"unknown dataset {name!r}; choose one of: {', '.join(rows)}")
    if rows[name].get("needs_files"):
        built_in = ", ".join(key for key, row in rows.items() if not row.get("needs_files"))
        raise UsageError(
            f"dataset {name!r} is read from your own files: pass their path, e.g. --data "
            f"{'my-table.csv --target COLUMN' if name == 'csv' else '~/data/' + name} (see "
            f"docs/your_own_data.md); built-in datasets: {built_in}"
        )
    return load_dataset(name)


def _spec(name: str):
    from dendrite.recipes.catalog import MODELS

    if name not in MODELS:
        raise UsageError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}")
    return MODELS[name]


def _resume_command(args, spec, config) -> str:
    """The ``dendrite train ... --resume`` line that continues the run ``args`` started."""
    words = ["dendrite", "train", spec.name, "--data", config.dataset]
    for option in ("target", "val", "test", "epochs", "batch_size", "lr", "optimizer", "schedule", "cell",
                   "dropout", "seed"):
        value = getattr(args, option, None)
        if value is not None and not (option == "seed" and value == 0):
            words += [f"--{option.replace('_', '-')}", str(value)]
    for column in getattr(args, "categorical", None) or ():
        words += ["--categorical", column]
    if getattr(args, "quiet", False):
        words.append("--quiet")
    if getattr(args, "distributed", False):
        words = ["mpirun", "-n", "K", *words, "--distributed"]  # K: as many ranks as the run had
    return shlex.join([*words, "--out", str(config.out), "--resume"])


def _interrupted(args, spec, config) -> str:
    """The one line printed when Ctrl-C stops ``dendrite train``: where the run is, how to continue it."""
    from dendrite.train.checkpoint_state import checkpoint_path

    if getattr(spec.recipe, "supports_resume", False) and checkpoint_path(config.out).exists():
        return (f"dendrite: interrupted; the last checkpoint is in {config.out}: continue with "
                f"`{_resume_command(args, spec, config)}`")
    if getattr(spec.recipe, "supports_resume", False):
        return "dendrite: interrupted before the first checkpoint was written; nothing to resume"
    return f"dendrite: interrupted (model {spec.name!r} does not save checkpoints, so it cannot be resumed)"


def _diverged_phrase(where: dict) -> str:
    """``"the loss became nan at epoch 1, batch 7"`` from metrics.json's ``diverged_at``."""
    key = where.get("key", "loss")
    subject = "the loss" if key == "loss" else f"the {key}"
    place = f"epoch {where.get('epoch', '?')}" + (f", batch {where['batch']}" if where.get("batch") else "")
    return f"{subject} became {where.get('loss', 'non-finite')} at {place}"


def _default_out(spec, args) -> Path:
    """``--out`` or ``runs/MODEL-DATA`` (DATA: the dataset's name, or the file or folder's name)."""
    from dendrite.cli.file_commands import is_file_data

    if getattr(args, "out", None):
        return Path(args.out)
    data = args.data or spec.default_dataset
    if is_file_data(data):
        path = Path(data).expanduser()
        data = path.stem if path.suffix else path.name
    return Path("runs") / f"{spec.name}-{data}"


def _run_setup(args, cache_dir: Path | None = None):
    """The catalog row, the data, the :class:`RunConfig` and (``--data PATH``) the data spec ``args`` ask for.

    Used by train and doctor. ``--data`` names a built-in dataset or a file or folder of the
    user's (read by :mod:`dendrite.cli.file_commands`; a large CSV's rows are memory-mapped in
    ``cache_dir``). Unknown names, bad files and a model that cannot take the data raise
    :class:`UsageError`.
    """
    from dendrite.cli.file_commands import is_file_data, load_file_data
    from dendrite.recipes.base import RunConfig

    spec = _spec(args.model)
    dataset = args.data or spec.default_dataset
    data_spec = None
    if is_file_data(dataset):
        user_data = load_file_data(args, cache_dir)
        splits, data_spec = user_data.splits, user_data.spec
    else:
        for option in ("target", "val", "test", "categorical"):
            if getattr(args, option, None):
                raise UsageError(f"--{option} is for data read from your files (--data PATH); {dataset!r} "
                                 "is a built-in dataset")
        splits = _load_splits(dataset)
    reason = spec.accepts(splits)
    if reason:
        raise UsageError(f"model {spec.name!r} cannot train on dataset {dataset!r}: {reason}")
    if getattr(args, "cell", None) and spec.family != "recurrent":
        from dendrite.recipes.catalog import MODELS

        takers = ", ".join(name for name, row in MODELS.items() if row.family == "recurrent")
        raise UsageError(f"--cell is for the recurrent models ({takers}); model {spec.name!r} "
                         f"({spec.family}) has no recurrent cell")
    options = {}
    _check_distributed(args, spec)
    if getattr(args, "dropout", None) is not None:
        if "dropout" not in spec.defaults(splits):
            raise UsageError(f"--dropout is for the models with dropout; model {spec.name!r} has none")
        options["dropout"] = args.dropout
    if getattr(args, "cell", None):
        options["cell"] = args.cell
    if getattr(args, "schedule", None):
        options["schedule"] = args.schedule
    try:
        config = RunConfig(
            model=spec.name,
            dataset=dataset,
            epochs=getattr(args, "epochs", None),
            batch_size=args.batch_size,
            lr=args.lr,
            optimizer=args.optimizer,
            seed=args.seed,
            out=_default_out(spec, args),
            quiet=getattr(args, "quiet", True),
            resume=getattr(args, "resume", False),
            distributed=getattr(args, "distributed", False),
            options=options,
        )
    except ValueError as error:  # RunConfig refuses nonsense numbers
        raise UsageError(str(error)) from None
    return spec, splits, config, data_spec


def _check_distributed(args, spec) -> None:
    """``--distributed`` only for the recipes that support it, and only with mpi4py installed."""
    if not getattr(args, "distributed", False):
        return
    from dendrite.distributed import is_available
    from dendrite.recipes.catalog import MODELS

    if not getattr(spec.recipe, "supports_distributed", False):
        takers = ", ".join(name for name, row in MODELS.items()
                           if getattr(row.recipe, "supports_distributed", False))
        raise UsageError(f"--distributed is for the classifier recipes ({takers}); model {spec.name!r} "
                         f"({spec.family}) trains in one process")
    if getattr(args, "doctor", False):
        raise UsageError("--doctor examines a run in one process; run it without --distributed")
    if not is_available():
        raise UsageError("--distributed needs mpi4py and an MPI library: pip install \"dendrite[mpi]\", then "
                         "`mpirun -n K dendrite train ... --distributed`")


def _examine(spec, splits, config, budget_s: float):
    """The doctor's report on the run ``config`` describes (see :mod:`dendrite.recipes.diagnose`)."""
    from dendrite.recipes.diagnose import examine_recipe

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the probes' overflow is measured, not noise
            return examine_recipe(spec, splits, config, budget_s=budget_s)
    except ValueError as error:  # a recipe the doctor does not examine; an unknown optimizer name
        raise UsageError(str(error)) from None


def run_train(args) -> int:
    """Train ``args.model`` on ``args.data`` and write its report, plots and weights to ``args.out``.

    Usage: ``dendrite train MODEL [--data DATASET] [--epochs N] [--batch-size B] [--lr LR]
    [--optimizer NAME] [--schedule NAME] [--cell lstm|gru|rnn] [--seed S] [--out DIR] [--quiet]
    [--resume] [--doctor [--budget S]]``. With ``--doctor`` the doctor examines the run's setup
    first and prints its report. Prints one line of final metrics; returns the exit status (0;
    3 when the run diverged; 130 on Ctrl-C, after one line with the ``--resume`` command that
    continues the run). A bad choice (unknown model or dataset, a model that cannot take the
    data, ``--cell`` for a model without one, an ``--out`` that is not a writable folder) raises
    :class:`UsageError` before any training; a run that fails removes the empty folders it made.

    Example:
        >>> import argparse
        >>> run_train(argparse.Namespace(model="no-such-model"))
        Traceback (most recent call last):
        ...
        dendrite.cli.errors.UsageError: unknown model 'no-such-model'; choose one of: mlp, cnn, ...
    """
    from dendrite.cli.file_commands import cache_folder, is_file_data, write_data_json
    from dendrite.recipes.runner import train

    out = _default_out(_spec(args.model), args)
    spec = config = None  # known once the data is read
    created = prepare_out(out)  # before the data, the doctor and the training: a bad --out costs nothing
    try:
        with cache_folder(out) if is_file_data(args.data) else nullcontext() as cache:
            spec, splits, config, data_spec = _run_setup(args, cache)
            if getattr(args, "doctor", False):
                report = _examine(spec, splits, config, budget_s=args.budget)
                print(report, end="\n\n", flush=True)
            with warnings.catch_warnings():
                # NumPy's overflow warnings (and the checkpoints' "not saving") are noise once a run
                # diverges: the divergence itself is reported below, as one line.
                warnings.simplefilter("ignore", RuntimeWarning)
                metrics = train(spec, splits, config)
            if data_spec is not None and not metrics.get("diverged") and metrics.get("rank", 0) == 0:
                write_data_json(out, spec.name, config.resolved(spec.defaults(splits)), data_spec)
    except ValueError as error:  # bad hyper-parameters, e.g. an unknown optimizer name
        remove_if_empty(created)
        raise UsageError(str(error)) from None
    except KeyboardInterrupt:
        remove_if_empty(created)
        print(_interrupted(args, spec, config) if config else "dendrite: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BaseException:
        remove_if_empty(created)  # a run that failed before writing anything leaves no empty folder
        raise
    if metrics.get("rank", 0) != 0:  # a distributed run: rank 0 reports
        return EXIT_DIVERGED if metrics.get("diverged") else 0
    if metrics.get("diverged"):
        print(f"dendrite train: {_diverged_phrase(metrics.get('diverged_at') or {})}; the run diverged "
              f"(metrics in {config.out}). Run again with --doctor to find out why (or try a lower --lr).",
              file=sys.stderr)
        return EXIT_DIVERGED
    final = ", ".join(f"{key} {value:.4g}" for key, value in metrics["final"].items() if value is not None)
    print(f"{spec.name} on {config.dataset}: {final}  ({metrics['seconds']:.1f} s) -> {config.out}")
    return 0


def run_doctor(args) -> int:
    """Examine a built-in recipe's setup with the training doctor, or show the gallery of mistakes.

    Usage: ``dendrite doctor MODEL [--data DATASET] [--lr LR] [--optimizer NAME] [--batch-size B]
    [--seed S] [--budget SECONDS] [--json]`` prints the report (most likely cause first);
    ``dendrite doctor --gallery`` injects each classic mistake into a small healthy setup and
    prints what training showed and what the doctor found. Returns 0 when the report has no
    error (every gallery row matched), else 1.

    Example:
        >>> import argparse
        >>> run_doctor(argparse.Namespace(model=None, gallery=False))
        Traceback (most recent call last):
        ...
        dendrite.cli.errors.UsageError: doctor: name a model to examine (see `dendrite models`), ...
    """
    if args.gallery:
        from dendrite.doctor import format_gallery, gallery

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            rows = gallery(seed=args.seed)
        print(format_gallery(rows))
        return 0 if all(row.matched for row in rows) else 1
    if not args.model:
        raise UsageError("doctor: name a model to examine (see `dendrite models`), e.g. "
                         "`dendrite doctor mlp --lr 5`, or pass --gallery")
    from dendrite.cli.file_commands import is_file_data

    scratch = tempfile.TemporaryDirectory(prefix="dendrite-doctor-") if is_file_data(args.data) else None
    with scratch or nullcontext() as cache:
        spec, splits, config, _ = _run_setup(args, Path(cache) if cache else None)
        report = _examine(spec, splits, config, budget_s=args.budget)
    print(report.to_json() if args.json else report)
    return 0 if report.ok else 1


def run_tour(args) -> int:
    """Train one small model per network family and write a report to ``args.out``.

    Usage: ``dendrite tour [--out DIR] [--quiet] [--only NAME ...]``. Returns 0 when every run
    succeeded, else 1. (It trains several models, so no example runs here; see
    :func:`dendrite.recipes.tour.run_tour`.)
    """
    from dendrite.recipes.tour import TOUR
    from dendrite.recipes.tour import run_tour as tour

    labels = [entry.label for entry in TOUR]
    unknown = [name for name in args.only or () if name not in labels]
    if unknown:
        raise UsageError(f"tour --only: unknown entr{'y' if len(unknown) == 1 else 'ies'} "
                         f"{', '.join(map(repr, unknown))}; choose from: {', '.join(labels)}")
    created = prepare_out(args.out)
    try:
        summary = tour(args.out, quiet=args.quiet, only=args.only)
    except BaseException:
        remove_if_empty(created)
        raise
    return 0 if all(row.get("ok") for row in summary["runs"]) else 1


def run_datasets(args) -> int:
    """Print one row per registered dataset: task, sizes, input shape, classes, description.

    Usage: ``dendrite datasets``. Returns 0.

    Example:
        >>> import argparse
        >>> run_datasets(argparse.Namespace())
        name          task              train   test  input shape    classes  description
        ...
        0
    """
    from dendrite.data import list_datasets

    rows = list_datasets()
    header = (
        f"{'name':<14}{'task':<16}{'train':>7}{'test':>7}  {'input shape':<14}{'classes':>8}  description"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        classes = "" if row.get("num_classes") is None else str(row["num_classes"])
        shape = "x".join(str(s) for s in row.get("input_shape") or ()) or "-"
        train, test = (str(row[key]) if row.get(key) is not None else "-" for key in ("train", "test"))
        description = row.get("description", "")
        if row.get("needs_files"):
            description += " (your files: --data PATH)"
        print(
            f"{row['name']:<14}{row['task']:<16}{train:>7}{test:>7}  {shape:<14}{classes:>8}  {description}"
        )
    return 0


def run_models(args) -> int:
    """Print one row per model of the catalog: family, default dataset, description.

    Usage: ``dendrite models``. Returns 0.

    Example:
        >>> import argparse
        >>> run_models(argparse.Namespace())
        name        family          default data  description
        mlp         feedforward     digits        multilayer perceptron (Linear + ReLU): classes or numbers
        ...
        0
    """
    from dendrite.recipes.catalog import MODELS

    print(f"{'name':<12}{'family':<16}{'default data':<14}description")
    for spec in MODELS.values():
        print(f"{spec.name:<12}{spec.family:<16}{spec.default_dataset:<14}{spec.description}")
    return 0


def run_sample(args) -> int:
    """Write ``args.length`` characters generated by the charlm (or gpt) run in ``args.run_dir`` to stdout.

    Usage: ``dendrite sample DIR [--length N] [--temperature T] [--prime TEXT] [--seed S]``.
    Returns 0; a missing run or a prime with unknown characters raises :class:`UsageError`.

    Example:
        >>> import argparse
        >>> args = argparse.Namespace(run_dir="no-such-run", length=10, temperature=1.0, prime="", seed=0)
        >>> run_sample(args)
        Traceback (most recent call last):
        ...
        dendrite.cli.errors.UsageError: no run folder 'no-such-run'; train one with ...
    """
    from dendrite.recipes.language import sample_from_run

    if (Path(args.run_dir) / "gpt.json").is_file():  # a `dendrite train gpt` run
        from dendrite.recipes.gpt import sample_from_run
    try:
        text = sample_from_run(
            args.run_dir, length=args.length, temperature=args.temperature, prime=args.prime, seed=args.seed
        )
    except (FileNotFoundError, ValueError) as error:  # no such run; a prime with unknown characters
        raise UsageError(str(error)) from None
    sys.stdout.write(text + "\n")
    return 0


def run_playground(args) -> int:
    """Serve the playground (:mod:`dendrite.playground`) until Ctrl-C and open it in the browser.

    Usage: ``dendrite playground [--port N] [--host H] [--no-browser] [--session-ttl S]``. Returns 0
    when stopped; a port that is taken or a missing ``dendrite[playground]`` raises :class:`UsageError`.

    Example:
        >>> import argparse, socket
        >>> taken = socket.socket(); taken.bind(("127.0.0.1", 0)); taken.listen()
        >>> port = taken.getsockname()[1]
        >>> args = argparse.Namespace(port=port, host="127.0.0.1", no_browser=True, session_ttl=900.0)
        >>> run_playground(args)
        Traceback (most recent call last):
        ...
        dendrite.cli.errors.UsageError: cannot listen on 127.0.0.1:...; try another --port (0 picks ...)
        >>> taken.close()
    """
    import importlib.util

    missing = [name for name in ("starlette", "uvicorn") if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(f"the playground needs {' and '.join(missing)}: install dendrite[playground] "
                         f"(pip install 'dendrite[playground]')")
    from dendrite.playground.serve import serve

    try:
        serve(host=args.host, port=args.port, open_browser=not args.no_browser, session_ttl=args.session_ttl)
    except OSError as error:  # the port is taken, or the host is not an address of this machine
        raise UsageError(f"cannot listen on {args.host}:{args.port} ({error.strerror or error}); try another "
                         f"--port (0 picks a free one)") from None
    return 0
