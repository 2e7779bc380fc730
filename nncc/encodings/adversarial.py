"""The smallest change to an input that makes a trained network see another class.

Variables: the input ``x`` in its box (intersected with the L-infinity ball
of radius ``epsilon`` around ``x0`` when given), the network's layers over
it (:mod:`nncc.encodings.fixed_network`), and the distance:

* L1: ``t_i >= |x_i - x0_i|`` (two rows each), minimise ``sum t``;
* L-infinity: ``s >= |x_i - x0_i|``, minimise ``s``;
* L0: a binary ``b_i`` per input with ``|x_i - x0_i| <= (reach_i) b_i``,
  minimise ``sum b`` (``reach_i`` the farthest the box lets ``x_i`` move).

The class: for a target ``t``, ``y_t - y_k >= margin`` for every ``k != t``
(and ``y_t >= ratio * y_k`` when a ratio is asked, as in the paper); a
margin of 0 lets the solver stop at an exact tie, which is not a flip, so
the default is a small positive margin and the check uses the strict
argmax. For "any other class" than ``label``, one binary ``c_k`` per other
class picks the winner: ``y_k - y_label >= margin - M_k (1 - c_k)``,
``sum c_k >= 1``, with ``M_k`` from the output bounds.

With a start (a checked answer at distance ``D`` from
:mod:`nncc.analysis.adversarial_start`) the optimum lies within ``D`` of
``x0``: the program gets the cutoff ``distance <= D`` (for L-infinity, the
input box shrinks to the ball of radius ``D``), and the neuron bounds are
computed over those inputs only (for L1, the exact first-layer bounds over
the L1 ball, and the ball's rows in the LP tightening), which stabilises
ReLUs and shrinks big-M constants.  The solver then looks for anything
closer than the start.
"""
from __future__ import annotations

import numpy as np

from ..analysis.adversarial_bounds import input_reach, unreachable
from ..analysis.bounds import DEFAULT_BOUNDS, bounds_note, network_bounds
from ..errors import InputError
from ..ir.program import BOOL, GE, LE, REAL, LinearBlock, Objective, Program
from ..problem.query import AdversarialQuery, checked_query
from .encoded import Encoded
from .fixed_network import encode_fixed_network


def add_win_rows(prog: Program, name: str, y: np.ndarray, k: int, margin: float,
                 ratio: float | None) -> None:
    """Output ``k`` (variables ``y``) beats every other by ``margin`` (``{name}_wins``) and,
    with a ratio, is ``ratio`` times each (``{name}_ratio``)."""
    others = np.array([j for j in range(len(y)) if j != k])
    pairs = np.stack([np.full(len(others), y[k]), y[others]], 1)
    prog.add(LinearBlock.from_dense_rows(f"{name}_wins", pairs, [1.0, -1.0], GE, margin))
    if ratio is not None:
        prog.add(LinearBlock.from_dense_rows(
            f"{name}_ratio", pairs, np.stack([np.ones(len(others)), -np.full(len(others), ratio)], 1),
            GE, 0.0))


def start_cutoff(start) -> float:
    """The cutoff a start at distance ``D`` allows: ``D`` and a hair (it must stay feasible)."""
    return float(start.distance) * (1.0 + 1e-7) + 1e-9


