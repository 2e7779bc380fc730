"""Solver output readers on text captured from the real binaries.

Fixtures were captured from z3 5.4.0, the cvc5 1.4.2 Python package through
nncc's driver, cbc 2.10.3 (pulp) and HiGHS 1.15.1 (highsbox) unless a comment
says "constructed".
"""
from __future__ import annotations

import math
from fractions import Fraction

import pytest

from nncc.solvers import cbc, cvc5, highs, z3
from nncc.solvers.result import ERROR, NO_SOLUTION, SOLUTION, UNKNOWN
from nncc.solvers.runner import RunOutput
from nncc.solvers.smt_values import (SExprError, SmtString, parse_sexprs, read_smt_output,
                                     tokenize, value_of)


def run(stdout="", stderr="", returncode=0, solution=None):
    return RunOutput(stdout=stdout, stderr=stderr, returncode=returncode,
                     solution_text=solution, seconds=0.1, time_limit=None)


# ------------------------------------------------------------------ s-expressions

def test_tokenizer_strings_symbols_comments():
    toks = tokenize('(error "say ""hi"" (x)") ; comment\n(|a b| 1.5)')
    assert toks == ["(", "error", 'say "hi" (x)', ")", "(", "|a b|", "1.5", ")"]
    assert isinstance(toks[2], SmtString)


def test_parse_sexprs_nesting_and_errors():
    assert parse_sexprs("(a (b c)) d") == [["a", ["b", "c"]], "d"]
    with pytest.raises(SExprError):
        parse_sexprs("(a (b")
    with pytest.raises(SExprError):
        parse_sexprs("a)")


@pytest.mark.parametrize("text, exact", [
    ("3", Fraction(3)), ("1.5", Fraction(3, 2)), ("(- 3)", Fraction(-3)),
    ("(- 3.0)", Fraction(-3)), ("(/ 1.0 3.0)", Fraction(1, 3)), ("(- (/ 5.0 2.0))", Fraction(-5, 2)),
    ("(/ 1 3)", Fraction(1, 3)), ("(/ (- 5) 2)", Fraction(-5, 2)), ("true", Fraction(1)),
    ("false", Fraction(0)), ("#x05", Fraction(5)), ("#b00000101", Fraction(5)),
    ("(_ bv5 8)", Fraction(5)),
])
def test_exact_values(text, exact):
    v = value_of(parse_sexprs(text)[0])
    assert v.exact == exact and v.number == float(exact) and not v.approximate


def test_algebraic_numbers_are_approximated():
    z3_root = value_of(parse_sexprs("(root-obj (+ (^ x 2) (- 2)) 2)")[0])
    z3_neg = value_of(parse_sexprs("(root-obj (+ (^ x 2) (- 2)) 1)")[0])
    cvc = value_of(parse_sexprs("(_ real_algebraic_number <1*x^2 + (-2), (5/4, 3/2)>)")[0])
    for v, want in ((z3_root, math.sqrt(2)), (z3_neg, -math.sqrt(2)), (cvc, math.sqrt(2))):
        assert v.approximate and v.exact is None
        assert v.number == pytest.approx(want, abs=1e-14)
    # degree 6 with products, from x^3 + y^3 = z^3, xyz = 7 (z3 and cvc5 agree)
    y3 = value_of(parse_sexprs("(root-obj (+ (* 8 (^ x 6)) (* 64 (^ x 3)) (- 343)) 2)")[0])
    yc = value_of(parse_sexprs("(_ real_algebraic_number <8*x^6 + 64*x^3 + (-343), "
                               "(808929/524288, 3235717/2097152)>)")[0])
    zc = value_of(parse_sexprs("(_ real_algebraic_number <8*x^6 + (-64*x^3) + (-343), (9/4, 5/2)>)")[0])
    assert y3.number == pytest.approx(yc.number, rel=1e-13)
    assert 8 * yc.number ** 6 + 64 * yc.number ** 3 == pytest.approx(343, rel=1e-12)
    assert 8 * zc.number ** 6 - 64 * zc.number ** 3 == pytest.approx(343, rel=1e-12)
    # z3 pp.decimal=true form
    assert value_of("1.4142135623?").approximate


