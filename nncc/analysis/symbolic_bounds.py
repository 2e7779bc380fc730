"""Back-substitution bounds (DeepPoly / CROWN style) and proofs that no input reaches a class.

For a network of Affine and Relu layers, a linear function ``c . h`` of the
values ``h`` after some layer is bounded by substituting backwards, layer by
layer, down to the input:

* through an Affine ``h = W v + b``: ``c . h = (c W) . v + c . b``;
* through a Relu ``h = max(0, z)`` with ``z`` in ``[l, u]``: stable neurons are
  ``z`` or ``0``; for an unstable one the upper line ``h <= u (z - l) / (u - l)``
  and the lower line ``h >= alpha z`` (``alpha`` 1 when ``u > -l``, else 0)
  -- for an upper bound of ``c . h`` the upper line where ``c_j > 0`` and
  the lower one where ``c_j < 0``, and the reverse for a lower bound.

At the input the linear function is bounded over the box, or exactly over
the box and an L1 ball (:func:`~nncc.analysis.interval_bounds.l1_ball_affine`).
Every neuron is bounded this way, layer by layer (each layer's bounds use
the tighter bounds of the layers before), and the result is intersected with
the interval bounds: never looser, often much tighter, in milliseconds.
The same substitution bounds ``c . y`` for the class rows of an adversarial
query: when the largest possible ``y_t - y_k`` over the inputs is below the
margin, no input of the box reaches the class, without any solver.

Rounding: every bound is widened outward by ``4 (d + 1) gamma_n`` times
the magnitudes involved (``d`` layers substituted through, ``n`` terms a
row), like the interval bounds.  Networks with MaxPool layers get interval
bounds only (:func:`symbolic_bounds` returns them unchanged).
"""
from __future__ import annotations

import numpy as np

from ..problem.fixed_network import Affine, FixedNetwork, MaxPool, Relu
from .interval_bounds import (NetworkBounds, rounding_gamma, check_box, interval_bounds, l1_ball_affine,
                              layer_interval)


def deeppoly_lines(l: np.ndarray, u: np.ndarray):
    """Per neuron: (upper slope, upper intercept, lower slope) of the relaxation."""
    inactive = u <= 0
    active = (l >= 0) & ~inactive
    uns = ~active & ~inactive
    su = np.where(active, 1.0, 0.0)
    iu = np.zeros_like(l)
    s = np.where(uns, u / np.where(uns, u - l, 1.0), 0.0)
    su = np.where(uns, s, su)
    iu = np.where(uns, -s * l, iu)
    sl = np.where(active, 1.0, np.where(uns & (u > -l), 1.0, 0.0))
    return su, iu, sl


def _substitute(net: FixedNetwork, k: int, C: np.ndarray, pre: dict, upper: bool):
    """``(A, const, mag, depth)``: ``C h_k <= A x + const`` (upper) or ``>=`` (lower)
    for the value ``h_k`` after layer ``k``; ``pre[j]`` are the (l, u) bounds of the
    input of Relu ``j``."""
    A = np.asarray(C, dtype=np.float64)
    const = np.zeros(A.shape[0])
    mag = np.zeros(A.shape[0])
    depth = 0
    for j in range(k, -1, -1):
        layer = net.layers[j]
        if isinstance(layer, Affine):
            b = np.asarray(layer.b, dtype=np.float64).ravel()
            const = const + A @ b
            mag = mag + np.abs(A) @ np.abs(b)
            A = np.asarray((layer.W.T @ A.T).T) if hasattr(layer.W, "toarray") else A @ layer.W
            depth += 1
        elif isinstance(layer, Relu):
            su, iu, sl = deeppoly_lines(*pre[j])
            pos = A > 0 if upper else A < 0
            slope = np.where(pos, su[None, :], sl[None, :])
            icpt = np.where(pos, iu[None, :], 0.0)
            const = const + np.sum(A * icpt, axis=1)
            mag = mag + np.sum(np.abs(A * icpt), axis=1)
            A = A * slope
        else:
            raise TypeError(type(layer).__name__)
    return A, const, mag, depth


