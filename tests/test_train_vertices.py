"""Three or more classes as a MILP (nncc/encodings/train_vertices.py): the output
weights at the ends of their box. Answers are networks of the query, re-checked by
an independent forward pass; "no solution" of the restriction is reported unknown."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nncc
from conftest import EXAMPLES, run_nncc
from nncc.problem.dataset import Dataset
from nncc.problem.network import DenseLayer, Network, ParamDomain
from nncc.problem.query import TrainQuery

IRIS = EXAMPLES / "iris.nn"


def forward(params, X, hidden=("h",), out="y"):
    h = X
    for name in hidden:
        h = np.maximum(h @ params[f"{name}.weight"].T + params[f"{name}.bias"], 0.0)
    return h @ params[f"{out}.weight"].T + params[f"{out}.bias"]


def margins(z, y):
    """Per sample: its class's output minus the best other output."""
    other = z.copy()
    other[np.arange(len(y)), y] = -np.inf
    return z[np.arange(len(y)), y] - other.max(axis=1)


def query(X, y, hidden, K, margin=0.01, box=1.0):
    dom = ParamDomain("real", -box, box)
    layers = [DenseLayer(f"h{i}", n, "relu", dom, dom) for i, n in enumerate(hidden)]
    net = Network("n", "x", X.shape[1], layers + [DenseLayer("y", K, "identity", dom, dom)])
    return TrainQuery("t", net, Dataset("d", X, y, list(range(K))), margin=margin)


@pytest.mark.parametrize("solver", ["highs", "cbc", "z3"])
def test_iris_4_8_3_answers_and_the_answer_classifies(solver):
    doc = nncc.load(IRIS)
    q = doc.queries[0]
    ans = nncc.solve(q, solver, time_limit=120)
    assert ans.status == "solution", ans.notes
    assert ans.compilation.encoded.inverse["kind"] == "vertex"
    assert ans.compilation.logic.milp or ans.compilation.logic.smt in ("QF_LRA", "QF_LIRA")
    p = ans.arrays
    # the output weights at the box ends, the rest in their boxes
    assert set(np.unique(p["y.weight"])) <= {-1.0, 1.0}
    for k in ("h.weight", "h.bias", "y.bias"):
        assert np.all(np.abs(p[k]) <= 1.0 + 1e-9), k
    m = margins(forward(p, q.data.X), np.asarray(q.data.y))
    assert m.min() >= q.margin - 1e-6 and len(m) == 30
    assert ans.check.ok and ans.check.accuracy == 1.0
    assert any("no solution' would not be a proof" in n for n in ans.notes)


def test_ten_classes():
    rng = np.random.default_rng(4)
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    idx = np.concatenate([rng.choice(np.flatnonzero(y == k), 3, replace=False) for k in range(10)])
    q = query(X[idx] / 16, y[idx], (8,), 10)
    ans = nncc.solve(q, "highs", time_limit=120)
    assert ans.status == "solution"
    z = forward(ans.arrays, q.data.X, hidden=("h0",))
    assert margins(z, y[idx]).min() >= q.margin - 1e-6


def test_no_solution_of_the_restriction_is_unknown():
    # one hidden unit, three classes along a line: the direct network
    # y = (0, 0.5, 1) relu(x) + (0.2, 0, -0.6) classifies them, but with outgoing
    # weights at +-1 two of the three lines are parallel, so one class never wins
    X = np.array([[0.0], [1.0], [2.0]])
    y = np.array([0, 1, 2])
    q = query(X, y, (1,), 3, margin=0.05)
    direct = {"h0.weight": np.array([[1.0]]), "h0.bias": np.array([0.0]),
              "y.weight": np.array([[0.0], [0.5], [1.0]]), "y.bias": np.array([0.2, 0.0, -0.6])}
    assert margins(forward(direct, X, hidden=("h0",)), y).min() >= 0.05 - 1e-12
    ans = nncc.solve(q, "highs", time_limit=60)
    assert ans.compilation.encoded.inverse["kind"] == "vertex"
    assert ans.result.status == "no_solution"     # the restriction has none ...
    assert ans.status == "unknown" and ans.verdict == "unknown"   # ... which proves nothing
    assert any("proves nothing about the query" in n for n in ans.notes)
    q.normalise = "off"   # the exact encoding finds the network
    exact = nncc.solve(q, "z3", time_limit=60)
    assert exact.compilation.logic.smt == "QF_NRA"
    assert exact.status == "solution" and exact.check.ok


