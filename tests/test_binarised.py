"""Binarised networks (step / sign activations) trained as MILPs, end to end with real solvers."""
import itertools
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import EXAMPLES, ROOT, assert_nn_error, run_nncc, write

import nncc
from nncc.api import solve
from nncc.checks.check_binarised import check_binarised
from nncc.export.onnx_export import run_onnx


def _doc(tmp_path, text, name="b.nn"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return nncc.load(str(path)), path


# integer data and integer / two-value weights: every margin is an integer, so
# "z >= 0" / "z <= -eps" and "wins by eps" are exactly the network's rules
TINY = """
network t {
    input x[2]
    dense h[2] step threshold learned
    weights in {-1, 1}
    bias int in [-1, 1]
    dense y[2]
    weights in {-1, 1}
    bias int in [-1, 1]
}
data d {
    inputs [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [0, 2], [2, 2]]
    labels [0, 1, 1, 0, 1, 1, 0]
}
train t on d { minimize errors }
"""


def _brute_force_errors(X, y):
    """The fewest errors of TINY's network over every parameter choice (20,736 of them)."""
    pm = np.array(list(itertools.product([-1.0, 1.0], repeat=4)))  # 2x2 weight matrices
    bias = np.array(list(itertools.product([-1.0, 0.0, 1.0], repeat=2)))
    best = len(y)
    for W1 in pm.reshape(-1, 2, 2):
        for b1 in bias:
            H = (X @ W1.T + b1 >= 0).astype(float)  # (N, 2)
            # every output layer at once: scores (choices, N, 2)
            for W2 in pm.reshape(-1, 2, 2):
                S = (H @ W2.T)[None] + bias[:, None, :]
                own = np.take_along_axis(S, np.broadcast_to(y[None, :, None], (len(bias), len(y), 1)), 2)[..., 0]
                other = np.take_along_axis(S, np.broadcast_to(1 - y[None, :, None], (len(bias), len(y), 1)), 2)[..., 0]
                best = min(best, int((own <= other).sum(axis=1).min()))
    return best


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_milp_optimum_equals_brute_force(tmp_path, solver):
    doc, _ = _doc(tmp_path, TINY)
    q = doc.query()
    ans = solve(q, solver=solver, time_limit=60)
    assert ans.status == "solution"
    expected = _brute_force_errors(q.data.X, q.data.y)
    assert ans.check.ok, ans.check.problems
    assert ans.check.claimed_errors == expected
    assert ans.check.errors == expected  # recomputed by the forward pass
    assert ans.check.proven_optimal
    W = ans.params["h.weight"]
    assert set(np.unique(W)) <= {-1.0, 1.0}
    assert set(np.unique(ans.params["y.bias"])) <= {-1.0, 0.0, 1.0}


XOR = """
network b {
    input x[2]
    dense h[3] step threshold learned
    dense y[2]
    weights real in [-1, 1]
}
data xor {
    inputs [[0,0], [0,1], [1,0], [1,1], [0.5, 0.5], [0.9, 0.1]]
    labels [0, 1, 1, 0, 1, 1]
}
train b on xor { minimize errors }
"""


def test_xor_real_weights_npz_and_onnx_reproduce_predictions(tmp_path):
    _, path = _doc(tmp_path, XOR)
    npz, onnx_path = tmp_path / "w.npz", tmp_path / "w.onnx"
    r = run_nncc("solve", path, "--solver", "highs", "-o", npz, "--onnx", onnx_path, "--json")
    assert r.returncode == 0, r.stderr
    import json
    rep = json.loads(r.stdout)
    assert rep["check"]["errors"] == 0 and rep["check"]["claimed_errors"] == 0
    doc = nncc.load(str(path))
    q = doc.query()
    params = dict(np.load(npz))
    assert set(params) == {"h.weight", "h.bias", "y.weight", "y.bias"}
    scores = q.network.forward(params, q.data.X)
    assert np.array_equal(np.argmax(scores, 1), q.data.y)
    onnx_scores = run_onnx(str(onnx_path), q.data.X)
    assert np.array_equal(np.argmax(onnx_scores, 1), np.argmax(scores, 1))
    # the hidden layer really is a step: its ONNX graph has GreaterOrEqual and Where
    import onnx
    ops = [n.op_type for n in onnx.load(str(onnx_path)).graph.node]
    assert ops == ["Gemm", "GreaterOrEqual", "Where", "Gemm"]


def test_blanket_big_m_same_optimum_and_smtlib(tmp_path):
    """The blanket M gives the same optimum as the per-unit M; z3 (SMT-LIB) agrees."""
    text = XOR.replace("labels [0, 1, 1, 0, 1, 1]", "labels [0, 1, 1, 0, 0, 1]")
    doc, _ = _doc(tmp_path, text)
    unit = solve(doc.query(), solver="highs", time_limit=60)
    blanket_doc, _ = _doc(tmp_path, text.replace("minimize errors", "minimize errors big-m blanket"),
                          "s.nn")
    old_doc, _ = _doc(tmp_path, text.replace("minimize errors", "minimize errors big-m seed"), "o.nn")
    assert blanket_doc.query().big_m == old_doc.query().big_m == "blanket"  # the old spelling
    blanket = solve(blanket_doc.query(), solver="highs", time_limit=60)
    smt = solve(doc.query(), solver="z3", time_limit=60)
    for a in (unit, blanket, smt):
        assert a.status == "solution" and a.check.ok, a.check.problems
    assert unit.check.errors == blanket.check.errors == smt.check.errors
    assert unit.compilation.encoded.inverse["max_M"] < blanket.compilation.encoded.inverse["max_M"]


def test_sign_two_hidden_layers_int_weights_cbc(tmp_path):
    text = """
    network b {
        input x[2]
        dense h[2] sign threshold learned
        weights int in [-2, 2]
        dense g[2] step levels [-1, 2] threshold 0.5
        weights in {-1, 1}
        dense y[3]
    }
    data d {
        inputs [[0,0], [0,1], [1,0], [1,1], [2, 1]]
        labels [0, 1, 1, 0, 2]
    }
    train b on d { minimize errors }
    """
    doc, _ = _doc(tmp_path, text)
    ans = solve(doc.query(), solver="highs", time_limit=60)
    assert ans.status == "solution" and ans.check.ok, ans.check.problems
    assert ans.check.errors == ans.check.claimed_errors
    assert np.all(ans.params["g.bias"] == -0.5)  # threshold 0.5 is fixed
    assert np.all(np.isin(ans.params["g.weight"], [-1.0, 1.0]))
    check = check_binarised(doc.query(), ans.params)
    assert check.ok and check.onnx_accuracy == check.accuracy


def test_local_search_is_reported_as_such(tmp_path):
    # a sample repeated with the other label: at least one error, so never proven by 0 errors
    text = XOR.replace("[0.9, 0.1]]", "[0.9, 0.1], [0, 0]]").replace("labels [0, 1, 1, 0, 1, 1]", "labels [0, 1, 1, 0, 1, 1, 1]")
    doc, path = _doc(tmp_path, text.replace("minimize errors", "minimize errors method local-search seed 3"))
    r = run_nncc("solve", path, "--time-limit", "3", env={"NNCC_PROGRESS": "1"})
    assert r.returncode == 3, r.stderr  # a checked answer, not proven optimal
    assert "local search, not proven optimal" in r.stdout
    assert "proven optimal)" not in r.stdout.replace("not proven optimal)", "")
    assert "incumbent training accuracy" in r.stderr
    ans = solve(doc.query(), time_limit=3)
    assert ans.status == "unknown" and ans.checked_unproven
    assert ans.check.method == "local-search"
    assert ans.check.errors == ans.check.claimed_errors >= 1  # recomputed = claimed
    # without the contradiction the local search reaches 0 errors: optimal, exit 0
    _, easy = _doc(tmp_path, XOR.replace("minimize errors", "minimize errors method local-search"), "e.nn")
    r = run_nncc("solve", easy, "--time-limit", "20")
    assert r.returncode == 0 and "no errors, so optimal" in r.stdout, r.stdout


def test_breast_cancer_original_and_splits(tmp_path):
    from nncc.problem.datasets_binarised import overlapping_uniform
    doc, _ = _doc(tmp_path, """
    data a = bundled "breast_cancer_original" missing drop split 80/20 seed 1
    data b = bundled "breast_cancer_original" missing median
    data c = bundled "breast_cancer" split 80/20 seed 1
    """)
    a, b = doc.datasets["a"], doc.datasets["b"]
    assert (a.n_samples, a.n_features) == (683, 9) and (b.n_samples, b.n_features) == (699, 9)
    assert np.isfinite(b.X).all() and int(b.y.sum()) == 241
    tr, te = doc.datasets["a.train"], doc.datasets["a.test"]
    assert (tr.n_samples, te.n_samples) == (546, 137)
    assert doc.datasets["c.train"].n_features == 30 and doc.datasets["c"].n_samples == 569
    X, y = overlapping_uniform()
    assert X.shape == (200, 100) and y.sum() == 100


@pytest.mark.parametrize("text, fragment, line, column", [
    ("""network b {
    input x[2]
    dense h[2] step
    dense y[2] step
}""", "output layer of a binarised network", 4, 5),
    ("""network b {
    input x[2]
    dense h[2] step
    dense y[2]
}
data d { inputs [[0, 1], [1, 0]] labels [0, 1] }
train b on d { classify margin 0.1 }""", "'classify' is for ReLU networks", 7, 16),
    ("""network b {
    input x[2]
    dense h[2] relu
    dense y[2]
}
data d { inputs [[0, 1], [1, 0]] labels [0, 1] }
train b on d { classify  method local-search }""", "for binarised networks", 7, 26),
    ("""network b {
    input x[2]
    dense h[2] step levels [1, 1]
    dense y[2]
}""", "are equal", 3, 16),
])
def test_bad_input_points_at_the_mistake(tmp_path, text, fragment, line, column):
    assert_nn_error(tmp_path, text, fragment, line, column)


def test_bad_input_cli_one_line_exit_2(tmp_path):
    path = tmp_path / "q.nn"
    path.write_text("network b { input x[2] dense h[2] step dense y[2] step }\n")
    r = run_nncc("check", path)
    assert r.returncode == 2
    assert r.stderr.startswith(f"nncc: error: {path}:1:")
    assert "Traceback" not in r.stderr


def test_example_nn_solves(tmp_path):
    doc = nncc.load(str(EXAMPLES / "bdnn.nn"))
    ans = solve(doc.query(), solver="highs", time_limit=60)
    assert ans.status == "solution" and ans.check.ok
    assert ans.check.errors == ans.check.claimed_errors
    ls = solve(doc.query("local"), time_limit=3)
    assert ls.check.ok and ls.check.method == "local-search"


def test_local_search_steps_are_limited_in_cpu_seconds_not_wall_clock():
    """A sub-problem's limit is CPU seconds of the process (HiGHS's interrupt callback):
    the example's first step (the MILP of 40 rows, about 1 CPU second) is cut short at
    0.1 CPU s and solved to optimality without a limit."""
    from nncc.encodings.binarised import encode_binarised
    from nncc.passes.bool_product_linearisation import BoolProductLinearisation
    from nncc.passes.reduction import apply_chain
    from nncc.pipeline.local_search import solve_program_in_process
    from nncc.solvers.highs_inprocess import quiet_highs
    first = quiet_highs()   # another in-process HiGHS model first (LP bounds, the centring LP):
    first.run()             # a sub-problem asking for another thread count would then fail
    q = nncc.load(str(EXAMPLES / "bdnn.nn")).query("local")
    prog, _ = apply_chain(encode_binarised(q, 1e-4).program, [BoolProductLinearisation()])
    x, obj, bound = solve_program_in_process(prog, None)
    assert x is not None and obj == pytest.approx(bound, abs=1e-6)
    x, obj, bound = solve_program_in_process(prog, None, cpu_limit=0.1)
    assert x is None or bound < obj - 0.5   # interrupted: not proven


def test_local_search_takes_the_same_steps_on_a_loaded_machine():
    """With busy processes beside it, the example's local search (the default budget:
    CPU seconds) takes the steps it takes idle and reaches every training row."""
    idle = solve(nncc.load(str(EXAMPLES / "bdnn.nn")).query("local"))
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(3)]
    try:
        loaded = solve(nncc.load(str(EXAMPLES / "bdnn.nn")).query("local"))
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    for ans in (idle, loaded):
        assert ans.status == "solution" and ans.check.ok and ans.check.accuracy == 1.0
    steps = lambda a: a.result.message.split(",")[:2]  # noqa: E731  restarts, sub-problems
    assert steps(loaded) == steps(idle)


