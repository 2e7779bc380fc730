"""The solver-neutral constraint IR.

A :class:`Program` holds typed variables in named groups (``h.weight`` of
shape (4, 2) is eight real variables) and constraint blocks stored
in bulk as numpy arrays, never one Python object per term, so that a
training query over thousands of samples builds in milliseconds.

Variables are numbered globally, ``0 .. n_vars-1``; a group is a contiguous
range. Blocks refer to variables by these indices.

Blocks:

* :class:`LinearBlock` -- rows ``sum_k a_k x_k  (<= >= = < >)  rhs`` in CSR form.
* :class:`QuadraticBlock` -- linear rows plus products of two variables
  (nonlinear: QF_NRA in SMT-LIB, not expressible in MPS / LP).
* :class:`ReluBlock` -- ``out = max(0, inp)`` element-wise.
* :class:`BoolProductBlock` -- ``out = b * x`` with ``b`` Boolean.
* :class:`NonzeroBlock` -- ``x != 0``.

MILP back ends take only linear blocks over real / int / bool variables with
non-strict rows; the passes in :mod:`nncc.passes` lower the other blocks
(big-M from bounds, exact product linearisation, epsilon for strict rows).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

REAL, INT, BOOL = "real", "int", "bool"
KINDS = (REAL, INT, BOOL)

# Row senses, stored as int8 codes.
LE, GE, EQ, LT, GT = 0, 1, 2, 3, 4
SENSE_TEXT = {LE: "<=", GE: ">=", EQ: "=", LT: "<", GT: ">"}
STRICT = (LT, GT)

_NAME_RE = re.compile(r"[^A-Za-z0-9_]")


def sanitize(name: str) -> str:
    """A group's display name as a solver-safe prefix ``[A-Za-z][A-Za-z0-9_]*``."""
    s = _NAME_RE.sub("_", name)
    if not s or not s[0].isalpha():
        s = "v" + s
    return s


_INDEX_TAIL = re.compile(r"(_[0-9]+)+")


def _names_clash(p: str, q: str) -> bool:
    """Whether ``p_i_j`` style names of two prefixes can coincide."""
    if p == q:
        return True
    short, long_ = sorted((p, q), key=len)
    return long_.startswith(short) and _INDEX_TAIL.fullmatch(long_[len(short):]) is not None


@dataclass
class VarGroup:
    """A named, shaped block of variables with consecutive global indices."""

    name: str  # display name, e.g. "h.weight"
    shape: tuple[int, ...]
    kind: str
    offset: int
    prefix: str = ""  # solver-safe name prefix, e.g. "h_weight"

    @property
    def size(self) -> int:
        return int(math.prod(self.shape))

    def indices(self) -> np.ndarray:
        """Global indices of the group, shaped like the group."""
        return np.arange(self.offset, self.offset + self.size, dtype=np.int64).reshape(self.shape)

    def var_names(self) -> list[str]:
        """Solver-side names in index order: ``prefix_i_j`` (``prefix`` for a scalar)."""
        if not self.shape:
            return [self.prefix]
        idx = np.indices(self.shape).reshape(len(self.shape), -1).T
        p = self.prefix
        return [p + "_" + "_".join(map(str, row)) for row in idx.tolist()]

    def to_json(self) -> dict:
        return {"name": self.name, "prefix": self.prefix, "shape": list(self.shape),
                "kind": self.kind, "offset": self.offset}

    @classmethod
    def from_json(cls, d: dict) -> "VarGroup":
        return cls(d["name"], tuple(d["shape"]), d["kind"], d["offset"], d["prefix"])


