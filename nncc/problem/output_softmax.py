"""Properties of a network whose final softmax the importer left out.

The ONNX importer drops a final ``Softmax`` / ``LogSoftmax`` over every
output (:attr:`FixedNetwork.output_softmax`): the encodings, bounds and
searches work on the logits ``z`` before it. A VNN-LIB property speaks of the
file's outputs ``y = softmax(z)``, so it must be restated over ``z``, and
only where that restatement is exact:

* a comparison ``y_i >= y_j`` (``>``; any positive multiple) is ``z_i >= z_j``:
  both softmaxes are strictly increasing in each logit difference, so the
  order of the outputs is the order of the logits, ties included;
* a row with no output in it is a constant, true or false;
* with ``Softmax``, the sum of all outputs (equal coefficients) is 1, a constant;
* with ``LogSoftmax``, which shifts every logit of a group by one amount, a row
  whose coefficients sum to zero (exactly) within each group;
* with two outputs, ``y_0 = sigmoid(z_0 - z_1)`` (``log sigmoid`` for
  LogSoftmax) and ``y_1 = 1 - y_0``: every row is a threshold on ``y_0``, and
  ``y_0 >= t`` is ``z_0 - z_1 >= logit(t)`` for ``0 < t < 1``, always true for
  ``t <= 0`` (``y_0 > 0``) and never for ``t >= 1`` (``y_0 < 1``), in real
  arithmetic. The threshold ``logit(t)`` is computed in floating point, so it
  is relaxed by a relative 1e-9 (the restated unsafe set contains the
  original one: a proof of ``unsat`` stays a proof) and the relaxed row is
  closed.

:func:`logit_property` returns ``None`` for any other row (thresholds on one
of three or more softmax outputs, mixed sums): such properties are decided
by :func:`softmax_rows_unreachable` (sound bounds of the softmax outputs over
a box of logits, with the outputs summing to 1) and falsification on the
true outputs, or stay ``unknown``.

Whatever the route, a counterexample is checked on the file's outputs:
:func:`true_outputs` in float64 and onnxruntime, against the user's property
(:attr:`Property.original` of a restated one), never against the restatement.
"""
from __future__ import annotations

import numpy as np

from .property import Disjunct, Property

_RELAX = 1e-9


def softmax_groups(net) -> list[np.ndarray]:
    """The flat output indices of each softmax the importer left out (one group of every
    output unless ``net.softmax_groups`` says otherwise, e.g. a softmax along one axis)."""
    g = getattr(net, "softmax_groups", None)
    if g is None:
        return [np.arange(net.n_outputs)]
    return [np.asarray(r, dtype=np.int64) for r in g]


def _softmax(Z: np.ndarray, kind: str) -> np.ndarray:
    m = Z.max(axis=-1, keepdims=True)
    e = np.exp(Z - m)
    s = e.sum(axis=-1, keepdims=True)
    return Z - m - np.log(s) if kind == "LogSoftmax" else e / s


def true_outputs(net, Z: np.ndarray) -> np.ndarray:
    """The network file's outputs from the logits ``Z`` (rows), in float64."""
    kind = getattr(net, "output_softmax", None)
    if kind is None:
        return Z
    Z = np.asarray(Z, dtype=np.float64)
    out = Z.copy()
    for g in softmax_groups(net):
        out[..., g] = _softmax(Z[..., g], kind)
    return out


def _logit(p: float) -> float:
    return float(np.log(p) - np.log1p(-p))


def _restate_row(c: np.ndarray, d: float, strict: bool, kind: str, groups: list,
                 group_of: dict):
    """The row ``c . y >= d`` over the logits: ``(c', d', strict')``, ``True`` / ``False``
    for a constant, or ``None`` where no exact restatement exists; ``group_of`` maps an
    output to its softmax."""
    nz = np.flatnonzero(c)
    if nz.size == 0:
        return bool((0 > d) if strict else (0 >= d))
    if nz.size == 2 and d == 0 and c[nz[0]] == -c[nz[1]] and \
            group_of.get(int(nz[0])) == group_of.get(int(nz[1])) is not None:
        return c.copy(), 0.0, strict  # an order within one softmax: the logits' order
    touched = [g for g in groups if np.any(c[g] != 0)]
    if not all(int(j) in group_of for j in nz):
        return None
    if kind == "Softmax" and all(np.all(c[g] == c[g[0]]) for g in touched):
        total = float(sum(c[g[0]] for g in touched))   # each softmax's outputs sum to 1
        return bool(total > d if strict else total >= d)
    if kind == "LogSoftmax" and all(float(c[g].sum()) == 0 for g in touched):
        # log softmax shifts a group's logits by one amount: a row whose coefficients sum
        # to zero within each group reads the same on the logits
        return c.copy(), float(d), strict
    if len(touched) != 1 or len(touched[0]) != 2:
        return None
    g0, g1 = (int(j) for j in touched[0])
    a, t = float(c[g0] - c[g1]), float(d - c[g1])     # c0 y0 + c1 (1 - y0) >= d
    if a == 0:
        return bool((0 > t) if strict else (0 >= t))
    upper = a < 0                                  # y0 <= t / a  (or <)
    t = t / a
    if kind == "LogSoftmax":                       # y0 = log p with p in (0, 1)
        if t >= 0:
            return bool(upper)
        p = float(np.exp(t))
    else:
        p = t
    row = np.zeros(c.size)
    if not upper:                                  # p0 >= p (or >)
        if p <= 0:
            return True
        if p >= 1:
            return False
        L = _logit(p)
        L -= _RELAX * (1 + abs(L))
        row[g0], row[g1] = 1.0, -1.0
        return row, L, False                       # z0 - z1 >= L
    if p >= 1:
        return True
    if p <= 0:
        return False
    L = _logit(p)
    L += _RELAX * (1 + abs(L))
    row[g0], row[g1] = -1.0, 1.0
    return row, -L, False                          # z0 - z1 <= L


