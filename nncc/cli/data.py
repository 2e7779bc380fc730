"""``nncc data``: write a dataset as CSV or NPZ for other tools.

The dataset is one a ``.nn`` file declares (``nncc data FILE.nn NAME``, with
``NAME.train`` / ``NAME.test`` for a split) or a generator call given on the
command line (``nncc data --generate "gaussian_clouds(dim 10, per_class 500,
distance 13.86, std 8, seed 0)"``), parsed by the same grammar as a data
statement, so its options (``split``, ``sample``, ``scale``) work too.
"""
from __future__ import annotations

import io
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import InputError

if TYPE_CHECKING:
    import numpy as np


def add_subcommands(sub) -> None:
    c = sub.add_parser("data", help="write a dataset (declared in a .nn file, or a generator "
                       "call) as CSV or NPZ")
    c.add_argument("file", nargs="?", help="a .nn file that declares the dataset")
    c.add_argument("name", nargs="?", help="the dataset (default: the only or first one; "
                   "NAME.train / NAME.test for a split)")
    c.add_argument("--generate", metavar="CALL", help="a generator call with data options, as "
                   "after 'data NAME =' in a .nn file, e.g. \"gaussian_clouds(dim 10, per_class "
                   "500, distance 13.86, std 8, seed 0)\"")
    c.add_argument("--part", choices=["train", "test"], help="the train or test part of a "
                   "dataset with 'split'")
    c.add_argument("-o", "--output", default="-", help="OUT.csv (features, then the label "
                   "last, with a header) or OUT.npz (arrays X and y); '-' or absent: CSV on "
                   "standard output")


def dataset_from_args(args):
    """The ``Dataset`` the command line names."""
    from ..frontend.semantics import load_document
    if args.generate is not None:
        if args.file is not None:
            raise InputError("give either a .nn file or --generate, not both")
        # the call goes on a line of its own, so that a message points into it as typed
        try:
            doc = load_document("--generate", "data generated =\n" + args.generate + "\n")
        except InputError as e:
            if e.pos is None or e.pos.line < 2:
                raise
            raise InputError(e.message, replace(e.pos, line=e.pos.line - 1)) from None
        return _part(doc.datasets, "generated", args.part, "--generate")
    if args.file is None:
        raise InputError("name a .nn file that declares the dataset, or use --generate CALL")
    doc = load_document(args.file, queries=False)   # the datasets only: none is read unused
    if not doc.datasets:
        raise InputError(f"{args.file} declares no dataset")
    name = args.name if args.name is not None else next(iter(doc.datasets))
    if name not in doc.datasets:
        raise InputError(f"{args.file} declares no dataset {name!r}; datasets: "
                         + ", ".join(doc.datasets))
    return _part(doc.datasets, name, args.part, args.file)


def _part(datasets: dict, name: str, part: str | None, where: str):
    """``datasets[name]``, or its ``train`` / ``test`` part of a ``split``."""
    if part is None:
        return datasets[name]
    key = f"{name}.{part}"
    if key not in datasets:
        raise InputError(f"{where}: dataset {name!r} has no {part} part (add 'split 80/20 "
                         "seed S' to it)")
    return datasets[key]


def csv_text(X: np.ndarray, y: np.ndarray) -> str:
    """Features with 17 significant digits (they read back exactly), label last."""
    out = io.StringIO()
    out.write(",".join([f"x{i + 1}" for i in range(X.shape[1])] + ["label"]) + "\n")
    for row, label in zip(X, y):
        out.write(",".join(f"{v:.17g}" for v in row) + f",{int(label)}\n")
    return out.getvalue()


def cmd_data(args) -> int:
    import numpy as np

    from ..atomic import atomic_output
    data = dataset_from_args(args)
    # labels as the user named them (classes [4, 9] writes 4 and 9), not 0..K-1
    y = np.asarray(data.classes)[data.y] if data.classes else data.y
    out = args.output
    if out.endswith(".npz"):
        with atomic_output(out) as f:
            np.savez(f, X=data.X, y=y)
    elif out == "-":
        sys.stdout.write(csv_text(data.X, y))
    else:
        with atomic_output(out) as f:
            f.write(csv_text(data.X, y).encode())
    if out != "-":
        print(f"wrote:     {out} ({data.n_samples} samples, {data.n_features} features, "
              f"{data.n_classes} classes; {data.source})", file=sys.stderr)
    return 0
