"""The two-class training query made linear by normalising the last hidden layer.

A ReLU unit scaled by ``c > 0`` computes ``c`` times its output, so dividing
its outgoing weights by ``c`` leaves the network's function unchanged. With
two classes only ``y0 - y1 = sum_j (W[0,j] - W[1,j]) relu(h_j) + (b0 - b1)``
matters. Scaling unit ``j`` by ``|W[0,j] - W[1,j]|`` leaves each unit a sign
``s_j`` in {-1, +1} (a Boolean) and the products disappear:

    y0 - y1 = sum_j s_j relu(W'_j x + b'_j) + d

Exactness (when ``normalise auto`` applies it):

* two classes and an output layer of two identity units whose weights are
  unknown in a real box ``[l, u]`` with ``l < u`` (biases in ``[bl, bu]``);
* the last hidden layer is ReLU with unknown real weights and biases whose
  boxes contain 0. Its units' boxes are scaled by ``C = u - l``: a row
  ``c (w, b)`` with ``c`` in [0, C] and ``(w, b)`` in a box ``B`` containing 0
  is exactly a point of ``C B`` (``B`` is convex and holds 0);
* ``d`` lies in ``[bl - bu, bu - bl]``.

The units of the last hidden layer are interchangeable, so their signs are
ordered (positive units first); this symmetry breaking is left out when
``nonzero`` weights tie units to positions.

Every answer maps back (``W = W' / C``, outgoing weights ``(u, l)`` or
``(l, u)`` by sign, output biases centred in their box), and every answer
of the direct encoding maps forward, so the two are equisatisfiable.
With ``nonzero`` weights: the chosen output-layer weights are the box ends
``l`` and ``u`` (or, for a silent unit, equal), so both ends must be
non-zero. Where chosen weights fall in the last hidden layer, a unit whose
outgoing weights are equal in a direct answer contributes nothing but must
keep its non-zero incoming weights; its sign then takes three values
{-1, 0, +1} (two Booleans, at most one true), which keeps the encoding exact.
Otherwise ``auto`` keeps the direct encoding; ``normalise on`` forces it, and
then "no solution" holds only for the normalised problem and is reported as
unknown (``inverse["restricted"]``).
"""
from __future__ import annotations

import numpy as np

from ..ir.program import (BOOL, GE, GT, LE, REAL, BoolProductBlock, LinearBlock, NonzeroBlock,
                          Program)
from ..problem.network import IDENTITY, RELU
from ..problem.query import TrainQuery, nonzero_choice
from .dense_layers import Activations, activation, add_params, dense_pre_activation
from .encoded import Encoded
from .train_relu import program_name, training_objective


def last_layers_reason(net) -> str:
    """Why the last hidden layer cannot be scaled into its output layer ("" when it
    can): an identity output layer with unknown weights in a real box ``lo < hi``
    after a ReLU layer with unknown real weights and biases in boxes that hold 0."""
    if len(net.layers) < 2:
        return "the network has no hidden layer"
    out, hid = net.layers[-1], net.layers[-2]
    if not out.trainable or out.activation != IDENTITY:
        return f"the output layer '{out.name}' must be identity with unknown weights"
    if out.weight_domain.kind != "real" or not out.weight_domain.lo < out.weight_domain.hi \
            or out.bias_domain.kind != "real":
        return f"the output layer '{out.name}' needs a real weight box with lo < hi"
    if not hid.trainable or hid.activation != RELU:
        return f"the last hidden layer '{hid.name}' must be ReLU with unknown weights"
    for d in (hid.weight_domain, hid.bias_domain):
        if d.kind != "real" or not d.contains_zero():
            return f"the last hidden layer '{hid.name}' needs real boxes that contain 0"
    return ""


def normalisation_check(query: TrainQuery) -> tuple[bool, bool, str]:
    """``(possible, exact, reason)``: whether the normalised encoding can be
    built for this query, whether it is exact, and why not if not."""
    net, data = query.network, query.data
    if len(net.layers) >= 2 and (net.layers[-1].size != 2 or data.n_classes > 2):
        return False, False, "it needs exactly two classes and two output units"
    reason = last_layers_reason(net)
    if reason:
        return False, False, reason
    out = net.layers[-1]
    if query.nonzero_fraction:
        sizes = [l.size * net.fan_in(k) for k, l in enumerate(net.layers) if l.trainable]
        pos = nonzero_choice(sum(sizes), query.nonzero_fraction, query.nonzero_seed)
        out_start = sum(sizes[:-1])
        if np.any(pos >= out_start) and (out.weight_domain.lo == 0 or out.weight_domain.hi == 0):
            return True, False, ("non-zero output weights need both ends of the output box "
                                 "non-zero")
    return True, True, ""


