"""ONNX import: the imported FixedNetwork computes what onnxruntime computes.

Real fixture files are read in place from ../shared/fixtures (skipped when
that directory is absent, e.g. in a fresh clone); the small networks built
here with onnx.helper run everywhere.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from nncc.errors import InputError  # noqa: E402
from nncc.problem.fixed_network import Affine, MaxPool, Relu  # noqa: E402
from nncc.problem.onnx_import import load_onnx  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
needs_fixtures = pytest.mark.skipif(not FIXTURES.exists(),
                                    reason="../shared/fixtures is absent (fresh clone)")
OMLT = FIXTURES / "omlt"
RTOL = 1e-5


def ort_run(path, X: np.ndarray, net) -> np.ndarray:
    """onnxruntime outputs for the rows of X (one sample per row, any batch handling)."""
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    dims = inp.shape
    outs = []
    for x in X:
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in dims]
        outs.append(sess.run(None, {inp.name: x.astype(np.float32).reshape(shape)})[0].ravel())
    return np.array(outs, dtype=np.float64)


def assert_close(ours, ref, rtol=RTOL):
    ours, ref = np.asarray(ours, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    # float32 onnxruntime vs float64 numpy: relative to the scale of the outputs.
    scale = max(1.0, float(np.abs(ref).max()))
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=rtol * scale)


def check_against_ort(path, n_samples=8, lo=-1.0, hi=1.0, seed=0, **kw):
    net = load_onnx(str(path), **kw)
    rng = np.random.default_rng(seed)
    X = rng.uniform(lo, hi, size=(n_samples, net.n_inputs)).astype(np.float32)
    ours = net.forward(X.astype(np.float64))
    assert ours.shape == (n_samples, net.n_outputs)
    assert_close(ours, ort_run(path, X, net))
    return net


# ------------------------------------------------------------ fixture files
@needs_fixtures
@pytest.mark.parametrize("fname", ["keras_linear_131.onnx", "keras_linear_131_relu.onnx",
                                   "gemm_transB.onnx", "gemm_not_transB.onnx",
                                   "convx1_gemmx1.onnx", "keras_conv_7x7_relu.onnx"])
def test_omlt_fixture_matches_onnxruntime(fname):
    net = check_against_ort(OMLT / fname, lo=-2, hi=2)
    net.check_shapes()
    assert all(isinstance(l, (Affine, Relu, MaxPool)) for l in net.layers)
    assert not net.notes


@needs_fixtures
def test_omlt_reference_outputs():
    ref = json.loads((OMLT / "reference_outputs.json").read_text())
    for fname in ("keras_linear_131.onnx", "keras_linear_131_relu.onnx"):
        net = load_onnx(str(OMLT / fname))
        for case in ref[fname]["conftest_131_x_test_raw"]:
            assert_close(net.forward(np.array([[case["x"]]])), [[case["y"]]])
        for case in ref[fname]["omlt_test_onnx_cases_with_OffsetScaling"]:
            assert_close(net.forward(np.array([[case["x_scaled"]]])), [[case["y_scaled"]]])
    net = load_onnx(str(OMLT / "keras_conv_7x7_relu.onnx"))
    assert net.input_shape == (1, 7, 7) and net.output_shape == (1, 6, 6)
    out = net.forward(np.eye(7).reshape(1, -1))
    assert_close(out, np.array(ref["keras_conv_7x7_relu.onnx"]["output"]).reshape(1, -1))
    net = load_onnx(str(OMLT / "convx1_gemmx1.onnx"))
    assert_close(net.forward(np.eye(7).reshape(1, -1)), [[0.0]])
    for fname in ("gemm_transB.onnx", "gemm_not_transB.onnx"):
        net = load_onnx(str(OMLT / fname))
        for key, y in ref[fname].items():
            assert_close(net.forward(np.array([json.loads(key)])), y)


@needs_fixtures
def test_gemm_transB_files_store_the_same_matrix_transposed():
    # The two files hold the same initialisers, read with transB=1 and transB=0:
    # the first layers' matrices are transposes of each other (what OMLT's own
    # test asserts). They are *not* the same function -- onnxruntime's reference
    # outputs differ -- and each matches onnxruntime (checked above).
    a = load_onnx(str(OMLT / "gemm_transB.onnx"))
    b = load_onnx(str(OMLT / "gemm_not_transB.onnx"))
    assert [type(l) for l in a.layers] == [type(l) for l in b.layers]
    np.testing.assert_array_equal(np.asarray(a.layers[0].W), np.asarray(b.layers[0].W).T)
    np.testing.assert_array_equal(a.layers[0].b, b.layers[0].b)
    np.testing.assert_array_equal(np.asarray(a.layers[2].W), np.asarray(b.layers[2].W))


@needs_fixtures
def test_gemm_final_logsoftmax_dropped_with_a_note():
    path = OMLT / "gemm.onnx"
    net = load_onnx(str(path))
    assert net.input_shape == (784,) and net.output_shape == (10,)
    assert [type(l) for l in net.layers] == [Affine, Relu, Affine, Relu, Affine]
    assert any("LogSoftmax" in n and "dropped" in n for n in net.notes)
    X = np.random.default_rng(1).uniform(0, 1, size=(5, 784))
    logits = net.forward(X)
    logsm = logits - np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1, keepdims=True)) \
        - logits.max(1, keepdims=True)
    ref = ort_run(path, X, net)
    assert_close(logsm, ref)
    assert (logits.argmax(1) == ref.argmax(1)).all()
    refj = json.loads((OMLT / "reference_outputs.json").read_text())["gemm.onnx"]
    for x, y in ((np.zeros(784), refj["zeros(784)"]), (np.full(784, 0.5), refj["0.5*ones(784)"])):
        z = net.forward(x[None])
        assert_close(z - np.log(np.exp(z).sum()), y)


@needs_fixtures
def test_gemm_final_logsoftmax_refused_when_not_dropped():
    with pytest.raises(InputError, match=r"unsupported ONNX ops: LogSoftmax \(node 'LogSoftmax_5'\)"):
        load_onnx(str(OMLT / "gemm.onnx"), drop_final_softmax=False)


@needs_fixtures
def test_sigmoid_refused_by_name():
    with pytest.raises(InputError) as ei:
        load_onnx(str(OMLT / "keras_linear_131_sigmoid.onnx"))
    msg = ei.value.message
    assert "unsupported ONNX ops: Sigmoid (node 'keras_linear_131_sigmoid/dense_2/Sigmoid')" in msg
    assert "piecewise-linear" in msg and "\n" not in msg


@needs_fixtures
def test_maxpool_2d_with_3_entry_kernel_refused():
    with pytest.raises(InputError) as ei:
        load_onnx(str(OMLT / "maxpool_2d.onnx"))
    msg = ei.value.message
    assert "invalid ONNX model" in msg and "kernel_shape" in msg and "node1" in msg


@needs_fixtures
def test_mipverify_masked_relu_network():
    path = FIXTURES / "mipverify_mfc" / "mfc_net.onnx"
    net = check_against_ort(path, lo=0, hi=1)
    assert net.input_shape == (32,) and net.output_shape == (4,)
    assert all(isinstance(l, (Affine, Relu)) for l in net.layers)
    ref = json.loads((FIXTURES / "mipverify_mfc" / "mfc_net.json").read_text())
    x = np.array(ref["input_flattened_C_order"])[None]
    out = net.forward(x)
    assert_close(out, [ref["clean_output"]])
    assert int(out.argmax()) == ref["clean_argmax_0based"]
    # Masks: relu units cost one ReLU, identity units two (relu(z) - relu(-z)),
    # zeroed units none.
    masks = [l["mask"] for l in ref["layers"] if l["type"] == "masked_relu"]
    sizes = [l.size for l in net.layers if isinstance(l, Relu)]
    assert sizes == [sum(m == 0 for m in mk) + 2 * sum(m > 0 for m in mk) for mk in masks]


@needs_fixtures
@pytest.mark.parametrize("fname", ["test_nano.onnx", "test_tiny.onnx", "test_small.onnx",
                                   "test_sat.onnx", "test_unsat.onnx"])
def test_vnncomp2021_test_networks(fname):
    net = check_against_ort(FIXTURES / "vnncomp2021_test" / fname, lo=-1, hi=1)
    if fname.startswith("test_sat") or fname.startswith("test_unsat"):
        assert net.n_inputs == 5 and net.output_shape == (5,)
        assert net.relu_count() == 300


# ------------------------------------------------------ bad files and ops
def test_random_bytes_are_not_onnx(tmp_path):
    for seed in range(5):
        p = tmp_path / f"junk{seed}.onnx"
        p.write_bytes(np.random.default_rng(seed).bytes(300))
        with pytest.raises(InputError, match="not an ONNX model"):
            load_onnx(str(p))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_onnx(str(tmp_path / "nope.onnx"))


# ---------------------------------------------------- models built here
def _init(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


def build(tmp_path, nodes, in_shape, out_name, inits, fname="m.onnx", opset=13,
          out_shape=None, in_name="x"):
    """Save a one-input one-output model; a None entry in in_shape is a symbolic batch."""
    dims = ["N" if d is None else d for d in in_shape]
    x = helper.make_tensor_value_info(in_name, TensorProto.FLOAT, dims)
    y = helper.make_tensor_value_info(out_name, TensorProto.FLOAT, out_shape)
    graph = helper.make_graph(nodes, "g", [x], [y], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    if out_shape is None:  # let shape inference fill in the output shape
        inferred = onnx.shape_inference.infer_shapes(model)
        model.graph.output[0].CopyFrom(inferred.graph.output[0])
    onnx.checker.check_model(model, full_check=True)
    p = tmp_path / fname
    onnx.save(model, str(p))
    return p


def rnd(*shape, seed=0, scale=0.5):
    return np.random.default_rng(seed + sum(shape)).normal(0, scale, size=shape)


def test_conv_stride_pads_dilation_groups_bias(tmp_path):
    nodes = [
        helper.make_node("Conv", ["x", "W", "B"], ["c"], strides=[2, 1], pads=[1, 0, 2, 1],
                         dilations=[1, 2], group=2, name="conv"),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Flatten", ["r"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "G", "g"], ["y"], transB=1, alpha=0.5, beta=2.0),
    ]
    # input 4x9x8; out H = (9+3-3)//2+1 = 5, W = (8+1-5)//1+1 = 5
    inits = [_init("W", rnd(6, 2, 3, 3)), _init("B", rnd(6)), _init("G", rnd(3, 6 * 5 * 5)),
             _init("g", rnd(3))]
    p = build(tmp_path, nodes, [None, 4, 9, 8], "y", inits)
    net = check_against_ort(p)
    assert net.input_shape == (4, 9, 8) and net.output_shape == (3,)
    assert sp.issparse(net.layers[0].W) and net.layers[1].size == 150


def test_conv_auto_pad_same_and_1d(tmp_path):
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"], auto_pad="SAME_UPPER", strides=[2, 2]),
             helper.make_node("Relu", ["c"], ["y"])]
    p = build(tmp_path, nodes, [1, 2, 7, 6], "y", [_init("W", rnd(3, 2, 2, 3))])
    check_against_ort(p)
    nodes = [helper.make_node("Conv", ["x", "W", "B"], ["c"], pads=[1, 2], strides=[2]),
             helper.make_node("Relu", ["c"], ["y"])]
    p = build(tmp_path, nodes, [1, 2, 11], "y", [_init("W", rnd(3, 2, 4)), _init("B", rnd(3))],
              fname="c1.onnx")
    check_against_ort(p)


@pytest.mark.parametrize("kw", [dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
                                dict(kernel_shape=[2, 3], strides=[1, 2], pads=[0, 1, 1, 0]),
                                dict(kernel_shape=[3, 2], strides=[2, 2], ceil_mode=1),
                                dict(kernel_shape=[2, 2], dilations=[2, 2]),
                                ])
def test_maxpool(tmp_path, kw):
    nodes = [helper.make_node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("MaxPool", ["r"], ["m"], name="pool", **kw),
             helper.make_node("Flatten", ["m"], ["f"]),
             helper.make_node("MatMul", ["f", "M"], ["mm"]),
             helper.make_node("Add", ["mm", "b"], ["y"])]
    # conv output 3 x 7 x 6; the pooled size depends on kw: find it with onnxruntime
    p0 = build(tmp_path, nodes[:3], [1, 2, 7, 6], "m", [_init("W", rnd(3, 2, 3, 3)),
                                                        _init("B", rnd(3))], fname="probe.onnx")
    sess = ort.InferenceSession(str(p0), providers=["CPUExecutionProvider"])
    n = sess.run(None, {"x": np.zeros((1, 2, 7, 6), np.float32)})[0].size
    p = build(tmp_path, nodes, [1, 2, 7, 6], "y",
              [_init("W", rnd(3, 2, 3, 3)), _init("B", rnd(3)), _init("M", rnd(n, 4)),
               _init("b", rnd(4))])
    net = check_against_ort(p, n_samples=12)
    assert [type(l) for l in net.layers] == [Affine, Relu, MaxPool, Affine]


def test_maxpool_directly_on_input_and_global_pools(tmp_path):
    nodes = [helper.make_node("MaxPool", ["x"], ["m"], kernel_shape=[2, 2], strides=[2, 2],
                              pads=[1, 1, 0, 0]),
             helper.make_node("GlobalMaxPool", ["m"], ["g"]),
             helper.make_node("Flatten", ["g"], ["y"])]
    p = build(tmp_path, nodes, [1, 3, 5, 5], "y", [])
    net = check_against_ort(p)
    assert [type(l) for l in net.layers] == [MaxPool, MaxPool]


@pytest.mark.parametrize("cip", [0, 1])
@pytest.mark.parametrize("ceil", [0, 1])
def test_average_pool(tmp_path, cip, ceil):
    nodes = [helper.make_node("AveragePool", ["x"], ["a"], kernel_shape=[3, 2], strides=[2, 2],
                              pads=[1, 1, 1, 0], count_include_pad=cip, ceil_mode=ceil),
             helper.make_node("Relu", ["a"], ["r"]),
             helper.make_node("GlobalAveragePool", ["r"], ["g"]),
             helper.make_node("Flatten", ["r"], ["rf"]),
             helper.make_node("Flatten", ["g"], ["gf"]),
             helper.make_node("Concat", ["rf", "gf"], ["y"], axis=1)]
    p = build(tmp_path, nodes, [1, 2, 6, 5], "y", [])
    check_against_ort(p)


def test_batchnorm_after_conv_and_after_gemm(tmp_path):
    C = 3
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "s1", "t1", "m1", "v1"], ["bn"],
                              epsilon=1e-3),
             helper.make_node("Relu", ["bn"], ["r"]),
             helper.make_node("Flatten", ["r"], ["f"]),
             helper.make_node("Gemm", ["f", "G", "g"], ["h"], transB=1),
             helper.make_node("BatchNormalization", ["h", "s2", "t2", "m2", "v2"], ["bn2"]),
             helper.make_node("Relu", ["bn2"], ["y"])]
    rng = np.random.default_rng(3)
    inits = [_init("W", rnd(C, 1, 3, 3)),
             _init("s1", rng.uniform(0.5, 2, C)), _init("t1", rng.normal(size=C)),
             _init("m1", rng.normal(size=C)), _init("v1", rng.uniform(0.1, 2, C)),
             _init("G", rnd(5, C * 16)), _init("g", rnd(5)),
             _init("s2", rng.uniform(0.5, 2, 5)), _init("t2", rng.normal(size=5)),
             _init("m2", rng.normal(size=5)), _init("v2", rng.uniform(0.1, 2, 5))]
    p = build(tmp_path, nodes, [None, 1, 4, 4], "y", inits)
    net = check_against_ort(p)
    assert [type(l) for l in net.layers] == [Affine, Relu, Affine, Relu]


def test_sub_div_normalisation_matmul_add_reshape(tmp_path):
    nodes = [helper.make_node("Sub", ["x", "mean"], ["s"]),
             helper.make_node("Div", ["s", "std"], ["d"]),
             helper.make_node("Mul", ["d", "k"], ["d2"]),
             helper.make_node("Reshape", ["d2", "shape"], ["r"]),          # [0, -1]
             helper.make_node("MatMul", ["r", "W"], ["mm"]),
             helper.make_node("Add", ["b", "mm"], ["z"]),
             helper.make_node("Relu", ["z"], ["h"]),
             helper.make_node("Reshape", ["h", "shape2"], ["h2"]),         # [1, 2, -1]
             helper.make_node("Flatten", ["h2"], ["f"]),
             helper.make_node("MatMul", ["f", "W2"], ["y0"]),
             helper.make_node("Sub", ["y0", "c2"], ["y"])]
    inits = [_init("mean", [[[0.1]], [[0.2]], [[-0.3]]]),     # per channel
             _init("std", [[[0.5]], [[2.0]], [[0.25]]]),
             _init("k", 3.0),                                    # scalar
             numpy_helper.from_array(np.array([0, -1], np.int64), "shape"),
             numpy_helper.from_array(np.array([1, 2, -1], np.int64), "shape2"),
             _init("W", rnd(12, 8)), _init("b", rnd(8)), _init("W2", rnd(8, 3)),
             _init("c2", rnd(3))]
    p = build(tmp_path, nodes, [None, 3, 2, 2], "y", inits)
    net = check_against_ort(p)
    assert [type(l) for l in net.layers] == [Affine, Relu, Affine]


def test_pytorch_style_shape_flatten_and_transpose_pad_concat(tmp_path):
    nodes = [helper.make_node("Pad", ["x", "pads", "pv"], ["xp"], mode="constant"),
             helper.make_node("Transpose", ["xp"], ["t"], perm=[0, 1, 3, 2]),
             helper.make_node("Shape", ["t"], ["sh"]),
             helper.make_node("Gather", ["sh", "zero"], ["n"], axis=0),
             helper.make_node("Unsqueeze", ["n", "axes"], ["nu"]),
             helper.make_node("Concat", ["nu", "minus1"], ["newshape"], axis=0),
             helper.make_node("Reshape", ["t", "newshape"], ["f"]),
             helper.make_node("Relu", ["f"], ["r"]),
             helper.make_node("Concat", ["r", "f"], ["cat"], axis=1),   # skip connection
             helper.make_node("Gemm", ["cat", "G"], ["y"])]
    inits = [numpy_helper.from_array(np.array([0, 0, 1, 0, 0, 0, 0, 2], np.int64), "pads"),
             _init("pv", 0.7),
             numpy_helper.from_array(np.array(0, np.int64), "zero"),
             numpy_helper.from_array(np.array([0], np.int64), "axes"),
             numpy_helper.from_array(np.array([-1], np.int64), "minus1"),
             _init("G", rnd(2 * 2 * 4 * 5, 3))]
    p = build(tmp_path, nodes, [1, 2, 3, 3], "y", inits)
    net = check_against_ort(p)
    assert net.output_shape == (3,)


def test_piecewise_linear_activations_and_residual(tmp_path):
    nodes = [helper.make_node("Gemm", ["x", "A", "a"], ["z"]),
             helper.make_node("LeakyRelu", ["z"], ["l"], alpha=0.1),
             helper.make_node("Clip", ["l", "lo", "hi"], ["c"]),
             helper.make_node("Abs", ["c"], ["ab"]),
             helper.make_node("Add", ["ab", "z"], ["res"]),    # z skips three layers
             helper.make_node("PRelu", ["res", "slope"], ["y"])]
    inits = [_init("A", rnd(4, 6)), _init("a", rnd(6)), _init("lo", -0.3), _init("hi", 0.4),
             _init("slope", np.linspace(-0.5, 1.5, 6))]
    p = build(tmp_path, nodes, [None, 4], "y", inits)
    check_against_ort(p, n_samples=50, lo=-3, hi=3)


def test_every_unsupported_op_listed_in_one_message(tmp_path):
    nodes = [helper.make_node("MatMul", ["x", "W"], ["a"], name="mm"),
             helper.make_node("Sigmoid", ["a"], ["b"], name="dense/Sigmoid"),
             helper.make_node("Tanh", ["b"], ["c"], name="dense/Tanh"),
             helper.make_node("Relu", ["c"], ["d"], name="relu"),
             helper.make_node("LogSoftmax", ["d"], ["e"], name="ls", axis=-1),
             helper.make_node("Exp", ["e"], ["y"])]
    p = build(tmp_path, nodes, [1, 3], "y", [_init("W", rnd(3, 3))])
    with pytest.raises(InputError) as ei:
        load_onnx(str(p))
    msg = ei.value.message
    for part in ("Sigmoid (node 'dense/Sigmoid')", "Tanh (node 'dense/Tanh')",
                 "LogSoftmax (node 'ls')", "Exp (node #5 (output 'y'))"):
        assert part in msg
    assert "Relu" not in msg.split(":")[1] and "MatMul (" not in msg


def test_product_of_two_input_tensors_refused(tmp_path):
    nodes = [helper.make_node("Mul", ["x", "x"], ["y"], name="square")]
    p = build(tmp_path, nodes, [1, 3], "y", [])
    with pytest.raises(InputError, match="Mul node 'square' multiplies two tensors"):
        load_onnx(str(p))


def test_softmax_dropped_by_default(tmp_path):
    nodes = [helper.make_node("Gemm", ["x", "A", "a"], ["z"]),
             helper.make_node("Softmax", ["z"], ["y"], axis=1, name="sm")]
    p = build(tmp_path, nodes, [None, 4], "y", [_init("A", rnd(4, 3)), _init("a", rnd(3))])
    net = load_onnx(str(p), name="clf")
    assert net.name == "clf" and net.notes and "Softmax" in net.notes[0]
    X = np.random.default_rng(0).normal(size=(6, 4))
    z = net.forward(X)
    sm = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    assert_close(sm, ort_run(p, X, net))


def test_batched_rows_match_onnxruntime_batch(tmp_path):
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"], strides=[2, 2]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Flatten", ["r"], ["y"])]
    p = build(tmp_path, nodes, [None, 1, 6, 6], "y", [_init("W", rnd(2, 1, 2, 2))])
    net = load_onnx(str(p))
    X = np.random.default_rng(0).normal(size=(7, 1, 6, 6)).astype(np.float32)
    sess = ort.InferenceSession(str(p), providers=["CPUExecutionProvider"])
    ref = sess.run(None, {"x": X})[0]
    assert_close(net.forward(X.reshape(7, -1)), ref.reshape(7, -1))


def test_fixed_network_helpers_keep_the_function():
    from nncc.problem.fixed_network import (FixedNetwork, merge_consecutive_affine,
                                            prune_dead_relu_units)

    rng = np.random.default_rng(0)
    W0 = sp.random(6, 5, density=0.3, random_state=1, format="csr")
    W2 = rng.normal(size=(4, 6))
    W2[:, [1, 4]] = 0.0                      # units 1 and 4 are never read
    layers = [Affine("a", W0, rng.normal(size=6)), Affine("b", rng.normal(size=(6, 6)),
                                                           rng.normal(size=6)),
              Relu("r", 6), Affine("c", W2, rng.normal(size=4))]
    net = FixedNetwork("n", (5,), (4,), layers)
    X = rng.normal(size=(10, 5))
    ref = net.forward(X)
    merged = merge_consecutive_affine(layers)
    assert [type(l) for l in merged] == [Affine, Relu, Affine]
    pruned = prune_dead_relu_units(merged)
    assert pruned[1].size == 4
    for ls in (merged, pruned):
        out = FixedNetwork("n", (5,), (4,), ls).forward(X)
        np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


# ------------------------------------------- more operators, each against onnxruntime
def _i64(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.int64), name)


def test_cast_between_float_types_is_the_identity(tmp_path):
    nodes = [helper.make_node("Cast", ["x"], ["d"], to=TensorProto.DOUBLE),
             helper.make_node("Mul", ["d", "k"], ["m"]),
             helper.make_node("Cast", ["m"], ["f"], to=TensorProto.FLOAT),
             helper.make_node("CastLike", ["f", "like"], ["y"])]
    inits = [numpy_helper.from_array(np.array([2.0, -0.5, 3.0]), "k"),  # float64
             _init("like", 0.0)]
    p = build(tmp_path, nodes, [1, 3], "y", inits, opset=15)
    net = check_against_ort(p)
    assert not net.notes


def test_cast_to_float16_is_the_identity_with_a_note(tmp_path):
    nodes = [helper.make_node("Cast", ["x"], ["h"], to=TensorProto.FLOAT16),
             helper.make_node("Cast", ["h"], ["y"], to=TensorProto.FLOAT)]
    p = build(tmp_path, nodes, [1, 4], "y", [])
    net = load_onnx(str(p))
    assert any("float16" in n for n in net.notes)
    X = np.random.default_rng(0).uniform(-1, 1, (5, 4))
    assert_close(net.forward(X), ort_run(p, X, net), rtol=1e-3)   # float16 rounding


def test_cast_to_integer_refused_on_the_input_and_folded_on_constants(tmp_path):
    nodes = [helper.make_node("Cast", ["x"], ["i"], to=TensorProto.INT64, name="toint"),
             helper.make_node("Cast", ["i"], ["y"], to=TensorProto.FLOAT)]
    p = build(tmp_path, nodes, [1, 3], "y", [])
    with pytest.raises(InputError, match=r"Cast node 'toint' casts a tensor that depends on the "
                                         r"network input to INT64: a step"):
        load_onnx(str(p))
    nodes = [helper.make_node("Cast", ["c"], ["ci"], to=TensorProto.INT64),
             helper.make_node("Cast", ["ci"], ["cb"], to=TensorProto.BOOL),
             helper.make_node("Cast", ["cb"], ["cf"], to=TensorProto.FLOAT),
             helper.make_node("Cast", ["ci"], ["cf2"], to=TensorProto.FLOAT),
             helper.make_node("Add", ["x", "cf"], ["s"]),
             helper.make_node("Add", ["s", "cf2"], ["y"])]
    p = build(tmp_path, nodes, [1, 3], "y", [_init("c", [1.7, -2.2, 0.0])], fname="c.onnx")
    check_against_ort(p)


@pytest.mark.parametrize("op,opset", [("ReduceSum", 11), ("ReduceSum", 13), ("ReduceMean", 13),
                                      ("ReduceMean", 18)])
@pytest.mark.parametrize("axes,keepdims", [([1], 1), ([-1, 1], 0), (None, 1), (None, 0)])
def test_reduce_sum_and_mean(tmp_path, op, opset, axes, keepdims):
    as_input = opset >= (13 if op == "ReduceSum" else 18)
    inputs, kw, inits = ["x"], {"keepdims": keepdims}, []
    if axes is not None:
        if as_input:
            inputs.append("axes")
            inits.append(_i64("axes", axes))
        else:
            kw["axes"] = axes
    nodes = [helper.make_node(op, inputs, ["r"], **kw),
             helper.make_node("Relu", ["r"], ["y"])]
    p = build(tmp_path, nodes, [1, 2, 3, 2], "y", inits, opset=opset)
    check_against_ort(p)


@pytest.mark.parametrize("op,opset", [("ReduceSum", 13), ("ReduceMean", 18)])
def test_reduce_noop_with_empty_axes(tmp_path, op, opset):
    nodes = [helper.make_node(op, ["x"], ["y"], noop_with_empty_axes=1, keepdims=0)]
    p = build(tmp_path, nodes, [1, 2, 3], "y", [], opset=opset)
    net = check_against_ort(p)
    assert net.n_outputs == 6


def test_neg_constant_of_shape_and_pow_by_one(tmp_path):
    nodes = [helper.make_node("Neg", ["x"], ["n"]),
             helper.make_node("Shape", ["x"], ["sh"]),
             helper.make_node("ConstantOfShape", ["sh"], ["c"],
                              value=numpy_helper.from_array(np.array([0.5], np.float32))),
             helper.make_node("Add", ["n", "c"], ["a"]),
             helper.make_node("Pow", ["a", "one"], ["p"]),
             helper.make_node("Pow", ["p", "ones"], ["y"])]
    p = build(tmp_path, nodes, [1, 3], "y", [_init("one", 1.0), _init("ones", np.ones((2, 1, 3)))])
    net = check_against_ort(p)
    assert net.output_shape == (2, 1, 3)


def test_pow_by_another_exponent_refused(tmp_path):
    nodes = [helper.make_node("Pow", ["x", "two"], ["y"], name="sq")]
    p = build(tmp_path, nodes, [1, 3], "y", [_init("two", 2.0)])
    with pytest.raises(InputError, match=r"Pow node 'sq' raises .* to the power 2.0: not "
                                         r"piecewise linear"):
        load_onnx(str(p))


def test_where_on_a_constant_condition_selects(tmp_path):
    nodes = [helper.make_node("Greater", ["a", "b"], ["g"]),
             helper.make_node("Equal", ["a", "b"], ["e"]),
             helper.make_node("Less", ["a", "b"], ["l"]),
             helper.make_node("Not", ["l"], ["nl"]),
             helper.make_node("And", ["nl", "g"], ["g2"]),   # = g
             helper.make_node("Or", ["g2", "e"], ["ge"]),    # a >= b
             helper.make_node("Neg", ["x"], ["nx"]),
             helper.make_node("Where", ["ge", "x", "nx"], ["w"]),
             helper.make_node("Where", ["g", "w", "k"], ["y"])]
    inits = [_init("a", [1, 2, 3, 4]), _init("b", [1, 3, 2, 4]), _init("k", 7.5)]
    p = build(tmp_path, nodes, [1, 4], "y", inits)
    net = check_against_ort(p)
    X = np.array([[1.0, 2.0, 3.0, 4.0]])
    np.testing.assert_allclose(net.forward(X), [[7.5, 7.5, 3.0, 7.5]])


def test_where_on_an_input_dependent_condition_refused(tmp_path):
    nodes = [helper.make_node("Greater", ["x", "z"], ["g"], name="cmp"),
             helper.make_node("Where", ["g", "x", "z"], ["y"])]
    p = build(tmp_path, nodes, [1, 3], "y", [_init("z", 0.0)])
    with pytest.raises(InputError, match=r"Greater \(node 'cmp'\); Greater: a step on a tensor "
                                         r"that depends on the input, not continuous"):
        load_onnx(str(p))


@pytest.mark.parametrize("opset", [11, 13, 18])
def test_split_and_concat_with_constants(tmp_path, opset):
    inits = [_init("k", rnd(1, 2))]
    if opset >= 18:
        split = helper.make_node("Split", ["x"], ["a", "b", "c"], axis=1, num_outputs=3)
    elif opset >= 13:
        split = helper.make_node("Split", ["x", "parts"], ["a", "b", "c"], axis=1)
        inits.append(_i64("parts", [2, 2, 2]))
    else:
        split = helper.make_node("Split", ["x"], ["a", "b", "c"], axis=1, split=[2, 2, 2])
    nodes = [split, helper.make_node("Relu", ["b"], ["rb"]),
             helper.make_node("Concat", ["c", "k", "rb", "a"], ["y"], axis=1)]
    p = build(tmp_path, nodes, [1, 6], "y", inits, opset=opset)
    net = check_against_ort(p)
    assert net.output_shape == (8,)


def test_gather_slice_expand_with_constant_operands(tmp_path):
    nodes = [helper.make_node("Gather", ["x", "idx"], ["g"], axis=1),
             helper.make_node("Slice", ["g", "st", "en", "ax", "stp"], ["s"]),
             helper.make_node("Expand", ["s", "shp"], ["e"]),
             helper.make_node("Relu", ["e"], ["y"])]
    inits = [_i64("idx", [[0, -1], [2, 1], [3, 3]]),      # (3, 2): out (1, 3, 2, 4)
             _i64("st", [-1, 0]), _i64("en", [-100, 4]), _i64("ax", [1, 3]), _i64("stp", [-2, 3]),
             _i64("shp", [2, 1, 1, 1])]
    p = build(tmp_path, nodes, [1, 4, 4], "y", inits)
    net = check_against_ort(p)
    assert net.output_shape == (2, 2, 2, 2)


def test_slice_with_attributes_in_opset_9(tmp_path):
    nodes = [helper.make_node("Slice", ["x"], ["y"], starts=[1, 0], ends=[3, 10], axes=[1, 2])]
    p = build(tmp_path, nodes, [1, 4, 3], "y", [], opset=9)
    net = check_against_ort(p)
    assert net.output_shape == (2, 3)


def test_sigmoid_refused_with_its_reason(tmp_path):
    nodes = [helper.make_node("Sigmoid", ["x"], ["y"], name="sig")]
    p = build(tmp_path, nodes, [1, 3], "y", [])
    with pytest.raises(InputError, match=r"Sigmoid \(node 'sig'\); Sigmoid: not piecewise linear"):
        load_onnx(str(p))


def test_random_ops_refused_even_on_constants(tmp_path):
    nodes = [helper.make_node("RandomUniformLike", ["c"], ["r"], name="rnd"),
             helper.make_node("Add", ["x", "r"], ["y"])]
    p = build(tmp_path, nodes, [1, 3], "y", [_init("c", np.zeros((1, 3)))])
    with pytest.raises(InputError, match=r"RandomUniformLike \(node 'rnd'\); RandomUniformLike: "
                                         r"random"):
        load_onnx(str(p))


@pytest.mark.parametrize("on_input", [True, False])
def test_dropout_in_training_mode_refused(tmp_path, on_input):
    data = "x" if on_input else "c"
    nodes = [helper.make_node("Dropout", [data, "ratio", "train"], ["d"], name="drop"),
             helper.make_node("Add", ["x", "d"], ["y"])]
    inits = [_init("c", np.ones((1, 3))), _init("ratio", 0.5),
             numpy_helper.from_array(np.array(True), "train")]
    p = build(tmp_path, nodes, [1, 3], "y", inits)
    with pytest.raises(InputError, match="Dropout node 'drop' is in training mode"):
        load_onnx(str(p))
    inits[-1] = numpy_helper.from_array(np.array(False), "train")
    check_against_ort(build(tmp_path, nodes, [1, 3], "y", inits, fname="m2.onnx"))


F32_MAX = float(np.finfo(np.float32).max)


@pytest.mark.parametrize("lo,hi", [(-F32_MAX, 0.5), (-0.5, F32_MAX), (-1e30, 1e30), (-1e20, 0.5),
                                   (-0.5, 1e20), (None, 1e20), (-1e20, None), (0.0, 6.0),
                                   (-F32_MAX, F32_MAX)])
def test_clip_with_bounds_far_from_zero(tmp_path, lo, hi):
    """A bound such as -3.4e38 (the exporters' "no bound") added outside a relu cancelled
    x away: lo + relu(x - lo) gave 0 for every x. It stays inside the relus now."""
    ins = ["x", "lo" if lo is not None else "", "hi" if hi is not None else ""]
    inits = [_init(n, v) for n, v in (("lo", lo), ("hi", hi)) if v is not None]
    p = build(tmp_path, [helper.make_node("Clip", ins, ["y"])], [1, 6], "y", inits)
    net = check_against_ort(p, n_samples=20, lo=-3, hi=8)
    if (lo, hi) == (0.0, 6.0):
        assert net.relu_count() == 12      # relu6: two units an entry, as before
    if lo == -F32_MAX and hi == F32_MAX:
        assert net.relu_count() == 0       # no bound at all


def test_control_flow_on_the_input_refused_by_name(tmp_path):
    out = helper.make_tensor_value_info
    then_g = helper.make_graph([helper.make_node("Neg", ["x"], ["t"])], "then", [],
                               [out("t", TensorProto.FLOAT, [1, 3])])
    else_g = helper.make_graph([helper.make_node("Identity", ["x"], ["e"])], "else", [],
                               [out("e", TensorProto.FLOAT, [1, 3])])
    nodes = [helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g,
                              name="branch")]
    p = build(tmp_path, nodes, [1, 3], "y", [numpy_helper.from_array(np.array(True), "c")],
              out_shape=[1, 3])
    with pytest.raises(InputError, match=r"If \(node 'branch'\); If: control flow on tensors "
                                         r"that depend on the input"):
        load_onnx(str(p))


def test_float32_constants_folded_in_float32(tmp_path):
    """0.1 + 0.2 == 0.3 in float32 (onnxruntime) but not in float64: the folded Equal that
    picks the Where branch must be onnxruntime's."""
    nodes = [helper.make_node("Add", ["a", "b"], ["s"]),
             helper.make_node("Equal", ["s", "c"], ["e"]),
             helper.make_node("Neg", ["x"], ["nx"]),
             helper.make_node("Where", ["e", "x", "nx"], ["y"])]
    p = build(tmp_path, nodes, [1, 3], "y", [_init("a", 0.1), _init("b", 0.2), _init("c", 0.3)])
    net = check_against_ort(p)
    np.testing.assert_array_equal(net.forward(np.ones((1, 3))), np.ones((1, 3)))


# ------------------------------------- read without the onnx package
_DIGEST = r"""
import hashlib, json, sys
if sys.argv[1] == "package":
    import onnx  # the importer then reads with the onnx package
from nncc.problem.onnx_import import load_onnx
import numpy as np

out = []
for path in sys.argv[2:]:
    try:
        net = load_onnx(path)
    except Exception as e:
        out.append(f"{type(e).__name__}: {e}")
        continue
    if sys.argv[1] == "fresh":
        assert "onnx" not in sys.modules, path
    h = hashlib.sha256(repr((net.input_shape, net.output_shape, net.notes)).encode())
    for layer in net.layers:
        h.update(type(layer).__name__.encode() + layer.name.encode())
        for v in (getattr(layer, k) for k in ("W", "b", "groups") if hasattr(layer, k)):
            if hasattr(v, "tocsr"):
                h.update(b"csr" + v.data.tobytes() + v.indices.tobytes() + v.indptr.tobytes())
            else:
                h.update(repr((v.shape, v.dtype.str)).encode() + np.ascontiguousarray(v).tobytes())
    out.append(h.hexdigest())
if sys.argv[1] == "fresh":  # the package, imported after all, agrees
    import onnx
    from nncc.problem.onnx_proto import read_model
    for path in sys.argv[2:]:
        m = read_model(path)
        if m is not None:
            assert type(m) is onnx.ModelProto and m == onnx.load(path)
print(json.dumps(out))
"""


def _digests(mode, paths):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    r = subprocess.run([sys.executable, "-c", _DIGEST, mode, *map(str, paths)], capture_output=True,
                       text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.splitlines()[-1])


def test_read_without_the_onnx_package_gives_the_same_networks_and_messages(tmp_path):
    """Dense networks are read by nncc.problem.onnx_proto, without scipy for their
    selection matrices: bit for bit what the onnx package and CSR matrices give;
    rejected models fall back to the package for its message."""
    dense = build(tmp_path, [helper.make_node("Sub", ["x", "m"], ["s"]),
                             helper.make_node("Flatten", ["s"], ["f"], axis=1),
                             helper.make_node("Gemm", ["f", "W", "b"], ["g"], transB=1),
                             helper.make_node("Relu", ["g"], ["r"]),
                             helper.make_node("Reshape", ["r", "shape"], ["r2"]),
                             helper.make_node("Transpose", ["r2"], ["t"], perm=[0, 2, 1]),
                             helper.make_node("Reshape", ["t", "flat"], ["t2"]),
                             helper.make_node("Mul", ["t2", "k"], ["mk"]),
                             helper.make_node("MatMul", ["mk", "W2"], ["y"])],
                  [1, 1, 1, 5], "y",
                  [_init("m", rnd(1, 1, 1, 5)), _init("W", rnd(6, 5)), _init("b", rnd(6)),
                   numpy_helper.from_array(np.array([0, 2, 3], np.int64), "shape"),
                   numpy_helper.from_array(np.array([1, -1], np.int64), "flat"),
                   _init("k", [1.0, 0.0, 2.0, -1.0, 0.5, 3.0]), _init("W2", rnd(6, 4))],
                  fname="dense.onnx")
    typed = helper.make_tensor("W", TensorProto.FLOAT, [3, 2], rnd(3, 2).ravel().tolist())
    plain = tmp_path / "float_data.onnx"      # weights in float_data, not raw_data
    onnx.save(helper.make_model(helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])], [typed]),
        opset_imports=[helper.make_opsetid("", 13)]), str(plain))
    bad = tmp_path / "bad.onnx"               # shapes that do not match: the checker refuses
    model = onnx.load(str(plain))
    model.graph.input[0].type.tensor_type.shape.dim[1].dim_value = 4
    onnx.save(model, str(bad))
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x08\x07not a model")
    fresh = _digests("fresh", [dense, plain]) + _digests("fresh", [bad]) + _digests("fresh", [junk])
    assert fresh == _digests("package", [dense, plain, bad, junk])
    assert "onnx.checker rejects it" in fresh[2] and "not an ONNX model" in fresh[3]
    code = ("import sys\nfrom nncc.problem.onnx_import import load_onnx\n"
            f"load_onnx({str(dense)!r})\nprint(sorted(set(sys.modules) & {{'onnx', 'scipy'}}))")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.stdout.split() == ["[]"], r.stderr
