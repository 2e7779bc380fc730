"""nncc verify: VNN-COMP 2021 test verdicts, networks with verdicts known by construction,
disjunctive properties, brute force on tiny networks; every sat counterexample re-checked."""
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run_nncc
from nncc.frontend.vnnlib import parse_vnnlib
from nncc.problem.fixed_network import Affine, FixedNetwork, Relu
from nncc.checks.counterexample import check_counterexample, read_counterexample
from nncc.pipeline.verify import verify

VNNCOMP = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "vnncomp2021_test"
NNET = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "nnet"
needs_vnncomp = pytest.mark.skipif(not VNNCOMP.exists(),
                                   reason="../shared/fixtures/vnncomp2021_test is absent")

FIXTURES = [("test_nano.onnx", "test_nano.vnnlib", "unsat"),
            ("test_tiny.onnx", "test_tiny.vnnlib", "unsat"),
            ("test_small.onnx", "test_small.vnnlib", "unsat"),
            ("test_sat.onnx", "test_prop.vnnlib", "sat"),
            ("test_unsat.onnx", "test_prop.vnnlib", "unsat")]


def _solver_available(name):
    from nncc.solvers.registry import load_registry
    try:
        reg = load_registry()
        return name in reg.names() and reg.get(name).available
    except Exception:
        return False


def assert_cex(net, prop, v):
    """A sat verdict's counterexample passes an independent check."""
    assert v.check is not None and v.check.ok
    chk = check_counterexample(net, prop, v.check.x)
    assert chk.ok, chk.problems


# ---------------------------------------------------------------- VNN-COMP 2021 test

@needs_vnncomp
@pytest.mark.parametrize("onnx,prop,verdict", FIXTURES)
@pytest.mark.parametrize("falsify", [True, False])
@pytest.mark.parametrize("split", [True, False])
def test_vnncomp2021_test_verdicts_with_highs(onnx, prop, verdict, falsify, split):
    from nncc.frontend.vnnlib import load_vnnlib
    from nncc.problem.onnx_import import load_onnx
    net, p = load_onnx(str(VNNCOMP / onnx)), load_vnnlib(str(VNNCOMP / prop))
    v = verify(None, None, net=net, prop=p, solver="highs", time_limit=60,
               falsify_budget=None if falsify else 0.0, split_budget=None if split else 0.0)
    assert v.status == verdict, v.report()
    if verdict == "sat":
        assert_cex(net, p, v)
        assert v.how == ("falsification" if falsify else
                         "input splitting" if split else "milp (highs)")


@needs_vnncomp
@pytest.mark.skipif(not _solver_available("cbc"), reason="cbc not found")
def test_vnncomp2021_sat_instance_with_cbc():
    v = verify(str(VNNCOMP / "test_sat.onnx"), str(VNNCOMP / "test_prop.vnnlib"), solver="cbc",
               time_limit=60, falsify_budget=0.0, split_budget=0.0)
    assert v.status == "sat" and v.how == "milp (cbc)" and v.check.ok


@needs_vnncomp
def test_a_race_verifies_and_its_counterexample_is_checked():
    """highs takes about a minute on this MILP alone, cbc under a second: the race takes
    cbc's checked point and stops highs."""
    from nncc.frontend.vnnlib import load_vnnlib
    from nncc.problem.onnx_import import load_onnx
    net = load_onnx(str(VNNCOMP / "test_sat.onnx"))
    p = load_vnnlib(str(VNNCOMP / "test_prop.vnnlib"))
    v = verify(None, None, net=net, prop=p, solver="race:highs,cbc", time_limit=120,
               falsify_budget=0.0, split_budget=0.0)
    assert v.status == "sat" and v.how in ("milp (highs)", "milp (cbc)"), v.report()
    assert_cex(net, p, v)
    assert any(n.startswith("race: ") for n in v.notes)


