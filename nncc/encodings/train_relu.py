"""The training query as in the paper: every weight an unknown, ReLU as a relation.

The first layer is linear in the unknowns (the data is constant); every
later layer with unknown weights multiplies them by unknown activations, so
a network with a hidden layer needs QF_NRA (SMT-LIB only). A network without
hidden layers is QF_LRA / an LP.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..ir.program import Program
from ..problem.query import TrainQuery
from .classify_margin import add_nonzero, margin_rows
from .dense_layers import Activations, activation, add_params, dense_pre_activation


@dataclass
class Encoded:
    """An encoded query: the IR, JSON-able data to turn values back into
    parameters, and a sentence describing the encoding for reports."""

    program: Program
    inverse: dict
    description: str
    notes: list[str] = field(default_factory=list)
    proof: str | None = None  # set when the encoding proved the query has no answer


def encode_train_direct(query: TrainQuery, nonzero_eps: float = 1e-3) -> Encoded:
    """Every weight and bias an unknown in its box; outputs compared by margin."""
    net, data = query.network, query.data
    prog = Program(name=_program_name(query))
    h = Activations.constant(np.asarray(data.X, dtype=np.float64))
    weights, params = [], []
    for k, layer in enumerate(net.layers):
        W = b = None
        if layer.trainable:
            W, b = add_params(prog, layer, net.fan_in(k))
            weights.append(W)
            params += [f"{layer.name}.weight", f"{layer.name}.bias"]
        wd, bd = layer.weight_domain, layer.bias_domain
        z = dense_pre_activation(prog, layer, h, W, b, (wd.lo, wd.hi), (bd.lo, bd.hi))
        h = activation(prog, layer, z)
    margin_rows(prog, h.vars, np.asarray(data.y), query.margin)
    if query.nonzero_fraction:
        add_nonzero(prog, weights, query.nonzero_fraction, query.nonzero_seed, nonzero_eps)
    prog.answer_groups = params
    return Encoded(prog, {"kind": "direct", "params": params},
                   "direct: every weight an unknown, ReLU as a relation")


def _program_name(query: TrainQuery) -> str:
    return f"train_{query.network.name}_{query.data.name}"


def params_from_groups(inverse: dict, groups: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Network parameters (npz keys) from the values of the answer groups."""
    if inverse["kind"] == "direct":
        return {k: np.asarray(groups[k], dtype=np.float64) for k in inverse["params"]}
    from .train_normalised import params_from_normalised
    return params_from_normalised(inverse, groups)
