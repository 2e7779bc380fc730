"""The smallest change to an input that makes a trained network see another class.

Variables: the input ``x`` in its box (intersected with the L-infinity ball
of radius ``epsilon`` around ``x0`` when given), the network's layers over
it (:mod:`nncc.encodings.fixed_network`), and the distance:

* L1: ``t_i >= |x_i - x0_i|`` (two rows each), minimise ``sum t``;
* L-infinity: ``s >= |x_i - x0_i|``, minimise ``s``;
* L0: a binary ``b_i`` per input with ``|x_i - x0_i| <= (reach_i) b_i``,
  minimise ``sum b`` (``reach_i`` the farthest the box lets ``x_i`` move).

The class: for a target ``t``, ``y_t - y_k >= margin`` for every ``k != t``
(and ``y_t >= ratio * y_k`` when a ratio is asked, as in the seed); a
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

import time

import numpy as np

from ..errors import InputError
from ..ir.program import BOOL, GE, LE, REAL, LinearBlock, Objective, Program
from ..problem.query import AdversarialQuery
from .fixed_network import DEFAULT_BOUNDS, bounds_note, encode_fixed_network, network_bounds
from .train_relu import Encoded


def adversarial_box(query: AdversarialQuery) -> tuple[np.ndarray, np.ndarray]:
    """The input box of the query: its box, within the epsilon ball if given."""
    n = query.network.n_inputs
    x0 = np.asarray(query.x0, float).reshape(-1)
    lo = np.broadcast_to(np.asarray(query.input_lo, float), (n,)).copy()
    hi = np.broadcast_to(np.asarray(query.input_hi, float), (n,)).copy()
    if query.epsilon is not None:
        lo, hi = np.maximum(lo, x0 - query.epsilon), np.minimum(hi, x0 + query.epsilon)
    return lo, hi


def query_label(query: AdversarialQuery) -> int:
    """The class the query moves away from: its label, or the network's class of ``x0``."""
    if query.label is not None:
        return int(query.label)
    x0 = np.asarray(query.x0, float).reshape(1, -1)
    return int(np.argmax(query.network.forward(x0)[0]))


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


def checked_query(query: AdversarialQuery) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """``(x0, label, lo, hi)`` of a query the encoding can take, else an ``InputError``."""
    net = query.network
    n, K = net.n_inputs, net.n_outputs
    x0 = np.asarray(query.x0, float).reshape(-1)
    if len(x0) != n:
        raise InputError(f"the input has {len(x0)} values; network '{net.name}' takes {n}", query.pos)
    label = query_label(query)
    for what, k in (("target", query.target), ("label", label)):
        if k is not None and not 0 <= k < K:
            raise InputError(f"{what} {k} is not an output of '{net.name}' (it has {K})", query.pos)
    if query.target is None and query.ratio is not None:
        raise InputError("a ratio needs a target class", query.pos)
    lo, hi = adversarial_box(query)
    if np.any(lo > hi):
        raise InputError("the input box and the epsilon ball do not meet", query.pos)
    return x0, label, lo, hi


def bounds_proof(query: AdversarialQuery, method: str) -> str | None:
    """``unreachable`` from bounds that take milliseconds (``method`` when it is interval
    or symbolic, else symbolic: LP / MILP bounds start from those), without building
    the program."""
    x0, label, lo, hi = checked_query(query)
    nb = network_bounds(query.network, lo, hi,
                        method if method in ("interval", "symbolic") else "symbolic")
    return unreachable(query, nb, label)


def polish_start(query: AdversarialQuery, start, seconds: float = 1.0):
    """``start`` moved closer to ``x0`` by LPs over activation regions
    (:func:`~nncc.analysis.adversarial_start.polish`, at most ``seconds``), if the
    result still checks and is closer; else ``start`` itself."""
    from dataclasses import replace

    from ..analysis.adversarial_start import polish, query_rows
    from ..checks.check_network import check_network_answer
    net = query.network
    x0, label, lo, hi = checked_query(query)
    C, rhs = query_rows(query, net.n_outputs, label, start.winner)
    t0 = time.perf_counter()
    x, _, lps = polish(net, x0, lo, hi, C, rhs, query.norm, start.x, t0 + seconds)
    chk = check_network_answer(query, {"input": x, "output": net.forward(x[None])[0]})
    if not chk.ok or chk.value >= start.distance:
        return start
    return replace(start, x=x, distance=chk.value, lp_solves=start.lp_solves + lps,
                   seconds=start.seconds + time.perf_counter() - t0)


