"""Input splitting on several cores: one hard instance's box handed out in parts.

:func:`split_verify_parallel` runs the search here until ``PARTS_PER_WORKER``
boxes per worker are open (the same bisections as one process would make), and
worker processes (forked: they share the network without copying it) run
:func:`~nncc.analysis.input_split.split_verify` on one part at a time, taking
the next part as they finish, so that a part that is hard does not keep the
others waiting. The verdict is the conjunction: ``unsat`` when every part is
proven, ``sat`` as soon as one part has a counterexample that passes the
caller's check here, in this process (the workers check candidates with the
float64 forward pass only, so that no onnxruntime session crosses a fork),
``unknown`` otherwise.

Budget: ``time_limit`` is CPU seconds *per worker* (the work of one core for
that long, on each core), and never past its wall-clock deadline. A part is
given what is left of the workers' total and returns what it used, so the
CPU spent stays within about twice the total whatever the machine's load.
"""
from __future__ import annotations

import copy
import multiprocessing
import os
import time

import numpy as np

from ..budget import Budget
from .input_split import SplitResult, split_verify

PARTS_PER_WORKER = 8
_JOB: dict = {}   # set before the workers fork: the network, the rows, the property


def _part(i: int, lo, hi, live, cpu: float, deadline: float | None):
    """In a worker: one part, with its numpy check; (i, status, x, boxes, depth, cpu used)."""
    job = _JOB
    t = time.process_time()

    def check(x):
        return bool(job["check"](x))
    r = split_verify(job["net"], job["rows"], lo, hi, check=check, live=live,
                     time_limit=Budget(cpu, deadline), rule=job["rule"])
    return i, r.status, r.x, r.boxes, r.max_depth, time.process_time() - t


def split_verify_parallel(net, rowsets, lo, hi, *, check, numpy_check, workers: int,
                          time_limit: float | Budget | None = None, progress=None,
                          rule: str = "relax") -> SplitResult:
    """:func:`~nncc.analysis.input_split.split_verify` on ``workers`` processes.

    ``check(x)``: the full check of a candidate, run here; ``numpy_check(x)``: the
    workers' check (no onnxruntime), a candidate's first filter. ``time_limit``: CPU
    seconds per worker (see the module)."""
    budget = Budget.of(time_limit)
    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    t0 = time.perf_counter()
    if "fork" not in multiprocessing.get_all_start_methods():   # no fork (Windows, ...)
        return split_verify(net, rowsets, lo, hi, check=check, time_limit=budget,
                            progress=progress, rule=rule)
    first = split_verify(net, rowsets, lo, hi, check=check, time_limit=budget, rule=rule,
                         frontier=PARTS_PER_WORKER * workers)
    if first.status != "open":   # decided (or out of time) before there were parts
        return first
    parts = first.open
    total = budget.cpu_left() * workers if budget.cpu_left() is not None else None
    plain = copy.copy(net)
    _JOB.clear()
    _JOB.update(net=plain, rows=rowsets, rule=rule, check=numpy_check)
    ctx = multiprocessing.get_context("fork")
    boxes, depth = first.boxes, first.max_depth
    unknown = 0
    status, x = "unsat", None
    pool = ctx.Pool(workers)
    try:
        pending, queue_ = {}, list(enumerate(parts))
        used = 0.0

        def submit():
            i, (plo, phi, plive) = queue_.pop(0)
            left = None if total is None else max(total - used, 0.0)
            cpu = None if left is None else max(left / workers, 0.05)
            pending[i] = pool.apply_async(_part, (i, plo, phi, plive, cpu, budget.deadline))
        for _ in range(min(workers, len(queue_))):
            submit()
        last = t0
        while pending:
            if budget.deadline is not None and time.perf_counter() >= budget.deadline:
                status = "unknown"
                break
            ready = [i for i, r in pending.items() if r.ready()]
            if not ready:
                time.sleep(0.01)
                continue
            for i in ready:
                _, st, px, nb, dp, cpu_used = pending.pop(i).get()
                boxes, depth, used = boxes + nb, max(depth, dp), used + cpu_used
                if st == "sat" and check(px):
                    status, x = "sat", px
                    break
                if st != "unsat":
                    unknown += 1
                if queue_ and (total is None or used < total):
                    submit()
                elif queue_:
                    unknown += len(queue_)
                    queue_.clear()
            if status == "sat":
                break
            now = time.perf_counter()
            if progress is not None and now - last > 1.0:
                progress.stage(f"input splitting on {workers} workers: {boxes:,} boxes bounded, "
                               f"{len(parts) - len(queue_) - len(pending)} of {len(parts)} parts "
                               f"done, {now - t0:.1f} s")
                last = now
        if status == "unsat" and (unknown or pending):
            status = "unknown"
    finally:
        pool.terminate()
        pool.join()
        _JOB.clear()
    return SplitResult(status, x=x, boxes=boxes, open_boxes=0, max_depth=depth,
                       seconds=time.perf_counter() - t0, cpu=used,
                       reason="" if status != "unknown" else
                       f"{unknown} of {len(parts)} parts left open (time limit)")


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # not on Linux
        return os.cpu_count() or 1
