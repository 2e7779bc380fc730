"""VNN-LIB 1.0 reader: an SMT-LIB subset over inputs ``X_i`` and outputs ``Y_j``.

Accepted: ``(declare-const X_i Real)`` / ``(declare-const Y_j Real)`` (flat
indices, C order of the network's input / output tensor), ``(assert F)``
with ``F`` built from ``and``, ``or`` and the comparisons ``<=``, ``>=``,
``<``, ``>``, ``=`` (chained comparisons pairwise, as in SMT-LIB) between
linear terms: numbers, variables, ``(+ ...)``, ``(- ...)``, ``(* ...)`` with
at most one non-constant factor. Comments start with ``;``.

The assertions are turned into disjunctive normal form
(:class:`~nncc.problem.property.Property`): a row on a single ``X_i`` is a
bound of the disjunct's box, other rows over inputs stay rows, rows over
outputs become ``C y >= d``. A row mixing ``X`` and ``Y`` is refused. An input
with no lower or upper bound keeps an infinite one (``nncc verify`` bounds inputs
the network never reads and searches the others for counterexamples only).
VNN-LIB 2.0 (``declare-network``, typed tensor declarations) is refused with
a message naming the construct.

Errors are :class:`~nncc.errors.InputError` with ``file:line:col``.

How it reads (the shape of VNN-COMP files is thousands of one-line bounds and
one ``or`` over the outputs, or an ``or`` of boxes):

* one ``re.finditer`` over the text, an explicit stack for the S-expressions;
  the common forms ``(assert (OP a b))``, ``(OP a b)`` and ``(declare-const N S)``
  are one match each. Positions are character offsets; line and column are
  computed only for a message (or a disjunct's ``where``).
* a comparison of two atoms (a variable and a number, or two variables) is a row
  in floats: its coefficients are 1 / -1, its number is read once with ``float``,
  which rounds the decimal as the exact rational would be rounded. Other terms
  (products, sums, chained comparisons) are folded exactly with ``Fraction``.
* the DNF is kept as a product of factors: consecutive assertions with a single
  conjunction are one factor, each other assertion one factor, so 200 boxes times
  4 output conjunctions are 204 conjunctions, not 800 row lists. Boxes and rows
  are built per factor with array operations and combined once per distinct
  combination; disjuncts that share a box or rows share the arrays.
"""
from __future__ import annotations

import os
import re
from bisect import bisect_right
from fractions import Fraction
from itertools import chain, product, repeat

import numpy as np

from ..errors import InputError, SourcePos
from ..problem.property import Disjunct, Property

# more disjuncts than this after expanding and/or is refused (exponential blow-up)
MAX_DISJUNCTS = 100_000
VNNLIB2_WORDS = {"declare-network", "declare-input", "declare-output", "declare-hidden",
                 "vnnlib-version", "declare-tensor", "Float32", "Float64", "float32", "float64",
                 "Real[", "equal-to", "isomorphic-to"}
HOUSEKEEPING = ("set-logic", "set-info", "set-option", "check-sat", "get-model", "exit")

LE, GE, EQ, LT, GT = "<=", ">=", "=", "<", ">"
COMPARISONS = (LE, GE, EQ, LT, GT)
_VAR = re.compile(r"^([XY])_(\d+)$")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NUMBER_CHARS = "0123456789+-.eE"  # made of these, a NUMBER is what float() reads
_NUMBER_CHAR_SET = frozenset(_NUMBER_CHARS)

# -- the tokenizer ---------------------------------------------------------------------
_W = r"[ \t\f\r\n]"
_SKIP = r"(?:[ \t\f\r\n]++|;[^\n]*+)*+"  # whitespace and comments, never given back
_ATOM = r'[^\s();"]++'


def _cmp(op: str, atom: str) -> str:
    return rf"\({_W}*+{op}{_W}++{atom}{_W}++{atom}{_W}*+\)"


def _assert(cmp: str) -> str:
    return rf"\({_W}*+assert{_W}*+{cmp}{_W}*+\)"


def _decl(name: str) -> str:
    return rf"\({_W}*+declare-const{_W}++{name}{_W}++Real{_W}*+\)"


_CMP = _cmp(r"(?:<=|>=|<|>|=)", _ATOM)  # (OP a b)
_CMP_FIELDS = _cmp(r"(<=|>=|<|>|=)", f"({_ATOM})")  # groups: OP, a, b
_DECL = _decl(r"[XY]_\d++")  # (declare-const X_i Real)

# One match is a run of the common forms separated by white space (no comment: the words of
# a run are then its str.split() once the parentheses are blanked; the offsets of its items
# are found again, with the patterns below, only when a message or a where needs them), or
# one token.
_TOKENS = re.compile(
    _SKIP + "(?:"
    rf"((?:{_assert(_CMP)}{_W}*+)++)"  # 1: (assert (OP a b)) ...
    rf"|((?:{_CMP}{_W}*+)++)"          # 2: (OP a b) ...
    rf"|((?:{_DECL}{_W}*+)++)"         # 3: (declare-const X_i Real) ...
    rf"|(\()|(\))|({_ATOM})|(.)|(\Z))", re.S)  # 4 ( 5 ) 6 atom 7 bad 8 end
_RUN_ASSERT, _RUN_CMP, _RUN_DECL = 1, 2, 3
_ASSERT_AT = re.compile(_W + "*+(" + _assert(f"({_CMP})") + ")")  # the assert, its comparison
_CMP_AT = re.compile(_W + f"*+({_CMP_FIELDS})")  # the comparison, OP, a, b
_DECL_AT = re.compile(_W + "*+(" + _decl(r"([XY]_\d++)") + ")")  # the declaration, the name
_PLAIN = re.compile(_SKIP + rf"(?:(\()|(\))|({_ATOM})|(.)|(\Z))", re.S)  # to find a token again