@needs_vnncomp
def test_cli_exit_codes_and_counterexample_file(tmp_path):
    cex = tmp_path / "cex.txt"
    r = run_nncc("verify", VNNCOMP / "test_sat.onnx", VNNCOMP / "test_prop.vnnlib", "-o", cex,
                 "--time-limit", "60")
    assert r.returncode == 0 and r.stdout.strip() == "sat", r.stderr
    lines = cex.read_text().splitlines()
    assert lines[0] == "sat" and lines[1].startswith("((X_0 ")   # a VNN-COMP results file
    x, y = read_counterexample(str(cex))
    assert x.shape == (5,) and y.shape == (5,)
    # the file's outputs are onnxruntime's on the file's inputs, and violate the property
    from nncc.export.onnx_export import run_onnx_samples
    ref = run_onnx_samples(str(VNNCOMP / "test_sat.onnx"), x[None], (1, 1, 5))[0]
    np.testing.assert_allclose(y, ref, rtol=1e-6, atol=1e-7)
    assert np.all(y[0] <= y[1:] + 1e-5)
    r = run_nncc("verify", VNNCOMP / "test_unsat.onnx", VNNCOMP / "test_prop.vnnlib", "-o",
                 tmp_path / "none.txt")
    assert r.returncode == 1 and r.stdout.strip() == "unsat"
    assert not (tmp_path / "none.txt").exists()
    r = run_nncc("verify", VNNCOMP / "test_sat.onnx", VNNCOMP / "test_nano.vnnlib")
    assert r.returncode == 2 and "declares 1 inputs" in r.stderr


@needs_vnncomp
def test_compile_property_to_mps_and_smtlib(tmp_path):
    out = tmp_path / "q.mps"
    r = run_nncc("compile", VNNCOMP / "test_sat.onnx", "--property", VNNCOMP / "test_prop.vnnlib",
                 "--target", "mps", "-o", out)
    assert r.returncode == 0, r.stderr
    assert out.exists() and (tmp_path / "q.mps.map.json").exists()
    r = run_nncc("compile", VNNCOMP / "test_nano.onnx", "--property", VNNCOMP / "test_nano.vnnlib",
                 "--target", "smtlib")
    assert r.returncode == 0 and "(check-sat)" in r.stdout


@needs_vnncomp
@pytest.mark.parametrize("onnx,verdict,code", [("test_sat.onnx", "sat", 0), ("test_unsat.onnx", "unsat", 1)])
def test_compiled_property_solved_by_hand_then_decoded(tmp_path, onnx, verdict, code):
    """compile --property, the highs binary run on the file as a user would, decode: the
    verdict, and for sat a counterexample file that passes the check again."""
    import subprocess
    from nncc.solvers.registry import load_registry
    out = tmp_path / "q.mps"
    r = run_nncc("compile", VNNCOMP / onnx, "--property", VNNCOMP / "test_prop.vnnlib",
                 "--target", "mps", "-o", out)
    assert r.returncode == 0, r.stderr
    spec = load_registry().get("highs")
    subprocess.run(spec.executable() + ["--model_file", str(out), "--solution_file",
                                        str(tmp_path / "q.sol")],
                   capture_output=True, timeout=120, env=spec.child_env(), check=True,
                   cwd=tmp_path)
    cex = tmp_path / "cex.txt"
    r = run_nncc("decode", str(out) + ".map.json", tmp_path / "q.sol", "-o", cex)
    assert r.returncode == code, (r.stdout, r.stderr)
    assert r.stdout.strip() == verdict
    if verdict == "sat":
        from nncc.problem.property import load_network
        from nncc.frontend.vnnlib import load_vnnlib
        x, _ = read_counterexample(str(cex))
        chk = check_counterexample(load_network(str(VNNCOMP / onnx)),
                                   load_vnnlib(str(VNNCOMP / "test_prop.vnnlib")), x)
        assert chk.ok, chk.problems
    else:
        assert not cex.exists()
    r = run_nncc("decode", str(out) + ".map.json", tmp_path / "q.sol", "-o", cex, "--json")
    report = json.loads(r.stdout)
    assert report["verdict"] == verdict and report["disjuncts"] == 1  # the property's, not 0
    (tmp_path / "empty.sol").write_text("")   # a solver that never ran: bad input, said so
    r = run_nncc("decode", str(out) + ".map.json", tmp_path / "empty.sol", "-o", tmp_path / "c2.txt")
    assert r.returncode == 2 and "empty.sol is empty: there is no solver output" in r.stderr
    assert "exit code" not in r.stderr and not (tmp_path / "c2.txt").exists()


