"""The maximise strategy: a checked start before the solver, and the bound beside the value.

:func:`search` runs the step that needs no solver (the start of
:mod:`nncc.analysis.maximize_start`); :func:`~nncc.pipeline.solve.solve`
hands the solver its value as a cutoff, and the answer is the solver's or the
start, whichever is better and checked. :func:`value_bound` puts the best
bound known beside the value: the solver's, or the one the neuron bounds
prove over the box, whichever is tighter.
"""
from __future__ import annotations

import time

import numpy as np

from ..analysis.maximize_start import find_maximize_start, split_optimality
from ..checks.check_network import check_network_answer
from ..problem.query import query_box
from ..progress import Progress
from ..solvers.result import NO_SOLUTION, UNKNOWN, SolverResult
from .adversarial import Steps
from .answer import Answer, answer_at, proven_by_splitting
from .compile import Compilation
from .steps import SPLIT_WALL_SHARE, Step, run_steps


def search(query, bounds: str, time_limit: float | None, start_budget: float,
           split_budget: float, progress: Progress) -> Steps:
    """The steps before the solver (:data:`STEPS`): the start, at most ``start_budget``
    CPU seconds (a tenth of ``time_limit`` at most); then ReLU splitting for a proof
    that nothing is better, at most ``split_budget`` CPU seconds (half of
    ``time_limit`` at most), ending at the latest when
    :data:`~nncc.pipeline.steps.SPLIT_WALL_SHARE` of ``time_limit`` (wall clock) has
    passed. The solver gets what is left (a second at least). ``bounds``: as for
    :func:`nncc.pipeline.adversarial.search` (the encoding computes its own here)."""
    budget, split, deadline = start_budget, split_budget, None
    if time_limit is not None:
        budget, split = min(start_budget, 0.1 * time_limit), min(split_budget, 0.5 * time_limit)
        deadline = time.perf_counter() + SPLIT_WALL_SHARE * time_limit
    steps = Steps(time_limit=time_limit, query=query, start_budget=budget,
                  split_budget=split, split_deadline=deadline, progress=progress)
    run_steps(STEPS, steps)
    if time_limit is not None:
        used = steps.seconds.get("start", 0.0) + steps.seconds.get("split", 0.0)
        steps.time_limit = max(time_limit - used, min(time_limit, 1.0))
    return steps


def _start(steps: Steps):
    query = steps.query
    lo, hi = query_box(query)
    steps.progress.stage("looking for a start (gradient ascent, LPs over activation regions)")
    found = find_maximize_start(query, lo, hi, budget=steps.start_budget)
    if found is not None:
        arrays = {"input": found.x, "output": query.network.forward(found.x[None])[0]}
        if not check_network_answer(query, arrays).ok:   # only a checked start is used
            found = None
    if found is not None:
        steps.progress.stage(f"start: value {found.value:.6g}")
    steps.start = found


def _split_optimality(steps: Steps):
    query = steps.query
    lo, hi = query_box(query)
    word = "smaller" if query.minimize else "larger"
    steps.progress.stage(f"ReLU splitting: is anything {word} than {steps.start.value:.6g}?")
    found, proven, note = split_optimality(query, steps.start, lo, hi, steps.split_left(),
                                           progress=steps.progress)
    arrays = {"input": found.x, "output": query.network.forward(found.x[None])[0]}
    if check_network_answer(query, arrays).ok:     # a better point met on the way, checked
        steps.start = found
    else:
        proven = False
    steps.proven, steps.proof_note = proven, note
    steps.notes += [note] if note is not None else []


STEPS = [
    Step("start", _start),
    Step("split", _split_optimality, when=lambda s: s.start is not None and s.split_budget > 0),
]


def value_bound(query, comp: Compilation, result: SolverResult) -> str | None:
    """The bound on the optimum beside the value: the solver's (``result.bound``) or the
    neuron bounds' over the box, whichever is tighter, becomes ``result.bound``; a
    sentence with the value, the bound and the gap, or None without a value."""
    proven = comp.encoded.inverse.get("bounds_proven")
    bound, by = result.bound, result.solver
    if proven is not None and np.isfinite(proven) and (
            bound is None or (proven < bound if not query.minimize else proven > bound)):
        bound, by = float(proven), f"{comp.encoded.inverse.get('bounds_method')} bounds"
    if bound is None:
        return None
    result.bound = bound
    return f"the optimum is at most {bound:.6g} (by {by})" if not query.minimize else \
        f"the optimum is at least {bound:.6g} (by {by})"


def gap_text(value: float, bound: float) -> str:
    """``value, bound, gap`` as printed: the gap relative to the bound's magnitude."""
    gap = abs(bound - value) / max(abs(bound), 1e-12)
    return f"{value:.6g}, bound {bound:.6g}, gap {gap:.2%}"


def worse(query, value: float, than: float) -> bool:
    """Whether ``value`` is worse than ``than`` for the query (lower when maximising)."""
    return value > than if query.minimize else value < than


def answer_from_start(query, comp: Compilation, result: SolverResult, start, ans: Answer) -> Answer:
    """The start as the answer, when the solver found nothing better that checks (with
    the cutoff every answer it could find is at least as good)."""
    notes = list(comp.encoded.notes)
    if result.status == NO_SOLUTION:
        notes.append(f"{result.solver} found nothing at least as good as the start "
                     f"({start.value:.6g}) within the cutoff (a tolerance effect): the start is the "
                     "answer, not proven optimal")
    else:
        notes.append(f"{result.solver} stopped ({result.message or result.status}) without "
                     "anything better than the start, which is the answer, not proven optimal")
    if ans.status == "check_failed":
        notes.append("the solver's own point failed the check: " + "; ".join(ans.check.problems))
    return answer_at(query, comp, start.x, result, notes, UNKNOWN, how="start")


def answer_proven_start(query, comp: Compilation, start, proof: str, seconds: float) -> Answer:
    """The start as the answer, ReLU splitting having proved nothing better (to within
    its relative gap; ``proof`` says so): no solver ran."""
    gap = 1e-4 * abs(float(start.value)) + 1e-9
    return proven_by_splitting(query, comp, start.x, start.value,
                               float(start.value) + (-gap if query.minimize else gap), proof,
                               seconds)
