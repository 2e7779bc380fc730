"""What neuron bounds alone prove about an adversarial query, without a solver.

:func:`unreachable` turns bounds over the query's box into a proof that no
input reaches the class; :func:`bounds_proof` does it with the cheap bounds;
:func:`proven_radius` bisects the largest ball around ``x0`` that the bounds
clear, a lower bound on the distance of any answer.
"""
from __future__ import annotations

import numpy as np

from ..budget import Budget
from ..problem.query import AdversarialQuery, checked_query
from .bounds import network_bounds


def input_reach(x0: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """How far each input can move from ``x0`` inside the box."""
    return np.maximum(hi - x0, x0 - lo).clip(min=0)


def proven_radius(query: AdversarialQuery, upto: float | None = None,
                  budget: float | Budget = 0.5,
                  steps: int = 16) -> float:
    """The largest radius ``r`` (bisected in ``[0, upto]``, by default the farthest
    the box reaches, at most ``steps`` times or ``budget``, CPU seconds or a
    :class:`~nncc.budget.Budget`) for which
    back-substitution bounds over the inputs within distance ``r`` of ``x0``
    prove that none reaches the query's class: a lower
    bound on the distance, without a solver (0 when none is proven, and for L0).

    On the MNIST 784-64-64-10 minimal-L1 queries it is 42-69 % of the distance
    found, in about 0.3 s; highs' own lower bound after 60 s was 0 on four of
    them.  As a row of the MILP (``distance >= r``) it slowed highs down (its
    lower bound then stayed at ``r``), so it is reported, not encoded."""
    if query.norm not in ("l1", "linf"):
        return 0.0
    x0, label, lo, hi = checked_query(query)
    if upto is None:
        reach = input_reach(x0, lo, hi)
        upto = float(reach.sum() if query.norm == "l1" else reach.max(initial=0.0))
    if not upto > 0:
        return 0.0
    budget, best, top = Budget.of(budget), 0.0, float(upto)
    for _ in range(steps):
        if budget.expired():
            break
        r = 0.5 * (best + top)
        if query.norm == "l1":
            nb = network_bounds(query.network, lo, hi, "symbolic", l1_ball=(x0, r))
        else:
            nb = network_bounds(query.network, np.maximum(lo, x0 - r), np.minimum(hi, x0 + r),
                                "symbolic")
        if unreachable(query, nb, label):
            best = r
        else:
            top = r
    return best


def bounds_proof(query: AdversarialQuery, method: str) -> str | None:
    """``unreachable`` from bounds that take milliseconds (``method`` when it is interval
    or symbolic, else symbolic: LP / MILP bounds start from those), without building
    the program."""
    x0, label, lo, hi = checked_query(query)
    nb = network_bounds(query.network, lo, hi,
                        method if method in ("interval", "symbolic") else "symbolic")
    return unreachable(query, nb, label)


def unreachable(query: AdversarialQuery, nb, label: int) -> str | None:
    """A proof, from the neuron bounds ``nb`` alone, that no input of the box reaches
    the query's class (a sentence for the report), or None.

    Targeted: one row ``y_t - y_k >= margin`` (or ``y_t >= ratio y_k``) whose
    largest value over the inputs is below its right-hand side; any other
    class: every ``y_k - y_label >= margin`` so.  The largest values come from
    back-substitution (:func:`nncc.analysis.symbolic_bounds.class_rows_unreachable`).
    """
    from .adversarial_start import query_rows
    from .symbolic_bounds import class_rows_unreachable
    net = query.network
    K = net.n_outputs
    if query.target is not None:
        C, rhs = query_rows(query, K, label, query.target)
        dead = class_rows_unreachable(net, nb, C, rhs)
        if dead.any():
            k = int(np.flatnonzero(C[int(np.argmax(dead))] < 0)[0])
            return (f"no input of the box makes class {query.target} beat class {k} as asked: "
                    f"the bounds ({nb.method}) prove it")
        return None
    rows = [query_rows(query, K, label, k) for k in range(K) if k != label]
    if rows and all(class_rows_unreachable(net, nb, C, rhs).all() for C, rhs in rows):
        return (f"no input of the box makes any class beat class {label} by the margin: "
                f"the bounds ({nb.method}) prove it")
    return None
