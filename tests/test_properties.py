"""Property tests on random small training queries, with the real solvers.

* SMT-LIB (z3) and MPS (highs) give the same verdict, and every solution
  passes the forward-pass check (``nncc.solve`` reports ``check_failed``
  otherwise).
* The normalised encoding gives the same verdict as the paper's direct
  (QF_NRA) encoding.
"""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nncc
from nncc.problem.dataset import Dataset
from nncc.problem.network import DenseLayer, Network, ParamDomain
from nncc.problem.query import TrainQuery

DECIDED = ("solution", "no_solution")


@st.composite
def small_queries(draw, max_samples=6, max_hidden=3):
    d = draw(st.integers(1, 3))
    h = draw(st.integers(1, max_hidden))
    n = draw(st.integers(2, max_samples))
    X = np.array(draw(st.lists(st.lists(st.integers(-2, 2), min_size=d, max_size=d),
                               min_size=n, max_size=n)), dtype=float)
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    box = draw(st.sampled_from([0.5, 1.0, 2.0]))
    margin = draw(st.sampled_from([0.1, 0.5, 1.0]))
    dom = ParamDomain("real", -box, box)
    net = Network("net", "x", d, [DenseLayer("h", h, "relu", dom, dom),
                                  DenseLayer("y", 2, "identity", dom, dom)])
    return TrainQuery("t", net, Dataset("d", X, y, [0, 1]), margin=margin)


def verdict(query, solver, limit=30.0):
    ans = nncc.solve(query, solver, time_limit=limit)
    assert ans.status != "check_failed", ans.check.problems
    if ans.status == "solution":
        assert ans.check.ok and ans.check.accuracy == 1.0
        assert ans.check.min_margin >= query.margin - 1e-6
    return ans.status


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(small_queries())
def test_smtlib_and_mps_agree(query):
    a = verdict(query, "z3")
    b = verdict(query, "highs")
    if a in DECIDED and b in DECIDED:
        assert a == b


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(small_queries(max_samples=5, max_hidden=2))
def test_normalised_and_direct_encodings_agree(query):
    query.normalise = "auto"
    a = verdict(query, "z3")
    query.normalise = "off"
    ans = nncc.solve(query, "z3", time_limit=20)
    assert ans.compilation.logic.smt == "QF_NRA"
    assert ans.status != "check_failed"
    if a in DECIDED and ans.status in DECIDED:
        assert a == ans.status


def test_kept_networks_are_read_once_and_again_when_the_file_changes(tmp_path, monkeypatch):
    import os
    from conftest import relu_net, save_relu_onnx
    from nncc.problem import property as prop_module
    monkeypatch.setattr(prop_module, "_kept", None)
    net = relu_net(np.random.default_rng(0), 2, [4], 2, name="k")
    path = tmp_path / "k.onnx"
    save_relu_onnx(net, path)
    first = prop_module.load_network(str(path))
    assert prop_module.load_network(str(path)) is not first   # not kept by default
    prop_module.keep_loaded_networks()
    kept = prop_module.load_network(str(path))
    assert prop_module.load_network(str(path)) is kept
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))   # the file changed
    again = prop_module.load_network(str(path))
    assert again is not kept and np.allclose(again.forward(np.ones((1, 2))),
                                             net.forward(np.ones((1, 2))))
