"""Binarised networks: centring the answer's weights, then re-checking every claim.

*Polish.* A MILP answer sits on a vertex: many pre-activations are exactly at
the threshold (``z = 0``, the upper level), where a float forward pass may
round either way. With the MILP's activations and its correctly classified
samples fixed, the weights are an LP: maximise the smallest distance ``s``
(at most ``eps``) of every pre-activation from its threshold and of every
correct sample's class scores from a tie. The answer is replaced by the LP's
weights when ``s > 0``; activations and predictions stay those of the MILP.
Only real-box parameters are polished (integer and two-value weights are
exact as they come).

*Check.* The weights are run through the network in numpy (float64) and as
an ONNX model in onnxruntime (float32); both must give the same predictions,
the activations the MILP chose, no more errors than the MILP counts, and
every sample the MILP counts as correct must be correct.

*Objective.* With another loss, a regulariser, a budget or robust training,
the objective's parts are recomputed from the written weights
(:func:`objective_parts`: errors or robust errors, hinge loss or smallest
margin, ``sum |W|``, non-zero weights) and their total may not exceed the
solver's objective; a sample the solver counts as (robustly) correct must be.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..problem.network import Network
from ..problem.query import CLAIM_PREFIX
from .check_objective import objective_mismatch, regulariser_parts, regulariser_text

TOLERANCE = 1e-6


@dataclass
class BinarisedCheck:
    """What the forward passes found for a binarised network; ``ok`` False when a claim fails."""

    ok: bool
    accuracy: float  # numpy forward pass, training data
    errors: int
    claimed_errors: int | None  # the solver's count (objective), or the local search's
    onnx_accuracy: float | None
    min_margin: float  # smallest distance of a pre-activation from its threshold
    method: str = "milp"
    proven_optimal: bool = False
    bound: float | None = None  # the solver's lower bound on the errors
    polished: float | None = None  # the LP's smallest distance, when the weights were centred
    required_margin: float = 0.0
    tolerance: float = TOLERANCE
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # the objective's parts recomputed from the exported weights ("errors", "hinge",
    # "margin", "l1", "l1_term", "nonzero", "l0_term", "robust_errors", "total") and
    # the solver's value of the whole objective
    objective: str = "errors"
    parts: dict = field(default_factory=dict)
    claimed_objective: float | None = None

    @property
    def gap(self) -> float | None:
        """Relative gap between the objective and the solver's bound (0 when proven)."""
        if self.bound is None:
            return None
        if self.proven_optimal:
            return 0.0
        if self.claimed_objective is not None:
            c = self.claimed_objective  # as the solvers do: relative to the incumbent
            return 0.0 if c - self.bound <= 1e-9 else (c - self.bound) / max(abs(c), 1e-9)
        if self.claimed_errors is None:
            return None
        return max(self.claimed_errors - self.bound, 0.0) / max(self.claimed_errors, 1)

    def to_json(self) -> dict:
        return {"ok": self.ok, "accuracy": self.accuracy, "errors": self.errors,
                "claimed_errors": self.claimed_errors, "onnx_accuracy": self.onnx_accuracy,
                "min_margin": self.min_margin, "method": self.method,
                "proven_optimal": self.proven_optimal, "bound": self.bound, "gap": self.gap,
                "polished": self.polished, "problems": self.problems, "notes": self.notes,
                "objective": self.objective, "parts": self.parts,
                "claimed_objective": self.claimed_objective}

    def describe(self) -> list[str]:
        """Report lines for ``nncc solve``."""
        n = self.errors
        what = ("local search; no errors, so optimal" if self.method == "local-search"
                and self.proven_optimal else
                "local search, not proven optimal" if self.method == "local-search" else
                "proven optimal" if self.proven_optimal else "not proven optimal")
        line = (f"training:  accuracy {self.accuracy:.2%} ({n} error{'s' * (n != 1)}; {what}"
                + (f", bound {self.bound:g}, gap {self.gap:.1%}" if self.gap is not None
                   and not self.proven_optimal else "") + ")")
        out = [line]
        p = self.parts
        if self.objective != "errors" or len(p) > 2:
            # the solver minimises: the largest smallest margin counts as its negative
            loss = {"errors": (f"robust errors {p['robust_errors']} (errors {p['errors']})"
                               if "robust_errors" in p else f"errors {p['errors']}"),
                    "hinge": f"hinge {p.get('hinge', 0):.6g}",
                    "margin": f"-(smallest margin {p.get('margin', 0):.6g})"}[self.objective]
            bits = [loss] + regulariser_text(p)
            n_reg = len(bits) - 1
            if "l0_term" in p:
                bits.append(f"L0 term {p['l0_term']:.6g} ({p['nonzero']} non-zero weights)")
            if "budget" in p:
                bits.append(f"{p['nonzero']} non-zero weights of at most {p['budget']}")
            claimed = (f" (solver: {self.claimed_objective:.6g})"
                       if self.claimed_objective is not None else "")
            out.append(f"objective: {p['total']:.6g}{claimed} recomputed from the weights = "
                       + " + ".join(bits[:1 + n_reg + ("l0_term" in p)])
                       + "".join(f"; {b}" for b in bits[1 + n_reg + ("l0_term" in p):]))
        if self.onnx_accuracy is not None:
            out.append(f"check:     numpy and onnxruntime predictions agree; onnxruntime accuracy "
                       f"{self.onnx_accuracy:.2%}; smallest distance to a threshold {self.min_margin:.3g}")
        out += [f"problem:   {p}" for p in self.problems]
        return out


