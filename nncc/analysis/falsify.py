"""Falsifying a VNN-LIB property without a solver, and checking a solver's point.

:func:`falsify` samples each disjunct's box, then descends greedily on the
worst output row from the best sample and solves an LP over the activation
region of the point it reaches (the pieces of
:mod:`nncc.analysis.adversarial_start`); :func:`checked_point` turns a
solver's point into a checked counterexample (clipped into a disjunct's box,
else the same region LP). A point counts only after
:func:`~nncc.checks.counterexample.check_counterexample`.
"""
from __future__ import annotations

import numpy as np

from ..budget import Budget
from ..checks.counterexample import CexCheck, check_counterexample
from ..problem.property import Property


def falsify(net, prop: Property, budget: float | Budget = 1.0, samples: int = 256,
            seed: int = 0, skip: set | None = None) -> CexCheck | None:
    """A checked counterexample found without a solver, or None (at most about ``budget``,
    CPU seconds or a :class:`~nncc.budget.Budget`; ``seed`` the sampling's random seed)."""
    from .adversarial_start import greedy_linf, highspy
    rng = np.random.default_rng(seed)
    budget = Budget.of(budget)
    ks = [k for k in range(len(prop.disjuncts)) if not skip or k not in skip]
    # sampling first on every disjunct: its best point steers the descent
    best = []
    for k in ks:
        d = prop.disjuncts[k]
        S = np.vstack([(d.lo + d.hi) / 2, d.lo + rng.random((samples, len(d.lo))) * (d.hi - d.lo)])
        if len(d.b):
            S = S[np.all(S @ d.A.T >= d.b, axis=1)]
            if not len(S):
                continue
        Y = net.forward(S)
        slack = (Y @ d.C.T - d.d).min(axis=1) if len(d.d) else np.ones(len(S))
        order = np.argsort(-slack)
        for i in order[:4]:
            if slack[i] > 0:
                chk = check_counterexample(net, prop, S[i], prefer=k)
                if chk.ok:
                    return chk
        best.append((float(slack[order[0]]), k, S[order[0]]))
        if budget.expired():
            return None
    best.sort(key=lambda s: -s[0])
    for _, k, x0 in best:
        d = prop.disjuncts[k]
        if not len(d.d) or budget.expired():
            continue
        goal = 1e-6 * (1.0 + float(np.abs(d.d).max()))
        x, _ = greedy_linf(net, x0, d.lo, d.hi, d.C, d.d, goal, budget)
        if x is not None:
            chk = check_counterexample(net, prop, x, prefer=k)
            if chk.ok:
                return chk
        if highspy is not None and not len(d.b) and isinstance(x0, np.ndarray):
            chk = region_counterexample(net, prop, k, x if x is not None else x0)
            if chk is not None:
                return chk
    return None


def region_counterexample(net, prop: Property, k: int, x: np.ndarray) -> CexCheck | None:
    """An LP in the activation region of ``x``: the point of disjunct ``k``'s box closest
    to ``x`` (L-infinity) whose outputs clear every row by a relative 1e-6; checked."""
    from .adversarial_start import highspy, region_lp, relu_pattern
    d = prop.disjuncts[k]
    if highspy is None or len(d.b) or not len(d.d):
        return None
    x = np.clip(np.asarray(x, float), d.lo, d.hi)
    try:
        xp = region_lp(net, x, d.lo, d.hi, d.C, d.d, "linf", relu_pattern(net, x))
    except Exception:  # the LP is a shortcut only
        return None
    if xp is None:
        return None
    chk = check_counterexample(net, prop, xp, prefer=k)
    return chk if chk.ok else None


def checked_point(net, prop: Property, ks: list[int], x: np.ndarray) -> CexCheck | None:
    """The solver's point, clipped into a disjunct's box, checked; else moved by an
    LP in its activation region (:func:`region_counterexample`) and checked again."""
    for k in ks:
        d = prop.disjuncts[k]
        xc = np.clip(x, d.lo, d.hi)
        if np.abs(xc - x).max(initial=0.0) > 1e-6 * (1 + np.abs(x).max(initial=0.0)):
            continue  # not this disjunct's box
        chk = check_counterexample(net, prop, xc, prefer=k)
        if chk.ok:
            return chk
        chk = region_counterexample(net, prop, k, xc)
        if chk is not None:
            return chk
    return None