# ------------------------------------------------------------------ z3 / cvc5 outputs

Z3_NRA = """sat
((x (root-obj (+ (^ x 2) (- 2)) 2))
 (y (/ 1.0 3.0))
 (z (- (/ 5.0 2.0)))
 (b true)
 (n (- 3.0)))
(
  (define-fun x () Real
    (root-obj (+ (^ x 2) (- 2)) 2))
  (define-fun y () Real
    (/ 1.0 3.0))
  (define-fun z () Real
    (- (/ 5.0 2.0)))
  (define-fun n () Real
    (- 3.0))
  (define-fun b () Bool
    true)
)
"""

CVC5_NRA = """sat
((x (_ real_algebraic_number <1*x^2 + (-2), (5/4, 3/2)>)) (y (/ 1 3)) (z (/ (- 5) 2)) (b true) (n (- 3.0)))
(
(define-fun x () Real (_ real_algebraic_number <1*x^2 + (-2), (5/4, 3/2)>))
(define-fun y () Real (/ 1 3))
(define-fun z () Real (/ (- 5) 2))
(define-fun b () Bool true)
(define-fun n () Real (- 3.0))
)
"""


@pytest.mark.parametrize("text, reader", [(Z3_NRA, z3), (CVC5_NRA, cvc5)])
def test_sat_with_values(text, reader):
    res = reader.read_result(run(text))
    assert res.status == SOLUTION
    assert res.exact == {"y": Fraction(1, 3), "z": Fraction(-5, 2), "b": 1, "n": -3}
    assert res.approximate == {"x"}
    assert res.values["x"] == pytest.approx(math.sqrt(2), abs=1e-14)
    assert list(res.values) == ["x", "y", "z", "b", "n"]  # get-value order kept


def test_get_value_compound_terms_and_negatives():
    z3_out = "sat\n((x (- (/ 3.0 2.0)))\n ((+ x 1) (- (/ 1.0 2.0))))"
    cvc_out = "sat\n((x (/ (- 3) 2)) ((+ x 1.0) (/ (- 1) 2)))\n"
    a, b = z3.read_result(run(z3_out)), cvc5.read_result(run(cvc_out))
    assert a.exact["x"] == b.exact["x"] == Fraction(-3, 2)
    # cvc5 rewrites the echoed term: callers match compound terms by position
    assert list(a.values.values()) == list(b.values.values()) == [-1.5, -0.5]


def test_models_only():
    older = "sat\n(model\n  (define-fun x () Int 3)\n  (define-fun f ((a Int)) Int a)\n)\n"  # constructed
    newer = "sat\n(\n  (define-fun y () Int\n    (- 10))\n  (define-fun x () Int\n    3)\n)\n"
    assert z3.read_result(run(older)).values == {"x": 3.0}
    assert z3.read_result(run(newer)).values == {"y": -10.0, "x": 3.0}


def test_bitvectors():
    assert z3.read_result(run("sat\n((k #x05))\n")).exact == {"k": 5}
    assert cvc5.read_result(run("sat\n((k #b00000101))\n")).exact == {"k": 5}


def test_unsat_followed_by_error_is_not_garbage():
    z3_out = 'unsat\n(error "line 7 column 14: model is not available")\n'
    cvc_out = 'unsat\n(error "cannot get value unless after a SAT or UNKNOWN response.")\n'
    assert z3.read_result(run(z3_out, returncode=1)).status == NO_SOLUTION
    assert cvc5.read_result(run(cvc_out)).status == NO_SOLUTION


def test_unknown_never_keeps_a_model():
    # cvc5 --tlimit-per: "unknown" then a model that violates the constraints
    res = cvc5.read_result(run("unknown (TIMEOUT)\n((x 0) (y 0))\n"))
    assert res.status == UNKNOWN and res.values == {} and res.message == "time limit"
    assert z3.read_result(run("unknown\n((x 0))\n")).values == {}
    assert z3.read_result(run("timeout\n")).message == "time limit"