def logit_property(net, prop: Property) -> Property | None:
    """``prop`` restated over the logits of ``net`` (the same disjuncts, in order; a
    disjunct with a row that is never true keeps the row ``0 >= 1``), with
    :attr:`Property.original` set; ``prop`` itself when nothing was left out;
    ``None`` when some row has no exact restatement."""
    kind = getattr(net, "output_softmax", None)
    if kind is None or prop.logits:   # nothing left out, or restated already
        return prop
    out = Property(prop.path, prop.n_inputs, prop.n_outputs, notes=list(prop.notes))
    groups = softmax_groups(net)
    group_of = {int(j): k for k, g in enumerate(groups) for j in g}
    for dj in prop.disjuncts:
        C, dd, st = [], [], []
        for c, d, s in zip(dj.C, dj.d, dj.c_strict):
            r = _restate_row(np.asarray(c, float), float(d), bool(s), kind, groups, group_of)
            if r is None:
                return None
            if r is True:
                continue
            if r is False:
                r = (np.zeros(prop.n_outputs), 1.0, False)
            C.append(r[0])
            dd.append(r[1])
            st.append(r[2])
        out.disjuncts.append(Disjunct(dj.lo, dj.hi, dj.lo_strict, dj.hi_strict, dj.A, dj.b,
                                      dj.a_strict, np.array(C, float).reshape(-1, prop.n_outputs),
                                      np.array(dd, float), np.array(st, bool), dj.where))
    out.original = prop.original or prop
    out.logits = True
    out.integer_inputs = prop.integer_inputs
    out.notes.append(f"the property is restated over the logits before the final {kind} "
                     "(exactly: orders of outputs, and thresholds where there are two outputs)")
    return out


def softmax_output_bounds(M: np.ndarray, kind: str):
    """Bounds ``(lo, hi)`` of the softmax outputs given ``M[j, k]``, an upper bound of
    the logit difference ``z_j - z_k`` (0 on the diagonal), widened for rounding:
    ``log y_k = -log sum_j exp(z_j - z_k)``, so ``log y_k >= -logsumexp_j M[j, k]``
    and ``log y_k <= -logsumexp_j (-M[k, j])``."""
    M = np.array(M, dtype=np.float64)
    np.fill_diagonal(M, 0.0)

    def lse(a, axis):
        m = a.max(axis=axis, keepdims=True)
        return (m + np.log(np.exp(a - m).sum(axis=axis, keepdims=True))).ravel()
    lo, hi = -lse(M, 0), -lse(-M, 1)
    lo, hi = lo - 1e-12 * (1 + np.abs(lo)), hi + 1e-12 * (1 + np.abs(hi))
    if kind == "LogSoftmax":
        return lo, np.minimum(hi, 0.0)
    return np.clip(np.exp(lo), 0.0, 1.0), np.clip(np.exp(hi), 0.0, 1.0)


def softmax_rows_unreachable(C: np.ndarray, d: np.ndarray, Ms: list, kind: str,
                             groups: list | None = None, n: int | None = None) -> np.ndarray:
    """Which rows ``C y >= d`` over the softmax outputs cannot hold for any logits whose
    differences within each softmax ``groups[g]`` are bounded by ``Ms[g]``
    (:func:`softmax_output_bounds`): the largest ``c . y`` over the output bounds, and
    for ``Softmax`` also with each softmax's outputs summing to 1 (filled from the
    lower bounds up, largest coefficient first). Outputs in no group (none, with the
    importer's softmax over every output) are not bounded: a row on them is never
    ruled out."""
    if not isinstance(Ms, (list, tuple)):
        Ms = [Ms]
    if groups is None:
        groups = [np.arange(np.asarray(Ms[0]).shape[0])]
    n = n if n is not None else int(max(int(np.max(g)) for g in groups) + 1)
    lo, hi = np.full(n, -np.inf), np.full(n, np.inf)
    for g, M in zip(groups, Ms):
        lo[g], hi[g] = softmax_output_bounds(M, kind)
    C = np.asarray(C, float).reshape(-1, n)
    with np.errstate(invalid="ignore"):
        best = np.where(C > 0, C * hi, np.where(C < 0, C * lo, 0.0)).sum(axis=1)
    if kind == "Softmax":
        outside = np.ones(n, bool)      # outputs in no softmax: their sum is not fixed
        for g in groups:
            outside[g] = False
        for r, c in enumerate(C):
            if np.any(c[outside] != 0):
                continue
            v = 0.0
            for g in groups:
                cg, lg, hg = c[g], lo[g], hi[g]
                room = 1.0 + 1e-9 - lg.sum()
                vg = float(cg @ lg)
                for j in np.argsort(-cg):
                    if cg[j] <= 0 or room <= 0:
                        break
                    step = min(hg[j] - lg[j], room)
                    vg += cg[j] * step
                    room -= step
                v += vg
            best[r] = min(best[r], v + 1e-9 * np.abs(c).sum())
    return best < np.asarray(d, float)
