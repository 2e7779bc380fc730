"""Verification of a network kept as its ONNX graph
(:class:`~nncc.problem.onnx_graph.GraphNetwork`): box splitting on interval bounds.

A box is safe for a disjunct when its input rows cannot hold in it, or when
some output row ``C_i y >= d_i`` (``>`` if strict) cannot hold for any ``y``
in the graph's interval bounds of the box: the row's largest value over the
bounds, plus its own rounding, falls short. Bounds are sound for every input
of the box (:meth:`~nncc.problem.onnx_graph.GraphNetwork.bounds`), so a safe
box has no counterexample; boxes are bisected by
:func:`~nncc.analysis.box_bisection.bisect_verify`.
"""
from __future__ import annotations

import numpy as np

from .box_bisection import bisect_verify, input_rows_unreachable
from .input_split import SplitResult

_EPS = float(np.finfo(np.float64).eps)


def rows_unreachable(C, d, strict, ylo, yhi) -> np.ndarray:
    """Per row ``C_i y >= d_i``: can it hold for no ``y`` with ``ylo <= y <= yhi``?"""
    with np.errstate(invalid="ignore", over="ignore"):
        terms = np.where(C > 0, C * yhi, np.where(C < 0, C * ylo, 0.0))
    best = terms.sum(axis=1)
    tol = (C.shape[1] + 2) * _EPS * (np.abs(terms).sum(axis=1) + np.abs(d))
    tol = np.where(np.isfinite(tol), tol, 0.0)
    return np.where(strict, best + tol <= d, best + tol < d)


def graph_box_safe(net, d, lo, hi) -> bool:
    """Can no input of ``[lo, hi]`` meet every row of disjunct ``d``?"""
    if input_rows_unreachable(d, lo, hi):
        return True
    if not len(d.d):
        return False
    y = net.bounds(lo, hi)
    return bool(rows_unreachable(d.C, d.d, d.c_strict, y.lo, y.hi).any())


def graph_split_verify(net, prop, *, check, time_limit: float, progress=None) -> SplitResult:
    """Every disjunct of ``prop`` bisected on the graph's interval bounds until its boxes
    are safe, a candidate passes ``check(x, k)``, or ``time_limit`` seconds pass."""
    return bisect_verify(net, prop, check=check, time_limit=time_limit, safe=graph_box_safe,
                         progress=progress, what="graph splitting")
