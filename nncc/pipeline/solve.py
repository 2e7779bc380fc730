"""Solving a query: pick a solver, compile for it, run it, map back and re-check.

:func:`solve` is the one chain every ``.nn`` query goes through
(:mod:`nncc.pipeline.adversarial` adds its steps for adversarial queries,
:mod:`nncc.pipeline.local_search` answers binarised training by local search).
"""
from __future__ import annotations

import os
import tempfile
import time

from ..analysis.bounds import DEFAULT_BOUNDS
from ..errors import TargetError
from ..ir.program import Logic
from ..passes.strict_epsilon import DEFAULT_EPSILON
from ..problem.query import Query
from ..progress import Progress
from ..solvers.highs import ROOT_LP
from ..solvers.race import Race, is_race, race_file, race_of
from ..solvers.registry import load_registry
from ..solvers.result import NO_SOLUTION, SOLUTION, UNKNOWN, SolverResult, race_note
from ..solvers.runner import solve_file
from . import adversarial, maximize
from .answer import Answer, answer_from_result
from ..writers import FORMAT_SUFFIX
from .compile import encode_query, lower, write_target


# seconds of ReLU splitting before the solver by default: an adversarial query in an
# epsilon ball is often proven there; a maximise query's proof needs the optimum's
# neighbourhood closed to a relative 1e-4, which small networks allow and larger ones
# rarely do (a 4-24-3 network's exact start stayed open after 10 s and 23,000 nodes)
SPLIT_BUDGET = {"adversarial": 10.0, "maximize": 1.0}
# the query kinds with steps before the solver (a start, ReLU splitting), and their objective
STRATEGIES = {"adversarial": adversarial, "maximize": maximize}
OBJECTIVE = {"adversarial": "a distance to minimise", "maximize": "an output to optimise"}

# auto: a MILP solver first where the query is MILP-expressible, else SMT
AUTO_ORDER_MILP = ["highs", "cbc", "z3", "cvc5"]
AUTO_ORDER_SMT = ["z3", "cvc5"]


def pick_solver(registry, solver: str, logic: Logic, optimise: bool = False):
    """The solver spec to use: the named one, or for ``auto`` the first available
    that takes the query's logic (and optimises, when the query has an objective);
    for ``race:A,B`` a :class:`~nncc.solvers.race.Race` of those, each checked so."""
    if is_race(solver):
        race = race_of(registry, solver)
        for racer in race.specs:
            pick_solver(registry, racer.name, logic, optimise)
        if not logic.milp and "smtlib" not in race.formats:
            raise TargetError(f"{solver}: the query needs {logic.smt} ({logic.why_not_milp}), "
                              "which only SMT-LIB says: race z3,cvc5")
        return race
    if solver != "auto":
        spec = registry.get(solver)
        if not logic.milp and "smtlib" not in spec.formats:
            raise TargetError(f"solver {solver} reads {'/'.join(spec.formats)} only, but the query "
                              f"needs {logic.smt} ({logic.why_not_milp}): use --solver z3 or cvc5")
        if optimise:
            _require_optimiser(spec, solver, "a loss or regulariser to minimise",
                               "z3" if not logic.milp else "highs, cbc or z3")
        return spec
    prefer = AUTO_ORDER_MILP if logic.milp else AUTO_ORDER_SMT
    if optimise:
        prefer = [n for n in prefer if n in registry.names() and registry.get(n).optimises]
    return registry.auto(["smtlib", "mps", "lp"], logic.smt, logic.milp, prefer=prefer)


