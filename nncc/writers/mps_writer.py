"""Free MPS back end, read by cbc and highs.

What both solvers need (SOLVER_NOTES, re-checked in docs/solver-behaviour.md):
``NAME <name> FREE`` first (cbc guesses fixed format line by line otherwise);
integer columns between ``INTORG`` / ``INTEND`` markers with both bounds
always written (an integer column without a bounds entry becomes binary);
``UP`` before ``LO`` so that cbc never sees a negative upper bound over a
zero lower bound (it would move the lower bound to -inf); always minimise
(cbc ignores ``OBJSENSE``), so a maximisation is negated and the symbol map
says so; the objective constant ``c`` goes in as ``RHS obj -c``.

:func:`milp_form` is also the LP writer's entry: it refuses what a MILP file
cannot say and gathers the rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from ..errors import TargetError
from ..ir.program import (BOOL, EQ, GE, INT, KINDS, LE, STRICT, BoolProductBlock, LinearBlock,
                          NonzeroBlock, Program, QuadraticBlock, ReluBlock, sanitize)
from .text_columns import (Table, drop_trivial_rows, emit, int_table, name_table, shortest_repr,
                           unique_values)

#: cbc crashes on MPS names of 170+ characters and renames LP names over 100.
MAX_NAME_LENGTH = 100

_INTLIKE = (KINDS.index(INT), KINDS.index(BOOL))


@dataclass
class MilpForm:
    """A program's linear rows, concatenated, and its objective as a minimisation."""

    indptr: np.ndarray
    cols: np.ndarray  # int32
    coefs: np.ndarray
    sense: np.ndarray
    rhs: np.ndarray
    obj_idx: np.ndarray  # distinct variables with their summed coefficients
    obj_coef: np.ndarray
    obj_constant: float
    negated: bool  # the program maximises; the file minimises the negation
    lb: np.ndarray  # integer columns rounded inwards
    ub: np.ndarray
    intlike: np.ndarray  # bool per variable: int or bool kind
    names: Table


def milp_form(program: Program, target: str) -> MilpForm:
    """Check that ``program`` is linear with non-strict rows and gather what a MILP file holds.

    Raises :class:`TargetError` naming the first block the format cannot express
    and what to do about it.
    """
    fmt = target.upper()
    blocks = []
    for b in program.blocks:
        if isinstance(b, QuadraticBlock):
            if len(b.q_row):
                raise TargetError(
                    f"block '{b.name}' multiplies two unknowns; {fmt} cannot express it "
                    "(MPS and LP are linear): use --target smtlib (QF_NRA) with z3 or cvc5")
            b = b.linear
        if isinstance(b, ReluBlock):
            raise TargetError(
                f"block '{b.name}' is a ReLU relation; {fmt} needs it lowered to big-M rows "
                "first (the compile pipeline does this; it needs finite bounds on the inputs)")
        if isinstance(b, BoolProductBlock):
            raise TargetError(
                f"block '{b.name}' multiplies a Boolean by an unknown; {fmt} needs it linearised "
                "first (the compile pipeline does this from the bounds of the other factor)")
        if isinstance(b, NonzeroBlock):
            raise TargetError(
                f"block '{b.name}' says variables are non-zero; {fmt} needs it as big-M rows "
                "with a binary per variable first (the compile pipeline does this)")
        if not isinstance(b, LinearBlock):
            raise TargetError(f"block '{b.name}' ({type(b).__name__}) has no {fmt} form")
        if np.isin(b.sense, STRICT).any():
            raise TargetError(
                f"block '{b.name}' has strict rows (< or >); {fmt} has only <=, >= and =: "
                "the compile pipeline turns them into non-strict rows with an epsilon margin "
                "(--epsilon), or use --target smtlib to keep them strict")
        blocks.append(b)

    parts = [drop_trivial_rows(b.indptr, b.indices, b.data, None, b.sense, b.rhs) for b in blocks]
    counts = [np.diff(p[0]) for p in parts]
    indptr = np.concatenate([[0]] + [c for c in counts]).cumsum() if parts else np.zeros(1, np.int64)
    cols = np.concatenate([np.asarray(p[1], np.int32) for p in parts]) if parts else np.zeros(0, np.int32)
    coefs = np.concatenate([np.asarray(p[2], np.float64) for p in parts]) if parts else np.zeros(0)
    sense = np.concatenate([p[4] for p in parts]) if parts else np.zeros(0, np.int64)
    rhs = np.concatenate([p[5] for p in parts]) if parts else np.zeros(0)

    indptr, cols, coefs = _merge_duplicates(indptr.astype(np.int64), cols, coefs)

    o = program.objective
    negated = o is not None and o.sense == "max"
    if o is not None and len(o.idx):
        idx, inv = np.unique(np.asarray(o.idx, np.int64), return_inverse=True)
        coef = np.bincount(inv.reshape(-1), weights=np.asarray(o.coef, float), minlength=len(idx))
        constant = float(o.constant)
    else:
        idx, coef, constant = np.zeros(0, np.int64), np.zeros(0), float(o.constant) if o else 0.0
    if negated:
        coef, constant = -coef, -constant
    if not np.all(np.isfinite(coef)) or not np.isfinite(constant):
        raise ValueError("non-finite objective coefficient")

    intlike = np.isin(program.kinds, _INTLIKE)
    lb = np.where(intlike, np.ceil(program.lb), program.lb).astype(float)
    ub = np.where(intlike, np.floor(program.ub), program.ub).astype(float)
    names = name_table(program.groups)
    longest = int(names.lengths().max()) if len(names) else 0
    if longest > MAX_NAME_LENGTH:
        raise TargetError(
            f"a variable name has {longest} characters; cbc mangles or crashes on names over "
            f"{MAX_NAME_LENGTH}: give the layer or variable a shorter name")
    return MilpForm(indptr.astype(np.int64), cols, coefs, sense, rhs, idx, coef + 0.0,
                    constant + 0.0, negated, lb, ub, intlike, names)