def encode_adversarial(query: AdversarialQuery, bounds: str = DEFAULT_BOUNDS,
                       time_budget: float = 10.0, start=None) -> Encoded:
    """The program of an adversarial / minimal-correction query (with the cutoff
    of ``start``, a :class:`~nncc.analysis.adversarial_start.Start`, when given)."""
    net = query.network
    n, K = net.n_inputs, net.n_outputs
    x0, label, lo, hi = checked_query(query)
    target = query.target
    cut = start_cutoff(start) if start is not None else None
    ball = None
    if cut is not None and query.norm == "linf":
        lo, hi = np.maximum(lo, x0 - cut), np.minimum(hi, x0 + cut)
    elif cut is not None and query.norm == "l1":
        ball = (x0, cut)
    prog = Program(name=f"adversarial_{net.name}")
    x = prog.add_vars("input", (n,), REAL, lo, hi)
    nb = network_bounds(net, lo, hi, bounds, time_budget, l1_ball=ball)
    y = encode_fixed_network(prog, net, x, nb)
    ylo, yhi = nb.output()
    out_group = prog.groups[-1].name
    margin = float(query.margin)
    if target is not None:
        add_win_rows(prog, "target", y, target, margin, query.ratio)
    else:
        others = np.array([k for k in range(K) if k != label])
        c = prog.add_vars("winner", (len(others),), BOOL)
        # y_k - y_label + M_k c_k >= margin - ... : y_k - y_label - margin >= -M_k (1 - c_k)
        M = margin + yhi[label] - ylo[others]
        prog.add(LinearBlock.from_dense_rows(
            "other_wins", np.stack([y[others], np.full(len(others), y[label]), c], 1),
            np.stack([np.ones(len(others)), -np.ones(len(others)), -M], 1), GE, margin - M))
        prog.add(LinearBlock.from_dense_rows("some_winner", c[None, :], np.ones((1, len(others))),
                                             GE, 1.0))
    reach = input_reach(x0, lo, hi)
    if query.norm == "l1":
        t = prog.add_vars("distance", (n,), REAL, 0.0, reach)
        _abs_rows(prog, x, t, x0)
        prog.objective = Objective("min", t, np.ones(n))
        if cut is not None:
            prog.add(LinearBlock.from_dense_rows("cutoff", t[None, :], np.ones((1, n)), LE, cut))
    elif query.norm == "linf":
        s = prog.add_vars("distance", (), REAL, 0.0, float(reach.max()) if n else 0.0)
        _abs_rows(prog, x, np.full(n, int(s)), x0)
        prog.objective = Objective("min", np.array([int(s)]), np.ones(1))
    elif query.norm == "l0":
        b = prog.add_vars("changed", (n,), BOOL)
        up, down = np.maximum(hi - x0, 0), np.maximum(x0 - lo, 0)
        # x - x0 <= up * b ; x0 - x <= down * b
        prog.add(LinearBlock.from_dense_rows("changed_up", np.stack([x, b], 1),
                                             np.stack([np.ones(n), -up], 1), LE, x0))
        prog.add(LinearBlock.from_dense_rows("changed_down", np.stack([x, b], 1),
                                             np.stack([np.ones(n), down], 1), GE, x0))
        prog.objective = Objective("min", b, np.ones(n))
        if cut is not None:
            prog.add(LinearBlock.from_dense_rows("cutoff", b[None, :], np.ones((1, n)), LE,
                                                 float(np.floor(cut))))
    else:
        raise InputError(f"unknown norm {query.norm!r}: l1, linf or l0", query.pos)
    prog.answer_groups = ["input", out_group]
    goal = f"class {target}" if target is not None else f"any class but {label}"
    notes = [bounds_note(nb)]
    proof = unreachable(query, nb, label) if start is None else None
    if start is not None:
        notes.append(start.note(query.norm))
    return Encoded(prog, {"kind": "adversarial", "input": "input", "output": out_group,
                          "label": int(label), "target": target},
                   f"adversarial: {goal}, minimise the {query.norm} distance", notes, proof)


def _abs_rows(prog: Program, x: np.ndarray, t: np.ndarray, x0: np.ndarray) -> None:
    """``t >= x - x0`` and ``t >= x0 - x`` (t may repeat one variable, for L-infinity)."""
    n = len(x)
    prog.add(LinearBlock.from_dense_rows("distance_up", np.stack([t, x], 1),
                                         np.stack([np.ones(n), -np.ones(n)], 1), GE, -x0))
    prog.add(LinearBlock.from_dense_rows("distance_down", np.stack([t, x], 1),
                                         np.stack([np.ones(n), np.ones(n)], 1), GE, x0))