# ------------------------------------------------- networks with verdicts by construction

def abs_net():
    """y0 = relu(x0) + relu(x1), y1 = relu(x0 - x1) - relu(x1 - x0) (= x0 - x1)."""
    W1 = np.array([[1.0, 0], [0, 1], [1, -1], [-1, 1]])
    W2 = np.array([[1.0, 1, 0, 0], [0, 0, 1, -1]])
    return FixedNetwork("absnet", (2,), (2,), [Affine("l1", W1, np.zeros(4)), Relu("r1", 4),
                                               Affine("l2", W2, np.zeros(2))])


HEAD = "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)" \
       "(declare-const Y_1 Real)\n"
BOX = "(assert (<= -1 X_0 1))(assert (<= -1 X_1 1))\n"


@pytest.mark.parametrize("body,verdict", [
    ("(assert (>= Y_0 1.9))", "sat"),         # near (1, 1)
    ("(assert (>= Y_0 2.1))", "unsat"),
    ("(assert (>= Y_0 2))", "sat"),           # only the corner (1, 1)
    ("(assert (and (>= Y_0 1) (<= Y_1 -1.5)))", "sat"),   # x0 = -1 side: y0 = x1 >= 1, x1 >= 1
    ("(assert (and (>= Y_0 1.5) (>= Y_1 1.5)))", "unsat"),  # y1 >= 1.5 needs x0 - x1 >= 1.5
    ("(assert (or (>= Y_0 2.5) (<= Y_1 -1.99)))", "sat"),
    ("(assert (or (>= Y_0 2.5) (<= Y_1 -2.01)))", "unsat"),
])
@pytest.mark.parametrize("falsify", [True, False])
@pytest.mark.parametrize("split", [True, False])
def test_verdicts_by_construction(body, verdict, falsify, split):
    net, prop = abs_net(), parse_vnnlib(HEAD + BOX + body, "p.vnnlib")
    v = verify(None, None, net=net, prop=prop, solver="highs", time_limit=30,
               falsify_budget=None if falsify else 0.0, split_budget=None if split else 0.0)
    assert v.status == verdict, v.report()
    if verdict == "sat":
        assert_cex(net, prop, v)


@pytest.mark.parametrize("split", [True, False])
def test_strict_row_reachable_only_on_its_border_is_not_sat(split):
    # Y_0 > 2 holds nowhere (Y_0 <= 2 on the box); the closed MILP finds (1, 1), which
    # fails the strict check, and splitting shrinks boxes onto that corner: the answer is
    # unsat or unknown, never sat
    net, prop = abs_net(), parse_vnnlib(HEAD + BOX + "(assert (> Y_0 2))", "p.vnnlib")
    v = verify(None, None, net=net, prop=prop, solver="highs", time_limit=30, falsify_budget=0.0,
               split_budget=None if split else 0.0)
    assert v.status in ("unsat", "unknown")


@pytest.mark.parametrize("mode", ["split", "indicator"])
def test_disjunction_over_input_boxes(mode):
    # box A: x in [0,1]^2 (y1 in [-1, 1]); box B: x0 in [-1,-0.5], x1 in [0.5, 1] (y1 <= -1)
    text = HEAD + """(assert (or
      (and (>= X_0 0) (<= X_0 1) (>= X_1 0) (<= X_1 1) (<= Y_1 -1.2))
      (and (>= X_0 -1) (<= X_0 -0.5) (>= X_1 0.5) (<= X_1 1) (<= Y_1 -1.9) (>= Y_0 0.9))))"""
    net, prop = abs_net(), parse_vnnlib(text, "p.vnnlib")
    v = verify(None, None, net=net, prop=prop, solver="highs", time_limit=30, falsify_budget=0.0,
               disjuncts=mode, split_budget=0.0)  # the MILP modes, not the input splitting
    assert v.status == "sat" and v.check.disjunct == 1
    assert_cex(net, prop, v)
    prop2 = parse_vnnlib(text.replace("-1.9", "-2.1"), "p.vnnlib")
    v = verify(None, None, net=net, prop=prop2, solver="highs", time_limit=30, falsify_budget=0.0,
               disjuncts=mode, bounds="interval", split_budget=0.0)
    assert v.status == "unsat"


