"""The VNN-LIB 1.0 reader as it was before the hand-written tokenizer: a Lark grammar, a
Transformer, and a DNF of Fraction rows, one Disjunct at a time.

Kept for the tests as the reference the fast reader (nncc.frontend.vnnlib) is compared
with: same Property arrays, same errors at the same file:line:col.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from itertools import product

import numpy as np
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedInput

from nncc.errors import InputError, SourcePos
from nncc.problem.property import Disjunct, Property

GRAMMAR = r"""
start: _sexpr*
_sexpr: slist | NUMBER | SYMBOL
slist: "(" _sexpr* ")"
NUMBER.2: /[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?(?![^\s();])/
SYMBOL: /[^\s();"]+/ | /\|[^|]*\|/
COMMENT: /;[^\n]*/
%import common.WS
%ignore WS
%ignore COMMENT
"""

# more disjuncts than this after expanding and/or is refused (exponential blow-up)
MAX_DISJUNCTS = 100_000
VNNLIB2_WORDS = {"declare-network", "declare-input", "declare-output", "declare-hidden",
                 "vnnlib-version", "declare-tensor", "Float32", "Float64", "float32", "float64",
                 "Real[", "equal-to", "isomorphic-to"}

_PARSER = None


def _parser() -> Lark:
    global _PARSER
    if _PARSER is None:
        _PARSER = Lark(GRAMMAR, parser="lalr", propagate_positions=True)
    return _PARSER


@dataclass
class SList:
    items: list
    line: int
    column: int


class _ToSexpr(Transformer):
    @v_args(meta=True)
    def slist(self, meta, items):
        return SList(list(items), getattr(meta, "line", 0), getattr(meta, "column", 0))

    def start(self, items):
        return list(items)


LE, GE, EQ, LT, GT = "<=", ">=", "=", "<", ">"
_VAR = re.compile(r"^([XY])_(\d+)$")


class _Reader:
    def __init__(self, path: str, text: str):
        self.path = path
        self.lines = text.splitlines()
        self.declared: dict[str, tuple[str, int]] = {}

    # -- positions and errors -------------------------------------------------
    def pos(self, node) -> SourcePos:
        line, col = ((node.line, node.column) if isinstance(node, (SList, Token)) else (0, 0))
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return SourcePos(self.path, line or 1, col or 1, text)

    def fail(self, node, message: str):
        raise InputError(message, self.pos(node))

    # -- commands -------------------------------------------------------------
    def read(self, tree: list) -> Property:
        formulas = []
        for cmd in tree:
            if not isinstance(cmd, SList) or not cmd.items or not isinstance(cmd.items[0], Token):
                self.fail(cmd, "expected a command such as (declare-const X_0 Real) or (assert ...)")
            head = str(cmd.items[0])
            if head in VNNLIB2_WORDS:
                self.fail(cmd, f"'{head}' is VNN-LIB 2.0, which nncc does not read yet (typed "
                          "tensor declarations, named networks); state the property in VNN-LIB 1.0: "
                          "(declare-const X_i Real) per input, (declare-const Y_j Real) per output")
            if head == "declare-const":
                self.declare(cmd)
            elif head == "assert":
                if len(cmd.items) != 2:
                    self.fail(cmd, "assert takes one formula")
                formulas.append(cmd.items[1])
            elif head in ("set-logic", "set-info", "set-option", "check-sat", "get-model", "exit"):
                continue  # SMT-LIB housekeeping some generators add
            else:
                self.fail(cmd, f"unknown command '{head}' (VNN-LIB 1.0 has declare-const and assert)")
        n_x = self.count("X")
        n_y = self.count("Y")
        if n_x == 0 or n_y == 0:
            raise InputError(f"{self.path}: the property declares no "
                             f"{'inputs (X_i)' if n_x == 0 else 'outputs (Y_j)'}")
        self.n_x, self.n_y = n_x, n_y
        conj = [[]]
        for f in formulas:
            conj = self.conjoin(conj, self.dnf(f), f)
        prop = Property(self.path, n_x, n_y)
        for rows in conj:
            d = self.disjunct(rows)
            if d is not None:
                prop.disjuncts.append(d)
        if not prop.disjuncts:
            prop.notes.append("the assertions are contradictory: the unsafe set is empty")
        return prop

    def declare(self, cmd: SList) -> None:
        it = cmd.items
        if len(it) != 3 or not isinstance(it[1], Token):
            self.fail(cmd, "expected (declare-const NAME Real)")
        name, sort = str(it[1]), it[2]
        if isinstance(sort, SList) or str(sort) != "Real":
            what = "a tensor type" if isinstance(sort, SList) else f"sort '{sort}'"
            self.fail(sort, f"{name} has {what}: VNN-LIB 1.0 declares every variable as Real "
                      "(typed tensor declarations are VNN-LIB 2.0, not supported)")
        m = _VAR.match(name)
        if not m:
            self.fail(it[1], f"variable '{name}' must be named X_i (input) or Y_j (output)")
        if name in self.declared:
            self.fail(it[1], f"'{name}' is declared twice")
        self.declared[name] = (m.group(1), int(m.group(2)))

    def count(self, kind: str) -> int:
        idx = sorted(i for k, i in self.declared.values() if k == kind)
        if idx and idx != list(range(len(idx))):
            missing = sorted(set(range(idx[-1] + 1)) - set(idx))
            raise InputError(f"{self.path}: {kind}_{missing[0]} is not declared but "
                             f"{kind}_{idx[-1]} is: declare {kind}_0 .. {kind}_{idx[-1]}")
        return len(idx)

    # -- formulas -> DNF (list of conjunctions of rows) ----------------------------
    def conjoin(self, a: list, b: list, node) -> list:
        if len(a) * len(b) > MAX_DISJUNCTS:
            self.fail(node, f"the property has more than {MAX_DISJUNCTS:,} disjuncts once 'and' is "
                      "distributed over 'or'")
        return [x + y for x, y in product(a, b)]

    def dnf(self, f) -> list:
        if not isinstance(f, SList) or not f.items:
            if isinstance(f, Token) and str(f) in ("true", "false"):
                return [[]] if str(f) == "true" else []
            self.fail(f, "expected a formula: (and ...), (or ...) or a comparison")
        head = f.items[0]
        op = str(head) if isinstance(head, Token) else ""
        args = f.items[1:]
        if op == "and":
            out = [[]]
            for g in args:
                out = self.conjoin(out, self.dnf(g), g)
            return out
        if op == "or":
            out = []
            for g in args:
                out += self.dnf(g)
                if len(out) > MAX_DISJUNCTS:
                    self.fail(f, f"the property has more than {MAX_DISJUNCTS:,} disjuncts")
            return out
        if op in (LE, GE, EQ, LT, GT):
            if len(args) < 2:
                self.fail(f, f"'{op}' needs two terms")
            terms = [self.term(t) for t in args]
            rows = []
            for lhs, rhs in zip(terms, terms[1:]):
                coefs = dict(lhs[0])
                for v, c in rhs[0].items():
                    coefs[v] = coefs.get(v, 0) - c
                coefs = {v: c for v, c in coefs.items() if c != 0}
                # sum coefs v + (lhs const - rhs const)  op  0
                rows.append((coefs, op, rhs[1] - lhs[1], f))
            return [rows]
        if op in ("not", "=>", "xor", "ite", "distinct"):
            self.fail(head, f"'{op}' is not part of VNN-LIB 1.0 (use and / or of comparisons)")
        self.fail(head if isinstance(head, Token) else f,
                  f"expected and / or / a comparison, not '{op or 'a list'}'")

    def term(self, t):
        """A linear term: ({(kind, index): Fraction}, Fraction constant)."""
        if isinstance(t, Token):
            s = str(t)
            if t.type == "NUMBER":
                return {}, Fraction(s)
            if s in self.declared:
                return {self.declared[s]: Fraction(1)}, Fraction(0)
            if _VAR.match(s):
                self.fail(t, f"'{s}' is used but not declared (declare-const {s} Real)")
            self.fail(t, f"unknown symbol '{s}'")
        if not t.items or not isinstance(t.items[0], Token):
            self.fail(t, "expected a term")
        op = str(t.items[0])
        args = [self.term(a) for a in t.items[1:]]
        if op == "+" and args:
            return _lin_sum(args, [1] * len(args))
        if op == "-" and len(args) == 1:
            return _lin_sum(args, [-1])
        if op == "-" and args:
            return _lin_sum(args, [1] + [-1] * (len(args) - 1))
        if op == "*" and args:
            nonconst = [a for a in args if a[0]]
            if len(nonconst) > 1:
                self.fail(t, "a product of variables is not linear (VNN-LIB 1.0 allows constants "
                          "times one term)")
            k = Fraction(1)
            for a in args:
                if not a[0]:
                    k *= a[1]
            base = nonconst[0] if nonconst else ({}, Fraction(1))
            return {v: k * c for v, c in base[0].items()}, k * base[1]
        if op == "/" and len(args) == 2 and not args[0][0] and not args[1][0] and args[1][1] != 0:
            return {}, args[0][1] / args[1][1]
        self.fail(t, f"'{op}' is not a linear term VNN-LIB 1.0 allows (+, -, * by a constant)")

    # -- one conjunction of rows -> Disjunct ------------------------------------
    def disjunct(self, rows) -> Disjunct | None:
        nx, ny = self.n_x, self.n_y
        lo, hi = np.full(nx, -np.inf), np.full(nx, np.inf)
        los, his = np.zeros(nx, bool), np.zeros(nx, bool)
        A, b, ast, C, d, cst = [], [], [], [], [], []
        first = None
        for coefs, op, rhs, node in rows:
            first = first or node
            kinds = {k for k, _ in coefs}
            if not coefs:  # constant comparison: 0 op rhs
                if not _holds(Fraction(0), op, rhs):
                    return None
                continue
            if kinds == {"X", "Y"}:
                self.fail(node, "a row mixing inputs and outputs is not supported (rows are over "
                          "the X_i or over the Y_j)")
            senses = [GE, LE] if op == EQ else [op]
            for s in senses:
                if kinds == {"X"} and len(coefs) == 1:
                    (_, i), a = next(iter(coefs.items()))
                    val = float(rhs / a)
                    upper = (s in (LE, LT)) == (a > 0)
                    strict = s in (LT, GT)
                    if upper and (val < hi[i] or (val == hi[i] and strict)):
                        hi[i], his[i] = val, strict
                    elif not upper and (val > lo[i] or (val == lo[i] and strict)):
                        lo[i], los[i] = val, strict
                    continue
                sign = 1.0 if s in (GE, GT) else -1.0
                n = nx if kinds == {"X"} else ny
                row = np.zeros(n)
                for (_, i), c in coefs.items():
                    row[i] = sign * float(c)
                (A if kinds == {"X"} else C).append(row)
                (b if kinds == {"X"} else d).append(sign * float(rhs))
                (ast if kinds == {"X"} else cst).append(s in (LT, GT))
        dj = Disjunct(lo, hi, los, his, np.array(A).reshape(-1, nx), np.array(b, float),
                      np.array(ast, bool), np.array(C).reshape(-1, ny), np.array(d, float),
                      np.array(cst, bool), str(self.pos(first)) if first is not None else self.path)
        return None if dj.box_empty() else dj


def _lin_sum(args, signs):
    coefs, const = {}, Fraction(0)
    for (c, k), s in zip(args, signs):
        const += s * k
        for v, a in c.items():
            coefs[v] = coefs.get(v, 0) + s * a
    return coefs, const


def _holds(lhs, op, rhs) -> bool:
    return {LE: lhs <= rhs, GE: lhs >= rhs, EQ: lhs == rhs, LT: lhs < rhs, GT: lhs > rhs}[op]


def parse_vnnlib(text: str, path: str = "<string>") -> Property:
    """The :class:`~nncc.problem.property.Property` of a VNN-LIB 1.0 text (the reference)."""
    lines = text.splitlines()
    try:
        tree = _ToSexpr().transform(_parser().parse(text))
    except UnexpectedInput as e:
        line, col = getattr(e, "line", 1) or 1, getattr(e, "column", 1) or 1
        src = lines[line - 1] if 0 < line <= len(lines) else ""
        tok = getattr(e, "token", None)
        if tok is not None and getattr(tok, "type", "") == "$END":
            msg = "unexpected end of file: a '(' is not closed"
        elif tok is not None and str(tok) == ")":
            msg = "unexpected ')': nothing to close"
        else:
            msg = "cannot read this (an S-expression was expected)"
        raise InputError(msg, SourcePos(path, line, col, src)) from None
    return _Reader(path, text).read(tree)
