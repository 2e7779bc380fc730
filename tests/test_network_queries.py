"""Evaluate and maximize on trained networks, with the real solvers, checked by the forward pass."""
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import nncc
from nncc.problem.fixed_network import Affine, FixedNetwork, Relu
from nncc.problem.query import EvaluateQuery, MaximizeQuery

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
needs_fixtures = pytest.mark.skipif(not FIXTURES.exists(),
                                    reason="../shared/fixtures is absent (fresh clone)")


def omlt_code_network():
    """OMLT's network defined in code: h = [relu(x0), relu(-x0)], y = [h0 + 5 h1, h1]."""
    return FixedNetwork("omlt_code", (1,), (2,), [
        Affine("a0", np.array([[1.0], [-1.0]]), np.zeros(2)), Relu("r0", 2),
        Affine("a1", sp.csr_matrix(np.array([[1.0, 5.0], [0.0, 1.0]])), np.zeros(2))])


@pytest.mark.parametrize("solver", ["highs", "cbc", "z3"])
def test_evaluate_reproduces_omlt_reference_points(solver):
    ans = nncc.solve(EvaluateQuery("e", omlt_code_network(), np.array([[-2.0], [1.0]])), solver)
    assert ans.status == "solution" and ans.check.ok
    assert np.allclose(ans.arrays["output"], [[10, 2], [1, 0]], atol=1e-6)


@pytest.mark.parametrize("solver", ["highs", "cbc", "z3"])
def test_maximize_over_a_box(solver):
    net = omlt_code_network()
    ans = nncc.solve(MaximizeQuery("m", net, 0, [-10.0], [10.0]), solver)
    assert ans.status == "solution" and ans.check.ok
    assert ans.check.value == pytest.approx(50.0, abs=1e-6)
    assert ans.arrays["input"][0] == pytest.approx(-10.0, abs=1e-6)
    ans = nncc.solve(MaximizeQuery("m", net, 1, [-10.0], [10.0], minimize=True), solver)
    assert ans.check.value == pytest.approx(0.0, abs=1e-6)


def test_cvc5_is_refused_for_an_objective():
    from nncc.errors import TargetError
    with pytest.raises(TargetError, match="does not optimise"):
        nncc.solve(MaximizeQuery("m", omlt_code_network(), 0, [-1.0], [1.0]), "cvc5")


@needs_fixtures
@pytest.mark.parametrize("lo,hi,minimize,expected", [
    (-4, 5, False, 4.869003439085208), (-4, 5, True, -0.6553645730018616),
    (-1, 1, False, 0.9412422840198253), (-1, 1, True, -0.6553645730018616)])
@pytest.mark.parametrize("solver", ["highs", "cbc", "z3"])
def test_omlt_keras_relu_extrema(solver, lo, hi, minimize, expected):
    """The exact extrema OMLT's tests establish for keras_linear_131_relu.onnx."""
    from nncc.problem.onnx_import import load_onnx
    net = load_onnx(str(FIXTURES / "omlt" / "keras_linear_131_relu.onnx"))
    ans = nncc.solve(MaximizeQuery("m", net, 0, [lo], [hi], minimize=minimize), solver)
    assert ans.status == "solution" and ans.check.ok
    assert ans.check.value == pytest.approx(expected, rel=1e-7, abs=1e-7)
    if ans.result.objective is not None:  # the MILP's own objective, sign restored
        assert ans.result.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)


@needs_fixtures
@pytest.mark.parametrize("name", ["test_nano.onnx", "test_tiny.onnx", "test_small.onnx",
                                  "test_sat.onnx"])
