"""Back-substitution bounds: sound (every sampled input inside), never looser than
intervals, and their proofs that a class is out of reach agree with the MILP."""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nncc
from conftest import relu_net
from nncc.encodings.adversarial import encode_adversarial
from nncc.analysis.interval_bounds import interval_bounds
from nncc.analysis.symbolic_bounds import symbolic_bounds
from nncc.problem.fixed_network import Affine, FixedNetwork, MaxPool, Relu
from nncc.problem.query import AdversarialQuery


def net_of(rng, n, hidden, classes):
    return relu_net(rng, n, hidden, classes, 0.3)


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.floats(0.01, 1.0), st.booleans())
def test_symbolic_bounds_are_sound_and_tighter(seed, width, with_ball):
    rng = np.random.default_rng(seed)
    net = net_of(rng, 5, (12, 12, 12), 3)
    x0 = rng.uniform(-1, 1, size=5)
    lo, hi = x0 - width, x0 + width
    ball = (x0, 1.5 * width) if with_ball else None
    ib = interval_bounds(net, lo, hi, ball)
    sb = symbolic_bounds(net, lo, hi, ball)
    assert sb.method == "symbolic"
    for k in range(len(net.layers)):
        assert np.all(sb.lo[k] >= ib.lo[k]) and np.all(sb.hi[k] <= ib.hi[k])
    P = rng.uniform(lo, hi, size=(4000, 5))
    P = np.vstack([P, lo, hi, x0[None]])
    if ball is not None:
        d = np.abs(P - x0).sum(axis=1)
        P = x0 + (P - x0) * np.minimum(1.0, ball[1] / np.maximum(d, 1e-300))[:, None]
    _, outs = net.forward(P, return_all=True)
    assert sb.contains(outs)


def test_symbolic_bounds_stabilise_more_relus_than_intervals():
    rng = np.random.default_rng(0)
    net = net_of(rng, 30, (40, 40), 5)
    x0 = rng.uniform(0, 1, size=30)
    ib = interval_bounds(net, x0 - 0.05, x0 + 0.05)
    sb = symbolic_bounds(net, x0 - 0.05, x0 + 0.05)
    assert sb.stable_counts()["unstable"] < ib.stable_counts()["unstable"]


def test_maxpool_networks_keep_interval_bounds():
    rng = np.random.default_rng(1)
    net = FixedNetwork("p", (4,), (2,), [Affine("a", rng.normal(size=(6, 4)), np.zeros(6)), Relu("r", 6),
                                         MaxPool("m", 6, np.arange(6).reshape(3, 2)),
                                         Affine("b", rng.normal(size=(2, 3)), np.zeros(2))])
    lo, hi = -np.ones(4), np.ones(4)
    sb = symbolic_bounds(net, lo, hi)
    ib = interval_bounds(net, lo, hi)
    assert sb.method == "interval"
    for a, b in zip(sb.hi, ib.hi):
        np.testing.assert_array_equal(a, b)


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.sampled_from([0.02, 0.1, 0.3]), st.booleans())
def test_a_proof_from_the_bounds_agrees_with_the_milp(seed, eps, targeted):
    rng = np.random.default_rng(seed)
    net = net_of(rng, 8, (10, 10), 4)
    x0 = rng.uniform(0, 1, size=8)
    label = int(np.argmax(net.forward(x0[None])[0]))
    target = (label + 1 + seed % 3) % 4 if targeted else None
    q = AdversarialQuery("a", net, x0, 0.0, 1.0, target=target, margin=1e-3, norm="l1", epsilon=eps)
    enc = encode_adversarial(q)
    milp = nncc.solve(q, "highs", time_limit=60, bounds="interval", start=False)
    if enc.proof is not None:
        assert milp.status == "no_solution"  # the MILP, from looser bounds, agrees
        fast = nncc.solve(q, "highs", time_limit=60)
        assert fast.status == "no_solution" and fast.result.solver == "bounds"
        assert "solve" not in fast.seconds  # no solver ran
    else:
        assert milp.status in ("solution", "no_solution")


def test_proofs_happen():
    """A ball too small to change the class is proven empty by the bounds alone."""
    rng = np.random.default_rng(4)
    net = net_of(rng, 8, (10, 10), 4)
    x0 = rng.uniform(0, 1, size=8)
    label = int(np.argmax(net.forward(x0[None])[0]))
    q = AdversarialQuery("a", net, x0, 0.0, 1.0, norm="l1", epsilon=1e-4)
    ans = nncc.solve(q, "highs")
    assert ans.status == "no_solution" and ans.result.solver == "bounds"
    assert any(f"beat class {label}" in n for n in ans.notes)
