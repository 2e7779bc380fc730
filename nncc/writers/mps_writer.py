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

from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from ..errors import TargetError
from ..ir.program import (BOOL, EQ, GE, INT, KINDS, LE, STRICT, BoolProductBlock, LinearBlock,
                          NonzeroBlock, Program, QuadraticBlock, ReluBlock, sanitize)
from .text_columns import (Table, drop_trivial_rows, emit, int_table, name_table, number_table,
                           shortest_repr, unique_values)

#: cbc crashes on MPS names of 170+ characters and renames LP names over 100.
MAX_NAME_LENGTH = 100

_INTLIKE = (KINDS.index(INT), KINDS.index(BOOL))

#: Entries the COLUMNS section regroups at a time (a few megabytes of temporaries).
RANGE_ENTRIES = 1 << 17


@dataclass
class RowGroup:
    """Consecutive rows in CSR form; row ``first + i`` of the file is row ``i`` here.

    One group per IR block, holding the block's own arrays (int64 columns,
    float64 coefficients) unless rows had to be dropped or repeated columns
    merged. The writers walk the groups instead of concatenating them: a
    concatenation copies every nonzero (12 bytes each even with int32
    columns), the largest allocation of a write.
    """

    first: int
    indptr: np.ndarray  # int64
    cols: np.ndarray
    coefs: np.ndarray


@dataclass
class MilpForm:
    """A program's linear rows, by block, and its objective as a minimisation."""

    groups: list[RowGroup]
    sense: np.ndarray  # per row, all groups
    rhs: np.ndarray
    obj_idx: np.ndarray  # distinct variables with their summed coefficients
    obj_coef: np.ndarray
    obj_constant: float
    negated: bool  # the program maximises; the file minimises the negation
    lb: np.ndarray  # integer columns rounded inwards
    ub: np.ndarray
    intlike: np.ndarray  # bool per variable: int or bool kind
    names: Table
    # the objective's squares: + sum sq_coef * x[sq_idx]**2 (distinct variables, summed)
    sq_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    sq_coef: np.ndarray = field(default_factory=lambda: np.zeros(0))


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

    groups, senses, rhss, first = [], [np.zeros(0, np.int64)], [np.zeros(0)], 0
    for b in blocks:
        indptr, cols, coefs, _, sense, rhs = drop_trivial_rows(
            b.indptr, np.asarray(b.indices, np.int64), np.asarray(b.data, np.float64), None,
            b.sense, b.rhs)
        indptr, cols, coefs = _merge_duplicates(indptr, cols, coefs)
        groups.append(RowGroup(first, indptr, cols, coefs))
        senses.append(sense)
        rhss.append(rhs)
        first += len(indptr) - 1
    sense, rhs = np.concatenate(senses), np.concatenate(rhss)

    o = program.objective
    negated = o is not None and o.sense == "max"
    if o is not None and len(o.idx):
        idx, inv = np.unique(np.asarray(o.idx, np.int64), return_inverse=True)
        coef = np.bincount(inv.reshape(-1), weights=np.asarray(o.coef, float), minlength=len(idx))
        constant = float(o.constant)
    else:
        idx, coef, constant = np.zeros(0, np.int64), np.zeros(0), float(o.constant) if o else 0.0
    sq_idx, sq_coef = np.zeros(0, np.int64), np.zeros(0)
    if o is not None and o.quadratic:
        sq_idx, inv = np.unique(np.asarray(o.sq_idx, np.int64), return_inverse=True)
        sq_coef = np.bincount(inv.reshape(-1), weights=np.asarray(o.sq_coef, float),
                              minlength=len(sq_idx))
        if negated or np.any(sq_coef < 0):
            # highs solves convex QPs only (minimise a positive semidefinite form)
            raise TargetError(f"the quadratic objective is not convex; {fmt} solvers take only "
                              "minimised sums of squares with coefficients >= 0")
        if np.isin(program.kinds, _INTLIKE).any():
            raise TargetError(
                "a quadratic objective (L2 regulariser) over integer or binary variables is a "
                "MIQP, which neither highs nor cbc solves: give 'regularize l2 ... segments K' "
                "(tangent lines, a MILP) -- nncc solve does so by itself")
    if negated:
        coef, constant = -coef, -constant
    if not np.all(np.isfinite(coef)) or not np.isfinite(constant) or not np.all(np.isfinite(sq_coef)):
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
    return MilpForm(groups, sense, rhs, idx, coef + 0.0, constant + 0.0, negated, lb, ub,
                    intlike, names, sq_idx, sq_coef + 0.0)


