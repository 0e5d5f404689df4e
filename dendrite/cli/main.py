"""``dendrite`` — train and inspect networks from the command line.

    dendrite train MODEL --data DATASET|PATH [--target COLUMN] [--categorical COLUMN ...]
                   [--val PATH] [--test PATH] [--epochs N] [--batch-size B] [--lr LR]
                   [--optimizer NAME] [--schedule NAME] [--dropout P] [--seed S] [--out DIR] [--quiet]
                   [--resume] [--doctor [--budget S]] [--distributed]
    mpirun -n K dendrite train MODEL ... --distributed   (data parallel over K MPI ranks: docs/distributed.md)
    dendrite predict RUN_DIR INPUT [--out FILE]
    dendrite evaluate RUN_DIR --data PATH [--out DIR]
    dendrite doctor MODEL [--data DATASET] [--lr LR] [--optimizer NAME] [--batch-size B] [--json]
    dendrite doctor --gallery
    dendrite tour [--out DIR] [--quiet]
    dendrite datasets
    dendrite models
    dendrite sample DIR [--length N] [--temperature T] [--prime TEXT]
    dendrite playground [--port N] [--host H] [--no-browser] [--session-ttl S]
    dendrite explore init|optim|gan [--out DIR] [--seed N] [--quick]
    dendrite lessons [list | open N [--dir DIR] | export N|all DIR [--force] | run N|PATH]

``--data PATH`` trains on the user's own files: a CSV/TSV table (``--target`` names the
column to predict), a ``.npz`` with ``x``/``y``, MNIST's IDX files, a CIFAR-10 folder or
an image folder ``root/<class>/<images>`` (see :mod:`dendrite.cli.file_commands`).

Bad arguments (an unknown model or dataset, a model that cannot take the data, a
number that is not finite or out of range: ``--lr inf``, ``--epochs 0``) and bad data
files (a wrong column, a NaN, an image of another size: named with the file and line)
print one line that says what was wrong and exit with status 2. A training run whose loss becomes NaN
or infinite stops, prints one line saying where, and exits with status 3.

Exit codes: 0 success, 1 some tour runs failed or the doctor found an error, 2 usage error,
3 the run diverged, 130 interrupted.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from pathlib import Path

from dendrite.cli.errors import UsageError

__all__ = ["main", "UsageError"]


def _whole_number(minimum: int):
    """An argparse ``type``: a whole number >= ``minimum`` (the option's name is added by the parser)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}, got {text!r}"
                                             if minimum != 1 else f"must be a whole number > 0, got {text!r}")
        return value
    parse.__name__ = "whole number"
    return parse


def _positive_float(text: str) -> float:
    """An argparse ``type``: a finite number > 0 (``float('inf') > 0`` is true, hence the isfinite)."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or not value > 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


_positive_int, _natural_int = _whole_number(1), _whole_number(0)


def _probability(text: str) -> float:
    """An argparse ``type``: a dropout probability, 0 <= p < 1."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text!r}")
    return value