def test_experiment_script_and_benchmark_run_small(tmp_path):
    env_root = {"PYTHONPATH": str(ROOT)}
    import os
    env = dict(os.environ, **env_root)
    r = subprocess.run([sys.executable, str(EXAMPLES / "bdnn_breast_cancer.py"), "--smoke",
                        "--out", str(tmp_path)], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "bdnn_breast_cancer.csv").exists() and (tmp_path / "bdnn_breast_cancer.png").exists()
    import csv
    rows = list(csv.DictReader(open(tmp_path / "bdnn_breast_cancer.csv")))
    methods = {row["method"] for row in rows}
    assert methods == {"BDNN", "BDNN0", "local search", "BDNN0 local search", "MLP"}
    for row in rows:
        assert 0.0 <= float(row["test_mean"]) <= 1.0
        assert float(row["test_min"]) <= float(row["test_mean"]) <= float(row["test_max"])
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bdnn_big_m.py"), "--smoke"],
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    assert "ratio" in r.stdout


def test_compiled_solved_by_hand_and_decoded(tmp_path):
    """nncc compile -> highs run by hand -> nncc decode: the same check, the weights written."""
    import json
    _, path = _doc(tmp_path, XOR)
    out = tmp_path / "b.lp"
    r = run_nncc("compile", path, "--target", "lp", "-o", out)
    assert r.returncode == 0, r.stderr
    from nncc.solvers.registry import load_registry
    spec = load_registry().get("highs")
    sol = tmp_path / "b.sol"
    subprocess.run(spec.executable() + ["--model_file", str(out), "--solution_file", str(sol)],
                   capture_output=True, timeout=120, env=spec.child_env(), check=True)
    d = run_nncc("decode", f"{out}.map.json", sol, "-o", tmp_path / "w.npz", "--onnx",
                 tmp_path / "w.onnx", "--json")
    assert d.returncode == 0, d.stdout + d.stderr
    rep = json.loads(d.stdout)
    assert rep["check"]["ok"] and rep["check"]["errors"] == 0 == rep["check"]["claimed_errors"]
    doc = nncc.load(str(path))
    q = doc.query()
    params = dict(np.load(tmp_path / "w.npz"))
    assert np.array_equal(np.argmax(q.network.forward(params, q.data.X), 1), q.data.y)


