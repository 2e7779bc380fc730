"""Compiling a query: encode it, apply the passes its target needs, write the file.

``lower`` gives a :class:`Compilation` (the encoding, the final IR, the symbol
map); ``compile`` writes it atomically with the symbol map beside it;
``arrays_from_values`` reads a solver's values back through the passes'
inverse data to the user's arrays, and ``check_answer`` re-checks them.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from ..analysis.bounds import DEFAULT_BOUNDS
from ..checks.check_training import check_training
from ..encodings.encoded import Encoded
from ..encodings.train import encode_train, params_from_groups
from ..errors import InputError, SolverError, TargetError
from ..ir.program import KINDS, REAL, Logic, Program, VarGroup
from ..passes.bool_product_linearisation import BoolProductLinearisation
from ..passes.nonzero_big_m import NonzeroBigM
from ..passes.reduction import apply_chain, invert_chain
from ..passes.relu_big_m import ReluBigM
from ..passes.strict_epsilon import DEFAULT_EPSILON, StrictEpsilon
from ..problem.query import Query
from ..progress import Progress
from ..solvers.result import SolverResult
from ..writers import TARGETS
from ..checks.check_objective import tangent_bound




# a big-M above this, times the solvers' integrality tolerance (~1e-6), moves a ReLU row by
# more than 1e-2: worth a note in the report
BIG_M_WARNING = 1e4




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
                 bounds_budget: float = 10.0, start=None, target: str | None = None) -> Encoded:
    """The IR of any query, by its kind. ``bounds`` (interval, symbolic, lp, milp) is
    how neuron bounds of a trained network are found (``bounds_budget`` seconds);
    ``start``: a checked answer of an adversarial or maximise query, whose distance
    or value cuts off the rest; ``target``: a verify query keeps its strict rows
    strict for SMT-LIB."""
    if query.kind == "train":
        return encode_train(query, nonzero_eps=epsilon)
    if query.kind == "verify":
        from ..encodings.verify import encode_verify_query
        return encode_verify_query(query, strict=target == "smtlib", bounds=bounds,
                                   time_budget=bounds_budget)
    from ..encodings.adversarial import encode_adversarial
    from ..encodings.network_queries import encode_evaluate, encode_maximize
    if query.kind == "evaluate":
        return encode_evaluate(query)
    if query.kind == "maximize":
        return encode_maximize(query, bounds, bounds_budget, start=start)
    return encode_adversarial(query, bounds, bounds_budget, start=start)


def arrays_from_groups(inverse: dict, groups: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The answer's arrays (parameters, or inputs and outputs) from the answer groups."""
    if inverse["kind"] in ("direct", "normalised", "vertex"):
        return params_from_groups(inverse, groups)
    if inverse["kind"] == "binarised":
        from ..encodings.binarised import arrays_from_binarised
        return arrays_from_binarised(inverse, groups)
    from ..encodings.network_queries import arrays_from_network_groups
    return arrays_from_network_groups(inverse, groups)


def check_answer(query, arrays: dict[str, np.ndarray], comp: "Compilation | None" = None,
                 result: SolverResult | None = None):
    """The forward-pass check for the query's kind; a training objective is held to the
    solver's (``result``) with what the compilation (``comp``) approximated."""
    if query.kind == "train":
        if comp is None or result is None:
            return check_training(query, arrays)
        extra = comp.symbol_map.extra
        return check_training(query, arrays, claimed_objective=result.objective,
                              approximation=tangent_bound(extra.get("passes", [])),
                              encoding=extra.get("encoding"))
    from ..checks.check_network import check_network_answer
    return check_network_answer(query, arrays)


def _milp_passes(epsilon: float):
    return [StrictEpsilon(epsilon), ReluBigM(), BoolProductLinearisation(), NonzeroBigM()]


