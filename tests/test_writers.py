"""The SMT-LIB, MPS and LP writers, checked by the real solvers reading their output.

z3 runs as a binary; cvc5 through its Python InputParser (the wheel has no
binary); highs and cbc as binaries on MPS and LP files.
"""
from __future__ import annotations

import dataclasses
import io
import os
import re
import subprocess
from fractions import Fraction

import numpy as np
import pytest

from conftest import z3_argv

from nncc.errors import TargetError
from nncc.ir.program import (BOOL, EQ, GE, GT, INT, KINDS, LE, LT, REAL, BoolProductBlock,
                             LinearBlock, NonzeroBlock, Objective, Program, QuadraticBlock, ReluBlock)
from nncc.writers.lp_writer import write_lp
from nncc.writers import mps_writer
from nncc.writers.mps_writer import write_mps
from nncc.writers.smtlib_writer import write_smtlib
from nncc.writers.text_columns import name_table, shortest_decimals, shortest_repr

# -- solver drivers -------------------------------------------------------------------------------


def smt_text(p: Program, **kw) -> str:
    buf = io.BytesIO()
    write_smtlib(p, buf, **kw)
    return buf.getvalue().decode("ascii")


def z3_run(text: str) -> str:
    r = subprocess.run([*z3_argv(), "-in", "-smt2"], input=text, capture_output=True, text=True,
                       timeout=60)
    # after unsat, get-value is an error ("model is not available"); anything else is our fault
    errors = [l for l in r.stdout.splitlines() if "error" in l and "model is not available" not in l]
    assert not errors, r.stdout
    return r.stdout


def cvc5_run(text: str) -> str:
    cvc5 = pytest.importorskip("cvc5")
    tm = cvc5.TermManager()
    solver = cvc5.Solver(tm)
    sm = cvc5.SymbolManager(tm)
    parser = cvc5.InputParser(solver, sm)
    parser.setStringInput(cvc5.InputLanguage.SMT_LIB_2_6, text, "nncc")
    out = []
    while True:
        cmd = parser.nextCommand()
        if cmd.isNull():
            break
        try:
            out.append(cmd.invoke(solver, sm))
        except RuntimeError as e:  # get-value after unsat
            assert out and out[-1].startswith("unsat"), (e, out)
            break
    return "".join(out)


def status(output: str) -> str:
    return output.split()[0] if output.split() else ""


def _sexp_number(s: str) -> Fraction:
    s = s.strip()
    if s.startswith("(-"):
        return -_sexp_number(s[2:-1])
    if s.startswith("(/"):
        a, b = s[2:-1].split()
        return Fraction(a.strip("()")) / Fraction(b)
    return Fraction(s)


def z3_values(output: str) -> dict[str, Fraction]:
    """Values printed by z3's get-value, one entry per line."""
    vals = {}
    for m in re.finditer(r"\((\w+) (\(.*?\)|[^()\s]+)\)\)?\s*$", output, re.M):
        if m.group(2) in ("true", "false"):
            continue
        vals[m.group(1)] = _sexp_number(m.group(2))
    return vals


def _both_smt(p: Program, **kw) -> tuple[str, str]:
    text = smt_text(p, **kw)
    return status(z3_run(text)), status(cvc5_run(text))


