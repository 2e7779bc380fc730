"""Input splitting and ReLU splitting on several cores: one hard instance handed out in parts.

:func:`split_verify_parallel` (input splitting) and :func:`relu_split_verify_parallel`
(ReLU splitting) run the search here until ``PARTS_PER_WORKER`` boxes (nodes)
per worker are open -- the same bisections (branchings) as one process makes --
and worker processes (forked: they share the network without copying it) take
those parts one at a time, as they finish, so that a part that is hard does not
keep the others waiting. The verdict is the conjunction: ``unsat`` when every
part is proven, ``sat`` as soon as one part has a counterexample that passes the
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

from ..budget import Budget
from .input_split import SplitResult, split_verify
from .relu_split import relu_split_verify

PARTS_PER_WORKER = 8
_JOB: dict = {}   # set before the workers fork: the network, the rows, the check


def _part(i: int, part, cpu: float | None, deadline: float | None):
    """In a worker: one part, with the numpy check; (i, status, x, boxes, depth, CPU)."""
    job = _JOB
    t = time.process_time()

    def check(x):
        return bool(job["check"](x))
    budget = Budget(cpu, deadline)
    if job["kind"] == "input":
        lo, hi, live = part
        r = split_verify(job["net"], job["rows"], lo, hi, check=check, live=live,
                         time_limit=budget, rule=job["rule"])
    else:
        r = relu_split_verify(job["net"], job["C"], job["d"], job["lo"], job["hi"],
                              check=check, time_limit=budget, start=[part])
    return i, r.status, r.x, r.boxes, r.max_depth, time.process_time() - t


def _forks() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def split_verify_parallel(net, rowsets, lo, hi, *, check, numpy_check, workers: int,
                          time_limit: float | Budget | None = None, progress=None,
                          rule: str = "relax") -> SplitResult:
    """:func:`~nncc.analysis.input_split.split_verify` on ``workers`` processes.

    ``check(x)``: the full check of a candidate, run here; ``numpy_check(x)``: the
    workers' check (no onnxruntime), a candidate's first filter. ``time_limit``: CPU
    seconds per worker (see the module)."""
    budget = Budget.of(time_limit)
    if not _forks():   # no fork (Windows, ...): one process
        return split_verify(net, rowsets, lo, hi, check=check, time_limit=budget,
                            progress=progress, rule=rule)
    first = split_verify(net, rowsets, lo, hi, check=check, time_limit=budget, rule=rule,
                         frontier=PARTS_PER_WORKER * workers)
    if first.status != "open":   # decided (or out of time) before there were parts
        return first
    return _drive(first, dict(kind="input", net=_plain(net), rows=rowsets, rule=rule,
                              check=numpy_check), check, workers, budget, progress,
                  "input splitting", "boxes")


def relu_split_verify_parallel(net, C, d, lo, hi, *, check, numpy_check, workers: int,
                               time_limit: float | Budget | None = None,
                               progress=None) -> SplitResult:
    """:func:`~nncc.analysis.relu_split.relu_split_verify` on ``workers`` processes (the
    arguments as for :func:`split_verify_parallel`)."""
    budget = Budget.of(time_limit)
    if not _forks():
        return relu_split_verify(net, C, d, lo, hi, check=check, time_limit=budget,
                                 progress=progress)
    first = relu_split_verify(net, C, d, lo, hi, check=check, time_limit=budget,
                              frontier=PARTS_PER_WORKER * workers)
    if first.status != "open":
        return first
    return _drive(first, dict(kind="relu", net=_plain(net), C=C, d=d, lo=lo, hi=hi,
                              check=numpy_check), check, workers, budget, progress,
                  "ReLU splitting", "nodes")


def _plain(net):
    return copy.copy(net)


def _drive(first: SplitResult, job: dict, check, workers: int, budget: Budget, progress,
           what: str, unit: str) -> SplitResult:
    """The parts of ``first.open`` on a pool of ``workers`` forked processes."""
    t0 = time.perf_counter()
    parts = first.open
    total = None if budget.cpu_left() is None else budget.cpu_left() * workers
    _JOB.clear()
    _JOB.update(job)
    boxes, depth, unknown, used = first.boxes, first.max_depth, 0, 0.0
    status, x = "unsat", None
    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        pending, todo = {}, list(enumerate(parts))

        def submit():
            i, part = todo.pop(0)
            cpu = None if total is None else max((total - used) / workers, 0.05)
            pending[i] = pool.apply_async(_part, (i, part, cpu, budget.deadline))
        for _ in range(min(workers, len(todo))):
            submit()
        last = t0
        while pending and status != "sat":
            if budget.deadline is not None and time.perf_counter() >= budget.deadline:
                unknown += len(pending) + len(todo)
                break
            ready = [i for i, r in pending.items() if r.ready()]
            if not ready:
                time.sleep(0.01)
                continue
            for i in ready:
                _, st, px, nb, dp, cpu_used = pending.pop(i).get()
                boxes, depth, used = boxes + nb, max(depth, dp), used + cpu_used
                if st == "sat" and check(px):   # the full check, here
                    status, x = "sat", px
                    break
                if st != "unsat":
                    unknown += 1
                if todo and (total is None or used < total):
                    submit()
                elif todo:
                    unknown += len(todo)
                    todo.clear()
            now = time.perf_counter()
            if progress is not None and now - last > 1.0:
                progress.stage(f"{what} on {workers} workers: {boxes:,} {unit} bounded, "
                               f"{len(parts) - len(todo) - len(pending)} of {len(parts)} parts "
                               f"done, {now - t0:.1f} s")
                last = now
        if status == "unsat" and unknown:
            status = "unknown"
    finally:
        pool.terminate()
        pool.join()
        _JOB.clear()
    return SplitResult(status, x=x, boxes=boxes, open_boxes=0, max_depth=depth,
                       seconds=first.seconds + time.perf_counter() - t0, cpu=used,
                       reason="" if status != "unknown" else
                       f"{unknown} of {len(parts)} parts left open (time limit)")


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # not on Linux
        return os.cpu_count() or 1
