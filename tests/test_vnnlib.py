"""VNN-LIB 1.0 reader: declarations, linear terms, and/or in DNF, boxes, errors with file:line:col."""
import numpy as np
import pytest

from nncc.errors import InputError
from nncc.frontend.vnnlib import load_vnnlib, parse_vnnlib

HEAD2 = "(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n" \
        "(declare-const Y_1 Real)\n"


def err(text, name="p.vnnlib") -> str:
    with pytest.raises(InputError) as e:
        parse_vnnlib(text, name)
    return e.value.render()


def test_box_and_output_rows_in_one_disjunct():
    p = parse_vnnlib(HEAD2 + "; bounds\n(assert (>= X_0 -1))\n(assert (<= X_0 1))\n"
                     "(assert (<= -2 X_1 0.5))\n(assert (<= Y_0 Y_1))\n", "p.vnnlib")
    assert (p.n_inputs, p.n_outputs, len(p.disjuncts)) == (2, 2, 1)
    d = p.disjuncts[0]
    np.testing.assert_array_equal(d.lo, [-1, -2])
    np.testing.assert_array_equal(d.hi, [1, 0.5])
    # Y_0 <= Y_1  ->  -Y_0 + Y_1 >= 0
    np.testing.assert_array_equal(d.C, [[-1, 1]])
    np.testing.assert_array_equal(d.d, [0])
    assert not d.c_strict.any() and not p.has_strict


def test_linear_terms_and_strict_rows():
    p = parse_vnnlib(HEAD2 + "(assert (<= -1 X_0 1))(assert (<= -1 X_1 1))\n"
                     "(assert (> (+ Y_0 (* -2 Y_1) 3) (- 1.5)))\n"
                     "(assert (< (- Y_0 (* Y_1 0.5)) (/ 1 4)))\n", "p.vnnlib")
    d = p.disjuncts[0]
    # Y_0 - 2 Y_1 + 3 > -1.5  ->  Y_0 - 2 Y_1 > -4.5 ;  Y_0 - 0.5 Y_1 < 0.25 -> -Y_0 + .5 Y_1 > -.25
    np.testing.assert_allclose(d.C, [[1, -2], [-1, 0.5]])
    np.testing.assert_allclose(d.d, [-4.5, -0.25])
    assert d.c_strict.all() and p.has_strict


def test_or_of_and_blocks_over_inputs_and_outputs():
    text = HEAD2 + """(assert (or
        (and (>= X_0 0) (<= X_0 1) (>= X_1 0) (<= X_1 1) (>= Y_0 3))
        (and (>= X_0 -1) (<= X_0 0) (>= X_1 -1) (<= X_1 0) (<= Y_1 -3) (>= Y_0 0))
    ))"""
    p = parse_vnnlib(text, "p.vnnlib")
    assert len(p.disjuncts) == 2
    a, b = p.disjuncts
    np.testing.assert_array_equal(a.hi, [1, 1])
    np.testing.assert_array_equal(b.lo, [-1, -1])
    assert a.C.shape == (1, 2) and b.C.shape == (2, 2)
    assert ":2:" in a.where or "p.vnnlib" in a.where


def test_and_distributes_over_or_and_empty_disjuncts_drop():
    text = HEAD2 + "(assert (<= -1 X_0 1))(assert (<= -1 X_1 1))\n" \
        "(assert (or (>= Y_0 1) (>= Y_1 1)))\n(assert (or (<= Y_0 0) (<= X_0 2)))\n" \
        "(assert (or (>= X_0 5) (<= -1 X_0 1)))\n"
    p = parse_vnnlib(text, "p.vnnlib")
    # 2 x 2 x 2 = 8 conjunctions; those with X_0 >= 5 are empty
    assert len(p.disjuncts) == 4


def test_general_input_rows_and_equalities():
    p = parse_vnnlib(HEAD2 + "(assert (<= -1 X_0 1))(assert (<= -1 X_1 1))"
                     "(assert (>= (+ X_0 X_1) 0.5))(assert (= Y_0 1))", "p.vnnlib")
    d = p.disjuncts[0]
    np.testing.assert_array_equal(d.A, [[1, 1]])
    np.testing.assert_array_equal(d.b, [0.5])
    np.testing.assert_array_equal(d.C, [[1, 0], [-1, 0]])  # = as >= and <=


def test_contradictory_property_has_no_disjunct():
    p = parse_vnnlib(HEAD2 + "(assert (<= -1 X_0 1))(assert (<= -1 X_1 1))(assert (> X_0 1))",
                     "p.vnnlib")
    assert p.disjuncts == [] and "empty" in p.notes[0]


def test_fixtures_parse(tmp_path):
    from pathlib import Path
    folder = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "vnncomp2021_test"
    if not folder.exists():
        pytest.skip("../shared/fixtures is absent (fresh clone)")
    p = load_vnnlib(str(folder / "test_prop.vnnlib"))
    assert (p.n_inputs, p.n_outputs, len(p.disjuncts)) == (5, 5, 1)
    assert p.disjuncts[0].C.shape == (4, 5)


@pytest.mark.parametrize("text,where,what", [
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= X_0 1)", "p.vnnlib:3:",
     "not closed"),
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= X_3 1))\n",
     "p.vnnlib:3:13", "'X_3' is used but not declared"),
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= (* X_0 X_0) 1))\n",
     "p.vnnlib:3:13", "not linear"),
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (and (<= -1 X_0 1) (<= (+ X_0 Y_0) 1)))",
     "p.vnnlib:3:28", "mixing inputs and outputs"),
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (not (<= X_0 1)))\n",
     "p.vnnlib:3:10", "'not' is not part of VNN-LIB 1.0"),
    ("(declare-const X_0 Int)\n", "p.vnnlib:1:20", "Real"),
    ("(declare-const Z Real)\n", "p.vnnlib:1:16", "X_i (input) or Y_j"),
    ("(declare-network acas)\n", "p.vnnlib:1:1", "VNN-LIB 2.0"),
    ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= X_0 1)))\n",
     "p.vnnlib:3:20", "unexpected ')'"),
    ("(declare-const X_1 Real)\n(declare-const Y_0 Real)\n", "X_0 is not declared", ""),
])
def test_errors_name_file_line_col(text, where, what):
    msg = err(text)
    assert where in msg and what in msg
    assert "Traceback" not in msg


def test_vnnlib2_tensor_declaration_is_named():
    msg = err("(declare-const X_0 (Tensor Real [1 5]))\n")
    assert "VNN-LIB 2.0" in msg and "p.vnnlib:1:20" in msg


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_vnnlib(str(tmp_path / "nope.vnnlib"))
