"""``verify``: is a VNN-LIB property violated (sat), does it hold (unsat), or unknown?

The steps (:data:`STEPS`, run by :func:`~nncc.pipeline.steps.run_steps`, each
on the disjuncts the previous left open; ``Verdict.seconds`` has each one's
seconds under its name):

1. **falsify** (:func:`~nncc.analysis.falsify.falsify`): random points of each
   disjunct's box, then greedy sign-gradient descent on the worst output row
   and LPs over the activation region of the best point; a candidate counts
   only after :func:`~nncc.checks.counterexample.check_counterexample`.
2. **bounds** (:func:`~nncc.analysis.bounds.prove_disjunct`): neuron bounds over
   the disjunct's box (symbolic back-substitution by default, or LP-tightened),
   then :func:`~nncc.analysis.symbolic_bounds.class_rows_unreachable` on its
   output rows: one unreachable row rules the disjunct out.
3. **split**: input splitting (:mod:`nncc.analysis.input_split`) for networks
   with few inputs (ACAS Xu has 5): bisect the disjunct's box until bounds rule
   out every part or a part's centre or corner is a checked counterexample,
   with part of the time (``split_budget``); what it leaves open goes on.
   Networks with more inputs (images) get ReLU splitting instead
   (:mod:`nncc.analysis.relu_split`): branch on unstable ReLUs with optimised
   back-substitution bounds, on each disjunct given by a box.
4. **tighten**: the LP / MILP bounds asked for, on what splitting left open.
5. **solver** on what remains: one program per disjunct (default) or one with
   an indicator binary per disjunct (:mod:`nncc.encodings.verify`), run by a
   solver subprocess; a feasible point is checked like a falsification
   candidate, and when it fails the check only by a hair an LP in its
   activation region looks for one with room to spare. A point that still
   fails makes the verdict ``unknown``.

Before them, properties no layer bound can reason about take a step of their
own: an empty unsafe set, rows over the outputs of a final softmax with no
exact form over the logits, inputs with no bound, a network kept as its ONNX
graph.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..analysis.bounds import network_bounds, prove_disjunct
from ..analysis.falsify import checked_point, falsify
from ..budget import Budget
from ..checks.counterexample import CexCheck, check_counterexample
from ..errors import InputError, SolverError
from ..problem.output_softmax import logit_property
from ..problem.property import Disjunct, Property, bound_free_inputs, load_network
from ..problem.query import VerifyQuery
from ..progress import Progress
from ..solvers.result import NO_SOLUTION, SOLUTION, race_note
from ..solvers.result import UNKNOWN as ANSWER_UNKNOWN
from .steps import SPLIT_WALL_SHARE, Clock, Step, run_steps

SAT, UNSAT, UNKNOWN = "sat", "unsat", "unknown"
CHECK_FAILED = "check_failed"   # a step's decision: unknown, a point failed the check
DISJUNCT_MODES = ("split", "indicator")


# what verify counts, kept in ``Answer.counts``
COUNTS = ("disjuncts", "proven_by_bounds", "proven_by_splitting", "split_boxes", "milp_runs")
_ANSWER_STATUS = {SAT: SOLUTION, UNSAT: NO_SOLUTION, UNKNOWN: ANSWER_UNKNOWN}


def _count(name: str) -> property:
    return property(lambda self: self.answer.counts[name],
                    lambda self, value: self.answer.counts.__setitem__(name, value),
                    doc=f"``Answer.counts['{name}']``")


class Verdict:
    """The answer of :func:`verify` seen as a verdict.

    ``answer`` is an :class:`~nncc.pipeline.answer.Answer` like every other query's:
    its status ``solution`` (a checked counterexample), ``no_solution`` (the
    property holds), ``unknown`` or ``check_failed``; ``how`` the step that decided;
    ``seconds`` per step; ``check`` the counterexample's
    :class:`~nncc.checks.counterexample.CexCheck` (or the candidate that failed it);
    ``arrays`` its input and output; ``counts`` the disjuncts and what each step
    ruled out. The view says it in VNN-LIB's words: ``status`` sat / unsat / unknown
    (``Answer.verdict``), ``check_failed`` when a point failed the check."""

    disjuncts = _count("disjuncts")
    proven_by_bounds = _count("proven_by_bounds")
    proven_by_splitting = _count("proven_by_splitting")
    split_boxes = _count("split_boxes")
    milp_runs = _count("milp_runs")

    def __init__(self, status: str = UNKNOWN, how: str = "", check: CexCheck | None = None,
                 message: str = "", notes: list[str] | None = None, *, query=None,
                 check_failed: bool = False, **counts):
        from .answer import Answer   # here: it loads scipy, which verify's start-up need not
        self.answer = Answer(ANSWER_UNKNOWN, query, notes=list(notes or []),
                             counts={k: 0 for k in COUNTS})
        self.answer.counts.update(counts)
        self.decide(status, how, message, check, check_failed)

    def decide(self, status: str, how: str, message: str = "", check: CexCheck | None = None,
               check_failed: bool = False) -> None:
        """Set the verdict (``check_failed``: ``check`` is a point that failed the check)."""
        a = self.answer
        a.status = "check_failed" if check_failed else _ANSWER_STATUS[status]
        a.how, a.message, a.check = how, message, check
        a.arrays = ({"input": check.x, "output": check.y}
                    if check is not None and check.x.size else None)

    @property
    def status(self) -> str:
        return self.answer.verdict

    @property
    def check_failed(self) -> bool:
        return self.answer.status == "check_failed"

    @property
    def how(self) -> str:
        return self.answer.how

    @property
    def message(self) -> str:
        return self.answer.message

    @property
    def check(self) -> CexCheck | None:
        return self.answer.check

    @property
    def notes(self) -> list[str]:
        return self.answer.notes

    @property
    def seconds(self) -> dict[str, float]:
        return self.answer.seconds

    @property
    def budgets(self) -> dict[str, dict]:
        return self.answer.budgets

    def report(self) -> dict:
        out = {"verdict": self.status, "how": self.how, "message": self.message,
               "notes": self.notes, "seconds": self.seconds, "budgets": self.budgets,
               **self.answer.counts}
        if self.check is not None:
            out["counterexample"] = self.check.to_json()
        return out


# -- the solver runs ----------------------------------------------------------------

def _run_program(query, enc, spec, target, time_limit, keep_file=None, accept_point=None):
    """One solver run on an encoded disjunct (or disjunction): lowered for ``target``,
    written (to ``keep_file`` when given), solved; ``(result, the input point or None)``.
    ``accept_point(x)``: whether a race's solution may win (its point passes the check)."""
    from .compile import arrays_from_values, lower
    from .solve import run_compiled
    comp = lower(query, target, encoded=enc)

    def point(result):
        if result.status == "solution" or (result.status == "unknown" and result.has_incumbent):
            arrays = arrays_from_values(comp.symbol_map, result)
            return np.asarray(arrays["input"], float).reshape(-1)
        return None

    def accept(result) -> bool:
        return result.status != "solution" or accept_point is None or accept_point(point(result))
    result, _ = run_compiled(comp, spec, time_limit=time_limit, keep_file=keep_file,
                             objective=False, accept=accept)
    return result, point(result)


