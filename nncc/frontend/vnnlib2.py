"""VNN-LIB 2.0 reader: typed tensor declarations, named networks, indexed variables.

A 2.0 query declares networks, each with typed input, hidden and output
tensors (``(declare-input X float32 [1, 784])``, ``(declare-hidden H float32
[8] "relu_out")``, ``(declare-output Y float32 [10])``), and asserts formulas
over indexed variables (``X[0,3]``). The file is parsed and type-checked by
the official parser (PyPI ``vnnlib``, imported only here); nncc walks its
typed AST itself and expands ``and`` / ``or`` into disjunctive normal form
(the parser's own ``compat.transform`` merges separate ``or`` assertions into
their union, which changes the property).

The query becomes one :class:`~nncc.problem.property.Property` over two flat
vectors: ``X``, every declared input of every network in declaration order,
each tensor in C (row-major) order; ``Y``, every declared hidden and output
tensor in declaration order, and a copy of each input that a row relates to
hidden or output values (a multi-node comparison), appended after them. The
network that computes ``Y`` from ``X`` is built by
:func:`nncc.problem.query_network.query_network`.

Element types: values are analysed in real arithmetic whatever the declared
type (``real``, ``float64``, ``float32``, ``float16``, ``bfloat16``, and the
integer types); counterexamples are checked in float64 and under
onnxruntime in the file's own types. An integer input is a real one whose
counterexamples must be integral (a proof over the reals covers the integer
points); an integer output is whatever the network computes (the importer
refuses casts that round). Boolean and other declarations are refused.

Errors are :class:`~nncc.errors.InputError`, ``file:line: message``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError, SourcePos
from ..problem.property import Disjunct, Property

MAX_DISJUNCTS = 100_000
REAL_TYPES = {"Real": "real", "F64": "float64", "F32": "float32", "F16": "float16",
              "BF16": "bfloat16"}
INT_TYPES = {"I8": "int8", "I16": "int16", "I32": "int32", "I64": "int64", "U8": "uint8",
             "U16": "uint16", "U32": "uint32", "U64": "uint64"}
_VERSION = re.compile(r"\(\s*vnnlib-version\s*<\s*2\.\d+\s*>\s*\)")


def is_vnnlib2(text: str) -> bool:
    """Does the text declare VNN-LIB 2.x (``(vnnlib-version <2.0>)`` or ``declare-network``)?"""
    head = text[:4096]
    return bool(_VERSION.search(head)) or "(declare-network" in head


@dataclass
class Variable:
    """A declared tensor: ``kind`` input / hidden / output; ``offset`` its first flat
    index in X (inputs) or Y (hidden and outputs)."""

    name: str
    kind: str
    dtype: str
    shape: tuple[int, ...]
    network: str
    onnx_name: str | None = None
    offset: int = 0

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


@dataclass
class NetworkDecl:
    name: str
    inputs: list[Variable] = field(default_factory=list)
    hidden: list[Variable] = field(default_factory=list)
    outputs: list[Variable] = field(default_factory=list)
    equal_to: str | None = None
    isomorphic_to: str | None = None


@dataclass
class Query:
    """A VNN-LIB 2.0 query: its networks, its variables in declaration order, and the
    property over the flat ``X`` / ``Y`` vectors (``copies``: input variables whose
    values also appear in Y, at ``copies[name]``)."""

    path: str
    networks: list[NetworkDecl]
    variables: list[Variable]
    property: Property
    copies: dict = field(default_factory=dict)
    theories: set = field(default_factory=set)
    # monomials of polynomial rows (theory POLY), each a Y value after the copies:
    # [(Y index, ((variable name, flat index, power), ...))]
    products: list = field(default_factory=list)


def _error(path: str, exc) -> InputError:
    text = str(exc)
    try:
        rep = json.loads(text)
        errs = rep.get("errors") or []
        if errs:
            e = errs[0]
            more = f" (and {len(errs) - 1} more)" if len(errs) > 1 else ""
            msg = f"{e.get('message', 'error')}: {e.get('hint', '')}".rstrip(": ") + more
            return InputError(msg, SourcePos(path, int(e.get("line", 1) or 1), 1, ""))
    except (ValueError, TypeError, AttributeError):
        pass
    m = re.search(r"line (\d+), column (\d+)", text)
    if m:
        return InputError(text.split(" at line")[0].strip() or "syntax error",
                          SourcePos(path, int(m.group(1)), int(m.group(2)), ""))
    return InputError(f"{path}: {text.splitlines()[0] if text else 'cannot read the query'}")


def parse_vnnlib2(text: str, path: str = "<string>") -> Query:
    """The :class:`Query` of a VNN-LIB 2.0 text."""
    try:
        import vnnlib
    except ImportError:
        raise InputError(f"{path}: VNN-LIB 2.0 needs the official parser: pip install "
                         "'vnnlib>=1.0.2'") from None
    retyped: dict = {}
    while True:
        try:
            q = vnnlib.parse_query_string(text)
            break
        except Exception as e:  # VNNLibException: syntax or type errors, as JSON
            fixed = _retype_isomorphic(text, str(e), retyped)
            if fixed is None:
                raise _error(path, e) from None
            text = fixed
    query = _Reader(path, text).read(q)
    for v in query.variables:   # the declared types, for the assignment
        v.dtype = retyped.get((v.network, v.name), v.dtype)
    if retyped:
        query.property.notes.append(
            "isomorphic networks with different float types (" + ", ".join(
                f"{n}.{x} {t}" for (n, x), t in sorted(retyped.items())) + "): the official "
            "parser refuses the difference, nncc reads every float type as real")
    return query


_MISMATCH = re.compile(r"Type mismatch for variable number (\d+) between networks '(\w+)' and "
                       r"'(\w+)'")
_FLOAT_DECL = {"real", "float64", "float32", "float16", "bfloat16"}


def _retype_isomorphic(text: str, message: str, retyped: dict) -> str | None:
    """An ``isomorphic-to`` network whose float element types differ from its model's
    (the conformance suite's "valid isomorphic with different types"; the official
    parser 1.0.2 rejects it): the text with the network's float declarations given the
    other network's types, which nncc reads as reals all the same (``retyped`` keeps
    the declared ones); None for any other error, or types that are not both float."""
    m = _MISMATCH.search(message)
    if not m or len(retyped) > 10_000:
        return None
    blocks = {}
    for name in (m.group(2), m.group(3)):
        b = re.search(r"\(declare-network\s+" + re.escape(name) + r"\b", text)
        if not b:
            return None
        end = text.find("(declare-network", b.end())
        blocks[name] = (b.start(), len(text) if end < 0 else end)
    decl = re.compile(r"\(\s*declare-(input|hidden|output)\s+(\S+)\s+(\S+)")

    def decls(name):
        a, z = blocks[name]
        return list(decl.finditer(text, a, z))
    for this, other in ((m.group(2), m.group(3)), (m.group(3), m.group(2))):
        mine, theirs = decls(this), decls(other)
        if not re.search(r"isomorphic-to\s+" + re.escape(other) + r"\b",
                         text[slice(*blocks[this])]) or len(mine) != len(theirs):
            continue
        out, last, changed = [], 0, False
        for a, b in zip(mine, theirs):
            if a.group(1) != b.group(1):
                return None
            ta, tb = a.group(3), b.group(3)
            if ta != tb:
                if ta not in _FLOAT_DECL or tb not in _FLOAT_DECL:
                    return None
                retyped[(this, a.group(2))] = ta
                out.append(text[last:a.start(3)] + tb)
                last, changed = a.end(3), True
        if changed:
            return "".join(out) + text[last:]
    return None


def load_vnnlib2(path: str, text: str | None = None) -> Query:
    from .vnnlib import read_vnnlib_text
    return parse_vnnlib2(read_vnnlib_text(path) if text is None else text, str(path))


class _Reader:
    def __init__(self, path: str, text: str):
        self.path = path
        self.lines = text.splitlines()
        self.vars: dict[str, Variable] = {}

    def fail(self, line: int, message: str):
        src = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        raise InputError(message, SourcePos(self.path, max(line, 1), 1, src))

    def declare(self, d, kind: str, net: NetworkDecl) -> Variable:
        dt = d.dtype.name if hasattr(d.dtype, "name") else str(d.dtype)
        if dt not in REAL_TYPES and dt not in INT_TYPES:
            raise InputError(f"{self.path}: {kind} '{d.name}' of network '{net.name}' has element "
                             f"type {dt.lower()}: nncc reads real-valued and integer tensors only "
                             "(real, float64, float32, float16, bfloat16, int8 .. int64, uint8 .. "
                             "uint64)")
        onnx_name = d.onnx_name.strip('"') if d.onnx_name else None
        return Variable(d.name, kind, REAL_TYPES.get(dt) or INT_TYPES[dt],
                        tuple(int(s) for s in d.shape), net.name, onnx_name)

    def read(self, q) -> Query:
        nets, order = [], []
        for n in q.networks:
            nd = NetworkDecl(n.name, equal_to=n.equal_to or None,
                             isomorphic_to=n.isometric_to or None)
            nd.inputs = [self.declare(d, "input", nd) for d in n.inputs]
            nd.hidden = [self.declare(d, "hidden", nd) for d in n.hidden]
            nd.outputs = [self.declare(d, "output", nd) for d in n.outputs]
            nets.append(nd)
            order += nd.inputs + nd.hidden + nd.outputs
        # declaration order within a network: the parser keeps inputs, hidden and outputs
        # apart; the standard reports in that order too (its example lists H before Y)
        nx = ny = 0
        for v in order:
            if v.kind == "input":
                v.offset, nx = nx, nx + v.size
            else:
                v.offset, ny = ny, ny + v.size
            self.vars[v.name] = v
        self.nx, self.ny = nx, ny
        self.copies: dict[str, int] = {}
        self.products: dict[tuple, int] = {}   # monomial -> its order of appearance
        theories = {"SNET" if len(nets) == 1 else "MNET"}
        if any(n.hidden for n in nets):
            theories.add("H")
        if any(len(n.inputs) > 1 or len(n.outputs) > 1 for n in nets):
            theories.add("MIO")
        conj = [[]]
        for a in q.assertions:
            f = self.dnf(a.expr)
            if len(conj) * len(f) > MAX_DISJUNCTS:
                self.fail(0, f"the property has more than {MAX_DISJUNCTS:,} disjuncts once 'and' "
                          "is distributed over 'or'")
            conj = [x + y for x in conj for y in f]
        # copies of inputs that rows relate to outputs come after every Y value
        rows_all = [self.rows_of(c) for c in conj]
        n_copies = sum(self.vars[nm].size for nm in self.copies)
        # products of variables come after the copies, in order of appearance
        self.product_at = {m: self.ny + n_copies + k for m, k in self.products.items()}
        ny_total = self.ny + n_copies + len(self.products)
        prop = Property(self.path, nx, ny_total)
        for rows in rows_all:
            d = self.disjunct(rows, ny_total)
            if d is not None:
                prop.disjuncts.append(d)
        if not prop.disjuncts:
            prop.notes.append("the assertions are contradictory: the unsafe set is empty")
        if self.copies:
            theories.add("MNC")
        if self.products:
            theories.add("POLY")
        ints = [v for v in order if v.kind == "input" and v.dtype in INT_TYPES.values()]
        if ints:   # integer inputs: proofs over the reals hold, counterexamples are integral
            mask = np.zeros(nx, bool)
            for v in ints:
                mask[v.offset:v.offset + v.size] = True
            prop.integer_inputs = mask
        products = [(self.product_at[m], tuple((name, flat - self.vars[name].offset, k)
                                                for (_, name, flat), k in m))
                    for m in self.products]
        return Query(self.path, nets, order, prop, dict(self.copies), theories, products)

    # -- formulas -> DNF: lists of comparisons ------------------------------------
    def dnf(self, e) -> list:
        kind = type(e).__name__
        if kind == "And":
            out = [[]]
            for g in e.args:
                sub = self.dnf(g)
                if len(out) * len(sub) > MAX_DISJUNCTS:
                    self.fail(0, f"the property has more than {MAX_DISJUNCTS:,} disjuncts")
                out = [x + y for x in out for y in sub]
            return out
        if kind == "Or":
            out = []
            for g in e.args:
                out += self.dnf(g)
                if len(out) > MAX_DISJUNCTS:
                    self.fail(0, f"the property has more than {MAX_DISJUNCTS:,} disjuncts")
            return out
        ops = {"GreaterEqual": ">=", "LessEqual": "<=", "GreaterThan": ">", "LessThan": "<",
               "Equal": "=", "NotEqual": "!="}
        if kind in ops:
            op = ops[kind]
            if op == "!=":  # x != c is x < c or x > c
                return [[(e, "<")], [(e, ">")]]
            return [[(e, op)]]
        self.fail(0, f"'{kind}' is not a formula nncc reads (and, or, comparisons)")

    def linear(self, expr):
        """``({key: coef}, constant)`` of an arithmetic term: a key is ``(space, name,
        flat index)`` of a variable, or ``("P", monomial, 0)`` of a product of variables
        (theory POLY; the monomial a sorted tuple of (variable key, power))."""
        try:
            le = expr.to_linear_expr()
        except Exception:
            return self.polynomial(expr)
        coefs: dict = {}
        for t in le.terms:
            key = self.var_key(t.var)
            coefs[key] = coefs.get(key, 0.0) + float(t.coeff)
        return coefs, float(le.constant)

    def var_key(self, t):
        v = self.vars.get(t.name)
        if v is None:
            self.fail(getattr(t, "line", 0) or 0, f"'{t.name}' is not declared")
        idx = tuple(int(i) for i in t.indices)
        flat = int(np.ravel_multi_index(idx, v.shape)) if v.shape else 0
        return ("X" if v.kind == "input" else "Y", v.name, v.offset + flat)

    def polynomial(self, expr):
        """A term that is not linear, expanded into monomials."""
        def walk(e) -> dict:   # {monomial (sorted ((key, power), ...)): coef}
            kind = type(e).__name__
            if kind == "Var":
                return {((self.var_key(e), 1),): 1.0}
            if kind in ("Float", "Int", "Real", "Integer"):
                return {(): float(e.value)}
            if kind == "Negate":
                return {m: -c for m, c in walk(e.expr).items()}
            if kind in ("Plus", "Minus"):
                parts = list(e.args) if kind == "Plus" else [e.head] + list(e.rest)
                out: dict = {}
                for k, g in enumerate(parts):
                    sign = -1.0 if kind == "Minus" and k > 0 else 1.0
                    for m, c in walk(g).items():
                        out[m] = out.get(m, 0.0) + sign * c
                return out
            if kind == "Multiply":
                out = {(): 1.0}
                for g in e.args:
                    nxt: dict = {}
                    for m1, c1 in out.items():
                        for m2, c2 in walk(g).items():
                            powers = dict(m1)
                            for key, k in m2:
                                powers[key] = powers.get(key, 0) + k
                            m = tuple(sorted(powers.items()))
                            nxt[m] = nxt.get(m, 0.0) + c1 * c2
                    out = nxt
                    if len(out) > 10_000:
                        self.fail(getattr(e, "line", 0) or 0, "the polynomial has more than "
                                  "10,000 terms once expanded")
                return out
            self.fail(getattr(e, "line", 0) or 0, f"'{kind}' is not a term nncc reads (+, -, *, "
                      "variables and numbers)")
        coefs, const = {}, 0.0
        for m, c in walk(expr).items():
            if c == 0:
                continue
            if not m:
                const += c
            elif len(m) == 1 and m[0][1] == 1:
                coefs[m[0][0]] = coefs.get(m[0][0], 0.0) + c
            else:
                self.products.setdefault(m, len(self.products))
                key = ("P", m, 0)
                coefs[key] = coefs.get(key, 0.0) + c
        return coefs, const

    def rows_of(self, comparisons) -> list:
        """Rows ``(coefs over ('X'|'Y', index), op, rhs)`` of one conjunction; a row that
        relates inputs to outputs reads the inputs' copies in Y."""
        rows = []
        for e, op in comparisons:
            lc, lk = self.linear(e.lhs)
            rc, rk = self.linear(e.rhs)
            coefs = dict(lc)
            for k, c in rc.items():
                coefs[k] = coefs.get(k, 0.0) - c
            coefs = {k: c for k, c in coefs.items() if c != 0}
            spaces = {k[0] for k in coefs}
            mixed = "X" in spaces and len(spaces) > 1   # inputs beside outputs or products
            if mixed:
                for sp, name, _ in list(coefs):
                    if sp == "X" and name not in self.copies:
                        self.copies[name] = self.ny + sum(self.vars[n].size for n in self.copies)
            rows.append((coefs, op, rk - lk, mixed or "P" in spaces))
        return rows

    def disjunct(self, rows, ny: int) -> Disjunct | None:
        nx = self.nx
        lo, hi = np.full(nx, -np.inf), np.full(nx, np.inf)
        los, his = np.zeros(nx, bool), np.zeros(nx, bool)
        A, b, ast, C, d, cst = [], [], [], [], [], []
        for coefs, op, rhs, mixed in rows:
            if not coefs:
                holds = {"<=": 0 <= rhs, ">=": 0 >= rhs, "=": rhs == 0, "<": 0 < rhs,
                         ">": 0 > rhs}[op]
                if not holds:
                    return None
                continue
            inputs_only = all(k[0] == "X" for k in coefs) and not mixed
            for s in (["<=", ">="] if op == "=" else [op]):
                if inputs_only and len(coefs) == 1:
                    ((_, _, i), a), = coefs.items()   # i: the flat index in X
                    val = rhs / a
                    upper = (s in ("<=", "<")) == (a > 0)
                    strict = s in ("<", ">")
                    if upper and (val < hi[i] or (val == hi[i] and strict)):
                        hi[i], his[i] = val, strict
                    elif not upper and (val > lo[i] or (val == lo[i] and strict)):
                        lo[i], los[i] = val, strict
                    continue
                sign = 1.0 if s in (">=", ">") else -1.0
                row = np.zeros(nx if inputs_only else ny)
                for (sp, name, i), c in coefs.items():
                    if sp == "P":   # a product of variables: its own Y value
                        i = self.product_at[name]
                    elif sp == "X" and not inputs_only:   # the input's copy in Y
                        i = self.copies[name] + i - self.vars[name].offset
                    row[i] += sign * c
                (A if inputs_only else C).append(row)
                (b if inputs_only else d).append(sign * rhs)
                (ast if inputs_only else cst).append(s in ("<", ">"))
        dj = Disjunct(lo, hi, los, his, np.array(A).reshape(-1, nx), np.array(b, float),
                      np.array(ast, bool), np.array(C).reshape(-1, ny), np.array(d, float),
                      np.array(cst, bool), self.path)
        return None if dj.box_empty() else dj


def load_property(path: str, text: str | None = None) -> Property:
    """A property file of either version as one :class:`Property` over one network's flat
    input and output: VNN-LIB 1.0, or a 2.0 query that declares one network with one input
    and one output tensor (others need ``nncc verify QUERY --network NAME=FILE``).
    ``text``: the property's text, read instead of the file (``path`` names it in messages)."""
    from .vnnlib import parse_vnnlib, read_vnnlib_text
    p = str(path)
    text = read_vnnlib_text(p) if text is None else text
    if not is_vnnlib2(text):
        return parse_vnnlib(text, p)
    q = parse_vnnlib2(text, p)
    n = q.networks[0]
    if (len(q.networks) != 1 or len(n.inputs) != 1 or len(n.outputs) != 1 or n.hidden or q.copies
            or q.products):
        raise InputError(f"{p}: this VNN-LIB 2.0 query needs several tensors or networks; run it "
                         "as nncc verify QUERY.vnnlib --network NAME=FILE.onnx ...")
    return q.property