@dataclass
class LinearBlock:
    """Rows ``A x (sense) rhs`` with ``A`` in CSR arrays (column = global variable index)."""

    name: str
    indptr: np.ndarray  # int64, (m+1,)
    indices: np.ndarray  # int64, (nnz,)
    data: np.ndarray  # float64, (nnz,)
    sense: np.ndarray  # int8, (m,)
    rhs: np.ndarray  # float64, (m,)

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    @property
    def nnz(self) -> int:
        return len(self.indices)

    @classmethod
    def from_dense_rows(cls, name: str, cols: np.ndarray, coefs: np.ndarray,
                        sense, rhs, drop_zeros: bool = False) -> "LinearBlock":
        """Rows of equal length: ``cols`` and ``coefs`` of shape (m, k).

        Each row's terms are stored in increasing column order (writers and
        solvers then never meet a repeated column out of place). With
        ``drop_zeros`` the terms whose coefficient is exactly 0 are left out.
        The arrays may be taken over without a copy: pass temporaries.
        """
        cols = np.ascontiguousarray(cols, dtype=np.int64)
        coefs = np.ascontiguousarray(np.broadcast_to(np.asarray(coefs, dtype=np.float64), cols.shape))
        m, k = cols.shape
        if k > 1 and not np.all(cols[:, 1:] > cols[:, :-1]):
            order = np.argsort(cols, axis=1, kind="stable")
            cols = np.take_along_axis(cols, order, axis=1)
            coefs = np.take_along_axis(coefs, order, axis=1)
        sense = np.broadcast_to(np.asarray(sense, dtype=np.int8), (m,)).copy()
        rhs = np.broadcast_to(np.asarray(rhs, dtype=np.float64), (m,)).copy()
        if drop_zeros:
            keep = coefs != 0.0
            if not keep.all():
                indptr = np.zeros(m + 1, dtype=np.int64)
                np.cumsum(keep.sum(axis=1), out=indptr[1:])
                return cls(name, indptr, cols[keep], coefs[keep], sense, rhs)
        return cls(name, np.arange(0, m * k + 1, k, dtype=np.int64), cols.reshape(-1),
                   coefs.reshape(-1), sense, rhs)

    @classmethod
    def concat(cls, name: str, blocks: Sequence["LinearBlock"]) -> "LinearBlock":
        """One block holding the rows of several, in order."""
        ptrs, off = [np.zeros(1, dtype=np.int64)], 0
        for b in blocks:
            ptrs.append(b.indptr[1:] + off)
            off += b.nnz
        return cls(name, np.concatenate(ptrs),
                   np.concatenate([b.indices for b in blocks]) if blocks else np.zeros(0, np.int64),
                   np.concatenate([b.data for b in blocks]) if blocks else np.zeros(0),
                   np.concatenate([b.sense for b in blocks]) if blocks else np.zeros(0, np.int8),
                   np.concatenate([b.rhs for b in blocks]) if blocks else np.zeros(0))

    def row_activity(self, x: np.ndarray) -> np.ndarray:
        """``A x`` for a full value vector ``x``."""
        prod = self.data * x[self.indices]
        out = np.add.reduceat(prod, self.indptr[:-1]) if self.nnz else np.zeros(self.n_rows)
        out[self.indptr[:-1] == self.indptr[1:]] = 0.0  # reduceat quirk on empty rows
        return out


@dataclass
class QuadraticBlock:
    """Linear rows plus product terms ``q_val * x[q_i] * x[q_j]`` added to row ``q_row``."""

    name: str
    linear: LinearBlock
    q_row: np.ndarray  # int64
    q_i: np.ndarray
    q_j: np.ndarray
    q_val: np.ndarray  # float64

    @property
    def n_rows(self) -> int:
        return self.linear.n_rows

    @property
    def nnz(self) -> int:
        return self.linear.nnz + len(self.q_row)

    def row_activity(self, x: np.ndarray) -> np.ndarray:
        act = self.linear.row_activity(x)
        np.add.at(act, self.q_row, self.q_val * x[self.q_i] * x[self.q_j])
        return act


@dataclass
class ReluBlock:
    """``out[k] = max(0, inp[k])``."""

    name: str
    out: np.ndarray
    inp: np.ndarray

    @property
    def n_rows(self) -> int:
        return len(self.out)

    @property
    def nnz(self) -> int:
        return 2 * len(self.out)


@dataclass
class BoolProductBlock:
    """``out[k] = b[k] * x[k]`` with ``b`` Boolean (0 / 1) and ``x`` bounded."""

    name: str
    out: np.ndarray
    b: np.ndarray
    x: np.ndarray

    @property
    def n_rows(self) -> int:
        return len(self.out)

    @property
    def nnz(self) -> int:
        return 3 * len(self.out)


@dataclass
class NonzeroBlock:
    """``x[k] != 0``; in MILP ``|x[k]| >= eps`` (see :mod:`nncc.passes.nonzero_big_m`)."""

    name: str
    x: np.ndarray
    eps: float = 1e-3

    @property
    def n_rows(self) -> int:
        return len(self.x)

    @property
    def nnz(self) -> int:
        return len(self.x)


Block = LinearBlock | QuadraticBlock | ReluBlock | BoolProductBlock | NonzeroBlock


@dataclass
class Objective:
    """``sense`` in {"min", "max"} of ``sum coef * x[idx] + sum sq_coef * x[sq_idx]**2 + constant``.

    The squares (an L2 regulariser) make a convex quadratic objective when their
    coefficients are >= 0 and the sense is "min": highs takes it from MPS / LP as a
    continuous QP, z3 as ``(minimize ...)`` over QF_NRA; elsewhere
    :mod:`nncc.passes.square_tangents` replaces them by tangent lines.
    """

    sense: str
    idx: np.ndarray
    coef: np.ndarray
    constant: float = 0.0
    sq_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    sq_coef: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def quadratic(self) -> bool:
        return bool(len(self.sq_idx))

    def value(self, x: np.ndarray) -> float:
        return float(np.dot(self.coef, x[self.idx]) + np.dot(self.sq_coef, x[self.sq_idx] ** 2)
                     + self.constant)