@dataclass
class _Run:
    """The state verify's steps share: the network and property (restated as the steps
    go), the options, the clock, the verdict being built (its ``seconds``), the
    disjuncts still open and their bounds, and the splitting that applies."""

    net: object
    prop: Property
    opts: dict
    clock: Clock
    progress: Progress
    verdict: Verdict
    restated: Property | None = None   # over the logits; None: no exact form there
    free: list[int] = field(default_factory=list)   # inputs the network reads with no bound
    clip_loses: bool = False
    open_ks: list[int] = field(default_factory=list)
    nbs: dict = field(default_factory=dict)
    splitting: str | None = None     # "input" (few inputs), "relu" (many) or None
    first: str = "symbolic"          # the bounds of the first proofs
    decided_by: str = ""
    cpu: dict = field(default_factory=dict)   # CPU seconds per step (run_steps)

    @property
    def seconds(self) -> dict[str, float]:
        return self.verdict.seconds


def verify(net_path: str | None, prop_path: str | None, *, net=None, prop: Property | None = None,
           solver: str = "auto", time_limit: float | None = None, bounds: str = "symbolic",
           bounds_budget: float = 10.0, disjuncts: str = "split", falsify_budget: float | None = None,
           registry=None, progress: Progress | None = None, keep_file: str | None = None,
           split_budget: float | None = None, split_rule: str = "relax",
           split_workers: int = 1) -> Verdict:
    """The verdict on a network file (``.onnx`` / ``.nnet``) and a VNN-LIB file.

    ``split_budget``: seconds for input splitting, or ReLU splitting on networks
    with many inputs (default: 60 % of the time left, or 60 s without a time
    limit; 0 skips it); ``split_rule``: which
    input a box is bisected along (:func:`~nncc.analysis.input_split.split_verify`);
    ``split_workers``: processes for input or ReLU splitting, each with that budget
    (:mod:`nncc.analysis.parallel_split`; 1: in this process).

    ``time_limit`` bounds the whole run (falsification, bounds, solver runs);
    ``disjuncts``: ``split`` (one solver run per disjunct left open) or
    ``indicator`` (one run with a binary per disjunct).

    The steps (:data:`STEPS`) run in order through
    :func:`~nncc.pipeline.steps.run_steps`; ``Verdict.seconds`` has each one's
    seconds under its name, ``Verdict.how`` says what decided."""
    if disjuncts not in DISJUNCT_MODES:
        raise InputError(f"unknown disjunct mode {disjuncts!r}: split or indicator")
    opts = dict(solver=solver, bounds=bounds, bounds_budget=bounds_budget, disjuncts=disjuncts,
                falsify_budget=falsify_budget, registry=registry, keep_file=keep_file,
                split_budget=split_budget, split_rule=split_rule,
                split_workers=max(1, int(split_workers)))
    run = _load(net_path, prop_path, net, prop, opts, Clock(time_limit), progress or Progress(False))
    status, how, message, check = run_steps(STEPS, run)
    return _finish(run, status, how, message, check)


