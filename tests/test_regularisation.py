"""L1 / L2 regularisers and the hinge loss in training objectives, with the real solvers.

Optima are compared with scipy (linprog, SLSQP) or a hand-derived value; the
tangent-line L2 with its stated worst-case error; bad clauses through the CLI.
"""
from __future__ import annotations

import io
import textwrap

import numpy as np
import pytest
from scipy.optimize import linprog, minimize

import nncc
from conftest import run_nncc
from nncc.api import lower, solve
from nncc.encodings.train import encode_train
from nncc.ir.program import Program
from nncc.passes.square_tangents import SquareTangents, tangent_error
from nncc.checks.check_training import check_training

X = np.array([[0.2, 0.1], [1.0, 0.3], [0.1, 0.9], [1.3, 1.1], [2.0, 0.8], [0.9, 1.7]])
Y = np.array([0, 0, 0, 1, 1, 1])
BOX = 4.0

LINEAR = textwrap.dedent(f"""\
    network lin {{ input x[2] dense y[2] weights real in [-{BOX:g}, {BOX:g}] }}
    data d {{ inputs {X.tolist()} labels {Y.tolist()} }}
    """)

# one hidden ReLU unit, two samples: with margin 1/2 the score difference must move by 1
# between x = 0 and x = 1, so |W2[0] - W2[1]| * |w1| >= 1 and the least sum |W| is 2
TINY = """\
network tn { input x[1] dense h[1] relu dense y[2] weights real in [-2, 2] }
data d2 { inputs [[0], [1]] labels [0, 1] }
"""


def _cli(capsys, *args):
    """``nncc ARGS`` in this process (no interpreter start): (exit code, stdout, stderr)."""
    import signal
    from nncc.cli import main
    before = signal.getsignal(signal.SIGPIPE)
    try:
        code = main([str(a) for a in args])
    finally:
        signal.signal(signal.SIGPIPE, before)
    out = capsys.readouterr()
    return code, out.out, out.err


def _query(tmp_path, text: str, name: str = "q.nn"):
    path = tmp_path / name
    path.write_text(text)
    return nncc.load(str(path)).query(), path


def _margin_rows(M: float):
    """``-(W[y] - W[k]) x - (b[y] - b[k]) <= -M`` over (W00 W01 W10 W11 b0 b1)."""
    rows = []
    for x, c in zip(X, Y):
        s = 1.0 if c == 0 else -1.0  # score 0 - score 1, signed towards the label
        rows.append(-s * np.array([x[0], x[1], -x[0], -x[1], 1.0, -1.0]))
    return np.array(rows), np.full(len(X), -M)


def _linprog_hinge_l1(lam: float, G: float) -> float:
    """min sum xi + lam sum |W| s.t. xi_n + s_n(score gap) >= G, xi >= 0 (variables W, b, a, xi)."""
    A, _ = _margin_rows(0.0)
    n = len(X)
    # columns: W (4), b (2), a (4), xi (n)
    c = np.concatenate([np.zeros(6), np.full(4, lam), np.ones(n)])
    ub_rows = [np.concatenate([A[i], np.zeros(4), -np.eye(n)[i]]) for i in range(n)]
    for j in range(4):  # w - a <= 0, -w - a <= 0
        for sgn in (1.0, -1.0):
            r = np.zeros(10 + n)
            r[j], r[6 + j] = sgn, -1.0
            ub_rows.append(r)
    b_ub = np.concatenate([np.full(n, -G), np.zeros(8)])
    bounds = [(-BOX, BOX)] * 6 + [(0, None)] * (4 + n)
    res = linprog(c, A_ub=np.array(ub_rows), b_ub=b_ub, bounds=bounds, method="highs")
    assert res.status == 0
    return float(res.fun)


