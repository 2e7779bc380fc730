"""The training query as in the paper: every weight an unknown, ReLU as a relation.

The first layer is linear in the unknowns (the data is constant); every
later layer with unknown weights multiplies them by unknown activations, so
a network with a hidden layer needs QF_NRA (SMT-LIB only). A network without
hidden layers is QF_LRA / an LP.

With ``minimize hinge`` and / or a regulariser the query is an optimisation:
minimise the hinge slacks (:func:`~nncc.encodings.classify_margin.hinge_rows`)
plus the L1 / L2 terms (:mod:`nncc.encodings.regularisation`), subject to the
``classify`` rows when they are given. With a hidden layer that is QF_NRA with
z3's ``(minimize ...)``; without one an LP (L1) or a convex QP (L2).
"""
from __future__ import annotations

import numpy as np

from ..ir.program import Objective, Program
from ..problem.query import TrainQuery
from .classify_margin import add_nonzero, hinge_rows, margin_rows
from .dense_layers import Activations, activation, add_params, dense_pre_activation
from .encoded import Encoded
from .regularisation import regulariser_terms


def encode_train_direct(query: TrainQuery, nonzero_eps: float = 1e-3) -> Encoded:
    """Every weight and bias an unknown in its box; outputs compared by margin."""
    net, data = query.network, query.data
    prog = Program(name=program_name(query))
    h = Activations.constant(np.asarray(data.X, dtype=np.float64))
    weights, params, by_layer = [], [], {}
    for k, layer in enumerate(net.layers):
        W = b = None
        if layer.trainable:
            W, b = add_params(prog, layer, net.fan_in(k))
            weights.append(W)
            by_layer[layer.name] = (W, layer.weight_domain, 1.0)
            params += [f"{layer.name}.weight", f"{layer.name}.bias"]
        wd, bd = layer.weight_domain, layer.bias_domain
        z = dense_pre_activation(prog, layer, h, W, b, (wd.lo, wd.hi), (bd.lo, bd.hi))
        h = activation(prog, layer, z)
    if query.classify:
        margin_rows(prog, h.vars, np.asarray(data.y), query.margin)
    if query.nonzero_fraction:
        add_nonzero(prog, weights, query.nonzero_fraction, query.nonzero_seed, nonzero_eps)
    prog.answer_groups = params
    enc = Encoded(prog, {"kind": "direct", "params": params},
                  "direct: every weight an unknown, ReLU as a relation")
    xi = None
    if query.objective == "hinge":
        xi = hinge_rows(prog, h.vars, h.lo, h.hi, np.asarray(data.y), query.hinge_margin)
    training_objective(prog, query, enc, xi, by_layer)
    return enc


def training_objective(prog: Program, query: TrainQuery, enc: Encoded, hinge: np.ndarray | None,
                       weights: dict) -> None:
    """The sum of the ``hinge`` slacks (when asked) plus the regularisers over ``weights``
    as the program's objective; nothing when neither is asked (a feasibility query)."""
    idx, coef = [], []
    if hinge is not None:
        idx.append(hinge)
        coef.append(np.ones(len(hinge)))
    reg = regulariser_terms(prog, query, weights)
    if not idx and not len(reg.idx) and not len(reg.sq_idx):
        return
    prog.objective = Objective("min", np.concatenate(idx + [reg.idx]).astype(np.int64),
                               np.concatenate(coef + [reg.coef]), 0.0, reg.sq_idx, reg.sq_coef)
    enc.square_segments = reg.sq_segments if reg.segments_asked else None
    loss = (f"hinge loss (margin {query.hinge_margin:g}, summed over samples and other classes)"
            if query.objective == "hinge" else "")
    what = (loss + reg.description) if loss else reg.description.lstrip(" +")
    enc.description += "; minimise " + what + ("" if query.classify else ", no hard margin")
    enc.inverse["objective"] = {"hinge": query.objective == "hinge", "regularised": bool(
        len(reg.idx) or len(reg.sq_idx))}


def program_name(query: TrainQuery) -> str:
    return f"train_{query.network.name}_{query.data.name}"
