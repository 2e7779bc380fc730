"""VNN-LIB 2.0: queries read with the official parser, and the standard's command line
(``nncc verify QUERY --network NAME=FILE``, ``nncc supports``)."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

from conftest import run_nncc

pytest.importorskip("vnnlib")

from nncc.errors import InputError  # noqa: E402
from nncc.frontend.vnnlib2 import is_vnnlib2, parse_vnnlib2  # noqa: E402


def relu_gemm_model(path, W, b):
    """``Y = W Relu(X) + b`` for X of shape [1, n]."""
    W = np.asarray(W, np.float32)
    X = h.make_tensor_value_info("X", T.FLOAT, [1, W.shape[1]])
    Y = h.make_tensor_value_info("Y", T.FLOAT, [1, W.shape[0]])
    g = h.make_graph([h.make_node("Relu", ["X"], ["R"]),
                      h.make_node("Gemm", ["R", "W", "b"], ["Y"], transB=1)], "g", [X], [Y],
                     [nh.from_array(W, "W"), nh.from_array(np.asarray(b, np.float32), "b")])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, str(path))


HEAD = """(vnnlib-version <2.0>)
(declare-network N
    (declare-input X float32 [1,2])
    (declare-output Y float32 [1,2])
)
"""


def test_variables_offsets_and_disjuncts():
    q = parse_vnnlib2(HEAD + """
(assert (and (>= X[0,0] 0.0) (<= X[0,0] 1.0) (>= X[0,1] -1.0) (<= X[0,1] 1.0)))
(assert (or (> Y[0,1] Y[0,0]) (!= Y[0,0] 0.5)))
""")
    assert [(v.name, v.kind, v.shape, v.offset) for v in q.variables] == \
        [("X", "input", (1, 2), 0), ("Y", "output", (1, 2), 0)]
    p = q.property
    assert (p.n_inputs, p.n_outputs) == (2, 2)
    assert len(p.disjuncts) == 3        # one order row, and != as < or >
    d = p.disjuncts[0]
    assert np.array_equal(d.lo, [0, -1]) and np.array_equal(d.hi, [1, 1])
    assert np.array_equal(d.C, [[-1, 1]]) and d.c_strict.all()
    assert q.theories == {"SNET"}


def test_row_major_index_and_multi_node_rows():
    q = parse_vnnlib2("""(vnnlib-version <2.0>)
