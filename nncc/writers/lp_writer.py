"""CPLEX LP back end, read by cbc and highs.

Only what both read the same way (SOLVER_NOTES, docs/solver-behaviour.md):
names ``[A-Za-z][A-Za-z0-9_]*``; one-sided rows (two-sided rows are a parse
error in highs and misread by cbc); always ``Minimize`` (a maximisation is
negated, as in MPS, and the symbol map says so); no constant in the
objective (cbc drops it): a constant is the coefficient of an extra column
fixed to 1; long rows wrapped over several lines; integer columns with both
bounds stated.
"""
from __future__ import annotations

from typing import BinaryIO

import numpy as np

from ..ir.program import BOOL, EQ, GE, KINDS, LE, Program
from .mps_writer import MilpForm, RowGroup, milp_form
from .text_columns import (Table, emit, fill_empty_rows, int_table, render_table, shortest_repr,
                           unique_values)

#: Aim for lines of at most about this many characters.
LINE_WIDTH = 200

#: Name of the column fixed to 1 that carries an objective constant.
CONSTANT_COLUMN = "nncc_obj_constant"


def write_lp(program: Program, out: BinaryIO, *, logic: str | None = None) -> None:
    """Write ``program`` in CPLEX LP format to the binary stream ``out`` (always a minimisation).

    ``logic`` is accepted for a uniform writer signature and ignored. Raises
    :class:`~nncc.errors.TargetError` for blocks LP cannot express.
    """
    _LpWriter(program, milp_form(program, "lp"), out).write()


def _coefficient_texts(uniq: np.ndarray) -> list[str]:
    """`` + 3 `` / `` - 0.5 `` / `` + `` (for 1) for each value."""
    texts = []
    for v, s in zip(uniq.tolist(), shortest_repr(np.abs(uniq))):
        sign = " - " if v < 0 else " + "
        texts.append(sign if s == "1" else f"{sign}{s} ")
    return texts


