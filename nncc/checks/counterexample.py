"""Checking and writing a counterexample to a VNN-LIB property.

A candidate input ``x`` is a counterexample when, for some disjunct of the
user's property (:attr:`Property.original` of one nncc restated), it lies in
the disjunct's box (exactly: strict bounds strictly), satisfies its input
rows, and the network's outputs -- the file's own outputs, a final softmax
that the importer left out applied again (:mod:`nncc.problem.output_softmax`)
-- satisfy its output rows ``C y >= d``:

* in the float64 forward pass exactly as written (strict rows strictly,
  closed rows with ``slack >= 0``), and
* under onnxruntime (float32) for a network read from ONNX: strict rows
  strictly again, closed rows with the explicit tolerance
  ``slack >= -CEX_TOLERANCE * (1 + |d| + |C| |y|)`` (float32 carries about
  1e-7 relative error per operation). A tolerance never makes a strict row
  hold: ``0 < 0`` is false under any tolerance.

A candidate that fails is never reported as ``sat``. The file written is a
VNN-COMP results file, ``sat`` then ``((X_0 v) ... (Y_0 v) ...)``, outputs from onnxruntime for
ONNX networks (what the competition's checker recomputes), written
atomically.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..problem.output_softmax import true_outputs
from ..problem.property import Disjunct, Property
from .check_network import onnx_outputs

CEX_TOLERANCE = 1e-5


@dataclass
class CexCheck:
    ok: bool
    x: np.ndarray
    y: np.ndarray  # float64 forward pass
    y_ort: np.ndarray | None = None  # onnxruntime, for ONNX networks
    disjunct: int | None = None
    problems: list[str] = field(default_factory=list)
    tolerance: float = CEX_TOLERANCE

    def to_json(self) -> dict:
        return {"ok": self.ok, "disjunct": self.disjunct, "x": self.x.tolist(),
                "y": self.y.tolist(), "tolerance": self.tolerance, "problems": self.problems}


def in_disjunct_box(d: Disjunct, x: np.ndarray) -> bool:
    lo_ok = np.where(d.lo_strict, x > d.lo, x >= d.lo)
    hi_ok = np.where(d.hi_strict, x < d.hi, x <= d.hi)
    if not (lo_ok.all() and hi_ok.all()):
        return False
    if len(d.b):
        s = d.A @ x - d.b
        if not np.all(np.where(d.a_strict, s > 0, s >= 0)):
            return False
    return True


def output_slack(d: Disjunct, y: np.ndarray) -> np.ndarray:
    return d.C @ y - d.d


def _rows_hold(d: Disjunct, y: np.ndarray, tol: float) -> bool:
    s = output_slack(d, y)
    if not np.all(s[d.c_strict] > 0):
        return False
    if tol == 0.0:
        return bool(np.all(s >= 0))
    scale = tol * (1.0 + np.abs(d.d) + np.abs(d.C) @ np.abs(y))
    return bool(np.all(s >= -scale))


def check_counterexample(net, prop: Property, x, tolerance: float = CEX_TOLERANCE,
                         prefer: int | None = None) -> CexCheck:
    """Is ``x`` a counterexample (see the module docstring)? ``prefer``: the disjunct
    it was found for, tried first."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    prop = prop.original or prop
    ints = getattr(prop, "integer_inputs", None)
    if ints is not None:   # integer inputs: the candidate's nearest integers are tried
        x = x.copy()
        x[ints] = np.round(x[ints])
    order = list(range(len(prop.disjuncts)))
    if prefer is not None and 0 <= prefer < len(order):
        order.remove(prefer)
        order.insert(0, prefer)
    if getattr(net, "input_clip", False) and net.input_box is not None:
        # the network sees clip(x): a point of the user's box with the same clip is the
        # counterexample (a search over the clipped box finds the clip itself)
        lo, hi = (np.asarray(v, float) for v in net.input_box)
        z = np.clip(x, lo, hi)
        for k in order:
            xk = np.clip(x, prop.disjuncts[k].lo, prop.disjuncts[k].hi)
            if np.array_equal(np.clip(xk, lo, hi), z) and in_disjunct_box(prop.disjuncts[k], xk):
                x = xk
                break
        y = true_outputs(net, net.forward(z[None]))[0]
    else:
        y = true_outputs(net, net.forward(x[None]))[0]
    boxes = [k for k in order if in_disjunct_box(prop.disjuncts[k], x)]
    if not boxes:
        return CexCheck(False, x, y, problems=["the input lies in no disjunct's input box"],
                        tolerance=tolerance)
    hit = [k for k in boxes if _rows_hold(prop.disjuncts[k], y, 0.0)]
    if not hit:
        worst = max(float(output_slack(prop.disjuncts[k], y).min()) for k in boxes)
        return CexCheck(False, x, y, problems=[f"the forward pass misses the unsafe set (worst row "
                                               f"short by {-worst:.3g})"], tolerance=tolerance)
    y_ort = onnx_outputs(net, x[None])
    y_ort = None if y_ort is None else y_ort[0]
    if y_ort is None:
        return CexCheck(True, x, y, None, hit[0], tolerance=tolerance)
    for k in hit:
        if _rows_hold(prop.disjuncts[k], y_ort, tolerance):
            return CexCheck(True, x, y, y_ort, k, tolerance=tolerance)
    return CexCheck(False, x, y, y_ort, None,
                    [f"under onnxruntime the outputs miss the unsafe set beyond the tolerance "
                     f"{tolerance:g} (largest difference from float64 "
                     f"{float(np.abs(y_ort - y).max()):.3g})"], tolerance)


def counterexample_text(check: CexCheck) -> str:
    """The VNN-COMP counterexample: ``((X_0 v)\\n (X_1 v) ... (Y_0 v) ...)``."""
    y = check.y_ort if check.y_ort is not None else check.y
    parts = [f"(X_{i} {float(v)!r})" for i, v in enumerate(check.x)]
    parts += [f"(Y_{j} {float(v)!r})" for j, v in enumerate(y)]
    return "(" + "\n ".join(parts) + ")\n"


def write_counterexample(path: str, check: CexCheck) -> None:
    """Write the counterexample atomically as a VNN-COMP results file: a ``sat``
    line, then the assignment (``-``: the assignment alone on standard output,
    after which the verdict line is printed as for every run)."""
    text = counterexample_text(check)
    if path == "-":
        import sys
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from ..atomic import atomic_output
    with atomic_output(path) as f:
        f.write(("sat\n" + text).encode())


def read_counterexample(path: str) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` from a VNN-COMP counterexample file (a leading ``sat`` line is skipped)."""
    import re
    text = open(path, encoding="utf-8").read()
    xs, ys = {}, {}
    for kind, i, v in re.findall(r"\(\s*([XY])_(\d+)\s+([^\s()]+)\s*\)", text):
        (xs if kind == "X" else ys)[int(i)] = float(v)
    return (np.array([xs[i] for i in sorted(xs)]), np.array([ys[i] for i in sorted(ys)]))
