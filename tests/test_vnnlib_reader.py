"""The fast VNN-LIB 1.0 reader against the reference reader (tests/vnnlib_reference.py,
a Lark grammar and one Fraction row at a time): on random properties, on the shapes
VNN-COMP files have, and on broken files, both give the same disjuncts (same arrays,
same strictness, same file:line:col) or the same error at the same place."""
import random
import sys
from pathlib import Path

import numpy as np
import pytest

from nncc.errors import InputError
from nncc.frontend.vnnlib import load_vnnlib, parse_vnnlib

sys.path.insert(0, str(Path(__file__).resolve().parent))
from vnnlib_reference import parse_vnnlib as reference  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "fixtures"
FIELDS = ("lo", "hi", "lo_strict", "hi_strict", "A", "b", "a_strict", "C", "d", "c_strict")


def outcome(read, text):
    try:
        return read(text, "p.vnnlib")
    except InputError as e:
        return e.render()   # the message with file:line:col and the source line


def assert_same(text):
    got = outcome(parse_vnnlib, text)
    try:
        want = outcome(reference, text)
    except OverflowError:   # the reference crashes on a number beyond float64
        assert isinstance(got, str) and "out of the float64 range" in got, (got, text)
        return got
    if isinstance(want, str) or isinstance(got, str):
        assert got == want, text
        return got
    assert (got.n_inputs, got.n_outputs, got.notes) == (want.n_inputs, want.n_outputs,
                                                        want.notes), text
    assert len(got.disjuncts) == len(want.disjuncts), text
    for k, (g, w) in enumerate(zip(got.disjuncts, want.disjuncts)):
        assert g.where == w.where, (k, text)
        for f in FIELDS:
            a, b = getattr(g, f), getattr(w, f)
            assert a.shape == b.shape and a.dtype.kind == b.dtype.kind, (k, f, text)
            assert np.array_equal(a, b), (k, f, a, b, text)
    return got


# -- random properties ----------------------------------------------------------------
def number(rng: random.Random) -> str:
    v = rng.choice([0, 1, -1, 0.5, -2.25, 3, 1e-5, 0.1, 7.0]) * rng.choice([1, 1, 10, 0.001])
    form = rng.randrange(6)
    if form == 0:
        return str(int(v)) if v == int(v) else repr(v)
    if form == 1:
        return f"{v:.6e}"
    if form == 2:
        return repr(float(v))
    if form == 3 and repr(abs(v)).startswith("0."):
        return ("-" if v < 0 else "") + repr(abs(v))[1:]   # .5
    if form == 4 and v == int(v):
        return f"{int(v)}."                                  # 1.
    return f"{v:.17g}"


def var(rng, n_x, n_y, kind=None) -> str:
    kind = kind or rng.choice("XXY")
    return f"X_{rng.randrange(n_x)}" if kind == "X" else f"Y_{rng.randrange(n_y)}"


def term(rng, n_x, n_y, kind, depth=0) -> str:
    r = rng.random()
    if depth > 1 or r < 0.45:
        return var(rng, n_x, n_y, kind)
    if r < 0.55:
        return number(rng)
    if r < 0.7:
        return f"(* {number(rng)} {term(rng, n_x, n_y, kind, depth + 1)})"
    if r < 0.85:
        return "(+ " + " ".join(term(rng, n_x, n_y, kind, depth + 1)
                                for _ in range(rng.randint(1, 3))) + ")"
    return "(- " + " ".join(term(rng, n_x, n_y, kind, depth + 1)
                            for _ in range(rng.randint(1, 2))) + ")"


def comparison(rng, n_x, n_y) -> str:
    op = rng.choice(["<=", ">=", "<=", ">=", "<", ">", "="])
    kind = rng.choice("XY")
    r = rng.random()
    if r < 0.5:   # a bound or a two-variable comparison: the fast path
        a, b = var(rng, n_x, n_y, kind), rng.choice([number(rng), var(rng, n_x, n_y, kind)])
        if rng.random() < 0.3:
            a, b = b, a
        return f"({op} {a} {b})"
    if r < 0.6:   # chained
        return f"({op} {number(rng)} {var(rng, n_x, n_y, kind)} {number(rng)})"
    if r < 0.63:
        return f"({op} {number(rng)} {number(rng)})"
    return f"({op} {term(rng, n_x, n_y, kind)} {term(rng, n_x, n_y, kind)})"


