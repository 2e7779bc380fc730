"""Neuron bounds of a fixed network over an input box, by the method the user chose.

The one place that maps ``--bounds interval | symbolic | lp | milp`` to the
analysis that computes them; the encodings, the starts and the splitting all
ask here.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import InputError

if TYPE_CHECKING:  # the command line imports this module for its names: keep it light
    import numpy as np

    from ..problem.fixed_network import FixedNetwork

BOUNDS_METHODS = ("interval", "symbolic", "lp", "milp")
DEFAULT_BOUNDS = "symbolic"


def network_bounds(net: FixedNetwork, lo: np.ndarray, hi: np.ndarray, method: str = DEFAULT_BOUNDS,
                   time_budget: float = 10.0, l1_ball: tuple[np.ndarray, float] | None = None):
    """Bounds of every layer's output over the input box: ``interval`` and
    ``symbolic`` (back-substitution, intersected with the interval bounds; both
    milliseconds), ``lp`` or ``milp`` (tightened from the symbolic bounds with
    in-process HiGHS solves within ``time_budget`` seconds); see
    :mod:`nncc.analysis.interval_bounds`, :mod:`nncc.analysis.symbolic_bounds` and
    :mod:`nncc.analysis.lp_bounds`.  ``l1_ball = (x0, r)``: only the inputs within
    L1 distance ``r`` of ``x0``."""
    from .interval_bounds import interval_bounds
    if method == "interval":
        return interval_bounds(net, lo, hi, l1_ball)
    if method == "symbolic":
        from .symbolic_bounds import symbolic_bounds
        return symbolic_bounds(net, lo, hi, l1_ball)
    if method not in ("lp", "milp"):
        raise InputError(f"unknown bounds method {method!r}: " + ", ".join(BOUNDS_METHODS))
    from .lp_bounds import lp_bounds
    return lp_bounds(net, lo, hi, time_budget=time_budget, method=method, l1_ball=l1_ball)


def prove_disjunct(net, d, nb) -> str | None:
    """A sentence proving the VNN-LIB disjunct ``d`` unreachable with the neuron bounds
    ``nb`` (of its box), or None: its input rows cannot hold in its box, or one of its
    output rows is unreachable
    (:func:`~nncc.analysis.symbolic_bounds.class_rows_unreachable`)."""
    import numpy as np

    from .symbolic_bounds import class_rows_unreachable
    if len(d.b):
        Ap, An = np.maximum(d.A, 0), np.minimum(d.A, 0)
        best = Ap @ d.hi + An @ d.lo
        if np.any(best < d.b - 1e-12 * (1 + np.abs(d.b))):
            return "its input rows cannot hold in its box"
    if len(d.d):
        dead = class_rows_unreachable(net, nb, d.C, d.d)
        if dead.any():
            return f"output row {int(np.argmax(dead)) + 1} is unreachable ({nb.method} bounds)"
    return None


def bounds_note(bounds) -> str:
    """One line for reports: how many ReLUs the bounds leave unstable."""
    c = bounds.stable_counts()
    total = c["active"] + c["inactive"] + c["unstable"]
    return (f"{bounds.method} bounds: {c['unstable']} of {total} ReLUs unstable "
            f"({c['active']} always active, {c['inactive']} always inactive: no binary)")