def _linprog_margin_l1(lam: float, M: float) -> float:
    A, b = _margin_rows(M)
    c = np.concatenate([np.zeros(6), np.full(4, lam)])
    rows = [np.concatenate([a, np.zeros(4)]) for a in A]
    for j in range(4):
        for sgn in (1.0, -1.0):
            r = np.zeros(10)
            r[j], r[6 + j] = sgn, -1.0
            rows.append(r)
    res = linprog(c, A_ub=np.array(rows), b_ub=np.concatenate([b, np.zeros(8)]),
                  bounds=[(-BOX, BOX)] * 6 + [(0, None)] * 4, method="highs")
    assert res.status == 0
    return float(res.fun)


def _slsqp_margin_l2(lam: float, M: float) -> float:
    A, b = _margin_rows(M)
    cons = [{"type": "ineq", "fun": lambda v: b - A @ v, "jac": lambda v: -A}]
    best = np.inf
    for start in (np.array([1.0, 1.0, -1.0, -1.0, 2.0, -2.0]) * -1, np.zeros(6) + 0.5):
        res = minimize(lambda v: lam * np.sum(v[:4] ** 2), start, jac=lambda v: np.r_[2 * lam * v[:4], 0, 0],
                       constraints=cons, bounds=[(-BOX, BOX)] * 6, method="SLSQP",
                       options={"ftol": 1e-12, "maxiter": 500})
        if res.success and np.all(A @ res.x <= b + 1e-7):
            best = min(best, float(res.fun))
    assert np.isfinite(best)
    return best


# ------------------------------------------------------------------ L1: exact LPs

@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_hinge_plus_l1_equals_linprog(tmp_path, solver):
    lam, G = 1.0, 1.0
    q, _ = _query(tmp_path, LINEAR + f"train lin on d {{ minimize hinge margin {G:g} regularize l1 {lam:g} }}")
    ans = solve(q, solver=solver, time_limit=60)
    assert ans.status == "solution" and ans.check.ok, ans.check.problems
    want = _linprog_hinge_l1(lam, G)
    parts = ans.check.parts
    assert parts["total"] == pytest.approx(want, abs=1e-5)
    assert ans.result.objective == pytest.approx(want, abs=1e-5)
    # lambda trades the loss against the weights: here both parts are non-zero
    assert parts["hinge"] > 1e-3 and parts["l1_term"] > 1e-3
    assert parts["l1"] == pytest.approx(np.abs(ans.params["y.weight"]).sum(), abs=1e-12)


def test_margin_l1_equals_linprog_and_lambda_zero_is_plain(tmp_path):
    q, _ = _query(tmp_path, LINEAR + "train lin on d { classify margin 1 regularize l1 0.5 }")
    ans = solve(q, solver="highs", time_limit=60)
    assert ans.status == "solution" and ans.check.ok
    assert ans.check.parts["total"] == pytest.approx(_linprog_margin_l1(0.5, 1.0), abs=1e-6)
    assert ans.check.min_margin >= 1 - 1e-6
    # lambda 0 is the unregularised query: no objective, the same files byte for byte
    plain, _ = _query(tmp_path, LINEAR + "train lin on d { classify margin 1 }", "p.nn")
    zero, _ = _query(tmp_path, LINEAR + "train lin on d { classify margin 1 regularize l1 0 "
                     "regularize l2 0 }", "z.nn")
    assert encode_train(zero).program.objective is None
    for target in ("smtlib", "mps", "lp"):
        texts = []
        for query in (plain, zero):
            buf = io.BytesIO()
            from nncc.api import write_target
            write_target(lower(query, target), buf)
            texts.append(buf.getvalue())
        assert texts[0] == texts[1], target


# ------------------------------------------------------------------ L2: QP and tangents

