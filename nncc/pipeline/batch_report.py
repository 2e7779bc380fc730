"""``nncc plot RESULTS.csv ...``: what batches of verify runs answered, as a table and a
cactus plot.

A results file is what ``nncc batch`` writes (:data:`nncc.pipeline.batch.FIELDS`).
An instance is *answered* when its verdict is ``sat`` or ``unsat``; ``unknown``,
``timeout`` and ``error`` are not. The cactus plot follows the VNN-COMP
convention: per configuration (one results file, one line) the seconds of its
answered instances, sorted, against how many are answered within that time,
so that a line further right answers more and a lower line answers faster.
The summary gives, per file, the verdict counts, the median and total seconds
and which step decided (the ``how`` column; files written before it was
recorded have none).
"""
from __future__ import annotations

import csv
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import atomic_output
from ..errors import InputError

ANSWERED = ("sat", "unsat")
VERDICTS = ("sat", "unsat", "unknown", "timeout", "error")


@dataclass
class Results:
    """One results file: its label and rows."""

    path: str
    label: str
    rows: list[dict] = field(default_factory=list)

    def answered_seconds(self) -> list[float]:
        return sorted(float(r["seconds"]) for r in self.rows if r.get("verdict") in ANSWERED)

    def verdicts(self) -> Counter:
        return Counter(r.get("verdict", "") for r in self.rows)

    def deciders(self) -> Counter:
        return Counter(r["how"] for r in self.rows if r.get("how"))


def read_results(paths: list[str]) -> list[Results]:
    """The results files, each labelled by its name without ``.results.csv`` / ``.csv``
    (the parent folder's name added where two names are the same)."""
    out = []
    for p in paths:
        try:
            with open(p, newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                missing = {"verdict", "seconds"} - set(reader.fieldnames or [])
                if missing:
                    raise InputError(f"{p}:1:1: not an nncc batch results file (no "
                                     f"{', '.join(sorted(missing))} column)")
                rows = [r for r in reader if r.get("verdict")]
        except FileNotFoundError:
            raise InputError(f"cannot read results file '{p}': no such file") from None
        for i, r in enumerate(rows, 2):
            try:
                float(r["seconds"])
            except (TypeError, ValueError):
                raise InputError(f"{p}:{i}:1: seconds {r['seconds']!r} is not a number") from None
        name = Path(p).name
        for suffix in (".results.csv", ".csv"):
            if name.endswith(suffix):
                name = name[:-len(suffix)]
                break
        out.append(Results(p, name, rows))
    names = Counter(r.label for r in out)
    for r in out:
        if names[r.label] > 1:
            r.label = f"{Path(r.path).resolve().parent.name}/{r.label}"
    return out


def summary_lines(results: list[Results]) -> list[str]:
    """The table: per file, instances, each verdict's count, median and total seconds
    (of every instance), and the steps that decided."""
    head = (f"{'results':<24} {'instances':>9} " + " ".join(f"{v:>7}" for v in VERDICTS)
            + f" {'median s':>9} {'total s':>9}  decided by")
    lines = [head, "-" * len(head)]
    for r in results:
        secs = [float(x["seconds"]) for x in r.rows]
        c = r.verdicts()
        how = ", ".join(f"{k} {n}" for k, n in r.deciders().most_common()) or "-"
        lines.append(f"{r.label:<24} {len(r.rows):>9} " + " ".join(f"{c.get(v, 0):>7}"
                                                                    for v in VERDICTS)
                     + f" {statistics.median(secs) if secs else 0:>9.2f} {sum(secs):>9.1f}  {how}")
    return lines


def cactus_plot(results: list[Results], out: str, title: str | None = None) -> None:
    """The cactus plot as a PNG at ``out`` (written whole or not at all)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        raise InputError("nncc plot draws with matplotlib, which is not installed: "
                         "pip install 'nncc[plot]' (or pip install matplotlib)") from None
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    top = 0
    for r in results:
        secs = r.answered_seconds()
        top = max(top, len(secs))
        if secs:
            ax.step(range(1, len(secs) + 1), secs, where="post", marker=".",
                    label=f"{r.label} ({len(secs)} of {len(r.rows)})")
        else:
            ax.plot([], [], label=f"{r.label} (0 of {len(r.rows)})")
    ax.set_xlabel("instances answered (sat or unsat)")
    ax.set_ylabel("seconds per instance (sorted)")
    if any(s > 0 for r in results for s in r.answered_seconds()):
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlim(0, max(top, 1) + 1)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    ax.set_title(title or "nncc batch: cactus plot")
    fig.tight_layout()
    with atomic_output(out) as f:
        fig.savefig(f, format="png")
    plt.close(fig)
