"""Branch and bound on input boxes, for bounds that come from outside the layer passes.

:func:`bisect_verify` takes the test of a box (``safe(net, d, lo, hi)``: can no
input of the box meet every row of disjunct ``d``?) from its caller: softmax
bounds (:mod:`nncc.analysis.softmax_split`) or interval bounds of an ONNX graph
(:mod:`nncc.analysis.graph_split`). Per box, depth first:

* a safe box is closed;
* otherwise the centre, a few seeded random points, and the points of a short
  finite-difference sign ascent of the rows' smallest slack (in boxes near
  the root) are candidates, reported only after the caller's check (the
  file's own outputs, float64 and onnxruntime);
* then the widest input of the box is bisected. A box that cannot be
  bisected (a point, or a width at float64 resolution) that is neither safe
  nor a counterexample stays open: the answer is then ``unknown``.

Complete only in the limit; with many inputs it mostly ends ``unknown``.
"""
from __future__ import annotations

import time

import numpy as np

from ..budget import Budget
from ..problem.output_softmax import true_outputs
from .input_split import SplitResult


def input_rows_unreachable(d, lo, hi) -> bool:
    """Can no point of ``[lo, hi]`` meet disjunct ``d``'s input rows ``A x >= b``?"""
    if not len(d.b):
        return False
    best = np.maximum(d.A, 0) @ hi + np.minimum(d.A, 0) @ lo
    return bool(np.any(best < d.b - 1e-12 * (1 + np.abs(d.b))))


def _slack(net, d, X):
    """The smallest slack of the disjunct's rows on the file's outputs, per row of X."""
    Y = true_outputs(net, net.forward(X))
    return (Y @ d.C.T - d.d).min(axis=1)


def _ascend(net, d, x, lo, hi, budget: Budget, steps: int = 12) -> np.ndarray:
    """Sign steps up the finite-difference gradient of the rows' smallest slack, in the box
    (a few forward passes of n + 1 points each), until ``budget`` is spent: the
    candidates it visits."""
    n = x.size
    width = hi - lo
    step = 0.5 * width
    out = []
    cur = float(_slack(net, d, x[None])[0])
    for _ in range(steps):
        if budget.expired():
            break
        h = np.maximum(1e-4 * np.maximum(width, 1e-12), 1e-9)
        X = np.repeat(x[None], n, axis=0) + np.diag(h)
        g = (_slack(net, d, X) - cur) / h
        if not np.any(np.nan_to_num(g)):
            break
        y = np.clip(x + step * np.sign(np.nan_to_num(g)), lo, hi)
        sy = float(_slack(net, d, y[None])[0])
        if sy > cur:
            x, cur = y, sy
            out.append(x)
        else:
            step = step / 2
    return np.array(out).reshape(-1, n)


def bisect_verify(net, prop, *, check, time_limit: float | Budget, safe, seed: int = 0,
                  samples: int = 8, progress=None, what: str = "box splitting") -> SplitResult:
    """Every disjunct of ``prop`` bisected until its boxes are ``safe``, a candidate passes
    ``check(x, k)``, or ``time_limit`` (CPU seconds, or a :class:`~nncc.budget.Budget`)
    is spent."""
    rng = np.random.default_rng(seed)
    budget = Budget.of(time_limit)
    t0 = time.perf_counter()
    queue = [(k, d.lo.copy(), d.hi.copy(), 0) for k, d in enumerate(prop.disjuncts)]
    boxes = depth = stuck = 0
    shown = t0
    while queue:
        now = time.perf_counter()
        if budget.expired():
            return SplitResult("unknown", boxes=boxes, open_boxes=len(queue) + stuck,
                               max_depth=depth, seconds=now - t0, reason="time limit")
        if progress is not None and now - shown > 1.0:
            shown = now
            progress.stage(f"{what}: {boxes:,} boxes bounded, {len(queue):,} open, "
                           f"{now - t0:.1f} s")
        k, lo, hi, dep = queue.pop()
        d = prop.disjuncts[k]
        boxes += 1
        depth = max(depth, dep)
        if safe(net, d, lo, hi):
            continue
        pts = np.vstack([(lo + hi) / 2, lo + rng.random((samples, lo.size)) * (hi - lo)])
        if dep <= 4 and len(d.d):
            pts = np.vstack([pts, _ascend(net, d, pts[0], lo, hi, budget)])
        for x in pts:
            if budget.expired():
                break
            if check(x, k):
                return SplitResult("sat", x=x, boxes=boxes, max_depth=depth,
                                   seconds=time.perf_counter() - t0)
        w = hi - lo
        i = int(np.argmax(w))
        mid = lo[i] + w[i] / 2
        if not lo[i] < mid < hi[i]:   # a point (or float64's resolution): left open
            stuck += 1
            continue
        a_hi, b_lo = hi.copy(), lo.copy()
        a_hi[i], b_lo[i] = mid, mid
        queue.append((k, lo, a_hi, dep + 1))
        queue.append((k, b_lo, hi, dep + 1))
    if stuck:
        return SplitResult("unknown", boxes=boxes, open_boxes=stuck, max_depth=depth,
                           seconds=time.perf_counter() - t0,
                           reason=f"{stuck:,} boxes at float64 resolution neither proven safe nor "
                                  "holding a counterexample")
    return SplitResult("unsat", boxes=boxes, max_depth=depth, seconds=time.perf_counter() - t0)
