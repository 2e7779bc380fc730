"""Validate the questions asked of a trained network and build their query objects.

``evaluate NET at POINTS``, ``maximize|minimize NET.OUT[k] { input in [lo, hi] }``
and ``adversarial NET near POINT { ... }`` become ``EvaluateQuery``,
``MaximizeQuery`` and ``AdversarialQuery``. Names are resolved by
:mod:`~nncc.frontend.semantics`; this module validates numbers, shapes and
clauses, each error at the index, number or clause at fault.

Input boxes: ``input in [lo, hi]`` (scalars, broadcast to every input) is
intersected with the network's own box (``FixedNetwork.input_box``: NNet's
clip box, or ``input x[n] in [lo, hi]`` of a ``.nn`` network); without the
clause the network's box is used. An adversarial query with ``epsilon`` and
no box at all searches the ball ``x0 +- epsilon``. Otherwise a box is
required: the encodings need finite bounds.

The true class of ``adversarial NET near DATA[i]`` is the row's label as
written in the data file (``dataset.classes[y[i]]``, i.e. before ``classes``
renumbered them), read as an output index of the network: for MNIST-like
data, digit d is output d. ``label K`` overrides it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InputError, SourcePos
from ..problem.dataset import Dataset
from ..problem.fixed_network import FixedNetwork
from ..problem.query import AdversarialQuery, EvaluateQuery, MaximizeQuery
from . import ast

NORMS = ("l1", "linf", "l0")
DEFAULT_NORM = "l1"


def _where(pos: SourcePos | None) -> str:
    return f"line {pos.line}" if pos else "elsewhere"


def _int(num: ast.Num, what: str) -> int:
    if not num.is_integer or num.value < 0:
        raise InputError(f"{what} must be a non-negative integer, got {num.text}", num.pos)
    return int(num.value)


def _positive(num: ast.Num, what: str) -> float:
    if not (num.value > 0 and math.isfinite(num.value)):
        raise InputError(f"{what} must be a finite number > 0, got {num.text}", num.pos)
    return float(num.value)


# ------------------------------------------------------------------ inputs

@dataclass
class Points:
    """Rows selected by ``POINTS``: inputs, their original labels (data only), how written."""

    X: np.ndarray  # (N, n_inputs) float64
    labels: list[int] | None
    text: str
    label_pos: SourcePos | None = None  # where the row index was written


def select_points(points: ast.Points, data: Dataset | None, net: FixedNetwork) -> Points:
    """The inputs ``points`` names, checked against the network's input size."""
    if isinstance(points, ast.InlinePoints):
        return _inline_points(points, net)
    n = data.n_samples
    if data.n_features != net.n_inputs:
        raise InputError(f"data {data.name} has {data.n_features} features but network "
                         f"{net.name} takes {net.n_inputs} inputs", points.data.pos)
    if points.first is None:
        first, last, text = 0, n - 1, data.name
    else:
        first = _row_index(points.first, data)
        last = first if points.last is None else _row_index(points.last, data)
        if last < first:
            raise InputError(f"empty range {points.first.text}..{points.last.text}: "
                             "the last row comes before the first", points.last.pos)
        text = (f"{data.name}[{first}]" if points.last is None
                else f"{data.name}[{first}..{last}]")
    labels = [int(data.classes[k]) if data.classes else int(k)
              for k in data.y[first:last + 1]]
    pos = points.first.pos if points.first is not None else points.pos
    return Points(np.array(data.X[first:last + 1], dtype=np.float64), labels, text, pos)


def _row_index(num: ast.Num, data: Dataset) -> int:
    index = _int(num, "a row index")
    if index >= data.n_samples:
        raise InputError(f"row {index} is out of range: data {data.name} has "
                         f"{data.n_samples} rows (0..{data.n_samples - 1})", num.pos)
    return index