def highs_run(path: str) -> tuple[str, float | None]:
    highsbox = pytest.importorskip("highsbox")
    env = dict(os.environ, LD_LIBRARY_PATH=highsbox.highs_lib_dir())
    sol = path + ".sol"
    r = subprocess.run([highsbox.highs_bin_path(), "--model_file", path, "--solution_file", sol],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    text = open(sol).read()
    st = text.split("\n")[1].strip()  # "Model status" then the status
    obj = None
    if st == "Optimal":
        obj = float(re.search(r"^Objective (\S+)", text, re.M).group(1))
    return {"Optimal": "optimal", "Infeasible": "infeasible"}.get(st, st), obj


def cbc_path() -> str:
    pulp = pytest.importorskip("pulp")
    return os.path.join(os.path.dirname(pulp.__file__), "solverdir/cbc/linux/i64/cbc")


def cbc_run(path: str) -> tuple[str, float | None]:
    sol = path + ".csol"
    if os.path.exists(sol):
        os.unlink(sol)
    r = subprocess.run([cbc_path(), path, "-solve", "-solu", sol], capture_output=True, text=True,
                       timeout=60)
    bad = [l for l in r.stdout.splitlines()
           if re.search(r"error", l, re.I) and not re.search(r"with 0 errors", l)]
    assert not bad, r.stdout
    head = open(sol).readline()
    if head.startswith("Optimal"):
        return "optimal", float(head.split()[-1])
    if "nfeasible" in head:
        return "infeasible", None
    return head.strip(), None


def milp_results(p: Program, tmp_path, name="m") -> dict[str, tuple[str, float | None]]:
    out = {}
    for ext, writer in (("mps", write_mps), ("lp", write_lp)):
        path = str(tmp_path / f"{name}.{ext}")
        with open(path, "wb") as f:
            writer(p, f)
        out["highs-" + ext] = highs_run(path)
        out["cbc-" + ext] = cbc_run(path)
    return out


def assert_milp(p: Program, tmp_path, expect: str, objective: float | None = None):
    res = milp_results(p, tmp_path)
    for who, (st, obj) in res.items():
        assert st == expect, (who, res)
        if objective is not None:
            assert obj == pytest.approx(objective, abs=1e-6), (who, res)


def rows(name, cols, coefs, sense, rhs):
    return LinearBlock.from_dense_rows(name, np.atleast_2d(cols), np.atleast_2d(coefs), sense, rhs)


# -- SMT-LIB --------------------------------------------------------------------------------------


def test_smt_script_is_complete_for_z3_stdin():
    p = Program()
    x = p.add_vars("x", (2,), REAL, -1, 1)
    p.add(rows("r", [x[0], x[1]], [1, 1], GE, 1.5))
    text = smt_text(p)
    assert text.index("(set-option :produce-models true)") < text.index("(set-logic QF_LRA)")
    assert text.rstrip().endswith("(exit)")
    out = z3_run(text)
    assert status(out) == "sat"
    v = z3_values(out)
    assert v["x_0"] + v["x_1"] >= Fraction(3, 2)


def test_smt_sat_unsat_both_solvers():
    p = Program()
    x = p.add_vars("x", (2,), REAL, 0, 1)
    p.add(rows("r", [x[0], x[1]], [1, 1], GE, 2))
    assert _both_smt(p) == ("sat", "sat")
    p.add(rows("s", [x[0]], [1], LE, 0.5))
    assert _both_smt(p) == ("unsat", "unsat")


def test_smt_strict_rows_are_strict():
    p = Program()
    x = p.add_vars("x", (), REAL)
    p.add(rows("a", [x], [1], LT, 1))
    p.add(rows("b", [x], [1], GT, 0))
    assert _both_smt(p) == ("sat", "sat")
    p.add(rows("c", [x], [1], GE, 1))
    assert _both_smt(p) == ("unsat", "unsat")
    text = smt_text(p)
    assert "(assert (< x 1))" in text and "(assert (> x 0))" in text


@pytest.mark.parametrize("encoding", ["ite", "disjunction"])
@pytest.mark.parametrize("out_value, expect", [(0, "sat"), (1, "unsat")])
def test_smt_relu_semantics(encoding, out_value, expect):
    p = Program()
    inp = p.add_vars("inp", (), REAL, -2, -2)
    out = p.add_vars("out", (), REAL)
    p.add(ReluBlock("relu", np.array([out]), np.array([inp])))
    p.add(rows("fix", [out], [1], EQ, out_value))
    assert _both_smt(p, relu_encoding=encoding) == (expect, expect)


def test_smt_relu_positive_side():
    p = Program()
    inp = p.add_vars("inp", (), REAL, 3, 3)
    out = p.add_vars("out", (), REAL)
    p.add(ReluBlock("relu", np.array([out]), np.array([inp])))
    out_text = z3_run(smt_text(p))
    assert z3_values(out_text)["out"] == 3


@pytest.mark.parametrize("b_value, out_value, expect", [
    (0, 0, "sat"), (0, 5, "unsat"), (1, 5, "sat"), (1, 0, "unsat")])
def test_smt_bool_product_semantics(b_value, out_value, expect):
    p = Program()
    b = p.add_vars("b", (), BOOL)
    x = p.add_vars("x", (), REAL, 5, 5)
    out = p.add_vars("out", (), REAL)
    p.lb[b] = p.ub[b] = b_value  # a pass fixed the Boolean
    p.add(BoolProductBlock("prod", np.array([out]), np.array([b]), np.array([x])))
    p.add(rows("fix", [out], [1], EQ, out_value))
    assert _both_smt(p) == (expect, expect)


def test_smt_nonzero_semantics():
    p = Program()
    x = p.add_vars("x", (2,), REAL, 0, 0)
    p.add(NonzeroBlock("nz", x[:1]))
    assert _both_smt(p) == ("unsat", "unsat")
    q = Program()
    y = q.add_vars("y", (), INT, -1, 1)
    q.add(NonzeroBlock("nz", np.array([y])))
    q.add(rows("r", [y], [1], LE, 0))
    out = z3_run(smt_text(q))
    assert status(out) == "sat" and z3_values(out)["y"] == -1


def test_smt_bool_in_linear_row():
    p = Program()
    b = p.add_vars("b", (2,), BOOL)
    p.add(rows("r", [b[0], b[1]], [1, 1], GE, 2))
    text = smt_text(p)
    assert "(ite b_0 1 0)" in text
    out = z3_run(text)
    assert status(out) == "sat" and "(b_0 true)" in out
    p.add(rows("s", [b[0]], [1], LE, 0.5))
    assert _both_smt(p) == ("unsat", "unsat")


def test_smt_numbers_never_in_exponent_notation():
    p = Program()
    x = p.add_vars("x", (3,), REAL)
    p.add(rows("small", [x[0]], [5.2e-05], EQ, 1.04e-04))
    p.add(rows("big", [x[1]], [1e20], LE, 1e20))
    p.add(rows("negzero", [x[2]], [-0.0], LE, -0.0))
    text = smt_text(p)
    assert not re.search(r"\d[eE][+-]?\d", text)
    assert "-0" not in text
    for out in (z3_run(text), cvc5_run(text)):
        assert status(out) == "sat"
    assert z3_values(z3_run(text))["x_0"] == 2


def test_smt_rows_scaled_to_integers_exactly():
    p = Program()
    x = p.add_vars("x", (3,), REAL)
    p.add(rows("tenths", [x[0]], [0.1], EQ, 0.3))  # 0.1 and 0.3 as decimals: x = 3 exactly
    p.add(rows("mixed", [x[1], x[2]], [0.25, -1.5], EQ, 0.125))
    p.add(rows("x2", [x[2]], [1], EQ, 1))
    text = smt_text(p)
    assert "(assert (= x_0 3))" in text  # (0.1 x = 0.3) * 10
    assert "(assert (= (+ (* 250 x_1) (* (- 1500) x_2)) 125))" in text
    v = z3_values(z3_run(text))
    assert v["x_0"] == 3
    assert v["x_1"] == (Fraction(1, 8) + Fraction(3, 2)) * 4


def test_smt_long_decimals_not_scaled_but_exact():
    p = Program()
    x = p.add_vars("x", (), REAL)
    c = 0.1234567890123
    p.add(rows("r", [x], [c], EQ, c))
    text = smt_text(p)
    assert "0.1234567890123" in text
    assert z3_values(z3_run(text))["x"] == 1


def test_smt_integer_logic_scales_any_decimal():
    p = Program()
    n = p.add_vars("n", (2,), INT, -10, 10)
    p.add(rows("r", [n[0], n[1]], [0.5, 0.1234567890123], EQ, 1.1234567890123))
    text = smt_text(p)
    assert "(set-logic QF_LIA)" in text and "." not in text.split("(declare-const")[-1]
    out = z3_run(text)
    assert status(out) == "sat"
    v = z3_values(out)
    assert (v["n_0"], v["n_1"]) == (2, 1)
    assert status(cvc5_run(text)) == "sat"


def test_smt_mixed_int_real_is_typed():
    p = Program()
    x = p.add_vars("x", (), REAL, -5, 5.5)
    n = p.add_vars("n", (), INT, -3.5, 3.5)
    b = p.add_vars("b", (), BOOL)
    p.add(rows("r", [x, n, b], [1, 2, 0.5], EQ, 6.5))  # x = n >= 2: 3n + b/2 = 6.5
    p.add(rows("i", [n], [1], GE, 2))
    p.add(ReluBlock("relu", np.array([x]), np.array([n])))
    text = smt_text(p)
    assert "(set-logic QF_LIRA)" in text
    assert "(to_real n)" in text and "(ite b 1.0 0.0)" in text
    assert "(assert (<= (- 3) n 3))" in text  # integer bounds rounded inwards
    for out in (z3_run(text), cvc5_run(text)):
        assert status(out) == "sat"
    v = z3_values(z3_run(text))
    assert v["x"] == v["n"] == 2
    assert "(b true)" in z3_run(text)


def test_smt_quadratic_rows():
    p = Program()
    x = p.add_vars("x", (2,), REAL, -4, 4)
    lin = rows("lin", [x[0]], [1], EQ, 1)  # x0 + x0*x1 = 1 ... with x1 = 2 below
    p.add(QuadraticBlock("q", lin, np.array([0]), np.array([x[0]]), np.array([x[1]]),
                         np.array([1.0])))
    p.add(rows("fix", [x[1]], [1], EQ, 2))
    text = smt_text(p)
    assert "(set-logic QF_NRA)" in text and "(* x_0 x_1)" in text
    out = z3_run(text)
    assert z3_values(out)["x_0"] == Fraction(1, 3)
    assert status(cvc5_run(text)) == "sat"


def test_smt_objective_for_z3():
    p = Program()
    x = p.add_vars("x", (2,), REAL, 0, 3)
    p.add(rows("r", [x[0], x[1]], [1, 1], LE, 4))
    p.objective = Objective("max", x, np.array([1.0, 2.0]), 0.5)
    text = smt_text(p, objective=True)
    assert "(maximize nncc_obj)" in text
    v = z3_values(z3_run(text))
    assert (v["x_0"], v["x_1"]) == (1, 3)
    assert "maximize" not in smt_text(p)  # off unless asked (cvc5 rejects it)


def test_smt_get_value_lists_answer_groups():
    p = Program()
    w = p.add_vars("w", (20,), REAL, 0, 1)
    p.add_vars("aux", (3,), REAL, 0, 1)
    p.answer_groups = ["w"]
    text = smt_text(p)
    gv = text[text.index("(get-value"):]
    assert "aux" not in gv and all(f"w_{i}" in gv for i in range(20))
    out = cvc5_run(text)
    assert out.count("w_") == 20


def test_smt_empty_and_trivial_rows():
    p = Program()
    x = p.add_vars("x", (), REAL)
    p.add(LinearBlock("e", np.array([0, 0, 1, 1]), np.array([x]), np.array([1.0]),
                      np.array([LE, GE, GE], np.int8), np.array([1.0, -np.inf, 0.0])))
    assert _both_smt(p) == ("sat", "sat")
    p.add(LinearBlock("bad", np.array([0, 0]), np.zeros(0, np.int64), np.zeros(0),
                      np.array([GE], np.int8), np.array([1.0])))  # 0 >= 1
    assert _both_smt(p) == ("unsat", "unsat")


def test_name_table_matches_var_names():
    p = Program()
    p.add_vars("h", (3, 12), REAL)
    p.add_vars("h.weight", (11, 2, 2), INT)
    p.add_vars("s", (), BOOL)
    p.add_vars("empty", (0, 3), REAL)
    assert [s.decode() for s in name_table(p.groups).strings()] == p.var_names()


def test_shortest_decimals():
    assert shortest_decimals([5.2e-05, 1e20, -0.0, 0.1, -2.5, 3.0, 1e-7]) == [
        "0.000052", "100000000000000000000", "0", "0.1", "-2.5", "3", "0.0000001"]


# -- MPS and LP -----------------------------------------------------------------------------------


def test_milp_bounds_kinds_and_negative_upper_bounds(tmp_path):
    p = Program()
    x = p.add_vars("x", (), REAL, -np.inf, -2)  # only an upper bound, negative
    y = p.add_vars("y", (), REAL, -7, -3)  # negative box
    n = p.add_vars("n", (), INT, -5.5, 3.2)  # integer: rounded to [-5, 3]
    m = p.add_vars("m", (), INT)  # free integer: must not become binary
    b = p.add_vars("b", (2,), BOOL)
    f = p.add_vars("f", (), REAL)  # free
    p.add(rows("r", [x, y, n, m, b[0], b[1], f], [1, 1, 1, 1, 1, 1, 1], LE, 100))
    p.add(rows("mlim", [m], [1], LE, 40))
    p.add(rows("flim", [f], [1], GE, -1000))
    p.objective = Objective("min", np.array([x, y, n, m, b[0], b[1], f]),
                            np.array([-1.0, 1.0, 1.0, -1.0, -1.0, -1.0, 1.0]))
    # min: x -> -2 (-(-2) = 2), y -> -7, n -> -5, m -> 40 (-40), b -> 1, 1 (-2), f -> -1000
    assert_milp(p, tmp_path, "optimal", 2 - 7 - 5 - 40 - 2 - 1000)


def test_milp_maximise_is_negated_with_constant(tmp_path):
    p = Program()
    x = p.add_vars("x", (2,), REAL, 0, 3)
    p.add(rows("r", [x[0], x[1]], [1, 1], LE, 4))
    p.objective = Objective("max", x, np.array([1.0, 2.0]), 5.0)
    # max = 1 + 6 + 5 = 12; the file minimises the negation: -12
    assert_milp(p, tmp_path, "optimal", -12)


def test_milp_infeasible(tmp_path):
    p = Program()
    x = p.add_vars("x", (2,), INT, 0, 10)
    p.add(rows("r", [x[0], x[1]], [2, 2], EQ, 7))  # 2(x0 + x1) = 7 has no integer solution
    assert_milp(p, tmp_path, "infeasible")


def test_milp_numbers(tmp_path):
    p = Program()
    x = p.add_vars("x", (3,), REAL, -1e20, 1e20)
    p.add(rows("a", [x[0]], [5.2e-05], GE, 1.04e-04))
    p.add(rows("b", [x[1]], [-0.0], LE, 0.0))
    p.add(rows("c", [x[2]], [1], LE, 1e6))
    p.objective = Objective("min", x, np.array([1.0, 0.0, -1e-3]))
    assert_milp(p, tmp_path, "optimal", 2 - 1e3)


def test_milp_duplicate_entries_are_summed(tmp_path):
    p = Program()
    x = p.add_vars("x", (), REAL)
    p.add(LinearBlock("dup", np.array([0, 2]), np.array([x, x]), np.array([1.0, 1.0]),
                      np.array([LE], np.int8), np.array([10.0])))
    p.objective = Objective("max", np.array([x, x]), np.array([1.0, 0.5]))
    assert_milp(p, tmp_path, "optimal", -7.5)  # 2x <= 10, max 1.5 x = 7.5


def test_milp_unused_variables_and_long_rows(tmp_path):
    p = Program()
    x = p.add_vars("layer1.weight", (30, 40), REAL, -1, 1)
    p.add_vars("unused", (3,), INT, 1, 2)
    p.add(rows("long", x.reshape(-1), np.linspace(0.5, 2, 1200), LE, 7))
    p.objective = Objective("max", x.reshape(-1), np.ones(1200))
    buf = io.BytesIO()
    write_lp(p, buf)
    assert max(len(line) for line in buf.getvalue().splitlines()) < 255
    res = milp_results(p, tmp_path)
    objs = {k: v[1] for k, v in res.items()}
    assert all(v[0] == "optimal" for v in res.values()), res
    assert max(objs.values()) - min(objs.values()) < 1e-6


def _mixed_program(n_extra=0):
    """Real, integer and Boolean columns, an unused run, repeated entries, several blocks."""
    p = Program()
    a = p.add_vars("a", (4,), REAL, -1, 1)
    k = p.add_vars("k", (3,), INT, -4, 4)
    b = p.add_vars("b", (2,), BOOL)
    c = p.add_vars("c", (3,), REAL, -2, 2)
    p.add_vars("u", (2,), INT, 0, 3)  # unused integers: a run of "obj 0" entries
    e = p.add_vars("e", (n_extra,), REAL, 0, 1) if n_extra else np.zeros(0, np.int64)
    rng = np.random.default_rng(3)
    for blk in range(3):
        indptr, cols, coefs = [0], [], []
        for _ in range(4):
            row = rng.choice(np.r_[a, k, b, c], size=5, replace=True)  # may repeat a column
            cols += row.tolist()
            coefs += rng.choice([-2.5, -1, 0.5, 1, 3, 1e-7], size=5).tolist()
            indptr.append(len(cols))
        p.add(LinearBlock(f"blk{blk}", np.array(indptr), np.array(cols, np.int64), np.array(coefs),
                          np.array([LE, GE, EQ, LE], np.int8), np.array([1.0, -2.0, 0.5, 4.0])))
    if len(e):
        p.add(rows("e", e[::1000], np.ones(len(e[::1000])), LE, 3))
    p.objective = Objective("min", np.array([a[1], k[0], k[0], c[2]]), np.array([1.0, 2.0, -0.5, 0.25]))
    return p


def _expected_columns(p: Program) -> bytes:
    """The COLUMNS section written the slow, obvious way: column by column, objective first."""
    n = p.n_vars
    entries = [dict() for _ in range(n)]  # column -> {row name: summed value}, in insertion order
    for v, w in zip(p.objective.idx.tolist(), p.objective.coef.tolist()):
        entries[v]["obj"] = entries[v].get("obj", 0.0) + w
    r = 0
    for blk in p.blocks:
        for i in range(blk.n_rows):
            for t in range(blk.indptr[i], blk.indptr[i + 1]):
                e = entries[blk.indices[t]]
                e[f"r{r}"] = e.get(f"r{r}", 0.0) + blk.data[t]
            r += 1
    names = p.var_names()
    intlike = np.isin(p.kinds, (KINDS.index(INT), KINDS.index(BOOL))).tolist()
    out, in_run = ["COLUMNS"], False
    for v in range(n):
        if intlike[v] != in_run:
            out.append(" MARKER 'MARKER' " + ("'INTORG'" if intlike[v] else "'INTEND'"))
            in_run = intlike[v]
        for row, val in (entries[v] or {"obj": 0.0}).items():
            out.append(f" {names[v]} {row} {shortest_repr([val])[0]}")
    if in_run:
        out.append(" MARKER 'MARKER' 'INTEND'")
    return ("\n".join(out) + "\n").encode()


def _columns_section(p: Program) -> bytes:
    buf = io.BytesIO()
    write_mps(p, buf)
    text = buf.getvalue()
    return text[text.index(b"COLUMNS\n"):text.index(b"RHS\n")]


@pytest.mark.parametrize("range_entries", [1, 2, 3, 7, 1 << 17])
def test_mps_columns_in_any_range_size(monkeypatch, range_entries):
    # The section is regrouped by column one range at a time; where the ranges are cut
    # (inside an integer run, at a marker, at an unused column) must not show.
    monkeypatch.setattr(mps_writer, "RANGE_ENTRIES", range_entries)
    p = _mixed_program()
    assert _columns_section(p) == _expected_columns(p)


def test_mps_columns_beyond_two_to_the_sixteen_columns():
    p = _mixed_program(n_extra=70_000)  # ranges are also cut every 2**16 - 1 columns
    assert _columns_section(p) == _expected_columns(p)


@pytest.mark.parametrize("writer", [write_mps, write_lp])
def test_milp_file_does_not_depend_on_blocks(writer):
    # The writers walk the blocks without concatenating them; the same rows in one block
    # or in several (with different coefficient tables) give the same file.
    p = _mixed_program()
    blocks = p.blocks
    counts = np.concatenate([np.diff(b.indptr) for b in blocks])
    one = dataclasses.replace(p, blocks=[])
    one.add(LinearBlock("all", np.concatenate([[0], np.cumsum(counts)]),
                        np.concatenate([b.indices for b in blocks]),
                        np.concatenate([b.data for b in blocks]),
                        np.concatenate([b.sense for b in blocks]),
                        np.concatenate([b.rhs for b in blocks])))
    a, b = io.BytesIO(), io.BytesIO()
    writer(p, a)
    writer(one, b)
    assert a.getvalue() == b.getvalue()


@pytest.mark.parametrize("writer", [write_mps, write_lp])
def test_milp_refusals(writer):
    def prog():
        p = Program()
        p.add_vars("x", (2,), REAL, -1, 1)
        return p
    cases = []
    p = prog(); p.add(ReluBlock("out.relu", np.array([1]), np.array([0]))); cases.append((p, "ReLU"))
    p = prog(); b = p.add_vars("b", (), BOOL)
    p.add(BoolProductBlock("bp", np.array([1]), np.array([b]), np.array([0]))); cases.append((p, "Boolean"))
    p = prog(); p.add(NonzeroBlock("nz", np.array([0]))); cases.append((p, "non-zero"))
    p = prog(); p.add(QuadraticBlock("q", rows("l", [0], [1], LE, 1), np.array([0]), np.array([0]),
                                      np.array([1]), np.array([1.0]))); cases.append((p, "smtlib"))
    p = prog(); p.add(rows("s", [0], [1], LT, 1)); cases.append((p, "strict"))
    for p, word in cases:
        with pytest.raises(TargetError, match=word):
            writer(p, io.BytesIO())


# -- one verdict from every solver ------------------------------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402


@st.composite
def small_lp(draw):
    n = draw(st.integers(3, 6))
    m = draw(st.integers(2, 6))
    p = Program()
    lbs, ubs = [], []
    for _ in range(n):
        lo = draw(st.one_of(st.just(-np.inf), st.integers(-6, 3).map(float)))
        hi = draw(st.one_of(st.just(np.inf), st.integers(-3, 6).map(float)))
        lbs.append(lo)
        ubs.append(hi)
    kinds = [draw(st.sampled_from([REAL, REAL, INT])) for _ in range(n)]
    idx = [int(p.add_vars(f"v{i}", (), k, lo, hi)) for i, (k, lo, hi) in enumerate(zip(kinds, lbs, ubs))]
    for r in range(m):
        k = draw(st.integers(1, n))
        cols = draw(st.permutations(idx))[:k]
        coefs = [draw(st.sampled_from([-3, -2, -1, -0.5, 0.5, 1, 2, 3, 0.25])) for _ in cols]
        sense = draw(st.sampled_from([LE, GE, EQ]))
        rhs = float(draw(st.integers(-8, 8)))
        p.add(rows(f"r{r}", cols, coefs, sense, rhs))
    return p


@settings(max_examples=30, deadline=None)
@given(small_lp())
def test_same_feasibility_verdict_everywhere(tmp_path_factory, p):
    tmp = tmp_path_factory.mktemp("lp")
    z3_status = status(z3_run(smt_text(p)))
    mps = str(tmp / "p.mps")
    lp = str(tmp / "p.lp")
    with open(mps, "wb") as f:
        write_mps(p, f)
    with open(lp, "wb") as f:
        write_lp(p, f)
    expect = {"sat": "optimal", "unsat": "infeasible"}[z3_status]
    assert highs_run(mps)[0] == expect
    assert cbc_run(lp)[0] == expect


def test_number_table_is_shortest_repr_without_a_loop_over_integers():
    from nncc.writers.text_columns import number_table, shortest_repr
    rng = np.random.default_rng(3)
    v = np.concatenate([[-0.0, 0.0, 1.0, -5.0, 2.0 ** 53, 2.0 ** 53 + 2, 9999999999999998.0,
                         1e16, -1e300, 1e-7, 0.1, 5e-324], rng.integers(-10 ** 6, 10 ** 6, 500),
                        rng.normal(size=500) * 10.0 ** rng.integers(-20, 20, 500)])
    want = [s.encode() for s in shortest_repr(v)]
    assert number_table(v).strings() == want
    assert number_table(v, b" ", b"\n").strings() == [b" " + s + b"\n" for s in want]
    assert number_table(np.zeros(0)).strings() == []
    assert all(float(s) == x for s, x in zip(want, v))


@pytest.mark.parametrize("chunk", [1 << 4, 1 << 10, 1 << 17])
def test_hash_unique_gives_every_value_its_code(chunk):
    from nncc.writers.text_columns import hash_unique, unique_values
    rng = np.random.default_rng(5)
    cases = [rng.uniform(0, 16, 3000)[rng.integers(0, 3000, 50000)],   # repeated values
             rng.normal(size=20000),                                   # distinct: sorted
             np.array([0.5, -0.0, 0.0, 0.5, 1e300, -1e300, 5e-324]), np.zeros(0)]
    for v in cases:
        u, inv = hash_unique(v, chunk=chunk)
        assert inv.dtype == np.int32 and len(inv) == len(v)
        assert np.array_equal(u[inv], v + 0.0) and len(np.unique(u)) == len(u)
        assert not np.signbit(u[u == 0]).any()          # -0.0 folded into 0.0
    v = np.concatenate([cases[0], np.arange(100.0)])
    u, inv = unique_values(v)                            # integers counted, the rest hashed
    assert np.array_equal(u[inv], v)
