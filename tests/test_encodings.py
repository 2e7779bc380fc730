"""Encodings of the training query, checked against assignments induced by real networks."""
import numpy as np
import pytest

from nncc.encodings.train import encode_train
from nncc.encodings.train_normalised import (encode_train_normalised, normalisation_check,
                                             params_from_normalised)
from nncc.encodings.train import params_from_groups
from nncc.encodings.train_relu import encode_train_direct
from nncc.ir.evaluate import violations
from nncc.passes.bool_product_linearisation import BoolProductLinearisation
from nncc.passes.reduction import apply_chain
from nncc.passes.relu_big_m import ReluBigM
from nncc.passes.strict_epsilon import StrictEpsilon
from nncc.problem.dataset import Dataset
from nncc.problem.network import DenseLayer, Network, ParamDomain
from nncc.problem.query import TrainQuery


def make_query(rng, d=3, hidden=(4,), classes=2, n=12, margin=0.0, box=(-1.0, 1.0)):
    dom = ParamDomain("real", *box)
    layers = [DenseLayer(f"h{k}", h, "relu", dom, dom) for k, h in enumerate(hidden)]
    layers.append(DenseLayer("y", classes, "identity", dom, dom))
    net = Network("net", "x", d, layers)
    X = rng.integers(0, 5, size=(n, d)).astype(float)
    params = {}
    fan = d
    for layer in layers:
        params[f"{layer.name}.weight"] = rng.uniform(box[0], box[1], size=(layer.size, fan))
        params[f"{layer.name}.bias"] = rng.uniform(box[0], box[1], size=layer.size)
        fan = layer.size
    y = net.forward(params, X).argmax(axis=1)
    data = Dataset("d", X, y, list(range(classes)))
    return TrainQuery("t", net, data, margin=margin), params


def direct_assignment(query, params, prog):
    """The full IR vector a known network induces in the direct encoding."""
    x = np.zeros(prog.n_vars)
    _, pre = query.network.forward(params, query.data.X, return_all=True)
    for g in prog.groups:
        name, part = g.name.rsplit(".", 1)
        layer = next(l for l in query.network.layers if l.name == name)
        k = query.network.layers.index(layer)
        val = {"weight": lambda: params[g.name], "bias": lambda: params[g.name],
               "pre": lambda: pre[k], "out": lambda: np.maximum(pre[k], 0)}[part]()
        x[g.offset:g.offset + g.size] = np.asarray(val).reshape(-1)
    return x


@pytest.mark.parametrize("hidden", [(), (4,), (3, 2)])
def test_direct_encoding_accepts_the_inducing_network(hidden):
    rng = np.random.default_rng(1)
    q, params = make_query(rng, hidden=hidden)
    enc = encode_train_direct(q)
    x = direct_assignment(q, params, enc.program)
    assert violations(enc.program, x) == []
    assert enc.program.logic().smt == ("QF_LRA" if not hidden else "QF_NRA")
    back = params_from_groups(enc.inverse, enc.program.group_values(x))
    for k, v in params.items():
        assert np.allclose(back[k], v)


def test_direct_encoding_rejects_a_wrong_label():
    rng = np.random.default_rng(2)
    q, params = make_query(rng)
    q.data.y = 1 - q.data.y
    enc = encode_train_direct(q)
    x = direct_assignment(q, params, enc.program)
    assert any(v.startswith("classify") for v in violations(enc.program, x))


def normalised_assignment(query, params, prog, inv):
    """Map a direct answer forward into the normalised encoding (the exactness proof)."""
    hid, out = query.network.layers[-2], query.network.layers[-1]
    C = inv["C"]
    c = params[f"{out.name}.weight"][0] - params[f"{out.name}.weight"][1]
    # the encoding orders the signs, positive units first: permute the units so
    order = np.argsort(~(c > 0), kind="stable")
    params = dict(params)
    params[f"{hid.name}.weight"] = params[f"{hid.name}.weight"][order]
    params[f"{hid.name}.bias"] = params[f"{hid.name}.bias"][order]
    params[f"{out.name}.weight"] = params[f"{out.name}.weight"][:, order]
    c = c[order]
    scaled = dict(params)
    scaled[f"{hid.name}.weight"] = params[f"{hid.name}.weight"] * np.abs(c)[:, None]
    scaled[f"{hid.name}.bias"] = params[f"{hid.name}.bias"] * np.abs(c)
    _, pre = query.network.forward(scaled, query.data.X, return_all=True)
    a = np.maximum(pre[-2], 0)
    s = (c > 0).astype(float)
    x = np.zeros(prog.n_vars)
    vals = {f"{out.name}.sign": s,
            f"{out.name}.bias_diff": params[f"{out.name}.bias"][0] - params[f"{out.name}.bias"][1],
            f"{out.name}.signed": a * s[None, :]}
    for k, layer in enumerate(query.network.layers[:-1]):
        vals[f"{layer.name}.weight"] = scaled[f"{layer.name}.weight"]
        vals[f"{layer.name}.bias"] = scaled[f"{layer.name}.bias"]
        vals[f"{layer.name}.pre"] = pre[k]
        vals[f"{layer.name}.out"] = np.maximum(pre[k], 0)
    for g in prog.groups:
        x[g.offset:g.offset + g.size] = np.asarray(vals[g.name]).reshape(-1)
    return x