# row kinds
_TRUE, _FALSE, _MIX, _BOUND, _AROW, _CROW, _BAD = range(7)
_SENSES = {GE: ((1.0, False),), GT: ((1.0, True),), LE: ((-1.0, False),), LT: ((-1.0, True),),
           EQ: ((1.0, False), (-1.0, False))}
_HOLDS = {LE: lambda r: 0 <= r, GE: lambda r: 0 >= r, EQ: lambda r: r == 0,
          LT: lambda r: 0 < r, GT: lambda r: 0 > r}
_SIDE_LEFT = {LE: 1, LT: 1, GE: 2, GT: 2, EQ: 3}   # X_i op v: 1 upper bound, 2 lower, 3 both
_SIDE_RIGHT = {LE: 2, LT: 2, GE: 1, GT: 1, EQ: 3}  # v op X_i
_OP_CODE = {LE: 0, GE: 1, EQ: 2, LT: 3, GT: 4}  # strict ones last
_SIDE_CODES = (np.array([_SIDE_LEFT[o] for o in _OP_CODE], np.int8),
               np.array([_SIDE_RIGHT[o] for o in _OP_CODE], np.int8))
_INF = float("inf")
_OUT_OF_RANGE = (_INF, -_INF)
# below this estimate of row visits the disjuncts are built one at a time in plain Python
# (fewer array operations for ACAS Xu sized properties); above it per factor, with arrays
SMALL_WORK = 400
VECTOR_LEAVES = 64  # from this many two-atom comparisons on, their rows are read with arrays

# A generic S-expression is a list [offset of "(", item, ...]; an item is a str (atom),
# a list, or an int: the index of a two-atom comparison "(OP a b)", a leaf (its OP, a and b
# in _Reader.ops, .lhs, .rhs; its row has the same index).


