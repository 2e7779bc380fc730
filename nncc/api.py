"""The Python API: load a ``.nn`` file, compile a query to a file, solve it, decode answers.

>>> import nncc
>>> doc = nncc.load("examples/xor.nn")
>>> comp = nncc.compile(doc.query(), "smtlib", "xor.smt2")   # IR, symbol map, the file
>>> ans = nncc.solve(doc.query(), solver="z3")
>>> ans.status, ans.check.accuracy, ans.params["h.weight"].shape
('solution', 1.0, (4, 2))

Queries are training queries (:class:`~nncc.problem.query.TrainQuery`) and
questions about trained networks (``EvaluateQuery``, ``MaximizeQuery``,
``AdversarialQuery``); every answer comes back checked by a forward pass.
The command line (:mod:`nncc.cli`) is a thin layer over these functions.
"""
from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

from .analysis.bounds import DEFAULT_BOUNDS

from .encodings.encoded import Encoded
from .encodings.train import encode_train, params_from_groups
from .errors import CheckFailed, InputError, SolverError, TargetError
from .ir.program import KINDS, REAL, Logic, Program
from .passes.bool_product_linearisation import BoolProductLinearisation
from .passes.nonzero_big_m import NonzeroBigM
from .passes.reduction import apply_chain, invert_chain
from .passes.relu_big_m import ReluBigM
from .passes.strict_epsilon import DEFAULT_EPSILON, StrictEpsilon
from .problem.query import Document, Query
from .progress import Progress
from .checks.check_training import check_training
from .solvers.result import ERROR, NO_SOLUTION, SOLUTION, UNKNOWN, SolverResult

TARGETS = ("smtlib", "mps", "lp")
# a big-M above this, times the solvers' integrality tolerance (~1e-6), moves a ReLU row by
# more than 1e-2: worth a note in the report
BIG_M_WARNING = 1e4
FORMAT_SUFFIX = {"smtlib": ".smt2", "mps": ".mps", "lp": ".lp"}
# auto: a MILP solver first where the query is MILP-expressible, else SMT
AUTO_ORDER_MILP = ["highs", "cbc", "z3", "cvc5"]
AUTO_ORDER_SMT = ["z3", "cvc5"]


def load(path: str, text: str | None = None) -> Document:
    """Parse and check a ``.nn`` file; raise :class:`~nncc.errors.InputError` on bad input."""
    from .frontend.checker import load_document
    return load_document(path, text)


@dataclass
class Compilation:
    """A query lowered to one target: the encoding, the final IR, the symbol map
    and (when written) the path of the file."""

    query: Query
    target: str
    encoded: Encoded
    program: Program  # after the target's passes
    passes: list[dict]
    symbol_map: object
    logic: Logic
    path: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict:
        prog = self.program
        return {"query": self.query.name, "target": self.target, "logic": self.logic.smt,
                "milp": self.logic.milp, "encoding": self.encoded.description,
                "notes": self.encoded.notes, "variables": prog.var_counts(),
                "constraints": prog.n_rows, "nonzeros": prog.nnz, "blocks": prog.stats(),
                "passes": self.passes}


def encode_query(query, epsilon: float = DEFAULT_EPSILON, bounds: str = DEFAULT_BOUNDS,
                 bounds_budget: float = 10.0, start=None) -> Encoded:
    """The IR of any query, by its kind. ``bounds`` (interval, lp, milp) is how
    neuron bounds of a trained network are found (``bounds_budget`` seconds);
    ``start``: a checked answer of an adversarial query, whose distance cuts off the rest."""
    if query.kind == "train":
        return encode_train(query, nonzero_eps=epsilon)
    from .encodings.adversarial import encode_adversarial
    from .encodings.network_queries import encode_evaluate, encode_maximize
    if query.kind == "evaluate":
        return encode_evaluate(query)
    if query.kind == "maximize":
        return encode_maximize(query, bounds, bounds_budget)
    return encode_adversarial(query, bounds, bounds_budget, start=start)