def test_cvc5_timeout_exit_code():
    # the binary: nothing on stdout, a message on stderr, exit 134; the driver prints unknown first
    for out in ("", "unknown\n"):
        res = cvc5.read_result(run(out, "cvc5 interrupted by timeout.\n", 134))
        assert res.status == UNKNOWN and res.message == "time limit"


def test_objectives_and_errors_mixed_in():
    text = ('sat\n(objectives\n (obj 23)\n)\n'
            '(error "line 14 column 16: unknown constant odd name")\n')
    res = z3.read_result(run(text))
    assert res.status == SOLUTION and res.objective == 23 and res.optimal
    assert "unknown constant odd name" in res.message


def test_warnings_are_skipped():
    # constructed: warning lines of both styles around real answers
    text = ("WARNING: option 'x' is deprecated\n(warning \"interpreting x as Real\")\n"
            "sat\n((x (/ 3.0 2.0))\n ((+ x 1) (/ 5.0 2.0)))\n")
    out = read_smt_output(text)
    assert out.status == "sat" and len(out.warnings) == 2 and not out.unreadable
    assert z3.read_result(run(text)).exact == {"x": Fraction(3, 2), "(+ x 1)": Fraction(5, 2)}


def test_errors_and_garbage():
    parse_err = ('(error "Parse Error: invalid kind \'GT\', expected Terms with kind GT must '
                 'have at least 2 children and at most 2 children (the one under construction '
                 'has 1)")\n')
    res = cvc5.read_result(run(parse_err, returncode=1))
    assert res.status == ERROR and "Parse Error" in res.message
    res = z3.read_result(run("-smt2 /tmp/x.smt2\n"))
    assert res.status == ERROR and res.message.startswith("garbage output") and "-smt2" in res.message
    res = z3.read_result(run("", "Error: invalid argument for -T option, it must be a "
                             "non-negative integer.\n", 109))
    assert res.status == ERROR and "invalid argument" in res.message
    assert z3.read_result(run("")).status == ERROR


def test_truncated_answer_is_not_a_crash():
    res = z3.read_result(run("sat\n((x (/ 1.0 3.0))\n (y (- "))
    assert res.status == SOLUTION and res.values == {}


def test_versions():
    assert z3.parse_version("Z3 version 5.4.0 - 64 bit\n") == "5.4.0"
    assert cvc5.parse_version("This is cvc5 version 1.4.2-modified [python package]") == "1.4.2"
    assert cbc.parse_version("Welcome to the CBC MILP Solver \nVersion: 2.10.3 \n") == "2.10.3"
    assert highs.parse_version("HiGHS version 1.15.1 Githash 04024d7. Copyright") == "1.15.1"


# ------------------------------------------------------------------ cbc

CBC_OPTIMAL = """Optimal - objective value -23.00000000
      0 x                      3                      -5
      1 y                      2                      -4
      2 z                      0                       1
"""
CBC_INFEASIBLE = "Infeasible - objective value 5.00000000\n      0 x                      5                       0\n"
CBC_STOPPED = """Stopped on time - objective value 3.00000000
      0 x0                     0                     -20
      1 x1                     1                      23
      3 x3                     1                     -82
"""
CBC_NO_INTEGER = """Stopped on time (no integer solution - continuous used) - objective value 16.26355596
      0 x0                     1             -0.59054423
      1 x1                     1             -0.13072345
"""
# cbc 2.10.3 in its default CPU-time mode after -sec 1: the incumbent (3) is lost.
CBC_JUNK = """Stopped on time - objective value 0.00000000
      0 x0                     0                       0
      1 x1                     1                       0
      2 x2            0.13198132                       0
"""
CBC_JUNK_LOG = """Cbc0016I Integer solution of 3 found by strong branching after 2324 iterations and 950 nodes (0.48 seconds)
Cbc0010I After 1000 nodes, 14 on tree, 3 best solution, best possible 0 (0.70 seconds)
Cbc0005I Partial search - best objective 3 (best possible 0), took 344211 iterations and 144110 nodes (1.00 seconds)
0  Obj 0 Primal inf 0.046850731 (4) Dual inf 3.765278e+11 (4)
Stopped - objective value 4.6851131e+08
Result - Stopped on time limit

Objective value:                100000000000000007629769841091887003294964970946560.00000000
"""
CBC_BAD_LOG = """Unknown image this is not an mps file at line 1 of file ./bad.mps
Coin0008I  read with -2 errors
There were -2 errors on input
** Current model not valid
No match for t.sol - ? for list of commands
"""