def scaled_hidden_layers(prog: Program, query: TrainQuery, C: float):
    """The hidden layers on the query's samples, the last one's weight and bias boxes
    ``C`` times as wide: ``(activations, weight variables, parameter names, by layer)``."""
    net = query.network
    hid = net.layers[-2]
    h = Activations.constant(np.asarray(query.data.X, dtype=np.float64))
    weights, params, by_layer = [], [], {}
    for k, layer in enumerate(net.layers[:-1]):
        scale = C if layer is hid else 1.0
        W = b = None
        if layer.trainable:
            W, b = add_params(prog, layer, net.fan_in(k), scale)
            weights.append(W)
            by_layer[layer.name] = (W, layer.weight_domain, scale)
            params += [f"{layer.name}.weight", f"{layer.name}.bias"]
        wd, bd = layer.weight_domain, layer.bias_domain
        z = dense_pre_activation(prog, layer, h, W, b, (wd.lo * scale, wd.hi * scale),
                                 (bd.lo * scale, bd.hi * scale))
        h = activation(prog, layer, z)
    return h, weights, params, by_layer


def encode_train_normalised(query: TrainQuery, nonzero_eps: float = 1e-3) -> Encoded:
    """The normalised encoding (see the module docstring); check
    :func:`normalisation_check` first."""
    net, data = query.network, query.data
    prog = Program(name=program_name(query))
    out, hid = net.layers[-1], net.layers[-2]
    C = out.weight_domain.hi - out.weight_domain.lo
    h, weights, params, by_layer = scaled_hidden_layers(prog, query, C)
    N, H = h.vars.shape
    bl, bu = out.bias_domain.lo, out.bias_domain.hi
    nonzero_flat = np.zeros(0, np.int64)
    three_valued = False
    if query.nonzero_fraction:
        total = sum(w.size for w in weights) + out.size * hid.size
        pos = nonzero_choice(total, query.nonzero_fraction, query.nonzero_seed)
        flat = np.concatenate([w.reshape(-1) for w in weights])
        nonzero_flat = flat[pos[pos < len(flat)]]
        hid_start = len(flat) - weights[-1].size
        three_valued = bool(np.any((pos >= hid_start) & (pos < len(flat))))
    diff = prog.add_vars(f"{out.name}.bias_diff", (), REAL, bl - bu, bu - bl)
    a = h.vars
    sigma = np.where(np.asarray(data.y) == 0, 1.0, -1.0)[:, None]
    if not three_valued:
        # contribution of unit j: s_j a_j - (1 - s_j) a_j = 2 p_j - a_j with p_j = s_j a_j
        sign = prog.add_vars(f"{out.name}.sign", (H,), BOOL)
        p = prog.add_vars(f"{out.name}.signed", (N, H), REAL, 0.0, h.hi)
        prog.add(BoolProductBlock(f"{out.name}.sign_product", p.reshape(-1),
                                  np.broadcast_to(sign[None, :], (N, H)).reshape(-1).copy(),
                                  a.reshape(-1)))
        cols = np.concatenate([p, a, np.full((N, 1), diff)], axis=1)
        coefs = np.concatenate([np.broadcast_to(2 * sigma, (N, H)), np.broadcast_to(-sigma, (N, H)),
                                sigma], axis=1)
        sign_groups = [f"{out.name}.sign"]
    else:
        # a unit whose weights must be non-zero may contribute nothing: sign in {-1, 0, +1}
        # as two Booleans, at most one true; contribution p+_j - p-_j
        plus = prog.add_vars(f"{out.name}.positive", (H,), BOOL)
        minus = prog.add_vars(f"{out.name}.negative", (H,), BOOL)
        pp = prog.add_vars(f"{out.name}.positive_part", (N, H), REAL, 0.0, h.hi)
        pn = prog.add_vars(f"{out.name}.negative_part", (N, H), REAL, 0.0, h.hi)
        for part, flag in ((pp, plus), (pn, minus)):
            prog.add(BoolProductBlock(f"{out.name}.{'positive' if flag is plus else 'negative'}_product",
                                      part.reshape(-1),
                                      np.broadcast_to(flag[None, :], (N, H)).reshape(-1).copy(),
                                      a.reshape(-1)))
        prog.add(LinearBlock.from_dense_rows(f"{out.name}.one_sign", np.stack([plus, minus], 1),
                                             [1.0, 1.0], LE, 1.0))
        cols = np.concatenate([pp, pn, np.full((N, 1), diff)], axis=1)
        coefs = np.concatenate([np.broadcast_to(sigma, (N, H)), np.broadcast_to(-sigma, (N, H)),
                                sigma], axis=1)
        sign_groups = [f"{out.name}.positive", f"{out.name}.negative"]
    # sigma_n (sum of contributions + d) >= margin, sigma = +1 for class 0, -1 for class 1
    sense = GE if query.margin > 0 else GT
    if query.classify:
        prog.add(LinearBlock.from_dense_rows("classify", cols, coefs, sense, query.margin))
    xi = None
    if query.objective == "hinge":
        # hinge[n] + sigma_n (...) >= G: the loss depends on y0 - y1 only, which the
        # normalisation keeps, so it is exact here (a regulariser is not: see train.py)
        xi = prog.add_vars("hinge", (N,), REAL, 0.0, np.inf)
        prog.add(LinearBlock.from_dense_rows(
            "classify_hinge", np.concatenate([cols, xi[:, None]], 1),
            np.concatenate([coefs, np.ones((N, 1))], 1), GE, query.hinge_margin))
    if len(nonzero_flat):
        prog.add(NonzeroBlock("nonzero", nonzero_flat, nonzero_eps))
    if not query.nonzero_fraction and H > 1:
        # Hidden units are interchangeable (with their incoming rows): order the
        # signs, positive units first. Exact, and it spares the solver 2^H mirror
        # images; chosen non-zero weights tie units to positions, so not then.
        prog.add(LinearBlock.from_dense_rows("sign_order", np.stack([sign[:-1], sign[1:]], 1),
                                             [1.0, -1.0], GE, 0.0))
    n_params = len(params)
    params += sign_groups + [f"{out.name}.bias_diff"]
    prog.answer_groups = params
    inverse = {"kind": "normalised", "params": params[:n_params], "hidden": hid.name,
               "output": out.name, "three_valued": three_valued,
               "C": C, "w_lo": out.weight_domain.lo, "w_hi": out.weight_domain.hi,
               "b_lo": bl, "b_hi": bu}
    kind = ("a sign in {-1, 0, +1} per unit (two Booleans: units with required non-zero "
            "weights may contribute nothing)" if three_valued else "one Boolean sign per unit")
    enc = Encoded(prog, inverse,
                  f"normalised: each unit of '{hid.name}' scaled so its outgoing weight "
                  f"difference is +-{C:g}; {kind}, no products")
    # the output layer's weights are the box ends here, not unknowns: no regulariser term
    training_objective(prog, query, enc, xi, by_layer)
    return enc