def _load(net_path, prop_path, net, prop, opts: dict, clock: Clock, progress: Progress) -> _Run:
    """The network and the property read, the property restricted to the network's
    input box (an NNet header's clip box), restated over the logits of a final
    softmax the importer left out (:func:`~nncc.problem.output_softmax.logit_property`)
    where the rows have an exact form there, and its inputs with no bound found
    (:func:`~nncc.problem.property.bound_free_inputs`)."""
    from ..frontend.vnnlib import load_vnnlib
    net = net if net is not None else load_network(net_path, graph=True)
    prop = prop if prop is not None else load_vnnlib(prop_path)
    prop.check_network(net)
    notes = list(getattr(net, "notes", []))   # e.g. a dropped final softmax
    clip_loses = False
    if getattr(net, "input_box", None) is not None:
        n_before = len(prop.disjuncts)
        clips = getattr(net, "input_clip", False)
        clip_loses = clips and prop.clip_loses(net.input_box)
        prop = prop.restrict_to(net.input_box, clips=clips)
        notes.append(("inputs clipped into the network's clip box (the NNet header's min / max: "
                      "the network sees the clipped input)" if clips else
                      "inputs restricted to the network's input box")
                     + (f"; {n_before - len(prop.disjuncts)} disjuncts left empty"
                        if n_before != len(prop.disjuncts) else ""))
    v = Verdict(UNKNOWN, notes=list(prop.notes) + notes, disjuncts=len(prop.disjuncts),
                query=VerifyQuery(f"verify_{net.name}", net, prop, network_path=net_path))
    run = _Run(net, prop, opts, clock, progress, v, restated=logit_property(net, prop),
               clip_loses=clip_loses)
    if prop.disjuncts and run.restated is not None:
        if run.restated is not prop:
            v.notes.append(run.restated.notes[-1])
            run.prop = run.restated
        run.prop, run.free = bound_free_inputs(net, run.prop)
    v.seconds["load"] = clock.elapsed()
    return run


def _finish(run: _Run, status: str, how: str, message: str, check) -> Verdict:
    """The verdict, with one rule over every step: an input clipped by the network
    makes a proof over the unclipped rows no proof."""
    v = run.verdict
    if status == UNSAT and run.clip_loses:
        status, how, message = UNKNOWN, "clip", (
            f"{message}; but a disjunct has input rows and reaches outside the network's "
            "clip box, where the rows speak of the input and the network sees its clip: "
            "nothing is proven")
    failed = status == CHECK_FAILED        # unknown, with the point that failed the check
    v.decide(UNKNOWN if failed else status, how, message, check, check_failed=failed)
    v.seconds["total"] = run.clock.elapsed()
    return v