def test_cbc_solution_files():
    res = cbc.read_result(run("Result - Optimal solution found\n", solution=CBC_OPTIMAL))
    assert res.status == SOLUTION and res.optimal and res.objective == -23
    assert res.values == {"x": 3, "y": 2, "z": 0} and res.missing_means_zero
    res = cbc.read_result(run("Problem is infeasible - 0.00 seconds\n", solution=CBC_INFEASIBLE))
    assert res.status == NO_SOLUTION and res.values == {}  # values after Infeasible are junk
    res = cbc.read_result(run("", solution="Integer infeasible - objective value 1.50000000\n"
                                           "      0 x                    1.5                       0\n"))
    assert res.status == NO_SOLUTION
    res = cbc.read_result(run("Result - Stopped on time limit\n", solution=CBC_STOPPED))
    assert res.status == UNKNOWN and res.has_incumbent and res.objective == 3
    assert res.values == {"x0": 0, "x1": 1, "x3": 1} and res.missing_means_zero
    res = cbc.read_result(run("Result - Stopped on time limit\n", solution=CBC_NO_INTEGER))
    assert res.status == UNKNOWN and not res.has_incumbent and res.values == {}
    res = cbc.read_result(run("Result - Linear relaxation unbounded\n",
                              solution="Unbounded - objective value 0.00000000\n"))
    assert res.status == UNKNOWN and "unbounded" in res.message


def test_cbc_lost_incumbent_is_not_an_answer():
    res = cbc.read_result(run(CBC_JUNK_LOG, solution=CBC_JUNK))
    assert res.status == UNKNOWN and res.values == {} and not res.has_incumbent
    assert "best incumbent was 3" in res.message
    # the same junk under an "Optimal" heading, log saying proven infeasible
    log = CBC_JUNK_LOG.replace("Result - Stopped on time limit", "Result - Problem proven infeasible")
    res = cbc.read_result(run(log, solution=CBC_JUNK.replace("Stopped on time", "Optimal")))
    assert res.status == UNKNOWN and res.values == {}


def test_cbc_read_failure_quotes_its_error():
    res = cbc.read_result(run(CBC_BAD_LOG, solution=None))
    assert res.status == ERROR and "Unknown image this is not an mps file" in res.message


def test_cbc_progress_lines():
    assert cbc.progress("Cbc0012I Integer solution of -23 found by DiveCoefficient after 0 "
                        "iterations and 0 nodes (0.00 seconds)") == "incumbent -23"
    assert cbc.progress("Cbc0010I After 1000 nodes, 14 on tree, 3 best solution, best possible "
                        "0 (0.70 seconds)") == "incumbent 3, bound 0, gap 100%"
    assert cbc.progress("Cbc0010I After 0 nodes, 1 on tree, 1e+50 best solution, best possible "
                        "0 (0.12 seconds)") == "no incumbent yet, bound 0"
    assert cbc.progress("Coin0008I opt read with 0 errors") is None


# ------------------------------------------------------------------ highs