def _merge_duplicates(indptr, cols, coefs):
    """Sum repeated (row, column) entries: cbc rejects them, highs keeps only one of them."""
    m = len(indptr) - 1
    # Only rows whose columns are not strictly increasing can repeat a column
    # (a comparison of neighbours: a bool per term, not an np.diff copy of the columns).
    down = np.flatnonzero(cols[1:] <= cols[:-1])  # pair (k, k+1)
    if len(down):
        rows_of = np.searchsorted(indptr, down, side="right") - 1
        down = down[indptr[rows_of + 1] > down + 1]  # both terms in the same row
    if not len(down):
        return indptr, cols, coefs
    suspect = np.unique(np.searchsorted(indptr, down, side="right") - 1)
    counts = np.diff(indptr)
    # positions of the suspect rows' terms, without a Python loop over rows
    sc_counts = counts[suspect]
    starts = np.repeat(indptr[suspect] - np.concatenate([[0], np.cumsum(sc_counts)[:-1]]), sc_counts)
    take = starts + np.arange(int(sc_counts.sum()))
    srow = np.repeat(suspect, sc_counts)
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


def _column_ranges(colptr: np.ndarray, entries: int) -> list[int]:
    """Cut columns ``0 .. n-1`` into ranges ``[b[k], b[k+1])`` of about ``entries`` entries each.

    ``colptr[c]`` is the position of column ``c``'s first entry. A range holds at
    least one column (however many entries it has) and fewer than 2**16 columns.
    """
    n = len(colptr) - 1
    bounds = [0]
    while bounds[-1] < n:
        c0 = bounds[-1]
        c1 = int(np.searchsorted(colptr, colptr[c0] + entries, side="right")) - 1
        bounds.append(min(max(c1, c0 + 1), c0 + (1 << 16) - 1, n))
    return bounds


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
        self.quadobj()
        self.out.write(b"ENDATA\n")

    def quadobj(self) -> None:
        """``QUADOBJ``: the objective is ``c x + 1/2 x' Q x``, so ``coef * x**2`` is the
        diagonal entry ``Q[x, x] = 2 coef`` (one triangle is listed; ours is diagonal).
        highs reads it; cbc silently drops it (the solve path refuses cbc then)."""
        f = self.f
        if not len(f.sq_idx):
            return
        uniq, inv = unique_values(2.0 * f.sq_coef)
        num = number_table(uniq, b" ", b"\n")
        self.out.write(b"QUADOBJ\n")
        emit(self.out, len(f.sq_idx), lambda a, z: [
            b" ", (f.names, f.sq_idx[a:z]), b" ", (f.names, f.sq_idx[a:z]), (num, inv[a:z])])

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
        """Entries column by column; every variable appears (an unused one with ``obj 0``).

        Within a column the objective entry (or the ``obj 0`` placeholder) comes
        first, then the rows in order. The rows are stored row by row, so the
        entries are regrouped by column one column range at a time (see
        :func:`_column_ranges`): only one range's entries are ever gathered,
        instead of a sort order, a column and a value code for every nonzero.
        """
        f, n = self.f, self.p.n_vars
        count = np.zeros(n, np.int64)
        for g in f.groups:
            count += np.bincount(g.cols, minlength=n)
        # Heads: at most one per column, the objective entry or the placeholder of an unused column.
        in_obj = np.zeros(n, bool)
        in_obj[f.obj_idx] = True
        unused = np.flatnonzero((count == 0) & ~in_obj)
        hcol = np.concatenate([f.obj_idx, unused])
        hval = np.concatenate([f.obj_coef, np.zeros(len(unused))])
        by_col = np.argsort(hcol)
        hcol, hval = hcol[by_col], hval[by_col]
        count[hcol] += 1
        colptr = np.concatenate([[0], np.cumsum(count)])  # entry positions in the section
        del count, in_obj, unused

        # Integer runs: INTORG before the first entry of a run, INTEND after its last.
        # Marker lines go between stretches of entries rather than into a column of every entry.
        intlike = f.intlike
        prev_int = np.concatenate([[False], intlike[:-1]])
        next_int = np.concatenate([intlike[1:], [False]])
        starts = colptr[np.flatnonzero(intlike & ~prev_int)]
        ends = colptr[np.flatnonzero(intlike & ~next_int) + 1]
        cuts = sorted([(int(a), b" MARKER 'MARKER' 'INTORG'\n") for a in starts]
                      + [(int(e), b" MARKER 'MARKER' 'INTEND'\n") for e in ends],
                      key=lambda c: (c[0], c[1].endswith(b"'INTORG'\n")))
        next_cut = 0

        bounds = _column_ranges(colptr, RANGE_ENTRIES)
        n_ranges = len(bounds) - 1
        # Every term's range (1 or 2 bytes), then the terms of each group ordered by range
        # with a stable radix sort (row order kept within a range): a range's terms are one
        # slice, found in linear time overall rather than by a scan of every term per range.
        range_of = np.repeat(np.arange(n_ranges).astype(np.min_scalar_type(len(bounds))),
                             np.diff(bounds))
        by_range = []
        for g in f.groups:
            tr = range_of[g.cols]
            starts = np.concatenate([[0], np.cumsum(np.bincount(tr, minlength=n_ranges))])
            order = np.argsort(tr, kind="stable")
            by_range.append((order.astype(np.int32) if len(order) < 2 ** 31 else order, starts))
            del order
            del tr
        del range_of
        # Every distinct coefficient formatted once for the whole section (a data value
        # recurs in the columns of every unit that reads it, across ranges).
        uniq, hcode = unique_values(np.concatenate([hval] + [g.coefs for g in f.groups]))
        num = number_table(uniq, b" ", b"\n")
        del uniq
        gcode, off = [], len(hval)
        for g in f.groups:
            gcode.append(hcode[off:off + len(g.coefs)])
            off += len(g.coefs)
        hcode = hcode[:len(hval)]
        names, row_names, sp = f.names, self.row_names, b" "
        self.out.write(b"COLUMNS\n")
        for k in range(len(bounds) - 1):
            c0, c1 = bounds[k], bounds[k + 1]
            # The range's entries: heads first, then each group's terms in row order ...
            h0, h1 = np.searchsorted(hcol, [c0, c1])
            cols, rows, codes = [hcol[h0:h1]], [np.zeros(h1 - h0, np.int64)], [hcode[h0:h1]]
            for g, (order_g, starts), gc in zip(f.groups, by_range, gcode):
                t = order_g[starts[k]:starts[k + 1]]
                cols.append(g.cols[t])
                rows.append(np.searchsorted(g.indptr, t, side="right") + g.first)  # obj is row 0
                codes.append(gc[t])
            col, row, code = np.concatenate(cols), np.concatenate(rows), np.concatenate(codes)
            del cols, rows, codes
            # ... so a stable sort by column gives the section's order. The range spans fewer
            # than 2**16 columns: a uint16 key, which numpy sorts by radix (linear time).
            order = np.argsort((col - c0).astype(np.uint16), kind="stable")

            def stretch(base):
                """The lines of the range's entries ``base``, ``base + 1``, ..."""
                def parts(lo, hi):
                    o = order[base + lo:base + hi]
                    return [sp, (names, col[o]), sp, (row_names, row[o]), (num, code[o])]
                return parts

            # Entries up to each marker of the range, the marker, and so on; a marker at the
            # range's end is written here, before the next range's entries.
            first, end = int(colptr[c0]), int(colptr[c1])
            pos = first
            while True:
                at, marker = (cuts[next_cut] if next_cut < len(cuts) and cuts[next_cut][0] <= end
                              else (end, None))
                if at > pos:
                    emit(self.out, at - pos, stretch(pos - first))
                    pos = at
                if marker is None:
                    break
                self.out.write(marker)
                next_cut += 1
            del col, row, code, order

    def rhs(self) -> None:
        f = self.f
        self.out.write(b"RHS\n")
        nz = np.flatnonzero(f.rhs != 0)
        if len(nz):
            uniq, inv = unique_values(f.rhs[nz])
            num = number_table(uniq, b" ", b"\n")
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
