"""``verify``: is a VNN-LIB property violated (sat), does it hold (unsat), or unknown?

The steps, cheapest first, each on the disjuncts the previous left open:

1. **Falsification** (:func:`falsify`): random points of each disjunct's box,
   then greedy sign-gradient descent on the worst output row and LPs over
   the activation region of the best point (the pieces of
   :mod:`nncc.analysis.adversarial_start`); a candidate counts only after
   :func:`~nncc.checks.counterexample.check_counterexample`.
2. **Proof from bounds** (:func:`prove_disjunct`): neuron bounds over the
   disjunct's box (symbolic back-substitution by default, or LP-tightened),
   then :func:`~nncc.analysis.symbolic_bounds.class_rows_unreachable` on its
   output rows: one unreachable row rules the disjunct out.
3. **Input splitting** (:mod:`nncc.analysis.input_split`) for networks with
   few inputs (ACAS Xu has 5): bisect the disjunct's box until bounds rule
   out every part or a part's centre or corner is a checked counterexample,
   with part of the time (``split_budget``); what it leaves open goes on.
   Networks with more inputs (images) get **ReLU splitting** instead
   (:mod:`nncc.analysis.relu_split`): branch on unstable ReLUs with optimised
   back-substitution bounds, on each disjunct given by a box.
4. **MILP / SMT** on what remains: one program per disjunct (default) or one
   with an indicator binary per disjunct
   (:mod:`nncc.encodings.verify`), run by a solver subprocess; a feasible
   point is checked like a falsification candidate, and when it fails the
   check only by a hair an LP in its activation region looks for one with
   room to spare. A point that still fails makes the verdict ``unknown``.
"""
from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..problem.property import Property, bound_free_inputs, load_network
from ..problem.query import VerifyQuery
from ..progress import Progress
from ..checks.counterexample import CexCheck, check_counterexample

SAT, UNSAT, UNKNOWN = "sat", "unsat", "unknown"
DISJUNCT_MODES = ("split", "indicator")


@dataclass
class Verdict:
    """``status`` sat / unsat / unknown; ``how`` the step that decided; ``check`` the
    checked counterexample (sat) or the failed candidate (unknown after a failed check)."""

    status: str
    how: str = ""
    check: CexCheck | None = None
    message: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    disjuncts: int = 0
    proven_by_bounds: int = 0
    milp_runs: int = 0
    split_boxes: int = 0
    proven_by_splitting: int = 0
    check_failed: bool = False

    def report(self) -> dict:
        out = {"verdict": self.status, "how": self.how, "message": self.message,
               "notes": self.notes, "seconds": self.seconds, "disjuncts": self.disjuncts,
               "proven_by_bounds": self.proven_by_bounds,
               "proven_by_splitting": self.proven_by_splitting, "split_boxes": self.split_boxes,
               "milp_runs": self.milp_runs}
        if self.check is not None:
            out["counterexample"] = {"ok": self.check.ok, "disjunct": self.check.disjunct,
                                     "x": self.check.x.tolist(), "y": self.check.y.tolist(),
                                     "tolerance": self.check.tolerance,
                                     "problems": self.check.problems}
        return out


# -- 1. falsification -------------------------------------------------------------------

def falsify(net, prop: Property, budget: float = 1.0, samples: int = 256, seed: int = 0,
            skip: set | None = None) -> CexCheck | None:
    """A checked counterexample found without a solver, or None (at most about ``budget`` s)."""
    from ..analysis.adversarial_start import greedy_linf, highspy
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    deadline = t0 + budget
    ks = [k for k in range(len(prop.disjuncts)) if not skip or k not in skip]
    # sampling first on every disjunct: its best point steers the descent
    seeds = []
    for k in ks:
        d = prop.disjuncts[k]
        S = np.vstack([(d.lo + d.hi) / 2, d.lo + rng.random((samples, len(d.lo))) * (d.hi - d.lo)])
        if len(d.b):
            S = S[np.all(S @ d.A.T >= d.b, axis=1)]
            if not len(S):
                continue
        Y = net.forward(S)
        slack = (Y @ d.C.T - d.d).min(axis=1) if len(d.d) else np.ones(len(S))
        order = np.argsort(-slack)
        for i in order[:4]:
            if slack[i] > 0:
                chk = check_counterexample(net, prop, S[i], prefer=k)
                if chk.ok:
                    return chk
        seeds.append((float(slack[order[0]]), k, S[order[0]]))
        if time.perf_counter() > deadline:
            return None
    seeds.sort(key=lambda s: -s[0])
    for _, k, x0 in seeds:
        d = prop.disjuncts[k]
        if not len(d.d) or time.perf_counter() > deadline:
            continue
        goal = 1e-6 * (1.0 + float(np.abs(d.d).max()))
        x, _ = greedy_linf(net, x0, d.lo, d.hi, d.C, d.d, goal, deadline)
        if x is not None:
            chk = check_counterexample(net, prop, x, prefer=k)
            if chk.ok:
                return chk
        if highspy is not None and not len(d.b) and isinstance(x0, np.ndarray):
            start = x if x is not None else x0
            chk = polish(net, prop, k, start)
            if chk is not None:
                return chk
    return None