# -- the steps: each returns (status, how, message, check) to decide, or None ----------

def _empty_property(run: _Run):
    return UNSAT, "property", "the unsafe set is empty", None


def _softmax_bisection(run: _Run):
    """Rows over softmax outputs with no exact form over the logits: softmax splitting."""
    return _bisection(run, graph=False)


def _graph_bisection(run: _Run):
    """A network kept as its ONNX graph (not piecewise linear): graph splitting."""
    return _bisection(run, graph=True)


def _falsify_budget(run: _Run) -> float:
    fb, limit = run.opts["falsify_budget"], run.clock.time_limit
    return fb if fb is not None else min(2.0, 0.1 * limit if limit else 2.0)


def _falsify(run: _Run):
    chk = falsify(run.net, run.prop, Budget(_falsify_budget(run), run.clock.deadline))
    if chk is None:
        return None
    run.progress.stage("falsification found a counterexample")
    return SAT, "falsification", f"counterexample in disjunct {chk.disjunct + 1}", chk


def _bounds(run: _Run):
    """Proofs from bounds per disjunct; where splitting follows, the costly LP / MILP
    tightening waits for the disjuncts that reach the solver (:func:`_tighten`)."""
    from ..analysis import input_split, relu_split
    net, prop, opts = run.net, run.prop, run.opts
    may_split = opts["split_budget"] is None or opts["split_budget"] > 0
    if may_split and input_split.supported(net):
        run.splitting = "input"
    elif may_split and relu_split.supported(net):
        run.splitting = "relu"
    bounds = opts["bounds"]
    run.first = "symbolic" if run.splitting and bounds in ("lp", "milp") else bounds
    for k, d in enumerate(prop.disjuncts):
        nb = network_bounds(net, d.lo, d.hi, run.first, run.clock.budget(opts["bounds_budget"]))
        if prove_disjunct(net, d, nb) is None:
            run.open_ks.append(k)
            run.nbs[k] = nb
        else:
            run.verdict.proven_by_bounds += 1
        if run.clock.expired():
            return UNKNOWN, "timeout", "time limit reached while computing bounds", None
    if not run.open_ks:
        return (UNSAT, "bounds", f"every disjunct ({len(prop.disjuncts)}) is unreachable by "
                f"{run.first} bounds", None)
    return None


def _numpy_check(net, prop, prefer: int):
    """The counterexample check with the float64 forward pass only (no onnxruntime: the
    parallel split's workers are forked), a candidate's first filter."""
    import copy
    plain = copy.copy(net)
    plain.source = ""

    def check(x) -> bool:
        return check_counterexample(plain, prop, x, prefer=prefer).ok
    return check


