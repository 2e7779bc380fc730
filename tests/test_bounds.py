"""Bounds on every neuron of a trained network: interval, LP and MILP (real HiGHS).

Soundness is checked against the numpy reference forward pass on points
sampled from the input box (and its corners for small inputs), with no
tolerance: the bounds are widened for rounding by construction.
"""
from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nncc.analysis.interval_bounds import NetworkBounds, interval_bounds
from nncc.analysis.lp_bounds import lp_bounds
from nncc.problem.fixed_network import Affine, FixedNetwork, MaxPool, Relu

pytest.importorskip("highspy")

def fast(n: int):
    """Hypothesis settings: reproducible, few examples, no deadline (HiGHS timing varies)."""
    return settings(derandomize=True, deadline=None, database=None, max_examples=n,
                    suppress_health_check=[HealthCheck.too_slow])


def _groups(rng, n: int) -> np.ndarray:
    """Pooling groups over n inputs: a random partition into groups of 1-3, padded with -1."""
    perm = rng.permutation(n)
    rows, i = [], 0
    while i < n:
        k = int(rng.integers(1, 4))
        rows.append(list(perm[i:i + k]) + [-1] * (3 - len(perm[i:i + k])))
        i += k
    return np.array(rows, dtype=np.int64)


def make_net(seed: int, n_in: int, widths: list[int], n_out: int = 3, pool: str = "none",
             sparse: bool = False) -> FixedNetwork:
    """Dense ReLU network with He-scaled random weights; ``pool``: "none", "after_relu"
    (MaxPool after the first Relu) or "before_relu" (MaxPool on the first Affine's output,
    then the Relu)."""
    rng = np.random.default_rng(seed)
    layers, n = [], n_in
    for d, w in enumerate(widths):
        W = rng.normal(size=(w, n)) * np.sqrt(2.0 / n)
        if sparse and d == 0:
            W[rng.random(W.shape) < 0.4] = 0.0
            W = sp.csr_matrix(W)
        layers.append(Affine(f"dense{d}", W, rng.normal(size=w) * 0.3))
        n = w
        if d == 0 and pool == "before_relu":
            g = _groups(rng, n)
            layers.append(MaxPool(f"pool{d}", n, g))
            n = g.shape[0]
        layers.append(Relu(f"relu{d}", n))
        if d == 0 and pool == "after_relu":
            g = _groups(rng, n)
            layers.append(MaxPool(f"pool{d}", n, g))
            n = g.shape[0]
    layers.append(Affine("out", rng.normal(size=(n_out, n)) * np.sqrt(2.0 / n), rng.normal(size=n_out) * 0.3))
    net = FixedNetwork("random", (n_in,), (n_out,), layers)
    net.check_shapes()
    return net


def make_box(seed: int, n_in: int, radius: float):
    rng = np.random.default_rng(seed + 1000)
    c = rng.uniform(-1, 1, n_in)
    r = radius * rng.uniform(0.2, 1.0, n_in)
    return c - r, c + r


def samples(lo, hi, n=10_000, seed=0):
    """n uniform points of the box, its centre and (for up to 8 inputs) its corners."""
    rng = np.random.default_rng(seed)
    pts = [rng.uniform(lo, hi, size=(n, lo.size)), ((lo + hi) / 2)[None]]
    if lo.size <= 8:
        corners = np.array(list(itertools.product([0, 1], repeat=lo.size)), dtype=bool)
        pts.append(np.where(corners, hi, lo))
    return np.vstack(pts)


def assert_sound(net: FixedNetwork, b: NetworkBounds, X: np.ndarray) -> None:
    _, outs = net.forward(X, return_all=True)
    for k, (o, l, h) in enumerate(zip(outs, b.lo, b.hi)):
        assert np.all(o >= l), f"layer {k} ({b.layer_names[k]}): below lo by {np.max(l - o)}"
        assert np.all(o <= h), f"layer {k} ({b.layer_names[k]}): above hi by {np.max(o - h)}"


def assert_inside(inner: NetworkBounds, outer: NetworkBounds) -> None:
    for k in range(len(inner.lo)):
        assert np.all(inner.lo[k] >= outer.lo[k]), k
        assert np.all(inner.hi[k] <= outer.hi[k]), k


nets = st.fixed_dictionaries({
    "seed": st.integers(0, 10_000),
    "n_in": st.integers(2, 8),
    "widths": st.lists(st.integers(5, 20), min_size=1, max_size=3),
    "pool": st.sampled_from(["none", "after_relu", "before_relu"]),
    "sparse": st.booleans(),
    "radius": st.sampled_from([0.05, 0.3, 1.0]),
})


@fast(30)
@given(nets)
def test_interval_bounds_contain_every_sampled_forward_pass(p):
    net = make_net(p["seed"], p["n_in"], p["widths"], pool=p["pool"], sparse=p["sparse"])
    lo, hi = make_box(p["seed"], p["n_in"], p["radius"])
    b = interval_bounds(net, lo, hi)
    assert len(b.lo) == len(net.layers)
    assert_sound(net, b, samples(lo, hi))