@pytest.mark.skipif(not NNET.exists(), reason="../shared/fixtures/nnet is absent")
def test_nnet_property_in_raw_units_is_clipped_to_the_header_box():
    # TestNetwork.nnet: inputs in raw units, clip box [0, 60760] x ... ; a box wider than
    # the clip box is restricted to it (the network clips)
    from nncc.problem.nnet_import import load_nnet
    net = load_nnet(str(NNET / "TestNetwork.nnet"))
    lo, hi = net.input_box
    decl = "".join(f"(declare-const X_{i} Real)" for i in range(5)) + \
        "".join(f"(declare-const Y_{j} Real)" for j in range(5))
    box = "".join(f"(assert (<= {float(a)!r} X_{i} {float(b)!r}))" for i, (a, b) in
                  enumerate(zip(lo - 1.0, hi)))
    y = net.forward(((lo + hi) / 2)[None])[0]
    text = decl + box + f"(assert (>= Y_0 {float(y[0]) - 1.0!r}))"
    v = verify(None, None, net=net, prop=parse_vnnlib(text, "p.vnnlib"), solver="highs",
               time_limit=30)
    assert v.status == "sat" and any("clip box" in n for n in v.notes)
    assert np.all(v.check.x >= lo) and np.all(v.check.x <= hi)


# --------------------------------------------------------- brute force on tiny networks

def tiny_net(W1, b1, W2, b2):
    return FixedNetwork("tiny", (1,), (2,), [Affine("a", np.array(W1).reshape(-1, 1), np.array(b1)),
                                             Relu("r", len(b1)),
                                             Affine("b", np.array(W2).reshape(2, -1), np.array(b2))])


def exact_max(net, c, lo=-1.0, hi=1.0):
    """max of c . y over [lo, hi]: at an end or a ReLU breakpoint (1-D, one hidden layer)."""
    W1, b1 = net.layers[0].W.ravel(), net.layers[0].b
    with np.errstate(divide="ignore", invalid="ignore"):
        br = np.where(W1 != 0, -b1 / W1, lo)
    pts = np.concatenate([[lo, hi], np.clip(br, lo, hi)])
    return float((net.forward(pts[:, None]) @ c).max())


weights = st.lists(st.floats(-2, 2, allow_nan=False, width=32), min_size=3, max_size=3)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(W1=weights, b1=weights, W2a=weights, W2b=weights, b2=st.lists(st.floats(-1, 1, width=32),
       min_size=2, max_size=2), gap=st.floats(0.01, 1.0), above=st.booleans(),
       falsify=st.booleans(), split=st.booleans())
def test_disjunctive_verdicts_match_brute_force(W1, b1, W2a, W2b, b2, gap, above, falsify, split):
    net = tiny_net(W1, b1, W2a + W2b, b2)
    m0 = exact_max(net, np.array([1.0, 0.0]))   # max y0
    m1 = exact_max(net, np.array([0.0, -1.0]))  # max -y1
    sign = -1 if above else 1   # above: thresholds below the maxima (sat)
    t0, t1 = float(m0 + sign * gap), float(-(m1 + sign * gap))
    text = ("(declare-const X_0 Real)(declare-const Y_0 Real)(declare-const Y_1 Real)"
            f"(assert (<= -1 X_0 1))(assert (or (>= Y_0 {t0!r}) (<= Y_1 {t1!r})))")
    prop = parse_vnnlib(text, "p.vnnlib")
    v = verify(None, None, net=net, prop=prop, solver="highs", time_limit=30,
               falsify_budget=None if falsify else 0.0, split_budget=None if split else 0.0)
    assert v.status == ("sat" if above else "unsat"), (v.report(), m0, m1)
    if above:
        assert_cex(net, prop, v)


# ------------------------------------------------------------------------------ batch