def _split(run: _Run):
    """Input splitting (few inputs) or ReLU splitting (many) on the disjuncts given by a
    box with output rows; input splitting searches the disjuncts of one box together;
    either on ``split_workers`` processes where more than one is asked for."""
    from ..analysis import input_split, parallel_split, relu_split
    net, prop, v, opts = run.net, run.prop, run.verdict, run.opts
    budget, left = opts["split_budget"], run.clock.left()
    # CPU seconds (the same work idle or under load); by default 60 % of the time left,
    # ending at the latest when SPLIT_WALL_SHARE of it has passed: the rest is the
    # solver's. A budget given ends at the run's limit at the latest.
    if budget is not None:
        whole = Budget(budget, run.clock.deadline)
    elif left is not None:
        whole = Budget(0.6 * left, time.perf_counter() + SPLIT_WALL_SHARE * left)
    else:
        whole = Budget(60.0)
    # input rows (not a box), or no output row (nothing for the bounds to rule out)
    still = [k for k in run.open_ks if len(prop.disjuncts[k].b) or not len(prop.disjuncts[k].d)]
    groups: dict = {}
    for k in run.open_ks:
        d = prop.disjuncts[k]
        if not len(d.b) and len(d.d):
            key = (d.lo.tobytes(), d.hi.tobytes()) if run.splitting == "input" else k
            groups.setdefault(key, []).append(k)
    what, unit = (("input splitting", "boxes") if run.splitting == "input"
                  else ("ReLU splitting", "nodes"))
    workers_cpu = 0.0
    for i, ks in enumerate(groups.values()):
        d0 = prop.disjuncts[ks[0]]
        passed: list[CexCheck] = []  # the check that let a point through

        def check(x, k=ks[0], passed=passed):
            chk = check_counterexample(net, prop, x, prefer=k)
            passed[:] = [chk] if chk.ok else []
            return chk.ok
        share = whole.part(whole.cpu_left() / (len(groups) - i))
        if run.splitting == "input" and opts["split_workers"] > 1:
            rows = [(prop.disjuncts[k].C, prop.disjuncts[k].d, prop.disjuncts[k].c_strict)
                    for k in ks]
            r = parallel_split.split_verify_parallel(
                net, rows, d0.lo, d0.hi, check=check, numpy_check=_numpy_check(net, prop, ks[0]),
                workers=opts["split_workers"], time_limit=share, progress=run.progress,
                rule=opts["split_rule"])
            workers_cpu += r.cpu
        elif run.splitting == "input":
            rows = [(prop.disjuncts[k].C, prop.disjuncts[k].d, prop.disjuncts[k].c_strict)
                    for k in ks]
            r = input_split.split_verify(net, rows, d0.lo, d0.hi, check=check, time_limit=share,
                                         progress=run.progress, rule=opts["split_rule"])
        elif opts["split_workers"] > 1:
            r = parallel_split.relu_split_verify_parallel(
                net, d0.C, d0.d, d0.lo, d0.hi, check=check,
                numpy_check=_numpy_check(net, prop, ks[0]), workers=opts["split_workers"],
                time_limit=share, progress=run.progress)
            workers_cpu += r.cpu
        else:
            r = relu_split.relu_split_verify(net, d0.C, d0.d, d0.lo, d0.hi, check=check,
                                             time_limit=share, progress=run.progress)
        v.split_boxes += r.boxes
        v.budgets["split"] = whole.use()
        if workers_cpu:   # the work was the workers': their CPU, the budget of them all
            v.budgets["split"].update(cpu=workers_cpu, workers=opts["split_workers"],
                                      budget=None if whole.cpu is None
                                      else whole.cpu * opts["split_workers"])
        if r.status == "sat":
            chk = passed[0]
            return (SAT, what, f"counterexample in disjunct {chk.disjunct + 1} "
                    f"({r.boxes:,} {unit})", chk)
        if r.status == "unsat":
            v.proven_by_splitting += len(ks)
        else:
            still.extend(ks)
    run.open_ks = still
    if not still:
        return (UNSAT, what, f"every disjunct ({len(prop.disjuncts)}) is ruled out: "
                f"{v.proven_by_bounds} by bounds, {v.proven_by_splitting} by {what} "
                f"({v.split_boxes:,} {unit})", None)
    return None


def _tighten(run: _Run):
    """The LP / MILP bounds asked for, on the disjuncts that reach the solver."""
    v, bounds, still = run.verdict, run.opts["bounds"], []
    for k in run.open_ks:
        d = run.prop.disjuncts[k]
        run.nbs[k] = network_bounds(run.net, d.lo, d.hi, bounds,
                                    run.clock.budget(run.opts["bounds_budget"]))
        if prove_disjunct(run.net, d, run.nbs[k]) is None:
            still.append(k)
        else:
            v.proven_by_bounds += 1
    run.open_ks = still
    if not still:
        return (UNSAT, "bounds", f"every disjunct ({len(run.prop.disjuncts)}) is ruled out: "
                f"{v.proven_by_bounds} by bounds, {v.proven_by_splitting} by splitting", None)
    return None


def _solver(run: _Run):
    """One MILP / SMT program per disjunct left open (or one with an indicator binary
    per disjunct), run by a solver subprocess; a feasible point decides ``sat`` only
    after the check."""
    from ..solvers.registry import load_registry
    prop, v = run.prop, run.verdict
    run.progress.stage(f"{len(run.open_ks)} of {len(prop.disjuncts)} disjuncts left for the solver")
    solver = _Solver(run, run.opts["registry"] or load_registry())
    one_each = run.opts["disjuncts"] == "split" or len(run.open_ks) == 1
    groups = [[k] for k in run.open_ks] if one_each else [run.open_ks]
    for ks in groups:
        if run.clock.expired():
            return UNKNOWN, "timeout", "time limit reached", None
        decision = solver.run(ks)
        if decision is not None:
            return decision
    failed = solver.failed
    if failed is not None and failed.x.size == 0:
        return (UNKNOWN, "strict border", "a disjunct is reachable only on the border of a "
                "strict row (no point with the epsilon room); nothing is proven", None)
    if failed is not None:
        return (CHECK_FAILED, "check failed", "the solver's point failed the counterexample check: "
                + "; ".join(failed.problems), failed)
    return (UNSAT, f"milp ({solver.spec.name})" if v.milp_runs else "bounds",
            f"{v.proven_by_bounds} disjuncts ruled out by bounds, {v.milp_runs} solver runs "
            "infeasible", None)


