"""The steps of a solving chain: one interface for solve's and verify's strategies.

A strategy is a list of :class:`Step` s over one state (an :class:`Answer` being
built, a verify run): each step is a function of the state that returns a
decision, which ends the chain, or None, which hands the state to the next
step. :func:`run_steps` calls them in order, adds each one's seconds to
``state.seconds`` under its name (a step that did not run has no entry) and
its CPU seconds to ``state.cpu``, and names the step that decided in
``state.decided_by``. The run's limit is wall-clock, from one :class:`Clock`;
the steps' own budgets are CPU seconds (:class:`~nncc.budget.Budget`) that end
at the latest where the clock says, so that the same work is done idle or under
load. The steps run with BLAS on one thread (:func:`~nncc.budget.one_blas_thread`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from ..budget import one_blas_thread


# The split steps' CPU budget ends, at the latest, when this share of the run's time
# limit has passed: under load a CPU second takes longer, and the split (which on the
# MNIST balls proves what the MILP does not) keeps doing the same work, into the time
# the solver would otherwise have, which keeps a tenth at least.
SPLIT_WALL_SHARE = 0.9


class Clock:
    """The time of one run: ``time_limit`` seconds from now, or no limit (None)."""

    def __init__(self, time_limit: float | None):
        self.t0 = time.perf_counter()
        self.time_limit = time_limit
        self.deadline = self.t0 + time_limit if time_limit else None

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def left(self) -> float | None:
        """The seconds left (0 at the deadline), or None without a limit."""
        if self.deadline is None:
            return None
        return max(self.deadline - time.perf_counter(), 0.0)

    def expired(self) -> bool:
        return self.deadline is not None and time.perf_counter() >= self.deadline

    def budget(self, most: float) -> float:
        """``most`` seconds, or what is left when that is less."""
        left = self.left()
        return most if left is None else min(most, left)


@dataclass(frozen=True)
class Step:
    """One step of a chain: ``run(state)`` returns a decision or None; ``when(state)``,
    if given, says whether the step runs at all."""

    name: str
    run: Callable
    when: Callable | None = None


def run_steps(steps: list[Step], state):
    """Run ``steps`` in order on ``state`` until one decides; return its decision
    (None when none did). Each step's seconds go to ``state.seconds[step.name]``
    (added up when a name repeats) and their CPU seconds to ``state.cpu[step.name]``;
    the deciding step's name to ``state.decided_by``."""
    with one_blas_thread():
        for step in steps:
            if step.when is not None and not step.when(state):
                continue
            t, c = time.perf_counter(), time.process_time()
            try:
                decision = step.run(state)
            finally:
                state.seconds[step.name] = (state.seconds.get(step.name, 0.0)
                                            + time.perf_counter() - t)
                state.cpu[step.name] = state.cpu.get(step.name, 0.0) + time.process_time() - c
            if decision is not None:
                state.decided_by = step.name
                return decision
    return None