# ---------------------------------------------------------------- regularisers, robust, hinge

def _tiny_outcomes(X, y, w1, b1, w2, b2, radius=0.0, hinge_margin=1.0):
    """Over every parameter choice of a 2-2-2 step network with weights / biases from the
    given values: the fewest (robust) errors, the smallest hinge loss, the largest
    smallest margin. A sample is a robust error unless it is classified correctly and
    every hidden unit keeps its side of the threshold over the L-infinity ball."""
    X, y = np.asarray(X, float), np.asarray(y)
    W1s = np.array(list(itertools.product(w1, repeat=4)), float).reshape(-1, 2, 2)
    B1s = np.array(list(itertools.product(b1, repeat=2)), float)
    W2s = np.array(list(itertools.product(w2, repeat=4)), float).reshape(-1, 2, 2)
    B2s = np.array(list(itertools.product(b2, repeat=2)), float)
    best_err, best_hinge, best_margin = len(y), np.inf, -np.inf
    sel = np.broadcast_to(y[None, None, :, None], (len(W2s), len(B2s), len(y), 1))
    for W1 in W1s:
        spread = radius * np.abs(W1).sum(axis=1)
        for b in B1s:
            Z = X @ W1.T + b
            H = (Z >= 0).astype(float)
            steady = np.all(np.where(Z >= 0, Z - spread >= 0, Z + spread < 0), axis=1)
            S = np.einsum("nh,wkh->wnk", H, W2s)[:, None] + B2s[None, :, None, :]
            m = np.take_along_axis(S, sel, -1)[..., 0] - np.take_along_axis(S, 1 - sel, -1)[..., 0]
            best_err = min(best_err, int(((m <= 0) | ~steady).sum(-1).min()))
            best_hinge = min(best_hinge, float(np.maximum(hinge_margin - m, 0).sum(-1).min()))
            best_margin = max(best_margin, float(m.min(-1).max()))
    return best_err, best_hinge, best_margin