def solve(query: Query, solver: str = "auto", *, time_limit: float | None = None,
          epsilon: float = DEFAULT_EPSILON, relu_encoding: str | None = None,
          bounds: str = DEFAULT_BOUNDS, bounds_budget: float = 10.0, certify: str | None = None,
          keep_file: str | None = None, registry=None, progress: Progress | None = None,
          start: bool = True, start_budget: float = 2.0,
          split_budget: float | None = None, root_lp: str = "auto") -> Answer:
    """Compile ``query`` for ``solver``, run it, map the values back and re-check them.

    For an adversarial query, ``start`` first looks for a checked answer by greedy
    descent and LPs over activation regions (:mod:`nncc.analysis.adversarial_start`,
    at most ``start_budget`` CPU seconds); the solver is then asked for anything
    closer, and when it finds nothing closer within its time limit the start
    is the answer (not proven optimal unless the solver proved its bound).
    When no start is found, ReLU splitting (:mod:`nncc.analysis.relu_split`, at
    most ``split_budget`` CPU seconds, half of ``time_limit`` at most, ending at the
    latest when :data:`~nncc.pipeline.steps.SPLIT_WALL_SHARE` of it has passed, and
    taken from it; default :data:`SPLIT_BUDGET` by query kind) looks for a proof
    that no input of the box reaches the class, which needs no solver, or for
    an answer to start from. A maximise query gets a start too (gradient ascent and
    LPs over activation regions, :mod:`nncc.analysis.maximize_start`): its value
    is the solver's cutoff, the answer is never worse than it, and the bound on the
    optimum (the solver's or the neuron bounds', the tighter) goes beside the value.

    ``root_lp`` (:data:`ROOT_LP`) says how highs solves a MILP's root LP: ``ipm``
    by the interior-point method, ``simplex`` as highs chooses (dual simplex),
    ``auto`` the interior-point method for a training query only. Other solvers
    ignore it.

    Never raises for a solver's "no solution" / "unknown": see ``Answer.status``.
    Raises :class:`SolverError` when the solver is missing or its output is unreadable.
    """
    if root_lp not in ROOT_LP:
        raise ValueError(f"root_lp must be one of {', '.join(ROOT_LP)}, not {root_lp!r}")
    progress = progress or Progress(False)
    t0 = time.perf_counter()
    registry = registry or load_registry()
    if query.kind == "train" and query.network.binarised and query.method == "local-search":
        from ..pipeline.local_search import solve_local_search
        return solve_local_search(query, time_limit=time_limit, epsilon=epsilon, progress=progress)
    strategy = STRATEGIES.get(query.kind)
    if solver != "auto" and strategy is not None:   # before any step spends time
        for name in (race_of(registry, solver).specs if is_race(solver) else [registry.get(solver)]):
            _require_optimiser(name, name.name, OBJECTIVE[query.kind], "highs, cbc or z3",
                               getattr(query, "pos", None))
    steps = None
    if start and strategy is not None:
        split = SPLIT_BUDGET[query.kind] if split_budget is None else split_budget
        steps = strategy.search(query, bounds, time_limit, start_budget, split, progress)
        time_limit = steps.time_limit
    found = steps.start if steps is not None else None
    enc = encode_query(query, epsilon, bounds, bounds_budget, start=found)
    if steps is not None:
        enc.notes.extend(steps.notes)
        if steps.proof is not None:
            enc.proof = steps.proof
    ans = _answer_without_solver(query, enc, steps, epsilon, t0)
    if ans is not None:
        if steps is not None and steps.proven:
            ans = _certified(ans, query, registry, certify, _left(time_limit, t0),
                             ans.result.objective, progress)
        ans.seconds = _seconds(steps, t0, time.perf_counter(), time.perf_counter(), None)
        ans.budgets = steps.budgets() if steps is not None else {}
        progress.stage(ans.status if enc.proof is None else enc.proof)
        return ans
    optimise = enc.program.objective is not None
    spec = pick_solver(registry, solver, enc.program.logic(), optimise)
    target = "smtlib" if "smtlib" in spec.formats else ("mps" if "mps" in spec.formats else "lp")
    comp = lower(query, target, epsilon=epsilon, encoded=enc)
    _refuse_dropped_objective(query, comp, spec)
    progress.stage(f"encoded ({comp.encoded.description}); {comp.logic.smt}, "
                   f"{comp.program.n_vars:,} variables, {comp.program.nnz:,} nonzeros")
    t1 = time.perf_counter()
    result, t2 = _run_solver(comp, spec, target, query, time_limit, relu_encoding, optimise,
                             keep_file, _focus(query, comp, found, root_lp), progress)
    ans = _answer_after_solver(query, comp, result, found, progress)
    if certify and ans.status == SOLUTION:
        ans = _certified(ans, query, registry, certify, _left(time_limit, t0),
                         result.objective if result.objective is not None else ans.check.value,
                         progress)
    ans.seconds = _seconds(steps, t0, t1, t2, result.seconds)
    ans.budgets = steps.budgets() if steps is not None else {}
    progress.stage(f"{ans.status}" + (f", accuracy {ans.check.accuracy:.1%}"
                                      if getattr(ans.check, "accuracy", None) is not None else ""))
    return ans


