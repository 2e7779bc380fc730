"""Budgets of nncc's own searches (splitting, starts, falsification): CPU seconds of
the process, so that an answer does not depend on how loaded the machine is.

A search that stops after so many *wall-clock* seconds does less work when other
processes share the cores, and its answer changes with the load: on a 2-core
machine at load 10, a ReLU-splitting proof that needs 21,000 nodes got 12,000 in
the same budget.  :class:`Budget` counts ``time.process_time()`` instead, the
CPU this process used, which grows with the work done and hardly with the load,
and it still ends at the run's wall-clock ``deadline`` (the user's time limit,
which stays wall-clock, as users expect).

CPU time measures work only when the work runs on one thread: OpenBLAS's
worker threads spin while they wait, and under load they burn CPU waiting for
each other (the same proof: 800 nodes per CPU second idle, 370 at load 10).
:func:`one_blas_thread` keeps BLAS on one thread (the searches multiply small
matrices: one thread was also faster idle, 1,700 nodes per second against
1,570 with two); the command line sets ``OPENBLAS_NUM_THREADS=1`` before numpy
loads, unless it is set.  ``benchmarks/budgets_under_load.py`` measures both.
"""
from __future__ import annotations

import contextlib
import time


class Budget:
    """``cpu`` seconds of this process's CPU from now (None: no CPU limit), never
    past ``deadline``, a ``time.perf_counter()`` instant (None: none)."""

    def __init__(self, cpu: float | None = None, deadline: float | None = None):
        self.cpu = None if cpu is None else max(float(cpu), 0.0)
        self.deadline = deadline
        self.c0 = time.process_time()
        self.t0 = time.perf_counter()

    @classmethod
    def of(cls, limit) -> "Budget":
        """A budget as given: a :class:`Budget` itself, CPU seconds (a number), or
        None (no limit)."""
        return limit if isinstance(limit, Budget) else cls(limit)

    def used(self) -> float:
        """CPU seconds used since the budget began."""
        return time.process_time() - self.c0

    def wall(self) -> float:
        """Wall-clock seconds since the budget began."""
        return time.perf_counter() - self.t0

    def cpu_left(self) -> float | None:
        """CPU seconds left of the CPU limit (0 when spent); None without one."""
        return None if self.cpu is None else max(self.cpu - self.used(), 0.0)

    def left(self) -> float | None:
        """CPU seconds left, no more than the wall-clock seconds to the deadline
        (0 when spent); None without either limit."""
        cpu = self.cpu_left()
        if self.deadline is None:
            return cpu
        wall = max(self.deadline - time.perf_counter(), 0.0)
        return wall if cpu is None else min(cpu, wall)

    def expired(self) -> bool:
        if self.cpu is not None and self.used() >= self.cpu:
            return True
        return self.deadline is not None and time.perf_counter() >= self.deadline

    def part(self, cpu: float | None) -> "Budget":
        """A budget of at most ``cpu`` CPU seconds out of what is left of this one,
        with the same deadline."""
        left = self.cpu_left()
        if cpu is None:
            cpu = left
        elif left is not None:
            cpu = min(cpu, left)
        return Budget(cpu, self.deadline)

    def spent_text(self) -> str:
        """``"2.31 CPU s of 10 (23%)"``, or ``"2.31 CPU s"`` without a CPU limit."""
        return share_text(self.used(), self.cpu)

    def use(self) -> dict:
        """What was used, as answers record it: ``{"cpu": s, "wall": s, "budget": s}``."""
        return {"cpu": self.used(), "wall": self.wall(), "budget": self.cpu}


def share_text(used: float, budget: float | None) -> str:
    """``"2.31 CPU s of 10 (23%)"``: CPU seconds ``used`` of a ``budget`` (just the
    seconds without one)."""
    if not budget:
        return f"{used:.2f} CPU s"
    return f"{used:.2f} CPU s of {budget:.3g} ({100 * min(used / budget, 1.0):.0f}%)"


def use_text(use: dict) -> str:
    """A step's use of its budget, as answers record it (``{"cpu": s, "budget": s,
    "wall": s}``), in :func:`share_text`'s words."""
    return share_text(use["cpu"], use["budget"])


def steps_text(seconds: dict, budgets: dict, names=None) -> str:
    """``"bounds 0.00 s, split 4.43 s (4.50 CPU s of 10, 45%)"``: each step's seconds
    (those of ``names`` only, in that order, when given), with its use of its budget
    where the answer records one."""
    return ", ".join(f"{k} {seconds[k]:.2f} s" + (f" ({use_text(budgets[k])})" if k in budgets
                                                  else "")
                     for k in (names or seconds) if k in seconds)


@contextlib.contextmanager
def one_blas_thread():
    """BLAS (numpy's OpenBLAS) on one thread inside the block (threadpoolctl); the
    thread count is restored after it."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1, user_api="blas"):
        yield
