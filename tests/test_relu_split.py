"""ReLU splitting (nncc.analysis.relu_split): bounds that hold on every node, verdicts equal to
input splitting's and the MILP's, and proofs on a real network without a solver."""
import numpy as np
import pytest

import nncc
from conftest import relu_net, sampled_threshold
from nncc.analysis import input_split, relu_split
from nncc.problem.query import AdversarialQuery


@pytest.mark.parametrize("seed", range(6))
def test_optimised_bounds_hold_at_every_point_of_each_node(seed):
    # random phases on random nets: every sampled input whose ReLUs have those phases
    # keeps each row below the node's bound, whatever alpha and beta the optimiser took
    rng = np.random.default_rng(seed)
    net = relu_net(rng, 3, [12, 10], 4)
    nt = input_split.DenseNet(net)
    C = rng.normal(size=(3, 4))
    lo, hi = -np.ones(3), np.ones(3)
    relus = [k for k, l in enumerate(nt.layers) if l[0] == "relu"]
    pre = input_split.relu_bounds(nt, lo[None], hi[None])
    N = 30
    phase = {k: rng.choice([-1, 0, 1], p=[0.08, 0.84, 0.08], size=(N, pre[k][0].shape[1])).astype(np.int8)
             for k in relus}
    nodes = relu_split._Nodes(
        phase, {k: np.repeat(pre[k][0], N, 0) for k in relus},
        {k: np.repeat(pre[k][1], N, 0) for k in relus},
        {k: rng.uniform(0, 1, size=(N, 3, pre[k][0].shape[1])) for k in relus},
        {k: rng.uniform(0, 2, size=(N, 3, pre[k][0].shape[1])) for k in relus},
        np.zeros(N, np.int64), dirty=np.full(N, relus[0]))   # later layers recomputed
    empty = relu_split._node_bounds(nt, relus, nodes, lo, hi)
    U, X, _ = relu_split._row_bounds(nt, relus, nodes, C, np.zeros(3), lo, hi, 8, 0.2, 0.2)
    x = rng.uniform(-1, 1, size=(20000, 3))
    _, outs = net.forward(x, return_all=True)
    y = outs[-1] @ C.T
    checked = 0
    for i in range(N):
        inside = np.ones(len(x), bool)
        for k in relus:
            z = outs[k - 1]
            inside &= np.all(np.where(phase[k][i] > 0, z >= 0, True)
                             & np.where(phase[k][i] < 0, z <= 0, True), axis=1)
            # the node's tightened bounds hold for its points too
            assert np.all(z[inside] >= nodes.lo[k][i] - 1e-9)
            assert np.all(z[inside] <= nodes.up[k][i] + 1e-9)
        if not inside.any():
            continue
        assert not empty[i]
        checked += 1
        assert np.all(y[inside].max(axis=0) <= U[i]), (y[inside].max(axis=0) - U[i]).max()
    assert checked >= 10


@pytest.mark.parametrize("seed", range(8))
def test_relu_splitting_never_contradicts_input_splitting(seed):
    # rows y_0 >= y_j + t around the sampled best, both sides of it: where input
    # splitting (complete on 3 inputs) proves none, ReLU splitting must prove it too;
    # where there is one, ReLU splitting must not say none, and a point it gives checks
    rng = np.random.default_rng(200 + seed)
    net = relu_net(rng, 3, [10, 10], 3)
    t = sampled_threshold(net, 3, rng, 20000, above=bool(seed % 2))
    C = np.array([[1.0, -1.0, 0.0], [1.0, 0.0, -1.0]])
    d = np.array([t, t])
    lo, hi = -np.ones(3), np.ones(3)

    def check(p):
        return bool(np.all(C @ net.forward(p[None])[0] >= d) and np.all(p >= lo)
                    and np.all(p <= hi))

    by_relu = relu_split.relu_split_verify(net, C, d, lo, hi, check=check, time_limit=5)
    by_input = input_split.split_verify(net, [(C, d, np.zeros(2, bool))], lo, hi, check=check,
                                        time_limit=30)
    assert by_input.status in ("sat", "unsat")
    if by_input.status == "unsat":
        assert by_relu.status == "unsat", by_relu
    else:
        assert by_relu.status in ("sat", "unknown"), by_relu
        if by_relu.status == "sat":
            assert check(by_relu.x)
    if seed % 2 == 0:
        assert by_input.status == "sat"


def test_a_network_without_relus_or_too_large_is_not_taken():
    from nncc.problem.fixed_network import Affine, FixedNetwork
    lin = FixedNetwork("lin", (2,), (2,), [Affine("a", np.eye(2), np.zeros(2))])
    assert not relu_split.supported(lin)
    assert not relu_split.supported(relu_net(np.random.default_rng(0), 2, [8], 2),
                                    max_entries=10)


