"""A training objective's parts recomputed from the exported weights, and held to the solver's.

The solver reports one number; the user wants to know what it is made of
(``hinge 0.0120 + l1 0.0225``) and that it is true of the weights written. Each
part is recomputed here from the parameters (the forward pass gives the loss,
the weight matrices the regularisers) and the total is compared with the
solver's objective: within a tolerance for exact encodings, and within the
stated worst-case error where the L2 term was approximated by tangent lines
(:mod:`nncc.passes.square_tangents`), whose objective under-estimates the true
one by at most that much.
"""
from __future__ import annotations

import numpy as np

#: Relative slack for comparing objectives: the solvers' feasibility and optimality
#: tolerances (about 1e-6 to 1e-7 for highs' QP) on objectives of order 1.
OBJECTIVE_TOLERANCE = 1e-5


def regulariser_parts(query, params: dict, scales: dict | None = None, skip=()) -> dict:
    """``l1`` (sum |W| over the layers with an L1 lambda), ``l1_term`` (sum of lambda
    * |W|), and the same for ``l2`` with W**2; only the kinds the query uses. ``scales``
    multiplies a layer's weights first (a normalised layer is regularised as it was
    solved); layers in ``skip`` carry no term (fixed in the encoding)."""
    scales = scales or {}
    parts: dict = {}
    for kind, f in (("l1", np.abs), ("l2", np.square)):
        total, term, lambdas = 0.0, 0.0, set()
        for layer in query.network.layers:
            lam = query.penalty(kind, layer.name)
            if not layer.trainable or lam <= 0 or layer.name in skip:
                continue
            W = np.asarray(params[f"{layer.name}.weight"], dtype=np.float64) * scales.get(layer.name, 1.0)
            s = float(f(W).sum())
            total += s
            term += lam * s
            lambdas.add(lam)
        if lambdas:
            parts[kind] = total
            parts[kind + "_term"] = term
            parts[kind + "_lambda"] = lambdas.pop() if len(lambdas) == 1 else None
    return parts


def hinge_pairs(scores: np.ndarray, y: np.ndarray, margin: float) -> float:
    """``sum over samples n and classes k != y[n] of max(0, G - (s[n, y] - s[n, k]))``."""
    y = np.asarray(y)
    own = scores[np.arange(len(y)), y][:, None]
    gap = np.maximum(margin - (own - scores), 0.0)
    gap[np.arange(len(y)), y] = 0.0
    return float(gap.sum())


def regulariser_text(parts: dict) -> list[str]:
    """``l1 0.0225 (lambda 0.001, sum |W| 22.5)`` / ``l2 ... (lambda ..., sum W^2 ...)``."""
    out = []
    for kind, what in (("l1", "sum |W|"), ("l2", "sum W^2")):
        if kind + "_term" in parts:
            lam = parts[kind + "_lambda"]
            lam_text = f"lambda {lam:g}" if lam is not None else "lambda per layer"
            out.append(f"{kind} {parts[kind + '_term']:.6g} ({lam_text}, {what} {parts[kind]:.6g})")
    return out


def objective_mismatch(total: float, claimed: float | None, approximation: float = 0.0,
                       two_sided: bool = True) -> str | None:
    """A problem sentence when the recomputed ``total`` and the solver's ``claimed``
    objective disagree. With tangent lines the claim may lie up to ``approximation``
    below the true value (never above it)."""
    if claimed is None:
        return None
    slack = OBJECTIVE_TOLERANCE * (1.0 + abs(claimed))
    high = total > claimed + approximation + slack
    low = two_sided and total < claimed - slack
    if not (high or low):
        return None
    bound = (f" (tangent lines may under-estimate by at most {approximation:.6g})"
             if approximation else "")
    return (f"the objective recomputed from the weights is {total:.9g}, the solver claims "
            f"{claimed:.9g}{bound}")


def tangent_bound(passes: list[dict]) -> float:
    """The worst-case under-estimate of the L2 term by tangent lines (0 when exact)."""
    return float(sum(p.get("max_error", 0.0) for p in passes if p.get("pass") == "square_tangents"))