def test_evaluate_vnncomp_networks_against_onnxruntime(name):
    import onnxruntime as ort
    from nncc.problem.onnx_import import load_onnx
    path = str(FIXTURES / "vnncomp2021_test" / name)
    net = load_onnx(path)
    X = np.random.default_rng(0).uniform(-1, 1, size=(3, net.n_inputs))
    ans = nncc.solve(EvaluateQuery("e", net, X), "highs")
    assert ans.status == "solution" and ans.check.ok
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    shape = [1] + list(net.input_shape) if len(inp.shape) > len(net.input_shape) else list(net.input_shape)
    ref = np.stack([sess.run(None, {inp.name: x.astype(np.float32).reshape(shape)})[0].reshape(-1)
                    for x in X])
    assert np.allclose(ans.arrays["output"], ref, rtol=1e-4, atol=1e-4)
    # the fixed inputs make every ReLU stable: no binary variable in the MILP
    comp = nncc.lower(EvaluateQuery("e", net, X), "mps")
    assert comp.program.var_counts()["bool"] == 0


def test_onnx_networks_are_rechecked_under_onnxruntime():
    """The check runs the ONNX file itself: a network that differs from its file is caught."""
    from conftest import EXAMPLES
    from nncc.problem.onnx_import import load_onnx
    from nncc.checks.check_network import onnxruntime_problems
    path = str(EXAMPLES / "xor_net.onnx")
    net = load_onnx(path)
    X = np.array([[0.0, 1.0], [0.3, 0.4]])
    assert onnxruntime_problems(net, X, net.forward(X)) == []
    net.layers[-1].b = net.layers[-1].b + 0.5  # no longer the function in the file
    assert "onnxruntime" in onnxruntime_problems(net, X, net.forward(X))[0]
    ans = nncc.solve(EvaluateQuery("e", net, X), "highs")
    assert ans.status == "check_failed"


@pytest.mark.parametrize("solver", ["highs", "z3"])
def test_maximize_with_the_class_winning(solver):
    """y = [h0 + 5 h1, h1] (h0 = relu(x), h1 = relu(-x)), x in [-10, 10]: output 0 is largest
    at x = -10 (50, beating 10 by 40); asking it to be 6 times output 1 leaves only x >= 0,
    where it is x: the maximum becomes 10. Output 1 never wins: proven by the bounds."""
    net = omlt_code_network()
    ans = nncc.solve(MaximizeQuery("m", net, 0, [-10.0], [10.0], wins=True, ratio=1.2), solver)
    assert ans.status == "solution" and ans.check.ok
    assert ans.check.value == pytest.approx(50.0, abs=1e-6)
    ans = nncc.solve(MaximizeQuery("m", net, 0, [-10.0], [10.0], wins=True, ratio=6.0), solver)
    assert ans.status == "solution" and ans.check.ok
    assert ans.check.value == pytest.approx(10.0, abs=1e-5)
    assert ans.arrays["input"][0] == pytest.approx(10.0, abs=1e-5)
    none = nncc.solve(MaximizeQuery("m", net, 1, [-10.0], [10.0], wins=True), solver)
    assert none.status == "no_solution" and none.result.solver == "bounds"
    # the solver agrees when it is asked (interval bounds prove nothing here)
    asked = nncc.solve(MaximizeQuery("m", net, 1, [-10.0], [10.0], wins=True), solver,
                       bounds="interval")
    assert asked.status == "no_solution"


def test_maximize_with_the_class_winning_certified():
    net = omlt_code_network()
    ans = nncc.solve(MaximizeQuery("m", net, 0, [-10.0], [10.0], wins=True, ratio=6.0), "highs",
                     certify="cvc5")
    assert ans.status == "solution" and ans.certificate.ok, ans.certificate.problems
    assert abs(float(ans.certificate.value) - 10.0) <= 1e-6 * 10 + 1e-9 + 1e-9  # the slack


def _random_net(seed: int, n_in: int = 4, hidden: int = 12, classes: int = 3, shape=None):
    rng = np.random.default_rng(seed)
    return FixedNetwork(f"r{seed}", shape or (n_in,), (classes,), [
        Affine("a0", rng.normal(size=(hidden, n_in)), rng.normal(size=hidden)), Relu("r0", hidden),
        Affine("a1", rng.normal(size=(hidden, hidden)), rng.normal(size=hidden)),
        Relu("r1", hidden), Affine("a2", rng.normal(size=(classes, hidden)),
                                    rng.normal(size=classes))])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("minimize,wins", [(False, False), (False, True), (True, False)])
