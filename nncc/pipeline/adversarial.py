"""The adversarial strategy: bounds, ReLU splitting and starts before the solver.

:func:`search` runs the steps that need no solver (a proof from the bounds, a
short ReLU-splitting look, the greedy start, a proof that the start is
closest); :func:`solve` hands the solver what they found, and the answer is
the solver's or the start, whichever is closer and checked.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..analysis.adversarial_bounds import bounds_proof, proven_radius
from ..analysis.adversarial_split import polish_start, split_optimality, split_search
from ..analysis.adversarial_start import find_start
from ..budget import Budget
from ..problem.query import checked_query
from ..progress import Progress
from ..solvers.result import NO_SOLUTION, UNKNOWN, SolverResult
from .answer import Answer, answer_at, proven_by_splitting
from .compile import Compilation
from .steps import SPLIT_WALL_SHARE, Step, run_steps


@dataclass
class Steps:
    """What the steps before the solver found (adversarial and maximise queries,
    :mod:`nncc.pipeline.maximize`): ``start`` a checked answer (or None),
    ``proof`` a sentence when ReLU splitting proved no input reaches the class,
    ``proven`` when it proved the start (nearly) closest (``proof_note`` says how),
    ``notes`` for the report, ``time_limit`` what is left for the solver,
    ``seconds`` and ``cpu`` each step's (:func:`~nncc.pipeline.steps.run_steps`),
    ``decided_by`` the step that made the solver unneeded (``bounds``), if any.
    The budgets are CPU seconds: ``start_budget`` the start's, ``split_budget`` the
    split steps' together, which end at ``split_deadline`` (a
    ``time.perf_counter()`` instant) at the latest."""

    start: object = None
    proof: str | None = None
    proven: bool = False
    proof_note: str | None = None
    notes: list[str] = field(default_factory=list)
    time_limit: float | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    decided_by: str = ""
    # the search's own: the query, the bounds method, the budgets
    query: object = None
    bounds: str = "symbolic"
    start_budget: float = 2.0
    split_budget: float = 0.0
    split_deadline: float | None = None
    progress: Progress | None = None

    def split_left(self) -> Budget:
        """What is left of the splitting's budget (the start's CPU is not the split's)."""
        return Budget(self.split_budget - self.cpu.get("split", 0.0), self.split_deadline)

    def budgets(self) -> dict[str, dict]:
        """The split steps' use of their budget (``Answer.budgets``): CPU and wall
        seconds used, the CPU budget; empty when no split step ran."""
        if "split" not in self.seconds:
            return {}
        return {"split": {"cpu": self.cpu["split"], "wall": self.seconds["split"],
                          "budget": self.split_budget}}


def search(query, bounds: str, time_limit: float | None, start_budget: float,
           split_budget: float, progress: Progress) -> Steps:
    """The steps of an adversarial query that need no solver (:data:`STEPS`), in order:
    a proof from the cheap bounds (then nothing else runs: the encoding finds it
    again); in an epsilon ball a short ReLU-splitting look; the greedy start
    (:func:`find_adversarial_start`); without a start, ReLU splitting for a proof or
    an answer; with one, ReLU splitting for a proof that nothing is closer. The
    splitting gets ``split_budget`` CPU seconds, half of ``time_limit`` at most, and
    ends at the latest when :data:`~nncc.pipeline.steps.SPLIT_WALL_SHARE` of
    ``time_limit`` (wall clock) has passed; the solver gets what is left (a second at
    least)."""
    cpu, deadline = split_budget, None
    if time_limit is not None:
        cpu = min(split_budget, 0.5 * time_limit)
        deadline = time.perf_counter() + SPLIT_WALL_SHARE * time_limit
    steps = Steps(time_limit=time_limit, query=query, bounds=bounds, start_budget=start_budget,
                  split_budget=cpu, split_deadline=deadline, progress=progress)
    if run_steps(STEPS, steps) is None and time_limit is not None:
        steps.time_limit = max(time_limit - steps.seconds.get("split", 0.0), min(time_limit, 1.0))
    return steps


def _bounds_proof(steps: Steps):
    """A proof from the bounds needs no start (and no solver): the cheap bounds first."""
    return True if bounds_proof(steps.query, steps.bounds) is not None else None


def _short_look(steps: Steps):
    """In an epsilon ball the answer is often "none", which the greedy descent takes
    long to give up on (0.8 s on MNIST) and ReLU splitting proves in tenths of a
    second: a short look first."""
    steps.proof, steps.start, _ = split_search(steps.query, steps.split_left().part(0.25),
                                               steps.progress, polished=False)


