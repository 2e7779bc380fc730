"""A final softmax that the importer leaves out: properties over the file's outputs.

Dropping the softmax keeps the order of the outputs only. These networks have
known output ranges: ``Softmax(Relu(x) + b)`` over a box of non-negative
inputs is ``softmax(x + b)``, so with two outputs ``y_0 = sigmoid(5 + x_0 - x_1)``
lies in ``[sigmoid(4), sigmoid(6)]`` on ``[0, 1]^2``; every verdict below is
true in real arithmetic and under onnxruntime, and every sat counterexample is
checked against the user's rows on the softmax outputs."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

from conftest import run_nncc
from nncc.frontend.vnnlib import parse_vnnlib
from nncc.problem.onnx_import import load_onnx
from nncc.problem.output_softmax import (logit_property, softmax_output_bounds,
                                         softmax_rows_unreachable, true_outputs)
from nncc.checks.counterexample import check_counterexample
from nncc.pipeline.verify import verify


def softmax_model(path, bias, kind="Softmax"):
    """``kind(Relu(x) + bias)`` over a flat input of ``len(bias)`` values."""
    n = len(bias)
    X = h.make_tensor_value_info("X", T.FLOAT, [n])
    Y = h.make_tensor_value_info("Y", T.FLOAT, [n])
    b = nh.from_array(np.asarray(bias, np.float32), "b")
    g = h.make_graph([h.make_node("Relu", ["X"], ["R"]), h.make_node("Add", ["R", "b"], ["Z"]),
                      h.make_node(kind, ["Z"], ["Y"], axis=0)], "g", [X], [Y], [b])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, str(path))
    return load_onnx(str(path))


def prop_text(n, box, rows):
    decl = "".join(f"(declare-const X_{i} Real)\n" for i in range(n))
    decl += "".join(f"(declare-const Y_{i} Real)\n" for i in range(n))
    b = "".join(f"(assert (>= X_{i} {box[0]}))\n(assert (<= X_{i} {box[1]}))\n" for i in range(n))
    return decl + b + "".join(f"(assert {r})\n" for r in rows)


def sig(t):
    return 1.0 / (1.0 + np.exp(-t))


TWO = [  # rows over y on [0, 1]^2 with y_0 = sigmoid(5 + x_0 - x_1) in [sig(4), sig(6)]
    (["(<= Y_0 0.999)"], "sat"),                 # the case: was unsat by bounds
    (["(<= Y_0 0.98)"], "unsat"),                # sig(4) = 0.98201
    (["(>= Y_0 0.997)"], "sat"),                 # sig(6) = 0.99753
    (["(>= Y_0 0.9976)"], "unsat"),
    (["(or (< Y_0 0) (> Y_0 1))"], "unsat"),     # probabilities lie in (0, 1)
    (["(>= Y_1 Y_0)"], "unsat"),                 # an order: z_1 - z_0 <= -4
    (["(> (+ Y_0 Y_1) 1.01)"], "unsat"),         # they sum to 1
    (["(>= (- Y_0 (* 2 Y_1)) 0.95)"], "sat"),    # 3 y_0 - 2 >= 0.95 where y_0 >= 0.98334
    (["(>= (- Y_0 (* 2 Y_1)) 0.995)"], "unsat"),  # needs y_0 >= 0.99833 > sig(6)
]


@pytest.mark.parametrize("rows,truth", TWO)
def test_two_outputs_verdicts(tmp_path, rows, truth):
    net = softmax_model(tmp_path / "m.onnx", [5.0, 0.0])
    assert net.output_softmax == "Softmax"
    prop = parse_vnnlib(prop_text(2, (0, 1), rows))
    v = verify(None, None, net=net, prop=prop, time_limit=30)
    assert v.status == truth, (v.how, v.message)
    if truth == "sat":
        chk = check_counterexample(net, prop, v.check.x)
        assert chk.ok
        y = true_outputs(net, net.forward(v.check.x[None]))[0]
        d = prop.disjuncts[chk.disjunct]
        assert np.all(d.C @ y >= d.d)        # the rows on the softmax outputs themselves


def test_the_strict_border_is_not_a_counterexample(tmp_path):
    """The issue's first case: x in [-1000, 1000]^2, (or (< Y_0 0) (> Y_0 1)). Far from
    the centre the float outputs are exactly 0 and 1; 0 < 0 holds under no tolerance."""
    net = softmax_model(tmp_path / "m.onnx", [0.0, 0.0])
    prop = parse_vnnlib(prop_text(2, (-1000, 1000), ["(or (< Y_0 0) (> Y_0 1))"]))
    x = np.array([0.0, 1000.0])   # y_0 = exp(-1000) rounds to 0 in float64 and float32
    chk = check_counterexample(net, prop, x)
    assert not chk.ok
    v = verify(None, None, net=net, prop=prop, time_limit=30)
    assert v.status == "unsat"


FOUR = [  # softmax(x) for x in a box: thresholds on one of four outputs, sums of two
    ((0, 1), "(>= Y_2 0.5)", "unsat"),    # at most e / (e + 3) = 0.4752
    ((0, 1), "(>= Y_2 0.47)", "sat"),
    ((-10, 10), "(>= Y_2 0.9)", "sat"),
    ((-10, 10), "(> (+ Y_0 Y_1) 1.01)", "unsat"),
    ((-10, 10), "(> (+ Y_0 Y_1) 0.99)", "sat"),
    ((0, 1), "(<= Y_0 0.05)", "unsat"),   # at least 1 / (1 + 3e) = 0.1092
]


@pytest.mark.parametrize("box,row,truth", FOUR)
def test_four_outputs_no_logit_form(tmp_path, box, row, truth):
    net = softmax_model(tmp_path / "m.onnx", [0.0] * 4)
    prop = parse_vnnlib(prop_text(4, box, [row]))
    assert logit_property(net, prop) is None    # decided on the softmax outputs
    v = verify(None, None, net=net, prop=prop, time_limit=30)
    assert v.status == truth, (v.how, v.message)
    if truth == "sat":
        assert check_counterexample(net, prop, v.check.x).ok


def test_log_softmax_two_outputs(tmp_path):
    net = softmax_model(tmp_path / "m.onnx", [5.0, 0.0], "LogSoftmax")
    assert net.output_softmax == "LogSoftmax"
    lo = float(np.log(sig(4)))    # y_0 = log sigmoid(5 + x_0 - x_1) >= log sig(4)
    for row, truth in [(f"(<= Y_0 {lo - 1e-3})", "unsat"), (f"(<= Y_0 {lo + 1e-3})", "sat"),
                       ("(>= Y_0 0)", "unsat"), ("(< Y_1 Y_0)", "sat")]:
        prop = parse_vnnlib(prop_text(2, (0, 1), [row]))
        v = verify(None, None, net=net, prop=prop, time_limit=30)
        assert v.status == truth, (row, v.how, v.message)


def test_order_rows_are_restated_unchanged(tmp_path):
    net = softmax_model(tmp_path / "m.onnx", [0.0] * 4)
    prop = parse_vnnlib(prop_text(4, (0, 1), ["(or (>= Y_0 Y_1) (< Y_2 Y_3))"]))
    r = logit_property(net, prop)
    assert r is not None and r.original is prop
    for a, b in zip(r.disjuncts, prop.disjuncts):
        assert np.array_equal(a.C, b.C) and np.array_equal(a.d, b.d)
        assert np.array_equal(a.c_strict, b.c_strict)


def test_softmax_bounds_hold_at_random_points():
    rng = np.random.default_rng(0)
    for _ in range(50):
        K = int(rng.integers(2, 6))
        zlo = rng.normal(size=K) * 5
        zhi = zlo + rng.random(K) * 4
        M = zhi[:, None] - zlo[None, :]
        for kind in ("Softmax", "LogSoftmax"):
            lo, hi = softmax_output_bounds(M, kind)
            Z = zlo + rng.random((200, K)) * (zhi - zlo)
            e = np.exp(Z - Z.max(1, keepdims=True))
            Y = e / e.sum(1, keepdims=True)
            Y = np.log(Y) if kind == "LogSoftmax" else Y
            assert np.all(Y >= lo - 1e-12) and np.all(Y <= hi + 1e-12)
            c = rng.normal(size=(3, K))
            best = (Y @ c.T).max(axis=0)
            dead = softmax_rows_unreachable(c, best - 1e-9, M, kind)
            assert not dead.any()     # a row some sampled point meets is never "unreachable"


def test_cli_softmax_threshold_sat(tmp_path):
    softmax_model(tmp_path / "m.onnx", [5.0, 0.0])
    (tmp_path / "p.vnnlib").write_text(prop_text(2, (0, 1), ["(<= Y_0 0.999)"]))
    r = run_nncc("verify", tmp_path / "m.onnx", tmp_path / "p.vnnlib", "-o", tmp_path / "cex.txt")
    assert r.returncode == 0 and r.stdout.strip() == "sat", r.stderr
    text = (tmp_path / "cex.txt").read_text()
    y0 = float(text.split("(Y_0 ")[1].split(")")[0])
    assert y0 <= 0.999 and y0 > 0.98   # the file's output, not the logit


def _grouped_net():
    """softmax over (y0, y1) and over (y2, y3) of relu(x) + [3, 0, 0, 0] (no ONNX file)."""
    from nncc.problem.fixed_network import Affine, FixedNetwork, Relu
    net = FixedNetwork("g", (4,), (4,), [Relu("r", 4), Affine("a", np.eye(4),
                                                               np.array([3.0, 0, 0, 0]))])
    net.output_softmax = "Softmax"
    net.softmax_groups = [[0, 1], [2, 3]]
    return net


@pytest.mark.parametrize("row,truth,exact", [
    ("(> (+ Y_0 Y_1) 1.01)", "unsat", True),      # each softmax sums to 1
    ("(>= (+ Y_0 Y_1 Y_2 Y_3) 2.01)", "unsat", True),
    ("(>= Y_1 Y_0)", "unsat", True),              # z1 - z0 <= 1 - 3 < 0
    ("(>= Y_2 Y_3)", "sat", True),
    ("(>= Y_0 0.96)", "sat", True),               # y0 = sigmoid(3 + x0 - x1) up to 0.982
    ("(>= Y_0 0.99)", "unsat", True),
    ("(>= Y_2 Y_0)", "unsat", False),             # across softmaxes: y2 <= 0.731 < 0.881 <= y0
    ("(>= (+ Y_1 Y_2) 0.8)", "sat", False),       # y1 up to sigmoid(-2) = 0.119, y2 up to 0.731
    ("(>= (+ Y_1 Y_2) 0.86)", "unsat", False),
])
def test_softmax_along_an_axis(row, truth, exact):
    net = _grouped_net()
    prop = parse_vnnlib(prop_text(4, (0, 1), [row]))
    assert (logit_property(net, prop) is not None) == exact
    v = verify(None, None, net=net, prop=prop, time_limit=30)
    assert v.status == truth, (v.how, v.message)
    if truth == "sat":
        assert check_counterexample(net, prop, v.check.x).ok
    y = true_outputs(net, np.array([[3.0, 0.0, 1.0, 0.0]]))
    assert np.allclose(y.reshape(2, 2).sum(axis=1), 1.0)


def test_onnx_softmax_along_an_axis_then_reshaped(tmp_path):
    """Reshape to [2, 2], Softmax along the last axis, Reshape back (the standard's
    softmax05): two softmaxes, each summing to 1, read off through the final moves."""
    X = h.make_tensor_value_info("X", T.FLOAT, [4])
    Y = h.make_tensor_value_info("Y", T.FLOAT, [4])
    inits = [nh.from_array(np.array([2, 2], np.int64), "s22"),
             nh.from_array(np.array([4], np.int64), "s4"),
             nh.from_array(np.array([[0, 1], [1, 0]], np.float32), "P")]
    g = h.make_graph([h.make_node("Relu", ["X"], ["R"]), h.make_node("Reshape", ["R", "s22"], ["Q"]),
                      h.make_node("MatMul", ["Q", "P"], ["Z"]),       # swaps the columns
                      h.make_node("Softmax", ["Z"], ["S"], axis=-1),
                      h.make_node("Transpose", ["S"], ["St"], perm=[1, 0]),
                      h.make_node("Reshape", ["St", "s4"], ["Y"])], "g", [X], [Y], inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
    m.ir_version = 8
    path = tmp_path / "m.onnx"
    onnx.save(m, str(path))
    net = load_onnx(str(path))
    assert net.output_softmax == "Softmax" and sorted(map(sorted, net.softmax_groups)) == \
        [[0, 2], [1, 3]]
    import onnxruntime as ort
    sess = ort.InferenceSession(str(path))
    Xs = np.random.default_rng(0).normal(size=(20, 4))
    ref = np.array([sess.run(None, {"X": x.astype(np.float32)})[0] for x in Xs])
    assert np.allclose(true_outputs(net, net.forward(Xs)), ref, atol=1e-6)
    # Y = [S00, S10, S01, S11] with S[0] = softmax(x1, x0), S[1] = softmax(x3, x2):
    # y0 + y2 = 1, and y0 + y1 = sigmoid(x1 - x0) + sigmoid(x3 - x2) <= 2 sigmoid(1) = 1.4621
    for row, truth in [("(> (+ Y_0 Y_2) 1.01)", "unsat"), ("(> (+ Y_0 Y_1) 1.4)", "sat"),
                       ("(> (+ Y_0 Y_1) 1.47)", "unsat")]:
        prop = parse_vnnlib(prop_text(4, (0, 1), [row]))
        v = verify(None, None, net=net, prop=prop, time_limit=30)
        assert v.status == truth, (row, v.how, v.message)
        if truth == "sat":
            assert check_counterexample(net, prop, v.check.x).ok