@needs_vnncomp
def test_batch_runs_resumes_and_writes_results(tmp_path):
    inst = tmp_path / "instances.csv"
    inst.write_text(f"{VNNCOMP / 'test_nano.onnx'},{VNNCOMP / 'test_nano.vnnlib'},30\n"
                    f"{VNNCOMP / 'test_sat.onnx'},{VNNCOMP / 'test_prop.vnnlib'},30\n")
    res = tmp_path / "out.csv"
    r = run_nncc("batch", inst, "-o", res, "-j", "2")
    assert r.returncode == 0, r.stderr
    last = [ln for ln in r.stderr.splitlines() if ln.startswith("nncc: [2/2]")][0]
    assert "sat 1" in last and "unsat 1" in last and "s left" in last, r.stderr
    import csv
    rows = {row["instance"]: row for row in csv.DictReader(open(res))}
    assert [rows[k]["verdict"] for k in sorted(rows)] == ["unsat", "sat"]
    cex = [row["counterexample"] for row in rows.values() if row["verdict"] == "sat"][0]
    from nncc.frontend.vnnlib import load_vnnlib
    from nncc.problem.onnx_import import load_onnx
    x, _ = read_counterexample(cex)
    chk = check_counterexample(load_onnx(str(VNNCOMP / "test_sat.onnx")),
                               load_vnnlib(str(VNNCOMP / "test_prop.vnnlib")), x)
    assert chk.ok, chk.problems
    r = run_nncc("batch", inst, "-o", res)  # resumed: nothing left
    assert "nothing to run" in r.stdout and "2 already in" in r.stderr