def _forward(net: Network, params: dict, X: np.ndarray):
    """Scores and the activations of every step layer (numpy, float64)."""
    h = np.asarray(X, dtype=np.float64)
    acts, pre = [], []
    for layer in net.layers:
        z = h @ np.asarray(params[f"{layer.name}.weight"]).T + np.asarray(params[f"{layer.name}.bias"])
        if layer.is_step:
            pre.append(z)
            on = z >= 0.0
            acts.append(on)
            h = np.where(on, layer.levels[1], layer.levels[0])
        else:
            h = z
    return h, acts, pre


def _in_domains(net: Network, params: dict) -> list[str]:
    problems = []
    for layer in net.layers:
        for key, dom in ((f"{layer.name}.weight", layer.weight_domain),
                         (f"{layer.name}.bias", layer.bias_domain)):
            v = np.asarray(params.get(key, np.nan), dtype=np.float64)
            if not np.all(np.isfinite(v)):
                problems.append(f"{key}: missing or not finite")
                continue
            if key.endswith(".bias") and layer.is_step and layer.threshold != "learned":
                if np.any(v != -float(layer.threshold)):
                    problems.append(f"{key}: the threshold is fixed at {layer.threshold:g}")
                continue
            if dom.kind == "set":
                near = np.min(np.abs(v.reshape(-1, 1) - np.asarray(dom.values)[None]), axis=1)
                if np.any(near > TOLERANCE):
                    problems.append(f"{key}: values outside {dom}")
                continue
            if np.any((v < dom.lo - TOLERANCE) | (v > dom.hi + TOLERANCE)):
                problems.append(f"{key}: values outside [{dom.lo:g}, {dom.hi:g}]")
            if dom.kind == "int" and np.any(np.abs(v - np.round(v)) > TOLERANCE):
                problems.append(f"{key}: values are not integers")
    return problems


def snap_parameters(net: Network, params: dict) -> dict:
    """Integer and two-value parameters rounded to their exact values (solvers print
    ``0.9999999``); real ones clipped into their box."""
    out = dict(params)
    for layer in net.layers:
        for key, dom in ((f"{layer.name}.weight", layer.weight_domain),
                         (f"{layer.name}.bias", layer.bias_domain)):
            if key not in out or (key.endswith(".bias") and layer.is_step
                                  and layer.threshold != "learned"):
                continue
            v = np.asarray(out[key], dtype=np.float64)
            if dom.kind == "int":
                v = np.round(v)
            elif dom.kind == "set":
                vals = np.asarray(dom.values)
                v = vals[np.argmin(np.abs(v[..., None] - vals), axis=-1)]
            else:
                v = np.clip(v, dom.lo, dom.hi)
            out[key] = v
    return out


