"""SMT-LIB 2.6 back end: a complete script that z3 and cvc5 read.

``nncc compile x.nn --target smtlib | z3 -in`` prints ``sat``: the output
sets the options and logic, declares every variable, asserts bounds and
blocks, optionally states the objective (z3 only), checks satisfiability and
asks for the values of the answer variables.

Rows are written with integer coefficients where that is exact: each row is
multiplied by ``10**d`` with ``d`` the most decimal places of any of its
numbers (up to :data:`MAX_SCALE_PLACES`; unlimited in rows over integers).
z3 reads integer rows about four times faster and in a seventh of the memory
(SOLVER_NOTES). In a logic mixing Int and Real (QF_LIRA, QF_NIRA) every
number and variable is written with the sort its row needs: ``3.0`` and
``(to_real n)`` in rows with a Real variable, ``3`` in rows over integers.
Boolean variables are Bool sorted; where a row uses one as a number it is
written ``(ite b 1 0)``.
"""
from __future__ import annotations

from typing import BinaryIO

import numpy as np

from ..ir.program import (BOOL, EQ, GE, GT, INT, KINDS, LE, LT, REAL, BoolProductBlock,
                          LinearBlock, NonzeroBlock, Program, QuadraticBlock, ReluBlock)
from .text_columns import (Table, compact_keys, decimal_places, drop_trivial_rows, emit,
                           fill_empty_rows, name_table, render_table, scaled_integer,
                           shortest_decimals, unique_values)

#: Rows whose numbers have at most this many decimal places are scaled to integers.
MAX_SCALE_PLACES = 9

RELU_ENCODINGS = ("ite", "disjunction")

_B, _I, _R = KINDS.index(BOOL), KINDS.index(INT), KINDS.index(REAL)
_SENSE_OP = {LE: "<=", GE: ">=", EQ: "=", LT: "<", GT: ">"}


def write_smtlib(program: Program, out: BinaryIO, *, logic: str | None = None,
                 relu_encoding: str = "ite", objective: bool = False) -> None:
    """Write ``program`` as an SMT-LIB 2.6 script to the binary stream ``out``.

    ``logic`` overrides ``program.logic().smt``. ``relu_encoding`` is ``"ite"``
    (``out = ite(inp >= 0, inp, 0)``) or ``"disjunction"`` (two guarded cases).
    ``objective=True`` adds the objective as ``(minimize ...)`` / ``(maximize ...)``,
    which z3 understands and cvc5 rejects.
    """
    if relu_encoding not in RELU_ENCODINGS:
        raise ValueError(f"relu_encoding must be one of {RELU_ENCODINGS}, not {relu_encoding!r}")
    _SmtWriter(program, out, logic or program.logic().smt, relu_encoding, objective).write()


def _number_text(decimal: str, places: int, real: bool) -> str:
    """A number as an SMT-LIB term: scaled by ``10**places`` (``places`` < 0: as is)."""
    if places >= 0:
        s = str(scaled_integer(decimal, places))
        if real:
            s += ".0"
    else:
        s = decimal if ("." in decimal or not real) else decimal + ".0"
    if s.startswith("-"):
        return f"(- {s[1:]})"
    return s