class _Reader:
    def __init__(self, text: str, path: str):
        self.text, self.path = text, path
        self.ops: list = []  # the leaves: (OP a b) is (ops[i], lhs[i], rhs[i])
        self.lhs: list = []
        self.rhs: list = []
        # runs of two-atom comparisons: [first leaf, item pattern, its group of the
        # comparison, where the next item starts, end, offsets of the items so far]
        self.runs: list = []
        self.declared: dict[str, tuple[str, int]] = {}
        self.xs: dict[str, int] = {}  # X_i -> i
        self.ys: dict[str, int] = {}
        self._numbers: dict[str, float | None] = {}

    # -- positions and errors ------------------------------------------------------------
    def pos(self, off: int | None) -> SourcePos:
        if off is None:
            return SourcePos(self.path, 1, 1, "")
        text = self.text
        line, col = text.count("\n", 0, off) + 1, off - text.rfind("\n", 0, off)
        lines = text.splitlines()
        return SourcePos(self.path, line, col, lines[line - 1] if line <= len(lines) else "")

    def fail(self, off: int | None, message: str):
        raise InputError(message, self.pos(off))

    def child_offset(self, off: int | None, k: int) -> int | None:
        """Offset of item k of the list whose "(" is at off (of the k-th top-level item if
        off is None), found again by tokenizing."""
        depth, n, want = 0, -1, 0 if off is None else 1
        for m in _PLAIN.finditer(self.text, off or 0):
            g = m.lastindex
            if g == 1:
                if depth == want:
                    n += 1
                    if n == k:
                        return m.start(1)
                depth += 1
            elif g == 2:
                depth -= 1
                if depth == 0 and off is not None:
                    break
            elif g == 3 and depth == want:
                n += 1
                if n == k:
                    return m.start(3)
            elif g == 5:
                break
        return off

    def first_top_atom(self) -> int | None:
        """Offset of the first atom outside every list."""
        depth = 0
        for m in _PLAIN.finditer(self.text):
            g = m.lastindex
            if g == 1:
                depth += 1
            elif g == 2:
                depth -= 1
            elif g == 3 and depth == 0:
                return m.start(3)
            elif g == 5:
                break
        return None

    def node_offset(self, node, parent=None, k: int = 0) -> int | None:
        if type(node) is list:
            return node[0]
        if type(node) is int:
            return self.row_offset(node)
        return self.child_offset(parent[0], k) if parent is not None else None

    def item_offsets(self, run: list, k: int) -> list:
        """Offsets of the first k + 1 items of a run (found once, when first asked for)."""
        _, pattern, group, at, end, offs = run
        while len(offs) <= k:
            m = pattern.match(self.text, at, end)
            offs.append(m.start(group))
            at = m.end()
        run[3] = at
        return offs

    def row_offset(self, r: int) -> int:
        if r >= len(self.ops):
            return self.row_offs[r]
        run = self.runs[bisect_right(self.run_firsts, r) - 1]
        return self.item_offsets(run, r - run[0])[r - run[0]]

    def as_list(self, leaf: int) -> list:
        return [self.row_offset(leaf), self.ops[leaf], self.lhs[leaf], self.rhs[leaf]]

    # -- 1. text -> commands ---------------------------------------------------------------
    def scan(self) -> list:
        """Top-level items in order: a range (of "(assert (OP a b))": the comparisons'
        leaves), a tuple (start, end) of "(declare-const X_i Real)"s, a list (any other
        command) or a str (an atom)."""
        top: list = []
        cur = top
        stack: list = []
        ops, lhs, rhs, runs, text = self.ops, self.lhs, self.rhs, self.runs, self.text
        for m in _TOKENS.finditer(text):
            g = m.lastindex
            if g == _RUN_CMP:
                start, end = m.span(2)
                if stack:
                    first = len(ops)
                    w = text[start:end].replace("(", " ").replace(")", " ").split()
                    ops += w[::3]
                    lhs += w[1::3]
                    rhs += w[2::3]
                    runs.append([first, _CMP_AT, 1, start, end, []])
                    cur += range(first, len(ops))
                else:  # not commands: reported as such
                    top += [[p.start(1), *p.group(2, 3, 4)] for p in _CMP_AT.finditer(text, start, end)]
            elif g == _RUN_ASSERT:
                start, end = m.span(1)
                first = len(ops)
                w = text[start:end].replace("(", " ").replace(")", " ").split()
                ops += w[1::4]
                lhs += w[2::4]
                rhs += w[3::4]
                runs.append([first, _ASSERT_AT, 2, start, end, []])
                if stack:  # (assert ...) inside a list: generic lists
                    cur += [[p.start(1), "assert", i]
                            for i, p in enumerate(_ASSERT_AT.finditer(text, start, end), first)]
                else:
                    top.append(range(first, len(ops)))
            elif g == 6:
                cur.append(m.group(6))
            elif g == 4:
                node = [m.start(4)]
                cur.append(node)
                stack.append(cur)
                cur = node
            elif g == 5:
                if not stack:
                    self.fail(m.start(5), "unexpected ')': nothing to close")
                cur = stack.pop()
            elif g == _RUN_DECL:
                if stack:  # generic lists
                    cur += [[p.start(1), "declare-const", p.group(2), "Real"]
                            for p in _DECL_AT.finditer(text, *m.span(3))]
                else:
                    top.append(m.span(3))
            elif g == 7:
                self.fail(m.start(7), "cannot read this (an S-expression was expected)")
            else:
                break
        if stack:
            last = 0
            for m in _PLAIN.finditer(text):
                if m.lastindex < 4:
                    last = m.start(m.lastindex)
            self.fail(last, "unexpected end of file: a '(' is not closed")
        self.run_firsts = [r[0] for r in runs]
        return top

    # -- 2. commands -------------------------------------------------------------------------
    def read(self) -> Property:
        formulas = []
        for cmd in self.scan():
            t = type(cmd)
            if t is range:  # (assert (OP a b)) ...
                formulas.append(cmd)
            elif t is tuple:  # (declare-const X_i Real) ...
                self.declare_run(*cmd)
            elif t is list:
                self.command(cmd, formulas)
            else:
                # a top-level atom; the first, since every one is refused
                self.fail(self.first_top_atom(), "expected a command such as "
                          "(declare-const X_0 Real) or (assert ...)")
        n_x, n_y = self.count("X"), self.count("Y")
        if n_x == 0 or n_y == 0:
            raise InputError(f"{self.path}: the property declares no "
                             f"{'inputs (X_i)' if n_x == 0 else 'outputs (Y_j)'}")
        self.n_x, self.n_y = n_x, n_y
        self.rows_of_leaves()
        factors = self.factors(formulas)
        work = 1
        for f in factors:
            work *= len(f)
        work *= 10 + n_x // 8 + sum(sum(map(len, f)) / len(f) for f in factors if f)
        if work <= SMALL_WORK:
            return self.build_small(factors)
        return self.build(factors)

    def declare_run(self, start: int, end: int) -> None:
        """A run of (declare-const X_i Real)."""
        declared, xs, ys = self.declared, self.xs, self.ys
        names = self.text[start:end].replace("(", " ").replace(")", " ").split()[1::3]
        if len(set(names)) != len(names) or not declared.keys().isdisjoint(names):
            seen = set(declared)  # a name declared twice: the first, in order
            for p in _DECL_AT.finditer(self.text, start, end):
                if p.group(2) in seen:
                    self.fail(p.start(2), f"'{p.group(2)}' is declared twice")
                seen.add(p.group(2))
        for name in names:
            i = int(name[2:])
            declared[name] = (name[0], i)
            if name[0] == "X":
                xs[name] = i
            else:
                ys[name] = i

    def command(self, cmd: list, formulas: list) -> None:
        if len(cmd) < 2 or type(cmd[1]) is not str:
            self.fail(cmd[0], "expected a command such as (declare-const X_0 Real) or (assert ...)")
        head = cmd[1]
        if head in VNNLIB2_WORDS:
            self.fail(cmd[0], f"'{head}' is VNN-LIB 2.0, which nncc does not read yet (typed "
                      "tensor declarations, named networks); state the property in VNN-LIB 1.0: "
                      "(declare-const X_i Real) per input, (declare-const Y_j Real) per output")
        if head == "declare-const":
            if len(cmd) != 4 or type(cmd[2]) is not str:
                self.fail(cmd[0], "expected (declare-const NAME Real)")
            name, sort = cmd[2], cmd[3]
            sort_off = (self.node_offset(sort) if type(sort) is not str
                        else self.child_offset(cmd[0], 2))
            self.declare(name, sort, self.child_offset(cmd[0], 1), sort_off)
            m = _VAR.match(name)
            self.declared[name] = (m.group(1), int(m.group(2)))
            (self.xs if m.group(1) == "X" else self.ys)[name] = int(m.group(2))
        elif head == "assert":
            if len(cmd) != 3:
                self.fail(cmd[0], "assert takes one formula")
            f = cmd[2]
            formulas.append(f if type(f) is not str else (f, self.child_offset(cmd[0], 1)))
        elif head not in HOUSEKEEPING:  # SMT-LIB housekeeping some generators add
            self.fail(cmd[0], f"unknown command '{head}' (VNN-LIB 1.0 has declare-const and assert)")

    def declare(self, name: str, sort, name_off, sort_off) -> None:
        """Refuse a declaration that is not (declare-const X_i Real) of a new name."""
        if type(sort) is not str or sort != "Real":
            what = "a tensor type" if type(sort) is not str else f"sort '{sort}'"
            self.fail(sort_off, f"{name} has {what}: VNN-LIB 1.0 declares every variable as Real "
                      "(typed tensor declarations are VNN-LIB 2.0, not supported)")
        if not _VAR.match(name):
            self.fail(name_off, f"variable '{name}' must be named X_i (input) or Y_j (output)")
        if name in self.declared:
            self.fail(name_off, f"'{name}' is declared twice")

    def count(self, kind: str) -> int:
        idx = sorted((self.xs if kind == "X" else self.ys).values())
        if idx and idx[-1] != len(idx) - 1 or len(set(idx)) != len(idx):
            missing = sorted(set(range(idx[-1] + 1)) - set(idx))
            if not missing:  # X_01 and X_1
                dup = next(i for i, j in zip(idx, idx[1:]) if i == j)
                names = sorted(n for n, v in self.declared.items() if v == (kind, dup))
                raise InputError(f"{self.path}: {' and '.join(names)} name the same variable "
                                 f"{kind}_{dup}")
            raise InputError(f"{self.path}: {kind}_{missing[0]} is not declared but "
                             f"{kind}_{idx[-1]} is: declare {kind}_0 .. {kind}_{idx[-1]}")
        return len(idx)

    # -- 3. rows -----------------------------------------------------------------------------
    # A row is one comparison of two terms (a chained comparison gives one per pair). Row r:
    # kind[r]; for a bound "X_i op value": var[r], val[r], side[r] (1 upper, 2 lower, 3 both,
    # for =), strict[r]; for a row over the inputs or the outputs: extra[r] = (columns,
    # coefficients, rhs, op), meaning  sum c x  op  rhs.  Rows 0 .. len(leaves) - 1 are the
    # two-atom comparisons, the others come from general comparisons (offsets in row_offs).
    def number(self, s: str):
        """float of a NUMBER atom (None if s is not one): the decimal rounded once, as the
        exact rational is."""
        v = self._numbers.get(s, False)
        if v is False:
            v = None
            if not s.strip(_NUMBER_CHARS) or _NUMBER.fullmatch(s):  # the regex: other digits
                try:
                    v = float(s) + 0.0  # + 0.0: no -0.0, as from a Fraction
                except ValueError:  # "1e", "-", "1.2.3"
                    pass
            self._numbers[s] = v
        return v

    def rows_of_leaves(self) -> None:
        """Rows of every two-atom comparison; errors wait until the DNF meets the
        comparison, so that they come in the order of the assertions."""
        xs, ys = self.xs, self.ys
        self.row_offs = {}
        if len(self.ops) >= VECTOR_LEAVES:
            return self.rows_of_many_leaves(xs, ys)
        nums = self._numbers
        number = self.number
        kind, var, val, side, strict, extra = [], [], [], [], [], []
        self.kind, self.var, self.val, self.side, self.strict, self.extra = \
            kind, var, val, side, strict, extra
        left, right = _SIDE_LEFT, _SIDE_RIGHT
        for op, a, b in zip(self.ops, self.lhs, self.rhs):
            i = xs.get(a)
            if i is not None:
                v = nums.get(b)
                if v is None:
                    v = number(b)
                if v is not None and v not in _OUT_OF_RANGE:  # X_i op number
                    kind.append(_BOUND), var.append(i), val.append(v), side.append(left[op])
                    strict.append(op == LT or op == GT), extra.append(None)
                    continue
            else:
                i = xs.get(b)
                if i is not None:
                    v = nums.get(a)
                    if v is None:
                        v = number(a)
                    if v is not None and v not in _OUT_OF_RANGE:  # number op X_i
                        kind.append(_BOUND), var.append(i), val.append(v), side.append(right[op])
                        strict.append(op == LT or op == GT), extra.append(None)
                        continue
                elif a in ys and b in ys and a != b:  # Y_j op Y_k
                    kind.append(_CROW), var.append(0), val.append(0.0), side.append(0)
                    strict.append(op == LT or op == GT)
                    extra.append(((ys[a], ys[b]), (1.0, -1.0), 0.0, op))
                    continue
            k, e = self.slow_leaf(op, a, b, xs, ys)
            kind.append(k), var.append(0), val.append(0.0), side.append(0)
            strict.append(op == LT or op == GT), extra.append(e)

    def rows_of_many_leaves(self, xs: dict, ys: dict) -> None:
        """rows_of_leaves with array operations: the same rows."""
        ops, a, b = self.ops, self.lhs, self.rhs
        n = len(ops)
        new = list(set(a).union(b).difference(xs, ys, self._numbers))
        if set("".join(new)) <= _NUMBER_CHAR_SET:  # then float() reads exactly the NUMBERs
            try:
                self._numbers.update(zip(new, (np.array(list(map(float, new))) + 0.0).tolist()))
                new = []
            except ValueError:  # one is not a number: each on its own
                pass
        for t in new:
            self.number(t)
        nums = {t: v for t, v in self._numbers.items() if v is not None}
        nan = float("nan")
        ia = np.fromiter(map(xs.get, a, repeat(-1, n)), np.intp, n)
        ib = np.fromiter(map(xs.get, b, repeat(-1, n)), np.intp, n)
        va = np.fromiter(map(nums.get, a, repeat(nan, n)), float, n)
        vb = np.fromiter(map(nums.get, b, repeat(nan, n)), float, n)
        op = np.fromiter(map(_OP_CODE.__getitem__, ops), np.int8, n)
        left = (ia >= 0) & np.isfinite(vb)  # X_i op number
        right = ~left & (ib >= 0) & np.isfinite(va)  # number op X_i
        bound = left | right
        self.kind = np.where(bound, _BOUND, _BAD).tolist()
        self.var = np.where(left, ia, np.where(right, ib, 0)).tolist()
        self.val = np.where(left, vb, np.where(right, va, 0.0)).tolist()
        self.side = np.where(left, _SIDE_CODES[0][op], np.where(right, _SIDE_CODES[1][op], 0)
                             ).tolist()
        self.strict = (op >= _OP_CODE[LT]).tolist()
        self.extra = [None] * n
        for r in np.flatnonzero(~bound).tolist():
            self.kind[r], self.extra[r] = self.slow_leaf(ops[r], a[r], b[r], xs, ys)

    def slow_leaf(self, op, a, b, xs, ys):
        """Kind and extra of a two-atom comparison other than X_i op number."""
        (ka, ia, va), (kb, ib, vb) = self.atom_term(a, xs, ys), self.atom_term(b, xs, ys)
        if ka is None or kb is None or va in _OUT_OF_RANGE or vb in _OUT_OF_RANGE:
            return _BAD, None  # reported when the DNF meets it
        if ka == "N" and kb == "N":  # two numbers: 0 op b - a, exactly
            fa, fb = _fraction(a), _fraction(b)
            if fa is None or fb is None:
                return _BAD, None
            return (_TRUE if _HOLDS[op](fb - fa) else _FALSE), None
        if ka == "N":  # number op var:  -var op -number
            ka, ia, kb, vb, c = kb, ib, "N", (-va) + 0.0, -1.0
        else:
            c = 1.0
        if kb == "N":  # var op number (Y_j: X_i op number is a bound)
            return _CROW, ((ia,), (c,), vb, op)
        if ka != kb:
            return _MIX, None
        if ia == ib:  # X_i op X_i: 0 op 0
            return (_TRUE if op in (LE, GE, EQ) else _FALSE), None
        return (_AROW if ka == "X" else _CROW), ((ia, ib), (1.0, -1.0), 0.0, op)

    def atom_term(self, s, xs, ys):
        """("X" or "Y", index, None) of a declared variable, ("N", None, float) of a number,
        (None, None, None) otherwise (an error, reported by term())."""
        if s in xs:
            return "X", xs[s], None
        if s in ys:
            return "Y", ys[s], None
        v = self.number(s)
        return (None, None, None) if v is None else ("N", None, v)

    def new_row(self, coefs: dict, op: str, rhs: Fraction, off: int) -> int:
        """A row from exact coefficients:  sum coefs v  op  rhs."""
        r = len(self.kind)
        self.row_offs[r] = off
        k, v, i, sd, e = self.classify(coefs, op, rhs, off)
        self.kind.append(k), self.var.append(i), self.val.append(v), self.side.append(sd)
        self.strict.append(op == LT or op == GT), self.extra.append(e)
        return r

    def classify(self, coefs, op, rhs, off):
        if not coefs:
            return (_TRUE if _HOLDS[op](rhs) else _FALSE), 0.0, 0, 0, None
        kinds = {k for k, _ in coefs}
        if kinds == {"X", "Y"}:
            return _MIX, 0.0, 0, 0, None
        try:
            if kinds == {"X"} and len(coefs) == 1:
                (_, i), a = next(iter(coefs.items()))
                upper = (op in (LE, LT)) == (a > 0)
                return _BOUND, float(rhs / a), i, (3 if op == EQ else 1 if upper else 2), None
            cols = tuple(i for _, i in coefs)
            return ((_AROW if kinds == {"X"} else _CROW), 0.0, 0, 0,
                    (cols, tuple(float(c) for c in coefs.values()), float(rhs), op))
        except OverflowError:
            self.fail(off, "a number in this comparison is out of the float64 range")

    # -- 4. formulas -> DNF (a list of conjunctions, each a list of row ids) --------------------
    def leaf_rows(self, leaf: int) -> list:
        if self.kind[leaf] == _BAD:  # the error term() reports, or a number out of range
            node = self.as_list(leaf)
            for k in (1, 2):
                self.term(node[k + 1], node, k)
                if self.number(node[k + 1]) in _OUT_OF_RANGE:
                    self.fail(self.child_offset(node[0], k), f"the number '{node[k + 1]}' is "
                              "out of the float64 range")
            raise AssertionError(f"comparison {node} is neither read nor refused")
        return [[leaf]]

    def factors(self, formulas: list) -> list:
        """The DNF of the conjunction of the formulas as factors (each a list of
        conjunctions): the disjuncts are their product, the first factor varying slowest.
        Consecutive formulas with one conjunction each make one factor."""
        factors, run, total = [], None, 1
        kind = self.kind
        for f in formulas:
            if type(f) is range:  # (assert (OP a b)) ...
                if _BAD in kind[f.start:f.stop]:
                    for r in f:
                        self.leaf_rows(r)
                if run is None:
                    run = []
                    factors.append([run])
                run += f
                continue
            if type(f) is tuple:  # an atom, with its offset
                f, off = f
                dnf = self.dnf(f, None, 0, off)
            else:
                dnf = self.dnf(f, None, 0)
                off = self.node_offset(f)
            if total * len(dnf) > MAX_DISJUNCTS:
                self.fail(off, f"the property has more than {MAX_DISJUNCTS:,} disjuncts once "
                          "'and' is distributed over 'or'")
            total *= len(dnf)
            if len(dnf) == 1:
                if run is None:
                    run = []
                    factors.append([run])
                run.extend(dnf[0])
            else:
                factors.append(dnf)
                run = None
        return factors

    def dnf(self, f, parent, k, atom_off=None) -> list:
        t = type(f)
        if t is int:
            return self.leaf_rows(f)
        if t is str:
            if f in ("true", "false"):
                return [[]] if f == "true" else []
            self.fail(atom_off if atom_off is not None else self.node_offset(f, parent, k),
                      "expected a formula: (and ...), (or ...) or a comparison")
        if len(f) < 2:
            self.fail(f[0], "expected a formula: (and ...), (or ...) or a comparison")
        head = f[1]
        op = head if type(head) is str else ""
        args = f[2:]
        if op == "and":
            dnfs, n = [], 1
            kind = self.kind
            if all(type(g) is int and kind[g] != _BAD for g in args):  # (and (OP a b) ...)
                return [list(args)]
            for j, g in enumerate(args, 1):
                if type(g) is int and kind[g] != _BAD:  # (OP a b)
                    dnfs.append([[g]])
                    continue
                d = self.dnf(g, f, j)
                if n * len(d) > MAX_DISJUNCTS:
                    self.fail(self.node_offset(g, f, j), f"the property has more than "
                              f"{MAX_DISJUNCTS:,} disjuncts once 'and' is distributed over 'or'")
                n *= len(d)
                dnfs.append(d)
            if n == 1:
                return [list(chain.from_iterable(d[0] for d in dnfs))]
            return [list(chain.from_iterable(c)) for c in product(*dnfs)]
        if op == "or":
            out = []
            for j, g in enumerate(args, 1):
                out += self.dnf(g, f, j)
                if len(out) > MAX_DISJUNCTS:
                    self.fail(f[0], f"the property has more than {MAX_DISJUNCTS:,} disjuncts")
            return out
        if op in COMPARISONS:
            if len(args) < 2:
                self.fail(f[0], f"'{op}' needs two terms")
            terms = [self.term(t, f, j) for j, t in enumerate(args, 1)]
            rows = []
            for lhs, rhs in zip(terms, terms[1:]):
                coefs = dict(lhs[0])
                for v, c in rhs[0].items():
                    coefs[v] = coefs.get(v, 0) - c
                coefs = {v: c for v, c in coefs.items() if c != 0}
                # sum coefs v + (lhs const - rhs const)  op  0
                rows.append(self.new_row(coefs, op, rhs[1] - lhs[1], f[0]))
            return [rows]
        if op in ("not", "=>", "xor", "ite", "distinct"):
            self.fail(self.child_offset(f[0], 0), f"'{op}' is not part of VNN-LIB 1.0 (use and / "
                      "or of comparisons)")
        self.fail(self.child_offset(f[0], 0) if op else f[0],
                  f"expected and / or / a comparison, not '{op or 'a list'}'")

    def term(self, t, parent, k):
        """A linear term: ({(kind, index): Fraction}, Fraction constant)."""
        if type(t) is int:
            t = self.as_list(t)
        if type(t) is str:
            if _NUMBER.fullmatch(t):
                v = _fraction(t)
                if v is None:
                    self.fail(self.child_offset(parent[0], k), f"the number '{t}' has an "
                              "exponent far beyond the float64 range")
                return {}, v
            if t in self.declared:
                return {self.declared[t]: Fraction(1)}, Fraction(0)
            if _VAR.match(t):
                self.fail(self.child_offset(parent[0], k), f"'{t}' is used but not declared "
                          f"(declare-const {t} Real)")
            self.fail(self.child_offset(parent[0], k), f"unknown symbol '{t}'")
        if len(t) < 2 or type(t[1]) is not str:
            self.fail(t[0], "expected a term")
        op = t[1]
        args = [self.term(a, t, j) for j, a in enumerate(t[2:], 1)]
        if op == "+" and args:
            return _lin_sum(args, [1] * len(args))
        if op == "-" and len(args) == 1:
            return _lin_sum(args, [-1])
        if op == "-" and args:
            return _lin_sum(args, [1] + [-1] * (len(args) - 1))
        if op == "*" and args:
            nonconst = [a for a in args if a[0]]
            if len(nonconst) > 1:
                self.fail(t[0], "a product of variables is not linear (VNN-LIB 1.0 allows "
                          "constants times one term)")
            c = Fraction(1)
            for a in args:
                if not a[0]:
                    c *= a[1]
            base = nonconst[0] if nonconst else ({}, Fraction(1))
            return {v: c * x for v, x in base[0].items()}, c * base[1]
        if op == "/" and len(args) == 2 and not args[0][0] and not args[1][0] and args[1][1] != 0:
            return {}, args[0][1] / args[1][1]
        self.fail(t[0], f"'{op}' is not a linear term VNN-LIB 1.0 allows (+, -, * by a constant)")

    # -- 5. factors -> disjuncts ----------------------------------------------------------------
    def mixing(self, r: int):
        self.fail(self.row_offset(r), "a row mixing inputs and outputs is not supported (rows "
                  "are over the X_i or over the Y_j)")

    def where(self, r: int) -> str:
        if r < 0:
            return self.path
        o, text = self.row_offset(r), self.text
        return f"{self.path}:{text.count(chr(10), 0, o) + 1}:{o - text.rfind(chr(10), 0, o)}"

    def wheres(self, first: list) -> list:
        """file:line:col of each disjunct's first row (the file's name if it has none)."""
        offs = [self.row_offset(r) if r >= 0 else -1 for r in first]
        names = {-1: self.path}
        line, at, text = 1, 0, self.text
        for o in sorted(set(offs) - {-1}):
            line += text.count("\n", at, o)
            at = o
            names[o] = f"{self.path}:{line}:{o - text.rfind(chr(10), 0, o)}"
        return [names[o] for o in offs]

    def build_small(self, factors: list) -> Property:
        """The disjuncts one at a time, in plain Python (few disjuncts and rows)."""
        nx, ny = self.n_x, self.n_y
        kind, var, val, side, strict, extra = (self.kind, self.var, self.val, self.side,
                                               self.strict, self.extra)
        prop = Property(self.path, nx, ny)
        for combo in product(*factors):
            lo, hi = [-_INF] * nx, [_INF] * nx
            los, his = [False] * nx, [False] * nx
            rows = ([], [])  # (row, rhs, strict) over the inputs, over the outputs
            first = -1
            for r in chain.from_iterable(combo):
                if first < 0:
                    first = r
                k = kind[r]
                if k == _BOUND:
                    i, v, sd, st = var[r], val[r], side[r], strict[r]
                    if sd & 1 and (v < hi[i] or (v == hi[i] and st)):
                        hi[i], his[i] = v, st
                    if sd & 2 and (v > lo[i] or (v == lo[i] and st)):
                        lo[i], los[i] = v, st
                elif k == _AROW or k == _CROW:
                    cols, cf, rhs, op = extra[r]
                    n = nx if k == _AROW else ny
                    for sign, st in _SENSES[op]:
                        row = [0.0] * n
                        for c, x in zip(cols, cf):
                            row[c] = sign * x
                        rows[k - _AROW].append((row, sign * rhs, st))
                elif k == _FALSE:
                    break
                elif k == _MIX:
                    self.mixing(r)
            else:
                if any(a > b or (a == b and (s or t)) for a, b, s, t in zip(lo, hi, los, his)):
                    continue
                arrays = []
                for n, rs in ((nx, rows[0]), (ny, rows[1])):
                    if rs:
                        M, d, st = zip(*rs)
                        arrays += [_frozen(np.array(M)), _frozen(np.array(d)),
                                   _frozen(np.array(st))]
                    else:
                        arrays += _no_rows(n)
                box, flags = _frozen(np.array((lo, hi))), _frozen(np.array((los, his)))
                prop.disjuncts.append(Disjunct(box[0], box[1], flags[0], flags[1], *arrays,
                                               self.where(first)))
        if not prop.disjuncts:
            prop.notes.append("the assertions are contradictory: the unsafe set is empty")
        return prop

    def build(self, factors: list) -> Property:
        """The disjuncts with array operations per factor, combined once per distinct
        combination of the factors' conjunctions that carry boxes or rows."""
        nx, ny = self.n_x, self.n_y
        prop = Property(self.path, nx, ny)
        kind = np.array(self.kind, np.int8)
        sizes = [len(f) for f in factors]
        total = int(np.prod(sizes)) if sizes else 1
        if total == 0:
            prop.notes.append("the assertions are contradictory: the unsafe set is empty")
            return prop
        T = np.zeros((total, len(factors)), np.intp)  # disjunct k takes conjunction T[k, g]
        stride = total
        for g, s in enumerate(sizes):
            stride //= s
            T[:, g] = (np.arange(total) // stride) % s
        parts = [self.factor(f, kind) for f in factors]

        # the first row (for where), and the first false or mixing row, of each disjunct
        first = np.full(total, -1, np.intp)
        special = np.full(total, -1, np.intp)
        for g in range(len(factors) - 1, -1, -1):
            fr, sp = parts[g]["first"][T[:, g]], parts[g]["special"][T[:, g]]
            first = np.where(fr >= 0, fr, first)
            special = np.where(sp >= 0, sp, special)
        has_special = special >= 0
        mixing = np.zeros(total, bool)
        mixing[has_special] = kind[special[has_special]] == _MIX

        box_id, boxes = self.combine_boxes(parts, T)
        lo_t, hi_t, los_t, his_t = boxes
        empty_t = (lo_t > hi_t).any(1) | ((lo_t == hi_t) & (los_t | his_t)).any(1)
        alive = ~has_special & ~empty_t[box_id]
        if mixing.any():
            self.mixing(int(special[int(np.argmax(mixing))]))
        keep = np.flatnonzero(alive)
        if not keep.size:
            prop.notes.append("the assertions are contradictory: the unsafe set is empty")
            return prop
        a_id, a_rows = self.combine_rows(parts, T, "A", nx)
        c_id, c_rows = self.combine_rows(parts, T, "C", ny)
        wheres = self.wheres(first[keep].tolist())
        lo_v, hi_v, los_v, his_v = (list(_frozen(x)) for x in boxes)
        prop.disjuncts = [Disjunct(lo_v[b], hi_v[b], los_v[b], his_v[b], *a_rows[a], *c_rows[c], w)
                          for b, a, c, w in zip(box_id[keep].tolist(), a_id[keep].tolist(),
                                                c_id[keep].tolist(), wheres)]
        return prop

    def factor(self, conjs: list, kind: np.ndarray) -> dict:
        """One factor's conjunctions: first row, first false / mixing row, box and rows of each."""
        s = len(conjs)
        lens = [len(c) for c in conjs]
        occ = np.fromiter(chain.from_iterable(conjs), np.intp, sum(lens))
        conj = np.repeat(np.arange(s), lens)
        k = kind[occ]
        special = np.full(s, -1, np.intp)
        sp = np.flatnonzero((k == _FALSE) | (k == _MIX))
        if sp.size:  # the first in each conjunction
            cs, at = np.unique(conj[sp], return_index=True)
            special[cs] = occ[sp[at]]
        part = {"first": np.array([c[0] if c else -1 for c in conjs], np.intp),
                "special": special}
        b = k == _BOUND
        if b.any():
            rows, t = occ[b], conj[b]
            if not hasattr(self, "_arrays"):
                self._arrays = (np.array(self.var, np.intp), np.array(self.val, float),
                                np.array(self.side, np.int8), np.array(self.strict, bool))
            var, val, side, strict = (x[rows] for x in self._arrays)
            lo, hi = np.full((s, self.n_x), -np.inf), np.full((s, self.n_x), np.inf)
            los, his = np.zeros((s, self.n_x), bool), np.zeros((s, self.n_x), bool)
            for which, arr, flag, ufunc in ((1, hi, his, np.minimum), (2, lo, los, np.maximum)):
                m = (side & which) != 0
                ufunc.at(arr, (t[m], var[m]), val[m])
                m &= strict
                m[m] = val[m] == arr[t[m], var[m]]
                flag[t[m], var[m]] = True
            part["box"] = (lo, hi, los, his)
        for name, code, n in (("A", _AROW, self.n_x), ("C", _CROW, self.n_y)):
            m = k == code
            if m.any():
                part[name] = self.rows(occ[m], conj[m], s, n)
        return part

    def rows(self, rows, conj, s: int, n: int):
        """Dense rows (>= only: the sign folded in), right-hand sides, strict flags, and the
        range of each conjunction's rows."""
        entries = []
        counts = [0] * s
        extra = self.extra
        for r, t in zip(rows.tolist(), conj.tolist()):
            cols, cf, rhs, op = extra[r]
            for sign, strict in _SENSES[op]:
                entries.append((cols, cf, rhs, sign, strict))
                counts[t] += 1
        M = np.zeros((len(entries), n))
        d = np.empty(len(entries))
        st = np.empty(len(entries), bool)
        for j, (cols, cf, rhs, sign, strict) in enumerate(entries):
            for c, x in zip(cols, cf):
                M[j, c] = sign * x
            d[j], st[j] = sign * rhs, strict
        return M, d, st, np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)

    def combine_boxes(self, parts, T):
        """Box id of each disjunct and the table of boxes (lo, hi, lo strict, hi strict)."""
        nx = self.n_x
        gs = [g for g, p in enumerate(parts) if "box" in p]
        if not gs:
            return (np.zeros(len(T), np.intp), (np.full((1, nx), -np.inf), np.full((1, nx), np.inf),
                                                np.zeros((1, nx), bool), np.zeros((1, nx), bool)))
        if len(gs) == 1:
            return T[:, gs[0]], parts[gs[0]]["box"]
        combos, ids = np.unique(T[:, gs], axis=0, return_inverse=True)
        lo, hi, los, his = (x[combos[:, 0]] for x in parts[gs[0]]["box"])
        for j, g in enumerate(gs[1:], 1):
            glo, ghi, glos, ghis = (x[combos[:, j]] for x in parts[g]["box"])
            nlo, nhi = np.maximum(lo, glo), np.minimum(hi, ghi)
            los = (los & (lo == nlo)) | (glos & (glo == nlo))
            his = (his & (hi == nhi)) | (ghis & (ghi == nhi))
            lo, hi = nlo, nhi
        return ids.reshape(-1), (lo, hi, los, his)

    def combine_rows(self, parts, T, name: str, n: int):
        """Rows id of each disjunct and the table of (rows, rhs, strict) it points into."""
        gs = [g for g, p in enumerate(parts) if name in p]
        if not gs:
            return np.zeros(len(T), np.intp), [_no_rows(n)]
        if len(gs) == 1:
            M, d, st, bd = parts[gs[0]][name]
            M, d, st = _frozen(M), _frozen(d), _frozen(st)
            return T[:, gs[0]], [(M[i:j], d[i:j], st[i:j]) for i, j in zip(bd[:-1], bd[1:])]
        combos, ids = np.unique(T[:, gs], axis=0, return_inverse=True)
        table = []
        for combo in combos.tolist():
            pieces = [(M[bd[t]:bd[t + 1]], d[bd[t]:bd[t + 1]], st[bd[t]:bd[t + 1]])
                      for t, (M, d, st, bd) in zip(combo, (parts[g][name] for g in gs))]
            table.append(tuple(_frozen(np.concatenate(x)) for x in zip(*pieces)))
        return ids.reshape(-1), table