def polish(net, prop: Property, k: int, x: np.ndarray) -> CexCheck | None:
    """An LP in the activation region of ``x``: the point of disjunct ``k``'s box closest
    to ``x`` (L-infinity) whose outputs clear every row by a relative 1e-6; checked."""
    from ..analysis.adversarial_start import relu_pattern, region_lp, highspy
    d = prop.disjuncts[k]
    if highspy is None or len(d.b) or not len(d.d):
        return None
    x = np.clip(np.asarray(x, float), d.lo, d.hi)
    try:
        xp = region_lp(net, x, d.lo, d.hi, d.C, d.d, "linf", relu_pattern(net, x))
    except Exception:  # the LP is a shortcut only
        return None
    if xp is None:
        return None
    chk = check_counterexample(net, prop, xp, prefer=k)
    return chk if chk.ok else None


# -- 2. proofs from bounds --------------------------------------------------------------

def prove_disjunct(net, d, nb) -> str | None:
    """A sentence proving disjunct ``d`` unreachable with the neuron bounds ``nb``, or None."""
    from ..analysis.symbolic_bounds import class_rows_unreachable
    if len(d.b):
        Ap, An = np.maximum(d.A, 0), np.minimum(d.A, 0)
        best = Ap @ d.hi + An @ d.lo
        if np.any(best < d.b - 1e-12 * (1 + np.abs(d.b))):
            return "its input rows cannot hold in its box"
    if len(d.d):
        dead = class_rows_unreachable(net, nb, d.C, d.d)
        if dead.any():
            return f"output row {int(np.argmax(dead)) + 1} is unreachable ({nb.method} bounds)"
    return None


# -- 3. the solver ------------------------------------------------------------------------

def _run_program(query, enc, spec, target, time_limit, keep_file=None):
    from ..writers import FORMAT_SUFFIX
    from .compile import arrays_from_values, lower, write_target
    from ..solvers.runner import solve_file
    comp = lower(query, target, encoded=enc)
    with tempfile.TemporaryDirectory(prefix="nncc-verify-") as tmp:
        path = keep_file or os.path.join(tmp, "query" + FORMAT_SUFFIX[target])
        with open(path, "wb") as f:
            write_target(comp, f, objective=False)
        result = solve_file(spec, path, target, time_limit=time_limit, workdir=tmp)
    x = None
    if result.status == "solution" or (result.status == "unknown" and result.has_incumbent):
        arrays = arrays_from_values(comp.symbol_map, result)
        x = np.asarray(arrays["input"], float).reshape(-1)
    return result, x


