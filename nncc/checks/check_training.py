"""The forward-pass check of trained weights: every claim re-checked in numpy."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..problem.query import TrainQuery, nonzero_choice
from .check_objective import hinge_pairs, objective_mismatch, regulariser_parts, regulariser_text

# Absolute slack for rounding: a solver's exact answer evaluated in float64,
# or a MILP solver's feasibility tolerance (about 1e-6 on rows of this size).
DEFAULT_TOLERANCE = 1e-6


@dataclass
class TrainingCheck:
    """What the forward pass found; ``ok`` is False when any claim fails."""

    ok: bool
    accuracy: float
    min_margin: float
    required_margin: float
    tolerance: float
    problems: list[str] = field(default_factory=list)
    # with a loss or regulariser: its parts recomputed from the weights ("hinge", "l1",
    # "l1_term", "l1_lambda", "l2", ..., "total"), the solver's objective, and how far
    # tangent lines may have under-estimated it
    parts: dict = field(default_factory=dict)
    claimed_objective: float | None = None
    approximation: float = 0.0
    classify: bool = True

    def to_json(self) -> dict:
        return {"ok": self.ok, "accuracy": self.accuracy, "min_margin": self.min_margin,
                "required_margin": self.required_margin, "tolerance": self.tolerance,
                "problems": self.problems, "parts": self.parts,
                "claimed_objective": self.claimed_objective, "approximation": self.approximation}

    def objective_line(self) -> str | None:
        """``objective: 0.0345 = hinge 0.012 + l1 0.0225 (lambda 0.001, sum |W| 22.5)``."""
        p = self.parts
        if not p:
            return None
        bits = ([f"hinge {p['hinge']:.6g}"] if "hinge" in p else []) + regulariser_text(p)
        claim = ""
        if self.claimed_objective is not None:
            claim = f"; solver {self.claimed_objective:.6g}"
            if self.approximation:
                claim += f", tangent lines: at most {self.approximation:.6g} below the true value"
        return f"objective: {p['total']:.6g} = " + " + ".join(bits) + f" (from the weights{claim})"


def check_training(query: TrainQuery, params: dict[str, np.ndarray],
                   tolerance: float = DEFAULT_TOLERANCE, *, claimed_objective: float | None = None,
                   approximation: float = 0.0, encoding: dict | None = None) -> TrainingCheck:
    """Run the data through the network with ``params`` and re-check the query:
    parameters in their boxes, the margin on every sample (strict when 0),
    and the required non-zero weights. With a hinge loss or a regulariser, the
    objective's parts are recomputed and held to ``claimed_objective`` (within
    ``approximation`` below the true value for tangent lines). ``encoding``: the
    encoding's inverse data (a normalised network is regularised as it was solved)."""
    net, data = query.network, query.data
    problems: list[str] = []
    for layer in net.layers:
        if not layer.trainable:
            continue
        for key, dom in ((f"{layer.name}.weight", layer.weight_domain),
                         (f"{layer.name}.bias", layer.bias_domain)):
            v = params.get(key)
            if v is None or not np.all(np.isfinite(v)):
                problems.append(f"{key}: missing or not finite")
                continue
            if dom.kind in ("real", "int"):
                out = (v < dom.lo - tolerance) | (v > dom.hi + tolerance)
                if out.any():
                    problems.append(f"{key}: {int(out.sum())} values outside [{dom.lo:g}, {dom.hi:g}]")
            if dom.kind == "int" and np.any(np.abs(v - np.round(v)) > tolerance):
                problems.append(f"{key}: values are not integers")
    if problems:
        return TrainingCheck(False, 0.0, float("nan"), query.margin, tolerance, problems)
    y = net.forward(params, data.X)
    lab = np.asarray(data.y)
    n = np.arange(len(lab))
    own = y[n, lab]
    others = y.copy()
    others[n, lab] = -np.inf
    margins = own - others.max(axis=1) if y.shape[1] > 1 else own
    accuracy = float(np.mean(margins > 0)) if len(lab) else 1.0
    min_margin = float(margins.min()) if len(lab) else float("inf")
    scale = tolerance * max(1.0, float(np.abs(y).max()) if y.size else 1.0)
    if not query.classify:
        pass  # the hinge loss alone: no hard margin to hold
    elif query.margin > 0:
        bad = margins < query.margin - scale
        if bad.any():
            problems.append(f"{int(bad.sum())} samples below margin {query.margin:g} "
                            f"(smallest {min_margin:.6g}, first sample {int(np.flatnonzero(bad)[0])})")
    else:
        bad = ~(margins > 0)
        if bad.any():
            problems.append(f"{int(bad.sum())} samples not strictly classified "
                            f"(smallest margin {min_margin:.6g}, first sample {int(np.flatnonzero(bad)[0])})")
    if query.nonzero_fraction:
        flat = np.concatenate([np.asarray(params[f"{l.name}.weight"]).reshape(-1)
                               for l in net.layers if l.trainable])
        pos = nonzero_choice(len(flat), query.nonzero_fraction, query.nonzero_seed)
        zero = flat[pos] == 0
        if zero.any():
            problems.append(f"{int(zero.sum())} of the {len(pos)} weights required non-zero are 0")
    parts: dict = {}
    if query.objective == "hinge" or query.regularised:
        if query.objective == "hinge":
            parts["hinge"] = hinge_pairs(y, lab, query.hinge_margin)
        scales, skip = {}, ()
        if encoding and encoding.get("kind") == "normalised":
            scales, skip = {encoding["hidden"]: encoding["C"]}, (encoding["output"],)
        parts.update(regulariser_parts(query, params, scales, skip))
        parts["total"] = (parts.get("hinge", 0.0) + parts.get("l1_term", 0.0)
                          + parts.get("l2_term", 0.0))
        mismatch = objective_mismatch(parts["total"], claimed_objective, approximation)
        if mismatch:
            problems.append(mismatch)
    return TrainingCheck(not problems, accuracy, min_margin, query.margin, tolerance, problems,
                         parts, claimed_objective, approximation, query.classify)