@pytest.fixture(scope="module")
def digits_net():
    """A 64-24-24-10 ReLU network trained on scikit-learn's digits (8x8 images, 0..16
    scaled to [0, 1]), and test images it classifies correctly."""
    import warnings

    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier

    from nncc.problem.fixed_network import Affine, FixedNetwork, Relu
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = MLPClassifier((24, 24), max_iter=300, random_state=0).fit(X[:1500], y[:1500])
    layers = []
    for i, (W, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        layers.append(Affine(f"a{i}", W.T.copy(), b.copy()))
        if i < len(clf.coefs_) - 1:
            layers.append(Relu(f"r{i}", W.shape[1]))
    net = FixedNetwork("digits", (64,), (10,), layers)
    Xt, yt = X[1500:], y[1500:]
    ok = np.flatnonzero(net.forward(Xt).argmax(axis=1) == yt)[:6]
    return net, Xt[ok], yt[ok]


@pytest.mark.parametrize("eps", [0.15, 0.2])
def test_ball_proofs_on_digits_agree_with_the_milp(digits_net, eps):
    # ReLU splitting's "no adversarial in the ball" must be the MILP's verdict too, and
    # an answer the splitting met must check; "any other class" rules out each in turn
    net, X, Y = digits_net
    proofs = 0
    for x0, label in zip(X[:4], Y[:4]):
        for target in ((label + 1) % 10, None):
            q = AdversarialQuery("b", net, x0, 0.0, 1.0, target=target, margin=0.01,
                                 norm="l1", epsilon=eps)
            split = nncc.solve(q, "highs", time_limit=60)
            milp = nncc.solve(q, "highs", time_limit=60, split_budget=0.0)
            assert split.status in ("no_solution", "solution"), split.notes
            assert milp.status == split.status, (split.notes, milp.notes)
            if split.status == "no_solution":
                proofs += any("ReLU splitting proves" in n for n in split.notes)
            else:
                assert split.check.ok
                assert split.check.value == pytest.approx(milp.check.value, rel=1e-3)
    assert proofs >= 1


def _robustness_prop(x0, eps, label, classes):
    """VNN-COMP's robustness property: the epsilon ball (within [0, 1]); unsafe when
    some other class scores at least the label's."""
    from nncc.frontend.vnnlib import parse_vnnlib
    n = len(x0)
    text = "".join(f"(declare-const X_{i} Real)" for i in range(n))
    text += "".join(f"(declare-const Y_{j} Real)" for j in range(classes))
    for i, v in enumerate(x0):
        text += (f"(assert (>= X_{i} {float(max(0.0, v - eps))!r}))"
                 f"(assert (<= X_{i} {float(min(1.0, v + eps))!r}))")
    text += "(assert (or " + " ".join(f"(and (>= Y_{j} Y_{label}))" for j in range(classes)
                                      if j != label) + "))"
    return parse_vnnlib(text, "robust.vnnlib")


def test_verify_uses_relu_splitting_on_images_and_agrees_with_the_milp(digits_net):
    from nncc.pipeline.verify import verify
    net, X, Y = digits_net
    by_split = 0
    for x0, label in zip(X[:4], Y[:4]):
        for eps in (0.1, 0.2):
            prop = _robustness_prop(x0, eps, int(label), 10)
            relu = verify(None, None, net=net, prop=prop, solver="highs", time_limit=60,
                          falsify_budget=0.0)
            milp = verify(None, None, net=net, prop=prop, solver="highs", time_limit=60,
                          falsify_budget=0.0, split_budget=0.0)
            assert relu.status == milp.status and relu.status in ("sat", "unsat"), (
                relu.report(), milp.report())
            by_split += relu.how == "ReLU splitting"
            if relu.status == "sat":
                assert relu.check.ok
    assert by_split >= 2


@pytest.mark.parametrize("top", [5, 50, 1000])
def test_the_l1_ball_maximiser_is_the_lp_optimum(top):
    # the fractional knapsack (its partial sort too) against HiGHS on the same LP
    from scipy.optimize import linprog
    rng = np.random.default_rng(top)
    n = 300
    A = rng.normal(size=(12, n))
    x0 = rng.uniform(0, 1, n)
    lo, hi = np.maximum(0, x0 - 0.1), np.minimum(1, x0 + 0.1)
    for r in (0.05, 1.0, 5.0, 100.0):
        v, x = relu_split._knapsack(A, lo, hi, x0, r, top=top)
        assert np.all(x >= lo) and np.all(x <= hi)
        assert np.all(np.abs(x - x0).sum(axis=1) <= r + 1e-9)
        np.testing.assert_allclose(v, np.einsum("pi,pi->p", A, x - x0), atol=1e-9)
        for p in range(3):     # x = x0 + u - w, u, w >= 0, sum u + w <= r
            res = linprog(np.concatenate([-A[p], A[p]]), A_ub=np.ones((1, 2 * n)), b_ub=[r],
                          bounds=list(zip(np.zeros(n), hi - x0)) + list(zip(np.zeros(n), x0 - lo)))
            assert -res.fun == pytest.approx(v[p], abs=1e-7)


@pytest.mark.parametrize("seed, bump", [(1, 2.0), (1, 8.0)])
def test_relu_splitting_on_two_workers_proves_with_the_same_nodes(seed, bump):
    """Networks with many inputs get ReLU splitting; on two workers the parts are the
    frontier of the same search, and a proof bounds the nodes one process bounds."""
    from test_input_split import _prop
    from nncc.pipeline.verify import verify
    rng = np.random.default_rng(300 + seed)
    net = relu_net(rng, 40, [30, 30], 3)
    y = net.forward(rng.uniform(-1, 1, size=(5000, 40)))
    t = float(np.max(np.minimum(y[:, 0] - y[:, 1], y[:, 0] - y[:, 2]))) + bump
    prop = _prop(40, 3, -0.1, 0.1, [f"(>= Y_0 (+ Y_1 {t!r}))", f"(>= Y_0 (+ Y_2 {t!r}))"])
    one, two = (verify(None, None, net=net, prop=prop, solver="highs", time_limit=60,
                       falsify_budget=0.0, split_budget=30.0, split_workers=w) for w in (1, 2))
    assert one.status == two.status == "unsat", (one.report(), two.report())
    assert one.how == two.how == "ReLU splitting"
    assert one.split_boxes == two.split_boxes > 16
    assert two.budgets["split"]["workers"] == 2
