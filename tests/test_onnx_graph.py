"""Networks that are not piecewise linear, verified on their ONNX graph: the interval
bounds hold at every point of the box, the point evaluation agrees with onnxruntime,
and ``nncc verify`` answers steps, products, powers and smooth activations with
checked counterexamples and proofs (never a proof where an input is unbounded)."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

from conftest import run_nncc
from nncc.errors import InputError
from nncc.frontend.vnnlib import parse_vnnlib
from nncc.problem.onnx_graph import GraphNetwork, load_graph, load_onnx_or_graph
from nncc.problem.onnx_import import NotPiecewiseLinear, load_onnx
from nncc.checks.check_network import onnx_outputs
from nncc.checks.counterexample import read_counterexample
from nncc.pipeline.verify import verify


def save(path, nodes, n_in, n_out, inits=(), in_shape=None, out_type=T.FLOAT, opset=17):
    X = h.make_tensor_value_info("X", T.FLOAT, in_shape or [n_in])
    Y = h.make_tensor_value_info("Y", out_type, [n_out])
    g = h.make_graph(nodes, "g", [X], [Y], [nh.from_array(np.asarray(v), k)
                                           for k, v in dict(inits).items()])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, str(path))
    return str(path)


def f32(v):
    return np.asarray(v, np.float32)


RNG = np.random.default_rng(7)
W1, W2 = f32(RNG.normal(size=(3, 4))), f32(RNG.normal(size=(4, 3)))


def smooth(path):
    """Softmax(Tanh(Sigmoid(X W1 + b) W2)) with X of shape [3]."""
    return save(path, [h.make_node("MatMul", ["X", "W1"], ["a"]),
                       h.make_node("Add", ["a", "b"], ["z"]),
                       h.make_node("Sigmoid", ["z"], ["s"]),
                       h.make_node("MatMul", ["s", "W2"], ["t"]),
                       h.make_node("Tanh", ["t"], ["u"]),
                       h.make_node("Softmax", ["u"], ["Y"], axis=-1)], 3, 3,
                {"W1": W1, "W2": W2, "b": f32([0.1, -0.2, 0.3, 0.0])})


def products(path):
    """[x0 x1, x0 / (x1 + 3), x0 ** 3, x1 ** 2, x0 x0, x1 x1] with X of shape [2]."""
    i0, i1, i2 = (np.array([k], np.int64) for k in (0, 1, 2))
    return save(path, [h.make_node("Slice", ["X", "i0", "i1"], ["a"]),
                       h.make_node("Slice", ["X", "i1", "i2"], ["b"]),
                       h.make_node("Mul", ["a", "b"], ["p"]),
                       h.make_node("Add", ["b", "three"], ["b3"]),
                       h.make_node("Div", ["a", "b3"], ["q"]),
                       h.make_node("Pow", ["a", "three"], ["c"]),
                       h.make_node("Pow", ["b", "two"], ["s"]),
                       h.make_node("Mul", ["X", "X"], ["sq"]),
                       h.make_node("Concat", ["p", "q", "c", "s", "sq"], ["Y"], axis=0)], 2, 6,
                {"i0": i0, "i1": i1, "i2": i2, "three": f32([3.0]), "two": f32([2.0])})


def steps(path):
    """[Where(x > 0.2, 2x, -x), float(int(3x)), float(int(x) == 1), float(x0 > 0 and x1 < 0.5)]
    with X of shape [2]."""
    i0, i1, i2 = (np.array([k], np.int64) for k in (0, 1, 2))
    return save(path, [h.make_node("Greater", ["X", "t"], ["c"]),
                       h.make_node("Mul", ["X", "two"], ["x2"]),
                       h.make_node("Neg", ["X"], ["nx"]),
                       h.make_node("Where", ["c", "x2", "nx"], ["w"]),
                       h.make_node("Mul", ["X", "three"], ["x3"]),
                       h.make_node("Cast", ["x3"], ["k"], to=T.INT64),
                       h.make_node("Cast", ["k"], ["kf"], to=T.FLOAT),
                       h.make_node("Cast", ["X"], ["xi"], to=T.INT64),
                       h.make_node("Equal", ["xi", "one"], ["e"]),
                       h.make_node("Cast", ["e"], ["ef"], to=T.FLOAT),
                       h.make_node("Slice", ["X", "i0", "i1"], ["a"]),
                       h.make_node("Slice", ["X", "i1", "i2"], ["b"]),
                       h.make_node("Greater", ["a", "zero"], ["ga"]),
                       h.make_node("Less", ["b", "half"], ["lb"]),
                       h.make_node("And", ["ga", "lb"], ["both"]),
                       h.make_node("Cast", ["both"], ["bf"], to=T.FLOAT),
                       h.make_node("Concat", ["w", "kf", "ef", "bf"], ["Y"], axis=0)], 2, 7,
                {"t": f32([0.2]), "two": f32([2.0]), "three": f32([3.0]),
                 "one": np.array([1], np.int64), "zero": f32([0.0]), "half": f32([0.5]),
                 "i0": i0, "i1": i1, "i2": i2})


def conv(path):
    """A Conv, BatchNormalization, a negative-slope LeakyRelu, Abs, ReduceMean and a
    product of two input-dependent matrices, X of shape [1, 1, 4, 4]."""
    W = f32(RNG.normal(size=(2, 1, 3, 3)))
    return save(path, [h.make_node("Conv", ["X", "W", "B"], ["c"]),
                       h.make_node("BatchNormalization", ["c", "g", "be", "m", "v"], ["n"]),
                       h.make_node("LeakyRelu", ["n"], ["l"], alpha=-0.5),
                       h.make_node("Abs", ["l"], ["ab"]),
                       h.make_node("Reshape", ["ab", "shape"], ["M"]),
                       h.make_node("Transpose", ["M"], ["Mt"], perm=[1, 0]),
                       h.make_node("MatMul", ["M", "Mt"], ["P"]),
                       h.make_node("ReduceMean", ["l"], ["r"], keepdims=0),
                       h.make_node("Flatten", ["P"], ["Pf"], axis=0),
                       h.make_node("Reshape", ["r", "one"], ["rr"]),
                       h.make_node("Reshape", ["Pf", "minus1"], ["pp"]),
                       h.make_node("Concat", ["pp", "rr"], ["Y"], axis=0)], 16, 5,
                {"W": W, "B": f32([0.1, -0.1]), "g": f32([1.5, -0.5]), "be": f32([0.0, 0.2]),
                 "m": f32([0.1, 0.0]), "v": f32([1.0, 2.0]), "shape": np.array([2, 4], np.int64),
                 "one": np.array([1], np.int64), "minus1": np.array([-1], np.int64)},
                in_shape=[1, 1, 4, 4])


GRAPHS = {"smooth": smooth, "products": products, "steps": steps, "conv": conv}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_bounds_hold_at_every_sampled_point(tmp_path, name):
    net = load_onnx_or_graph(GRAPHS[name](tmp_path / f"{name}.onnx"))
    assert isinstance(net, GraphNetwork)
    rng = np.random.default_rng(1)
    for trial in range(12):
        c = rng.uniform(-1.5, 1.5, net.n_inputs)
        r = rng.uniform(0.0, 0.6, net.n_inputs) * (trial % 4 != 0)   # some boxes are points
        lo, hi = c - r, c + r
        b = net.bounds(lo, hi)
        assert b.lo.shape == (net.n_outputs,) and np.all(b.lo <= b.hi)
        X = np.vstack([lo, hi, lo + rng.random((150, net.n_inputs)) * (hi - lo)])
        Y = net.forward(X)
        assert np.all((Y >= b.lo) & (Y <= b.hi)), (name, trial)


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_point_evaluation_agrees_with_onnxruntime(tmp_path, name):
    net = load_onnx_or_graph(GRAPHS[name](tmp_path / f"{name}.onnx"))
    X = np.random.default_rng(2).uniform(-1.3, 1.3, (40, net.n_inputs))
    Y, R = net.forward(X), onnx_outputs(net, X)
    assert R.shape == Y.shape
    close = np.isclose(Y, R, rtol=1e-4, atol=1e-5)
    if name == "steps":   # float32 may fall on the other side of a threshold, rarely
        assert close.mean() > 0.97
    else:
        assert close.all()


def test_importer_still_refuses_and_names_the_reason(tmp_path):
    path = products(tmp_path / "p.onnx")
    with pytest.raises(NotPiecewiseLinear, match="multiplies two tensors that depend on the input"):
        load_onnx(path)
    assert isinstance(load_onnx_or_graph(path), GraphNetwork)


def test_operator_outside_the_graph_evaluator_keeps_the_importer_message(tmp_path):
    path = save(tmp_path / "argmax.onnx", [h.make_node("Sigmoid", ["X"], ["s"]),
                                          h.make_node("ArgMax", ["s"], ["Y"], keepdims=1)],
                3, 1, out_type=T.INT64)
    with pytest.raises(InputError, match=r"unsupported ONNX ops: .*ArgMax.*\(nor can nncc bound "
                                         r"its graph: ArgMax \(node"):
        load_onnx_or_graph(path)


def prop_text(box, rows):
    lines = [f"(declare-const X_{i} Real)" for i in range(len(box))]
    lines += [f"(declare-const Y_{j} Real)" for j in range(rows[0])]
    for i, (lo, hi) in enumerate(box):
        if lo is not None:
            lines.append(f"(assert (>= X_{i} {lo}))")
        if hi is not None:
            lines.append(f"(assert (<= X_{i} {hi}))")
    lines += [f"(assert {r})" for r in rows[1:]]
    return "\n".join(lines) + "\n"


# (graph, input box, (outputs, rows...), verdict)
CASES = [
    ("products", [(1, 2), (1, 2)], (6, "(>= Y_0 4.5)"), "unsat"),
    ("products", [(1, 2), (1, 2)], (6, "(>= Y_0 3.9)"), "sat"),
    ("products", [(-1, 1), (-1, 1)], (6, "(< Y_4 0.0)"), "unsat"),      # a square
    ("products", [(0.5, 1), (-2, 2)], (6, "(>= Y_1 0.5)"), "sat"),
    ("products", [(0.5, 1), (-2, 2)], (6, "(>= Y_1 1.01)"), "unsat"),
    ("steps", [(0, 0.2), (0, 1)], (7, "(> Y_0 0.0)"), "unsat"),          # -x <= 0 below 0.2
    ("steps", [(0, 1), (0, 1)], (7, "(>= Y_0 1.5)"), "sat"),
    ("steps", [(0.1, 0.3), (0, 1)], (7, "(>= Y_2 1.0)"), "unsat"),       # int(3x) <= 0
    ("steps", [(0.4, 0.9), (0, 1)], (7, "(>= Y_2 1.0)"), "sat"),
    ("steps", [(1.0, 1.9), (0, 1)], (7, "(<= Y_4 0.0)"), "unsat"),       # int(x) == 1
    ("steps", [(-1, 0), (0, 1)], (7, "(> Y_6 0.0)"), "unsat"),           # x0 > 0 never
    ("steps", [(0, 1), (0.6, 1)], (7, "(> Y_6 0.0)"), "unsat"),          # x1 < 0.5 never
    ("steps", [(0, 1), (0, 1)], (7, "(> Y_6 0.5)"), "sat"),
    ("smooth", [(-1, 1)] * 3, (3, "(> Y_0 1.0)"), "unsat"),
    ("smooth", [(-1, 1)] * 3, (3, "(< Y_0 0.05)"), "unsat"),
    ("smooth", [(-1, 1)] * 3, (3, "(> Y_0 0.5)"), "sat"),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_verify_on_the_graph_by_splitting(tmp_path, case):
    name, box, rows, truth = CASES[case]
    net_path = GRAPHS[name](tmp_path / f"{name}.onnx")
    p = tmp_path / "p.vnnlib"
    p.write_text(prop_text(box, rows))
    r = run_nncc("verify", net_path, p, "-o", tmp_path / "cex.txt", "--time-limit", "60")
    assert r.stdout.split()[0] == truth, r.stderr
    assert r.returncode == (0 if truth == "sat" else 1)
    assert "graph splitting" in r.stderr and "not piecewise linear" in r.stderr
    if truth == "sat":   # the written point meets the rows under onnxruntime
        x, _ = read_counterexample(tmp_path / "cex.txt")
        net = load_onnx_or_graph(net_path)
        prop = parse_vnnlib(p.read_text(), str(p))
        d = prop.disjuncts[0]
        assert np.all(x >= d.lo) and np.all(x <= d.hi)
        for y in (net.forward(x[None])[0], onnx_outputs(net, x[None])[0]):
            s = d.C @ y - d.d
            assert np.all(np.where(d.c_strict, s > 0, s >= -1e-5 * (1 + np.abs(d.d))))


def test_unbounded_input_on_a_graph_is_sat_or_unknown_never_unsat(tmp_path):
    net_path = products(tmp_path / "p.onnx")
    p = tmp_path / "p.vnnlib"
    p.write_text(prop_text([(1, 2), (None, None)], (6, "(>= Y_0 50.0)")))
    v = verify(net_path, str(p), time_limit=20)
    assert v.status == "sat" and v.check.ok and v.check.y[0] >= 50.0
    # x0 * x1 with x1 unbounded reaches any value; x1 ** 2 never goes below 0, but the
    # proof needs bounded inputs: unknown, not unsat
    p.write_text(prop_text([(1, 2), (None, None)], (6, "(< Y_3 -1.0)")))
    v = verify(net_path, str(p), time_limit=6)
    assert v.status == "unknown"


def test_strict_row_at_a_step_is_not_met_on_its_border(tmp_path):
    # float(x > 0) on [-1, 0] is 0 everywhere: "Y > 0" is unsat, "Y >= 0" is sat
    path = save(tmp_path / "s.onnx", [h.make_node("Greater", ["X", "z"], ["g"]),
                                     h.make_node("Cast", ["g"], ["Y"], to=T.FLOAT)], 1, 1,
                {"z": f32([0.0])})
    p = tmp_path / "p.vnnlib"
    p.write_text(prop_text([(-1, 0)], (1, "(> Y_0 0.0)")))
    assert verify(path, str(p), time_limit=20).status == "unsat"
    p.write_text(prop_text([(-1, 0)], (1, "(>= Y_0 0.0)")))
    assert verify(path, str(p), time_limit=20).status == "sat"


def test_compile_refuses_what_only_verify_can_decide(tmp_path):
    net_path = products(tmp_path / "p.onnx")
    p = tmp_path / "p.vnnlib"
    p.write_text(prop_text([(1, 2), (1, 2)], (6, "(>= Y_0 4.5)")))
    r = run_nncc("compile", net_path, "--property", p, "--target", "lp", "-o", tmp_path / "o.lp")
    assert r.returncode == 2 and "not linear" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o.lp").exists()


def test_supports_lists_the_graph_operators():
    r = run_nncc("supports", "--onnx-operators")
    ops = set(r.stdout.split())
    assert {"Sigmoid", "Greater", "Where", "Pow", "Equal", "Softmax", "Relu"} <= ops
    assert "ArgMax" not in ops


def test_graph_reader_reads_parts_like_the_importer(tmp_path):
    net = load_graph(conv(tmp_path / "c.onnx"))
    assert net.input_parts == [("X", (1, 4, 4))] and net.n_inputs == 16
    assert net.output_parts == [("Y", (5,))] and net.n_outputs == 5