def test_l2_highs_qp_equals_slsqp(tmp_path, capsys):
    lam = 0.5
    q, path = _query(tmp_path, LINEAR + f"train lin on d {{ classify margin 1 regularize l2 {lam:g} }}")
    comp = lower(q, "mps")
    buf = io.BytesIO()
    from nncc.api import write_target
    write_target(comp, buf)
    assert b"QUADOBJ" in buf.getvalue() and not comp.passes  # the exact QP, no tangents
    ans = solve(q, solver="highs", time_limit=60)
    assert ans.status == "solution" and ans.check.ok, ans.check.problems
    want = _slsqp_margin_l2(lam, 1.0)
    assert ans.check.parts["l2_term"] == pytest.approx(want, rel=1e-5, abs=1e-6)
    assert ans.check.parts["l2"] == pytest.approx(np.sum(ans.params["y.weight"] ** 2), rel=1e-12)
    # cbc would drop the squares: refused, with what to do instead
    code, _, err = _cli(capsys, "solve", path, "--solver", "cbc")
    assert code == 2
    assert "cbc would silently drop" in err and "segments K" in err and "highs" in err
    # cvc5 does not optimise at all
    code, _, err = _cli(capsys, "solve", path, "--solver", "cvc5")
    assert code == 2 and "does not optimise" in err


@pytest.mark.parametrize("solver", ["cbc", "z3"])
def test_l2_tangents_within_the_stated_error(tmp_path, solver):
    lam, K = 0.5, 4
    q, _ = _query(tmp_path, LINEAR + f"train lin on d {{ classify margin 1 regularize l2 {lam:g} "
                  f"segments {K} }}")
    ans = solve(q, solver=solver, time_limit=60)
    assert ans.status == "solution" and ans.check.ok, ans.check.problems
    # the stated bound: lambda * n * (Delta / 2)^2 with Delta = box width / K
    bound = lam * 4 * ((2 * BOX / K) / 2) ** 2
    assert ans.check.approximation == pytest.approx(bound, rel=1e-12)
    assert any(f"at most {bound:.6g}" in n for n in ans.notes)
    true_opt = _slsqp_margin_l2(lam, 1.0)
    claimed, true_here = ans.result.objective, ans.check.parts["total"]
    assert claimed <= true_opt + 1e-6  # tangents under-estimate: a lower bound on the optimum
    assert true_here >= true_opt - 1e-6  # any feasible point is no better than the optimum
    assert true_here <= claimed + bound + 1e-6 and true_here <= true_opt + bound + 1e-6


def test_tangent_rows_bound_the_square_from_below():
    p = Program()
    w = p.add_vars("w", (400,), "real", -1.5, 2.5)
    from nncc.ir.program import Objective
    p.objective = Objective("min", np.zeros(0, np.int64), np.zeros(0), 0.0, w, np.full(400, 2.0))
    out, inv = SquareTangents(5).apply(p)
    assert inv["max_error"] == pytest.approx(2.0 * 400 * (4.0 / 5 / 2) ** 2)
    assert tangent_error(-1.5, 2.5, 5) == pytest.approx(0.16)
    vals = np.linspace(-1.5, 2.5, 400)
    x = np.zeros(out.n_vars)
    x[w] = vals
    rows = out.blocks[-1]
    # t = the largest tangent at each w: set t to 0 and read the rows' shortfall
    t = out.group("l2.tangent").indices()
    act = rows.row_activity(x)  # t - 2 p w with t = 0
    need = (rows.rhs - act).reshape(400, 6).max(axis=1)  # the smallest feasible t per weight
    assert np.all(need <= vals ** 2 + 1e-12) and np.all(need >= vals ** 2 - 0.16 - 1e-12)
    assert np.max(vals ** 2 - need) == pytest.approx(0.16, abs=1e-3)
    assert len(t) == 400


def test_binarised_l2_goes_through_tangents_on_a_milp(tmp_path):
    q, _ = _query(tmp_path, textwrap.dedent("""\
        network b { input x[2] dense h[2] step threshold learned dense y[2] weights real in [-1, 1] }
        data xor { inputs [[0,0],[0,1],[1,0],[1,1]] labels [0,1,1,0] }
        train b on xor { minimize hinge regularize l2 0.01 segments 4 regularize l1 0.02 on y }
        """))
    comp = lower(q, "mps")
    assert [p["pass"] for p in comp.passes][-1] == "square_tangents"
    assert comp.passes[-1]["max_error"] == pytest.approx(0.01 * 8 * (0.5 / 2) ** 2)  # 8 weights
    ans = solve(q, solver="highs", time_limit=60)
    assert ans.status == "solution" and ans.check.ok, ans.check.problems
    parts = ans.check.parts
    assert parts["l2"] == pytest.approx(sum(np.sum(ans.params[k] ** 2) for k in ("h.weight", "y.weight")))
    assert parts["l1"] == pytest.approx(np.abs(ans.params["y.weight"]).sum())  # y only
    assert ans.result.objective <= parts["total"] + 1e-6
    assert parts["total"] <= ans.result.objective + comp.passes[-1]["max_error"] + 1e-6