def verify(net_path: str | None, prop_path: str | None, *, net=None, prop: Property | None = None,
           solver: str = "auto", time_limit: float | None = None, bounds: str = "symbolic",
           bounds_budget: float = 10.0, disjuncts: str = "split", falsify_budget: float | None = None,
           registry=None, progress: Progress | None = None, keep_file: str | None = None,
           split_budget: float | None = None, split_rule: str = "relax") -> Verdict:
    """The verdict on a network file (``.onnx`` / ``.nnet``) and a VNN-LIB file.

    ``split_budget``: seconds for input splitting, or ReLU splitting on networks
    with many inputs (default: 60 % of the time left, or 60 s without a time
    limit; 0 skips it); ``split_rule``: which
    input a box is bisected along (:func:`~nncc.analysis.input_split.split_verify`).

    ``time_limit`` bounds the whole run (falsification, bounds, solver runs);
    ``disjuncts``: ``split`` (one solver run per disjunct left open) or
    ``indicator`` (one run with a binary per disjunct)."""
    from ..analysis.bounds import network_bounds
    from ..frontend.vnnlib import load_vnnlib

    progress = progress or Progress(False)
    t0 = time.perf_counter()
    deadline = t0 + time_limit if time_limit else None
    left = (lambda: max(deadline - time.perf_counter(), 0.0)) if deadline else (lambda: None)
    if disjuncts not in DISJUNCT_MODES:
        raise InputError(f"unknown disjunct mode {disjuncts!r}: split or indicator")
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
    from ..problem.output_softmax import logit_property
    restated = logit_property(net, prop)
    v = Verdict(UNKNOWN, notes=list(prop.notes) + notes, disjuncts=len(prop.disjuncts))
    t_load = time.perf_counter()

    def done(status, how, message="", check=None):
        if status == UNSAT and clip_loses:
            status, how, message = UNKNOWN, "clip", (
                f"{message}; but a disjunct has input rows and reaches outside the network's "
                "clip box, where the rows speak of the input and the network sees its clip: "
                "nothing is proven")
        v.status, v.how, v.message, v.check = status, how, message, check
        v.seconds["total"] = time.perf_counter() - t0
        v.seconds.setdefault("load", t_load - t0)
        return v

    if not prop.disjuncts:
        return done(UNSAT, "property", "the unsafe set is empty")
    if restated is None:   # rows over softmax outputs with no exact form over the logits
        return _verify_by_bisection(net, prop, v, done, left, progress, graph=False)
    if restated is not prop:
        v.notes.append(restated.notes[-1])
        prop = restated
    prop, free = bound_free_inputs(net, prop)
    if free:
        return _verify_unbounded(net, prop, free, v, done, left, dict(
            solver=solver, bounds=bounds, bounds_budget=bounds_budget, disjuncts=disjuncts,
            falsify_budget=falsify_budget, registry=registry, progress=progress,
            split_budget=split_budget, split_rule=split_rule))
    if getattr(net, "kind", "") == "graph":   # not piecewise linear: its ONNX graph
        return _verify_by_bisection(net, prop, v, done, left, progress, graph=True)
    # 1. falsification
    fb = falsify_budget if falsify_budget is not None else min(2.0, 0.1 * time_limit
                                                                if time_limit else 2.0)
    t1 = time.perf_counter()
    chk = falsify(net, prop, fb) if fb > 0 else None
    v.seconds["falsify"] = time.perf_counter() - t1
    if chk is not None:
        progress.stage("falsification found a counterexample")
        return done(SAT, "falsification", f"counterexample in disjunct {chk.disjunct + 1}", chk)
    # 2. proofs from bounds, per disjunct; where input splitting follows, the costly
    # LP / MILP tightening waits for the disjuncts that reach the solver
    from ..analysis import input_split, relu_split
    splitting = input_split.supported(net) and (split_budget is None or split_budget > 0)
    relu_splitting = (not splitting and relu_split.supported(net)
                      and (split_budget is None or split_budget > 0))
    first = "symbolic" if (splitting or relu_splitting) and bounds in ("lp", "milp") else bounds
    t2 = time.perf_counter()
    open_ks, nbs = [], {}
    for k, d in enumerate(prop.disjuncts):
        budget = min(bounds_budget, left()) if deadline else bounds_budget
        nb = network_bounds(net, d.lo, d.hi, first, budget)
        why = prove_disjunct(net, d, nb)
        if why is None:
            open_ks.append(k)
            nbs[k] = nb
        else:
            v.proven_by_bounds += 1
        if deadline and left() <= 0:
            v.seconds["bounds"] = time.perf_counter() - t2
            return done(UNKNOWN, "timeout", "time limit reached while computing bounds")
    v.seconds["bounds"] = time.perf_counter() - t2
    if not open_ks:
        return done(UNSAT, "bounds", f"every disjunct ({len(prop.disjuncts)}) is unreachable by "
                    f"{first} bounds")
    # 3. input splitting (few inputs) or ReLU splitting (many)
    if splitting or relu_splitting:
        t = time.perf_counter()
        until = t + (split_budget if split_budget is not None else
                     (0.6 * left() if deadline else 60.0))
        # input rows (not a box), or no output row (nothing for the bounds to rule out)
        still = [k for k in open_ks if len(prop.disjuncts[k].b) or not len(prop.disjuncts[k].d)]
        groups: dict = {}   # input splitting: the disjuncts of one box in one search
        for k in open_ks:
            d = prop.disjuncts[k]
            if not len(d.b) and len(d.d):
                groups.setdefault((d.lo.tobytes(), d.hi.tobytes()) if splitting else k,
                                  []).append(k)
        what, unit = ("input splitting", "boxes") if splitting else ("ReLU splitting", "nodes")
        for i, ks in enumerate(groups.values()):
            d0 = prop.disjuncts[ks[0]]
            passed: list[CexCheck] = []  # the check that let a point through

            def check(x, k=ks[0], passed=passed):
                chk = check_counterexample(net, prop, x, prefer=k)
                passed[:] = [chk] if chk.ok else []
                return chk.ok
            share = max(until - time.perf_counter(), 0.0) / (len(groups) - i)
            if splitting:
                r = input_split.split_verify(
                    net, [(prop.disjuncts[k].C, prop.disjuncts[k].d, prop.disjuncts[k].c_strict)
                          for k in ks], d0.lo, d0.hi, check=check, time_limit=share,
                    progress=progress, rule=split_rule)
            else:
                r = relu_split.relu_split_verify(net, d0.C, d0.d, d0.lo, d0.hi, check=check,
                                                 time_limit=share, progress=progress)
            v.split_boxes += r.boxes
            if r.status == "sat":
                v.seconds["split"] = time.perf_counter() - t
                chk = passed[0]
                return done(SAT, what, f"counterexample in disjunct {chk.disjunct + 1} "
                            f"({r.boxes:,} {unit})", chk)
            if r.status == "unsat":
                v.proven_by_splitting += len(ks)
            else:
                still.extend(ks)
        v.seconds["split"] = time.perf_counter() - t
        if not still:
            return done(UNSAT, what, f"every disjunct ({len(prop.disjuncts)}) is ruled out: "
                        f"{v.proven_by_bounds} by bounds, {v.proven_by_splitting} by {what} "
                        f"({v.split_boxes:,} {unit})")
        open_ks = still
    if first != bounds:  # the tightening asked for, on what reaches the solver
        t, still = time.perf_counter(), []
        for k in open_ks:
            d = prop.disjuncts[k]
            budget = min(bounds_budget, left()) if deadline else bounds_budget
            nbs[k] = network_bounds(net, d.lo, d.hi, bounds, budget)
            if prove_disjunct(net, d, nbs[k]) is None:
                still.append(k)
            else:
                v.proven_by_bounds += 1
        open_ks = still
        v.seconds["bounds"] += time.perf_counter() - t
        if not open_ks:
            return done(UNSAT, "bounds", f"every disjunct ({len(prop.disjuncts)}) is ruled out: "
                        f"{v.proven_by_bounds} by bounds, {v.proven_by_splitting} by splitting")
    progress.stage(f"{len(open_ks)} of {len(prop.disjuncts)} disjuncts left for the solver")
    # 4. solver
    from .solve import pick_solver
    from ..encodings.verify import encode_disjunct, encode_disjunction
    from ..solvers.registry import load_registry
    registry = registry or load_registry()
    query = VerifyQuery(f"verify_{net.name}", net, prop)
    t3 = time.perf_counter()
    spec = None
    groups = [[k] for k in open_ks] if disjuncts == "split" or len(open_ks) == 1 else [open_ks]
    failed: CexCheck | None = None
    for ks in groups:
        if deadline and left() <= 0:
            v.seconds["solver"] = time.perf_counter() - t3
            return done(UNKNOWN, "timeout", "time limit reached")
        enc = (encode_disjunct(net, prop, ks[0], bounds, nb=nbs[ks[0]]) if len(ks) == 1
               else encode_disjunction(net, prop, ks, bounds, bounds_budget))
        if spec is None:
            spec = pick_solver(registry, solver, enc.program.logic(), False)
            target = "smtlib" if "smtlib" in spec.formats else ("mps" if "mps" in spec.formats
                                                                else "lp")
        if target == "smtlib" and len(ks) == 1:  # SMT-LIB says strict rows as they are
            enc = encode_disjunct(net, prop, ks[0], bounds, nb=nbs[ks[0]], strict=True)
        progress.stage(f"{spec.name}: disjuncts {', '.join(str(k + 1) for k in ks)}")
        result, x = _run_program(query, enc, spec, target, left(), keep_file)
        v.milp_runs += 1
        if result.status == "no_solution":
            continue
        if result.status == "error":
            from ..errors import SolverError
            raise SolverError(f"{spec.name}: {result.message or 'solver failed'}")
        if x is None:
            v.seconds["solver"] = time.perf_counter() - t3
            return done(UNKNOWN, "timeout", f"{spec.name}: {result.message or 'no answer'}")
        chk = checked_point(net, prop, ks, x)
        if chk is None and len(ks) == 1 and prop.has_strict and target != "smtlib":
            # the closed program's point may sit on a strict row: ask for room (epsilon)
            enc = encode_disjunct(net, prop, ks[0], bounds, nb=nbs[ks[0]], strict=True)
            result, x = _run_program(query, enc, spec, target, left(), keep_file)
            v.milp_runs += 1
            if result.status == "no_solution":
                v.notes.append(f"disjunct {ks[0] + 1} is reachable only on the border of a strict "
                               "row (no point with the epsilon room)")
                failed = failed or CexCheck(False, np.zeros(0), np.zeros(0),
                                            problems=["only the border of a strict row"])
                continue
            chk = checked_point(net, prop, ks, x) if x is not None else None
        if chk is not None and chk.ok:
            v.seconds["solver"] = time.perf_counter() - t3
            return done(SAT, f"milp ({spec.name})", f"counterexample in disjunct {chk.disjunct + 1}",
                        chk)
        failed = check_counterexample(net, prop, x) if x is not None else failed
    v.seconds["solver"] = time.perf_counter() - t3
    if failed is not None and failed.x.size == 0:
        return done(UNKNOWN, "strict border", "a disjunct is reachable only on the border of a "
                    "strict row (no point with the epsilon room); nothing is proven")
    if failed is not None:
        v.check_failed = True
        return done(UNKNOWN, "check failed", "the solver's point failed the counterexample check: "
                    + "; ".join(failed.problems), failed)
    return done(UNSAT, f"milp ({spec.name})" if v.milp_runs else "bounds",
                f"{v.proven_by_bounds} disjuncts ruled out by bounds, {v.milp_runs} solver runs "
                "infeasible")