TINY_X = [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [0, 2], [2, 2]]
TINY_Y = [0, 1, 1, 0, 1, 1, 0]


def _weights_npz(tmp_path, path, *args):
    npz = tmp_path / "w.npz"
    r = run_nncc("solve", path, "--solver", "highs", "-o", npz, "--json", *args)
    import json
    return r, (json.loads(r.stdout) if r.stdout.strip() else None), (dict(np.load(npz)) if npz.exists() else None)


def test_l1_term_recomputed_from_exported_weights(tmp_path):
    _, plain_path = _doc(tmp_path, XOR, "plain.nn")
    _, path = _doc(tmp_path, XOR.replace("minimize errors", "minimize errors regularize l1 0.01"))
    r, rep, w = _weights_npz(tmp_path, path)
    assert r.returncode == 0, r.stderr
    chk = rep["check"]
    assert chk["ok"] and chk["errors"] == 0
    l1 = sum(np.abs(w[k]).sum() for k in ("h.weight", "y.weight"))
    assert chk["parts"]["l1"] == pytest.approx(l1, abs=1e-12)
    assert chk["parts"]["l1_term"] == pytest.approx(0.01 * l1, abs=1e-12)
    assert chk["parts"]["total"] == pytest.approx(chk["claimed_objective"], abs=1e-6)
    plain = solve(nncc.load(str(plain_path)).query(), solver="highs", time_limit=60)
    # the unregularised optimum has the same errors (0) and no smaller L1
    assert plain.check.errors == 0
    assert l1 <= sum(np.abs(plain.params[k]).sum() for k in ("h.weight", "y.weight")) + 1e-6
    txt = run_nncc("solve", path, "--solver", "highs")
    assert "+ l1 " in txt.stdout and "recomputed from the weights" in txt.stdout


