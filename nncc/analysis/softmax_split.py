"""Properties over softmax outputs that have no exact restatement over the logits.

:func:`nncc.problem.output_softmax.logit_property` restates orders of outputs
and two-class thresholds exactly; other rows over the outputs of a final
softmax (a threshold on one of ten probabilities, a sum of two of four) are
decided here, by branch and bound on the input box:

* a box is safe when one of its disjunct's rows cannot hold: every logit
  difference ``z_j - z_k`` is bounded by back-substitution
  (:func:`~nncc.analysis.symbolic_bounds.row_upper_bounds`), the softmax
  outputs by those differences, and the row over the outputs with their sum
  fixed at 1 (:func:`~nncc.problem.output_softmax.softmax_rows_unreachable`);
* candidates and bisection as :func:`~nncc.analysis.box_bisection.bisect_verify`
  does them.

Complete only in the limit; with many inputs it mostly ends ``unknown``.
"""
from __future__ import annotations

import numpy as np

from ..problem.output_softmax import softmax_groups, softmax_rows_unreachable
from .box_bisection import bisect_verify, input_rows_unreachable
from .input_split import SplitResult
from .symbolic_bounds import row_upper_bounds


def logit_differences(net, nb, group: np.ndarray) -> np.ndarray:
    """``M[a, b]``: an upper bound of ``z_group[a] - z_group[b]`` over the box of ``nb``."""
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
    from .bounds import network_bounds
    if input_rows_unreachable(d, lo, hi):
        return True
    if not len(d.d):
        return False
    nb = network_bounds(net, lo, hi, bounds)
    groups = softmax_groups(net)
    Ms = [logit_differences(net, nb, g) for g in groups]
    return bool(softmax_rows_unreachable(d.C, d.d, Ms, net.output_softmax, groups,
                                         net.n_outputs).any())


def softmax_split_verify(net, prop, *, check, time_limit: float, seed: int = 0,
                         samples: int = 8) -> SplitResult:
    """Every disjunct of ``prop`` (rows over the softmax outputs) bisected until its boxes
    are safe, a candidate passes ``check(x, k)``, or ``time_limit`` seconds pass."""
    return bisect_verify(net, prop, check=check, time_limit=time_limit, safe=box_safe,
                         seed=seed, samples=samples)
