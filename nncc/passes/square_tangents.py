"""The objective's squares (an L2 regulariser) as tangent lines: a MILP / LP objective.

``c * w**2`` with ``w`` in ``[lo, hi]`` becomes ``c * t`` with a new ``t >= 0`` and
one row per tangent of ``w**2`` at ``K + 1`` equally spaced points
``p_k = lo + k Delta`` (``Delta = (hi - lo) / K``)::

    t >= 2 p_k w - p_k**2        (k = 0 .. K)

Minimisation presses ``t`` down onto the largest tangent, a piecewise-linear
outer (lower) approximation of ``w**2``. Two neighbouring tangents meet halfway
between their points, where the parabola lies ``(Delta / 2)**2`` above them; that
is the largest gap anywhere in the box. So for every point, and for the
optimum:

    true objective - sum_i c_i (Delta_i / 2)**2  <=  approximated objective  <=  true objective

The approximated optimum is a lower bound on the true one, and the true
objective of the approximated answer is within ``bound = sum_i c_i (Delta_i/2)**2``
of the true optimum. The bound is kept in the inverse data so that the check
can hold the solver's objective to it.

Used where a quadratic objective cannot go: MILPs (highs refuses MIQPs, cbc
drops ``QUADOBJ``), and wherever the query asks for it with ``segments K``.
"""
from __future__ import annotations

import numpy as np

from ..errors import TargetError
from ..ir.program import GE, REAL, LinearBlock, Objective, Program
from .reduction import Reduction

#: Tangent segments per squared weight when the query does not say ``segments K``:
#: 16 segments over a box [-1, 1] under-estimate ``w**2`` by at most 1/256 per weight,
#: for 17 rows per weight.
DEFAULT_SEGMENTS = 16


def tangent_error(lo, hi, segments) -> np.ndarray:
    """The largest gap ``(Delta / 2)**2`` between ``w**2`` and its tangents, per square."""
    delta = (np.asarray(hi, float) - np.asarray(lo, float)) / np.asarray(segments, float)
    return (delta / 2.0) ** 2


class SquareTangents(Reduction):
    """Replace the objective's squares by tangent lines (module docstring).

    ``segments`` holds the number of segments per entry of the objective's
    ``sq_idx`` (0: :data:`DEFAULT_SEGMENTS`), or is a single number for all.
    """

    name = "square_tangents"

    def __init__(self, segments=0):
        self.segments = segments

    def applies(self, program: Program) -> bool:
        return program.objective is not None and program.objective.quadratic

    def rewrite(self, program: Program) -> dict:
        o = program.objective
        w = np.asarray(o.sq_idx, np.int64)
        c = np.asarray(o.sq_coef, float)
        K = np.broadcast_to(np.asarray(self.segments, np.int64), w.shape).copy()
        K[K <= 0] = DEFAULT_SEGMENTS
        lo, hi = program.lb[w], program.ub[w]
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
            raise TargetError("an L2 regulariser on a weight without a finite box cannot be "
                              "approximated by tangents: give the weights a box ('weights in [a, b]')")
        if o.sense != "min" or np.any(c < 0):
            raise TargetError("tangent lines under-estimate a square: they fit a minimised sum of "
                              "squares with coefficients >= 0 only")
        t = program.add_vars("l2.tangent", (len(w),), REAL, 0.0, np.maximum(lo ** 2, hi ** 2))
        rows = []
        for k_count in np.unique(K):
            sel = np.flatnonzero(K == k_count)
            frac = np.arange(k_count + 1) / k_count
            p = lo[sel, None] + (hi[sel] - lo[sel])[:, None] * frac[None, :]  # (n, K+1)
            # t - 2 p w >= -p**2
            cols = np.stack([np.repeat(t[sel], k_count + 1), np.repeat(w[sel], k_count + 1)], 1)
            coefs = np.stack([np.ones(p.size), -2.0 * p.reshape(-1)], 1)
            rows.append(LinearBlock.from_dense_rows(f"l2.tangents_{k_count}", cols, coefs, GE,
                                                    -(p.reshape(-1) ** 2), drop_zeros=True))
        program.add(LinearBlock.concat("l2.tangents", rows))
        program.objective = Objective(o.sense, np.concatenate([np.asarray(o.idx, np.int64), t]),
                                      np.concatenate([np.asarray(o.coef, float), c]), o.constant)
        bound = float(np.sum(c * tangent_error(lo, hi, K)))
        return {"squares": int(len(w)), "segments": sorted(set(K.tolist())),
                "max_error": bound}