_NO_ROWS: dict = {}


def _no_rows(n: int) -> tuple:
    """(rows, rhs, strict) of no rows over n variables (empty: one set, shared)."""
    e = _NO_ROWS.get(n)
    if e is None:
        e = _NO_ROWS[n] = tuple(_frozen(x) for x in (np.zeros((0, n)), np.zeros(0),
                                                     np.zeros(0, bool)))
    return e


def _frozen(a: np.ndarray) -> np.ndarray:
    """`a`, read-only: disjuncts share the arrays of their common boxes and rows, so a
    change meant for one would reach the others; it raises instead."""
    a.setflags(write=False)
    return a


def _fraction(s: str) -> Fraction | None:
    """The exact value of a NUMBER, or None if its exponent is so large (1e-999999999)
    that the rational would take minutes to build."""
    e = max(s.find("e"), s.find("E"))
    if e >= 0 and abs(int(s[e + 1:])) > 10_000:
        return None
    return Fraction(s)


def _lin_sum(args, signs):
    coefs, const = {}, Fraction(0)
    for (c, k), s in zip(args, signs):
        const += s * k
        for v, a in c.items():
            coefs[v] = coefs.get(v, 0) + s * a
    return coefs, const


def parse_vnnlib(text: str, path: str = "<string>") -> Property:
    """The :class:`~nncc.problem.property.Property` of a VNN-LIB 1.0 text."""
    return _Reader(text, path).read()


def _read_bytes(path: str) -> bytes:
    """The file's bytes (os.read: fewer layers than open() for a file of 1 KB)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 22)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)


def read_vnnlib_text(path: str) -> str:
    """The text of a ``.vnnlib`` file (``.gz`` is decompressed; newlines as text mode
    reads them); InputError if unreadable."""
    p = str(path)
    try:
        if p.endswith(".gz"):
            import gzip
            with gzip.open(p, "rt") as f:
                return f.read()
        text = _read_bytes(p).decode("utf-8")
    except FileNotFoundError:
        raise InputError(f"cannot read VNN-LIB file '{p}': no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read VNN-LIB file '{p}': {e}") from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def load_vnnlib(path: str) -> Property:
    """Read a ``.vnnlib`` file (plain text; ``.gz`` is decompressed)."""
    return parse_vnnlib(read_vnnlib_text(path), str(path))
