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
* the centre and a few seeded random points of every box are candidates,
  reported only after the caller's check (the file's own outputs, float64
  and onnxruntime);
* otherwise the widest input of the box is bisected.

Complete only in the limit; with many inputs it mostly ends ``unknown``.
"""
from __future__ import annotations

import time

import numpy as np

from ..problem.output_softmax import softmax_rows_unreachable
from .input_split import SplitResult


def logit_differences(net, nb) -> np.ndarray:
    """``M[j, k]``: an upper bound of ``z_j - z_k`` over the box of the bounds ``nb``."""
    from .symbolic_bounds import row_upper_bounds
    K = net.n_outputs
    j, k = np.nonzero(~np.eye(K, dtype=bool))
    C = np.zeros((j.size, K))
    C[np.arange(j.size), j] = 1.0
    C[np.arange(j.size), k] = -1.0
    M = np.zeros((K, K))
    M[j, k] = row_upper_bounds(net, nb, C)
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
    M = logit_differences(net, nb)
    return bool(softmax_rows_unreachable(d.C, d.d, M, net.output_softmax).any())


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