# ------------------------------------------------------------------ ReLU with a hidden layer

def test_z3_minimises_l1_over_a_hidden_layer(tmp_path):
    q, _ = _query(tmp_path, TINY + "train tn on d2 { classify margin 0.5 regularize l1 0.1 }")
    enc = encode_train(q)
    assert enc.inverse["kind"] == "direct" and any("regulariser is not preserved" in n for n in enc.notes)
    assert enc.program.logic().smt == "QF_NRA"
    ans = solve(q, solver="z3", time_limit=60)
    assert ans.status == "solution" and ans.check.ok, ans.check.problems
    assert ans.check.accuracy == 1.0 and ans.check.min_margin >= 0.5 - 1e-9
    l1 = sum(np.abs(ans.params[k]).sum() for k in ("h.weight", "y.weight"))
    assert l1 == pytest.approx(2.0, abs=1e-9)  # the analytic optimum (see TINY)
    assert ans.check.parts["total"] == pytest.approx(0.2, abs=1e-9)
    plain, _ = _query(tmp_path, TINY + "train tn on d2 { classify margin 0.5 }", "p.nn")
    free = solve(plain, solver="z3", time_limit=60)
    assert l1 <= sum(np.abs(free.params[k]).sum() for k in ("h.weight", "y.weight")) + 1e-9
    # MPS / LP cannot say the products
    with pytest.raises(nncc.errors.TargetError, match="QF_NRA"):
        lower(q, "mps")


def test_per_layer_lambda_only_touches_its_layer(tmp_path):
    q, _ = _query(tmp_path, TINY + "train tn on d2 { classify margin 0.5 regularize l1 0.1 on h }")
    prog = encode_train(q).program
    on_h = prog.group("h.weight.abs").indices().reshape(-1)
    assert set(prog.objective.idx.tolist()) == set(on_h.tolist())
    with pytest.raises(KeyError):
        prog.group("y.weight.abs")
    # a layer's clause overrides the global one: global 0.1 with y at 0 is the same objective
    q2, _ = _query(tmp_path, TINY + "train tn on d2 { classify margin 0.5 regularize l1 0.1 "
                   "regularize l1 0 on y }", "o.nn")
    prog2 = encode_train(q2).program
    assert np.array_equal(prog2.objective.idx, prog.objective.idx)
    assert np.array_equal(prog2.objective.coef, prog.objective.coef)
    ans = solve(q, solver="z3", time_limit=60)
    assert ans.status == "solution" and ans.check.ok
    assert ans.check.parts["l1"] == pytest.approx(np.abs(ans.params["h.weight"]).sum())


def test_normalise_on_regularises_the_normalised_network(tmp_path):
    xor = textwrap.dedent("""\
        network xn { input x[2] dense h[2] relu dense y[2] weights real in [-2, 2] }
        data xor { inputs [[0,0],[0,1],[1,0],[1,1]] labels [0,1,1,0] }
        """)
    q, _ = _query(tmp_path, xor + "train xn on xor { classify margin 0.5 regularize l1 0.1 normalise on }")
    ans = solve(q, solver="highs", time_limit=60)
    assert ans.status == "solution" and ans.check.ok, ans.check.problems
    assert any("applies to the normalised network" in n for n in ans.notes)
    # the hidden layer is regularised as solved (times C = 4), the output layer not at all
    assert ans.check.parts["l1"] == pytest.approx(4 * np.abs(ans.params["h.weight"]).sum(), abs=1e-6)
    assert ans.check.parts["total"] == pytest.approx(ans.result.objective, abs=1e-6)