def test_maximize_start_never_passes_the_optimum_and_the_answer_never_falls_below_it(
        seed, minimize, wins):
    """The start is a checked point of the box (its class winning when asked): its value
    never passes the proven optimum; with the start as the cutoff the answer is the
    optimum, never worse than the start, and the bound beside it holds."""
    from nncc.analysis.maximize_start import find_maximize_start
    net = _random_net(seed)
    lo, hi = -np.ones(4), np.ones(4)
    k = seed % 3
    q = MaximizeQuery("m", net, k, lo, hi, minimize=minimize, wins=wins, ratio=None)
    exact = nncc.solve(q, "highs", start=False, time_limit=60)
    start = find_maximize_start(q, lo, hi, budget=2.0)
    if exact.status == "no_solution":          # the class cannot win in the box
        assert start is None
        return
    assert exact.status == "solution" and exact.check.ok, exact.notes
    best = exact.check.value
    tol = 1e-6 * (1 + abs(best))
    if start is not None:
        y = net.forward(start.x[None])[0]
        assert np.all(start.x >= lo) and np.all(start.x <= hi)
        assert y[k] == pytest.approx(start.value, abs=1e-9)
        assert (start.value >= best - tol) if minimize else (start.value <= best + tol)
        if wins:
            assert np.all(y[k] - np.delete(y, k) >= q.margin)
    ans = nncc.solve(q, "highs", time_limit=60)
    assert ans.status == "solution" and ans.check.ok, ans.notes
    if ans.how == "relu splitting":      # proven without a solver, to a relative 1e-4
        assert ans.check.value == pytest.approx(best, rel=1.01e-4, abs=tol)
        assert ans.result.optimal and "split" in ans.seconds
    else:
        assert ans.check.value == pytest.approx(best, abs=tol)
    if start is not None:
        assert "start" in ans.seconds
        assert (ans.check.value <= start.value + tol) if minimize else (ans.check.value >= start.value - tol)
    bound = ans.result.bound
    assert bound is not None and ans.report()["bound"] == bound
    assert (bound <= best + tol) if minimize else (bound >= best - tol)   # a bound, right side


def test_the_bound_beside_a_maximum_comes_from_the_neuron_bounds_when_the_solver_gives_none():
    """z3 reports no bound: the symbolic bounds' one is reported, and it holds."""
    q = MaximizeQuery("m", omlt_code_network(), 0, [-10.0], [10.0])
    ans = nncc.solve(q, "z3", time_limit=60, start=False)   # no start: z3 decides
    assert ans.status == "solution" and ans.check.ok and ans.check.value == pytest.approx(50.0)
    assert ans.result.bound is not None and ans.result.bound >= 50.0 - 1e-9
    assert any("symbolic bounds" in n and "at most" in n for n in ans.notes), ans.notes


def test_maximize_answer_as_png(tmp_path):
    """A maximise query on an image-shaped input writes the input found as a PNG."""
    import struct
    net = _random_net(2, n_in=16, shape=(1, 4, 4))
    ans = nncc.solve(MaximizeQuery("m", net, 1, np.zeros(16), np.ones(16)), "highs")
    assert ans.status == "solution" and ans.check.ok
    assert ans.save_png(str(tmp_path / "m.png")) is None   # labelled, by matplotlib
    from matplotlib import image
    img = image.imread(str(tmp_path / "m.png"))
    assert img.shape[0] > 100 and float(img[..., :3].std()) > 0.01
    npz = ans.npz_arrays()
    assert npz["value"] == pytest.approx(ans.check.value) and int(npz["output_index"]) == 1
    # without matplotlib: the bare panel, and a note that says the labels are missing
    import sys
    saved = sys.modules.get("matplotlib")
    sys.modules["matplotlib"] = None
    try:
        note = ans.save_png(str(tmp_path / "bare.png"))
    finally:
        sys.modules["matplotlib"] = saved
    assert "matplotlib is not installed" in note
    data = (tmp_path / "bare.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (16, 16)    # 4 x 4 pixels, drawn 4 times larger
