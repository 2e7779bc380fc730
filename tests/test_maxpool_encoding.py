"""MaxPool layers in the MILP and SMT encodings, against the forward pass and brute force."""
import numpy as np
import pytest

import nncc
from nncc.problem.fixed_network import Affine, FixedNetwork, MaxPool, Relu
from nncc.problem.query import EvaluateQuery, MaximizeQuery


def pooled_net(seed):
    """2 inputs -> 6 units -> ReLU -> max over pairs (one group padded) -> 2 outputs."""
    rng = np.random.default_rng(seed)
    groups = np.array([[0, 1, -1], [2, 3, 4], [5, -1, -1]])
    return FixedNetwork("pool", (2,), (2,), [
        Affine("a0", rng.normal(size=(6, 2)), rng.normal(size=6)), Relu("r0", 6),
        MaxPool("m0", 6, groups),
        Affine("a1", rng.normal(size=(2, 3)), rng.normal(size=2))])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("solver", ["highs", "z3"])
def test_maximize_through_a_maxpool_matches_a_grid(seed, solver):
    net = pooled_net(seed)
    ans = nncc.solve(MaximizeQuery("m", net, 0, [-2.0, -2.0], [2.0, 2.0]), solver, time_limit=60)
    assert ans.status == "solution" and ans.check.ok
    g = np.linspace(-2, 2, 401)
    G = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    best = net.forward(G)[:, 0].max()
    assert ans.check.value >= best - 1e-6
    assert ans.check.value <= best + 0.05  # the grid is fine: the optimum is close to a grid point


def test_evaluate_through_a_maxpool():
    net = pooled_net(7)
    X = np.random.default_rng(1).uniform(-1, 1, size=(5, 2))
    ans = nncc.solve(EvaluateQuery("e", net, X), "cbc")
    assert ans.status == "solution" and np.allclose(ans.arrays["output"], net.forward(X), atol=1e-6)