def polish_weights(net: Network, X: np.ndarray, y: np.ndarray, params: dict,
                   acts: list[np.ndarray], correct: np.ndarray, epsilon: float, *,
                   fixed_layers=(), keep_zeros: bool = False, l1_budget: float | None = None,
                   robust: float = 0.0, shrink_only: bool = False) -> tuple[dict, float | None]:
    """Centre real-box weights with the activations and correct samples fixed (module
    docstring). Returns the new parameters and the smallest distance, or the old ones
    and None when the LP does not apply or finds nothing better than 0.

    What the training objective holds stays as good: ``fixed_layers`` keep their values
    (the output layer under a hinge / margin objective: the scores do not move),
    ``keep_zeros`` keeps zero weights at zero (L0), ``l1_budget`` bounds the sum of
    ``|W|`` (L1), and with ``robust`` the first layer's correct samples keep their side
    of every threshold over the L-infinity ball (``z -/+ r ||W_j||_1``). ``shrink_only``
    keeps every ``|w|`` at most what it was, so that no L1 / L2 term (per layer or
    not) grows."""
    for layer in net.layers:
        if layer.weight_domain.kind != "real" or layer.bias_domain.kind != "real":
            return params, None
    from ..solvers.highs_inprocess import highspy, quiet_highs
    if highspy is None:
        return params, None
    col_lb, col_ub, offsets = [], [], {}
    n = 0
    for layer in net.layers:
        Wv = np.asarray(params[f"{layer.name}.weight"], dtype=np.float64)
        fan = Wv.shape[1]
        W = np.arange(n, n + layer.size * fan).reshape(layer.size, fan)
        n += W.size
        lo = np.full(W.shape, layer.weight_domain.lo)
        hi = np.full(W.shape, layer.weight_domain.hi)
        if layer.name in fixed_layers:
            lo, hi = Wv, Wv
        elif keep_zeros:
            lo, hi = np.where(Wv == 0.0, 0.0, lo), np.where(Wv == 0.0, 0.0, hi)
        if shrink_only and layer.name not in fixed_layers:
            lo, hi = np.maximum(lo, -np.abs(Wv)), np.minimum(hi, np.abs(Wv))
        col_lb.append(lo.reshape(-1))
        col_ub.append(hi.reshape(-1))
        b = None
        if not (layer.is_step and layer.threshold != "learned"):
            b = np.arange(n, n + layer.size)
            n += layer.size
            bv = np.asarray(params[f"{layer.name}.bias"], dtype=np.float64)
            fixed = layer.name in fixed_layers
            col_lb.append(bv if fixed else np.full(layer.size, layer.bias_domain.lo))
            col_ub.append(bv if fixed else np.full(layer.size, layer.bias_domain.hi))
        offsets[layer.name] = (W, b)
    s_col = n
    n += 1
    col_lb.append(np.zeros(1))
    col_ub.append(np.full(1, epsilon))
    rows, cols, vals, rlo, rhi = [], [], [], [], []
    m = 0
    abs_cols = {}
    if l1_budget is not None or robust > 0.0:
        # a >= |W| for every weight: a - w >= 0, a + w >= 0
        for layer in net.layers:
            W, _ = offsets[layer.name]
            a = np.arange(n, n + W.size).reshape(W.shape)
            n += W.size
            abs_cols[layer.name] = a
            wmax = max(abs(layer.weight_domain.lo), abs(layer.weight_domain.hi))
            col_lb.append(np.zeros(W.size))
            col_ub.append(np.full(W.size, wmax))
            for sgn in (-1.0, 1.0):
                r = np.arange(m, m + W.size)
                rows += [r, r]
                cols += [a.reshape(-1), W.reshape(-1)]
                vals += [np.ones(W.size), np.full(W.size, sgn)]
                rlo.append(np.zeros(W.size))
                rhi.append(np.full(W.size, np.inf))
                m += W.size
        if l1_budget is not None:
            allc = np.concatenate([a.reshape(-1) for a in abs_cols.values()])
            rows.append(np.full(allc.size, m))
            cols.append(allc)
            vals.append(np.ones(allc.size))
            rlo.append(np.full(1, -np.inf))
            rhi.append(np.full(1, l1_budget))
            m += 1
    H = np.asarray(X, dtype=np.float64)
    for k, layer in enumerate(net.layers):
        W, b = offsets[layer.name]
        fixed_b = 0.0 if b is not None else -float(layer.threshold)
        if layer.is_step:
            on = acts[k]
            # z[n, j] = H[n] W[j] + b[j];  on: z - s >= 0;  off: z + s <= 0
            live = np.any(H != 0, axis=1)[:, None] | (b is not None)
            nn, jj = np.nonzero(np.broadcast_to(live, on.shape))
            r = np.arange(m, m + len(nn))
            d = H.shape[1]
            rows += [np.repeat(r, d), r, r] if b is not None else [np.repeat(r, d), r]
            cols += ([W[jj].reshape(-1), b[jj] if b is not None else None, np.full(len(r), s_col)]
                     if b is not None else [W[jj].reshape(-1), np.full(len(r), s_col)])
            sign = np.where(on[nn, jj], -1.0, 1.0)
            vals += ([H[nn].reshape(-1), np.ones(len(r)), sign] if b is not None
                     else [H[nn].reshape(-1), sign])
            rlo.append(np.where(on[nn, jj], -fixed_b, -np.inf))
            rhi.append(np.where(on[nn, jj], np.inf, -fixed_b))
            m += len(r)
            if robust > 0.0 and k == 0:
                # correct samples: z - r sum_i a[j, i] - s >= 0 (on), z + r A + s <= 0 (off)
                nn, jj = np.nonzero(np.broadcast_to(correct[:, None], on.shape))
                r = np.arange(m, m + len(nn))
                sign = np.where(on[nn, jj], -1.0, 1.0)
                a = abs_cols[layer.name]
                rows += [np.repeat(r, d), np.repeat(r, d), r] + ([r] if b is not None else [])
                cols += [W[jj].reshape(-1), a[jj].reshape(-1), np.full(len(r), s_col)] + (
                    [b[jj]] if b is not None else [])
                vals += [H[nn].reshape(-1), np.repeat(sign * robust, d), sign] + (
                    [np.ones(len(r))] if b is not None else [])
                rlo.append(np.where(on[nn, jj], -fixed_b, -np.inf))
                rhi.append(np.where(on[nn, jj], np.inf, -fixed_b))
                m += len(r)
            H = np.where(on, layer.levels[1], layer.levels[0])
        elif layer.name not in fixed_layers:
            K = layer.size
            ns = np.flatnonzero(correct)
            nn, kk = np.nonzero(np.arange(K)[None, :] != y[ns, None])
            nn = ns[nn]
            yy = y[nn]
            r = np.arange(m, m + len(nn))
            d = H.shape[1]
            # s[n, y] - s[n, k] - s >= 0
            rows += [np.repeat(r, d), np.repeat(r, d), r, r, r]
            cols += [W[yy].reshape(-1), W[kk].reshape(-1), b[yy], b[kk], np.full(len(r), s_col)]
            vals += [H[nn].reshape(-1), -H[nn].reshape(-1), np.ones(len(r)), -np.ones(len(r)),
                     -np.ones(len(r))]
            rlo.append(np.zeros(len(r)))
            rhi.append(np.full(len(r), np.inf))
            m += len(r)
    A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(m, n))
    A.sum_duplicates()
    h = quiet_highs()
    inf = highspy.kHighsInf
    lb, ub = np.concatenate(col_lb), np.concatenate(col_ub)
    cost = np.zeros(n)
    cost[s_col] = -1.0
    h.addCols(n, cost, lb, ub, 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
    rl, ru = np.concatenate(rlo), np.concatenate(rhi)
    h.addRows(m, np.where(np.isfinite(rl), rl, -inf), np.where(np.isfinite(ru), ru, inf),
              A.nnz, A.indptr[:-1].astype(np.int32), A.indices.astype(np.int32), A.data)
    h.setOptionValue("time_limit", 30.0)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return params, None
    x = np.clip(np.asarray(h.getSolution().col_value, dtype=np.float64), lb, ub)
    if not x[s_col] > 1e-7:
        return params, None
    out = dict(params)
    for layer in net.layers:
        W, b = offsets[layer.name]
        out[f"{layer.name}.weight"] = x[W]
        if b is not None:
            out[f"{layer.name}.bias"] = x[b]
    if l1_budget is not None and l1_norm(net, out) > l1_budget * (1 + 1e-9) + 1e-9:
        return params, None  # the LP's tolerance spent on the L1 budget: keep the MILP's
    return out, float(x[s_col])


def l1_norm(net: Network, params: dict) -> float:
    """``sum |W|`` over every weight matrix (not the biases / thresholds)."""
    return float(sum(np.abs(np.asarray(params[f"{l.name}.weight"], dtype=np.float64)).sum()
                     for l in net.layers))


def nonzero_weights(net: Network, params: dict) -> int:
    """The number of weights that are not exactly 0."""
    return int(sum(np.count_nonzero(np.asarray(params[f"{l.name}.weight"])) for l in net.layers))


def robust_correct(net: Network, params: dict, X: np.ndarray, y: np.ndarray,
                   radius: float) -> np.ndarray:
    """Per sample: classified correctly and every first-layer unit keeps its side of the
    threshold over the whole L-infinity ball (exact for a linear layer: ``W x + b -/+
    r ||W_j||_1``), so that the whole ball gets the same prediction."""
    scores, _, pre = _forward(net, params, X)
    ok = np.argmax(scores, axis=1) == y
    if radius <= 0.0 or not net.layers[0].is_step:
        return ok
    z = pre[0]
    spread = radius * np.abs(np.asarray(params[f"{net.layers[0].name}.weight"])).sum(axis=1)
    steady = np.where(z >= 0.0, z - spread >= -TOLERANCE, z + spread < 0.0)
    return ok & np.all(steady, axis=1)


def margins(scores: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per sample: its class's score minus the largest other score."""
    own = scores[np.arange(len(y)), y]
    other = np.where(np.arange(scores.shape[1])[None] == y[:, None], -np.inf, scores).max(axis=1)
    return own - other


def objective_parts(query, params: dict, scores: np.ndarray) -> dict:
    """The training objective's parts recomputed from the parameters (numpy): the loss
    (errors, hinge or smallest margin), ``l1`` / ``l1_term``, ``l2`` / ``l2_term``
    (:func:`~nncc.checks.check_objective.regulariser_parts`), ``nonzero`` / ``l0_term``,
    ``robust_errors`` and their ``total`` (as the solver minimises it; the smallest
    margin counts negatively)."""
    net, X, y = query.network, query.data.X, np.asarray(query.data.y)
    objective = query.objective or "errors"
    radius, l0, budget = float(query.robust), float(query.l0), query.nonzero_budget
    mg = margins(scores, y)
    parts: dict = {"errors": int(np.sum(np.argmax(scores, axis=1) != y))}
    if objective == "errors" and radius > 0.0:
        parts["robust_errors"] = int(np.sum(~robust_correct(net, params, X, y, radius)))
        total = float(parts["robust_errors"])
    elif objective == "errors":
        total = float(parts["errors"])
    elif objective == "hinge":
        parts["hinge"] = float(np.maximum(query.hinge_margin - mg, 0.0).sum())
        total = parts["hinge"]
    else:
        parts["margin"] = float(mg.min(initial=np.inf))
        total = -parts["margin"]
    reg = regulariser_parts(query, params)
    parts.update(reg)
    total += reg.get("l1_term", 0.0) + reg.get("l2_term", 0.0)
    if l0 > 0.0 or budget is not None:
        parts["nonzero"] = nonzero_weights(net, params)
    if l0 > 0.0:
        parts["l0_term"] = l0 * parts["nonzero"]
        total += parts["l0_term"]
    if budget is not None:
        parts["budget"] = int(budget)
    parts["total"] = total
    return parts


def check_binarised(query, params: dict, claim: dict | None = None, *, method: str = "milp",
                    claimed_errors: int | None = None, proven_optimal: bool = False,
                    bound: float | None = None, onnx: bool = True,
                    claimed_objective: float | None = None,
                    approximation: float = 0.0) -> BinarisedCheck:
    """Re-check a binarised network's parameters (module docstring). ``claim`` holds the
    MILP's ``milp:<layer>.act`` and ``milp:errors`` arrays; ``claimed_errors`` the count
    the solver (or the local search) reports."""
    net, X, y = query.network, query.data.X, np.asarray(query.data.y)
    problems = _in_domains(net, params)
    if problems:
        return BinarisedCheck(False, 0.0, len(y), claimed_errors, None, float("nan"), method,
                              proven_optimal, bound, problems=problems)
    scores, acts, pre = _forward(net, params, X)
    pred = np.argmax(scores, axis=1)
    wrong = pred != y
    errors = int(wrong.sum())
    accuracy = float(1.0 - errors / len(y)) if len(y) else 1.0
    margin = min([float(np.min(np.abs(z))) for z in pre if z.size] or [float("inf")])
    notes = []
    parts = objective_parts(query, params, scores)
    radius = float(query.robust)
    if claim:
        e = claim.get(CLAIM_PREFIX + "errors")
        if e is not None:
            bad = np.flatnonzero((e < 0.5) & wrong)
            if len(bad):
                problems.append(f"{len(bad)} samples the solver counts as correct are misclassified "
                                f"(first: sample {int(bad[0])})")
            if radius > 0.0:
                frail = np.flatnonzero((e < 0.5) & ~robust_correct(net, params, X, y, radius))
                if len(frail):
                    problems.append(f"{len(frail)} samples the solver counts as robustly correct "
                                    f"are not, within L-infinity radius {radius:g} (first: sample "
                                    f"{int(frail[0])})")
    # one-sided: the forward pass may find fewer errors than the MILP counts (ties within
    # epsilon) and the polish only shrinks regularised weights, never the reverse
    mismatch = objective_mismatch(parts["total"], claimed_objective, approximation, two_sided=False)
    if mismatch:
        problems.append(mismatch)
    if "budget" in parts and parts["nonzero"] > parts["budget"]:
        problems.append(f"{parts['nonzero']} non-zero weights, the budget is {parts['budget']}")
        for layer, a in zip([l for l in net.layers if l.is_step], acts):
            u = claim.get(CLAIM_PREFIX + f"{layer.name}.act")
            if u is not None and np.any((u > 0.5) != a):
                problems.append(f"layer {layer.name}: {int(np.sum((u > 0.5) != a))} activations "
                                "differ from the solver's")
    if claimed_errors is not None:
        # robust training counts a sample as an error unless its whole ball is right
        found = parts.get("robust_errors", errors)
        what = "robust errors" if "robust_errors" in parts else "training errors"
        if found > claimed_errors:
            problems.append(f"{found} {what} in the forward pass, the {method} "
                            f"claims {claimed_errors}")
        elif found < claimed_errors:
            notes.append(f"the forward pass finds {found} {what}, {claimed_errors - found} fewer "
                         f"than claimed (samples the MILP counted within epsilon of a tie)")
    onnx_accuracy = None
    if onnx:
        from ..export.onnx_export import network_to_onnx, run_onnx
        out = run_onnx(network_to_onnx(net, params).SerializeToString(), X)
        onnx_pred = np.argmax(out, axis=1)
        onnx_accuracy = float(np.mean(onnx_pred == y)) if len(y) else 1.0
        if np.any(onnx_pred != pred):
            problems.append(f"onnxruntime predicts differently on {int(np.sum(onnx_pred != pred))} "
                            "samples")
    return BinarisedCheck(not problems, accuracy, errors, claimed_errors, onnx_accuracy, margin,
                          method, proven_optimal, bound, problems=problems, notes=notes,
                          objective=query.objective or "errors", parts=parts,
                          claimed_objective=claimed_objective)