def _verify_by_bisection(net, prop: Property, v: Verdict, done, left, progress,
                         graph: bool) -> Verdict:
    """Box splitting with bounds the layer passes do not give: rows over the outputs of a
    final softmax that the logits cannot state exactly (softmax bounds,
    :mod:`nncc.analysis.softmax_split`), or a network kept as its ONNX graph (interval
    bounds, :mod:`nncc.analysis.graph_split`)."""
    passed: list[CexCheck] = []

    def check(x, k):
        chk = check_counterexample(net, prop, x, prefer=k)
        passed[:] = [chk] if chk.ok else []
        return chk.ok
    t = time.perf_counter()
    limit = left()
    limit = 60.0 if limit is None else limit
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
    v.seconds["split"] = time.perf_counter() - t
    v.split_boxes = r.boxes
    if r.status == "sat":
        chk = passed[0]
        return done(SAT, how, f"counterexample in disjunct {chk.disjunct + 1} "
                    f"({r.boxes:,} boxes)", chk)
    if r.status == "unsat":
        v.proven_by_splitting = len(prop.disjuncts)
        return done(UNSAT, how, f"every disjunct ({len(prop.disjuncts)}) is ruled "
                    f"out by {bounds} ({r.boxes:,} boxes)")
    what = net.describe() if graph else f"rows over the {net.output_softmax} outputs"
    return done(UNKNOWN, "timeout" if r.reason == "time limit" else how,
                f"{what}: {r.reason} ({r.boxes:,} boxes)")


