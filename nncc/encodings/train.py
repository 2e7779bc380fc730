"""Choosing the encoding of a training query: normalised where it is exact, direct otherwise."""
from __future__ import annotations

import numpy as np

from ..problem.query import TrainQuery
from .train_normalised import encode_train_normalised, normalisation_check, params_from_normalised
from .encoded import Encoded
from .train_relu import encode_train_direct
from .train_vertices import encode_train_vertices, params_from_vertices, vertex_check


def encode_train(query: TrainQuery, nonzero_eps: float = 1e-3) -> Encoded:
    """The IR of a training query. ``query.normalise``: ``auto`` normalises
    where that is exact, ``on`` wherever it can be built, ``off`` never; with three
    or more classes ``auto`` and ``on`` restrict the output weights to their box
    ends (:mod:`.train_vertices`: a MILP whose "no solution" is no proof).
    Binarised networks (step / sign layers) have their own encoding."""
    if query.network.binarised:
        from .binarised import encode_binarised
        return encode_binarised(query, epsilon=nonzero_eps)
    possible, exact, reason = normalisation_check(query)
    same_answers = exact   # the two encodings have the same feasible networks
    mode = query.normalise
    if possible and query.regularised:
        # the normalisation rescales each hidden unit (and fixes the output weights at the
        # box ends): the network's function is kept, its weight norms are not
        exact = False
        reason = ("a regulariser is not preserved by the normalisation (it rescales the hidden "
                  "units and fixes the output weights, which changes the weight norms); the "
                  "direct encoding keeps it exact")
    if mode != "off" and possible and (exact or mode == "on"):
        enc = encode_train_normalised(query, nonzero_eps)
        if not exact and query.regularised:
            out = query.network.layers[-1].name
            enc.notes.append(f"normalisation forced although not exact: the regulariser applies "
                             f"to the normalised network (hidden layer '{enc.inverse['hidden']}' "
                             f"weights times {enc.inverse['C']:g}, output layer '{out}' fixed at "
                             "its box ends and not regularised), so the optimum is that network's")
        elif not exact:
            enc.notes.append(f"normalisation forced although not exact ({reason}): a 'no "
                             "solution' holds for the normalised problem only (reported unknown)")
        enc.inverse["exact"] = exact
        # a 'no solution' then proves nothing about the query (answer_from_result: unknown)
        enc.inverse["restricted"] = not same_answers
        return enc
    if mode != "off" and not possible and query.data.n_classes >= 3:
        reason = vertex_check(query)
        if not reason:
            return encode_train_vertices(query)
        reason = f"{query.data.n_classes} classes, and {reason}"
    enc = encode_train_direct(query, nonzero_eps)
    if mode == "off":
        enc.notes.append("normalisation off (normalise off)")
    elif reason:
        enc.notes.append(f"not normalised: {reason}")
    return enc


def params_from_groups(inverse: dict, groups: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Network parameters (npz keys) from the values of the answer groups."""
    if inverse["kind"] == "direct":
        return {k: np.asarray(groups[k], dtype=np.float64) for k in inverse["params"]}
    if inverse["kind"] == "vertex":
        return params_from_vertices(inverse, groups)
    return params_from_normalised(inverse, groups)
