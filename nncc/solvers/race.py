"""A solver portfolio: several solvers on one file at once, the first checked answer wins.

``--solver race:highs,cbc`` (or ``race:z3,cvc5`` for SMT-LIB) runs the solvers
on the same file, each in its own process group, and takes the first answer
that decides (a solution, or a proof that there is none) and that the caller
accepts -- the pipeline maps a solution back to the network and checks it by
a forward pass first. The others are then killed. A solution that fails the
check does not win: the race waits for the others, and where none decides,
the best of what came back is the result (a solution over an incumbent over
nothing, errors last). The racers must read a common format, so that one file
serves them all.
"""
from __future__ import annotations

import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Callable

from ..errors import InputError, SolverError
from .registry import SolverSpec
from .result import ERROR, NO_SOLUTION, SOLUTION, UNKNOWN, SolverResult
from .runner import solve_file

PREFIX = "race:"


def is_race(name: str) -> bool:
    return isinstance(name, str) and name.startswith(PREFIX)


@dataclass
class Race:
    """The racers; it stands in for one :class:`SolverSpec` where the pipeline picks a
    solver (``name``, ``formats``, ``optimises``, ``version()``, ``require()``)."""

    specs: list[SolverSpec]
    kind = "race"

    @property
    def name(self) -> str:
        return PREFIX + ",".join(s.name for s in self.specs)

    @property
    def formats(self) -> list[str]:
        common = set.intersection(*(set(s.formats) for s in self.specs))
        return [f for f in self.specs[0].formats if f in common]

    @property
    def optimises(self) -> bool:
        return all(s.optimises for s in self.specs)

    def version(self) -> str:
        return ", ".join(s.version() for s in self.specs)

    def require(self) -> None:
        for s in self.specs:
            s.require()


def race_of(registry, name: str) -> Race:
    """The race ``race:A,B,...``: InputError for an unknown or repeated name, fewer than
    two racers, or racers with no format in common."""
    names = [n.strip() for n in name[len(PREFIX):].split(",") if n.strip()]
    if len(names) < 2:
        raise InputError(f"a race needs two solvers or more: --solver race:highs,cbc, not {name!r}")
    if len(set(names)) != len(names):
        raise InputError(f"{name!r} names a solver twice")
    race = Race([registry.get(n) for n in names])
    if not race.formats:
        raise InputError(f"{name}: the racers read no format in common "
                         f"({'; '.join(s.name + ': ' + '/'.join(s.formats) for s in race.specs)}); "
                         "race solvers of one kind: highs,cbc (MPS / LP) or z3,cvc5 (SMT-LIB)")
    return race


_RANK = {SOLUTION: 0, UNKNOWN: 2, NO_SOLUTION: 3, ERROR: 4}


def _rank(r: SolverResult) -> int:
    if r.status == UNKNOWN and r.has_incumbent:
        return 1
    return _RANK.get(r.status, 4)


def race_file(race: Race, input_path: str, fmt: str, *, time_limit: float | None = None,
              on_progress=None, workdir: str | None = None, focus: str | None = None,
              accept: Callable[[SolverResult], bool] | None = None) -> SolverResult:
    """Run the racers on ``input_path`` at once (each as :func:`solve_file` would); the
    first result that decides (``solution`` or ``no_solution``) and that ``accept``
    takes (default: every one) is returned, and the others are killed. ``accept`` is
    called in this thread, one result at a time. The result's ``race`` lists every
    racer's status and seconds (``stopped`` for one killed when another won);
    ``on_progress`` follows the first racer."""
    cancel = threading.Event()
    racers = list(race.specs)
    winner, came = None, []
    pool = ThreadPoolExecutor(max_workers=len(racers), thread_name_prefix="nncc-race")
    try:
        futures = {pool.submit(solve_file, s, input_path, fmt, time_limit=time_limit,
                               on_progress=on_progress if i == 0 else None, workdir=workdir,
                               focus=focus, cancel=cancel): s for i, s in enumerate(racers)}
        pending = set(futures)
        while pending and winner is None:
            # short waits: Ctrl-C reaches this thread between them, whatever the platform
            done, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            for f in done:
                spec = futures[f]
                try:
                    res = f.result()
                except SolverError as e:   # e.g. a crash before any output: a lost racer
                    res = SolverResult(ERROR, solver=spec.name, message=str(e))
                came.append(res)
                if res.status in (SOLUTION, NO_SOLUTION) and (accept is None or accept(res)):
                    winner = res
                    break
    finally:
        cancel.set()   # the losers (and everyone on Ctrl-C or an error) stop now
        pool.shutdown(wait=True)
    for f in futures:   # every racer is done now: the losers' stopped results too
        if not f.cancelled() and f.exception() is None and all(f.result() is not c for c in came):
            came.append(f.result())
    best = winner or min(came, key=_rank)
    best.race = {r.solver: {"status": "stopped" if r.stopped else r.status,
                            "seconds": round(r.seconds, 3)} for r in came}
    best.race_winner = winner is not None
    return best