class _Solver:
    """The solver step's runs: the solver picked for the first program, the target it
    reads, and the last point that failed the check."""

    def __init__(self, run: _Run, registry):
        self.run_, self.registry = run, registry
        self.query = VerifyQuery(f"verify_{run.net.name}", run.net, run.prop)
        self.spec = self.target = None
        self.failed: CexCheck | None = None

    def encode(self, ks: list[int], strict: bool = False):
        from ..encodings.verify import encode_disjunct, encode_disjunction
        run, bounds = self.run_, self.run_.opts["bounds"]
        if len(ks) > 1:
            return encode_disjunction(run.net, run.prop, ks, bounds, run.opts["bounds_budget"])
        return encode_disjunct(run.net, run.prop, ks[0], bounds, nb=run.nbs[ks[0]], strict=strict)

    def solve(self, enc, ks: list[int]):
        run = self.run_

        def checks(x) -> bool:
            chk = checked_point(run.net, run.prop, ks, x)
            return chk is not None and chk.ok
        result, x = _run_program(self.query, enc, self.spec, self.target, run.clock.left(),
                                 run.opts["keep_file"], checks)
        note = race_note(result)
        if note:
            run.verdict.notes.append(note)
        run.verdict.milp_runs += 1
        if result.status == "error":
            raise SolverError(f"{self.spec.name}: {result.message or 'solver failed'}")
        return result, x

    def run(self, ks: list[int]):
        """The decision on the disjuncts ``ks`` (sat or a time-out), or None to go on."""
        from .solve import pick_solver
        run = self.run_
        enc = self.encode(ks)
        if self.spec is None:
            self.spec = pick_solver(self.registry, run.opts["solver"], enc.program.logic(), False)
            self.target = ("smtlib" if "smtlib" in self.spec.formats else
                           "mps" if "mps" in self.spec.formats else "lp")
        if self.target == "smtlib" and len(ks) == 1:  # SMT-LIB says strict rows as they are
            enc = self.encode(ks, strict=True)
        run.progress.stage(f"{self.spec.name}: disjuncts {', '.join(str(k + 1) for k in ks)}")
        result, x = self.solve(enc, ks)
        if result.status == "no_solution":
            return None
        if x is None:
            return UNKNOWN, "timeout", f"{self.spec.name}: {result.message or 'no answer'}", None
        chk = checked_point(run.net, run.prop, ks, x)
        if chk is None and len(ks) == 1 and run.prop.has_strict and self.target != "smtlib":
            # the closed program's point may sit on a strict row: ask for room (epsilon)
            result, x = self.solve(self.encode(ks, strict=True), ks)
            if result.status == "no_solution":
                run.verdict.notes.append(f"disjunct {ks[0] + 1} is reachable only on the border "
                                         "of a strict row (no point with the epsilon room)")
                self.failed = self.failed or CexCheck(False, np.zeros(0), np.zeros(0),
                                                      problems=["only the border of a strict row"])
                return None
            chk = checked_point(run.net, run.prop, ks, x) if x is not None else None
        if chk is not None and chk.ok:
            return (SAT, f"milp ({result.solver or self.spec.name})",
                    f"counterexample in disjunct {chk.disjunct + 1}", chk)
        self.failed = check_counterexample(run.net, run.prop, x) if x is not None else self.failed
        return None


