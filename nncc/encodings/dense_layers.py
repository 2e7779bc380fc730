"""Dense layers over a batch of samples as IR blocks, shared by the training encodings.

A layer's inputs are either constants (the data, or the output of layers
whose weights are fixed) or variables; its weights are either unknowns or
fixed. The four combinations give linear rows, except unknown weights times
unknown activations, which are products (QF_NRA).

Every pre-activation gets interval bounds from the weight box and the
bounds of its inputs, per sample and neuron: the MILP back ends need them
for big-M, and they cost SMT nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..ir.program import EQ, INT, REAL, LinearBlock, Program, QuadraticBlock, ReluBlock
from ..problem.network import RELU, DenseLayer, ParamDomain


@dataclass
class Activations:
    """The values flowing between layers: constants, or variables with bounds."""

    const: np.ndarray | None = None  # (N, d) when known
    vars: np.ndarray | None = None  # (N, d) global indices when unknown
    lo: np.ndarray | None = None
    hi: np.ndarray | None = None

    @classmethod
    def constant(cls, X: np.ndarray) -> "Activations":
        return cls(const=X, lo=X, hi=X)


def interval_product(alo, ahi, wlo, whi):
    """Bounds of ``a * w`` for ``a`` in [alo, ahi], ``w`` in [wlo, whi] (broadcasting)."""
    c = np.stack(np.broadcast_arrays(alo * wlo, alo * whi, ahi * wlo, ahi * whi))
    return c.min(axis=0), c.max(axis=0)


def param_kind(domain: ParamDomain, layer: DenseLayer, what: str) -> str:
    if domain.kind == "real":
        return REAL
    if domain.kind == "int":
        return INT
    raise InputError(f"layer '{layer.name}': {what} in a set {domain} are for binarised networks; "
                     "training a ReLU network takes a real or integer box", layer.pos)


def add_params(prog: Program, layer: DenseLayer, fan_in: int, scale: float = 1.0):
    """Unknown weight and bias variables of ``layer``, boxes scaled by ``scale`` (> 0)."""
    wd, bd = layer.weight_domain, layer.bias_domain
    W = prog.add_vars(f"{layer.name}.weight", (layer.size, fan_in), param_kind(wd, layer, "weights"),
                      wd.lo * scale, wd.hi * scale)
    b = prog.add_vars(f"{layer.name}.bias", (layer.size,), param_kind(bd, layer, "biases"),
                      bd.lo * scale, bd.hi * scale)
    return W, b


def dense_pre_activation(prog: Program, layer: DenseLayer, inp: Activations,
                         W: np.ndarray | None, b: np.ndarray | None,
                         wbox: tuple[float, float], bbox: tuple[float, float]) -> Activations:
    """``z = W x + b`` for every sample: variables, bounds and the rows defining them.

    ``W``/``b`` are variable indices when the weights are unknown (with boxes
    ``wbox``/``bbox``), or ``None`` when the layer's fixed arrays are used.
    """
    out = layer.size
    if W is None:
        Wc, bc = np.asarray(layer.weight, float), np.asarray(layer.bias, float)
        if inp.const is not None:
            return Activations.constant(inp.const @ Wc.T + bc)
        N, d = inp.vars.shape
        Wp, Wn = np.maximum(Wc, 0), np.minimum(Wc, 0)
        lo = inp.lo @ Wp.T + inp.hi @ Wn.T + bc
        hi = inp.hi @ Wp.T + inp.lo @ Wn.T + bc
        z = prog.add_vars(f"{layer.name}.pre", (N, out), REAL, lo, hi)
        # rows (n, j): sum_i W[j,i] x[n,i] - z[n,j] = -b[j]
        cols = np.concatenate([np.broadcast_to(inp.vars[:, None, :], (N, out, d)),
                               z[:, :, None]], axis=2).reshape(N * out, d + 1)
        coefs = np.concatenate([np.broadcast_to(Wc[None], (N, out, d)),
                                -np.ones((N, out, 1))], axis=2).reshape(N * out, d + 1)
        prog.add(LinearBlock.from_dense_rows(f"{layer.name}.affine", cols, coefs, EQ,
                                             np.broadcast_to(-bc, (N, out)).reshape(-1), drop_zeros=True))
        return Activations(vars=z, lo=lo, hi=hi)

    (wl, wh), (bl, bh) = wbox, bbox
    if inp.const is not None:
        X = inp.const
        N, d = X.shape
        plo, phi = interval_product(X, X, wl, wh)
        lo = np.repeat((plo.sum(axis=1) + bl)[:, None], out, axis=1)
        hi = np.repeat((phi.sum(axis=1) + bh)[:, None], out, axis=1)
        z = prog.add_vars(f"{layer.name}.pre", (N, out), REAL, lo, hi)
        # rows (n, j): sum_i X[n,i] W[j,i] + b[j] - z[n,j] = 0 (linear: the data is constant)
        # filled in place: this block holds most of a large query's nonzeros
        cols = np.empty((N, out, d + 2), dtype=np.int64)
        cols[:, :, :d] = W[None, :, :]
        cols[:, :, d] = b[None, :]
        cols[:, :, d + 1] = z
        coefs = np.empty((N, out, d + 2))
        coefs[:, :, :d] = X[:, None, :]
        coefs[:, :, d] = 1.0
        coefs[:, :, d + 1] = -1.0
        cols, coefs = cols.reshape(N * out, d + 2), coefs.reshape(N * out, d + 2)
        prog.add(LinearBlock.from_dense_rows(f"{layer.name}.affine", cols, coefs, EQ, 0.0,
                                             drop_zeros=True))
        return Activations(vars=z, lo=lo, hi=hi)

    # unknown weights times unknown activations: products
    N, d = inp.vars.shape
    plo, phi = interval_product(inp.lo[:, None, :], inp.hi[:, None, :], wl, wh)
    lo = np.broadcast_to(plo.sum(axis=2) + bl, (N, out)).copy()
    hi = np.broadcast_to(phi.sum(axis=2) + bh, (N, out)).copy()
    z = prog.add_vars(f"{layer.name}.pre", (N, out), REAL, lo, hi)
    lin = LinearBlock.from_dense_rows(f"{layer.name}.affine",
                                      np.stack([np.broadcast_to(b[None, :], (N, out)).reshape(-1),
                                                z.reshape(-1)], 1), [1.0, -1.0], EQ, 0.0)
    rows = np.repeat(np.arange(N * out), d)
    q_i = np.broadcast_to(W[None, :, :], (N, out, d)).reshape(-1)
    q_j = np.broadcast_to(inp.vars[:, None, :], (N, out, d)).reshape(-1)
    prog.add(QuadraticBlock(f"{layer.name}.affine", lin, rows.astype(np.int64), q_i.copy(), q_j.copy(),
                            np.ones(len(rows))))
    return Activations(vars=z, lo=lo, hi=hi)


def activation(prog: Program, layer: DenseLayer, z: Activations) -> Activations:
    """Apply the layer's activation: ReLU as a relation on new variables, identity as is."""
    if layer.activation != RELU:
        return z
    if z.const is not None:
        return Activations.constant(np.maximum(z.const, 0.0))
    lo, hi = np.maximum(z.lo, 0.0), np.maximum(z.hi, 0.0)
    a = prog.add_vars(f"{layer.name}.out", z.vars.shape, REAL, lo, hi)
    prog.add(ReluBlock(f"{layer.name}.relu", a.reshape(-1), z.vars.reshape(-1)))
    return Activations(vars=a, lo=lo, hi=hi)
