"""Front end: questions about trained networks (evaluate, maximize/minimize, adversarial).

Real files: small ONNX models built with ``onnx.helper``, NPZ datasets and
weights in ``tmp_path``, and the shared fixtures read in place when present.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from conftest import assert_nn_error, nn_error
from nncc.errors import InputError
from nncc.frontend.semantics import load_document
from nncc.frontend.parser import parse
from nncc.frontend.trained_networks import fixed_from_dense
from nncc.problem.fixed_network import Affine, FixedNetwork, Relu
from nncc.problem.network import Network
from nncc.problem.query import AdversarialQuery, EvaluateQuery, MaximizeQuery, TrainQuery

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
NO_FIXTURES = "../shared/fixtures is absent (fresh clone)"

W1 = np.array([[1.0, -1.0], [0.5, 2.0], [-1.0, 0.25], [2.0, 1.0]])
B1 = np.array([0.1, -0.2, 0.3, 0.0])
W2 = np.array([[1.0, 0.0, -1.0, 0.5], [0.0, 1.0, 1.0, -0.5], [-1.0, 2.0, 0.0, 1.0]])
B2 = np.array([0.0, 0.1, -0.1])


def reference(X):
    return np.maximum(np.asarray(X) @ W1.T + B1, 0) @ W2.T + B2


def write_onnx(path: Path, ops=("Gemm", "Relu", "Gemm")) -> Path:
    """A 2 -> 4 (ReLU) -> 3 network as Gemm + Relu + Gemm, batch dimension 'N'."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inits = [numpy_helper.from_array(W1.astype(np.float32), "W1"),
             numpy_helper.from_array(B1.astype(np.float32), "B1"),
             numpy_helper.from_array(W2.astype(np.float32), "W2"),
             numpy_helper.from_array(B2.astype(np.float32), "B2")]
    nodes = [helper.make_node("Gemm", ["x", "W1", "B1"], ["h"], transB=1, name="fc1"),
             helper.make_node(ops[1], ["h"], ["r"], name="act"),
             helper.make_node("Gemm", ["r", "W2", "B2"], ["y"], transB=1, name="fc2")]
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, str(path))
    return path


def write_data(path: Path, n: int = 20, labels=None, scale: float = 1.0) -> Path:
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, size=(n, 2)) * scale
    y = np.arange(n) % 3 if labels is None else np.asarray(labels)
    np.savez(path, X=X, y=y)
    return path


@pytest.fixture
def files(tmp_path):
    write_onnx(tmp_path / "mlp.onnx")
    write_data(tmp_path / "test.npz")
    return tmp_path


HEAD = 'network net = onnx "mlp.onnx"\ndata test = npz "test.npz"\n'


