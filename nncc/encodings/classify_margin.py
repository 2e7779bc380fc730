"""The classification rows of a training query and the choice of non-zero weights."""
from __future__ import annotations

import numpy as np

from ..ir.program import GE, GT, REAL, LinearBlock, NonzeroBlock, Program
from ..problem.query import nonzero_choice


def margin_rows(prog: Program, out_vars: np.ndarray, labels: np.ndarray, margin: float) -> None:
    """For every sample ``n`` and class ``k != y[n]``: ``out[n, y[n]] - out[n, k] >= margin``
    (``> 0`` when the margin is 0)."""
    N, K = out_vars.shape
    n_idx, k_idx = np.nonzero(np.arange(K)[None, :] != labels[:, None])
    cols = np.stack([out_vars[n_idx, labels[n_idx]], out_vars[n_idx, k_idx]], 1)
    sense = GT if margin == 0 else GE
    prog.add(LinearBlock.from_dense_rows("classify", cols, [1.0, -1.0], sense, margin))


def hinge_rows(prog: Program, out_vars: np.ndarray, out_lo: np.ndarray, out_hi: np.ndarray,
               labels: np.ndarray, margin: float) -> np.ndarray:
    """The hinge loss as slacks: for every sample ``n`` and class ``k != y[n]`` a
    ``hinge[p] >= 0`` with ``hinge[p] + out[n, y[n]] - out[n, k] >= G``; the objective
    sums them, so each is ``max(0, G - (out[n, y] - out[n, k]))`` at the optimum.
    Bounded above by the worst case from the output bounds."""
    N, K = out_vars.shape
    n_idx, k_idx = np.nonzero(np.arange(K)[None, :] != labels[:, None])
    yy = labels[n_idx]
    worst = np.maximum(margin - (out_lo[n_idx, yy] - out_hi[n_idx, k_idx]), 0.0)
    xi = prog.add_vars("hinge", (len(n_idx),), REAL, 0.0, worst)
    cols = np.stack([xi, out_vars[n_idx, yy], out_vars[n_idx, k_idx]], 1)
    prog.add(LinearBlock.from_dense_rows("classify_hinge", cols, [1.0, 1.0, -1.0], GE, margin))
    return xi


def add_nonzero(prog: Program, weight_vars: list[np.ndarray], fraction: float, seed: int,
                eps: float) -> np.ndarray:
    """A NonzeroBlock on the chosen weights; returns their positions."""
    flat = np.concatenate([w.reshape(-1) for w in weight_vars]) if weight_vars else np.zeros(0, np.int64)
    pos = nonzero_choice(len(flat), fraction, seed)
    if len(pos):
        prog.add(NonzeroBlock("nonzero", flat[pos], eps))
    return pos