def formula(rng, n_x, n_y, depth=0) -> str:
    r = rng.random()
    if depth >= 3 or r < 0.5:
        return rng.choice(["true", "false"]) if r < 0.02 else comparison(rng, n_x, n_y)
    op = "and" if r < 0.75 else "or"
    return f"({op} " + " ".join(formula(rng, n_x, n_y, depth + 1)
                                for _ in range(rng.randint(1, 4))) + ")"


def sep(rng) -> str:
    return rng.choice([" ", "\n", "  ", "\t", " ; a comment\n", "\n\n"])


def random_text(seed: int) -> str:
    rng = random.Random(seed)
    n_x, n_y = rng.randint(1, 6), rng.randint(1, 4)
    decls = [f"(declare-const X_{i} Real)" for i in range(n_x)]
    decls += [f"(declare-const Y_{j} Real)" for j in range(n_y)]
    if rng.random() < 0.3:
        rng.shuffle(decls)
    parts = [";; random property\n"] + decls
    if rng.random() < 0.5:   # a box, as VNN-COMP files give it
        for i in range(n_x):
            lo = rng.uniform(-2, 1)
            parts += [f"(assert (<= X_{i} {lo + rng.uniform(0, 2)!r}))", f"(assert (>= X_{i} {lo!r}))"]
    for _ in range(rng.randint(1, 4)):
        parts.append(f"(assert {formula(rng, n_x, n_y)})")
    if rng.random() < 0.2:
        parts.insert(rng.randrange(len(parts) + 1), "(check-sat)")
    return "".join(p + sep(rng) for p in parts)


def random_big_text(seed: int) -> str:
    """An or of many boxes (with some rows, strict bounds, equalities, a false one) and
    an or over the outputs: large enough for the reader's array path."""
    rng = random.Random(seed)
    n_x, n_y = rng.randint(1, 8), rng.randint(2, 5)
    parts = [f"(declare-const X_{i} Real)" for i in range(n_x)]
    parts += [f"(declare-const Y_{j} Real)" for j in range(n_y)]
    for _ in range(rng.randint(1, 3)):
        boxes = []
        for _ in range(rng.randint(1, 25)):
            rows = []
            for i in range(n_x):
                lo = round(rng.uniform(-1, 1), rng.choice([1, 3, 17]))
                hi = lo + rng.choice([0, 0.5, 1e-3, 2])
                rows += [f"({rng.choice(['>=', '>', '>='])} X_{i} {lo!r})",
                         f"({rng.choice(['<=', '<', '<='])} X_{i} {hi!r})"]
            for _ in range(rng.choice([0, 0, 1, 3])):
                rows.append(comparison(rng, n_x, n_y))
            rng.shuffle(rows)
            boxes.append("(and " + " ".join(rows) + ")")
        parts.append("(assert (or " + sep(rng).join(boxes) + "))")
    for _ in range(rng.randint(0, 2)):
        parts.append(f"(assert {formula(rng, n_x, n_y)})")
    if rng.random() < 0.5:
        parts += [f"(assert (<= X_{i} {rng.uniform(0, 1)!r}))" for i in range(n_x)]
    return "\n".join(parts) + "\n"


@pytest.mark.parametrize("seed", range(400))
def test_random_properties_read_as_the_reference_reads_them(seed):
    assert_same(random_text(seed))


# the reference's expansion takes 6 to 30 s on these two (ours: a tenth of a second)
SLOW_REFERENCE = {12, 15}


@pytest.mark.parametrize("seed", [pytest.param(s, marks=pytest.mark.slow) if s in SLOW_REFERENCE
                                  else s for s in range(30)])
def test_random_large_properties_read_as_the_reference_reads_them(seed):
    assert_same(random_big_text(seed))


