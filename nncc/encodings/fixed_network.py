"""A trained network inside a program: its layers as rows over input variables.

Every layer's output gets variables with bounds from ``bounds`` (interval or
LP-tightened, see :mod:`nncc.passes.interval_bounds`); an Affine layer is a
block of equality rows (dense or sparse ``W``), a ReLU a ReLU relation that
the MILP passes turn into big-M rows with M from those bounds (stable
neurons become plain equalities, no binary). The questions about trained
networks (evaluate, maximize, adversarial, verify) add their own variables,
rows and objective around this.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..ir.program import EQ, REAL, LinearBlock, Program, ReluBlock
from ..problem.fixed_network import Affine, FixedNetwork, MaxPool, Relu


def interval_layer_bounds(net: FixedNetwork, lo: np.ndarray, hi: np.ndarray):
    """Interval bounds of every layer's output (a list of (lo, hi) pairs)."""
    out = []
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    for layer in net.layers:
        if isinstance(layer, Affine):
            W = layer.W
            if hasattr(W, "multiply"):  # scipy.sparse
                Wp, Wn = W.maximum(0), W.minimum(0)
                nlo = np.asarray(Wp @ lo + Wn @ hi).ravel() + layer.b
                nhi = np.asarray(Wp @ hi + Wn @ lo).ravel() + layer.b
            else:
                Wp, Wn = np.maximum(W, 0), np.minimum(W, 0)
                nlo, nhi = Wp @ lo + Wn @ hi + layer.b, Wp @ hi + Wn @ lo + layer.b
            lo, hi = nlo, nhi
        elif isinstance(layer, Relu):
            lo, hi = np.maximum(lo, 0), np.maximum(hi, 0)
        else:
            g = layer.groups
            lo = np.where(g >= 0, lo[np.maximum(g, 0)], -np.inf).max(axis=1)
            hi = np.where(g >= 0, hi[np.maximum(g, 0)], -np.inf).max(axis=1)
        out.append((lo, hi))
    return out


def encode_fixed_network(prog: Program, net: FixedNetwork, x: np.ndarray,
                         layer_bounds: list | None = None, prefix: str | None = None) -> np.ndarray:
    """Add ``net`` applied to the variables ``x`` (flat indices); return the output variables.

    ``layer_bounds[k]`` = (lo, hi) of layer ``k``'s output; computed by interval
    arithmetic from ``x``'s bounds when not given.
    """
    prefix = prefix or "net"
    if layer_bounds is None:
        layer_bounds = interval_layer_bounds(net, prog.lb[x], prog.ub[x])
    h = np.asarray(x, dtype=np.int64).reshape(-1)
    for k, layer in enumerate(net.layers):
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
            raise InputError(f"network '{net.name}': MaxPool layer '{layer.name}' cannot be "
                             "encoded yet")
    return h


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