def lower(query: Query, target: str, *, epsilon: float = DEFAULT_EPSILON,
          encoded: Encoded | None = None, bounds: str = DEFAULT_BOUNDS,
          bounds_budget: float = 10.0) -> Compilation:
    """Encode ``query`` (neuron bounds of a trained network by ``bounds``, within
    ``bounds_budget`` seconds) and apply the passes ``target`` needs (no file is
    written)."""
    if target not in TARGETS:
        raise InputError(f"unknown target {target!r}: choose one of {', '.join(TARGETS)}")
    t0 = time.perf_counter()
    enc = encoded or encode_query(query, epsilon, bounds, bounds_budget, target=target)
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
    from ..writers.symbol_map import SymbolMap
    npos = getattr(query.network, "pos", None) or query.pos
    extra = {"source": os.path.abspath(npos.file) if npos else None,
             "query": query.name, "encoding": enc.inverse, "passes": invs,
             "original_n_vars": enc.program.n_vars,
             "original_groups": [g.to_json() for g in enc.program.groups
                                 if g.name in enc.program.answer_groups],
             "logic": logic.smt}
    if query.kind == "verify":   # nncc decode reads both again
        extra["network"] = query.network_path or getattr(query.network, "source", None)
        extra["property"] = query.property.path
    if enc.program.objective is not None:
        extra["objective"] = enc.program.objective.sense
    smap = SymbolMap.from_program(prog, target=target, extra=extra)
    return Compilation(query, target, enc, prog, invs, smap, logic,
                       seconds={"encode": t1 - t0, "passes": time.perf_counter() - t1})


def _square_tangents(enc: Encoded, prog: Program, why: str) -> dict:
    """Apply :class:`~nncc.passes.square_tangents.SquareTangents`; its inverse data with the
    new program under ``program``. The bound on the approximation goes into the notes."""
    from ..passes.square_tangents import SquareTangents
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
        from ..writers.smtlib_writer import write_smtlib
        write_smtlib(comp.program, stream, logic=comp.logic.smt,
                     relu_encoding=relu_encoding or getattr(comp.query, "relu_encoding", "ite"),
                     objective=objective)
    elif comp.target == "mps":
        from ..writers.mps_writer import write_mps
        write_mps(comp.program, stream)
    else:
        from ..writers.lp_writer import write_lp
        write_lp(comp.program, stream)


def compile(query: Query, target: str, out: str | None = None, *,
            epsilon: float = DEFAULT_EPSILON, relu_encoding: str | None = None,
            write_map: bool = True, progress: Progress | None = None,
            bounds: str = DEFAULT_BOUNDS, bounds_budget: float = 10.0) -> Compilation:
    """Lower ``query`` to ``target`` and write it to ``out`` (a path, ``"-"`` for
    standard output, or ``None`` to write nothing). With a path, the symbol map
    is written beside it as ``<out>.map.json``. Files are written atomically."""
    progress = progress or Progress(False)
    comp = lower(query, target, epsilon=epsilon, bounds=bounds, bounds_budget=bounds_budget)
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
        from ..atomic import atomic_output
        with atomic_output(out) as f:
            write_target(comp, f, relu_encoding=relu_encoding)
        comp.path = out
        if write_map:
            comp.symbol_map.save(out + ".map.json")
    comp.seconds["write"] = time.perf_counter() - t0
    progress.stage(f"wrote {comp.target} ({comp.seconds['write']:.2f} s)")
    return comp


def arrays_from_values(smap, result: SolverResult) -> dict[str, np.ndarray]:
    """The answer's arrays from a solver's values, through the symbol map's inverse data."""
    default = 0.0 if getattr(result, "missing_means_zero", False) else np.nan
    vec = smap.vector(result.values, default=default)
    x = invert_chain(vec, smap.extra.get("passes", []))
    groups = {}
    for gj in smap.extra["original_groups"]:
        g = VarGroup.from_json(gj)
        groups[g.name] = x[g.offset:g.offset + g.size].reshape(g.shape)
    missing = [k for k, v in groups.items() if np.any(np.isnan(v))]
    if missing:
        raise SolverError(f"{result.solver or 'solver'}: the answer gives no value for "
                          + ", ".join(missing))
    return arrays_from_groups(smap.extra["encoding"], groups)
