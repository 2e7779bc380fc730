"""Properties over softmax outputs that have no exact restatement over the logits.

:func:`nncc.problem.output_softmax.logit_property` restates orders of outputs
and two-class thresholds exactly; other rows over the outputs of a final
softmax (a threshold on one of ten probabilities, a sum of two of four) are
decided here, by branch and bound on the input box:

* a box is safe when one of its disjunct's rows cannot hold: every logit
  difference ``z_j - z_k`` is bounded by back-substitution
  (:func:`~nncc.passes.symbolic_bounds.row_upper_bounds`), the softmax
  outputs by those differences, and the row over the outputs with their sum
  fixed at 1 (:func:`~nncc.problem.output_softmax.softmax_rows_unreachable`);
* the centre, a few seeded random points, and the points of a short
  finite-difference sign ascent of the rows' smallest slack (in boxes near
  the root) are candidates,
  reported only after the caller's check (the file's own outputs, float64
  and onnxruntime);
* otherwise the widest input of the box is bisected.

Complete only in the limit; with many inputs it mostly ends ``unknown``.
"""
from __future__ import annotations

import time

import numpy as np

from ..problem.output_softmax import softmax_groups, softmax_rows_unreachable, true_outputs
from .input_split import SplitResult


def logit_differences(net, nb, group: np.ndarray) -> np.ndarray:
    """``M[a, b]``: an upper bound of ``z_group[a] - z_group[b]`` over the box of ``nb``."""
    from .symbolic_bounds import row_upper_bounds
    K = len(group)
    a, b = np.nonzero(~np.eye(K, dtype=bool))
    C = np.zeros((a.size, net.n_outputs))
    C[np.arange(a.size), group[a]] = 1.0
    C[np.arange(a.size), group[b]] = -1.0
    M = np.zeros((K, K))
    M[a, b] = row_upper_bounds(net, nb, C)
    return M


def box_safe(net, d, lo, hi, bounds: str = "symbolic") -> bool:
    """Can no input of ``[lo, hi]`` meet every row of disjunct ``d`` over the outputs?"""
    from ..encodings.fixed_network import network_bounds
    if len(d.b):
        best = np.maximum(d.A, 0) @ hi + np.minimum(d.A, 0) @ lo
        if np.any(best < d.b - 1e-12 * (1 + np.abs(d.b))):
            return True
    if not len(d.d):
        return False
    nb = network_bounds(net, lo, hi, bounds)
    groups = softmax_groups(net)
    Ms = [logit_differences(net, nb, g) for g in groups]
    return bool(softmax_rows_unreachable(d.C, d.d, Ms, net.output_softmax, groups,
                                         net.n_outputs).any())


def _slack(net, d, X):
    """The smallest slack of the disjunct's rows on the softmax outputs, per row of X."""
    Y = true_outputs(net, net.forward(X))
    return (Y @ d.C.T - d.d).min(axis=1)


def _ascend(net, d, x, lo, hi, steps: int = 12) -> np.ndarray:
    """Sign steps up the finite-difference gradient of the rows' smallest slack, in the box
    (a few forward passes of n + 1 points each): the candidates it visits."""
    n = x.size
    width = hi - lo
    step = 0.5 * width
    out = []
    cur = float(_slack(net, d, x[None])[0])
    for _ in range(steps):
        h = np.maximum(1e-4 * np.maximum(width, 1e-12), 1e-9)
        X = np.repeat(x[None], n, axis=0) + np.diag(h)
        g = (_slack(net, d, X) - cur) / h
        if not np.any(g):
            break
        y = np.clip(x + step * np.sign(g), lo, hi)
        sy = float(_slack(net, d, y[None])[0])
        if sy > cur:
            x, cur = y, sy
            out.append(x)
        else:
            step = step / 2
    return np.array(out).reshape(-1, n)


def softmax_split_verify(net, prop, *, check, time_limit: float, seed: int = 0,
                         samples: int = 8) -> SplitResult:
    """Every disjunct of ``prop`` (rows over the softmax outputs) bisected until its boxes
    are safe, a candidate passes ``check(x, k)``, or ``time_limit`` seconds pass."""
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    queue = [(k, d.lo.copy(), d.hi.copy(), 0) for k, d in enumerate(prop.disjuncts)]
    boxes = depth = 0
    while queue:
        if time.perf_counter() - t0 > time_limit:
            return SplitResult("unknown", boxes=boxes, open_boxes=len(queue), max_depth=depth,
                               seconds=time.perf_counter() - t0, reason="time limit")
        k, lo, hi, dep = queue.pop()
        d = prop.disjuncts[k]
        boxes += 1
        depth = max(depth, dep)
        pts = np.vstack([(lo + hi) / 2, lo + rng.random((samples, lo.size)) * (hi - lo)])
        if dep <= 4 and len(d.d):
            pts = np.vstack([pts, _ascend(net, d, pts[0], lo, hi)])
        for x in pts:
            if check(x, k):
                return SplitResult("sat", x=x, boxes=boxes, max_depth=depth,
                                   seconds=time.perf_counter() - t0)
        if box_safe(net, d, lo, hi):
            continue
        w = hi - lo
        i = int(np.argmax(w))
        if w[i] <= 0:   # a point that is neither safe nor a counterexample
            return SplitResult("unknown", boxes=boxes, open_boxes=len(queue) + 1,
                               max_depth=depth, seconds=time.perf_counter() - t0,
                               reason="a point neither proven safe nor a counterexample")
        mid = lo[i] + w[i] / 2
        a_hi, b_lo = hi.copy(), lo.copy()
        a_hi[i], b_lo[i] = mid, mid
        queue.append((k, lo, a_hi, dep + 1))
        queue.append((k, b_lo, hi, dep + 1))
    return SplitResult("unsat", boxes=boxes, max_depth=depth, seconds=time.perf_counter() - t0)
