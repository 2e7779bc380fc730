"""Checking a full assignment of a program's variables against its blocks.

Used by the tests of encodings and passes (an encoding must accept the
assignment that a known network induces), and as a diagnostic when a
solver's answer fails the forward-pass check.
"""
from __future__ import annotations

import numpy as np

from .program import (EQ, GE, GT, LE, LT, BoolProductBlock, LinearBlock, NonzeroBlock, Program,
                      QuadraticBlock, ReluBlock)


def violations(program: Program, x: np.ndarray, tol: float = 1e-6) -> list[str]:
    """A line for every block with a violated row (and for bounds / integrality)."""
    out = []
    lo_bad = x < program.lb - tol
    hi_bad = x > program.ub + tol
    if lo_bad.any() or hi_bad.any():
        out.append(f"bounds: {int(lo_bad.sum() + hi_bad.sum())} variables outside their bounds")
    integral = program.kinds != 0
    if np.any(np.abs(x[integral] - np.round(x[integral])) > tol):
        out.append("integrality: integer or Boolean variables with fractional values")
    for b in program.blocks:
        if isinstance(b, (LinearBlock, QuadraticBlock)):
            act = b.row_activity(x)
            lin = b if isinstance(b, LinearBlock) else b.linear
            s, r = lin.sense, lin.rhs
            bad = ((s == LE) & (act > r + tol)) | ((s == GE) & (act < r - tol)) | \
                  ((s == EQ) & (np.abs(act - r) > tol)) | ((s == LT) & ~(act < r)) | \
                  ((s == GT) & ~(act > r))
        elif isinstance(b, ReluBlock):
            bad = np.abs(x[b.out] - np.maximum(x[b.inp], 0.0)) > tol
        elif isinstance(b, BoolProductBlock):
            bad = np.abs(x[b.out] - np.round(x[b.b]) * x[b.x]) > tol
        elif isinstance(b, NonzeroBlock):
            bad = x[b.x] == 0
        else:  # pragma: no cover
            continue
        if np.any(bad):
            out.append(f"{b.name}: {int(np.sum(bad))} of {len(bad)} rows violated")
    return out
