"""ReLU splitting on an adversarial query: a proof that no input reaches the
class, an answer met on the way, or a proof that a start is (nearly) closest.

Every point found is checked by a forward pass
(:func:`~nncc.checks.check_network.check_network_answer`) before it is
returned, and polished by LPs over its activation region
(:func:`polish_start`).
"""
from __future__ import annotations

import time

import numpy as np

from ..budget import Budget
from ..problem.query import AdversarialQuery, checked_query


def polish_start(query: AdversarialQuery, start, seconds: float | Budget = 1.0):
    """``start`` moved closer to ``x0`` by LPs over activation regions
    (:func:`~nncc.analysis.adversarial_start.region_descent`, at most ``seconds`` of CPU,
    or a :class:`~nncc.budget.Budget`), if the
    result still checks and is closer; else ``start`` itself."""
    from dataclasses import replace

    from .adversarial_start import query_rows, region_descent
    from ..checks.check_network import check_network_answer
    net = query.network
    x0, label, lo, hi = checked_query(query)
    C, rhs = query_rows(query, net.n_outputs, label, start.winner)
    t0 = time.perf_counter()
    x, _, lps = region_descent(net, x0, lo, hi, C, rhs, query.norm, start.x, Budget.of(seconds))
    chk = check_network_answer(query, {"input": x, "output": net.forward(x[None])[0]})
    if not chk.ok or chk.value >= start.distance:
        return start
    return replace(start, x=x, distance=chk.value, lp_solves=start.lp_solves + lps,
                   seconds=start.seconds + time.perf_counter() - t0)


def split_setup(query: AdversarialQuery):
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


def split_search(query: AdversarialQuery, budget: float | Budget, progress=None,
                 polished: bool = True):
    """ReLU splitting (:mod:`nncc.analysis.relu_split`) over the query's box, for at
    most ``budget`` (CPU seconds, or a :class:`~nncc.budget.Budget`): ``(proof, start,
    note)``.

    ``proof`` (a sentence) when no input of the box reaches the class (for "any
    class but the label", every other class is ruled out in turn); ``start`` (a
    checked :class:`~nncc.analysis.adversarial_start.Start`, polished like the
    greedy one unless ``polished`` is False) when the search met an answer;
    ``note`` says what was done.
    ``(None, None, None)`` for networks the splitting does not take."""
    from .adversarial_start import Start, query_rows
    from .relu_split import relu_split_verify, supported
    from ..checks.check_network import check_network_answer
    net = query.network
    budget = Budget.of(budget)
    if not supported(net) or budget.expired():
        return None, None, None
    x0, label, lo, hi, winners, check = split_setup(query)
    K = net.n_outputs
    t0 = time.perf_counter()
    nodes = 0
    for w in winners:
        C, rhs = query_rows(query, K, label, w)
        res = (None if budget.expired() else
               relu_split_verify(net, C, rhs, lo, hi, check=check, time_limit=budget,
                                 progress=progress))
        if res is not None:
            nodes += res.boxes
        spent = budget.spent_text()
        if res is None or res.status == "unknown":
            why = res.reason if res is not None else "time limit"
            return None, None, f"ReLU splitting: no verdict ({why}; {nodes:,} nodes, {spent})"
        if res.status == "sat":
            chk = check_network_answer(query, {"input": res.x,
                                               "output": net.forward(res.x[None])[0]})
            start = Start(res.x, chk.value, w, time.perf_counter() - t0, 0, 0,
                          found_by=f"ReLU splitting, {nodes:,} nodes")
            if polished:
                start = polish_start(query, start)
            return None, start, f"ReLU splitting met an answer ({nodes:,} nodes, {spent})"
    goal = f"class {query.target}" if query.target is not None else f"any class but {label}"
    proof = (f"no input of the box reaches {goal}: ReLU splitting proves it ({nodes:,} nodes "
             f"with back-substitution bounds, {budget.spent_text()})")
    return proof, None, proof


def split_optimality(query: AdversarialQuery, start, budget: float | Budget,
                     rel_gap: float = 1e-4, progress=None):
    """Prove a start (nearly) closest by ReLU splitting, for at most ``budget`` (CPU
    seconds, or a :class:`~nncc.budget.Budget`):
    ``(start, proven, note)``.

    Every input within ``D (1 - rel_gap)`` of ``x0`` (``D`` the start's L1 or
    L-infinity distance; ``rel_gap`` as a MILP solver's relative gap) is
    searched for one that reaches the class; none means the start is optimal
    to within that gap.  One met on the way is checked, polished and becomes
    the start, and the search goes on from its distance.  ``proven`` is False
    (and the start the best met) when the budget ran out; the note says what
    was done.  L0 and networks the splitting does not take: ``(start, False, None)``."""
    from .adversarial_start import Start, query_rows
    from .relu_split import relu_split_verify, supported
    from ..checks.check_network import check_network_answer
    net = query.network
    budget = Budget.of(budget)
    if query.norm not in ("l1", "linf") or not supported(net) or budget.expired():
        return start, False, None
    x0, label, lo, hi, winners, check = split_setup(query)
    K = net.n_outputs
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
            if budget.expired():
                found = "time"
                break
            C, rhs = query_rows(query, K, label, w)
            res = relu_split_verify(net, C, rhs, blo, bhi, check=check, time_limit=budget,
                                    progress=progress, l1_ball=ball)
            nodes += res.boxes
            if res.status == "unknown":
                found = "time" if res.reason == "time limit" else res.reason
                break
            if res.status == "sat":
                found = (res.x, w)
                break
        spent = budget.spent_text()
        if found is None:
            return start, True, (f"ReLU splitting proves that no input within {query.norm} "
                                 f"distance {r:.6g} of x0 reaches the class (relative gap "
                                 f"{rel_gap:g}; {nodes:,} nodes, {spent}, {better} closer "
                                 "answers met)")
        if isinstance(found, str):
            return start, False, (f"ReLU splitting did not prove the answer optimal ({found}; "
                                  f"{nodes:,} nodes, {spent})")
        x, w = found
        chk = check_network_answer(query, {"input": x, "output": net.forward(x[None])[0]})
        if not chk.ok or chk.value >= start.distance:   # a tolerance artefact: no progress
            return start, False, (f"ReLU splitting met a point that is not closer ({nodes:,} "
                                  f"nodes, {spent})")
        better += 1
        start = polish_start(query, Start(
            x, chk.value, w, start.seconds, start.lp_solves, start.descent_steps,
            found_by=(start.found_by or "greedy descent") + ", then ReLU splitting"), 0.5)