@needs_vnncomp
def test_nn_verify_statement_check_and_solve(tmp_path):
    nn = tmp_path / "v.nn"
    nn.write_text(f'network net = onnx "{VNNCOMP / "test_unsat.onnx"}"\n'
                  f'verify net = vnnlib "{VNNCOMP / "test_prop.vnnlib"}" as p3\n')
    from nncc.api import load
    q = load(str(nn)).query("p3")
    assert q.kind == "verify" and len(q.property.disjuncts) == 1
    v = verify(None, None, net=q.network, prop=q.property, solver="highs", time_limit=30)
    assert v.status == "unsat"
    r = run_nncc("solve", nn)
    assert r.returncode == 1 and r.stdout.strip() == "unsat", r.stderr
    bad = tmp_path / "bad.nn"
    bad.write_text(f'network net = onnx "{VNNCOMP / "test_nano.onnx"}"\n'
                   f'verify net = vnnlib "{VNNCOMP / "test_prop.vnnlib"}"\n')
    r = run_nncc("check", bad)
    assert r.returncode == 2 and "bad.nn:2:1" in r.stderr and "declares 5 inputs" in r.stderr


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
def test_dropped_final_softmax_takes_only_rows_that_keep_their_meaning(tmp_path, op):
    """z = (x + 2, 0) then a final softmax, dropped: its outputs are the logits. A threshold
    row on the probabilities (``Y_0 <= 1``, true of every input) would be unreachable on
    the logits (z_0 >= 2): it is restated exactly (two outputs), never answered unsat on
    the logits. Comparisons are answered."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper
    g = helper.make_graph(
        [helper.make_node("Gemm", ["X", "W", "B"], ["Z"]), helper.make_node(op, ["Z"], ["Y"], axis=1)],
        "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 1])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 2])],
        [numpy_helper.from_array(np.array([[1.0, 0.0]], np.float32), "W"),
         numpy_helper.from_array(np.array([2.0, 0.0], np.float32), "B")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    p = tmp_path / "sm.onnx"
    onnx.save(m, str(p))
    head = ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n"
            "(assert (>= X_0 0.0))\n(assert (<= X_0 1.0))\n")
    truth = "sat" if op == "Softmax" else "unsat"   # log softmax outputs are < 0 <= 1 ...
    bound = "1.0" if op == "Softmax" else "-0.2"     # ... and log sigmoid(x + 2) >= -0.127
    v = verify(str(p), None, prop=parse_vnnlib(head + f"(assert (<= Y_0 {bound}))\n", "p"))
    assert v.status == truth, (v.how, v.message)
    assert truth == "unsat" or v.check.ok
    v = verify(str(p), None, prop=parse_vnnlib(head + "(assert (<= Y_0 Y_1))\n", "p"))
    assert v.status == "unsat"
    prop = parse_vnnlib(head + "(assert (>= Y_0 Y_1))\n", "p")
    v = verify(str(p), None, prop=prop)
    assert v.status == "sat" and v.check.ok
    if op == "LogSoftmax":  # a shift of both outputs: differences keep their value
        v = verify(str(p), None, prop=parse_vnnlib(head + "(assert (>= (- Y_0 Y_1) 3.5))\n", "p"))
        assert v.status == "unsat"
        v = verify(str(p), None, prop=parse_vnnlib(head + "(assert (>= (- Y_0 Y_1) 2.5))\n", "p"))
        assert v.status == "sat" and v.check.ok


@needs_vnncomp
def test_solve_on_a_verify_statement_takes_the_search_options(tmp_path):
    """``nncc solve FILE.nn`` on a verify statement passes --no-start (no search for a
    counterexample before the solver) and --split-time on to verify: the same sat
    instance is decided by falsification by default and by the MILP without it."""
    import json
    nn = tmp_path / "v.nn"
    nn.write_text(f'network net = onnx "{VNNCOMP / "test_sat.onnx"}"\n'
                  f'verify net = vnnlib "{VNNCOMP / "test_prop.vnnlib"}"\n')
    by_default = run_nncc("solve", nn, "--json")
    assert by_default.returncode == 0, by_default.stderr
    assert json.loads(by_default.stdout)["how"] == "falsification"
    r = run_nncc("solve", nn, "--json", "--no-start", "--split-time", "0", "--solver", "highs")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["verdict"] == "sat" and report["how"].startswith("milp")
    assert report["counterexample"]["ok"] and report["split_boxes"] == 0


@needs_vnncomp
def test_compile_and_check_take_the_bounds_method(tmp_path):
    """--bounds reaches the encoding of a verify statement in both commands (the notes
    name the method), and a compiled verify statement decodes as before."""
    nn = tmp_path / "v.nn"
    nn.write_text(f'network net = onnx "{VNNCOMP / "test_small.onnx"}"\n'
                  f'verify net = vnnlib "{VNNCOMP / "test_small.vnnlib"}"\n')
    for method in ("interval", "symbolic"):
        r = run_nncc("compile", nn, "-t", "mps", "-o", tmp_path / f"{method}.mps",
                     "--bounds", method)
        assert r.returncode == 0, r.stderr
        assert f"note: {method} bounds" in r.stderr and "feasible means the property" in r.stderr
        r = run_nncc("check", nn, "--bounds", method)
        assert r.returncode == 0 and f"note: {method} bounds" in r.stdout, r.stderr


def test_a_verdict_is_a_view_of_an_answer():
    """verify's result is an Answer like solve's, seen in VNN-LIB's words: sat is a
    checked solution whose arrays are the counterexample, unsat is no_solution."""
    from nncc.problem.query import VerifyQuery
    box = "(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n" + "".join(
        f"(assert (>= X_{i} -1))\n(assert (<= X_{i} 1))\n" for i in range(2))
    net = FixedNetwork("n", (2,), (1,), [Affine("a", np.array([[1.0, -1.0]]), np.zeros(1)),
                                         Relu("r", 1)])
    sat = verify(None, None, net=net, prop=parse_vnnlib(box + "(assert (>= Y_0 0.5))", "p"))
    assert sat.status == "sat" and sat.answer.status == "solution" and sat.answer.verdict == "sat"
    assert isinstance(sat.answer.query, VerifyQuery) and sat.answer.how == sat.how
    x = sat.answer.arrays["input"]
    assert net.forward(x[None])[0][0] >= 0.5 and np.array_equal(x, sat.check.x)
    assert sat.report()["counterexample"] == sat.answer.report()["check"]
    unsat = verify(None, None, net=net, prop=parse_vnnlib(box + "(assert (<= Y_0 -0.5))", "p"))
    assert unsat.status == "unsat" and unsat.answer.status == "no_solution"
    assert unsat.answer.arrays is None
    assert unsat.proven_by_bounds == unsat.answer.counts["proven_by_bounds"] == 1
