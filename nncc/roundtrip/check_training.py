"""The forward-pass check of trained weights: every claim re-checked in numpy."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..encodings.classify_margin import nonzero_choice
from ..problem.query import TrainQuery

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

    def to_json(self) -> dict:
        return {"ok": self.ok, "accuracy": self.accuracy, "min_margin": self.min_margin,
                "required_margin": self.required_margin, "tolerance": self.tolerance,
                "problems": self.problems}


def check_training(query: TrainQuery, params: dict[str, np.ndarray],
                   tolerance: float = DEFAULT_TOLERANCE) -> TrainingCheck:
    """Run the data through the network with ``params`` and re-check the query:
    parameters in their boxes, the margin on every sample (strict when 0),
    and the required non-zero weights."""
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
    if query.margin > 0:
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
    return TrainingCheck(not problems, accuracy, min_margin, query.margin, tolerance, problems)