def arrays_from_groups(inverse: dict, groups: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The answer's arrays (parameters, or inputs and outputs) from the answer groups."""
    if inverse["kind"] in ("direct", "normalised"):
        return params_from_groups(inverse, groups)
    if inverse["kind"] == "binarised":
        from .encodings.binarised import arrays_from_binarised
        return arrays_from_binarised(inverse, groups)
    from .encodings.network_queries import arrays_from_network_groups
    return arrays_from_network_groups(inverse, groups)


def check_answer(query, arrays: dict[str, np.ndarray], comp: "Compilation | None" = None,
                 result: SolverResult | None = None):
    """The forward-pass check for the query's kind; a training objective is held to the
    solver's (``result``) with what the compilation (``comp``) approximated."""
    if query.kind == "train":
        if comp is None or result is None:
            return check_training(query, arrays)
        from .checks.check_objective import tangent_bound
        extra = comp.symbol_map.extra
        return check_training(query, arrays, claimed_objective=result.objective,
                              approximation=tangent_bound(extra.get("passes", [])),
                              encoding=extra.get("encoding"))
    from .checks.check_network import check_network_answer
    return check_network_answer(query, arrays)


def _milp_passes(epsilon: float):
    return [StrictEpsilon(epsilon), ReluBigM(), BoolProductLinearisation(), NonzeroBigM()]


def lower(query: Query, target: str, *, epsilon: float = DEFAULT_EPSILON,
          encoded: Encoded | None = None) -> Compilation:
    """Encode ``query`` and apply the passes ``target`` needs (no file is written)."""
    if target not in TARGETS:
        raise InputError(f"unknown target {target!r}: choose one of {', '.join(TARGETS)}")
    t0 = time.perf_counter()
    enc = encoded or encode_query(query, epsilon)
    t1 = time.perf_counter()
    logic = enc.program.logic()
    prog, invs = enc.program, []
    if target in ("mps", "lp"):
        if logic.nonlinear:
            why = "; ".join(enc.notes)
            raise TargetError(
                f"query '{query.name}' needs {logic.smt}: {logic.why_not_milp}. "
                f"Use --target smtlib (z3 or cvc5)" + (f" [{why}]" if why else ""), query.pos)
        prog, invs = apply_chain(prog, _milp_passes(epsilon))
        if prog.objective is not None and prog.objective.quadratic and (
                enc.square_segments is not None or np.any(prog.kinds != KINDS.index(REAL))):
            # a MIQP (highs refuses it, cbc drops the squares) or tangents asked for
            invs.append(_square_tangents(enc, prog, "a MILP takes no quadratic objective"))
            prog = invs[-1].pop("program")
        if prog.objective is not None and prog.objective.quadratic:
            note = ("the objective is quadratic (L2 regulariser, a convex continuous QP): highs "
                    "solves it; cbc would drop it silently from MPS and rejects it in LP")
            if note not in enc.notes:
                enc.notes.append(note)
        big_m = max((inv.get("max_M", 0.0) for inv in invs), default=0.0)
        if big_m > BIG_M_WARNING and not any("big-M" in n for n in enc.notes):
            enc.notes.append(
                f"the largest big-M is {big_m:.3g}: with a solver's integrality tolerance of about "
                f"1e-6 a ReLU may be off by {big_m * 1e-6:.2g} in its row (tighter bounds, "
                "--bounds lp, shrink it)")
    elif prog.objective is not None and prog.objective.quadratic:
        # z3 5.4's (minimize ...) over a sum of squares did not finish within 60 s even on a
        # linear classifier with 4 weights (QF_NRA, nlsat), and cvc5 does not optimise:
        # SMT-LIB always gets the tangent lines
        invs.append(_square_tangents(enc, prog, "SMT-LIB solvers do not minimise it reliably"))
        prog = invs[-1].pop("program")
    if invs:
        logic = prog.logic()  # the passes may have made it linear (tangents)
    from .writers.symbol_map import SymbolMap
    npos = getattr(query.network, "pos", None) or query.pos
    extra = {"source": os.path.abspath(npos.file) if npos else None,
             "query": query.name, "encoding": enc.inverse, "passes": invs,
             "original_n_vars": enc.program.n_vars,
             "original_groups": [g.to_json() for g in enc.program.groups
                                 if g.name in enc.program.answer_groups],
             "logic": logic.smt}
    if enc.program.objective is not None:
        extra["objective"] = enc.program.objective.sense
    smap = SymbolMap.from_program(prog, target=target, extra=extra)
    return Compilation(query, target, enc, prog, invs, smap, logic,
                       seconds={"encode": t1 - t0, "passes": time.perf_counter() - t1})


def _square_tangents(enc: Encoded, prog: Program, why: str) -> dict:
    """Apply :class:`~nncc.passes.square_tangents.SquareTangents`; its inverse data with the
    new program under ``program``. The bound on the approximation goes into the notes."""
    from .passes.square_tangents import SquareTangents
    segments = enc.square_segments if enc.square_segments is not None else 0
    new, inv = SquareTangents(segments).apply(prog)
    why = "asked for with 'segments'" if enc.square_segments is not None else why
    note = (f"L2 regulariser as tangent lines ({'/'.join(map(str, inv['segments']))} segments "
            f"per weight; {why}): "
            f"the objective under-estimates the true one by at most {inv['max_error']:.6g} "
            "(lambda * sum over weights of (box width / segments / 2)^2)")
    if note not in enc.notes:
        enc.notes.append(note)
    return {**inv, "program": new}


def write_target(comp: Compilation, stream, *, relu_encoding: str | None = None,
                 objective: bool = True) -> None:
    """Write the compiled program in its target format to a binary stream."""
    if comp.target == "smtlib":
        from .writers.smtlib_writer import write_smtlib
        write_smtlib(comp.program, stream, logic=comp.logic.smt,
                     relu_encoding=relu_encoding or getattr(comp.query, "relu_encoding", "ite"),
                     objective=objective)
    elif comp.target == "mps":
        from .writers.mps_writer import write_mps
        write_mps(comp.program, stream)
    else:
        from .writers.lp_writer import write_lp
        write_lp(comp.program, stream)


def compile(query: Query, target: str, out: str | None = None, *,
            epsilon: float = DEFAULT_EPSILON, relu_encoding: str | None = None,
            write_map: bool = True, progress: Progress | None = None) -> Compilation:
    """Lower ``query`` to ``target`` and write it to ``out`` (a path, ``"-"`` for
    standard output, or ``None`` to write nothing). With a path, the symbol map
    is written beside it as ``<out>.map.json``. Files are written atomically."""
    progress = progress or Progress(False)
    comp = lower(query, target, epsilon=epsilon)
    progress.stage(f"encoded: {comp.encoded.description}; {comp.program.nnz:,} nonzeros")
    if out is None:
        return comp
    t0 = time.perf_counter()
    if out == "-":
        import sys
        buf = sys.stdout.buffer
        write_target(comp, buf, relu_encoding=relu_encoding)
        buf.flush()
    else:
        from .export.atomic import atomic_output
        with atomic_output(out) as f:
            write_target(comp, f, relu_encoding=relu_encoding)
        comp.path = out
        if write_map:
            comp.symbol_map.save(out + ".map.json")
    comp.seconds["write"] = time.perf_counter() - t0
    progress.stage(f"wrote {comp.target} ({comp.seconds['write']:.2f} s)")
    return comp


@dataclass
class Answer:
    """A solver's answer mapped back to the network and re-checked.

    ``status`` is one of ``solution``, ``no_solution``, ``unknown``, ``error``,
    or ``check_failed`` when the solver's values broke the query in the
    forward pass (then ``arrays`` must not be used as a result).
    """

    status: str
    query: Query | None
    arrays: dict[str, np.ndarray] | None = None  # parameters (train) or inputs / outputs
    check: object | None = None  # TrainingCheck or NetworkCheck, by the query's kind
    result: SolverResult | None = None
    compilation: Compilation | None = None
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    certificate: object | None = None  # nncc.pipeline.certify.Certificate with --certify

    @property
    def params(self) -> dict[str, np.ndarray] | None:
        """The trained parameters of a training query (npz keys)."""
        return self.arrays

    def report(self) -> dict:
        """A JSON-able report (``nncc solve --json``)."""
        r = self.result
        comp = self.compilation
        out = {"status": self.status, "query": self.query.name if self.query else None,
               "solver": r.solver if r else None, "solver_version": r.version if r else None,
               "solver_seconds": r.seconds if r else None, "message": r.message if r else "",
               "seconds": self.seconds, "notes": self.notes}
        if comp is not None:
            out["ir"] = {"target": comp.target, "logic": comp.logic.smt,
                         "variables": comp.program.var_counts(), "constraints": comp.program.n_rows,
                         "nonzeros": comp.program.nnz, "encoding": comp.encoded.description,
                         "quadratic": bool(comp.program.objective is not None
                                           and comp.program.objective.quadratic)}
        if self.check is not None:
            out["check"] = self.check.to_json()
        if self.certificate is not None:
            out["certificate"] = self.certificate.to_json()
        if r is not None and r.approximate:
            out["approximated_values"] = len(r.approximate)
        return out

    def save_npz(self, path: str) -> None:
        from .export.npz_writer import write_npz
        self._require_checked()
        write_npz(path, self.params)

    def save_onnx(self, path: str) -> None:
        from .export.onnx_export import write_onnx
        self._require_checked()
        write_onnx(path, self.query.network, self.params)

    def save_png(self, path: str) -> None:
        """The original input, the answer's input and their difference as a PNG
        (adversarial queries on image-shaped inputs)."""
        from .export.png_writer import comparison_image, image_layout, write_png
        self._require_checked()
        q = self.query
        shape = tuple(q.network.input_shape)
        if q.kind != "adversarial" or image_layout(shape) is None:
            raise InputError(f"--png needs an adversarial query on an image-shaped input "
                             f"(this input is {shape})")
        lo = float(np.min(q.input_lo))
        hi = float(np.max(q.input_hi))
        write_png(path, comparison_image(q.x0, self.arrays["input"], shape, lo, hi))

    @property
    def checked_unproven(self) -> bool:
        """An answer that passed the check but whose optimality the solver did not prove
        (status ``unknown``): it may be written, and reports say it is not proven."""
        return (self.status == UNKNOWN and self.arrays is not None and self.check is not None
                and bool(self.check.ok))

    def _require_checked(self) -> None:
        if (self.status != SOLUTION and not self.checked_unproven) or self.arrays is None:
            raise CheckFailed(f"no checked answer to write (status: {self.status})")


def pick_solver(registry, solver: str, logic: Logic, optimise: bool = False):
    """The solver spec to use: the named one, or for ``auto`` the first available
    that takes the query's logic (and optimises, when the query has an objective)."""
    if solver != "auto":
        spec = registry.get(solver)
        if not logic.milp and "smtlib" not in spec.formats:
            raise TargetError(f"solver {solver} reads {'/'.join(spec.formats)} only, but the query "
                              f"needs {logic.smt} ({logic.why_not_milp}): use --solver z3 or cvc5")
        if optimise and not spec.optimises:
            raise TargetError(f"solver {solver} does not optimise, and the query has an objective "
                              "(a loss or regulariser to minimise): use " +
                              ("z3" if not logic.milp else "highs, cbc or z3"))
        return spec
    prefer = AUTO_ORDER_MILP if logic.milp else AUTO_ORDER_SMT
    if optimise:
        prefer = [n for n in prefer if n in registry.names() and registry.get(n).optimises]
    return registry.auto(["smtlib", "mps", "lp"], logic.smt, logic.milp, prefer=prefer)


def solve(query: Query, solver: str = "auto", *, time_limit: float | None = None,
          epsilon: float = DEFAULT_EPSILON, relu_encoding: str | None = None,
          bounds: str = DEFAULT_BOUNDS, bounds_budget: float = 10.0, certify: str | None = None,
          keep_file: str | None = None, registry=None, progress: Progress | None = None,
          start: bool = True, start_budget: float = 2.0, split_budget: float = 10.0) -> Answer:
    """Compile ``query`` for ``solver``, run it, map the values back and re-check them.

    For an adversarial query, ``start`` first looks for a checked answer by greedy
    descent and LPs over activation regions (:mod:`nncc.analysis.adversarial_start`,
    at most ``start_budget`` seconds); the solver is then asked for anything
    closer, and when it finds nothing closer within its time limit the start
    is the answer (not proven optimal unless the solver proved its bound).
    When no start is found, ReLU splitting (:mod:`nncc.analysis.relu_split`, at
    most ``split_budget`` seconds, taken from ``time_limit``) looks for a proof
    that no input of the box reaches the class, which needs no solver, or for
    an answer to start from.

    Never raises for a solver's "no solution" / "unknown": see ``Answer.status``.
    Raises :class:`SolverError` when the solver is missing or its output is unreadable.
    """
    from .solvers.registry import load_registry
    from .solvers.runner import solve_file

    progress = progress or Progress(False)
    t0 = time.perf_counter()
    registry = registry or load_registry()
    if query.kind == "train" and query.network.binarised and query.method == "local-search":
        from .pipeline.local_search import solve_local_search
        return solve_local_search(query, time_limit=time_limit, epsilon=epsilon, progress=progress)
    found = split_proof = None
    split_notes: list[str] = []
    proven, proof_note = False, None
    if start and query.kind == "adversarial":
        # a proof from the bounds needs no start (and no solver): the cheap bounds first
        from .analysis.adversarial_bounds import bounds_proof
        from .analysis.adversarial_split import polish_start, split_optimality, split_search
        if bounds_proof(query, bounds) is None:
            budget = split_budget if time_limit is None else min(split_budget, 0.5 * time_limit)
            t_split = time.perf_counter()
            if query.epsilon is not None and budget > 0:
                # in an epsilon ball the answer is often "none", which the greedy descent
                # takes long to give up on (0.8 s on MNIST) and ReLU splitting proves in
                # tenths of a second: a short look first
                split_proof, found, _ = split_search(query, min(0.25, budget), progress,
                                                     polished=False)
            t_start = time.perf_counter()
            if split_proof is None:
                greedy = _adversarial_start(query, start_budget, progress)
                if found is not None and greedy is None:
                    found = polish_start(query, found)
                if greedy is not None and (found is None or greedy.distance < found.distance):
                    found = greedy
            t_split += time.perf_counter() - t_start     # the start's time is not the split's
            if found is None and split_proof is None and budget > 0:
                progress.stage("no start: ReLU splitting for a proof or an answer")
                split_proof, found, note = split_search(query, budget, progress)
                split_notes += [note] if note is not None and split_proof is None else []
            left = budget - (time.perf_counter() - t_split)
            if found is not None and split_proof is None and left > 0:
                progress.stage(f"ReLU splitting: is anything closer than {found.distance:.6g}?")
                found, proven, note = split_optimality(query, found, left, progress=progress)
                split_notes += [note] if note is not None else []
                proof_note = note
            if time_limit is not None:
                time_limit = max(time_limit - (time.perf_counter() - t_split), min(time_limit, 1.0))
    enc = encode_query(query, epsilon, bounds, bounds_budget, start=found)
    enc.notes.extend(split_notes)
    if split_proof is not None:
        enc.proof = split_proof
    if proven:
        comp = lower(query, "mps", epsilon=epsilon, encoded=enc)
        ans = _answer_proven_start(query, comp, found, proof_note, time.perf_counter() - t0)
        ans = _certified(ans, query, registry, certify, _left(time_limit, t0), found.distance,
                         progress)
        ans.seconds = {"compile": time.perf_counter() - t0, "write": 0.0, "solve": 0.0,
                       "total": time.perf_counter() - t0}
        progress.stage(ans.status)
        return ans
    if enc.proof is not None:
        progress.stage(enc.proof)
        comp = lower(query, "mps" if not enc.program.logic().nonlinear else "smtlib", epsilon=epsilon,
                     encoded=enc)
        result = SolverResult(NO_SOLUTION, solver="bounds", message=enc.proof)
        ans = Answer(NO_SOLUTION, query, result=result, compilation=comp,
                     notes=list(enc.notes) + [enc.proof])
        ans.seconds = {"compile": time.perf_counter() - t0, "write": 0.0, "solve": 0.0,
                       "total": time.perf_counter() - t0}
        return ans
    optimise = enc.program.objective is not None
    spec = pick_solver(registry, solver, enc.program.logic(), optimise)
    target = "smtlib" if "smtlib" in spec.formats else ("mps" if "mps" in spec.formats else "lp")
    comp = lower(query, target, epsilon=epsilon, encoded=enc)
    if spec.kind == "cbc" and comp.program.objective is not None and comp.program.objective.quadratic:
        raise TargetError(f"query '{query.name}' has a quadratic objective (L2 regulariser): cbc "
                          "would silently drop it from MPS (and rejects it in LP); use --solver "
                          "highs (a convex QP), or 'regularize l2 ... segments K' for tangent lines "
                          "that cbc solves", query.pos)
    progress.stage(f"encoded ({comp.encoded.description}); {comp.logic.smt}, "
                   f"{comp.program.n_vars:,} variables, {comp.program.nnz:,} nonzeros")
    with tempfile.TemporaryDirectory(prefix="nncc-") as tmp:
        path = keep_file or os.path.join(tmp, "query" + FORMAT_SUFFIX[target])
        t1 = time.perf_counter()
        with open(path, "wb") as f:
            write_target(comp, f, relu_encoding=relu_encoding, objective=optimise)
        comp.path = path
        t2 = time.perf_counter()
        progress.stage(f"wrote {target} for {spec.name}")
        result = solve_file(spec, path, target, time_limit=time_limit,
                            on_progress=_ticks(query, progress.solver(spec.name)), workdir=tmp,
                            focus="bound" if found is not None else None)
        progress.done()
    floor = None
    if query.kind == "adversarial" and not result.optimal and result.status != NO_SOLUTION:
        floor = _distance_floor(query, result, found, progress)
    ans = answer_from_result(query, comp, result)
    if found is not None and not (ans.arrays is not None and ans.check is not None
                                  and ans.check.ok and ans.status in (SOLUTION, UNKNOWN)):
        ans = _answer_from_start(query, comp, result, found, ans)
    if floor is not None:
        ans.notes.append(floor)
    if certify and ans.status == SOLUTION:
        ans = _certified(ans, query, registry, certify, _left(time_limit, t0),
                         result.objective if result.objective is not None else ans.check.value,
                         progress)
    ans.seconds = {"compile": t1 - t0, "write": t2 - t1, "solve": result.seconds,
                   "total": time.perf_counter() - t0}
    progress.stage(f"{ans.status}" + (f", accuracy {ans.check.accuracy:.1%}"
                                      if getattr(ans.check, "accuracy", None) is not None else ""))
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
    from .pipeline.certify import certify as certify_exactly
    progress.stage(f"certifying the answer exactly with {certify}")
    ans.certificate = certify_exactly(query, registry, certify, time_limit or 60.0,
                                      ans.arrays, value)
    if ans.certificate.problems and ans.certificate.input is not None:
        ans.status = "check_failed"  # an exact point broke a claim: not a float artefact
    return ans


def _answer_proven_start(query, comp: Compilation, start, proof: str, seconds: float) -> Answer:
    """The start as the answer, ReLU splitting having proved nothing closer (to within
    its relative gap; ``proof`` says so): no solver ran."""
    from .checks.check_network import check_network_answer
    x = np.asarray(start.x, float)
    arrays = {"input": x, "output": query.network.forward(x[None])[0]}
    check = check_network_answer(query, arrays)
    bound = float(start.distance) * (1.0 - 1e-4)
    result = SolverResult(SOLUTION, solver="relu splitting", objective=float(start.distance),
                          bound=bound, optimal=True, has_incumbent=True, message=proof)
    result.seconds = seconds
    return Answer(SOLUTION if check.ok else "check_failed", query, arrays, check, result, comp,
                  list(comp.encoded.notes))


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


def _adversarial_start(query, budget: float, progress: Progress):
    """A checked start for an adversarial query (checked by
    :func:`~nncc.problem.query.checked_query` first), or None."""
    from .problem.query import checked_query
    from .analysis.adversarial_start import find_start
    _, label, lo, hi = checked_query(query)
    progress.stage("looking for a start (greedy descent, LPs over activation regions)")
    found = find_start(query, lo, hi, label, time_budget=budget)
    if found is not None:
        progress.stage(f"start: {query.norm} distance {found.distance:.6g}")
    return found


def _distance_floor(query, result: SolverResult, start, progress: Progress) -> str | None:
    """When the solver stopped without proving its answer optimal: the distance the
    back-substitution bounds prove no input below
    (:func:`~nncc.analysis.adversarial_bounds.proven_radius`) becomes ``result.bound``
    where it is higher, with a note saying so."""
    from .analysis.adversarial_bounds import proven_radius
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


def _answer_from_start(query, comp: Compilation, result: SolverResult, start, ans: Answer) -> Answer:
    """The start as the answer, when the solver found nothing closer (with the cutoff
    every answer it could find is at least as close; none means none within its limit)."""
    from .checks.check_network import check_network_answer
    arrays = {"input": np.asarray(start.x, float),
              "output": query.network.forward(np.asarray(start.x, float)[None])[0]}
    check = check_network_answer(query, arrays)
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
    status = UNKNOWN if check.ok else "check_failed"
    return Answer(status, query, arrays, check, result, comp, notes)


def answer_from_result(query: Query | None, comp: Compilation, result: SolverResult) -> Answer:
    """Values by solver name -> parameters -> forward-pass check."""
    notes = list(comp.encoded.notes)
    if result.status == NO_SOLUTION:
        return Answer(NO_SOLUTION, query, result=result, compilation=comp, notes=notes)
    if result.status == ERROR:
        raise SolverError(f"{result.solver}: {result.message or 'solver failed'}")
    if result.status == UNKNOWN and not result.has_incumbent:
        return Answer(UNKNOWN, query, result=result, compilation=comp, notes=notes)
    arrays = arrays_from_values(comp.symbol_map, result)
    if result.objective is not None and getattr(comp.symbol_map, "objective_negated", False):
        result.objective = -result.objective  # MPS / LP always minimise: undo the writer's sign
    if comp.symbol_map.extra["encoding"].get("kind") == "binarised":
        from .checks.check_binarised import finish_milp_answer
        return finish_milp_answer(query, comp, result, arrays, notes)
    if result.approximate:
        notes.append(f"{len(result.approximate)} values were irrational (algebraic numbers) and "
                     "were approximated in float64")
    check = check_answer(query, arrays, comp, result)
    status = result.status if check.ok else "check_failed"
    objective = comp.program.objective is not None or "objective" in comp.symbol_map.extra
    if status == UNKNOWN and not objective:
        # a training query has no objective: a feasible incumbent that passes the
        # check is an answer, whatever stopped the solver
        status = SOLUTION
        notes.append(f"the solver stopped ({result.message}) with a feasible point; it passed "
                     "the check")
    elif status == UNKNOWN:
        notes.append(f"the solver stopped ({result.message}); its best point passed the check "
                     "but is not proven optimal")
    return Answer(status, query, arrays, check, result, comp, notes)


def arrays_from_values(smap, result: SolverResult) -> dict[str, np.ndarray]:
    """The answer's arrays from a solver's values, through the symbol map's inverse data."""
    default = 0.0 if getattr(result, "missing_means_zero", False) else np.nan
    vec = smap.vector(result.values, default=default)
    x = invert_chain(vec, smap.extra.get("passes", []))
    from .ir.program import VarGroup
    groups = {}
    for gj in smap.extra["original_groups"]:
        g = VarGroup.from_json(gj)
        groups[g.name] = x[g.offset:g.offset + g.size].reshape(g.shape)
    missing = [k for k, v in groups.items() if np.any(np.isnan(v))]
    if missing:
        raise SolverError(f"{result.solver or 'solver'}: the answer gives no value for "
                          + ", ".join(missing))
    return arrays_from_groups(smap.extra["encoding"], groups)


def decode(map_path: str, output_path: str, *, source: str | None = None) -> Answer:
    """Read the output of a solver run by hand (z3 / cvc5 text, cbc or highs
    solution file) back into parameters, using the symbol map written by
    :func:`compile`, and re-check them against the ``.nn`` source named in
    the map (or ``source``). Without a readable source nothing can be
    re-checked, and that is an error: an unchecked answer is never returned."""
    from .solvers.output_detect import parse_any_output
    from .writers.symbol_map import SymbolMap

    try:
        smap = SymbolMap.load(map_path)
    except FileNotFoundError:
        raise InputError(f"{map_path}: no such symbol map") from None
    except (ValueError, KeyError) as e:
        raise InputError(f"{map_path}: not a symbol map written by nncc ({e})") from None
    try:
        with open(output_path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError as e:
        raise InputError(f"{output_path}: {e.strerror}") from None
    result = parse_any_output(text, output_path)
    src = source or smap.extra.get("source")
    if not src or not os.path.exists(src):
        raise InputError(f"{map_path}: the source {src or '(none named)'} cannot be read, so the "
                         "answer cannot be re-checked: pass --source FILE.nn")
    query = load(src).query(smap.extra.get("query"))
    enc = Encoded(Program(), smap.extra["encoding"], "", [])
    comp = Compilation(query, smap.target, enc, Program(), smap.extra.get("passes", []), smap,
                       Logic(True, False, False, smap.extra.get("logic", ""), True))
    return answer_from_result(query, comp, result)
