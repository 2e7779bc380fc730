"""A solver's answer mapped back to the network and re-checked: :class:`Answer`.

``answer_from_result`` turns a solver result into an Answer (values, arrays,
the forward-pass check, the status); ``decode`` does it for a solver run by
hand, from the symbol map; ``finish_milp_answer`` snaps, polishes and checks
the weights of a binarised network trained by a MILP.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ..checks.check_objective import tangent_bound
from ..encodings.encoded import Encoded
from ..errors import CheckFailed, InputError, SolverError
from ..ir.program import Logic, Program
from ..problem.query import CLAIM_PREFIX, Query
from ..solvers.result import ERROR, NO_SOLUTION, SOLUTION, UNKNOWN, SolverResult
from .compile import Compilation, arrays_from_values, check_answer


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
    seconds: dict[str, float] = field(default_factory=dict)   # by step, and "total"
    # a step's use of its CPU budget: {"split": {"cpu": s, "wall": s, "budget": s}}
    budgets: dict[str, dict] = field(default_factory=dict)
    certificate: object | None = None  # nncc.pipeline.certify.Certificate with --certify
    how: str = ""   # the step that decided: "bounds", "relu splitting", "start", the solver
    message: str = ""   # what decided, in a sentence (verify)
    counts: dict[str, int] = field(default_factory=dict)   # verify: what each step ruled out

    @property
    def verdict(self) -> str:
        """The answer as a verdict, as :func:`nncc.verify` states one: ``sat`` when a
        checked point of the query's set exists (an adversarial input, an input that
        reaches a value, weights that fit), ``unsat`` when a solver or a proof showed
        there is none, ``unknown`` otherwise (a failed check included)."""
        return {SOLUTION: "sat", NO_SOLUTION: "unsat"}.get(self.status, "unknown")

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
               "objective": r.objective if r else None, "bound": r.bound if r else None,
               "how": self.how, "verdict": self.verdict, "seconds": self.seconds,
               "budgets": self.budgets, "notes": self.notes}
        if comp is not None and _rebuilt(comp):
            out["ir"] = {"target": comp.target, "logic": comp.logic.smt,
                         "variables": comp.program.var_counts(), "constraints": comp.program.n_rows,
                         "nonzeros": comp.program.nnz, "encoding": comp.encoded.description,
                         "quadratic": bool(comp.program.objective is not None
                                           and comp.program.objective.quadratic)}
        elif comp is not None and comp.symbol_map is not None:   # decode: the map's record
            out["map"] = {"target": comp.target, "variables": comp.symbol_map.n_vars}
        if self.check is not None:
            out["check"] = self.check.to_json()
        if self.certificate is not None:
            out["certificate"] = self.certificate.to_json()
        if r is not None and r.race:
            out["race"] = r.race
        if r is not None and r.approximate:
            out["approximated_values"] = len(r.approximate)
        return out

    def save_npz(self, path: str) -> None:
        """Training queries: the weights (PyTorch ``state_dict`` keys). Questions about
        a trained network: the keys of :meth:`npz_arrays`."""
        from ..export.npz_writer import write_npz
        self._require_checked()
        write_npz(path, self.npz_arrays())

    def npz_arrays(self) -> dict[str, np.ndarray]:
        """What ``-o OUT.npz`` holds. A training query: its weights. Else ``input`` (in
        the network's input shape, no batch axis), ``output`` (the forward pass's, flat)
        and ``input_shape``; an adversarial query also ``original`` (its point, same
        shape), ``distance`` (recomputed by the check, in ``norm``), ``norm``,
        ``class_before`` / ``class_after`` (the network's argmax at each) and ``target``
        (-1: any other class); a maximise query ``value`` (the output it maximised) and
        ``output_index``."""
        q = self.query
        if q is None or q.kind == "train" or "input" not in (self.arrays or {}):
            return self.params
        net = q.network
        shape = tuple(int(v) for v in net.input_shape)
        x = np.asarray(self.arrays["input"], float).reshape(-1)
        out = {"input": x.reshape(shape), "output": np.asarray(net.forward(x[None])[0], float),
               "input_shape": np.asarray(shape, np.int64)}
        if q.kind == "adversarial":
            x0 = np.asarray(q.x0, float).reshape(-1)
            out.update(original=x0.reshape(shape), distance=np.float64(self.check.value),
                       norm=np.str_(q.norm),
                       class_before=np.int64(np.argmax(net.forward(x0[None])[0])),
                       class_after=np.int64(np.argmax(out["output"])),
                       target=np.int64(-1 if q.target is None else q.target))
        elif q.kind == "maximize":
            out.update(value=np.float64(out["output"][q.output]), output_index=np.int64(q.output))
        return out

    def save_onnx(self, path: str) -> None:
        from ..export.onnx_export import write_onnx
        self._require_checked()
        write_onnx(path, self.query.network, self.params)

    def save_png(self, path: str, image_shape: tuple[int, ...] | None = None) -> str | None:
        """The answer's input as a labelled PNG (:func:`~nncc.export.png_writer.answer_figure`):
        for an adversarial query beside the original and their difference, for a
        maximise query alone. ``image_shape`` (H, W[, C]) reads a flat input as an
        image (row-major, channels last). Returns a note when the labels are missing."""
        from ..export.png_writer import answer_figure, as_hwc
        self._require_checked()
        q = self.query
        shape = png_shape(q, image_shape)
        a = self.npz_arrays()
        if image_shape is not None:
            hwc = lambda v: np.asarray(v, float).reshape(shape)  # noqa: E731
        else:
            hwc = lambda v: as_hwc(v, shape)  # noqa: E731
        lo, hi = float(np.min(q.input_lo)), float(np.max(q.input_hi))
        if q.kind == "adversarial":
            labels = [f"original: class {int(a['class_before'])}",
                      f"new: class {int(a['class_after'])}",
                      f"difference ({a['norm']} {float(a['distance']):.4g})"]
            return answer_figure(path, [hwc(a["original"]), hwc(a["input"])], labels, lo, hi,
                                 title=q.name)
        return answer_figure(path, [hwc(a["input"])],
                             [f"y[{q.output}] = {float(a['value']):.4g}"
                              + (" (minimised)" if q.minimize else "")], lo, hi, title=q.name)

    @property
    def checked_unproven(self) -> bool:
        """An answer that passed the check but whose optimality the solver did not prove
        (status ``unknown``): it may be written, and reports say it is not proven."""
        return (self.status == UNKNOWN and self.arrays is not None and self.check is not None
                and bool(self.check.ok))

    def _require_checked(self) -> None:
        if (self.status != SOLUTION and not self.checked_unproven) or self.arrays is None:
            raise CheckFailed(f"no checked answer to write (status: {self.status})")


def png_shape(query, image_shape: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """The image shape ``--png`` draws ``query``'s input in (checked before any solving):
    ``image_shape`` (H, W[, C], whose product is the input size) or the network's own
    when it is image-shaped; else an ``InputError`` that says what to give."""
    from ..export.png_writer import image_layout
    if query.kind not in ("adversarial", "maximize"):
        raise InputError(f"--png draws the input of an adversarial or maximise query; "
                         f"'{query.name}' is a {query.kind} query", getattr(query, "pos", None))
    shape = tuple(int(v) for v in query.network.input_shape)
    n = int(np.prod(shape))
    if image_shape is not None:
        image_shape = tuple(int(v) for v in image_shape)
        if (len(image_shape) not in (2, 3) or min(image_shape) < 1
                or (len(image_shape) == 3 and image_shape[2] not in (1, 3))):
            raise InputError(f"--image-shape takes H W or H W C with C 1 or 3, got "
                             f"{' '.join(map(str, image_shape))}")
        if int(np.prod(image_shape)) != n:
            raise InputError(f"--image-shape {' '.join(map(str, image_shape))} holds "
                             f"{int(np.prod(image_shape))} values, the input has {n} "
                             f"(shape {shape})")
        return image_shape if len(image_shape) == 3 else (*image_shape, 1)
    if image_layout(shape) is None:
        side = int(round(n ** 0.5))
        hint = f" (e.g. --image-shape {side} {side})" if side * side == n else ""
        raise InputError(f"--png needs an image-shaped input, and this input is {shape}: "
                         f"give --image-shape H W [C]{hint}")
    return shape


def answer_at(query, comp: Compilation, x, result: SolverResult, notes: list[str],
              status: str, how: str = "") -> Answer:
    """The answer at the input ``x`` found by a step before the solver (a start):
    its outputs by the forward pass, the query's check, ``status`` when the check
    passes and ``check_failed`` when not."""
    x = np.asarray(x, float)
    arrays = {"input": x, "output": query.network.forward(x[None])[0]}
    check = check_answer(query, arrays, comp)
    return Answer(status if check.ok else "check_failed", query, arrays, check, result, comp,
                  notes, how=how)


def proven_by_splitting(query, comp: Compilation, x, objective: float, bound: float,
                        proof: str, seconds: float) -> Answer:
    """The answer at ``x`` that ReLU splitting proved optimal to within its relative gap
    (``bound`` the bound it proved, ``proof`` the sentence saying so): no solver ran."""
    result = SolverResult(SOLUTION, solver="relu splitting", objective=float(objective),
                          bound=bound, optimal=True, has_incumbent=True, message=proof)
    result.seconds = seconds
    return answer_at(query, comp, x, result, list(comp.encoded.notes), SOLUTION,
                     how="relu splitting")


def answer_from_result(query: Query | None, comp: Compilation, result: SolverResult) -> Answer:
    """Values by solver name -> parameters -> forward-pass check."""
    notes = list(comp.encoded.notes)
    if getattr(comp.symbol_map, "objective_negated", False):
        # MPS / LP always minimise: undo the writer's sign (the bound is the maximum's then)
        if result.objective is not None:
            result.objective = -result.objective
        if result.bound is not None:
            result.bound = -result.bound
    if result.status == NO_SOLUTION and comp.symbol_map.extra["encoding"].get("restricted"):
        # the encoding searched part of the query's space only: not a proof
        notes.append("the solver found no network in the restricted encoding, which proves "
                     "nothing about the query itself: unknown")
        return Answer(UNKNOWN, query, result=result, compilation=comp, notes=notes)
    if result.status == NO_SOLUTION:
        return Answer(NO_SOLUTION, query, result=result, compilation=comp, notes=notes)
    if result.status == ERROR:
        raise SolverError(f"{result.solver}: {result.message or 'solver failed'}")
    if result.status == UNKNOWN and not result.has_incumbent:
        return Answer(UNKNOWN, query, result=result, compilation=comp, notes=notes)
    arrays = arrays_from_values(comp.symbol_map, result)
    if comp.symbol_map.extra["encoding"].get("kind") == "binarised":
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


def decode(map_path: str, output_path: str, *, source: str | None = None) -> Answer:
    """Read the output of a solver run by hand (z3 / cvc5 text, cbc or highs
    solution file) back into parameters, using the symbol map written by
    :func:`compile`, and re-check them against the ``.nn`` source named in
    the map (or ``source``). Without a readable source nothing can be
    re-checked, and that is an error: an unchecked answer is never returned."""
    from ..solvers.output_detect import parse_any_output
    from ..writers.symbol_map import SymbolMap

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
    from ..frontend.semantics import load_document
    query = load_document(src).query(smap.extra.get("query"))
    enc = Encoded(Program(), smap.extra["encoding"], "", [])
    comp = Compilation(query, smap.target, enc, Program(), smap.extra.get("passes", []), smap,
                       Logic(True, False, False, smap.extra.get("logic", ""), True))
    return answer_from_result(query, comp, result)


def _rebuilt(comp: Compilation) -> bool:
    """Is the program at hand? ``decode`` maps a solver's output back through the symbol
    map alone, without encoding the query again: its program is empty."""
    return comp.program.n_vars > 0 or comp.symbol_map is None or not comp.symbol_map.n_vars


def finish_milp_answer(query, comp, result, arrays: dict, notes: list[str]):
    """The solver's values -> snapped and polished parameters -> the check -> an Answer."""
    # here, not at the top: the binarised check loads scipy.sparse (0.12 s), which
    # nncc check and every other query's answer need not
    from ..checks.check_binarised import check_binarised, l1_norm, polish_weights, snap_parameters
    claim = {k: v for k, v in arrays.items() if k.startswith(CLAIM_PREFIX)}
    params = snap_parameters(query.network, {k: v for k, v in arrays.items()
                                             if not k.startswith(CLAIM_PREFIX)})
    inverse = comp.encoded.inverse
    eps = float(inverse.get("epsilon", 1e-3))
    net, X, y = query.network, query.data.X, np.asarray(query.data.y)
    objective = inverse.get("objective", "errors")
    keep_zeros = False
    for layer in net.layers:
        used = claim.get(CLAIM_PREFIX + f"{layer.name}.weight.used")
        if used is not None:
            # the solver's "not used" weights are 0 exactly (it prints 1e-12 and the like)
            params[f"{layer.name}.weight"] = np.where(used < 0.5, 0.0, params[f"{layer.name}.weight"])
            keep_zeros = True
    acts = [claim[CLAIM_PREFIX + f"{l.name}.act"] > 0.5 for l in net.layers if l.is_step]
    if objective == "errors":
        correct = claim[CLAIM_PREFIX + "errors"] < 0.5
        fixed_layers = ()
    else:  # hinge / margin: the output layer stays, so the scores (and the loss) do not move
        correct = np.zeros(len(y), dtype=bool)
        fixed_layers = (net.layers[-1].name,)
    # a global L1 alone keeps its sum as a budget; per-layer lambdas or an L2 term keep each
    # |w| from growing instead (a weighted or quadratic budget is not an LP row)
    plain_l1 = inverse.get("l1", 0.0) > 0.0 and not inverse.get("l2") and not query.l1_layers
    l1_budget = l1_norm(net, params) if plain_l1 else None
    shrink = bool(inverse.get("regularised")) and not plain_l1
    params, slack = polish_weights(
        net, X, y, params, acts, correct, eps, fixed_layers=fixed_layers, keep_zeros=keep_zeros,
        l1_budget=l1_budget, robust=float(inverse.get("robust", 0.0)), shrink_only=shrink)
    plain = (objective == "errors"
             and not any(inverse.get(k) for k in ("l1", "l0", "robust", "regularised"))
             and inverse.get("nonzero_budget") is None)
    if objective == "errors":
        claimed = (int(round(result.objective)) if plain and result.objective is not None
                   else int(np.sum(~correct)))
    else:
        claimed = None
    proven = result.status == SOLUTION
    bound = result.bound if result.bound is not None else (result.objective if proven else None)
    approximation = tangent_bound(comp.symbol_map.extra.get("passes", []))
    check = check_binarised(query, params, claim, method="milp", claimed_errors=claimed,
                            proven_optimal=proven, bound=bound,
                            claimed_objective=None if plain else result.objective,
                            approximation=approximation)
    check.polished = slack
    notes = list(notes) + check.notes
    if slack is not None:
        notes.append(f"weights centred by an LP with the solver's activations fixed: every "
                     f"pre-activation at least {slack:.3g} from its threshold")
    status = result.status if check.ok else "check_failed"
    if status == UNKNOWN:
        notes.append(f"the solver stopped ({result.message}); its best point passed the check but "
                     "is not proven optimal")
    return Answer(status, query, params, check, result, comp, notes)