def _greedy_start(steps: Steps):
    greedy = find_adversarial_start(steps.query, steps.start_budget, steps.progress)
    found = steps.start
    if found is not None and greedy is None:
        found = polish_start(steps.query, found)
    if greedy is not None and (found is None or greedy.distance < found.distance):
        found = greedy
    steps.start = found


def _split_for_answer(steps: Steps):
    steps.progress.stage("no start: ReLU splitting for a proof or an answer")
    steps.proof, steps.start, note = split_search(steps.query, steps.split_left(), steps.progress)
    steps.notes += [note] if note is not None and steps.proof is None else []


def _split_optimality(steps: Steps):
    steps.progress.stage(f"ReLU splitting: is anything closer than {steps.start.distance:.6g}?")
    steps.start, steps.proven, note = split_optimality(steps.query, steps.start,
                                                       steps.split_left(), progress=steps.progress)
    steps.notes += [note] if note is not None else []
    steps.proof_note = note


STEPS = [
    Step("bounds", _bounds_proof),
    Step("split", _short_look,
         when=lambda s: s.query.epsilon is not None and s.split_budget > 0),
    Step("start", _greedy_start, when=lambda s: s.proof is None),
    Step("split", _split_for_answer,
         when=lambda s: s.start is None and s.proof is None and not s.split_left().expired()),
    Step("split", _split_optimality,
         when=lambda s: s.start is not None and s.proof is None
         and not s.split_left().expired()),
]


def find_adversarial_start(query, budget: float, progress: Progress):
    """A checked start for an adversarial query (checked by
    :func:`~nncc.problem.query.checked_query` first), or None."""
    _, label, lo, hi = checked_query(query)
    progress.stage("looking for a start (greedy descent, LPs over activation regions)")
    found = find_start(query, lo, hi, label, time_budget=budget)
    if found is not None:
        progress.stage(f"start: {query.norm} distance {found.distance:.6g}")
    return found


def distance_floor(query, result: SolverResult, start, progress: Progress) -> str | None:
    """When the solver stopped without proving its answer optimal: the distance the
    back-substitution bounds prove no input below
    (:func:`~nncc.analysis.adversarial_bounds.proven_radius`) becomes ``result.bound``
    where it is higher, with a note saying so."""
    dists = [d for d in (result.objective if result.has_incumbent else None,
                         start.distance if start is not None else None) if d is not None]
    progress.stage("bounding the distance from below (back-substitution over balls)")
    t = time.perf_counter()
    r = proven_radius(query, min(dists) if dists else None)
    if r <= 0 or (result.bound is not None and r <= result.bound):
        return None
    was = "none" if result.bound is None else f"{result.bound:.6g}"
    result.bound = r
    return (f"the bounds prove no input within {query.norm} distance {r:.6g} reaches the class "
            f"({time.perf_counter() - t:.2f} s; the solver's lower bound: {was}): the proven "
            f"lower bound is {r:.6g}")


def answer_from_start(query, comp: Compilation, result: SolverResult, start, ans: Answer) -> Answer:
    """The start as the answer, when the solver found nothing closer (with the cutoff
    every answer it could find is at least as close; none means none within its limit)."""
    notes = list(comp.encoded.notes)
    if result.status == NO_SOLUTION:
        notes.append(f"{result.solver} found nothing within the cutoff {start.distance:.6g} "
                     "(the start itself is within it: a tolerance effect); the start is the answer, "
                     "not proven optimal")
    else:
        bound = f"; proven lower bound: {result.bound:.6g}" if result.bound is not None else ""
        notes.append(f"{result.solver} stopped ({result.message or result.status}) without anything "
                     f"closer than the start, which is the answer, not proven optimal{bound}")
    if ans.status == "check_failed":
        notes.append("the solver's own point failed the check: " + "; ".join(ans.check.problems))
    return answer_at(query, comp, start.x, result, notes, UNKNOWN, how="start")


def answer_proven_start(query, comp: Compilation, start, proof: str, seconds: float) -> Answer:
    """The start as the answer, ReLU splitting having proved nothing closer (to within
    its relative gap; ``proof`` says so): no solver ran."""
    return proven_by_splitting(query, comp, start.x, start.distance,
                               float(start.distance) * (1.0 - 1e-4), proof, seconds)