def _seconds(steps, t0: float, t1: float, t2: float, solver: float | None) -> dict[str, float]:
    """The run's seconds: the adversarial steps' before the solver (bounds, split,
    start), then compile (what else came before ``t1``), write (``t1`` to ``t2``),
    solve (the solver's own) and total. No solver ran (``solver`` None): no write
    and no solve."""
    before = dict(steps.seconds) if steps is not None else {}
    out = {**before, "compile": max(t1 - t0 - sum(before.values()), 0.0)}
    if solver is not None:
        out.update(write=t2 - t1, solve=solver)
    out["total"] = time.perf_counter() - t0
    return out


def _answer_without_solver(query, enc, steps, epsilon: float, t0: float) -> Answer | None:
    """The answer when no solver is needed: ReLU splitting proved the start (nearly)
    closest, or the bounds or the splitting proved there is no answer; else None."""
    if steps is not None and steps.proven:
        comp = lower(query, "mps", epsilon=epsilon, encoded=enc)
        ans = STRATEGIES[query.kind].answer_proven_start(query, comp, steps.start,
                                                         steps.proof_note, time.perf_counter() - t0)
    elif enc.proof is not None:
        comp = lower(query, "mps" if not enc.program.logic().nonlinear else "smtlib",
                     epsilon=epsilon, encoded=enc)
        result = SolverResult(NO_SOLUTION, solver="bounds", message=enc.proof)
        ans = Answer(NO_SOLUTION, query, result=result, compilation=comp,
                     notes=list(enc.notes) + [enc.proof],
                     how="relu splitting" if steps is not None and steps.proof else "bounds")
    else:
        return None
    return ans


def _require_optimiser(spec, solver: str, what: str, instead: str, pos=None) -> None:
    """A query with an objective (``what``) refuses a named solver that does not optimise."""
    if not spec.optimises:
        raise TargetError(f"solver {solver} does not optimise, and the query has an objective "
                          f"({what}): use {instead}", pos)


def _refuse_dropped_objective(query, comp, spec) -> None:
    """cbc drops a quadratic objective from MPS without a word: refuse instead (a race
    with cbc in it too)."""
    kinds = [s.kind for s in spec.specs] if isinstance(spec, Race) else [spec.kind]
    if "cbc" in kinds and comp.program.objective is not None and comp.program.objective.quadratic:
        raise TargetError(f"query '{query.name}' has a quadratic objective (L2 regulariser): cbc "
                          "would silently drop it from MPS (and rejects it in LP); use --solver "
                          "highs (a convex QP), or 'regularize l2 ... segments K' for tangent lines "
                          "that cbc solves", query.pos)


def _focus(query, comp, start, root_lp: str) -> str | None:
    """What the solver is told to focus on (:func:`nncc.solvers.highs.focus_args`): the
    bound when a start is known, else the root LP's method by ``root_lp``."""
    if start is not None:
        return "bound"
    if comp.target == "smtlib":   # (an LP ignores highs' MIP option)
        return None
    if root_lp == "ipm" or (root_lp == "auto" and query.kind == "train"):
        return "root-ipm"
    return None


def _run_solver(comp, spec, target: str, query, time_limit, relu_encoding, optimise: bool,
                keep_file, focus, progress: Progress):
    """Write the program for ``spec`` and run it, the solver's live line shown;
    ``(result, the time the file was written)``."""
    def written():   # the file is there: say so, then show the solver's live line
        progress.stage(f"wrote {target} for {spec.name}")
        return _ticks(query, progress.solver(spec.name))
    def checks(result) -> bool:   # a race's solution wins only once it passes the check
        if result.status != SOLUTION:
            return True
        ans = answer_from_result(query, comp, result)
        return ans.arrays is not None and ans.check is not None and ans.check.ok
    result, written_at = run_compiled(comp, spec, time_limit=time_limit, keep_file=keep_file,
                                      objective=optimise, relu_encoding=relu_encoding,
                                      on_written=written,
                                      focus=focus, accept=checks)
    progress.done()
    return result, written_at