@pytest.mark.parametrize("seed", range(150))
def test_broken_properties_fail_as_the_reference_fails(seed):
    """A random edit (a parenthesis dropped or added, a token replaced) gives the same
    property or the same message at the same file:line:col."""
    rng = random.Random(10_000 + seed)
    text = random_text(seed)
    k = rng.randrange(len(text))
    edit = rng.randrange(4)
    if edit == 0:
        k = text.find("(", k)
        text = text[:k] + text[k + 1:] if k >= 0 else text + "("
    elif edit == 1:
        k = text.find(")", k)
        text = text[:k] + text[k + 1:] if k >= 0 else text + ")"
    elif edit == 2:
        text = text[:k] + rng.choice([")", "(", " (foo 1)", " X_99", " Z", " (not X_0)"]) + text[k:]
    else:
        # (not "1e" before digits: the reference would build 10**123456789 exactly)
        text = text[:k] + rng.choice(["(* X_0 X_0)", "Y_0", " 1e ", "--1", "(=> a b)"]) + text[k:]
    assert_same(text)


# -- the shapes of VNN-COMP files --------------------------------------------------------
def test_vnncomp_shapes_read_as_the_reference_reads_them():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from vnnlib_read import PROPERTIES
    from acasxu_properties import vnnlib_text
    for name, make, _, _ in PROPERTIES:
        p = assert_same(make())
        assert not isinstance(p, str), (name, p)
    assert len(assert_same(PROPERTIES[3][1]()).disjuncts) == 800
    for k in range(1, 9):   # the ACAS Xu properties the benchmarks write
        for normalised in (True, False):
            assert not isinstance(assert_same(vnnlib_text(k, normalised)), str), k


def test_shared_fixture_properties_read_as_the_reference_reads_them():
    if not SHARED.is_dir():
        pytest.skip("../shared/fixtures is absent (a fresh clone): no fixture properties")
    files = sorted(SHARED.rglob("*.vnnlib"))
    assert files
    for f in files:
        got = load_vnnlib(str(f))
        want = reference(f.read_text(), str(f))
        assert len(got.disjuncts) == len(want.disjuncts), f
        for g, w in zip(got.disjuncts, want.disjuncts):
            for fld in FIELDS:
                assert np.array_equal(getattr(g, fld), getattr(w, fld)), (f, fld)


@pytest.mark.parametrize("number", ["1e999999999", "-1e999999999", "1e-999999999", "1e400"])
@pytest.mark.parametrize("form", ["(<= X_0 {})", "(<= (* 2 X_0) {})", "(<= {} 1)",
                                  "(<= (+ X_0 {}) 1)", "(<= Y_0 {})"])
def test_numbers_beyond_float64_are_refused_quickly(number, form):
    """A number out of float64's range, or with an exponent so large that its exact value
    would take minutes to build, is a clear error (or, for a tiny bound, rounds to 0)."""
    text = ("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (>= X_0 0))\n"
            f"(assert {form.format(number)})\n")
    try:
        p = parse_vnnlib(text, "p.vnnlib")
    except InputError as e:
        assert "float64" in e.render() and "p.vnnlib:4:" in e.render(), e.render()
    else:
        assert number == "1e-999999999" or (number == "1e400" and "Y_0" not in form), form
        assert len(p.disjuncts) <= 1


def test_unbounded_inputs_are_kept_as_infinite_bounds():
    p = assert_same("(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n"
                    "(assert (>= X_0 0))\n(assert (<= Y_0 1))\n")
    assert not isinstance(p, str)
    (d,) = p.disjuncts
    assert d.lo.tolist() == [0, -np.inf] and d.hi.tolist() == [np.inf, np.inf]
    assert d.unbounded_inputs().tolist() == [0, 1]


def test_many_boxes_share_no_array_that_one_caller_could_change_for_another():
    """Disjuncts built per factor share arrays; the arrays are read-only, so that a
    change to one disjunct's box cannot silently change another's."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from vnnlib_read import boxes_text
    p = parse_vnnlib(boxes_text(), "boxes.vnnlib")
    for d in p.disjuncts[:8]:
        for f in FIELDS:
            with pytest.raises(ValueError):
                getattr(d, f)[...] = 0