def _bisection(run: _Run, graph: bool):
    """Box splitting with bounds the layer passes do not give: rows over the outputs of a
    final softmax that the logits cannot state exactly (softmax bounds,
    :mod:`nncc.analysis.softmax_split`), or a network kept as its ONNX graph (interval
    bounds, :mod:`nncc.analysis.graph_split`)."""
    net, prop, v, progress = run.net, run.prop, run.verdict, run.progress
    passed: list[CexCheck] = []

    def check(x, k):
        chk = check_counterexample(net, prop, x, prefer=k)
        passed[:] = [chk] if chk.ok else []
        return chk.ok
    left = run.clock.left()
    limit = Budget(60.0 if left is None else left, run.clock.deadline)
    if graph:
        from ..analysis.graph_split import graph_split_verify
        how, bounds = "graph splitting", "interval bounds of the graph"
        progress.stage(f"{net.describe()}: graph splitting")
        r = graph_split_verify(net, prop, check=check, time_limit=limit, progress=progress)
    else:
        from ..analysis.softmax_split import softmax_split_verify
        how, bounds = "softmax splitting", "softmax bounds"
        progress.stage(f"rows over the {net.output_softmax} outputs: softmax splitting")
        r = softmax_split_verify(net, prop, check=check, time_limit=limit)
    v.split_boxes = r.boxes
    if r.status == "sat":
        chk = passed[0]
        return SAT, how, f"counterexample in disjunct {chk.disjunct + 1} ({r.boxes:,} boxes)", chk
    if r.status == "unsat":
        v.proven_by_splitting = len(prop.disjuncts)
        return (UNSAT, how, f"every disjunct ({len(prop.disjuncts)}) is ruled "
                f"out by {bounds} ({r.boxes:,} boxes)", None)
    what = net.describe() if graph else f"rows over the {net.output_softmax} outputs"
    return (UNKNOWN, "timeout" if r.reason == "time limit" else how,
            f"{what}: {r.reason} ({r.boxes:,} boxes)", None)


def _unbounded(run: _Run):
    """Inputs the network reads with no bound: nncc's proofs need a bounded box, so only a
    counterexample can be found, searched for in growing boxes inside the unbounded
    one; a box with no counterexample proves nothing about the rest."""
    prop, free = run.prop, run.free
    names = ", ".join(f"X_{i}" for i in free[:5]) + (" ..." if len(free) > 5 else "")
    radii = (1.0, 100.0, 1e4)
    options = {k: o for k, o in run.opts.items() if k != "keep_file"}
    for n, R in enumerate(radii):
        boxed = []
        for d in prop.disjuncts:
            lo, hi = d.lo.copy(), d.hi.copy()
            fl, fh = np.isfinite(lo), np.isfinite(hi)
            lo = np.where(fl, lo, np.where(fh, hi - R, -R))
            hi = np.where(fh, hi, np.where(fl, lo + R, R))
            boxed.append(Disjunct(lo, hi, d.lo_strict & fl, d.hi_strict & fh, d.A, d.b,
                                  d.a_strict, d.C, d.d, d.c_strict, d.where))
        sub = Property(prop.path, prop.n_inputs, prop.n_outputs, boxed, [],
                       prop.original or prop, prop.logits, prop.integer_inputs)
        limit = run.clock.left()
        share = None if limit is None else limit / (len(radii) - n)
        w = verify(None, None, net=run.net, prop=sub, progress=run.progress,
                   time_limit=share or (20.0 if limit is None else 0.01), **options)
        if w.status == SAT:
            run.verdict.split_boxes += w.split_boxes
            return (SAT, w.how, f"{w.message} (inputs {names} have no bound; searched within "
                    f"{R:g} of the bounds given)", w.check)
    return (UNKNOWN, "unbounded inputs", f"inputs {names} have no lower or upper bound and "
            "the network reads them: no counterexample within 10,000 of the bounds given, and "
            "nncc proves properties over bounded inputs only", None)


STEPS = [
    Step("property", _empty_property, when=lambda run: not run.prop.disjuncts),
    Step("split", _softmax_bisection, when=lambda run: run.restated is None),
    Step("unbounded", _unbounded, when=lambda run: bool(run.free)),
    Step("split", _graph_bisection, when=lambda run: getattr(run.net, "kind", "") == "graph"),
    Step("falsify", _falsify, when=lambda run: _falsify_budget(run) > 0),
    Step("bounds", _bounds),
    Step("split", _split, when=lambda run: run.splitting is not None),
    Step("tighten", _tighten, when=lambda run: run.first != run.opts["bounds"]),
    Step("solver", _solver),
]