class _SmtWriter:
    """One pass over a program, writing SMT-LIB text."""

    def __init__(self, program: Program, out: BinaryIO, logic: str, relu_encoding: str,
                 objective: bool):
        self.p, self.out, self.logic = program, out, logic
        self.relu_encoding = relu_encoding
        self.with_objective = objective and program.objective is not None
        kinds = np.asarray(program.kinds, np.int8)
        self.has_real = bool(np.any(kinds == _R))
        self.has_int = bool(np.any(kinds == _I))
        # Typed: Int and Real meet, so numerals and Int variables in Real rows are
        # written as Real terms (strict SMT-LIB has no implicit Int -> Real).
        self.typed = (self.has_real and self.has_int) or "IRA" in logic.upper()
        n = program.n_vars
        names = name_table(program.groups)
        if self.with_objective:
            taken = set(g.prefix for g in program.groups)
            obj = "nncc_obj"
            while obj in taken or any(obj.startswith(t + "_") for t in taken):
                obj += "_"
            self.obj_name = obj
            names = names + Table.of([obj])
            kinds = np.concatenate([kinds, [_R]]).astype(np.int8)
        self.names, self.kinds, self.n = names, kinds, len(names)
        self._term_names()

    # -- name tables ---------------------------------------------------------------------------
    def _term_names(self) -> None:
        """Variables as numeric terms: entry ``v`` (Int context), ``n + v`` (Real context, typed)."""
        n, k, idx = self.n, self.kinds, np.arange(self.n)
        pre0 = _by_kind(bool="(ite ", int="", real="")
        post0 = _by_kind(bool=" 1 0)", int="", real="")
        ctx0 = render_table(n, [(pre0, k), (self.names, idx), (post0, k)])
        if self.typed:
            pre1 = _by_kind(bool="(ite ", int="(to_real ", real="")
            post1 = _by_kind(bool=" 1.0 0.0)", int=")", real="")
            ctx1 = render_table(n, [(pre1, k), (self.names, idx), (post1, k)])
            self.terms = ctx0 + ctx1
        else:
            self.terms = ctx0
        # " name" for the second factor of a product; the last entry is empty.
        sp = Table.of([" "])
        zero = np.zeros(len(self.terms), np.int64)
        self.terms2 = render_table(len(self.terms), [(sp, zero), (self.terms, np.arange(len(self.terms)))]) \
            + Table.of([""])
        self.zero = Table.of(["0", "0.0"])  # by context

    def ctx_of(self, *var_arrays: np.ndarray) -> np.ndarray:
        """1 where a typed script needs a Real term (any of the variables is Real), else 0."""
        if not self.typed:
            return np.zeros(len(var_arrays[0]), np.int64)
        real = np.zeros(len(var_arrays[0]), bool)
        for v in var_arrays:
            real |= self.kinds[v] == _R
        return real.astype(np.int64)

    # -- the walk ------------------------------------------------------------------------------
    def write(self) -> None:
        p, w = self.p, self.out.write
        w(b"(set-option :produce-models true)\n" + f"(set-logic {self.logic})\n".encode("ascii")
          + b"; " + _comment(p.name) + b"\n")
        self.declarations()
        self.bounds()
        for b in p.blocks:
            if isinstance(b, LinearBlock):
                self.rows(b.indptr, b.indices, b.data, None, b.sense, b.rhs)
            elif isinstance(b, QuadraticBlock):
                self.quadratic(b)
            elif isinstance(b, ReluBlock):
                self.relu(b)
            elif isinstance(b, BoolProductBlock):
                self.bool_product(b)
            elif isinstance(b, NonzeroBlock):
                self.nonzero(b)
            else:
                raise TypeError(f"no SMT-LIB form for block {type(b).__name__}")
        if self.with_objective:
            self.objective()
        w(b"(check-sat)\n")
        if self.with_objective:
            w(b"(get-objectives)\n")  # the optimum, which the check holds the weights to
        self.get_value()
        w(b"(exit)\n")

    def declarations(self) -> None:
        sorts = _by_kind(bool=" Bool)\n", int=" Int)\n", real=" Real)\n")
        k = self.kinds
        emit(self.out, self.p.n_vars, lambda lo, hi: [
            b"(declare-const ", (self.names, np.arange(lo, hi)), (sorts, k[lo:hi])])

    def bounds(self) -> None:
        p = self.p
        kinds = self.kinds[:p.n_vars]
        lb, ub = p.lb.astype(float), p.ub.astype(float)
        isint = kinds == _I
        # Integer bounds rounded inwards: the same set of integers, written as integers.
        lb = np.where(isint, np.ceil(lb), lb)
        ub = np.where(isint, np.floor(ub), ub)
        num = kinds != _B
        has_lo, has_hi = num & np.isfinite(lb), num & np.isfinite(ub)
        sel = np.flatnonzero(has_lo | has_hi)
        if len(sel):
            real = (self.typed & (kinds[sel] == _R)).astype(np.int64)
            lo_tab, lo_idx = self._bound_numbers(np.where(has_lo[sel], lb[sel], 0.0), real, b"", b" ")
            hi_tab, hi_idx = self._bound_numbers(np.where(has_hi[sel], ub[sel], 0.0), real, b" ", b"")
            empty_lo, empty_hi = len(lo_tab), len(hi_tab)
            lo_tab, hi_tab = lo_tab + Table.of([""]), hi_tab + Table.of([""])
            lo_idx = np.where(has_lo[sel], lo_idx, empty_lo)
            hi_idx = np.where(has_hi[sel], hi_idx, empty_hi)
            # (<= lo x hi), (<= lo x), (<= x hi): one chainable form for all three.
            emit(self.out, len(sel), lambda a, z: [
                b"(assert (<= ", (lo_tab, lo_idx[a:z]), (self.names, sel[a:z]),
                (hi_tab, hi_idx[a:z]), b"))\n"])
        # Boolean variables fixed by a pass.
        isbool = kinds == _B
        for v in np.flatnonzero(isbool & (p.lb >= 1)):
            self.out.write(b"(assert " + _entry(self.names, v) + b")\n")
        for v in np.flatnonzero(isbool & (p.ub <= 0)):
            self.out.write(b"(assert (not " + _entry(self.names, v) + b"))\n")

    def _bound_numbers(self, values: np.ndarray, real: np.ndarray, pre: bytes, post: bytes):
        uniq, inv = unique_values(values)
        code = inv * 2 + real
        present, remap = compact_keys(code, 2 * len(uniq))
        dec = shortest_decimals(uniq)
        texts = [pre + _number_text(dec[c // 2], 0 if "." not in dec[c // 2] else -1,
                                    bool(c % 2)).encode() + post for c in present.tolist()]
        return Table.of(texts), remap[code]

    def rows(self, indptr, cols, coefs, cols2, sense, rhs) -> None:
        """Rows ``sum coefs * cols [* cols2]  sense  rhs`` (``cols2`` -1 or None: linear term)."""
        m = len(indptr) - 1
        if m == 0:
            return
        indptr, cols, coefs, cols2, sense, rhs = drop_trivial_rows(indptr, cols, coefs, cols2,
                                                                   sense, rhs)
        m = len(indptr) - 1
        if m == 0:
            return
        indptr, cols, coefs, cols2 = fill_empty_rows(indptr, cols, coefs, cols2)
        counts = np.diff(indptr)
        starts = indptr[:-1]

        # Coefficients and right-hand sides: formatted once per distinct value.
        cuniq, cinv = unique_values(coefs)
        cdec = shortest_decimals(cuniq)
        cplaces = decimal_places(cdec).astype(np.int32)
        runiq, rinv = unique_values(rhs)
        rdec = shortest_decimals(runiq)
        rplaces = decimal_places(rdec)
        places = rplaces[rinv]
        if np.any(cplaces):
            places = np.maximum(places, np.maximum.reduceat(cplaces[cinv], starts))

        # Row context: does it hold a Real variable?
        if self.has_real or self.typed:
            rk = self.kinds[cols] == _R
            if cols2 is not None:
                rk |= (cols2 >= 0) & (self.kinds[np.maximum(cols2, 0)] == _R)
            row_real = np.maximum.reduceat(rk, starts).astype(bool)
        else:
            row_real = np.zeros(m, bool)
        ctx = (row_real & self.typed).astype(np.int64)
        needs_int = ~row_real & (self.typed or not self.has_real)
        d_eff = np.where(needs_int | (places <= MAX_SCALE_PLACES), places, -1)

        # Per row a "combo" (scale, context); a term's key is (coefficient, combo).
        combo_key = (d_eff + 1) * 2 + ctx
        combos, row_combo = np.unique(combo_key, return_inverse=True)
        row_combo = row_combo.reshape(-1)
        nu = len(cuniq)
        term_combo = np.repeat(row_combo.astype(np.int32), counts)
        present, remap = compact_keys(cinv + nu * term_combo, nu * len(combos))
        opens, closes = [], []
        for key in present.tolist():
            c, cb = key % nu, int(combos[key // nu])
            text = _number_text(cdec[c], cb // 2 - 1, bool(cb % 2))
            if text in ("1", "1.0"):
                opens += ["", "(* "]
                closes += ["", ")"]
            elif text in ("(- 1)", "(- 1.0)"):
                opens += ["(- ", "(- (* "]
                closes += [")", "))"]
            else:
                opens += [f"(* {text} "] * 2
                closes += [")", ")"]
        open_tab, close_tab = Table.of(opens), Table.of(closes)

        # Row heads and tails.
        multi = (counts > 1).astype(np.int64)
        heads = []
        for s in range(5):
            heads += [f"(assert ({_SENSE_OP[s]} ", f"(assert ({_SENSE_OP[s]} (+ "]
        head_tab = Table.of(heads + [""])
        rkey = rinv * len(combos) + row_combo
        rpresent, rremap = compact_keys(rkey, len(runiq) * len(combos))
        rtexts = [_number_text(rdec[k // len(combos)], int(combos[k % len(combos)]) // 2 - 1,
                               bool(combos[k % len(combos)] % 2)) for k in rpresent.tolist()]
        rhs_tab = Table.of(rtexts)
        close_multi = Table.of([" ", ") "])
        tail_tab = render_table(m, [(close_multi, multi), (rhs_tab, rremap[rkey]), b"))\n"]) \
            + Table.of([" "])
        row_code = sense * 2 + multi

        name_off = ctx * (self.n if self.typed else 0)
        empty2 = len(self.terms2) - 1
        nnz = len(cols)

        def parts(lo, hi):
            t = np.arange(lo, hi)
            r = np.searchsorted(indptr, t, side="right") - 1
            first = starts[r] == t
            last = indptr[r + 1] - 1 == t
            tk = remap[cinv[lo:hi] + nu * term_combo[lo:hi]] * 2
            head = (head_tab, np.where(first, row_code[r], len(head_tab) - 1))
            tail = (tail_tab, np.where(last, r, m))
            if cols2 is None:  # no second-factor column: it would be padding on every term
                return [head, (open_tab, tk), (self.terms, cols[lo:hi] + name_off[r]),
                        (close_tab, tk), tail]
            c2 = cols2[lo:hi]
            tk = tk + (c2 >= 0)
            name2 = np.where(c2 >= 0, c2 + name_off[r], empty2)
            return [head, (open_tab, tk), (self.terms, cols[lo:hi] + name_off[r]),
                    (self.terms2, name2), (close_tab, tk), tail]

        emit(self.out, nnz, parts)

    def quadratic(self, b: QuadraticBlock) -> None:
        lin = b.linear
        m = lin.n_rows
        lrow = np.repeat(np.arange(m), np.diff(lin.indptr))
        row = np.concatenate([lrow, np.asarray(b.q_row, np.int64)])
        order = np.argsort(row, kind="stable")  # linear terms of a row first, then products
        cols = np.concatenate([lin.indices, b.q_i])[order]
        cols2 = np.concatenate([np.full(lin.nnz, -1, np.int64), b.q_j])[order]
        coefs = np.concatenate([lin.data, b.q_val])[order]
        indptr = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=m))])
        self.rows(indptr, cols, coefs, cols2, lin.sense, lin.rhs)

    def relu(self, b: ReluBlock) -> None:
        out_, inp = np.asarray(b.out, np.int64), np.asarray(b.inp, np.int64)
        ctx = self.ctx_of(out_, inp)
        off = ctx * (self.n if self.typed else 0)
        T, Z = self.terms, self.zero
        if self.relu_encoding == "ite":
            emit(self.out, len(out_), lambda lo, hi: [
                b"(assert (= ", (T, out_[lo:hi] + off[lo:hi]), b" (ite (>= ",
                (T, inp[lo:hi] + off[lo:hi]), b" ", (Z, ctx[lo:hi]), b") ",
                (T, inp[lo:hi] + off[lo:hi]), b" ", (Z, ctx[lo:hi]), b")))\n"])
        else:
            emit(self.out, len(out_), lambda lo, hi: [
                b"(assert (or (and (>= ", (T, inp[lo:hi] + off[lo:hi]), b" ", (Z, ctx[lo:hi]),
                b") (= ", (T, out_[lo:hi] + off[lo:hi]), b" ", (T, inp[lo:hi] + off[lo:hi]),
                b")) (and (< ", (T, inp[lo:hi] + off[lo:hi]), b" ", (Z, ctx[lo:hi]),
                b") (= ", (T, out_[lo:hi] + off[lo:hi]), b" ", (Z, ctx[lo:hi]), b"))))\n"])

    def bool_product(self, b: BoolProductBlock) -> None:
        out_, bb, x = (np.asarray(a, np.int64) for a in (b.out, b.b, b.x))
        ctx = self.ctx_of(out_, x)
        off = ctx * (self.n if self.typed else 0)
        # The guard: a Bool variable itself, a 0/1 number as (not (= b 0)).
        zero_of = _by_kind(bool="", int=" 0))", real=" 0.0))" if self.typed else " 0))")
        pre = _by_kind(bool="", int="(not (= ", real="(not (= ")
        code = self.kinds[bb]
        T, Z = self.terms, self.zero
        emit(self.out, len(out_), lambda lo, hi: [
            b"(assert (= ", (T, out_[lo:hi] + off[lo:hi]), b" (ite ", (pre, code[lo:hi]),
            (self.names, bb[lo:hi]), (zero_of, code[lo:hi]), b" ",
            (T, x[lo:hi] + off[lo:hi]), b" ", (Z, ctx[lo:hi]), b")))\n"])

    def nonzero(self, b: NonzeroBlock) -> None:
        x = np.asarray(b.x, np.int64)
        ctx = self.ctx_of(x)
        off = ctx * (self.n if self.typed else 0)
        emit(self.out, len(x), lambda lo, hi: [
            b"(assert (not (= ", (self.terms, x[lo:hi] + off[lo:hi]), b" ",
            (self.zero, ctx[lo:hi]), b")))\n"])

    def objective(self) -> None:
        """``nncc_obj = sum coef x + constant`` as a row, then ``(minimize nncc_obj)``."""
        o = self.p.objective
        sq = np.asarray(o.sq_idx, np.int64)
        # squares (an L2 regulariser) as products x * x: z3 minimises them over QF_NRA
        idx = np.concatenate([np.asarray(o.idx, np.int64), sq, [self.n - 1]])
        coef = np.concatenate([np.asarray(o.coef, float), np.asarray(o.sq_coef, float), [-1.0]])
        cols2 = np.concatenate([np.full(len(o.idx), -1, np.int64), sq, [-1]]) if len(sq) else None
        self.out.write(f"(declare-const {self.obj_name} Real)\n".encode())
        self.rows(np.array([0, len(idx)]), idx, coef, cols2, np.array([EQ]),
                  np.array([-float(o.constant)]))
        verb = "maximize" if o.sense == "max" else "minimize"
        self.out.write(f"({verb} {self.obj_name})\n".encode())

    def get_value(self) -> None:
        """``(get-value (...))`` over the answer groups (all groups when none are named)."""
        p = self.p
        wanted = set(p.answer_groups)
        groups = [g for g in p.groups if not wanted or g.name in wanted]
        idx = np.concatenate([np.arange(g.offset, g.offset + g.size) for g in groups]) \
            if groups else np.zeros(0, np.int64)
        if len(idx) == 0:
            return
        sep = Table.of([" ", "\n ", ""])
        pos = (np.arange(len(idx)) % 16 == 15).astype(np.int64)
        pos[-1] = 2
        self.out.write(b"(get-value (")
        emit(self.out, len(idx), lambda lo, hi: [(self.names, idx[lo:hi]), (sep, pos[lo:hi])])
        self.out.write(b"))\n")


# -- small helpers of the walker ----------------------------------------------------------------

def _by_kind(**text: str) -> Table:
    """A table indexed by the IR's kind code (position in ``KINDS``)."""
    return Table.of([text[k] for k in KINDS])


def _comment(text: str) -> bytes:
    return text.replace("\n", " ").replace("\r", " ").encode("ascii", "replace")


def _entry(table: Table, i: int) -> bytes:
    row = table.mat[int(i)]
    return bytes(row[row != 0])
