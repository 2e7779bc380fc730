"""Three or more classes as a MILP: the output weights at the ends of their box.

The two-class normalisation (:mod:`.train_normalised`) is exact because only one
difference of outgoing weights per hidden unit matters, and a positive scale
fixes it. With K >= 3 classes a unit's outgoing weights are a vector whose
direction (up to a common shift) is continuous, and no scale removes it: the
exact problem keeps the products ``V[k, j] * relu(z_j)`` (QF_NRA).

This encoding restricts every outgoing weight to an end of its box
``[l, u]``: ``V[k, j] = l + C s[k, j]`` with a Boolean ``s`` and ``C = u - l``.
As in the two-class case the last hidden layer's boxes are scaled by ``C``
(``z'_j = C z_j``), and then

    y_k - y_m = sum_j (s[k, j] - s[m, j]) relu(z'_j) + (c_k - c_m)

(the common term ``(l / C) sum_j relu(z'_j)`` cancels in every difference), where
``s[k, j] relu(z'_j)`` is a Boolean times a bounded variable: linear, exact.

It is a *restriction*: every answer maps back to a network in the user's boxes
(``W = W' / C``, ``V = l`` or ``u``), which the forward pass re-checks, but a
network whose outgoing weights lie inside the box may exist where this one has
none. So "no solution" here is not a proof: the answer is ``unknown`` (see
:func:`nncc.pipeline.answer.answer_from_result`), and ``normalise off`` asks the
exact direct encoding.

Exact symmetry breaking within the restriction: units are interchangeable, so
their patterns ``sum_k 2^k s[k, j]`` are non-increasing in ``j`` (up to
:data:`MAX_ORDERED_CLASSES` classes); and a unit
with every ``s[k, j] = 1`` adds the same to every class, as one with none does,
so that pattern is left out.
"""
from __future__ import annotations

import numpy as np

from ..ir.program import BOOL, GE, GT, LE, REAL, BoolProductBlock, LinearBlock, Program
from ..problem.query import TrainQuery
from .encoded import Encoded
from .train_normalised import last_layers_reason, scaled_hidden_layers, unscaled_hidden_params
from .train_relu import program_name


# the pattern order's coefficients are 2^k: beyond this many classes they would
# swamp the solver's tolerances, and the units are left unordered (still exact)
MAX_ORDERED_CLASSES = 16


def vertex_check(query: TrainQuery) -> str:
    """Why the box-end encoding cannot be built ("" when it can)."""
    net, data = query.network, query.data
    reason = last_layers_reason(net)
    if reason:
        return reason
    out = net.layers[-1]
    if data.n_classes < 3:
        return "it needs three or more classes"
    if out.size != data.n_classes:
        return f"the output layer '{out.name}' needs one unit per class"
    if query.nonzero_fraction:
        return "non-zero weights are not kept by the box-end encoding"
    if query.objective is not None or query.regularised or not query.classify:
        return ("an objective would be optimised over the box-end networks only, not over "
                "the query's")
    return ""


def encode_train_vertices(query: TrainQuery) -> Encoded:
    """The box-end encoding (module docstring); check :func:`vertex_check` first."""
    net, data = query.network, query.data
    prog = Program(name=program_name(query))
    out, hid = net.layers[-1], net.layers[-2]
    lo, hi = out.weight_domain.lo, out.weight_domain.hi
    C = hi - lo
    h, _weights, params, _by_layer = scaled_hidden_layers(prog, query, C)
    a = h.vars
    N, H = a.shape
    K = out.size
    s = prog.add_vars(f"{out.name}.at_upper", (K, H), BOOL)
    p = prog.add_vars(f"{out.name}.upper_part", (K, N, H), REAL, 0.0,
                      np.broadcast_to(h.hi, (N, H)))
    prog.add(BoolProductBlock(f"{out.name}.upper_product", p.reshape(-1),
                              np.broadcast_to(s[:, None, :], (K, N, H)).reshape(-1).copy(),
                              np.broadcast_to(a[None], (K, N, H)).reshape(-1).copy()))
    c = prog.add_vars(f"{out.name}.bias", (K,), REAL, out.bias_domain.lo, out.bias_domain.hi)
    y = np.asarray(data.y, dtype=np.int64)
    n_idx, k_idx = np.nonzero(np.arange(K)[None, :] != y[:, None])
    yy = y[n_idx]
    # y_label - y_k = sum_j p[label, n, j] - p[k, n, j] + c_label - c_k >= margin
    cols = np.concatenate([p[yy, n_idx], p[k_idx, n_idx], c[yy][:, None], c[k_idx][:, None]], 1)
    coefs = np.concatenate([np.ones(H), -np.ones(H), [1.0, -1.0]])
    prog.add(LinearBlock.from_dense_rows("classify", cols, coefs,
                                         GE if query.margin > 0 else GT, query.margin))
    # within the restriction, exact: no all-upper unit (it adds the same to every class)
    prog.add(LinearBlock.from_dense_rows("not_all_upper", s.T.copy(), np.ones(K), LE, K - 1.0))
    if H > 1 and K <= MAX_ORDERED_CLASSES:   # interchangeable units: patterns non-increasing
        code = 2.0 ** np.arange(K)
        prog.add(LinearBlock.from_dense_rows(
            "pattern_order", np.concatenate([s[:, :-1].T, s[:, 1:].T], 1),
            np.concatenate([code, -code]), GE, 0.0))
    n_params = len(params)
    params += [f"{out.name}.at_upper", f"{out.name}.bias"]
    prog.answer_groups = params
    inverse = {"kind": "vertex", "params": params[:n_params], "hidden": hid.name,
               "output": out.name, "C": C, "w_lo": lo, "w_hi": hi, "restricted": True}
    enc = Encoded(prog, inverse,
                  f"box ends: every outgoing weight of '{hid.name}' at {lo:g} or {hi:g} (one "
                  f"Boolean per class and unit), the units scaled by {C:g}; no products")
    enc.notes.append(f"{K} classes: the output weights are restricted to the ends of their box "
                     "(an exact MILP of that restriction), so an answer is a network of the "
                     "query but 'no solution' would not be a proof (normalise off: the exact "
                     "QF_NRA encoding)")
    return enc


def params_from_vertices(inv: dict, groups: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Parameters of the original network from a box-end answer."""
    params = unscaled_hidden_params(inv, groups)
    out = inv["output"]
    upper = np.asarray(groups[f"{out}.at_upper"], dtype=np.float64) > 0.5
    params[f"{out}.weight"] = np.where(upper, inv["w_hi"], inv["w_lo"])
    params[f"{out}.bias"] = np.asarray(groups[f"{out}.bias"], dtype=np.float64)
    return params