@dataclass
class Logic:
    """What a program needs from a back end."""

    has_real: bool
    has_int: bool
    nonlinear: bool  # products of two non-Boolean unknowns
    smt: str  # the smallest SMT-LIB logic that holds, e.g. "QF_LRA"
    milp: bool  # expressible as MPS / LP after the standard passes
    why_not_milp: str = ""
    quadratic_objective: bool = False  # squares in the objective (QP; NRA in SMT-LIB)


@dataclass
class Program:
    """Variables (in groups) with bounds, constraint blocks and an optional objective."""

    groups: list[VarGroup] = field(default_factory=list)
    lb: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ub: np.ndarray = field(default_factory=lambda: np.zeros(0))
    kinds: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))  # index into KINDS
    blocks: list = field(default_factory=list)
    objective: Objective | None = None
    name: str = "nncc"
    # groups whose values the user wants back (the solver is asked for these only);
    # empty means all
    answer_groups: list[str] = field(default_factory=list)

    # -- variables -------------------------------------------------------
    @property
    def n_vars(self) -> int:
        return len(self.lb)

    def add_vars(self, name: str, shape: int | Iterable[int], kind: str = REAL,
                 lb=-np.inf, ub=np.inf) -> np.ndarray:
        """Add a group; return its global indices shaped like ``shape``."""
        if kind not in KINDS:
            raise ValueError(f"unknown variable kind {kind!r}")
        if any(g.name == name for g in self.groups):
            raise ValueError(f"variable group {name!r} exists already")
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
        prefix = sanitize(name)
        base, k = prefix, 1
        # a prefix must not equal another, nor read as another's prefix plus indices
        # ("h_2" and "h" of rank 2 would both name "h_2_3")
        while any(_names_clash(prefix, g.prefix) for g in self.groups):
            k += 1
            prefix = f"{base}v{k}"
        g = VarGroup(name, shape, kind, self.n_vars, prefix)
        n = g.size
        if kind == BOOL:
            lb, ub = 0.0, 1.0
        self.lb = np.concatenate([self.lb, np.broadcast_to(np.asarray(lb, float), shape).reshape(-1)])
        self.ub = np.concatenate([self.ub, np.broadcast_to(np.asarray(ub, float), shape).reshape(-1)])
        self.kinds = np.concatenate([self.kinds, np.full(n, KINDS.index(kind), dtype=np.int8)])
        self.groups.append(g)
        return g.indices()

    def group(self, name: str) -> VarGroup:
        for g in self.groups:
            if g.name == name:
                return g
        raise KeyError(name)

    def group_values(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Split a full value vector into arrays by group name."""
        return {g.name: np.asarray(x[g.offset:g.offset + g.size]).reshape(g.shape) for g in self.groups}

    def var_names(self) -> list[str]:
        """Solver-side names of all variables, in index order."""
        out: list[str] = []
        for g in self.groups:
            out.extend(g.var_names())
        return out

    def add(self, block) -> None:
        self.blocks.append(block)

    # -- analysis --------------------------------------------------------
    def logic(self) -> Logic:
        kinds = set(self.kinds.tolist())
        has_int = KINDS.index(INT) in kinds
        has_real = KINDS.index(REAL) in kinds or not kinds
        nonlinear = False
        for b in self.blocks:
            if isinstance(b, QuadraticBlock) and len(b.q_row):
                bi = self.kinds[b.q_i] == KINDS.index(BOOL)
                bj = self.kinds[b.q_j] == KINDS.index(BOOL)
                if not np.all(bi | bj):
                    nonlinear = True
        arith = ("IRA" if has_int and has_real else "IA" if has_int else "RA")
        quadratic = self.objective is not None and self.objective.quadratic
        # the objective's squares are written as products in SMT-LIB: nonlinear there,
        # while MPS / LP state them in a quadratic objective section
        smt = "QF_" + ("N" if nonlinear or quadratic else "L") + arith
        why = ""
        if nonlinear:
            why = ("it multiplies two unknowns (" +
                   next(b.name for b in self.blocks if isinstance(b, QuadraticBlock) and len(b.q_row)) +
                   "), which MPS and LP cannot express")
        return Logic(has_real, has_int, nonlinear, smt, not nonlinear, why, quadratic)

    def stats(self) -> list[dict]:
        """Size per block: rows and nonzeros (for ``nncc check``)."""
        return [{"block": b.name, "type": type(b).__name__, "rows": b.n_rows, "nonzeros": b.nnz}
                for b in self.blocks]

    def var_counts(self) -> dict[str, int]:
        return {k: int(np.sum(self.kinds == i)) for i, k in enumerate(KINDS)}

    @property
    def nnz(self) -> int:
        return int(sum(b.nnz for b in self.blocks))

    @property
    def n_rows(self) -> int:
        return int(sum(b.n_rows for b in self.blocks))