def unscaled_hidden_params(inv: dict, groups: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The hidden layers' parameters of an answer whose last hidden layer was scaled
    by ``inv["C"]`` (:func:`scaled_hidden_layers`), divided back."""
    params = {k: np.asarray(groups[k], dtype=np.float64) for k in inv["params"]}
    hid, C = inv["hidden"], inv["C"]
    params[f"{hid}.weight"] = params[f"{hid}.weight"] / C
    params[f"{hid}.bias"] = params[f"{hid}.bias"] / C
    return params


def params_from_normalised(inv: dict, groups: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Parameters of the original network from a normalised answer."""
    params = unscaled_hidden_params(inv, groups)
    out = inv["output"]
    lo, hi = inv["w_lo"], inv["w_hi"]
    if inv.get("three_valued"):
        sign = ((np.asarray(groups[f"{out}.positive"], float) > 0.5).astype(float)
                - (np.asarray(groups[f"{out}.negative"], float) > 0.5))
    else:
        sign = np.where(np.asarray(groups[f"{out}.sign"], float) > 0.5, 1.0, -1.0)
    # a silent unit gets equal outgoing weights, non-zero in case they were chosen
    same = hi if hi != 0 else lo
    params[f"{out}.weight"] = np.stack([np.select([sign > 0, sign < 0], [hi, lo], same),
                                        np.select([sign > 0, sign < 0], [lo, hi], same)])
    d = float(np.asarray(groups[f"{out}.bias_diff"]))
    m = (inv["b_lo"] + inv["b_hi"]) / 2
    params[f"{out}.bias"] = np.array([m + d / 2, m - d / 2])
    return params