def _concretise(A, const, mag, depth, lo, hi, l1_ball, upper: bool):
    """The bound of ``A x + const`` over the box (and ball), widened for rounding."""
    if l1_ball is not None:
        blo, bhi = l1_ball_affine(Affine("s", A, const), lo, hi, *l1_ball)
        v = bhi if upper else blo
    else:
        Ap, An = np.maximum(A, 0), np.minimum(A, 0)
        v = (Ap @ hi + An @ lo + const) if upper else (Ap @ lo + An @ hi + const)
    scale = np.abs(A) @ np.maximum(np.abs(lo), np.abs(hi)) + mag + np.abs(v)
    err = 4.0 * (depth + 1) * rounding_gamma(A.shape[1] + 2) * scale + 4.0 * np.spacing(np.abs(v))
    return v + err if upper else v - err


def supported(net: FixedNetwork) -> bool:
    return all(isinstance(l, (Affine, Relu)) for l in net.layers) and not any(
        isinstance(l, MaxPool) for l in net.layers)


def symbolic_bounds(net: FixedNetwork, lo, hi, l1_ball=None, known: NetworkBounds | None = None,
                    max_entries: float = 2e7) -> NetworkBounds:
    """Bounds of every layer output: interval bounds (or ``known``) intersected with
    back-substitution bounds.  Unchanged for networks with MaxPool, or when a
    substitution matrix would exceed ``max_entries`` entries (that layer keeps its
    interval bounds: about 160 MB of float64 at the default)."""
    lo, hi = check_box(net, lo, hi)
    base = known if known is not None else interval_bounds(net, lo, hi, l1_ball)
    if not supported(net):
        return base
    out = NetworkBounds(input_lo=lo, input_hi=hi, method="symbolic",
                        layer_names=list(base.layer_names), layer_kinds=list(base.layer_kinds),
                        stats=dict(base.stats))
    pre = {}
    # the substitution matrices of layer k are (its size) x (each earlier width)
    widths = [net.n_inputs] + [l.n_in for l in net.layers[1:]]
    cur_lo, cur_hi = lo, hi
    for k, layer in enumerate(net.layers):
        l, u = np.array(base.lo[k], dtype=np.float64), np.array(base.hi[k], dtype=np.float64)
        il, iu = layer_interval(layer, cur_lo, cur_hi)  # from the tightened layer before
        l, u = np.maximum(l, il), np.minimum(u, iu)
        if isinstance(layer, Relu):
            pre[k] = (cur_lo, cur_hi)
            l = np.maximum(l, np.maximum(cur_lo, 0.0))
            u = np.minimum(u, np.maximum(cur_hi, 0.0))
        elif k > 0 and layer.n_out * max(widths[:k + 1]) <= max_entries:
            I = np.eye(layer.n_out)
            su = _concretise(*_substitute(net, k, I, pre, True), lo, hi, l1_ball, True)
            sl = _concretise(*_substitute(net, k, I, pre, False), lo, hi, l1_ball, False)
            l, u = np.maximum(l, sl), np.minimum(u, su)
        u = np.maximum(u, l)
        out.lo.append(l)
        out.hi.append(u)
        cur_lo, cur_hi = l, u
    return out


def row_upper_bounds(net: FixedNetwork, bounds: NetworkBounds, C: np.ndarray,
                     l1_ball=None) -> np.ndarray:
    """Upper bounds of the rows ``C y`` (over the network output ``y``) for the inputs of
    the box (and ball): the interval bounds of the output, and for networks it
    supports the back-substitution with ``bounds``, widened for rounding."""
    C = np.asarray(C, dtype=np.float64)
    ylo, yhi = bounds.output()
    Cp, Cn = np.maximum(C, 0), np.minimum(C, 0)
    best = Cp @ yhi + Cn @ ylo
    best = best + 4.0 * rounding_gamma(C.shape[1] + 2) * (np.abs(C) @ np.maximum(np.abs(ylo), np.abs(yhi)))
    if supported(net) and net.layers:
        pre = {k: bounds.pre_relu(k) for k in bounds.relu_layers()}
        lo, hi = bounds.input_lo, bounds.input_hi
        sub = _concretise(*_substitute(net, len(net.layers) - 1, C, pre, True), lo, hi, l1_ball, True)
        best = np.minimum(best, sub)
    return best


def class_rows_unreachable(net: FixedNetwork, bounds: NetworkBounds, C: np.ndarray, rhs: np.ndarray,
                           l1_ball=None) -> np.ndarray:
    """Which rows ``C y >= rhs`` (over the network output ``y``) no input of the box
    (and ball) can satisfy, by back-substitution with ``bounds``; for networks it
    does not support, by the interval bounds of the output."""
    return row_upper_bounds(net, bounds, C, l1_ball) < np.asarray(rhs, dtype=np.float64)
