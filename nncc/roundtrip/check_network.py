"""The forward-pass check of answers about trained networks."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .check_training import DEFAULT_TOLERANCE


@dataclass
class NetworkCheck:
    """``value`` is the forward pass's value of the objective (maximize), ``outputs``
    the forward pass's outputs; ``ok`` is False when the solver's claim differs."""

    ok: bool
    outputs: np.ndarray
    value: float | None = None
    max_error: float = 0.0
    tolerance: float = DEFAULT_TOLERANCE
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"ok": self.ok, "value": self.value, "max_error": self.max_error,
                "tolerance": self.tolerance, "problems": self.problems,
                "outputs": np.asarray(self.outputs).tolist()}


def check_network_answer(query, arrays: dict[str, np.ndarray],
                         tolerance: float = DEFAULT_TOLERANCE) -> NetworkCheck:
    """Re-run the network on the answer's inputs and compare with what the solver claims."""
    net = query.network
    problems = []
    if query.kind == "evaluate":
        X = np.asarray(query.inputs, float).reshape(-1, net.n_inputs)
        claimed = arrays["output"]
    else:
        X = arrays["input"].reshape(1, -1)
        claimed = arrays["output"].reshape(1, -1)
        lo, hi = np.asarray(query.input_lo, float), np.asarray(query.input_hi, float)
        out = (X[0] < lo - tolerance) | (X[0] > hi + tolerance)
        if out.any():
            problems.append(f"{int(out.sum())} inputs outside the box")
    y = net.forward(X)
    scale = tolerance * (1.0 + np.abs(y))
    err = np.abs(y - claimed)
    if np.any(err > scale * 10):  # MILP solvers carry ~1e-6 relative error per layer
        problems.append(f"the solver's outputs differ from the forward pass by up to "
                        f"{float(err.max()):.3g}")
    value = float(y[0, query.output]) if query.kind == "maximize" else None
    return NetworkCheck(not problems, y, value, float(err.max()) if err.size else 0.0, tolerance,
                        problems)