HIGHS_OPTIMAL = """Model status
Optimal

# Primal solution values
Feasible
Objective -23
# Columns 3
x 3
y 2
z 0
# Rows 2
c1 5
c2 8

# Dual solution values
None

# Basis
HiGHS_basis_file v2
None
"""
HIGHS_INFEASIBLE = """Model status
Infeasible

# Primal solution values
None

# Dual solution values
None

# Basis
HiGHS_basis_file v2
None
"""
HIGHS_TIME_INCUMBENT = """Model status
Time limit reached

# Primal solution values
Feasible
Objective 6
# Columns 3
x0 0
x1 0
x3 1
# Rows 1
r0 777.9999999999999

# Dual solution values
None
"""
HIGHS_TIME_NONE = HIGHS_INFEASIBLE.replace("Infeasible", "Time limit reached")
HIGHS_REPORT = """Solving report
  Model             ms
  Status            Time limit reached
  Primal bound      6
  Dual bound        0
  Gap               100% (tolerance: 0.01%)
"""


def test_highs_solution_files():
    res = highs.read_result(run("", solution=HIGHS_OPTIMAL))
    assert res.status == SOLUTION and res.optimal and res.objective == -23
    assert res.values == {"x": 3, "y": 2, "z": 0}  # rows are not columns
    assert highs.read_result(run("", solution=HIGHS_INFEASIBLE)).status == NO_SOLUTION
    res = highs.read_result(run(HIGHS_REPORT, solution=HIGHS_TIME_INCUMBENT))
    assert res.status == UNKNOWN and res.has_incumbent and res.objective == 6 and res.bound == 0
    assert res.values == {"x0": 0, "x1": 0, "x3": 1}
    # HiGHS 1.16 adds the bound and the gap after the objective (as highspy writes them)
    v116 = HIGHS_TIME_INCUMBENT.replace("Objective 6\n", "Objective 6\nObjective_bound 0\n"
                                        "MIP_rel_gap 1\n")
    res = highs.read_result(run(HIGHS_REPORT, solution=v116))
    assert res.objective == 6 and res.bound == 0 and res.values == {"x0": 0, "x1": 0, "x3": 1}
    res = highs.read_result(run("", solution=HIGHS_TIME_NONE))
    assert res.status == UNKNOWN and not res.has_incumbent and res.values == {}
    unb = HIGHS_OPTIMAL.replace("Optimal", "Unbounded")
    assert highs.read_result(run("", solution=unb)).status == UNKNOWN


def test_highs_errors():
    res = highs.read_result(run("ERROR:   Parser error reading bad.mps\nError loading file\n",
                                returncode=255))
    assert res.status == ERROR and "Parser error reading bad.mps" in res.message
    # constructed from SOLVER_NOTES: the time limit also covers reading the file
    res = highs.read_result(run("Parser reached timeout\n", returncode=255))
    assert res.status == UNKNOWN and "time limit" in res.message


def test_highs_progress_lines():
    assert highs.progress(" T     397      74       153   0.38%   0               10              "
                          " 100.00%      358     10   1251      2799     0.3s") == \
        "incumbent 10, bound 0, gap 100.00%"
    assert highs.progress("      1108     190       435   0.73%   0               6                "
                          "100.00%      549     19   2670     10691     1.0s") == \
        "incumbent 6, bound 0, gap 100.00%"
    assert highs.progress(" J       0       0         0   0.00%   -inf            2965            "
                          "   Large        0      0      0         0     0.0s") == \
        "incumbent 2965"  # an infinite bound says nothing
    assert highs.progress("Presolving model") is None


def test_cbc_is_run_again_without_preprocessing_when_it_says_it_lost_feasibility():
    said = RunOutput(stdout="Cbc0012I ...\nPostprocessed model is infeasible - possible tolerance "
                     "issue - try without preprocessing\nResult - Optimal solution found\n",
                     stderr="", returncode=0, solution_text=None, seconds=1.0, time_limit=None)
    assert cbc.run_again_with(said) == ["-preprocess", "off"]
    said.stdout = "Result - Optimal solution found\n"
    assert cbc.run_again_with(said) is None