def test_l0_larger_lambda_never_more_nonzeros(tmp_path):
    text = XOR.replace("labels [0, 1, 1, 0, 1, 1]", "labels [0, 1, 1, 0, 0, 1]")
    counts, errors = [], []
    for lam in (0.02, 0.3, 1.5, 8):
        doc, _ = _doc(tmp_path, text.replace("minimize errors", f"minimize errors regularize l0 {lam}"),
                      f"l0_{lam}.nn")
        ans = solve(doc.query(), solver="highs", time_limit=60)
        assert ans.status == "solution" and ans.check.ok, ans.check.problems
        nnz = sum(int(np.count_nonzero(ans.params[k])) for k in ("h.weight", "y.weight"))
        assert ans.check.parts["nonzero"] == nnz
        assert ans.check.parts["total"] == pytest.approx(ans.check.errors + lam * nnz, abs=1e-6)
        assert ans.check.parts["total"] == pytest.approx(ans.result.objective, abs=1e-6)
        counts.append(nnz)
        errors.append(ans.check.errors)
    assert counts == sorted(counts, reverse=True), counts
    assert errors == sorted(errors), errors
    assert counts[-1] == 0  # 8 per weight: cheaper to misclassify every sample of a class


def test_nonzero_budget_is_hard(tmp_path):
    base = XOR.replace("labels [0, 1, 1, 0, 1, 1]", "labels [0, 1, 1, 0, 0, 1]")
    free = solve(_doc(tmp_path, base, "free.nn")[0].query(), solver="highs", time_limit=60)
    found = {}
    for k in (0, 3):
        doc, _ = _doc(tmp_path, base.replace("minimize errors", f"minimize errors nonzero at most {k}"),
                      f"k{k}.nn")
        ans = solve(doc.query(), solver="highs", time_limit=60)
        assert ans.status == "solution" and ans.check.ok, ans.check.problems
        nnz = sum(int(np.count_nonzero(ans.params[n])) for n in ("h.weight", "y.weight"))
        assert nnz <= k and ans.check.parts["nonzero"] == nnz
        found[k] = ans.check.errors
    assert found[0] == 3  # no weights: the biases pick one class for every sample (3 of each)
    assert free.check.errors <= found[3] <= found[0]


