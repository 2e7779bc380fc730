"""ONNX graphs with several inputs and outputs, and hidden tensors asked for as outputs:
the flat input is the graph inputs concatenated, the flat output the asked tensors
concatenated; the forward pass against onnxruntime, and verify on the flat vectors."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from conftest import run_nncc  # noqa: E402
from nncc.errors import InputError  # noqa: E402
from nncc.frontend.vnnlib import parse_vnnlib  # noqa: E402
from nncc.problem.onnx_import import load_onnx  # noqa: E402
from nncc.checks.check_network import onnx_outputs  # noqa: E402
from nncc.checks.counterexample import check_counterexample  # noqa: E402
from nncc.pipeline.verify import verify  # noqa: E402


def _f(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


def _save(tmp_path, fname, nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, "g",
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
                          initializer=list(inits))
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    p = tmp_path / fname
    onnx.save(model, str(p))
    return p


def _two_inputs(tmp_path):
    """Y = relu(X1 - X2), X1 and X2 of shape [1]."""
    nodes = [helper.make_node("Sub", ["X1", "X2"], ["d"]),
             helper.make_node("Relu", ["d"], ["Y"])]
    return _save(tmp_path, "two.onnx", nodes, [("X1", [1]), ("X2", [1])], [("Y", [1])])


def _hidden(tmp_path):
    """x [N, 3] -> Gemm -> h [N, 4] -> Relu -> r -> Gemm -> z [N, 2] -> Softmax -> y;
    a dead Sigmoid branch on r."""
    rng = np.random.default_rng(5)
    nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"]),
             helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Sigmoid", ["r"], ["dead"]),
             helper.make_node("Gemm", ["r", "W2", "b2"], ["z"]),
             helper.make_node("Softmax", ["z"], ["y"], axis=1)]
    inits = [_f("W1", rng.normal(size=(3, 4))), _f("b1", rng.normal(size=4) * 0.3),
             _f("W2", rng.normal(size=(4, 2))), _f("b2", [0.1, -0.2])]
    return _save(tmp_path, "hidden.onnx", nodes, [("x", ["N", 3])], [("y", ["N", 2])], inits)


def _ort_matches(net, n=20, seed=0, lo=-1.0, hi=1.0):
    X = np.random.default_rng(seed).uniform(lo, hi, (n, net.n_inputs))
    ours, ref = net.forward(X), onnx_outputs(net, X)
    assert ours.shape == ref.shape == (n, net.n_outputs)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)
    return X, ours


def test_two_graph_inputs_concatenated_in_graph_order(tmp_path):
    p = _two_inputs(tmp_path)
    net = load_onnx(str(p))
    assert net.input_parts == [("X1", (1,)), ("X2", (1,))] and net.input_shape == (2,)
    assert net.output_parts == [("Y", (1,))] and net.output_shape == (1,)
    X, y = _ort_matches(net)
    np.testing.assert_allclose(y[:, 0], np.maximum(X[:, 0] - X[:, 1], 0))
    swapped = load_onnx(str(p), inputs=["X2", "X1"])
    X, y = _ort_matches(swapped)
    np.testing.assert_allclose(y[:, 0], np.maximum(X[:, 1] - X[:, 0], 0))


PROP2 = """(declare-const X_0 Real)
(declare-const X_1 Real)
(declare-const Y_0 Real)
(assert (>= X_0 0.0))
(assert (<= X_0 1.0))
(assert (>= X_1 0.25))
(assert (<= X_1 1.0))
(assert (>= Y_0 {t}))
"""


@pytest.mark.parametrize("t,verdict", [(0.5, "sat"), (0.8, "unsat")])
@pytest.mark.parametrize("falsify", [None, 0.0])
def test_verify_over_the_concatenated_inputs(tmp_path, t, verdict, falsify):
    p = _two_inputs(tmp_path)
    net = load_onnx(str(p))
    prop = parse_vnnlib(PROP2.format(t=t), "p.vnnlib")
    v = verify(str(p), None, prop=prop, time_limit=60, falsify_budget=falsify)
    assert v.status == verdict, v.report()
    if verdict == "sat":
        x = v.check.x
        assert x[0] - x[1] >= t and v.check.y_ort is not None
        assert check_counterexample(net, prop, x).ok


def test_cli_on_a_two_input_model(tmp_path):
    p = _two_inputs(tmp_path)
    for t, code, word in ((0.5, 0, "sat"), (0.8, 1, "unsat")):
        q = tmp_path / f"p{t}.vnnlib"
        q.write_text(PROP2.format(t=t))
        r = run_nncc("verify", p, q, "--time-limit", "60", "--falsify-time", "0")
        assert r.returncode == code and r.stdout.strip() == word, r.stderr


def test_an_input_not_asked_for(tmp_path):
    p = _two_inputs(tmp_path)
    with pytest.raises(InputError, match="depend on the graph input 'X2', which is not among"):
        load_onnx(str(p), inputs=["X1"])
    net = load_onnx(str(p), inputs=["X1"], outputs=["X1"])  # X2 unread: zeros for onnxruntime
    _ort_matches(net)
    with pytest.raises(InputError, match="no graph input 'X3'"):
        load_onnx(str(p), inputs=["X1", "X3"])
    with pytest.raises(InputError, match="asked for twice"):
        load_onnx(str(p), inputs=["X1", "X1"])


def test_hidden_tensors_as_outputs(tmp_path):
    p = _hidden(tmp_path)
    net = load_onnx(str(p), outputs=["h"])    # the Softmax and the dead Sigmoid are not read
    assert net.output_parts == [("h", (4,))] and not net.notes and net.relu_count() == 0
    _ort_matches(net)
    net = load_onnx(str(p), outputs=["z", "h", "r"])
    assert [n for n, _ in net.output_parts] == ["z", "h", "r"] and net.output_shape == (10,)
    X, y = _ort_matches(net)
    np.testing.assert_allclose(y[:, 6:], np.maximum(y[:, 2:6], 0), atol=1e-12)
    with pytest.raises(InputError, match="no tensor 'nope'"):
        load_onnx(str(p), outputs=["nope"])


def test_the_final_softmax_with_several_outputs(tmp_path):
    p = _hidden(tmp_path)
    net = load_onnx(str(p))                   # the one graph output: the Softmax is dropped
    assert net.output_parts == [("y", (2,))] and "Softmax" in net.notes[0]
    with pytest.raises(InputError, match="a final Softmax is dropped only when it gives the "
                                         "network's only output"):
        load_onnx(str(p), outputs=["h", "y"])
    with pytest.raises(InputError, match="Sigmoid"):
        load_onnx(str(p), outputs=["dead"])


def test_two_graph_outputs_by_default(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["a"]),
             helper.make_node("Neg", ["x"], ["b"]),
             helper.make_node("Add", ["a", "b"], ["c"])]
    p = _save(tmp_path, "two_out.onnx", nodes, [("x", [1, 3])], [("c", [1, 3]), ("a", [1, 3])])
    net = load_onnx(str(p))
    assert net.output_parts == [("c", (3,)), ("a", (3,))]
    _ort_matches(net)
    net = load_onnx(str(p), outputs=["a"])
    assert net.output_parts == [("a", (3,))]
    _ort_matches(net)


PROPH = """(declare-const X_0 Real)
(declare-const X_1 Real)
(declare-const X_2 Real)
{ys}
(assert (>= X_0 -1.0))
(assert (<= X_0 1.0))
(assert (>= X_1 -1.0))
(assert (<= X_1 1.0))
(assert (>= X_2 -1.0))
(assert (<= X_2 1.0))
(assert (>= Y_0 {t}))
"""


@pytest.mark.parametrize("sat", [True, False])
def test_verify_on_a_hidden_tensor(tmp_path, sat):
    """Y = [h_0, ..., h_3, z_0, z_1]: a property on the hidden neuron h_0 = x . W1[:, 0] + b1_0."""
    p = _hidden(tmp_path)
    net = load_onnx(str(p), outputs=["h", "z"])
    W = net.forward(np.eye(3)) - net.forward(np.zeros((1, 3)))
    top = float(np.abs(W[:, 0]).sum() + net.forward(np.zeros((1, 3)))[0, 0])
    t = top - 0.2 if sat else top + 0.2
    ys = "\n".join(f"(declare-const Y_{j} Real)" for j in range(6))
    prop = parse_vnnlib(PROPH.format(ys=ys, t=t), "p.vnnlib")
    v = verify(None, None, net=net, prop=prop, time_limit=60)
    assert v.status == ("sat" if sat else "unsat"), v.report()
    if sat:
        assert net.forward(v.check.x[None])[0, 0] >= t
        np.testing.assert_allclose(v.check.y_ort, v.check.y, rtol=1e-5, atol=1e-5)