def _merge_duplicates(indptr, cols, coefs):
    """Sum repeated (row, column) entries: cbc rejects them, highs keeps only one of them."""
    m = len(indptr) - 1
    # Only rows whose columns are not strictly increasing can repeat a column.
    down = np.flatnonzero(np.diff(cols) <= 0)  # pair (k, k+1)
    if len(down):
        rows_of = np.searchsorted(indptr, down, side="right") - 1
        down = down[indptr[rows_of + 1] > down + 1]  # both terms in the same row
    if not len(down):
        return indptr, cols, coefs
    suspect = np.unique(np.searchsorted(indptr, down, side="right") - 1)
    counts = np.diff(indptr)
    take = np.concatenate([np.arange(indptr[r], indptr[r + 1]) for r in suspect.tolist()])
    srow = np.repeat(suspect, counts[suspect])
    order = np.lexsort((cols[take], srow))
    sc, sr = cols[take][order], srow[order]
    if not np.any((sc[1:] == sc[:-1]) & (sr[1:] == sr[:-1])):
        return indptr, cols, coefs  # unordered rows, but no repeats
    rows = np.repeat(np.arange(m), counts)
    order = np.lexsort((cols, rows))
    rows, cols, coefs = rows[order], cols[order], coefs[order]
    new = np.ones(len(cols), bool)
    new[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    at = np.flatnonzero(new)
    coefs = np.add.reduceat(coefs, at) if len(at) else coefs
    cols, rows = cols[at], rows[at]
    return np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=m))]), cols, coefs


def write_mps(program: Program, out: BinaryIO, *, logic: str | None = None) -> None:
    """Write ``program`` as free MPS to the binary stream ``out`` (always a minimisation).

    ``logic`` is accepted for a uniform writer signature and ignored. Raises
    :class:`TargetError` for blocks MPS cannot express (see :func:`milp_form`).
    """
    _MpsWriter(program, milp_form(program, "mps"), out).write()