ROBUST = """
network t {
    input x[2]
    dense h[2] step threshold learned
    weights int in [-1, 1]
    bias int in [-1, 1]
    dense y[2]
    weights in {-1, 1}
    bias int in [-1, 1]
}
data d {
    inputs [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [0, 2], [2, 2]]
    labels [0, 1, 1, 0, 1, 1, 0]
}
train t on d { minimize errors robust linf 0.5 }
"""


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_robust_optimum_equals_brute_force(tmp_path, solver):
    doc, _ = _doc(tmp_path, ROBUST)
    q = doc.query()
    ans = solve(q, solver=solver, time_limit=60)
    assert ans.status == "solution" and ans.check.ok, ans.check.problems
    nominal, _, _ = _tiny_outcomes(TINY_X, TINY_Y, [-1, 0, 1], [-1, 0, 1], [-1, 1], [-1, 0, 1])
    robust, _, _ = _tiny_outcomes(TINY_X, TINY_Y, [-1, 0, 1], [-1, 0, 1], [-1, 1], [-1, 0, 1],
                                  radius=0.5)
    assert nominal < robust  # the ball costs something here
    assert ans.check.parts["robust_errors"] == robust == round(ans.result.objective)
    # every sample the network gets robustly right: each first-layer unit keeps its side
    # at every corner of the ball (the worst case of a linear layer is a corner)
    X, y = q.data.X, q.data.y
    W, b = ans.params["h.weight"], ans.params["h.bias"]
    scores = q.network.forward(ans.params, X)
    corners = np.array(list(itertools.product([-0.5, 0.5], repeat=2)))
    good = 0
    for n in range(len(y)):
        side = X[n] @ W.T + b >= 0
        steady = all(np.array_equal((X[n] + c) @ W.T + b >= 0, side) for c in corners)
        good += bool(steady and np.argmax(scores[n]) == y[n])
    assert good == len(y) - robust


def test_hinge_and_margin_equal_brute_force(tmp_path):
    _, hinge, _ = _tiny_outcomes(TINY_X, TINY_Y, [-1, 1], [-1, 0, 1], [-1, 1], [-1, 0, 1],
                                 hinge_margin=3.0)
    _, _, margin = _tiny_outcomes(TINY_X, TINY_Y, [-1, 1], [-1, 0, 1], [-1, 1], [-1, 0, 1])
    doc, _ = _doc(tmp_path, TINY.replace("minimize errors", "minimize hinge margin 3"))
    ans = solve(doc.query(), solver="highs", time_limit=60)
    assert ans.status == "solution" and ans.check.ok, ans.check.problems
    assert ans.check.parts["hinge"] == pytest.approx(hinge) == pytest.approx(ans.result.objective)
    doc, _ = _doc(tmp_path, TINY.replace("minimize errors", "maximize margin"), "m.nn")
    for solver in ("highs", "z3"):
        ans = solve(doc.query(), solver=solver, time_limit=60)
        assert ans.status == "solution" and ans.check.ok, ans.check.problems
        assert ans.check.parts["margin"] == pytest.approx(margin)


