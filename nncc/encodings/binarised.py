"""Binarised networks trained as a MILP: step / sign activations, minimal training errors.

The paper's BDNN (and BDNN0 with thresholds fixed at 0). Per sample ``n`` and
hidden unit ``j`` a binary ``u[n, j]`` is the unit's activation: the unit
outputs ``beta + (gamma - beta) u`` (0/1 for ``step``, -1/+1 for ``sign``).
With ``z = W h + b`` (the threshold is ``-b``: learned when ``b`` is an
unknown, else fixed):

* ``u = 1  =>  z >= 0``:        ``z + L u >= L``
* ``u = 0  =>  z <= -eps``:     ``z - (U + eps) u <= -eps``

``eps`` stands for the strict side (default 1e-3, ``--epsilon``): well above
the solvers' feasibility tolerance (about 1e-6), so the float forward pass
sees the step the MILP chose. ``[L, U]`` bounds ``z`` per sample and unit,
from the weight box and the actual inputs (``big-m unit``, the default), or
are the paper's blanket ``M = d r w + b + 1`` for the whole layer (``big-m blanket``:
fan-in ``d``, largest input ``r``, weight bound ``w``, bias bound ``b``).

The first layer is linear in its weights (the data is constant). Later
layers multiply weights by binary activations: ``W[j, i] u[n, i]`` is a
:class:`~nncc.ir.program.BoolProductBlock`, linearised exactly with four rows
by :mod:`nncc.passes.bool_product_linearisation`.

The output layer is linear, one unit per class; the prediction is the
argmax. A binary ``e[n]`` marks a training error:
``s[n, y] - s[n, k] + M e[n] >= eps`` for every other class ``k``, and the
objective is ``min sum e``. Weights in a two-value set ``{a, c}`` are
``a + (c - a) t`` with a binary ``t``.

Other losses: ``hinge`` (a real ``xi[n] >= G - (s[n, y] - s[n, k])``, at least
0, ``min sum xi``) and ``margin`` (one ``gamma <= s[n, y] - s[n, k]``, ``max
gamma``). Added to the loss: ``l1 * sum a`` with ``a >= |W|`` and ``l2 * sum W**2``
(:mod:`nncc.encodings.regularisation`, per layer with ``on LAYER``) and ``l0 * sum
used`` with ``used = 0 => W = 0`` (:func:`add_used`); a budget
``sum used <= K``. Robust training (:func:`add_robust_rows`) keeps each first
layer unit on its side over the L-infinity ball of every sample not counted
as an error: the exact counterpart ``z -/+ r ||W_j||_1``, linear with ``a``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir.program import BOOL, EQ, GE, INT, LE, REAL, BoolProductBlock, LinearBlock, Objective, Program
from ..passes.strict_epsilon import DEFAULT_EPSILON
from ..problem.network import DenseLayer, Network, ParamDomain
from ..problem.query import CLAIM_PREFIX, TrainQuery
from .dense_layers import interval_product
from .regularisation import add_abs, largest_weight, regulariser_terms
from .encoded import Encoded



@dataclass
class _Input:
    """What flows into a layer: data (constants), or binary activations ``u`` with two levels."""

    const: np.ndarray | None = None  # (N, d)
    u: np.ndarray | None = None  # (N, d) variable indices
    levels: tuple[float, float] = (0.0, 1.0)

    @property
    def width(self) -> int:
        return (self.const if self.const is not None else self.u).shape[1]

    @property
    def largest(self) -> float:
        """The largest absolute input value (the paper's ``r``)."""
        if self.const is not None:
            return float(np.abs(self.const).max()) if self.const.size else 0.0
        return float(max(abs(self.levels[0]), abs(self.levels[1])))

    def range(self) -> tuple[np.ndarray, np.ndarray]:
        if self.const is not None:
            return self.const, self.const
        lo, hi = min(self.levels), max(self.levels)
        return np.full(self.u.shape, lo), np.full(self.u.shape, hi)


@dataclass
class _Affine:
    """``z[n, j] = sum_m coefs[n, j, m] x[cols[n, j, m]] + const[n, j]`` with bounds."""

    cols: np.ndarray
    coefs: np.ndarray
    const: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def _domain_vars(prog: Program, name: str, shape, dom: ParamDomain) -> np.ndarray:
    """Unknowns of one domain: a real / integer box, or a two-value set via a binary."""
    if dom.kind in ("real", "int"):
        return prog.add_vars(name, shape, REAL if dom.kind == "real" else INT, dom.lo, dom.hi)
    a, c = dom.values
    v = prog.add_vars(name, shape, REAL, a, c)
    t = prog.add_vars(name + ".choice", shape, BOOL)
    # v - (c - a) t = a
    prog.add(LinearBlock.from_dense_rows(name + ".set", np.stack([v.reshape(-1), t.reshape(-1)], 1),
                                         [1.0, -(c - a)], EQ, a))
    return v


def _bias_box(layer: DenseLayer) -> tuple[float, float] | None:
    """The bias box when the bias is an unknown, None when it is fixed (-threshold)."""
    if layer.is_step and layer.threshold != "learned":
        return None
    return layer.bias_domain.lo, layer.bias_domain.hi


def _affine(prog: Program, layer: DenseLayer, inp: _Input, W, b, fixed_bias: float) -> _Affine:
    """The pre-activations of a layer over every sample (see the module docstring)."""
    N, d = (inp.const if inp.const is not None else inp.u).shape
    out = layer.size
    wd = layer.weight_domain
    bbox = _bias_box(layer)
    blo, bhi = bbox if bbox is not None else (fixed_bias, fixed_bias)
    if isinstance(W, np.ndarray) and W.dtype.kind == "f":  # fixed weights (local search)
        Wc, bc = W, np.broadcast_to(np.asarray(b, float), (out,))
        if inp.const is not None:
            z = inp.const @ Wc.T + bc
            return _Affine(np.zeros((N, out, 0), np.int64), np.zeros((N, out, 0)), z, z, z)
        beta, gamma = inp.levels
        delta = gamma - beta
        const = np.broadcast_to(beta * Wc.sum(axis=1) + bc, (N, out)).copy()
        cols = np.broadcast_to(inp.u[:, None, :], (N, out, d)).copy()
        coefs = np.broadcast_to(delta * Wc[None], (N, out, d)).copy()
        lo_t = np.minimum(beta * Wc, gamma * Wc).sum(axis=1) + bc
        hi_t = np.maximum(beta * Wc, gamma * Wc).sum(axis=1) + bc
        return _Affine(cols, coefs, const, np.broadcast_to(lo_t, (N, out)).copy(),
                       np.broadcast_to(hi_t, (N, out)).copy())
    bias_cols = [] if b is None else [np.broadcast_to(b[None, :, None], (N, out, 1))]
    bias_coefs = [] if b is None else [np.ones((N, out, 1))]
    const = np.zeros((N, out)) if b is not None else np.full((N, out), fixed_bias)
    xlo, xhi = inp.range()
    plo, phi = interval_product(xlo, xhi, wd.lo, wd.hi)
    lo = np.broadcast_to((plo.sum(axis=1) + blo)[:, None], (N, out)).copy()
    hi = np.broadcast_to((phi.sum(axis=1) + bhi)[:, None], (N, out)).copy()
    if inp.const is not None:
        # linear in the weights: the data is constant
        cols = np.concatenate([np.broadcast_to(W[None], (N, out, d))] + bias_cols, axis=2)
        coefs = np.concatenate([np.broadcast_to(inp.const[:, None, :], (N, out, d))] + bias_coefs,
                               axis=2)
        return _Affine(cols, coefs, const, lo, hi)
    # unknown weights times binary activations: products P[n, j, i] = W[j, i] u[n, i]
    beta, gamma = inp.levels
    P = prog.add_vars(f"{layer.name}.product", (N, out, d), REAL,
                      min(wd.lo, 0.0), max(wd.hi, 0.0))
    prog.add(BoolProductBlock(f"{layer.name}.product", P.reshape(-1),
                              np.broadcast_to(inp.u[:, None, :], (N, out, d)).reshape(-1).copy(),
                              np.broadcast_to(W[None], (N, out, d)).reshape(-1).copy()))
    parts_c = [P]
    parts_v = [np.full((N, out, d), gamma - beta)]
    if beta != 0.0:  # h = beta + (gamma - beta) u
        parts_c.append(np.broadcast_to(W[None], (N, out, d)))
        parts_v.append(np.full((N, out, d), beta))
    return _Affine(np.concatenate(parts_c + bias_cols, axis=2),
                   np.concatenate(parts_v + bias_coefs, axis=2), const, lo, hi)


def blanket_big_m(inp: _Input, layer: DenseLayer, fixed_bias: float) -> float:
    """The paper's blanket constant for a layer: ``d r w + b + 1`` (``M_1 = d0 r + 1``
    for weights in [-1, 1] and no bias)."""
    wd = layer.weight_domain
    bbox = _bias_box(layer)
    bmax = max(abs(bbox[0]), abs(bbox[1])) if bbox is not None else abs(fixed_bias)
    return inp.width * inp.largest * max(abs(wd.lo), abs(wd.hi)) + bmax + 1.0


def _rows(name: str, z: _Affine, extra_cols, extra_coefs, sense, rhs) -> LinearBlock:
    """Rows ``z + sum extra >= / <= rhs`` (``z.const`` moved to the right-hand side),
    one per sample and unit; repeated columns in a row are merged."""
    N, out, m = z.cols.shape
    cols = np.concatenate([z.cols.reshape(N * out, m)] + [c.reshape(N * out, -1) for c in extra_cols], 1)
    coefs = np.concatenate([z.coefs.reshape(N * out, m)] + [c.reshape(N * out, -1) for c in extra_coefs], 1)
    return LinearBlock.from_dense_rows(name, *_merge_repeats(cols, coefs), sense,
                                       (np.asarray(rhs, float) - z.const).reshape(-1), drop_zeros=True)


def _merge_repeats(cols: np.ndarray, coefs: np.ndarray):
    """Sum the coefficients of a column repeated within a row (the repeats become 0)."""
    order = np.argsort(cols, axis=1, kind="stable")
    cols = np.take_along_axis(cols, order, axis=1)
    coefs = np.take_along_axis(coefs, order, axis=1).copy()
    if cols.shape[1] > 1:
        same = cols[:, 1:] == cols[:, :-1]
        if same.any():
            # walk runs of equal columns: fold each repeat into the first of its run
            for k in range(cols.shape[1] - 1, 0, -1):
                s = same[:, k - 1]
                coefs[s, k - 1] += coefs[s, k]
                coefs[s, k] = 0.0
            # a column kept twice in one row would be written twice: give the zeros
            # distinct dummy places by leaving them to drop_zeros
    return cols, coefs


def encode_binarised(query: TrainQuery, epsilon: float = DEFAULT_EPSILON,
                     fixed: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
                     X: np.ndarray | None = None, y: np.ndarray | None = None) -> Encoded:
    """The MILP of a binarised training query (module docstring).

    ``fixed`` maps layer names to known ``(weight, bias)`` arrays (the local search
    optimises one layer at a time); ``X`` / ``y`` replace the query's data.
    """
    net: Network = query.network
    X = np.asarray(query.data.X if X is None else X, dtype=np.float64)
    y = np.asarray(query.data.y if y is None else y, dtype=np.int64)
    fixed = fixed or {}
    N = len(y)
    prog = Program(name=f"train_{net.name}_{query.data.name}")
    inp = _Input(const=X)
    layers_inv, acts, params = [], [], []
    max_m = 0.0
    objective = query.objective or "errors"
    l1, l0, budget, radius = float(query.l1), float(query.l0), query.nonzero_budget, float(query.robust)
    e = prog.add_vars("errors", (N,), BOOL) if objective == "errors" else None
    abs_groups, used_groups = [], []
    abs_by_layer, weights = {}, {}
    for k, layer in enumerate(net.layers):
        fan_in = net.fan_in(k)
        fixed_bias = 0.0 if not layer.is_step or layer.threshold == "learned" else -float(layer.threshold)
        if layer.name in fixed:
            W, b = (np.asarray(a, dtype=np.float64) for a in fixed[layer.name])
            layers_inv.append({"name": layer.name, "fixed": True})
        else:
            W = _domain_vars(prog, f"{layer.name}.weight", (layer.size, fan_in), layer.weight_domain)
            b = None
            if _bias_box(layer) is not None:
                b = _domain_vars(prog, f"{layer.name}.bias", (layer.size,), layer.bias_domain)
                params.append(f"{layer.name}.bias")
            params.append(f"{layer.name}.weight")
            layers_inv.append({"name": layer.name, "fixed": False,
                               "bias": None if b is not None else fixed_bias, "size": layer.size})
            weights[layer.name] = (W, layer.weight_domain, 1.0)
            if radius > 0.0 and k == 0:
                abs_by_layer[layer.name] = add_abs(prog, f"{layer.name}.weight", W, layer.weight_domain)
                abs_groups.append(abs_by_layer[layer.name])
            if l0 > 0.0 or budget is not None:
                used_groups.append(add_used(prog, f"{layer.name}.weight", W, layer.weight_domain))
        z = _affine(prog, layer, inp, W, b, fixed_bias)
        if query.big_m == "blanket":
            M = blanket_big_m(inp, layer, fixed_bias)
            if z.cols.shape[2]:  # a constant z needs no big-M
                z.lo, z.hi = np.full(z.lo.shape, -M), np.full(z.hi.shape, M)
        last = k == len(net.layers) - 1
        if last:
            if objective == "errors":
                max_m = max(max_m, _error_rows(prog, z, y, epsilon, query.big_m == "blanket", e))
            else:
                _margin_rows(prog, z, y, objective, query.hinge_margin)
            break
        if z.cols.shape[2] == 0:  # constant pre-activations: constant activations
            beta, gamma = layer.levels
            inp = _Input(const=np.where(z.const >= 0.0, gamma, beta))
            continue
        u, m = add_step(prog, layer.name, z, epsilon)
        if radius > 0.0 and k == 0 and layer.name not in fixed:
            add_robust_rows(prog, layer.name, z, u, e, abs_groups[0], radius,
                            largest_weight(layer.weight_domain), epsilon)
        acts.append(f"{layer.name}.act")
        max_m = max(max_m, m)
        inp = _Input(u=u, levels=layer.levels)
    idx, coef = [], []
    if objective == "errors":
        idx, coef = [e], [np.ones(N)]
    elif objective == "hinge":
        h = prog.group("hinge").indices()
        idx, coef = [h], [np.ones(len(h))]
    else:  # maximise the smallest margin: minimise its negative
        idx, coef = [prog.group("margin").indices()], [-np.ones(1)]
    reg = regulariser_terms(prog, query, weights, abs_by_layer)
    idx.append(reg.idx)
    coef.append(reg.coef)
    for g in used_groups if l0 > 0.0 else []:
        idx.append(g.reshape(-1))
        coef.append(np.full(g.size, l0))
    if budget is not None and used_groups:
        allu = np.concatenate([g.reshape(-1) for g in used_groups])
        prog.add(LinearBlock.from_dense_rows("nonzero_budget", allu[None, :], np.ones((1, allu.size)),
                                             LE, float(budget)))
    prog.objective = Objective("min", np.concatenate(idx), np.concatenate(coef), 0.0,
                               reg.sq_idx, reg.sq_coef)
    used_names = [f"{L['name']}.weight.used" for L in layers_inv if not L["fixed"]] if used_groups else []
    prog.answer_groups = (params + acts + (["errors"] if e is not None else [])
                          + [objective] * (objective != "errors") + used_names)
    step_m = getattr(prog, "step_big_m", [])
    mean_m = float(np.mean(np.concatenate(step_m))) if step_m else 0.0
    inverse = {"kind": "binarised", "layers": layers_inv, "acts": acts, "params": params,
               "epsilon": epsilon, "big_m": query.big_m, "max_M": max_m, "mean_step_M": mean_m,
               "objective": objective, "claims": ([] if e is None else ["errors"])
               + [objective] * (objective != "errors") + used_names,
               "l1": l1, "l0": l0, "nonzero_budget": budget, "robust": radius,
               "regularised": bool(len(reg.idx) or len(reg.sq_idx)), "l2": bool(len(reg.sq_idx))}
    method = "paper's blanket M" if query.big_m == "blanket" else "M per unit from the weight box and the data"
    what = {"errors": "minimal training errors", "hinge": f"minimal hinge loss (margin "
            f"{query.hinge_margin:g})", "margin": "the largest smallest score margin"}[objective]
    what += reg.description + "".join([f" + {l0:g} * non-zero weights"] * (l0 > 0)
                    + [f", at most {budget} non-zero weights"] * (budget is not None)
                    + [f", robust within L-infinity radius {radius:g} (first layer's exact "
                       "counterpart)"] * (radius > 0))
    enc = Encoded(prog, inverse, f"binarised: step rows with big-M ({method}), exact products, "
                  f"{what}", square_segments=reg.sq_segments if reg.segments_asked else None)
    enc.inverse["description"] = enc.description
    return enc


def add_step(prog: Program, name: str, z: _Affine, epsilon: float) -> tuple[np.ndarray, float]:
    """Binary activations ``NAME.act`` for the pre-activations ``z`` and their big-M rows;
    returns the variables and the largest M."""
    N, out = z.const.shape
    u = prog.add_vars(f"{name}.act", (N, out), BOOL)
    L, U = np.minimum(z.lo, 0.0), np.maximum(z.hi, -epsilon)
    # u = 1 => z >= 0:  z + L u >= L
    on = _rows(f"{name}.step_on", z, [u[:, :, None]], [L[:, :, None]], GE, L)
    # u = 0 => z <= -eps:  z - (U + eps) u <= -eps
    off = _rows(f"{name}.step_off", z, [u[:, :, None]], [-(U + epsilon)[:, :, None]], LE,
                np.full(U.shape, -epsilon))
    prog.add(LinearBlock.concat(f"{name}.step", [on, off]))
    # stable units: the bounds decide the step
    prog.lb[u[z.lo >= 0.0]] = 1.0
    prog.ub[u[z.hi < -epsilon]] = 0.0
    prog.step_big_m = getattr(prog, "step_big_m", []) + [np.maximum(-L, U + epsilon).reshape(-1)]
    return u, max(float(np.max(-L, initial=0.0)), float(np.max(U + epsilon, initial=0.0)))


def encode_hidden_unit(layer: DenseLayer, X: np.ndarray, y: np.ndarray, j: int,
                       rest_scores: np.ndarray, out_column: np.ndarray,
                       epsilon: float = DEFAULT_EPSILON) -> Program:
    """One unit ``j`` of a first hidden layer, everything else fixed (the local search's
    smallest step): its weights and threshold, its activation per sample, the errors.

    ``rest_scores`` (N, K) are the output scores without unit ``j``'s contribution and
    ``out_column`` (K,) the output weights of unit ``j``: the scores are
    ``rest + out_column (beta + (gamma - beta) u)``.
    """
    N, d = X.shape
    prog = Program(name=f"unit_{layer.name}_{j}")
    unit = DenseLayer(layer.name, 1, layer.activation, layer.weight_domain, layer.bias_domain,
                      levels=layer.levels, threshold=layer.threshold)
    fixed_bias = 0.0 if layer.threshold == "learned" else -float(layer.threshold)
    W = _domain_vars(prog, f"{layer.name}.weight", (1, d), layer.weight_domain)
    b = (_domain_vars(prog, f"{layer.name}.bias", (1,), layer.bias_domain)
         if _bias_box(unit) is not None else None)
    z = _affine(prog, unit, _Input(const=X), W, b, fixed_bias)
    u, _ = add_step(prog, layer.name, z, epsilon)
    beta, gamma = layer.levels
    e = prog.add_vars("errors", (N,), BOOL)
    K = rest_scores.shape[1]
    n_idx, k_idx = np.nonzero(np.arange(K)[None, :] != y[:, None])
    yy = y[n_idx]
    a = (out_column[yy] - out_column[k_idx]) * (gamma - beta)
    c = rest_scores[n_idx, yy] - rest_scores[n_idx, k_idx] + (out_column[yy] - out_column[k_idx]) * beta
    M = np.maximum(epsilon - (c + np.minimum(a, 0.0)), 0.0)
    # c + a u + M e >= eps
    prog.add(LinearBlock.from_dense_rows("classify_errors", np.stack([u[n_idx, 0], e[n_idx]], 1),
                                         np.stack([a, M], 1), GE, epsilon - c, drop_zeros=True))
    prog.objective = Objective("min", e, np.ones(N))
    return prog


def add_used(prog: Program, name: str, W: np.ndarray, dom: ParamDomain) -> np.ndarray:
    """A binary ``NAME.used`` per weight: ``used = 0 => W = 0`` as ``lo used <= W <= hi used``."""
    lo, hi = (dom.lo, dom.hi) if dom.kind != "set" else (min(dom.values), max(dom.values))
    t = prog.add_vars(name + ".used", W.shape, BOOL)
    w, s = W.reshape(-1), t.reshape(-1)
    prog.add(LinearBlock.concat(name + ".used", [
        LinearBlock.from_dense_rows(name + ".used_hi", np.stack([w, s], 1), [1.0, -hi], LE, 0.0),
        LinearBlock.from_dense_rows(name + ".used_lo", np.stack([w, s], 1), [1.0, -lo], GE, 0.0)]))
    return t


def add_robust_rows(prog: Program, name: str, z: _Affine, u: np.ndarray, e: np.ndarray,
                    a: np.ndarray, radius: float, wmax: float, epsilon: float) -> None:
    """First layer, every point within L-infinity ``radius`` of sample ``n`` on the side of
    the threshold that ``u[n, j]`` says, unless ``e[n]`` (the sample is an error): the
    exact robust counterpart ``z -/+ r sum_i a[j, i]`` with ``a >= |W|``.

    * ``u = 1, e = 0  =>  z - r A >= 0``:    ``z - r A + L2 u - L2 e >= L2``
    * ``u = 0, e = 0  =>  z + r A <= -eps``: ``z + r A - (U2 + eps)(u + e) <= -eps``

    with ``[L2, U2]`` bounding ``z -/+ r A`` (``A <= d wmax``)."""
    N, out = z.const.shape
    d = a.shape[1]
    rA = radius * d * wmax
    L2 = np.minimum(z.lo - rA, 0.0)
    U2 = np.maximum(z.hi + rA, -epsilon)
    acols = np.broadcast_to(a[None], (N, out, d))
    ecols = np.broadcast_to(e[:, None, None], (N, out, 1))
    on = _rows(f"{name}.robust_on", z, [acols, u[:, :, None], ecols],
               [np.full((N, out, d), -radius), L2[:, :, None], -L2[:, :, None]], GE, L2)
    off = _rows(f"{name}.robust_off", z, [acols, u[:, :, None], ecols],
                [np.full((N, out, d), radius), -(U2 + epsilon)[:, :, None], -(U2 + epsilon)[:, :, None]],
                LE, np.full(U2.shape, -epsilon))
    prog.add(LinearBlock.concat(f"{name}.robust", [on, off]))


def _margin_rows(prog: Program, s: _Affine, y: np.ndarray, objective: str, margin: float):
    """Hinge: ``xi[n] >= G - (s[n, y] - s[n, k])`` for every other class ``k`` (the
    multiclass hinge of Crammer and Singer), ``xi >= 0``. Margin: one ``gamma`` with
    ``s[n, y] - s[n, k] >= gamma`` for every sample and other class."""
    N, K, m = s.cols.shape
    n_idx, k_idx = np.nonzero(np.arange(K)[None, :] != y[:, None])
    yy = y[n_idx]
    diff_lo = s.lo[n_idx, yy] - s.hi[n_idx, k_idx]
    diff_hi = s.hi[n_idx, yy] - s.lo[n_idx, k_idx]
    if objective == "hinge":
        worst = np.full(N, 0.0)
        np.maximum.at(worst, n_idx, margin - diff_lo)
        v = prog.add_vars("hinge", (N,), REAL, 0.0, np.maximum(worst, 0.0))
        col, c, rhs = v[n_idx, None], np.ones((len(n_idx), 1)), np.full(len(n_idx), margin)
    else:
        lo, hi = (float(diff_lo.min()), float(diff_hi.min())) if len(n_idx) else (0.0, 0.0)
        v = prog.add_vars("margin", (1,), REAL, lo, hi)
        col, c, rhs = np.full((len(n_idx), 1), v[0]), -np.ones((len(n_idx), 1)), np.zeros(len(n_idx))
    cols = np.concatenate([s.cols[n_idx, yy], s.cols[n_idx, k_idx], col], 1)
    coefs = np.concatenate([s.coefs[n_idx, yy], -s.coefs[n_idx, k_idx], c], 1)
    rhs = rhs - (s.const[n_idx, yy] - s.const[n_idx, k_idx])
    prog.add(LinearBlock.from_dense_rows(f"classify_{objective}", *_merge_repeats(cols, coefs), GE,
                                         rhs, drop_zeros=True))
    return v


def _error_rows(prog: Program, s: _Affine, y: np.ndarray, epsilon: float, blanket: bool,
                e: np.ndarray | None = None) -> float:
    """``e[n]`` = 1 unless ``s[n, y] - s[n, k] >= eps`` for every other class ``k``."""
    N, K, m = s.cols.shape
    if e is None:
        e = prog.add_vars("errors", (N,), BOOL)
    n_idx, k_idx = np.nonzero(np.arange(K)[None, :] != y[:, None])
    if len(n_idx) == 0:
        return 0.0
    yy = y[n_idx]
    # with the paper's M, s.lo / s.hi are already -M / M: the row's constant is 2M + eps
    diff_lo = s.lo[n_idx, yy] - s.hi[n_idx, k_idx]
    M = np.maximum(epsilon - diff_lo, 0.0)
    cols = np.concatenate([s.cols[n_idx, yy], s.cols[n_idx, k_idx], e[n_idx, None]], 1)
    coefs = np.concatenate([s.coefs[n_idx, yy], -s.coefs[n_idx, k_idx], M[:, None]], 1)
    rhs = epsilon - (s.const[n_idx, yy] - s.const[n_idx, k_idx])
    prog.add(LinearBlock.from_dense_rows("classify_errors", *_merge_repeats(cols, coefs), GE, rhs,
                                         drop_zeros=True))
    return float(M.max(initial=0.0))


def arrays_from_binarised(inverse: dict, groups: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Parameters (npz keys; a fixed threshold gives the bias ``-threshold``) and, under
    ``milp:`` keys, the MILP's activations and error indicators."""
    out: dict[str, np.ndarray] = {}
    for L in inverse["layers"]:
        if L["fixed"]:
            continue
        name = L["name"]
        out[f"{name}.weight"] = np.asarray(groups[f"{name}.weight"], dtype=np.float64)
        if L["bias"] is None:
            out[f"{name}.bias"] = np.asarray(groups[f"{name}.bias"], dtype=np.float64)
        else:
            out[f"{name}.bias"] = np.full(L["size"], float(L["bias"]))
    for a in inverse["acts"]:
        out[CLAIM_PREFIX + a] = np.round(np.asarray(groups[a], dtype=np.float64))
    for c in inverse.get("claims", ["errors"]):
        v = np.asarray(groups[c], dtype=np.float64)
        out[CLAIM_PREFIX + c] = v if c in ("hinge", "margin") else np.round(v)
    return out