@pytest.mark.parametrize("seed", range(5))
def test_normalised_encoding_maps_both_ways(seed):
    rng = np.random.default_rng(seed)
    q, params = make_query(rng, hidden=(5,), n=20)
    possible, exact, _ = normalisation_check(q)
    assert possible and exact
    enc = encode_train_normalised(q)
    x = normalised_assignment(q, params, enc.program, enc.inverse)
    assert violations(enc.program, x) == []
    assert enc.program.logic().smt == "QF_LRA"
    back = params_from_normalised(enc.inverse, enc.program.group_values(x))
    y0 = q.network.forward(params, q.data.X)
    y1 = q.network.forward(back, q.data.X)
    assert np.allclose(y1[:, 0] - y1[:, 1], y0[:, 0] - y0[:, 1])
    for k, dom in ((f"{l.name}.{p}", None) for l in q.network.layers for p in ("weight", "bias")):
        assert np.all(np.abs(back[k]) <= 1 + 1e-12)


def test_normalisation_declined_with_reasons():
    rng = np.random.default_rng(0)
    q, _ = make_query(rng, hidden=(), classes=2)
    assert normalisation_check(q)[0] is False
    q, _ = make_query(rng, hidden=(3,), classes=3)
    ok, _, why = normalisation_check(q)
    assert not ok and "two classes" in why
    q, _ = make_query(rng, hidden=(3,))
    q.normalise = "off"
    enc = encode_train(q)
    assert enc.inverse["kind"] == "direct" and "off" in enc.notes[0]
    q.normalise = "auto"
    assert encode_train(q).inverse["kind"] == "normalised"


def test_milp_passes_keep_the_normalised_answer_feasible():
    rng = np.random.default_rng(3)
    q, params = make_query(rng, hidden=(4,), n=15)
    enc = encode_train_normalised(q)
    x = normalised_assignment(q, params, enc.program, enc.inverse)
    prog, invs = apply_chain(enc.program, [StrictEpsilon(1e-9), ReluBigM(), BoolProductLinearisation()])
    assert prog.logic().milp
    # fill the phase binaries the big-M pass added: 1 where the neuron is active
    full = np.zeros(prog.n_vars)
    full[: len(x)] = x
    for g in prog.groups[len(enc.program.groups):]:
        relu = next(b for b in enc.program.blocks if getattr(b, "name", "") + ".phase" == g.name)
        z = x[relu.inp]
        unstable = (enc.program.lb[relu.inp] < 0) & (enc.program.ub[relu.inp] > 0)
        full[g.offset:g.offset + g.size] = (z[unstable] > 0).astype(float)
    assert violations(prog, full) == []
    assert not np.shares_memory(prog.lb, enc.program.lb)


def test_three_valued_sign_keeps_silent_units_with_nonzero_weights():
    """A direct answer with a unit whose outgoing weights are equal maps forward
    when that unit's incoming weights must be non-zero (sign 0)."""
    rng = np.random.default_rng(7)
    q, params = make_query(rng, hidden=(4,), n=16, margin=0.0)
    params["y.weight"][1, 2] = params["y.weight"][0, 2]  # unit 2 is silent
    q.data.y = q.network.forward(params, q.data.X).argmax(axis=1)
    q.nonzero_fraction, q.nonzero_seed = 0.5, 3
    possible, exact, _ = normalisation_check(q)
    assert possible and exact
    enc = encode_train_normalised(q)
    assert enc.inverse["three_valued"]
    prog = enc.program
    c = params["y.weight"][0] - params["y.weight"][1]
    # scale every unit by |c|, but the silent one by C (any non-zero scale will do)
    scale = np.where(c == 0, enc.inverse["C"], np.abs(c))
    scaled = dict(params, **{"h0.weight": params["h0.weight"] * scale[:, None],
                             "h0.bias": params["h0.bias"] * scale})
    _, pre = q.network.forward(scaled, q.data.X, return_all=True)
    a = np.maximum(pre[0], 0)
    vals = {"h0.weight": scaled["h0.weight"], "h0.bias": scaled["h0.bias"], "h0.pre": pre[0],
            "h0.out": a, "y.positive": (c > 0) * 1.0, "y.negative": (c < 0) * 1.0,
            "y.positive_part": a * (c > 0), "y.negative_part": a * (c < 0),
            "y.bias_diff": params["y.bias"][0] - params["y.bias"][1]}
    x = np.zeros(prog.n_vars)
    for g in prog.groups:
        x[g.offset:g.offset + g.size] = np.asarray(vals[g.name]).reshape(-1)
    assert violations(prog, x) == []
    back = params_from_normalised(enc.inverse, prog.group_values(x))
    y0, y1 = q.network.forward(params, q.data.X), q.network.forward(back, q.data.X)
    assert np.allclose(y1[:, 0] - y1[:, 1], y0[:, 0] - y0[:, 1])
    assert back["y.weight"][0, 2] == back["y.weight"][1, 2] != 0


def test_invert_chain_calls_each_pass_own_inverse():
    import numpy as np
    from nncc.passes.reduction import Reduction, invert_chain

    class Doubling(Reduction):
        name = "test_doubling"

        @classmethod
        def invert(cls, x, inverse):
            return 2 * x[: inverse["n_vars"]]

    x = np.arange(5.0)
    out = invert_chain(x, [{"pass": "relu_big_m", "n_vars": 4}, {"pass": "test_doubling",
                                                                  "n_vars": 3}])
    assert out.tolist() == [0.0, 2.0, 4.0]          # doubled, then cut by the base inverse
    assert invert_chain(x, [{"pass": "unknown", "n_vars": 2}]).tolist() == [0.0, 1.0]


def test_certification_gets_the_time_the_run_has_left():
    import time
    from nncc.pipeline.solve import _left
    t0 = time.perf_counter() - 30.0
    assert 29.0 <= _left(60.0, t0) <= 30.0
    assert _left(10.0, t0) == 1.0 and _left(None, t0) is None