def test_what_keeps_the_direct_encoding(tmp_path):
    X = np.array([[0.0], [1.0], [2.0]])
    y = np.array([0, 1, 2])
    q = query(X, y, (2,), 3)
    q.normalise = "off"
    comp = nncc.compile(q, "smtlib")
    assert comp.encoded.inverse["kind"] == "direct"
    q.normalise = "auto"
    q.objective = "hinge"
    comp = nncc.compile(q, "smtlib")
    assert comp.encoded.inverse["kind"] == "direct"
    assert any("3 classes, and an objective would be optimised" in n for n in comp.encoded.notes)
    q.objective = None
    q4 = query(X, y, (2,), 4)   # four outputs for three classes
    q4.data.classes = [0, 1, 2]
    comp = nncc.compile(q4, "smtlib")
    assert comp.encoded.inverse["kind"] == "direct"
    assert any("needs one unit per class" in n for n in comp.encoded.notes)


def test_pattern_order_only_while_its_coefficients_are_small():
    from nncc.encodings.train_vertices import MAX_ORDERED_CLASSES
    for K in (3, MAX_ORDERED_CLASSES + 1):
        X = np.arange(K, dtype=float)[:, None]
        comp = nncc.compile(query(X, np.arange(K), (3,), K), "mps")
        names = [b.name for b in comp.program.blocks]
        assert comp.encoded.inverse["kind"] == "vertex" and "not_all_upper" in names
        assert ("pattern_order" in names) == (K <= MAX_ORDERED_CLASSES)


def test_check_and_compile_say_which_encoding(tmp_path):
    r = run_nncc("check", IRIS)
    assert r.returncode == 0, r.stderr
    assert "box ends" in r.stdout and "MILP" in r.stdout
    out = tmp_path / "iris.mps"
    r = run_nncc("compile", IRIS, "--target", "mps", "-o", out)
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 0


@st.composite
def three_class_queries(draw):
    d = draw(st.integers(1, 2))
    H = draw(st.integers(1, 2))
    n = draw(st.integers(3, 5))
    X = np.array(draw(st.lists(st.lists(st.integers(-2, 2), min_size=d, max_size=d),
                               min_size=n, max_size=n)), dtype=float)
    y = np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    return query(X, y, (H,), 3, margin=draw(st.sampled_from([0.1, 0.5])))


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(three_class_queries())
def test_restriction_never_contradicts_the_exact_encoding(q):
    ans = nncc.solve(q, "highs", time_limit=30)
    assert ans.status in ("solution", "unknown"), ans.status   # never a proof of none
    if ans.status == "solution":
        m = margins(forward(ans.arrays, q.data.X, hidden=("h0",)), np.asarray(q.data.y))
        assert m.min() >= q.margin - 1e-6
    q.normalise = "off"
    exact = nncc.solve(q, "z3", time_limit=20)
    assert exact.status != "check_failed"
    if ans.status == "solution":
        assert exact.status != "no_solution"


def test_forced_inexact_normalisation_reports_no_solution_as_unknown(tmp_path):
    # chosen non-zero output weights with a box end at 0: the two-class normalisation
    # is not exact, so forcing it cannot prove that no network exists
    src = tmp_path / "f.nn"
    src.write_text("""
network n { input x[2] dense h[1] relu dense y[2] weights real in [0, 1] }
data xor { inputs [[0,0], [0,1], [1,0], [1,1]] labels [0, 1, 1, 0] }
train n on xor { classify margin 0.5  nonzero 100%  normalise on }
""")
    q = nncc.load(str(src)).queries[0]
    ans = nncc.solve(q, "highs", time_limit=30)
    assert ans.compilation.encoded.inverse["kind"] == "normalised"
    assert ans.result.status == "no_solution" and ans.status == "unknown"
    assert any("reported unknown" in n for n in ans.notes)
    q.normalise = "auto"   # exact or direct: a proof stays a proof
    exact = nncc.solve(q, "z3", time_limit=30)
    assert exact.compilation.encoded.inverse["kind"] == "direct"
    assert exact.status in ("no_solution", "unknown")