def _split_setup(query: AdversarialQuery):
    """``(x0, label, lo, hi, winners, check)`` for ReLU splitting on a query: the
    classes to steer to (the target, or every other class, strongest rival
    first) and the forward-pass check of a candidate input."""
    from ..checks.check_network import check_network_answer
    net = query.network
    x0, label, lo, hi = checked_query(query)
    winners = ([int(query.target)] if query.target is not None else
               [int(k) for k in np.argsort(-net.forward(x0[None])[0]) if k != label])

    def check(x):
        return check_network_answer(query, {"input": x, "output": net.forward(x[None])[0]}).ok
    return x0, label, lo, hi, winners, check


def split_search(query: AdversarialQuery, budget: float, progress=None,
                 polished: bool = True):
    """ReLU splitting (:mod:`nncc.analysis.relu_split`) over the query's box, for at
    most ``budget`` seconds: ``(proof, start, note)``.

    ``proof`` (a sentence) when no input of the box reaches the class (for "any
    class but the label", every other class is ruled out in turn); ``start`` (a
    checked :class:`~nncc.analysis.adversarial_start.Start`, polished like the
    greedy one unless ``polished`` is False) when the search met an answer;
    ``note`` says what was done.
    ``(None, None, None)`` for networks the splitting does not take."""
    from ..analysis.adversarial_start import Start, query_rows
    from ..analysis.relu_split import relu_split_verify, supported
    from ..checks.check_network import check_network_answer
    net = query.network
    if not supported(net) or budget <= 0:
        return None, None, None
    x0, label, lo, hi, winners, check = _split_setup(query)
    K = net.n_outputs
    t0 = time.perf_counter()
    nodes = 0
    for w in winners:
        C, rhs = query_rows(query, K, label, w)
        left = budget - (time.perf_counter() - t0)
        res = relu_split_verify(net, C, rhs, lo, hi, check=check, time_limit=max(left, 0.0),
                                progress=progress) if left > 0 else None
        if res is not None:
            nodes += res.boxes
        spent = time.perf_counter() - t0
        if res is None or res.status == "unknown":
            why = res.reason if res is not None else "time limit"
            return None, None, (f"ReLU splitting: no verdict ({why}; {nodes:,} nodes, "
                                f"{spent:.2f} s)")
        if res.status == "sat":
            chk = check_network_answer(query, {"input": res.x,
                                               "output": net.forward(res.x[None])[0]})
            start = Start(res.x, chk.value, w, time.perf_counter() - t0, 0, 0,
                          found_by=f"ReLU splitting, {nodes:,} nodes")
            if polished:
                start = polish_start(query, start)
            return None, start, f"ReLU splitting met an answer ({nodes:,} nodes, {spent:.2f} s)"
    spent = time.perf_counter() - t0
    goal = f"class {query.target}" if query.target is not None else f"any class but {label}"
    proof = (f"no input of the box reaches {goal}: ReLU splitting proves it ({nodes:,} nodes "
             f"with back-substitution bounds, {spent:.2f} s)")
    return proof, None, proof