def test_three_classes_hinge(tmp_path):
    text = """
    network b {
        input x[2]
        dense h[3] step threshold learned
        dense y[3]
        weights real in [-1, 1]
    }
    data d {
        inputs [[0, 0], [1, 0], [0, 1], [1, 1], [0.2, 0.1], [0.9, 0.2]]
        labels [0, 1, 2, 0, 0, 1]
    }
    train b on d { minimize hinge margin 0.5 regularize l1 0.01 }
    """
    doc, _ = _doc(tmp_path, text)
    ans = solve(doc.query(), solver="highs", time_limit=60)
    assert ans.status == "solution" and ans.check.ok, ans.check.problems
    s = doc.query().network.forward(ans.params, doc.query().data.X)
    y = doc.query().data.y
    other = np.where(np.arange(3)[None] == y[:, None], -np.inf, s).max(1)
    hinge = np.maximum(0.5 - (s[np.arange(len(y)), y] - other), 0).sum()
    l1 = sum(np.abs(ans.params[k]).sum() for k in ("h.weight", "y.weight"))
    assert ans.check.parts["hinge"] == pytest.approx(hinge, abs=1e-9)
    assert hinge + 0.01 * l1 == pytest.approx(ans.result.objective, abs=1e-6)


_NET = """network b {
    input x[2]
    dense h[2] step
    dense y[2]
}
data d { inputs [[0, 1], [1, 0]] labels [0, 1] }
"""


@pytest.mark.parametrize("clause, fragment, at", [
    ("minimize errors regularize l1 -1", "non-negative number", "-1"),
    ("nonzero 10%", "nonzero at most K", "nonzero"),
    ("minimize errors nonzero at most 2.5", "non-negative integer", "2.5"),
    ("minimize hinge robust linf 0.1", "'robust' is for 'minimize errors'", "robust"),
    ("maximize margin regularize l0 1", "takes no regulariser", "regularize"),
    ("minimize errors margin 1", "'margin' is for 'minimize hinge'", "1"),
    ("minimize errors regularize l3 1", "", None),
    ("minimize hinge margin 0", "positive number", "0"),
    ("minimize errors regularize l1 0.1 method local-search", "needs 'method milp'", "method"),
    ("minimize errors nonzero at most 3 method local-search", "needs 'method milp'", "method"),
])
def test_bad_regulariser_clauses(tmp_path, clause, fragment, at):
    """One-line error pointing at the offending word (the clause's value, or the clause)."""
    if at is None:  # a parse error (no such regulariser)
        r_path = tmp_path / "q.nn"
        r_path.write_text(_NET + f"train b on d {{ {clause} }}")
        r = run_nncc("check", r_path)
        assert r.returncode == 2 and r.stderr.startswith(f"nncc: error: {r_path}:7:")
        assert "Traceback" not in r.stderr
        return
    column = len("train b on d { ") + clause.rindex(at) + 1
    assert_nn_error(tmp_path, _NET + f"train b on d {{ {clause} }}", fragment, 7, column)


def test_regularised_compiled_solved_by_hand_and_decoded(tmp_path):
    """The symbol map carries the regularisers: decode recomputes the same parts."""
    import json
    text = XOR.replace("minimize errors", "minimize errors regularize l1 0.01 regularize l0 0.02 "
                       "nonzero at most 9 robust linf 0.05")
    _, path = _doc(tmp_path, text)
    out = tmp_path / "b.mps"
    assert run_nncc("compile", path, "--target", "mps", "-o", out).returncode == 0
    from nncc.solvers.registry import load_registry
    spec = load_registry().get("highs")
    sol = tmp_path / "b.sol"
    subprocess.run(spec.executable() + ["--model_file", str(out), "--solution_file", str(sol)],
                   capture_output=True, timeout=120, env=spec.child_env(), check=True)
    d = run_nncc("decode", f"{out}.map.json", sol, "-o", tmp_path / "w.npz", "--json")
    assert d.returncode == 0, d.stdout + d.stderr
    chk = json.loads(d.stdout)["check"]
    w = dict(np.load(tmp_path / "w.npz"))
    W = [w["h.weight"], w["y.weight"]]
    nnz = sum(int(np.count_nonzero(a)) for a in W)
    l1 = sum(float(np.abs(a).sum()) for a in W)
    p = chk["parts"]
    assert chk["ok"] and p["nonzero"] == nnz <= 9 and p["l1"] == pytest.approx(l1, abs=1e-12)
    assert p["total"] == pytest.approx(p["robust_errors"] + 0.01 * l1 + 0.02 * nnz, abs=1e-12)
    assert p["total"] == pytest.approx(chk["claimed_objective"], abs=1e-6)