def _port(text: str) -> int:
    """An argparse ``type``: a TCP port, 0..65535 (0 lets the system pick a free one)."""
    value = _natural_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number in 0..65535, got {text!r}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse that reports mistakes as one line and exit status 2 (no usage dump).

    ``argument --lr: must be a finite number > 0, got 'inf'`` is shown as
    ``dendrite train: error: --lr must be a finite number > 0, got 'inf'``.
    """

    def error(self, message: str):
        match = re.fullmatch(r"argument (\S+?)(?:/\S+)?: (must .*)", message)
        if match:
            message = f"{match.group(1)} {match.group(2)}"
        self.exit(2, f"{self.prog}: error: {message}\n")


def _file_options(command: argparse.ArgumentParser) -> None:
    """``--target`` and ``--categorical``: how to read a CSV given as ``--data PATH``."""
    command.add_argument("--target", default=None,
                         help="the CSV column to predict (default: the last column)")
    command.add_argument("--categorical", action="append", default=None, metavar="COLUMN",
                         help="read this CSV column as categories even if it holds numbers (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    """The ``dendrite`` argument parser, one sub-command per ``run_*`` function of ``commands``."""
    parser = _Parser(prog="dendrite", description="Deep learning from scratch on NumPy.",
                     epilog="exit codes: 0 success, 1 some tour runs failed or the doctor found an error, "
                            "2 usage error, 3 the training run diverged (a loss became NaN or infinite), "
                            "130 interrupted")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    train = commands.add_parser("train", help="train a model on a dataset and write its report",
                                epilog="exit codes: 0 trained, 2 usage error, 3 the run diverged (a loss "
                                       "became NaN or infinite; metrics.json says where)")
    train.add_argument("model", help="model name (see `dendrite models`)")
    train.add_argument("--data", "--dataset", dest="data", default=None,
                       help="a built-in dataset (see `dendrite datasets`) or a path: a .csv/.tsv table, a "
                            ".npz (x, y), MNIST IDX files, a CIFAR-10 folder, or folders root/CLASS/IMAGE")
    _file_options(train)
    train.add_argument("--val", default=None, help="validation data (same format as --data) for the curves")
    train.add_argument("--test", default=None,
                       help="test data (same format as --data); default: the data's own test part or a "
                            "seeded stratified 20%% of --data")
    train.add_argument("--epochs", type=_positive_int, default=None)
    train.add_argument("--batch-size", type=_positive_int, default=None)
    train.add_argument("--lr", type=_positive_float, default=None)
    train.add_argument("--optimizer", default=None, help="sgd, adam, adamw, rmsprop, adagrad, adadelta")
    train.add_argument("--seed", type=_natural_int, default=0)
    train.add_argument("--out", type=Path, default=None, help="output folder (default runs/MODEL-DATASET)")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.add_argument("--resume", action="store_true",
                       help="continue the run saved in --out from its last checkpoint")
    train.add_argument("--schedule", choices=("none", "exponential", "cosine", "step"), default=None,
                       help="learning-rate schedule (default: the model's; exponential for classifiers)")
    train.add_argument("--cell", choices=("lstm", "gru", "rnn"), default=None,
                       help="recurrent cell for charlm/forecaster")
    train.add_argument("--dropout", type=_probability, default=None,
                       help="dropout probability for the models that have dropout (mlp, cnn)")
    train.add_argument("--distributed", action="store_true",
                       help="data-parallel training over MPI: run as `mpirun -n K dendrite train ... "
                            "--distributed`; --batch-size is per rank, the global batch K times it "
                            "(needs dendrite[mpi]; see docs/distributed.md)")
    train.add_argument("--doctor", action="store_true",
                       help="examine the setup with the training doctor first and print its report")
    train.add_argument("--budget", type=_positive_float, default=60.0,
                       help="seconds the doctor may spend (with --doctor; default 60)")

    doctor = commands.add_parser("doctor", help="why is my network not training? examine a model's setup",
                                 epilog="exit codes: 0 no error found, 1 the doctor found an error "
                                        "(or a gallery row did not match), 2 usage error")
    doctor.add_argument("model", nargs="?", default=None, help="model name (see `dendrite models`)")
    doctor.add_argument("--data", "--dataset", dest="data", default=None,
                        help="a built-in dataset (see `dendrite datasets`) or a path to your data (as for "
                             "train)")
    _file_options(doctor)
    doctor.add_argument("--batch-size", type=_positive_int, default=None)
    doctor.add_argument("--lr", type=_positive_float, default=None)
    doctor.add_argument("--optimizer", default=None, help="sgd, adam, adamw, rmsprop, adagrad, adadelta")
    doctor.add_argument("--seed", type=_natural_int, default=0)
    doctor.add_argument("--budget", type=_positive_float, default=60.0, help="seconds to spend (default 60)")
    doctor.add_argument("--json", action="store_true", help="print the report as JSON")
    doctor.add_argument("--gallery", action="store_true",
                        help="inject each classic mistake into a healthy setup; show what the doctor finds")

    tour = commands.add_parser("tour", help="train one small model per network family and write a report")
    tour.add_argument("--out", type=Path, default=Path("tour"))
    tour.add_argument("--quiet", action="store_true")
    tour.add_argument("--only", nargs="*", default=None, help="run only these tour entries")

    predict = commands.add_parser("predict", help="predict new data with a run trained on your files",
                                  epilog="exit codes: 0 written, 2 usage error or bad input file")
    predict.add_argument("run_dir", type=Path, help="the --out folder of `dendrite train MODEL --data PATH`")
    predict.add_argument("input", help="new data: CSV rows, a .npz (x), IDX images, an image file or folder")
    predict.add_argument("--out", type=Path, default=None,
                         help="the predictions CSV (default RUN_DIR/predictions-NAME.csv)")
    predict.add_argument("--quiet", action="store_true", help="no progress bars")

    evaluate = commands.add_parser("evaluate", help="metrics and confusion matrix of a run on labelled data",
                                   epilog="exit codes: 0 evaluated, 2 usage error or bad data file")
    evaluate.add_argument("run_dir", type=Path, help="the --out folder of `dendrite train MODEL --data PATH`")
    evaluate.add_argument("--data", required=True, help="labelled data in the training data's format")
    evaluate.add_argument("--out", type=Path, default=None,
                          help="folder for metrics.json and confusion.csv/.png (default "
                               "RUN_DIR/evaluation-NAME)")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bars")

    commands.add_parser("datasets", help="list the built-in datasets")
    commands.add_parser("models", help="list the models")

    sample = commands.add_parser("sample", help="generate text from a trained charlm or gpt run")
    sample.add_argument("run_dir", type=Path)
    sample.add_argument("--length", type=_positive_int, default=400)
    sample.add_argument("--temperature", type=_positive_float, default=0.8)
    sample.add_argument("--prime", default="")
    sample.add_argument("--seed", type=_natural_int, default=0)

    playground = commands.add_parser("playground", help="the neural-network playground in your browser",
                                     epilog="exit codes: 0 stopped with Ctrl-C, 2 usage error (port taken, "
                                            "dendrite[playground] not installed)")
    playground.add_argument("--port", type=_port, default=8000, help="port to listen on (0: a free one; "
                                                                     "default 8000)")
    playground.add_argument("--host", default="127.0.0.1",
                            help="address to listen on (default 127.0.0.1: this machine only)")
    playground.add_argument("--no-browser", action="store_true", help="do not open the page in a browser")
    playground.add_argument("--session-ttl", type=_positive_float, default=900.0,
                            help="seconds an idle browser tab keeps its session (default 900)")

    from dendrite.cli.explore_command import EXPLORERS

    explore = commands.add_parser("explore", help="the explorers' pictures (initialisation, optimisers, "
                                                  "GAN lab) without a browser")
    explore.add_argument("explorer", choices=list(EXPLORERS),
                         help="; ".join(f"{name}: {what}" for name, what in EXPLORERS.items()))
    explore.add_argument("--out", type=Path, default=None, help="folder for the PNG files "
                                                               "(default explore/EXPLORER)")
    explore.add_argument("--seed", type=_natural_int, default=0)
    explore.add_argument("--quick", action="store_true", help="small sizes (seconds, as in the tests)")

    lessons = commands.add_parser("lessons", help="the lessons: the guide's path as notebooks with exercises",
                                  epilog="open and run need dendrite[lessons] (Jupyter); exit codes: 0 done, "
                                         "1 run: a cell raised or an answer is wrong, 2 usage error")
    lessons.add_argument("action", nargs="?", default="list", choices=["list", "open", "export", "run"],
                         help="list (default); open N in Jupyter (your copy); export N|all DIR; "
                              "run N|PATH headless, printing each exercise's verdict")
    lessons.add_argument("lesson", nargs="?", help="number (1-11), slug, 'all' (export) or a .ipynb (run)")
    lessons.add_argument("folder", nargs="?", type=Path, help="export: the folder to copy into")
    lessons.add_argument("--dir", type=Path, default=Path("dendrite-lessons"),
                         help="open: the folder for your copies (default ./dendrite-lessons)")
    lessons.add_argument("--force", action="store_true", help="export: replace files already there")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``dendrite`` command line on ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    Usage: ``dendrite COMMAND ...`` with COMMAND one of ``train``, ``predict``, ``evaluate``, ``doctor``,
    ``tour``, ``datasets``, ``models``, ``sample``, ``playground``, ``explore``, ``lessons`` (see the module
    docstring). A
    :class:`UsageError` becomes one line on stderr and status 2; Ctrl-C status 130.

    Example:
        >>> main(["models"])
        name        family          default data  description
        ...
        0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from dendrite.cli import commands

    try:
        if args.command in ("predict", "evaluate"):
            from dendrite.cli import file_commands

            return getattr(file_commands, f"run_{args.command}")(args)
        if args.command == "explore":
            from dendrite.cli.explore_command import run_explore

            return run_explore(args)
        if args.command == "lessons":
            from dendrite.cli.lessons_command import run_lessons

            return run_lessons(args)
        return getattr(commands, f"run_{args.command}")(args)
    except UsageError as error:
        print(f"dendrite: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dendrite: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