def run_compiled(comp, spec, *, time_limit=None, keep_file=None, objective: bool = True,
                 relu_encoding: str | None = None, on_written=None, focus=None, accept=None):
    """Write a compiled program in its target format (into a temporary folder, or
    ``keep_file``) and run ``spec`` on it: ``(result, the time the file was written)``.
    ``on_written()``, called once the file is written, may return the solver's
    progress callback. The one write-and-run of every solver run
    (:mod:`nncc.pipeline.verify` too). For a :class:`~nncc.solvers.race.Race`,
    ``accept(result)`` says whether a deciding result may win (the check)."""
    with tempfile.TemporaryDirectory(prefix="nncc-") as tmp:
        path = keep_file or os.path.join(tmp, "query" + FORMAT_SUFFIX[comp.target])
        with open(path, "wb") as f:
            write_target(comp, f, relu_encoding=relu_encoding, objective=objective)
        comp.path = path
        written = time.perf_counter()
        on_progress = on_written() if on_written is not None else None
        if isinstance(spec, Race):
            result = race_file(spec, path, comp.target, time_limit=time_limit,
                               on_progress=on_progress, workdir=tmp, focus=focus, accept=accept)
        else:
            result = solve_file(spec, path, comp.target, time_limit=time_limit,
                                on_progress=on_progress, workdir=tmp, focus=focus)
    return result, written


def _answer_after_solver(query, comp, result: SolverResult, start, progress: Progress) -> Answer:
    """The solver's values mapped back and checked; for an adversarial or maximise query
    the start where the solver found nothing better that checks, and the bound the
    steps prove beside the answer where it is tighter than the solver's."""
    ans = answer_from_result(query, comp, result)   # (the objective and bound in the query's sense)
    if race_note(result):
        ans.notes.append(race_note(result))
    bound_note = None   # the bound beside the answer, where the steps know a better one
    if query.kind == "adversarial" and not result.optimal and result.status != NO_SOLUTION:
        bound_note = adversarial.distance_floor(query, result, start, progress)
    elif query.kind == "maximize":
        bound_note = maximize.value_bound(query, comp, result)
    ans.how = result.solver or comp.target
    checked = (ans.arrays is not None and ans.check is not None and ans.check.ok
               and ans.status in (SOLUTION, UNKNOWN))
    if checked and start is not None and query.kind == "maximize" and not result.optimal:
        checked = not maximize.worse(query, ans.check.value, start.value)  # never below the start
    if start is not None and not checked:
        ans = STRATEGIES[query.kind].answer_from_start(query, comp, result, start, ans)
    if bound_note is not None:
        ans.notes.append(bound_note)
    return ans


def _left(time_limit: float | None, t0: float) -> float | None:
    """What is left of ``time_limit`` since ``t0`` (a second at least, so that a check
    can start), or None without a limit."""
    if time_limit is None:
        return None
    return max(time_limit - (time.perf_counter() - t0), 1.0)


def _certified(ans: Answer, query, registry, certify: str | None, time_limit, value,
               progress: Progress) -> Answer:
    """With ``certify`` (z3 or cvc5), the answer of a maximize / adversarial query
    re-checked exactly (:mod:`nncc.pipeline.certify`) within ``time_limit``, the
    time the run has left (60 s without a limit)."""
    if not certify or ans.status != SOLUTION or query.kind not in ("maximize", "adversarial"):
        return ans
    from ..pipeline.certify import certify as certify_exactly
    progress.stage(f"certifying the answer exactly with {certify}")
    ans.certificate = certify_exactly(query, registry, certify, time_limit or 60.0,
                                      ans.arrays, value)
    if ans.certificate.problems and ans.certificate.input is not None:
        ans.status = "check_failed"  # an exact point broke a claim: not a float artefact
    return ans


def _ticks(query, tick):
    """The solver's live line in the query's terms where they are plain: for a
    binarised network trained to the fewest errors, the incumbent and the bound
    as training accuracy (``incumbent 3, bound 0`` -> ``training accuracy 95.3%
    (3 errors), at most 100.0%``)."""
    import re
    net = getattr(query, "network", None)
    if not (query.kind == "train" and getattr(net, "binarised", False)
            and getattr(query, "objective", None) in (None, "errors")
            and not getattr(query, "l1", 0) and not getattr(query, "regularised", False)
            and not getattr(query, "l0", 0)):
        return tick
    n = len(query.data.y)
    num = r"(-?[\d.]+(?:e[-+]?\d+)?)"

    def translated(elapsed, text):
        if text:
            inc, bound = re.search(r"incumbent " + num, text), re.search(r"bound " + num, text)
            gap = re.search(r"gap [^,]*", text)
            if inc:
                e = float(inc.group(1))
                text = f"training accuracy {1 - e / n:.1%} ({e:g} errors)"
                if bound:
                    text += f", at most {1 - max(float(bound.group(1)), 0.0) / n:.1%}"
                if gap:
                    text += f", {gap.group(0)}"
        tick(elapsed, text)
    return translated