@fast(12)
@given(nets)
def test_lp_bounds_are_sound_and_inside_interval_bounds(p):
    net = make_net(p["seed"], p["n_in"], p["widths"], pool=p["pool"], sparse=p["sparse"])
    lo, hi = make_box(p["seed"], p["n_in"], p["radius"])
    ib = interval_bounds(net, lo, hi)
    lb = lp_bounds(net, lo, hi, time_budget=5.0)
    assert lb.method == "lp"
    assert not lb.stats["budget_exhausted"] and lb.stats["neurons_left"] == 0
    assert_inside(lb, ib)
    assert_sound(net, lb, samples(lo, hi))


@fast(5)
@given(nets.filter(lambda p: len(p["widths"]) >= 2))
def test_milp_bounds_are_sound_and_inside_lp_bounds(p):
    net = make_net(p["seed"], p["n_in"], p["widths"][:2], pool=p["pool"], sparse=p["sparse"])
    lo, hi = make_box(p["seed"], p["n_in"], p["radius"])
    lb = lp_bounds(net, lo, hi, time_budget=5.0)
    mb = lp_bounds(net, lo, hi, time_budget=5.0, method="milp", neuron_time_limit=0.5)
    assert mb.method == "milp"
    assert_inside(mb, lb)
    assert_sound(net, mb, samples(lo, hi))


def test_lp_is_strictly_tighter_than_interval_on_a_three_layer_network():
    net = make_net(7, 4, [16, 16, 16])
    lo, hi = make_box(7, 4, 1.0)
    ib = interval_bounds(net, lo, hi)
    lb = lp_bounds(net, lo, hi, time_budget=10.0)
    assert lb.stats["neurons_tightened"] > 0
    gain = [np.max((ib.hi[k] - ib.lo[k]) - (lb.hi[k] - lb.lo[k])) for k in range(len(net.layers))]
    assert max(gain) > 1e-3
    assert lb.mean_pre_relu_width() < ib.mean_pre_relu_width()
    assert lb.stable_counts()["unstable"] <= ib.stable_counts()["unstable"]
    assert_sound(net, lb, samples(lo, hi))


def test_milp_is_strictly_tighter_than_lp_somewhere():
    # small enough that every MILP finishes well inside the budget (< 1 s in all)
    net = make_net(7, 4, [10, 10])
    lo, hi = make_box(7, 4, 1.0)
    lb = lp_bounds(net, lo, hi, time_budget=30.0)
    mb = lp_bounds(net, lo, hi, time_budget=30.0, method="milp", neuron_time_limit=5.0)
    assert_inside(mb, lb)
    assert mb.stats["milp_neurons_tightened"] > 0
    assert mb.mean_pre_relu_width() < lb.mean_pre_relu_width()
    assert np.mean(mb.hi[-1] - mb.lo[-1]) < np.mean(lb.hi[-1] - lb.lo[-1])
    assert_sound(net, mb, samples(lo, hi))


@pytest.mark.parametrize("pool", ["none", "after_relu", "before_relu"])
def test_stable_counts_agree_with_the_bounds(pool):
    net = make_net(3, 6, [20, 12], pool=pool)
    lo, hi = make_box(3, 6, 0.3)
    for b in (interval_bounds(net, lo, hi), lp_bounds(net, lo, hi, time_budget=5.0)):
        counts = b.stable_counts()
        assert sum(counts.values()) == net.relu_count()
        total = {"active": 0, "inactive": 0, "unstable": 0}
        for k in b.relu_layers():
            z_lo, z_hi = b.pre_relu(k)
            active, inactive = b.stable_masks(k)
            assert np.all(z_hi[inactive] <= 0) and np.all(z_lo[active] >= 0)
            unstable = ~active & ~inactive
            assert np.all((z_lo[unstable] < 0) & (z_hi[unstable] > 0))
            total["active"] += int(active.sum())
            total["inactive"] += int(inactive.sum())
            total["unstable"] += int(unstable.sum())
            # the Relu output bounds follow from its input bounds
            assert np.array_equal(b.lo[k], np.maximum(z_lo, 0)) and np.array_equal(b.hi[k], np.maximum(z_hi, 0))
        assert total == counts
        # a neuron called inactive really is off on every sample, active really on
        X = samples(lo, hi, n=2000)
        _, outs = net.forward(X, return_all=True)
        for k in b.relu_layers():
            z = outs[k - 1]
            active, inactive = b.stable_masks(k)
            assert np.all(z[:, inactive] <= 0) and np.all(z[:, active] >= 0)