def load(tmp_path: Path, text: str, name: str = "q.nn"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_document(str(path))


error_of, assert_error = nn_error, assert_nn_error


# ------------------------------------------------------------------ networks

def test_onnx_network_is_a_fixed_network(files):
    doc = load(files, HEAD)
    net = doc.networks["net"]
    assert isinstance(net, FixedNetwork)
    assert net.name == "net" and net.n_inputs == 2 and net.n_outputs == 3
    X = np.random.default_rng(1).normal(size=(5, 2))
    np.testing.assert_allclose(net.forward(X), reference(X), rtol=1e-5, atol=1e-5)
    assert doc.queries == []


def test_networks_of_both_kinds_side_by_side(files):
    doc = load(files, HEAD + "network xor { input x[2] dense h[2] relu dense y[2] }\n")
    assert isinstance(doc.networks["net"], FixedNetwork)
    assert isinstance(doc.networks["xor"], Network)


def test_onnx_file_missing(tmp_path):
    assert_error(tmp_path, '\nnetwork net = onnx "nope.onnx"\n', "ONNX file 'nope.onnx' not found",
                 2, 1)


def test_onnx_file_not_onnx(tmp_path):
    (tmp_path / "bad.onnx").write_bytes(b"this is not a protobuf \xff\xfe")
    err = assert_error(tmp_path, 'data d { inputs [[0]] labels [0] }\nnetwork net = onnx "bad.onnx"\n',
                       "network net:", 2, 1)
    assert "ONNX" in err.message


def test_onnx_unsupported_ops_at_the_statement(tmp_path):
    write_onnx(tmp_path / "sig.onnx", ops=("Gemm", "Sigmoid", "Gemm"))
    err = assert_error(tmp_path, '\n\nnetwork net = onnx "sig.onnx"\n', "unsupported ONNX ops", 3, 1)
    assert "Sigmoid" in err.message


def test_nnet_file_missing_and_invalid(tmp_path):
    assert_error(tmp_path, 'network a = nnet "none.nnet"\n', "NNet file 'none.nnet' not found", 1, 1)
    (tmp_path / "bad.nnet").write_text("// comment\n1,2\n")
    assert_error(tmp_path, '\nnetwork a = nnet "bad.nnet"\n', "not an NNet file", 2, 1)


def test_train_on_trained_network_is_an_error(files):
    assert_error(files, HEAD + "train net on test { classify }\n",
                 'network net is a trained network (onnx "mlp.onnx")', 3, 7)


def test_duplicate_network_name(files):
    assert_error(files, HEAD + 'network net = onnx "mlp.onnx"\n', "duplicate name 'net'", 3, 9)


def test_onnx_is_imported_only_when_declared(tmp_path):
    import subprocess
    import sys

    (tmp_path / "q.nn").write_text("network n { input x[2] dense y[2] }\n"
                                   "data d { inputs [[0, 1]] labels [0] }\n")
    code = ("import sys; from nncc.frontend.semantics import load_document; "
            f"load_document({str(tmp_path / 'q.nn')!r}); "
            "print('onnx' in sys.modules, 'nncc.problem.onnx_import' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1], check=True)
    assert out.stdout.split() == ["False", "False"]


# ------------------------------------------------------------------ evaluate

def test_evaluate_range_single_row_and_whole_dataset(files):
    doc = load(files, HEAD + "evaluate net at test[0..9]\nevaluate net at test[3]\n"
                             "evaluate net at test\n")
    data = doc.datasets["test"]
    q1, q2, q3 = doc.queries
    assert all(isinstance(q, EvaluateQuery) for q in doc.queries)
    assert q1.name == "evaluate net at test[0..9]"
    assert q1.inputs.shape == (10, 2) and q1.inputs.dtype == np.float64
    np.testing.assert_array_equal(q1.inputs, data.X[:10])
    assert q2.name == "evaluate net at test[3]"
    np.testing.assert_array_equal(q2.inputs, data.X[3:4])
    assert q3.inputs.shape == (20, 2) and q3.name == "evaluate net at test"
    assert q1.network is doc.networks["net"]
    assert (q1.pos.line, q1.pos.column) == (3, 1)


def test_evaluate_inline_inputs_and_name(files):
    doc = load(files, HEAD + "evaluate net at [[0.1, 0.2], [1, -1], [0, 0]] as three\n"
                             "evaluate net at [0.5, 0.5]\n")
    q1, q2 = doc.queries
    assert q1.name == "three"
    np.testing.assert_array_equal(q1.inputs, [[0.1, 0.2], [1, -1], [0, 0]])
    assert q2.inputs.shape == (1, 2)
    assert q2.name == "evaluate net at [0.5, 0.5]"


def test_evaluate_scaled_data(files):
    write_data(files / "raw.npz", scale=255.0)
    doc = load(files, HEAD + 'data raw = npz "raw.npz" scale 1/255\nevaluate net at raw[0..1]\n')
    np.testing.assert_allclose(doc.queries[0].inputs, np.load(files / "raw.npz")["X"][:2] / 255)


def test_evaluate_index_out_of_range(files):
    assert_error(files, HEAD + "evaluate net at test[0..20]\n",
                 "row 20 is out of range: data test has 20 rows (0..19)", 3, 25)
    assert_error(files, HEAD + "evaluate net at test[25]\n", "row 25 is out of range", 3, 22)


def test_evaluate_bad_indices(files):
    assert_error(files, HEAD + "evaluate net at test[5..2]\n", "empty range 5..2", 3, 25)
    assert_error(files, HEAD + "evaluate net at test[1.5]\n",
                 "a row index must be a non-negative integer, got 1.5", 3, 22)


def test_evaluate_feature_mismatch(files):
    np.savez(files / "wide.npz", X=np.zeros((4, 5)), y=np.zeros(4, dtype=int))
    assert_error(files, HEAD + 'data wide = npz "wide.npz"\nevaluate net at wide[0]\n',
                 "data wide has 5 features but network net takes 2 inputs", 4, 17)


def test_evaluate_inline_wrong_width(files):
    assert_error(files, HEAD + "evaluate net at [[1, 2], [1, 2, 3]]\n",
                 "input 2 has 3 values but network net takes 2 inputs", 3, 27)
    assert_error(files, HEAD + "evaluate net at [1, 2, 3]\n",
                 "the input has 3 values but network net takes 2 inputs", 3, 18)


def test_unknown_network_and_dataset(files):
    assert_error(files, HEAD + "evaluate nett at test[0]\n", "unknown network 'nett'; did you "
                 "mean 'net'?", 3, 10)
    assert_error(files, HEAD + "evaluate net at tset[0]\n", "unknown dataset 'tset'", 3, 17)
    assert_error(files, HEAD + "evaluate test at test[0]\n", "'test' is a dataset, not a network",
                 3, 10)


def test_duplicate_default_query_name(files):
    assert_error(files, HEAD + "evaluate net at test[1]\nevaluate net at test[1]\n",
                 "a query named 'evaluate net at test[1]' already exists", 4, 10)


# ------------------------------------------------------------------ npz-weight networks

def npz_network(tmp_path: Path, box: str = "") -> str:
    np.savez(tmp_path / "w.npz", **{"h.weight": W1, "h.bias": B1, "y.weight": W2, "y.bias": B2})
    return f'network dense = npz "w.npz" {{ input x[2]{box} dense h[4] relu dense y[3] }}\n'


def test_npz_network_used_in_evaluate(tmp_path):
    write_data(tmp_path / "test.npz")
    doc = load(tmp_path, npz_network(tmp_path) + 'data test = npz "test.npz"\n'
                                                 "evaluate dense at test[0..4]\n")
    assert isinstance(doc.networks["dense"], Network)  # the declaration stays as written
    query = doc.queries[0]
    net = query.network
    assert isinstance(net, FixedNetwork)
    assert [type(layer) for layer in net.layers] == [Affine, Relu, Affine]
    assert net.n_inputs == 2 and net.n_outputs == 3 and net.output_name == "y"
    assert net.source == "npz:w.npz"
    np.testing.assert_allclose(net.forward(query.inputs), reference(query.inputs))


def test_npz_network_input_box_is_the_default_box(tmp_path):
    doc = load(tmp_path, npz_network(tmp_path, " in [0, 1]") + "maximize dense.y[2]\n"
                                                                 "minimize dense.y[0]\n")
    q1, q2 = doc.queries
    assert q1.network is q2.network  # converted once
    np.testing.assert_array_equal(q1.input_lo, [0, 0])
    np.testing.assert_array_equal(q1.input_hi, [1, 1])


def test_fixed_from_dense_refuses_unknown_weights():
    doc_net = Network("n", "x", 2, [])
    from nncc.problem.network import DenseLayer
    doc_net.layers = [DenseLayer("y", 2)]
    with pytest.raises(ValueError, match="unknown parameters"):
        fixed_from_dense(doc_net)


def test_network_with_unknown_weights_in_a_question(tmp_path):
    assert_error(tmp_path, "network n { input x[2] dense y[2] }\nmaximize n.y[0] "
                 "{ input in [0, 1] }\n", "network n has unknown weights", 2, 10)


def test_maximize_hidden_layer_of_nn_network_is_refused(tmp_path):
    assert_error(tmp_path, npz_network(tmp_path) + "maximize dense.h[0] { input in [0, 1] }\n",
                 "'h' is a hidden layer of network dense", 2, 16)


# ------------------------------------------------------------------ maximize / minimize

def test_maximize_and_minimize(files):
    doc = load(files, HEAD + "maximize net.y[2] { input in [0, 1] }\n"
                             "minimize net.logits[0] as low { input in [-1, 1] }\n"
                             "maximize net[1] { input in [0.5, 0.5] }\n")
    q1, q2, q3 = doc.queries
    assert all(isinstance(q, MaximizeQuery) for q in doc.queries)
    assert (q1.output, q1.minimize, q1.name) == (2, False, "maximize net.y[2]")
    np.testing.assert_array_equal(q1.input_lo, [0.0, 0.0])
    np.testing.assert_array_equal(q1.input_hi, [1.0, 1.0])
    assert (q2.output, q2.minimize, q2.name) == (0, True, "low")
    np.testing.assert_array_equal(q2.input_lo, [-1.0, -1.0])
    assert (q3.output, q3.name) == (1, "maximize net[1]")


def test_maximize_with_the_class_winning(files):
    doc = load(files, HEAD + "maximize net.y[2] { input in [0, 1]  wins  ratio 1.2 }\n"
                             "maximize net.y[1] { wins margin 0.5 input in [0, 1] }\n")
    q1, q2 = doc.queries
    assert (q1.wins, q1.ratio, q1.margin) == (True, 1.2, 1e-3)
    assert (q2.wins, q2.ratio, q2.margin) == (True, None, 0.5)
    assert not load(files, HEAD + "maximize net.y[1] { input in [0, 1] }\n").queries[0].wins


def test_maximize_margin_or_ratio_needs_wins(files):
    assert_error(files, HEAD + "maximize net.y[0] { input in [0, 1] ratio 2 }\n",
                 "'ratio' says by how much the class must win: it needs 'wins'", 3, 37)
    assert_error(files, HEAD + "maximize net.y[0] { wins input in [0, 1] margin -1 }\n",
                 "margin must be a finite number >= 0", 3, 49)


def test_maximize_output_out_of_range(files):
    assert_error(files, HEAD + "maximize net.y[3] { input in [0, 1] }\n",
                 "output 3 is out of range: network net has 3 outputs (0..2)", 3, 16)


def test_maximize_needs_an_input_box(files):
    assert_error(files, HEAD + "\n   maximize net.y[0]\n", "'maximize' needs an input box", 4, 4)
    assert_error(files, HEAD + "minimize net.y[0] { }\n", "'minimize' needs an input box", 3, 1)


def test_maximize_bad_box(files):
    assert_error(files, HEAD + "maximize net.y[0] { input in [1, 0] }\n",
                 "input box [1, 0] is empty", 3, 30)
    assert_error(files, HEAD + "maximize net.y[0] { input in [0, 1] input in [0, 2] }\n",
                 "'input' given twice", 3, 37)


# ------------------------------------------------------------------ adversarial

def test_adversarial_full_form(files):
    doc = load(files, HEAD + "adversarial net near test[17] { target 1  ratio 1.2  minimize l1  "
                             "input in [0, 1] }\n")
    q = doc.queries[0]
    assert isinstance(q, AdversarialQuery)
    assert q.name == "adversarial net near test[17]"
    np.testing.assert_array_equal(q.x0, doc.datasets["test"].X[17])
    assert q.x0.shape == (2,)
    assert (q.target, q.label, q.ratio, q.norm, q.epsilon) == (1, 17 % 3, 1.2, "l1", None)
    assert q.margin == AdversarialQuery.margin  # the query's default
    np.testing.assert_array_equal(q.input_lo, [0, 0])
    np.testing.assert_array_equal(q.input_hi, [1, 1])


def test_adversarial_any_margin_linf_epsilon(files):
    doc = load(files, HEAD + "adversarial net near test[4] as a4 { any  margin 0.01  minimize linf"
                             "  epsilon 0.05  input in [0, 1] }\n")
    q = doc.queries[0]
    assert (q.name, q.target, q.margin, q.norm, q.epsilon, q.ratio) == ("a4", None, 0.01, "linf",
                                                                        0.05, None)
    assert q.label == 1


def test_adversarial_defaults(files):
    doc = load(files, HEAD + "adversarial net near [0.5, 0.5] { target 0  minimize l0 "
                             "input in [0, 1] }\n"
                             "adversarial net near [0.25, 0.5] { input in [0, 1] }\n")
    q1, q2 = doc.queries
    assert (q1.target, q1.label, q1.norm) == (0, None, "l0")
    np.testing.assert_array_equal(q1.x0, [0.5, 0.5])
    assert q1.name == "adversarial net near [0.5, 0.5]"
    assert (q2.target, q2.label, q2.norm, q2.margin, q2.ratio, q2.epsilon) == (
        None, None, "l1", 1e-3, None, None)


def test_adversarial_label_is_the_original_class(files):
    # labels 3, 5, 7 are numbered 0, 1, 2 by the dataset; the query takes 7, not 2:
    # class 7 must then be an output, and with 3 outputs it is not.
    write_data(files / "odd.npz", n=6, labels=[0, 1, 2, 0, 1, 2])
    doc = load(files, HEAD + 'data odd = npz "odd.npz" classes [1, 2]\n'
                             "adversarial net near odd[1] { input in [0, 1] }\n")
    q = doc.queries[0]
    assert doc.datasets["odd"].y[1] == 1 and q.label == 2  # odd[1] is original row 2, label 2
    write_data(files / "big.npz", n=4, labels=[3, 5, 7, 3])
    err = assert_error(files, HEAD + 'data big = npz "big.npz"\n'
                                     "adversarial net near big[2] { input in [0, 1] }\n",
                       "big[2] has label 7, which is not an output of network net", 4, 26)
    assert "'label K'" in err.message
    doc = load(files, HEAD + 'data big = npz "big.npz"\n'
                             "adversarial net near big[2] { label 2 input in [0, 1] }\n")
    assert doc.queries[0].label == 2


def test_adversarial_minimal_correction(files):
    doc = load(files, HEAD + "adversarial net near test[5] { target 2  input in [0, 1] }\n")
    q = doc.queries[0]
    assert q.target == q.label == 2


def test_adversarial_clause_errors(files):
    pre = HEAD + "adversarial net near test[1] { input in [0, 1] "
    assert_error(files, pre + "target 3 }\n", "target class 3 is out of range", 3, 55)
    assert_error(files, pre + "label 9 }\n", "label 9 is out of range", 3, 54)
    assert_error(files, pre + "epsilon 0 }\n", "epsilon must be a finite number > 0", 3, 56)
    assert_error(files, pre + "target 1 ratio -1 }\n", "ratio must be a finite number > 0", 3, 63)
    assert_error(files, pre + "ratio 1.2 }\n", "'ratio' needs a target class", 3, 48)
    assert_error(files, pre + "margin -1 }\n", "margin must be a finite number >= 0", 3, 55)
    assert_error(files, pre + "target 1 any }\n", "'any' and 'target' exclude each other", 3, 57)
    assert_error(files, pre + "minimize l1 minimize linf }\n", "'minimize' given twice", 3, 60)


def test_adversarial_needs_one_point(files):
    assert_error(files, HEAD + "adversarial net near test[0..3] { input in [0, 1] }\n",
                 "adversarial needs one input, not 4", 3, 22)
    assert_error(files, HEAD + "adversarial net near [[0, 0], [1, 1]] { input in [0, 1] }\n",
                 "adversarial needs one input, not 2", 3, 22)


def test_adversarial_needs_a_box(files):
    assert_error(files, HEAD + "adversarial net near test[1] { target 1 }\n",
                 "'adversarial' needs an input box", 3, 1)
    doc = load(files, HEAD + "adversarial net near [0.5, 0.5] { epsilon 0.1 }\n")
    np.testing.assert_allclose(doc.queries[0].input_lo, [0.4, 0.4])
    np.testing.assert_allclose(doc.queries[0].input_hi, [0.6, 0.6])


def test_adversarial_point_outside_the_box(files):
    write_data(files / "raw.npz", scale=255.0)
    err = assert_error(files, HEAD + 'data raw = npz "raw.npz"\n'
                                     "adversarial net near raw[0] { input in [0, 1] }\n",
                       "raw[0] lies outside the input box", 4, 22)
    assert "scale 1/255" in err.message


# ------------------------------------------------------------------ syntax and order

def test_queries_in_file_order_with_train(files):
    doc = load(files, HEAD + textwrap.dedent("""\
        network xor_net { input x[2] dense h[2] relu dense y[3] }
        maximize net.y[0] { input in [0, 1] }
        train xor_net on test { classify }
        evaluate net at test[0]
        adversarial net near test[0] { input in [0, 1] }
        """))
    assert [q.kind for q in doc.queries] == ["maximize", "train", "evaluate", "adversarial"]
    assert isinstance(doc.queries[1], TrainQuery)


def test_unknown_statement_lists_the_new_keywords(files):
    err = assert_error(files, "network n { input x[2] dense y[2] }\nevalu n at [1, 2]\n",
                       "unknown statement 'evalu'", 2, 1)
    for word in ("'network', 'data' or 'train'", "'evaluate'", "'maximize'", "'minimize'",
                 "'adversarial'"):
        assert word in err.message
    assert "did you mean 'evaluate'?" in err.message


def test_verify_statement_needs_a_declared_network(tmp_path):
    # 'verify' was a planned statement; now it parses and names its network
    err = assert_error(tmp_path, '\nverify net = vnnlib "p.vnnlib"\n', "net", 2, 8)
    assert "not supported yet" not in err.message


def test_syntax_errors_in_questions(tmp_path):
    err = assert_error(tmp_path, "adversarial net near [0, 1] { minimize l2 }\n",
                       "unexpected 'l2'", 1, 40)
    assert "'l1'" in err.message and "'linf'" in err.message
    assert_error(tmp_path, "evaluate net on test[0]\n", "unexpected 'on', expected 'at'", 1, 14)


def test_range_syntax_and_numbers_still_lex():
    stmt = parse("evaluate n at d[0..99] evaluate n at d[ 2 .. 3 ] evaluate n at [1., .5]").statements
    assert (stmt[0].points.first.value, stmt[0].points.last.value) == (0, 99)
    assert (stmt[1].points.first.value, stmt[1].points.last.value) == (2, 3)
    assert [v.value for v in stmt[2].points.rows[0]] == [1.0, 0.5]


# ------------------------------------------------------------------ shared fixtures

@pytest.mark.skipif(not (FIXTURES / "nnet" / "TestNetwork.nnet").is_file(), reason=NO_FIXTURES)
def test_fixture_nnet_maximize_over_its_input_box(tmp_path):
    path = FIXTURES / "nnet" / "TestNetwork.nnet"
    doc = load(tmp_path, f'network acas = nnet "{path}"\nmaximize acas.y[0]\n'
                         "minimize acas.y[4] { input in [0, 150] }\n")
    net = doc.networks["acas"]
    q1, q2 = doc.queries
    assert q1.network is net and q1.output == 0
    np.testing.assert_array_equal(q1.input_lo, net.input_box[0])
    np.testing.assert_array_equal(q1.input_hi, net.input_box[1])
    # the written box is intersected with the network's own box
    np.testing.assert_array_equal(q2.input_lo, np.maximum(0, net.input_box[0]))
    assert q2.minimize and q2.output == 4
    np.testing.assert_array_equal(q2.input_hi, np.minimum(150, net.input_box[1]))


@pytest.mark.skipif(not (FIXTURES / "nnet" / "TestNetwork.nnet").is_file(), reason=NO_FIXTURES)
def test_fixture_nnet_box_that_misses_the_network_box(tmp_path):
    path = FIXTURES / "nnet" / "TestNetwork.nnet"
    assert_error(tmp_path, f'network acas = nnet "{path}"\nmaximize acas.y[0] '
                 "{ input in [-100, -50] }\n", "does not meet the box of network acas", 2, 31)


@pytest.mark.skipif(not (FIXTURES / "omlt" / "keras_linear_131_relu.onnx").is_file(),
                    reason=NO_FIXTURES)
def test_fixture_omlt_onnx(tmp_path):
    path = FIXTURES / "omlt" / "keras_linear_131_relu.onnx"
    doc = load(tmp_path, f'network k = onnx "{path}"\n'
                         "maximize k.y[0] { input in [-1, 1] }\n"
                         "evaluate k at [[-1], [0], [1]]\n")
    q_max, q_eval = doc.queries
    assert q_max.network.n_inputs == 1 and q_max.network.n_outputs == 1
    np.testing.assert_array_equal(q_max.input_lo, [-1.0])
    assert q_eval.inputs.shape == (3, 1)
    out = q_eval.network.forward(q_eval.inputs)
    # at x = 1 the network gives its maximum over [-1, 1] (fixtures/omlt/README.md)
    assert out[2, 0] == pytest.approx(0.9412422840198253, abs=1e-5)
