"""L1 and L2 regularisers of a training objective, shared by the ReLU and binarised encodings.

``regularize l1 LAMBDA`` adds ``LAMBDA * sum |W|``: an auxiliary ``a >= |W|``
(two rows per weight, :func:`add_abs`) that the minimisation presses onto
``|W|``, so the L1 term is exact in every target. ``regularize l2 LAMBDA``
adds ``LAMBDA * sum W**2`` as squares in the IR objective; a target that takes
them keeps them (highs: a convex continuous QP from MPS / LP; z3:
``(minimize ...)`` over QF_NRA) and :mod:`nncc.passes.square_tangents` turns
them into tangent lines elsewhere (MILPs, cbc, ``segments K``).

``on LAYER`` gives one layer its own lambda (it overrides the global one for
that layer); biases are never regularised: a bias shifts a unit's threshold
and does not grow the function's slope.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir.program import GE, REAL, LinearBlock, Program
from ..problem.network import ParamDomain


def largest_weight(dom: ParamDomain) -> float:
    """The largest ``|w|`` of a domain (a box or a two-value set)."""
    return max(abs(v) for v in dom.values) if dom.kind == "set" else max(abs(dom.lo), abs(dom.hi))


def add_abs(prog: Program, name: str, W: np.ndarray, dom: ParamDomain, scale: float = 1.0) -> np.ndarray:
    """``NAME.abs >= |W|`` (two rows per weight); exact where the objective presses it down
    (L1), an upper bound on ``|W|`` elsewhere (robust rows, which it only tightens).
    ``scale``: the weights' box is ``dom`` times this (a normalised layer)."""
    a = prog.add_vars(name + ".abs", W.shape, REAL, 0.0, largest_weight(dom) * scale)
    w, t = W.reshape(-1), a.reshape(-1)
    # a - w >= 0,  a + w >= 0
    prog.add(LinearBlock.concat(name + ".abs", [
        LinearBlock.from_dense_rows(name + ".abs_pos", np.stack([t, w], 1), [1.0, -1.0], GE, 0.0),
        LinearBlock.from_dense_rows(name + ".abs_neg", np.stack([t, w], 1), [1.0, 1.0], GE, 0.0)]))
    return a


@dataclass
class RegulariserTerms:
    """The regularisers as objective terms: linear ``coef * x[idx]`` (L1, on the ``abs``
    variables) and squares ``sq_coef * x[sq_idx]**2`` (L2), with the tangent segments
    asked for per square (0: the default) and whether any clause asked."""

    idx: np.ndarray
    coef: np.ndarray
    sq_idx: np.ndarray
    sq_coef: np.ndarray
    sq_segments: np.ndarray
    segments_asked: bool
    description: str


def regulariser_terms(prog: Program, query, weights: dict[str, tuple[np.ndarray, ParamDomain, float]],
                      abs_vars: dict[str, np.ndarray] | None = None) -> RegulariserTerms:
    """The L1 / L2 terms of ``query`` over ``weights`` (layer name -> weight variables,
    their domain and the scale of their box). ``abs_vars`` holds ``a >= |W|`` groups
    made already (robust training); the missing ones are added here."""
    abs_vars = dict(abs_vars or {})
    idx, coef, sq_idx, sq_coef, sq_seg, said = [], [], [], [], [], []
    asked = False
    for name, (W, dom, scale) in weights.items():
        l1, l2 = query.penalty("l1", name), query.penalty("l2", name)
        if l1 > 0:
            if name not in abs_vars:
                abs_vars[name] = add_abs(prog, f"{name}.weight", W, dom, scale)
            idx.append(abs_vars[name].reshape(-1))
            coef.append(np.full(W.size, l1))
            said.append(f"{l1:g} * L1" + (f" of {name}" if name in query.l1_layers else ""))
        if l2 > 0:
            k = query.segments(name)
            asked |= k is not None
            sq_idx.append(W.reshape(-1))
            sq_coef.append(np.full(W.size, l2))
            sq_seg.append(np.full(W.size, k or 0, np.int64))
            said.append(f"{l2:g} * L2" + (f" of {name}" if name in query.l2_layers else ""))
    cat = (lambda parts, dtype: np.concatenate(parts).astype(dtype) if parts
           else np.zeros(0, dtype))
    text = ""
    if said:
        per = any(n in query.l1_layers or n in query.l2_layers for n in weights)
        text = " + " + " + ".join(dict.fromkeys(said)) + ("" if per else " of the weights")
    return RegulariserTerms(cat(idx, np.int64), cat(coef, float), cat(sq_idx, np.int64),
                            cat(sq_coef, float), cat(sq_seg, np.int64), asked, text)