def test_robust_local_search_counts_robust_errors(tmp_path):
    """The local search with 'robust linf': its count is the robust one, re-checked, and
    never below the proven optimum (brute force)."""
    _, path = _doc(tmp_path, ROBUST.replace("robust linf 0.5", "robust linf 0.5 method local-search seed 1"))
    doc = nncc.load(str(path))
    ans = solve(doc.query(), time_limit=4)
    assert ans.check.ok and ans.check.method == "local-search", ans.check.problems
    robust, _, _ = _tiny_outcomes(TINY_X, TINY_Y, [-1, 0, 1], [-1, 0, 1], [-1, 1], [-1, 0, 1],
                                  radius=0.5)
    assert ans.check.claimed_errors == ans.check.parts["robust_errors"] >= robust
    q = doc.query()
    from nncc.checks.check_binarised import robust_correct
    assert ans.check.claimed_errors == int(np.sum(~robust_correct(q.network, ans.params, q.data.X,
                                                                  q.data.y, 0.5)))


def test_two_losses_rejected(tmp_path):
    assert_nn_error(tmp_path, _NET + "train b on d { minimize errors\n    maximize margin }",
                    "a loss given twice (first at line 7)", 8, 5)


def test_robust_experiment_script_runs_small():
    import os
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, str(EXAMPLES / "bdnn_robust.py"), "--radii", "0", "0.05",
                        "--rows", "30", "--width", "2", "--shuffles", "1", "--time-limit", "5"],
                       capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    lines = [l.split() for l in r.stdout.splitlines() if l.strip() and not l.startswith(("#", " radius"))]
    assert [l[0] for l in lines] == ["0", "0.05"] and all(l[1] == "1/1" for l in lines)
    assert all(0.0 <= float(l[4]) <= float(l[3]) <= 1.0 for l in lines)  # robust <= plain accuracy


def test_solver_progress_is_training_accuracy():
    """The live solver line of a fewest-errors query speaks of training accuracy;
    other queries keep the solver's own words."""
    from types import SimpleNamespace as NS

    from nncc.pipeline.solve import _ticks
    q = NS(kind="train", objective="errors", l1=0.0, l0=0.0, network=NS(binarised=True),
           data=NS(y=[0] * 40))
    seen = []
    tick = _ticks(q, lambda elapsed, text: seen.append(text))
    tick(1.0, "incumbent 3, bound 0, gap 100%")
    tick(1.5, None)
    assert seen == ["training accuracy 92.5% (3 errors), at most 100.0%, gap 100%", None]
    q.l1 = 0.1  # the objective is no longer a count of errors
    seen.clear()
    _ticks(q, lambda elapsed, text: seen.append(text))(1.0, "incumbent 3.2")
    assert seen == ["incumbent 3.2"]


def test_a_broken_dataset_is_reported_where_it_is_used(tmp_path):
    """Datasets are read when first used: a file whose unused dataset is broken loads; the
    dataset's error (at its declaration) comes with its first use, and nncc check, which
    reads every dataset, reports it."""
    from conftest import run_nncc
    from nncc.errors import InputError
    from nncc.frontend.semantics import load_document
    text = 'data c = bundled "breast_cancer_original"\n'
    path = write(tmp_path / "c.nn", text)
    doc = load_document(str(path))
    with pytest.raises(InputError, match="16 missing values") as e:
        doc.datasets["c"]
    assert (e.value.pos.line, e.value.pos.column) == (1, 1)
    r = run_nncc("check", path)
    assert r.returncode == 2 and "16 missing values" in r.stderr and "c.nn:1:1" in r.stderr