@pytest.mark.parametrize("pool", ["none", "after_relu", "before_relu"])
def test_a_point_box_gives_the_forward_pass(pool):
    net = make_net(11, 5, [12, 10], pool=pool, sparse=True)
    x = np.random.default_rng(0).uniform(-1, 1, 5)
    _, outs = net.forward(x[None], return_all=True)
    for b in (interval_bounds(net, x, x), lp_bounds(net, x, x, time_budget=5.0)):
        for k, o in enumerate(outs):
            np.testing.assert_allclose(b.lo[k], o[0], rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(b.hi[k], o[0], rtol=1e-12, atol=1e-12)
            assert np.all(b.lo[k] <= o[0]) and np.all(o[0] <= b.hi[k])
        assert b.stable_counts()["unstable"] == 0
    assert lp_bounds(net, x, x).stats["solves"] == 0  # nothing unstable, nothing to solve


def test_sparse_and_dense_weights_give_the_same_bounds():
    dense = make_net(5, 6, [15, 9])
    sparse = FixedNetwork(dense.name, dense.input_shape, dense.output_shape,
                          [Affine(l.name, sp.csr_matrix(l.W), l.b) if isinstance(l, Affine) else l
                           for l in dense.layers])
    lo, hi = make_box(5, 6, 0.5)
    a, b = interval_bounds(dense, lo, hi), interval_bounds(sparse, lo, hi)
    for k in range(len(dense.layers)):
        np.testing.assert_allclose(a.lo[k], b.lo[k], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(a.hi[k], b.hi[k], rtol=1e-12, atol=1e-12)
    c, d = lp_bounds(dense, lo, hi), lp_bounds(sparse, lo, hi)
    for k in range(len(dense.layers)):
        np.testing.assert_allclose(c.lo[k], d.lo[k], rtol=1e-6, atol=1e-6)


def test_interval_arithmetic_by_hand():
    W = np.array([[1.0, -2.0], [0.5, 0.0], [-1.0, -1.0]])
    net = FixedNetwork("hand", (2,), (2,), [
        Affine("a", W, np.array([0.0, 1.0, 0.5])),
        Relu("r", 3),
        MaxPool("p", 3, np.array([[0, 2], [1, -1]])),
    ])
    b = interval_bounds(net, np.array([-1.0, 0.0]), np.array([1.0, 2.0]))
    # y0 = x0 - 2 x1 in [-5, 1]; y1 = 0.5 x0 + 1 in [0.5, 1.5]; y2 = -x0 - x1 + 0.5 in [-2.5, 1.5]
    np.testing.assert_allclose(b.lo[0], [-5, 0.5, -2.5], atol=1e-12)
    np.testing.assert_allclose(b.hi[0], [1, 1.5, 1.5], atol=1e-12)
    np.testing.assert_allclose(b.lo[1], [0, 0.5, 0], atol=1e-12)
    np.testing.assert_allclose(b.hi[2], [1.5, 1.5], atol=1e-12)
    np.testing.assert_allclose(b.lo[2], [0, 0.5], atol=1e-12)
    assert b.stable_counts() == {"active": 1, "inactive": 0, "unstable": 2}
    lo, hi = b.pre_relu(1)
    assert lo is b.lo[0] and hi is b.hi[0]
    with pytest.raises(ValueError):
        b.pre_relu(0)
    doc = json.loads(json.dumps(b.to_json()))
    assert doc["method"] == "interval" and [l["kind"] for l in doc["layers"]] == ["affine", "relu", "maxpool"]
    assert doc["stable"] == b.stable_counts()


def test_no_budget_keeps_the_starting_bounds_and_says_so():
    """LP tightening starts from the back-substitution bounds: with no time it keeps them."""
    from nncc.analysis.symbolic_bounds import symbolic_bounds
    net = make_net(7, 4, [16, 16, 16])
    lo, hi = make_box(7, 4, 1.0)
    ib = symbolic_bounds(net, lo, hi)
    lb = lp_bounds(net, lo, hi, time_budget=0.0)
    assert lb.stats["budget_exhausted"] and lb.stats["neurons_left"] > 0
    assert lb.stats["neurons_solved"] == 0
    for k in range(len(net.layers)):
        np.testing.assert_array_equal(lb.lo[k], ib.lo[k])
        np.testing.assert_array_equal(lb.hi[k], ib.hi[k])


def test_progress_is_called_per_layer():
    net = make_net(2, 3, [8, 8])
    lo, hi = make_box(2, 3, 1.0)
    lines = []
    lp_bounds(net, lo, hi, progress=lines.append)
    assert len(lines) == len(net.layers) and all("lp bounds: layer" in s for s in lines)


def test_bad_boxes_are_refused():
    net = make_net(2, 3, [8])
    with pytest.raises(ValueError, match="empty"):
        interval_bounds(net, np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="finite"):
        interval_bounds(net, np.full(3, -np.inf), np.zeros(3))
    with pytest.raises(ValueError, match="values"):
        interval_bounds(net, np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match="method"):
        lp_bounds(net, np.zeros(3), np.ones(3), method="sdp")
