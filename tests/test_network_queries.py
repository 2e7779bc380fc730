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
