"""A trained network inside a program: its layers as rows over input variables.

Every layer's output gets variables with bounds from ``bounds`` (interval or
LP-tightened, see :func:`nncc.analysis.bounds.network_bounds`); an Affine layer is a
block of equality rows (dense or sparse ``W``), a ReLU a ReLU relation that
the MILP passes turn into big-M rows with M from those bounds (stable
neurons become plain equalities, no binary). The questions about trained
networks (evaluate, maximize, adversarial, verify) add their own variables,
rows and objective around this.
"""
from __future__ import annotations

import numpy as np

from ..analysis.bounds import network_bounds
from ..ir.program import BOOL, EQ, GE, LE, REAL, LinearBlock, Program, ReluBlock
from ..problem.fixed_network import Affine, FixedNetwork, MaxPool, Relu


def encode_fixed_network(prog: Program, net: FixedNetwork, x: np.ndarray,
                         bounds=None, prefix: str | None = None) -> np.ndarray:
    """Add ``net`` applied to the variables ``x`` (flat indices); return the output variables.

    ``bounds`` (a :class:`~nncc.analysis.interval_bounds.NetworkBounds`) bound every
    layer's output; interval bounds from ``x``'s box when not given.
    """
    prefix = prefix or "net"
    if bounds is None:
        bounds = network_bounds(net, prog.lb[x], prog.ub[x])
    layer_bounds = list(zip(bounds.lo, bounds.hi))
    h = np.asarray(x, dtype=np.int64).reshape(-1)
    layers = net.layers
    if not layers:  # the identity: output variables of their own, equal to the inputs
        import scipy.sparse as sp
        layers = [Affine("identity", sp.identity(h.size, format="csr"), np.zeros(h.size))]
        layer_bounds = [(prog.lb[h], prog.ub[h])]
    for k, layer in enumerate(layers):
        lo, hi = layer_bounds[k]
        # short names (ONNX node names can be long): the kind and position of the layer
        name = f"{prefix}.{type(layer).__name__.lower()}{k}"
        if isinstance(layer, Affine):
            y = prog.add_vars(f"{name}.out", (layer.n_out,), REAL, lo, hi)
            prog.add(_affine_rows(name, layer, h, y))
            h = y
        elif isinstance(layer, Relu):
            y = prog.add_vars(f"{name}.out", (layer.size,), REAL, lo, hi)
            prog.add(ReluBlock(f"{name}.relu", y, h))
            h = y
        elif isinstance(layer, MaxPool):
            y = prog.add_vars(f"{name}.out", (layer.n_out,), REAL, lo, hi)
            _maxpool_rows(prog, name, layer, h, y, layer_bounds[k - 1] if k else
                          (prog.lb[h], prog.ub[h]))
            h = y
    return h


def _maxpool_rows(prog: Program, name: str, layer: MaxPool, x: np.ndarray, y: np.ndarray,
                  in_bounds) -> None:
    """``y_k = max_j x[g_kj]``: ``y_k >= x_j`` for every member, and one binary per
    member that may be the maximum picks it: ``y_k <= x_j + (U_k - L_j)(1 - d_j)``,
    ``sum_j d_j = 1``, with ``U_k`` the largest upper bound of the group. A member
    whose upper bound is below another's lower bound can never be the maximum and
    gets no binary; a group with one candidate is ``y_k = x_j`` exactly."""
    L, U = in_bounds
    g = layer.groups
    valid = g >= 0
    gi = np.where(valid, g, 0)
    lo_m = np.where(valid, L[gi], -np.inf)
    hi_m = np.where(valid, U[gi], -np.inf)
    cand = valid & (hi_m >= lo_m.max(axis=1, keepdims=True))
    k_idx, j_idx = np.nonzero(valid)
    # y_k - x_j >= 0 for every member
    prog.add(LinearBlock.from_dense_rows(f"{name}.above", np.stack([y[k_idx], x[g[k_idx, j_idx]]], 1),
                                         [1.0, -1.0], GE, 0.0))
    single = cand.sum(axis=1) == 1
    if single.any():
        ks = np.flatnonzero(single)
        js = cand[ks].argmax(axis=1)
        prog.add(LinearBlock.from_dense_rows(f"{name}.only", np.stack([y[ks], x[g[ks, js]]], 1),
                                             [1.0, -1.0], EQ, 0.0))
    multi = cand & ~single[:, None]
    if multi.any():
        km, jm = np.nonzero(multi)
        d = prog.add_vars(f"{name}.argmax", (len(km),), BOOL)
        Ug = hi_m.max(axis=1)
        M = Ug[km] - lo_m[km, jm]
        # y - x_j + M d_j <= M
        prog.add(LinearBlock.from_dense_rows(
            f"{name}.below", np.stack([y[km], x[g[km, jm]], d], 1),
            np.stack([np.ones(len(km)), -np.ones(len(km)), M], 1), LE, M))
        # sum of the binaries of a group = 1
        order = np.argsort(km, kind="stable")
        counts = np.bincount(km, minlength=len(g))
        rows = np.flatnonzero(counts)
        indptr = np.zeros(len(rows) + 1, np.int64)
        np.cumsum(counts[rows], out=indptr[1:])
        prog.add(LinearBlock(f"{name}.pick", indptr, d[order], np.ones(len(km)),
                             np.full(len(rows), EQ, np.int8), np.ones(len(rows))))


def _affine_rows(name: str, layer: Affine, x: np.ndarray, y: np.ndarray) -> LinearBlock:
    """Rows ``sum_i W[j,i] x[i] - y[j] = -b[j]``, zero weights left out."""
    W = layer.W
    if hasattr(W, "tocsr"):
        W = W.tocsr()
        W.eliminate_zeros()
        counts = np.diff(W.indptr)
        m = W.shape[0]
        indptr = np.zeros(m + 1, np.int64)
        np.cumsum(counts + 1, out=indptr[1:])
        cols = np.empty(indptr[-1], np.int64)
        coefs = np.empty(indptr[-1])
        last = indptr[1:] - 1
        mask = np.ones(indptr[-1], bool)
        mask[last] = False
        cols[mask], coefs[mask] = x[W.indices], W.data
        cols[last], coefs[last] = y, -1.0
        # the y column may sit before some x columns: writers accept any order,
        # and LinearBlock.from_dense_rows is for rows of equal length
        return LinearBlock(f"{name}.affine", indptr, cols, coefs, np.full(m, EQ, np.int8),
                           -np.asarray(layer.b, float))
    m, n = W.shape
    cols = np.concatenate([np.broadcast_to(x[None, :], (m, n)), y[:, None]], axis=1)
    coefs = np.concatenate([np.asarray(W, float), -np.ones((m, 1))], axis=1)
    return LinearBlock.from_dense_rows(f"{name}.affine", cols, coefs, EQ,
                                       -np.asarray(layer.b, float), drop_zeros=True)