class _MpsWriter:
    def __init__(self, program: Program, form: MilpForm, out: BinaryIO):
        self.p, self.f, self.out = program, form, out

    def write(self) -> None:
        name = sanitize(self.p.name or "nncc")
        self.out.write(f"NAME {name} FREE\n".encode("ascii"))
        self.rows()
        self.columns()
        self.rhs()
        self.bounds()
        self.out.write(b"ENDATA\n")

    def rows(self) -> None:
        f = self.f
        m = len(f.sense)
        # Row 0 is the objective; rows 1..m are r0..r(m-1).
        self.row_names = Table.of(["obj"]) + int_table(m, b"r")
        kinds = Table.of([" L ", " G ", " E "])
        code = np.select([f.sense == LE, f.sense == GE, f.sense == EQ], [0, 1, 2])
        self.out.write(b"ROWS\n N obj\n")
        emit(self.out, m, lambda lo, hi: [
            (kinds, code[lo:hi]), (self.row_names, np.arange(lo + 1, hi + 1)), b"\n"])

    def columns(self) -> None:
        """Entries column by column; every variable appears (an unused one with ``obj 0``)."""
        f, n = self.f, self.p.n_vars
        used = np.zeros(n, bool)
        used[f.cols] = True
        used[f.obj_idx] = True
        unused = np.flatnonzero(~used)
        # Entry k < head: objective (or a placeholder for an unused column); entry head + t is
        # term t of the rows. Objective entries come first so that a stable sort by column
        # keeps them first within their column.
        head = len(f.obj_idx) + len(unused)
        col = np.concatenate([f.obj_idx.astype(np.int32), unused.astype(np.int32), f.cols])
        uniq, vinv = unique_values(f.coefs)
        vinv = vinv.astype(np.int32)
        ouniq, oinv = unique_values(np.concatenate([f.obj_coef, np.zeros(len(unused))]))
        num = Table.of([" " + s + "\n" for s in shortest_repr(np.concatenate([uniq, ouniq]))])
        oinv = (oinv + len(uniq)).astype(np.int32)
        order = np.argsort(col, kind="stable")
        colptr = np.concatenate([[0], np.cumsum(np.bincount(col, minlength=n))])
        # Integer runs: INTORG before the first entry of a run, INTEND after its last.
        intlike = f.intlike
        prev_int = np.concatenate([[False], intlike[:-1]])
        next_int = np.concatenate([intlike[1:], [False]])
        markers = Table.of(["", " MARKER 'MARKER' 'INTORG'\n", " MARKER 'MARKER' 'INTEND'\n"])
        pre_at = colptr[np.flatnonzero(intlike & ~prev_int)]
        post_at = colptr[np.flatnonzero(intlike & ~next_int) + 1] - 1
        names, indptr = self.f.names, f.indptr
        self.out.write(b"COLUMNS\n")
        sp = b" "

        def parts(lo, hi):
            o = order[lo:hi]
            t = o - head
            term = t >= 0
            tt = np.where(term, t, 0)
            row = np.where(term, np.searchsorted(indptr, tt, side="right"), 0)
            val = np.where(term, vinv[tt], oinv[np.minimum(o, max(head - 1, 0))] if head else 0)
            pre = np.zeros(hi - lo, np.int64)
            pre[pre_at[(pre_at >= lo) & (pre_at < hi)] - lo] = 1
            post = np.zeros(hi - lo, np.int64)
            post[post_at[(post_at >= lo) & (post_at < hi)] - lo] = 2
            return [(markers, pre), sp, (names, col[o]), sp, (self.row_names, row), (num, val),
                    (markers, post)]
        emit(self.out, len(col), parts)

    def rhs(self) -> None:
        f = self.f
        self.out.write(b"RHS\n")
        nz = np.flatnonzero(f.rhs != 0)
        if len(nz):
            uniq, inv = unique_values(f.rhs[nz])
            num = Table.of([" " + s + "\n" for s in shortest_repr(uniq)])
            emit(self.out, len(nz), lambda lo, hi: [
                b" RHS ", (self.row_names, nz[lo:hi] + 1), (num, inv[lo:hi])])
        if f.obj_constant != 0:
            # Both solvers add -rhs(obj) to the objective.
            self.out.write(f" RHS obj {shortest_repr([-f.obj_constant])[0]}\n".encode("ascii"))

    def bounds(self) -> None:
        """Two optional lines per column, the upper bound first (see the module notes)."""
        f, n = self.f, self.p.n_vars
        lb, ub, intlike = f.lb, f.ub, f.intlike
        lo_fin, hi_fin = np.isfinite(lb), np.isfinite(ub)
        NONE, UP, LO, MI, PL, FR, FX = range(7)
        heads = Table.of(["", " UP BND ", " LO BND ", " MI BND ", " PL BND ", " FR BND ", " FX BND "])
        first = np.full(n, NONE)
        second = np.full(n, NONE)
        fixed = lo_fin & hi_fin & (lb == ub)
        boxed = lo_fin & hi_fin & ~fixed
        first[fixed] = FX
        first[boxed], second[boxed] = UP, LO
        only_hi = ~lo_fin & hi_fin
        first[only_hi], second[only_hi] = MI, UP
        only_lo = lo_fin & ~hi_fin
        # A real column's default is [0, inf); an integer one needs both bounds stated.
        first[only_lo & ~intlike & (lb != 0)] = LO
        first[only_lo & intlike], second[only_lo & intlike] = PL, LO
        free = ~lo_fin & ~hi_fin
        first[free] = FR
        sel = np.flatnonzero(first != NONE)
        if len(sel):
            value_of = {UP: ub, LO: lb, FX: lb}
            v1 = np.select([first == k for k in value_of], list(value_of.values()), np.nan)[sel]
            v2 = np.select([second == k for k in value_of], list(value_of.values()), np.nan)[sel]
            has1, has2 = ~np.isnan(v1), ~np.isnan(v2)
            uniq, inv = unique_values(np.concatenate([v1[has1], v2[has2]]))
            num = Table.of([" " + s for s in shortest_repr(uniq)] + [""])
            empty = len(num) - 1
            n1 = np.full(len(sel), empty)
            n1[has1] = inv[:has1.sum()]
            n2 = np.full(len(sel), empty)
            n2[has2] = inv[has1.sum():]
            names = self.f.names + Table.of([""])
            nl = Table.of(["", "\n"])
            s1, s2 = first[sel], second[sel]
            name2 = np.where(s2 != NONE, sel, len(names) - 1)
            self.out.write(b"BOUNDS\n")
            emit(self.out, len(sel), lambda a, z: [
                (heads, s1[a:z]), (names, sel[a:z]), (num, n1[a:z]), b"\n",
                (heads, s2[a:z]), (names, name2[a:z]), (num, n2[a:z]), (nl, (s2[a:z] != NONE).astype(np.int64))])