def _inline_points(points: ast.InlinePoints, net: FixedNetwork) -> Points:
    if not points.rows:
        raise InputError("no inputs given", points.pos)
    for i, row in enumerate(points.rows):
        where = "the input" if points.single else f"input {i + 1}"
        if len(row) != net.n_inputs:
            values = "1 value" if len(row) == 1 else f"{len(row)} values"
            raise InputError(f"{where} has {values} but network {net.name} takes "
                             f"{net.n_inputs} inputs", row[0].pos if row else points.pos)
        for v in row:
            if not math.isfinite(v.value):
                raise InputError(f"input values must be finite, got {v.text}", v.pos)
    X = np.array([[v.value for v in row] for row in points.rows], dtype=np.float64)
    n_values = sum(len(row) for row in points.rows)
    if n_values <= 8:
        rows = ["[" + ", ".join(v.text for v in row) + "]" for row in points.rows]
        text = rows[0] if points.single else "[" + ", ".join(rows) + "]"
    else:
        text = ("an inline input" if len(points.rows) == 1
                else f"{len(points.rows)} inline inputs")
    return Points(X, None, text)


def input_box(clause: ast.QueryClause | None, net: FixedNetwork, what: str, pos: SourcePos,
              ball: tuple[np.ndarray, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)`` arrays of the query's input box (see the module docstring)."""
    n = net.n_inputs
    own = None
    if net.input_box is not None:
        own = tuple(np.broadcast_to(np.asarray(b, dtype=np.float64), (n,)).copy()
                    for b in net.input_box)
    if clause is None:
        if own is not None:
            return own
        if ball is not None:
            x0, epsilon = ball
            return x0 - epsilon, x0 + epsilon
        raise InputError(f"{what} needs an input box: network {net.name} declares none; "
                         "add '{ input in [lo, hi] }'", pos)
    interval = clause.value
    for bound in (interval.lo, interval.hi):
        if not math.isfinite(bound.value):
            raise InputError(f"input box bounds must be finite, got {bound.text}", bound.pos)
    if interval.lo.value > interval.hi.value:
        raise InputError(f"input box [{interval.lo.text}, {interval.hi.text}] is empty: "
                         "lower bound above upper bound", interval.pos)
    lo, hi = np.full(n, interval.lo.value), np.full(n, interval.hi.value)
    if own is not None:
        lo, hi = np.maximum(lo, own[0]), np.minimum(hi, own[1])
        bad = np.flatnonzero(lo > hi)
        if bad.size:
            k = int(bad[0])
            raise InputError(f"input box [{interval.lo.text}, {interval.hi.text}] does not meet "
                             f"the box of network {net.name} at input {k} "
                             f"([{own[0][k]:g}, {own[1][k]:g}])", interval.pos)
    return lo, hi


def _single_clauses(clauses: list[ast.QueryClause]) -> dict[str, ast.QueryClause]:
    seen: dict[str, ast.QueryClause] = {}
    for clause in clauses:
        if clause.key in seen:
            raise InputError(f"'{clause.key}' given twice (first at "
                             f"{_where(seen[clause.key].pos)})", clause.pos)
        seen[clause.key] = clause
    return seen


def _output_index(num: ast.Num, net: FixedNetwork, what: str) -> int:
    k = _int(num, what)
    if k >= net.n_outputs:
        raise InputError(f"{what} {k} is out of range: network {net.name} has "
                         f"{net.n_outputs} outputs (0..{net.n_outputs - 1})", num.pos)
    return k


# ------------------------------------------------------------------ queries

def evaluate_query(decl: ast.EvaluateDecl, net: FixedNetwork, points: Points,
                   name: str | None) -> EvaluateQuery:
    """``evaluate NET at POINTS``: the network's outputs at every selected row."""
    name = name or f"evaluate {decl.network.name} at {points.text}"
    return EvaluateQuery(name=name, network=net, inputs=points.X, pos=decl.pos)


def maximize_query(decl: ast.MaximizeDecl, net: FixedNetwork, hidden: dict[str, str],
                   name: str | None) -> MaximizeQuery:
    """``maximize|minimize NET.OUT[k] { input in [lo, hi]  wins  margin M  ratio R }``
    (``wins``: class k must also be the network's answer, by the margin / ratio).

    ``hidden`` maps the names that are not the output (the input and hidden
    layers of a ``.nn`` network) to what they are, to refuse ``net.h[3]``.
    """
    sense = "minimize" if decl.minimize else "maximize"
    if decl.output_name is not None and decl.output_name.name in hidden:
        raise InputError(f"'{decl.output_name.name}' is {hidden[decl.output_name.name]} of "
                         f"network {net.name}: only its output ({net.output_name}) can be "
                         f"{sense}d", decl.output_name.pos)
    k = _output_index(decl.index, net, "output")
    clauses = _single_clauses(decl.clauses)
    lo, hi = input_box(clauses.get("input"), net, f"'{sense}'", decl.pos)
    if name is None:
        out = f".{decl.output_name.name}" if decl.output_name is not None else ""
        name = f"{sense} {decl.network.name}{out}[{k}]"
    query = MaximizeQuery(name=name, network=net, output=k, input_lo=lo, input_hi=hi,
                          minimize=decl.minimize, pos=decl.pos, wins="wins" in clauses)
    for key in ("margin", "ratio"):
        if key in clauses and "wins" not in clauses:
            raise InputError(f"'{key}' says by how much the class must win: it needs 'wins'",
                             clauses[key].pos)
    if "margin" in clauses:
        query.margin = _margin(clauses["margin"].value)
    if "ratio" in clauses:
        query.ratio = _positive(clauses["ratio"].value, "ratio")
    return query


def adversarial_query(decl: ast.AdversarialDecl, net: FixedNetwork, points: Points,
                      name: str | None) -> AdversarialQuery:
    """``adversarial NET near POINT { target K | any, margin, ratio, minimize NORM,
    input in [lo, hi], epsilon E, label K }``."""
    if len(points.X) != 1:
        raise InputError(f"adversarial needs one input, not {len(points.X)}: pick one row "
                         f"(e.g. {decl.point.data.name}[0])"
                         if isinstance(decl.point, ast.DataPoints)
                         else f"adversarial needs one input, not {len(points.X)}", decl.point.pos)
    x0 = points.X[0].copy()
    clauses = _single_clauses(decl.clauses)
    if "target" in clauses and "any" in clauses:
        raise InputError("'any' and 'target' exclude each other (first at "
                         f"{_where(clauses['target'].pos)})", clauses["any"].pos)
    target = (_output_index(clauses["target"].value, net, "target class")
              if "target" in clauses else None)
    if "label" in clauses:
        label = _output_index(clauses["label"].value, net, "label")
    elif points.labels is not None:
        label = points.labels[0]
        if not 0 <= label < net.n_outputs:
            raise InputError(f"{points.text} has label {label}, which is not an output of "
                             f"network {net.name} ({net.n_outputs} outputs); give the true "
                             "class with 'label K'", points.label_pos)
    else:
        label = None
    query = AdversarialQuery(name="", network=net, x0=x0, input_lo=None, input_hi=None,
                             target=target, label=label, pos=decl.pos)
    if "margin" in clauses:
        query.margin = _margin(clauses["margin"].value)
    if "ratio" in clauses:
        if target is None:
            raise InputError("'ratio' needs a target class ('target K'): the winning class "
                             "is compared with the others by a ratio", clauses["ratio"].pos)
        query.ratio = _positive(clauses["ratio"].value, "ratio")
    if "epsilon" in clauses:
        query.epsilon = _positive(clauses["epsilon"].value, "epsilon")
    if "minimize" in clauses:
        query.norm = clauses["minimize"].value
    ball = (x0, query.epsilon) if query.epsilon is not None else None
    query.input_lo, query.input_hi = input_box(clauses.get("input"), net, "'adversarial'",
                                               decl.pos, ball)
    _check_inside(x0, query.input_lo, query.input_hi, points, decl)
    query.name = name or f"adversarial {decl.network.name} near {points.text}"
    return query


def _margin(margin: ast.Num) -> float:
    if not (margin.value >= 0 and math.isfinite(margin.value)):
        raise InputError(f"margin must be a finite number >= 0, got {margin.text}", margin.pos)
    return float(margin.value)


def _check_inside(x0: np.ndarray, lo: np.ndarray, hi: np.ndarray, points: Points,
                  decl: ast.AdversarialDecl) -> None:
    """``x0`` must lie in the box (a point far outside usually means a missing ``scale``)."""
    tol = 1e-9 * np.maximum(1.0, np.abs(x0))
    bad = np.flatnonzero((x0 < lo - tol) | (x0 > hi + tol))
    if not bad.size:
        return
    k = int(bad[0])
    message = (f"{points.text} lies outside the input box: input {k} is {x0[k]:g}, "
               f"the box is [{lo[k]:g}, {hi[k]:g}]")
    if float(np.max(x0)) > 1.5 and float(np.max(hi)) <= 1.0:
        message += " (does the data need 'scale 1/255'?)"
    raise InputError(message, decl.point.pos)