class _LpWriter:
    def __init__(self, program: Program, form: MilpForm, out: BinaryIO):
        self.p, self.f, self.out = program, form, out
        names = form.names
        self.const_col = -1
        if form.obj_constant != 0:
            self.const_col = len(names)
            names = names + Table.of([CONSTANT_COLUMN])
        self.names = names

    def write(self) -> None:
        self.out.write(b"\\ " + (self.p.name or "nncc").replace("\n", " ").encode("ascii", "replace")
                       + b"\nMinimize\n")
        self.objective()
        self.out.write(b"Subject To\n")
        self.constraints()
        self.bounds()
        self.integers()
        self.out.write(b"End\n")

    def objective(self) -> None:
        f = self.f
        idx, coef = f.obj_idx, f.obj_coef
        if self.const_col >= 0:
            idx = np.concatenate([idx, [self.const_col]])
            coef = np.concatenate([coef, [f.obj_constant]])
        if len(idx) == 0:  # an empty objective is not read by both: say 0
            idx, coef = np.zeros(1, np.int64), np.zeros(1)
        row = RowGroup(0, np.array([0, len(idx)]), idx, coef)
        self.terms(Table.of([" obj:"]), [row], Table.of([" \n" if not len(f.sq_idx) else ""]))
        if len(f.sq_idx):
            # squares as ``+ [ 2c x ^ 2 ... ] / 2`` (the CPLEX form highs reads; cbc rejects it)
            uniq, inv = unique_values(2.0 * f.sq_coef)
            num = Table.of([f" + {s} " for s in shortest_repr(uniq)])
            brk = Table.of(["", "\n "])
            wrap = ((np.arange(len(f.sq_idx)) % 8 == 7)).astype(np.int64)
            self.out.write(b" + [")
            emit(self.out, len(f.sq_idx), lambda a, z: [
                (num, inv[a:z]), (self.names, f.sq_idx[a:z]), b" ^ 2", (brk, wrap[a:z])])
            self.out.write(b" ] / 2\n")

    def constraints(self) -> None:
        f = self.f
        m = len(f.sense)
        if m == 0:
            return
        uniq, inv = unique_values(f.rhs)
        ops = Table.of([" <= ", " >= ", " = "])
        code = np.select([f.sense == LE, f.sense == GE, f.sense == EQ], [0, 1, 2])
        rhs = Table.of([s + "\n" for s in shortest_repr(uniq)])
        tails = Table(np.hstack([ops.take(code), rhs.take(inv)]))
        heads = render_table(m, [(int_table(m, b" r"), np.arange(m)), b":"])
        groups = [RowGroup(g.first, *fill_empty_rows(g.indptr, g.cols, g.coefs)[:3])
                  for g in f.groups]
        self.terms(heads, groups, tails)

    def terms(self, heads: Table, groups: list[RowGroup], tails: Table) -> None:
        """Rows ``head + c x + ... tail`` (one head and tail per row), wrapped to keep lines short.

        The rows come in groups (one per IR block) and each group gets its own
        coefficient table, so that only one group's value codes exist at a time.
        """
        # Terms per line: as if one table held every coefficient, i.e. from the widest text.
        texts = [_coefficient_texts(unique_values(g.coefs)[0]) for g in groups]
        cwidth = max((len(t) for ts in texts for t in ts), default=0) or 1
        per_line = max(1, LINE_WIDTH // (cwidth + self.names.width))
        heads = heads + Table.of([""])
        no_head = len(heads) - 1
        tails = tails + Table.of([""])
        no_tail = len(tails) - 1
        breaks = Table.of(["", "\n "])
        for g, gtexts in zip(groups, texts):
            indptr, cols = g.indptr, g.cols
            # Computed again rather than kept from above: the same distinct values, in the
            # same order, as gtexts.
            ctab, cinv = Table.of(gtexts), unique_values(g.coefs)[1]

            def parts(lo, hi):
                t = np.arange(lo, hi)
                r = np.searchsorted(indptr, t, side="right") - 1
                pos = t - indptr[r]
                first = pos == 0
                last = indptr[r + 1] - 1 == t
                brk = ((pos % per_line == 0) & ~first).astype(np.int64)
                r += g.first
                return [(heads, np.where(first, r, no_head)), (breaks, brk), (ctab, cinv[lo:hi]),
                        (self.names, cols[lo:hi]), (tails, np.where(last, r, no_tail))]
            emit(self.out, len(cols), parts)
            del cinv

    def bounds(self) -> None:
        """``x free``, ``-inf <= x <= u``, ``l <= x <= u``, ``x = v``, ``x >= l``."""
        f, n = self.f, self.p.n_vars
        lb, ub = f.lb, f.ub
        lo_fin, hi_fin = np.isfinite(lb), np.isfinite(ub)
        binary = (self.p.kinds == KINDS.index(BOOL)) & (lb == 0) & (ub == 1)
        self.binary = binary
        FREE, UPPER, BOX, FIX, LOWER, NONE = range(6)
        form = np.full(n, NONE)
        form[~lo_fin & ~hi_fin] = FREE
        form[~lo_fin & hi_fin] = UPPER
        form[lo_fin & hi_fin] = BOX
        form[lo_fin & hi_fin & (lb == ub)] = FIX
        # A real column defaults to [0, inf); integers always get their bounds said.
        form[lo_fin & ~hi_fin & ((lb != 0) | f.intlike)] = LOWER
        form[binary] = NONE
        sel = np.flatnonzero(form != NONE)
        lines = []
        if self.const_col >= 0:
            lines.append(f" {CONSTANT_COLUMN} = 1\n".encode())
        self.out.write(b"Bounds\n" + b"".join(lines))
        if not len(sel):
            return
        fs = form[sel]
        lval = np.where(np.isin(fs, (BOX, LOWER, FIX)), lb[sel], 0.0)
        uval = np.where(np.isin(fs, (BOX, UPPER)), ub[sel], 0.0)
        uniq, inv = unique_values(np.concatenate([lval, uval]))
        txt = shortest_repr(uniq)
        k = len(sel)
        # before the name: " l <= " / " -inf <= " / " "; after: " <= u" / " = v" / " >= l" / " free"
        pre = Table.of([" "] + [f" {s} <= " for s in txt] + [" -inf <= "])
        post = Table.of([" free\n"] + [f" <= {s}\n" for s in txt] + [f" = {s}\n" for s in txt]
                        + [f" >= {s}\n" for s in txt])
        nu = len(uniq)
        li, ui = inv[:k], inv[k:]
        pre_idx = np.select([fs == BOX, fs == UPPER], [1 + li, 1 + nu], 0)
        post_idx = np.select([fs == FREE, np.isin(fs, (UPPER, BOX)), fs == FIX, fs == LOWER],
                             [0, 1 + ui, 1 + nu + li, 1 + 2 * nu + li])
        emit(self.out, k, lambda a, z: [(pre, pre_idx[a:z]), (self.names, sel[a:z]),
                                        (post, post_idx[a:z])])

    def integers(self) -> None:
        """``General`` and ``Binary`` sections, a few names per line."""
        for title, mask in ((b"General\n", self.f.intlike & ~self.binary), (b"Binary\n", self.binary)):
            sel = np.flatnonzero(mask)
            if not len(sel):
                continue
            self.out.write(title)
            per_line = max(1, LINE_WIDTH // (self.names.width + 1))
            sep = Table.of(["", "\n"])
            brk = ((np.arange(len(sel)) % per_line == per_line - 1)
                   | (np.arange(len(sel)) == len(sel) - 1)).astype(np.int64)
            emit(self.out, len(sel), lambda a, z: [b" ", (self.names, sel[a:z]), (sep, brk[a:z])])