def split_optimality(query: AdversarialQuery, start, budget: float, rel_gap: float = 1e-4,
                     progress=None):
    """Prove a start (nearly) closest by ReLU splitting, for at most ``budget`` seconds:
    ``(start, proven, note)``.

    Every input within ``D (1 - rel_gap)`` of ``x0`` (``D`` the start's L1 or
    L-infinity distance; ``rel_gap`` as a MILP solver's relative gap) is
    searched for one that reaches the class; none means the start is optimal
    to within that gap.  One met on the way is checked, polished and becomes
    the start, and the search goes on from its distance.  ``proven`` is False
    (and the start the best met) when the budget ran out; the note says what
    was done.  L0 and networks the splitting does not take: ``(start, False, None)``."""
    from ..analysis.adversarial_start import Start, query_rows
    from ..analysis.relu_split import relu_split_verify, supported
    from ..checks.check_network import check_network_answer
    net = query.network
    if query.norm not in ("l1", "linf") or not supported(net) or budget <= 0:
        return start, False, None
    x0, label, lo, hi, winners, check = _split_setup(query)
    K = net.n_outputs
    t0 = time.perf_counter()
    nodes, better = 0, 0
    while True:
        r = float(start.distance) * (1.0 - rel_gap)
        ball, blo, bhi = None, lo, hi
        if query.norm == "l1":
            ball = (x0, r)
        else:
            blo, bhi = np.maximum(lo, x0 - r), np.minimum(hi, x0 + r)
        found = None
        for w in winners:
            left = budget - (time.perf_counter() - t0)
            if left <= 0:
                found = "time"
                break
            C, rhs = query_rows(query, K, label, w)
            res = relu_split_verify(net, C, rhs, blo, bhi, check=check, time_limit=left,
                                    progress=progress, l1_ball=ball)
            nodes += res.boxes
            if res.status == "unknown":
                found = "time" if res.reason == "time limit" else res.reason
                break
            if res.status == "sat":
                found = (res.x, w)
                break
        spent = time.perf_counter() - t0
        if found is None:
            return start, True, (f"ReLU splitting proves that no input within {query.norm} "
                                 f"distance {r:.6g} of x0 reaches the class (relative gap "
                                 f"{rel_gap:g}; {nodes:,} nodes, {spent:.2f} s, {better} closer "
                                 "answers met)")
        if isinstance(found, str):
            return start, False, (f"ReLU splitting did not prove the answer optimal ({found}; "
                                  f"{nodes:,} nodes, {spent:.2f} s)")
        x, w = found
        chk = check_network_answer(query, {"input": x, "output": net.forward(x[None])[0]})
        if not chk.ok or chk.value >= start.distance:   # a tolerance artefact: no progress
            return start, False, (f"ReLU splitting met a point that is not closer ({nodes:,} "
                                  f"nodes, {spent:.2f} s)")
        better += 1
        start = polish_start(query, Start(
            x, chk.value, w, start.seconds, start.lp_solves, start.descent_steps,
            found_by=(start.found_by or "greedy descent") + ", then ReLU splitting"), 0.5)


def _reach(x0: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """How far each input can move from ``x0`` inside the box."""
    return np.maximum(hi - x0, x0 - lo).clip(min=0)


def proven_radius(query: AdversarialQuery, upto: float | None = None, budget: float = 0.5,
                  steps: int = 16) -> float:
    """The largest radius ``r`` (bisected in ``[0, upto]``, by default the farthest
    the box reaches, at most ``steps`` times or ``budget`` seconds) for which
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
        reach = _reach(x0, lo, hi)
        upto = float(reach.sum() if query.norm == "l1" else reach.max(initial=0.0))
    if not upto > 0:
        return 0.0
    t0, best, top = time.perf_counter(), 0.0, float(upto)
    for _ in range(steps):
        if time.perf_counter() - t0 > budget:
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


def start_cutoff(start) -> float:
    """The cutoff a start at distance ``D`` allows: ``D`` and a hair (it must stay feasible)."""
    return float(start.distance) * (1.0 + 1e-7) + 1e-9


def unreachable(query: AdversarialQuery, nb, label: int) -> str | None:
    """A proof, from the neuron bounds ``nb`` alone, that no input of the box reaches
    the query's class (a sentence for the report), or None.

    Targeted: one row ``y_t - y_k >= margin`` (or ``y_t >= ratio y_k``) whose
    largest value over the inputs is below its right-hand side; any other
    class: every ``y_k - y_label >= margin`` so.  The largest values come from
    back-substitution (:func:`nncc.analysis.symbolic_bounds.class_rows_unreachable`).
    """
    from ..analysis.adversarial_start import query_rows
    from ..analysis.symbolic_bounds import class_rows_unreachable
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
    reach = _reach(x0, lo, hi)
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