def test_a_wrong_objective_claim_fails_the_check(tmp_path):
    q, _ = _query(tmp_path, LINEAR + "train lin on d { classify margin 1 regularize l1 0.5 }")
    # score 0 - score 1 = 3.7 - 2 (x0 + x1): every sample on its side by at least 1.1
    params = {"y.weight": np.array([[-1.0, -1.0], [1.0, 1.0]]), "y.bias": np.array([1.85, -1.85])}
    good = check_training(q, params, claimed_objective=None)
    assert good.ok and good.min_margin == pytest.approx(1.1)
    total = good.parts["total"]
    assert total == pytest.approx(0.5 * 4)
    assert check_training(q, params, claimed_objective=total).ok
    bad = check_training(q, params, claimed_objective=total - 0.01)
    assert not bad.ok and "solver claims" in bad.problems[-1]
    # tangent lines may claim less, by at most their stated error, never more
    assert check_training(q, params, claimed_objective=total - 0.01, approximation=0.02).ok
    assert not check_training(q, params, claimed_objective=total + 0.01, approximation=0.02).ok


# ------------------------------------------------------------------ bad input

@pytest.mark.parametrize("clause, fragment, at", [
    ("classify margin 1 regularize l2 0.1 on g", "has no layer 'g'", "g"),
    ("classify margin 1 regularize l1 -0.5", "non-negative number", "-0.5"),
    ("classify margin 1 regularize l2 0.1 on y regularize l2 0.2 on y", "given twice", "regularize l2 0.2"),
    ("classify margin 1 regularize l2 0.1 segments 0", "segments must be an integer >= 1", "0"),
    ("classify margin 1 regularize l1 0.1 segments 4", "'segments' is for 'regularize l2'", "4"),
    ("classify regularize l1 0.1", "has no optimum", "regularize"),
    ("minimize errors regularize l1 0.1", "'minimize errors' is for binarised", "minimize"),
])
def test_bad_regularisers_one_line_error_with_position(tmp_path, capsys, clause, fragment, at):
    path = tmp_path / "bad.nn"
    path.write_text(LINEAR + f"train lin on d {{ {clause} }}\n")
    code, _, err = _cli(capsys, "check", path)
    column = len("train lin on d { ") + clause.rindex(at) + 1
    assert code == 2, err
    first = err.splitlines()[0]  # then the source line and a caret, as for every input error
    assert first.startswith(f"nncc: error: {path}:3:{column}: ") and fragment in first, err
    assert "Traceback" not in err


def test_bad_regulariser_exits_2_from_the_command(tmp_path):
    path = tmp_path / "bad.nn"
    path.write_text(LINEAR + "train lin on d { classify margin 1 regularize l2 0.1 on g }\n")
    r = run_nncc("solve", path)
    assert r.returncode == 2 and f"{path}:3:57: network lin has no layer 'g'" in r.stderr


# ------------------------------------------------------------------ the example

def test_regularised_example_solves_every_query():
    from conftest import EXAMPLES
    doc = nncc.load(str(EXAMPLES / "regularised.nn"))
    totals = {}
    for q in doc.queries:
        ans = solve(q, solver="auto", time_limit=60)
        assert ans.status == "solution" and ans.check.ok, (q.name, ans.check.problems)
        assert ans.check.parts["total"] == pytest.approx(ans.result.objective, rel=1e-5, abs=1e-7)
        totals[q.name] = ans.check.parts["total"]
    # the values the README and the example's comments describe
    assert totals["sparse"] == pytest.approx(_linprog_margin_l1(0.5, 1.0), abs=1e-6)
    assert totals["traded"] == pytest.approx(3.0625, abs=1e-6)
    assert totals["hidden"] == pytest.approx(0.1 * 0.25, abs=1e-9)  # |w1| >= 1/4 with |W2 diff| <= 4