def _verify_unbounded(net, prop: Property, free: list[int], v: Verdict, done, left,
                      options: dict) -> Verdict:
    """Inputs the network reads with no bound: nncc's proofs need a bounded box, so only a
    counterexample can be found, searched for in growing boxes inside the unbounded
    one; a box with no counterexample proves nothing about the rest."""
    from ..problem.property import Disjunct
    names = ", ".join(f"X_{i}" for i in free[:5]) + (" ..." if len(free) > 5 else "")
    radii = (1.0, 100.0, 1e4)
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
        limit = left()
        share = None if limit is None else limit / (len(radii) - n)
        w = verify(None, None, net=net, prop=sub, time_limit=share or (20.0 if limit is None
                                                                        else 0.01), **options)
        if w.status == SAT:
            v.split_boxes += w.split_boxes
            return done(SAT, w.how, f"{w.message} (inputs {names} have no bound; searched within "
                        f"{R:g} of the bounds given)", w.check)
    return done(UNKNOWN, "unbounded inputs", f"inputs {names} have no lower or upper bound and "
                "the network reads them: no counterexample within 10,000 of the bounds given, and "
                "nncc proves properties over bounded inputs only")


def checked_point(net, prop: Property, ks: list[int], x: np.ndarray) -> CexCheck | None:
    """The solver's point, clipped into a disjunct's box, checked; else polished by an
    LP in its activation region and checked again."""
    for k in ks:
        d = prop.disjuncts[k]
        xc = np.clip(x, d.lo, d.hi)
        if np.abs(xc - x).max(initial=0.0) > 1e-6 * (1 + np.abs(x).max(initial=0.0)):
            continue  # not this disjunct's box
        chk = check_counterexample(net, prop, xc, prefer=k)
        if chk.ok:
            return chk
        chk = polish(net, prop, k, xc)
        if chk is not None:
            return chk
    return None