(declare-network N (declare-input X real [2,2]) (declare-output Y real [3]))
(assert (<= X[1,0] 2.0))
(assert (>= (+ X[0,1] Y[2]) 1.0))
""")
    d = q.property.disjuncts[0]
    assert d.hi[2] == 2.0                  # X[1,0] is flat index 2 (row-major)
    assert q.copies == {"X": 3}            # X is copied after Y's three values
    assert q.property.n_outputs == 7
    assert np.array_equal(d.C[0], [0, 0, 1, 0, 1, 0, 0]) and d.d[0] == 1.0
    assert "MNC" in q.theories


def test_refused_with_reasons():
    with pytest.raises(InputError, match="element type"):
        parse_vnnlib2("(vnnlib-version <2.0>)(declare-network N (declare-input X bool [1]) "
                      "(declare-output Y float32 [1]))(assert (<= Y[0] 1.0))")
    q = parse_vnnlib2("(vnnlib-version <2.0>)(declare-network N (declare-input X int64 [2]) "
                      "(declare-output Y float32 [1]))(assert (<= Y[0] 1.0))")
    assert q.property.integer_inputs.tolist() == [True, True]
    with pytest.raises(InputError, match="out of bounds"):
        parse_vnnlib2(HEAD + "(assert (<= X[0,5] 1.0))")
    assert is_vnnlib2(HEAD) and not is_vnnlib2("(declare-const X_0 Real)")


QUERY = HEAD + """
(assert (and (>= X[0,0] 0.0) (<= X[0,0] 1.0) (>= X[0,1] 0.0) (<= X[0,1] 1.0)))
(assert (>= Y[0,0] {t}))
"""


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "m.onnx"
    relu_gemm_model(path, [[1.0, 1.0], [1.0, -1.0]], [0.0, 0.5])   # y0 = x0 + x1 in [0, 2]
    return path


def test_standard_cli_sat_prints_the_assignment(tmp_path, model):
    (tmp_path / "q.vnnlib").write_text(QUERY.format(t=1.5))
    r = run_nncc("verify", tmp_path / "q.vnnlib", "--network", f"N={model}", "--timeout", "20.0")
    lines = r.stdout.splitlines()
    assert r.returncode == 0 and lines[0] == "sat", r.stderr
    assert lines[1] == "X float32 [1,2]" and lines[4] == "Y float32 [1,2]"
    x = np.array([float(lines[2]), float(lines[3])])
    y0 = float(lines[5])
    assert np.all((0 <= x) & (x <= 1)) and x.sum() >= 1.5 - 1e-6 and y0 >= 1.5 - 1e-5


def test_standard_cli_unsat_and_errors(tmp_path, model):
    (tmp_path / "q.vnnlib").write_text(QUERY.format(t=2.5))
    r = run_nncc("verify", tmp_path / "q.vnnlib", "--network", f"N={model}", "--timeout", "20")
    assert r.returncode == 1 and r.stdout.strip() == "unsat", r.stderr
    r = run_nncc("verify", tmp_path / "q.vnnlib", "--network", f"M={model}")
    assert r.returncode == 2 and "declares no network 'M'" in r.stderr
    r = run_nncc("verify", tmp_path / "q.vnnlib")
    assert r.returncode == 2 and "no --network N=" in r.stderr
    r = run_nncc("verify", model, tmp_path / "q.vnnlib")     # the old form takes 2.0 too
    assert r.returncode == 1 and r.stdout.strip() == "unsat"


def test_serialise_assignments(tmp_path, model):
    (tmp_path / "q.vnnlib").write_text(QUERY.format(t=1.5))
    out = tmp_path / "assign"
    r = run_nncc("verify", tmp_path / "q.vnnlib", "--network", f"N={model}",
                 "--serialise-assignments", out)
    assert r.returncode == 0 and r.stdout.strip() == "sat", r.stderr
    x = nh.to_array(onnx.load_tensor(str(out / "X.pb")))
    y = nh.to_array(onnx.load_tensor(str(out / "Y.pb")))
    assert x.shape == (1, 2) and x.dtype == np.float32 and y.shape == (1, 2)
    assert y[0, 0] >= 1.5 - 1e-5 and abs(float(x.sum()) - float(y[0, 0])) < 1e-5


def test_supports_answers_in_the_standard_format():
    r = run_nncc("supports", "--onnx-opset-versions")
    lo, hi = r.stdout.split()
    assert r.returncode == 0 and int(lo) <= int(hi)
    assert run_nncc("supports", "--vnnlib-versions").stdout.split() == ["1.0", "2.0"]
    assert run_nncc("supports", "--serialise-assignments").stdout == "true\n"
    ops = run_nncc("supports", "--onnx-operators").stdout.split()
    assert "Relu" in ops and "Gemm" in ops and "ArgMax" not in ops and "Loop" not in ops
    assert "POLY" in run_nncc("supports", "--arithmetic-complexity-theories").stdout
    assert run_nncc("supports").returncode == 2


def test_unbounded_inputs_searched_not_refused(tmp_path):
    """An input without bounds ranges over the reals (the standard's maxpool03): nncc
    searches growing boxes for a counterexample; it never answers unsat then."""
    X = h.make_tensor_value_info("X", T.FLOAT, [1, 1, 3, 3])
    Y = h.make_tensor_value_info("Y", T.FLOAT, [1, 1, 2, 2])
    g = h.make_graph([h.make_node("MaxPool", ["X"], ["P"], kernel_shape=[2, 2], strides=[1, 1]),
                      h.make_node("Relu", ["P"], ["Y"])], "g", [X], [Y])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, str(tmp_path / "pool.onnx"))
    head = """(vnnlib-version <2.0>)
(declare-network N (declare-input X float32 [1,1,3,3]) (declare-output Y float32 [1,1,2,2]))
(assert (>= X[0,0,2,2] 5.0))
(assert (<= X[0,0,2,2] 6.0))
"""
    (tmp_path / "sat.vnnlib").write_text(head + "(assert (>= Y[0,0,1,1] 5.0))\n"
                                                "(assert (<= Y[0,0,1,1] 6.0))\n")
    r = run_nncc("verify", tmp_path / "sat.vnnlib", "--network", f"N={tmp_path / 'pool.onnx'}",
                 "--timeout", "30")
    assert r.returncode == 0 and r.stdout.splitlines()[0] == "sat", r.stderr
    vals = [float(v) for v in r.stdout.splitlines()[2:11]]
    assert 5.0 <= vals[8] <= 6.0 and max(vals[4], vals[5], vals[7], vals[8]) <= 6.0
    # Y[0,0,1,1] >= X[0,0,2,2] >= 5 always: below 4 is unsat, but the other inputs are
    # unbounded, so nncc proves nothing
    (tmp_path / "open.vnnlib").write_text(head + "(assert (<= Y[0,0,1,1] 4.0))\n")
    r = run_nncc("verify", tmp_path / "open.vnnlib", "--network",
                 f"N={tmp_path / 'pool.onnx'}", "--timeout", "20")
    assert r.stdout.splitlines()[0] in ("unknown", "timed-out"), r.stderr


def test_compile_takes_a_one_network_query(tmp_path, model):
    (tmp_path / "q.vnnlib").write_text(QUERY.format(t=1.5))
    r = run_nncc("compile", model, "--property", tmp_path / "q.vnnlib", "--target", "smtlib")
    assert r.returncode == 0 and "(check-sat)" in r.stdout, r.stderr


ISO = """(vnnlib-version <2.0>)
(declare-network N1 (declare-input X float32 [1]) (declare-output Y float32 [1]))
(declare-network N2 (isomorphic-to N1) (declare-input X2 {t} [1]) (declare-output Y2 {t} [1]))
(assert (>= X[0] 0.0)) (assert (<= X[0] 1.0)) (assert (>= X2[0] 2.0)) (assert (<= X2[0] 3.0))
(assert (<= Y2[0] 0.5))
"""


def test_isomorphic_networks_may_differ_in_float_types_only():
    # the conformance suite's network_isomorphic01: valid, though the parser refuses it
    q = parse_vnnlib2(ISO.format(t="float16"))
    assert [(v.name, v.dtype) for v in q.variables] == [
        ("X", "float32"), ("Y", "float32"), ("X2", "float16"), ("Y2", "float16")]
    assert any("isomorphic networks with different float types" in n for n in q.property.notes)
    assert q.property.n_inputs == 2
    with pytest.raises(InputError, match="Type mismatch"):
        parse_vnnlib2(ISO.format(t="int8"))


def test_isomorphic_float16_declaration_is_verified(tmp_path):
    model = tmp_path / "relu.onnx"
    relu_gemm_model(model, [[1.0]], [0.0])
    q = tmp_path / "q.vnnlib"
    q.write_text(ISO.format(t="float16").replace("[1]", "[1,1]").replace("[0]", "[0,0]"))
    r = run_nncc("verify", q, "--network", f"N1={model}", "--network", f"N2={model}",
                 "--timeout", "20")
    # Y2 = relu(X2) >= 2 > 0.5 on the box: the property cannot hold
    assert r.stdout.split()[0] == "unsat", r.stderr


def test_polynomial_rows_become_products_of_the_query():
    q = parse_vnnlib2(HEAD + "(assert (<= (- (* 2.0 X[0,0] X[0,1] X[0,1]) Y[0,1] (* Y[0,0] 3.0)) "
                             "(* X[0,1] X[0,1] X[0,0])))\n")
    # 2 a b^2 - y1 - 3 y0 <= a b^2  is  a b^2 - y1 - 3 y0 <= 0: one monomial (X[0,0] X[0,1]^2)
    assert q.products == [(2, (("X", 0, 1), ("X", 1, 2)))]
    assert "POLY" in q.theories and q.property.n_outputs == 3
    d = q.property.disjuncts[0]
    assert np.array_equal(d.C[0], [3.0, 1.0, -1.0]) and d.d[0] == 0.0


@pytest.mark.parametrize("rows,truth", [
    ("(assert (< (* X[0,0] X[0,0]) 0.0))", "unsat"),                 # a square
    ("(assert (>= (* X[0,0] X[0,1]) 0.9))", "sat"),
    ("(assert (>= (+ (* Y[0,0] Y[0,1]) X[0,0]) 4.1))", "unsat"),     # y0 y1 <= 3, x0 <= 1
    ("(assert (>= (+ (* Y[0,0] Y[0,1]) X[0,0]) 3.9))", "sat"),
])
def test_polynomial_rows_verified(tmp_path, rows, truth):
    model = tmp_path / "m.onnx"
    relu_gemm_model(model, [[1.0, 0.0], [0.0, 3.0]], [0.0, 0.0])   # Y = (relu x0, 3 relu x1)
    q = tmp_path / "q.vnnlib"
    q.write_text(HEAD + "(assert (and (>= X[0,0] -1.0) (<= X[0,0] 1.0) (>= X[0,1] -1.0) "
                        "(<= X[0,1] 1.0)))\n" + rows + "\n")
    r = run_nncc("verify", q, "--network", f"N={model}", "--timeout", "30")
    out = r.stdout.split()
    assert out[0] == truth, r.stderr
    if truth == "sat":   # the assignment meets the row
        x = [float(v) for v in out[4:6]]
        y = [max(x[0], 0.0), 3 * max(x[1], 0.0)]
        if "Y[0,0]" in rows:
            assert y[0] * y[1] + x[0] >= 3.9
        else:
            assert x[0] * x[1] >= 0.9


def test_unbounded_input_in_a_vnnlib1_file_end_to_end(tmp_path):
    """The 1.0 reader keeps an input without bounds as infinite; ``nncc verify NET PROP``
    searches for a counterexample and never proves anything over it."""
    model = tmp_path / "m.onnx"
    relu_gemm_model(model, [[1.0, 1.0]], [0.0])      # Y = relu(x0) + relu(x1)
    base = "(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n" \
           "(assert (>= X_0 0.0))\n(assert (<= X_0 1.0))\n"
    (tmp_path / "sat.vnnlib").write_text(base + "(assert (>= Y_0 50.0))\n")
    cex = tmp_path / "cex.txt"
    r = run_nncc("verify", model, tmp_path / "sat.vnnlib", "-o", cex, "--time-limit", "30")
    assert r.returncode == 0 and r.stdout.split()[0] == "sat", r.stderr
    assert "no bound" in r.stderr
    from nncc.checks.counterexample import read_counterexample
    x, y = read_counterexample(str(cex))
    assert 0.0 <= x[0] <= 1.0 and max(x[0], 0) + max(x[1], 0) >= 50.0 and y[0] >= 50.0
    # relu(x0) + relu(x1) >= 0 always: below -1 is unsat, but X_1 is unbounded
    (tmp_path / "open.vnnlib").write_text(base + "(assert (<= Y_0 -1.0))\n")
    r = run_nncc("verify", model, tmp_path / "open.vnnlib", "--time-limit", "6")
    assert r.returncode == 3 and r.stdout.split()[0] == "unknown", r.stderr
