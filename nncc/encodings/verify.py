"""A verification property as a MILP / SMT program: is some input of the unsafe set reachable?

Two encodings of a property with several disjuncts (measured in
docs/solver-behaviour.md):

* :func:`encode_disjunct` -- one program per disjunct: the disjunct's input
  box, the network (big-M-ready ReLU blocks with bounds over that box), its
  input rows ``A x >= b`` and output rows ``C y >= d``. Feasible means
  violated.
* :func:`encode_disjunction` -- one program for all: the input box is the
  hull of the disjuncts' boxes, one binary ``z_k`` per disjunct with
  ``sum z_k >= 1``, and every row of disjunct ``k`` (its box bounds too)
  relaxed by a big-M from the hull's bounds when ``z_k = 0``.

Strict rows are written with their closure (``>=``): an ``unsat`` answer is
then a proof for the strict property too; ``strict=True`` keeps them strict
(the MILP passes turn them into ``>= d + epsilon``), used when a closed
answer lands exactly on a strict row's border.

No objective: the question is feasibility.
"""
from __future__ import annotations

import numpy as np

from ..ir.program import BOOL, GE, GT, REAL, LinearBlock, Program
from ..analysis.bounds import DEFAULT_BOUNDS, bounds_note, network_bounds
from ..errors import InputError
from ..problem.property import Disjunct, Property, bound_free_inputs
from .encoded import Encoded
from .fixed_network import encode_fixed_network


def _rows(prog: Program, name: str, vars_: np.ndarray, M: np.ndarray, rhs: np.ndarray,
          strict: np.ndarray, keep_strict: bool, z: int | None = None, big_m=None) -> None:
    """``M v >= rhs`` (``>`` where strict and ``keep_strict``); with ``z``:
    ``M v + big_m (1 - z) >= rhs``."""
    if len(rhs) == 0:
        return
    m, n = M.shape
    cols = np.tile(np.asarray(vars_, np.int64), (m, 1))
    coefs = np.asarray(M, float)
    rhs = np.asarray(rhs, float)
    if z is not None:
        cols = np.concatenate([cols, np.full((m, 1), z, np.int64)], 1)
        coefs = np.concatenate([coefs, -np.asarray(big_m, float)[:, None]], 1)
        rhs = rhs - np.asarray(big_m, float)
    # (LinearBlock.from_dense_rows puts every row's columns in increasing order)
    sense = np.where(strict & keep_strict, GT, GE).astype(np.int8)
    for s in (GE, GT):
        sel = sense == s
        if sel.any():
            prog.add(LinearBlock.from_dense_rows(f"{name}{'_strict' if s == GT else ''}",
                                                 cols[sel], coefs[sel], s, rhs[sel],
                                                 drop_zeros=True))


def encode_disjunct(net, prop: Property, k: int, bounds: str = "symbolic", time_budget: float = 10.0,
                    nb=None, strict: bool = False) -> Encoded:
    """The program of disjunct ``k``: feasible exactly when it is reachable."""
    d: Disjunct = prop.disjuncts[k]
    prog = Program(name=f"verify_{net.name}_{k}")
    x = prog.add_vars("input", (net.n_inputs,), REAL, d.lo, d.hi)
    nb = nb if nb is not None else network_bounds(net, d.lo, d.hi, bounds, time_budget)
    y = encode_fixed_network(prog, net, x, nb)
    out_group = prog.groups[-1].name
    _rows(prog, "input_rows", x, d.A, d.b, d.a_strict, strict)
    _rows(prog, "unsafe", y, d.C, d.d, d.c_strict, strict)
    if strict:  # strict box bounds as rows (a variable's bounds are closed)
        for mask, sign, val in ((d.lo_strict, 1.0, d.lo), (d.hi_strict, -1.0, d.hi)):
            i = np.flatnonzero(mask)
            if i.size:
                prog.add(LinearBlock.from_dense_rows("strict_box", x[i][:, None],
                                                     np.full((i.size, 1), sign), GT, sign * val[i]))
    prog.answer_groups = ["input", out_group]
    return Encoded(prog, {"kind": "verify", "input": "input", "output": out_group, "disjunct": k},
                   f"verify: disjunct {k + 1} of {len(prop.disjuncts)} of {prop.path} "
                   f"({d.describe()}), feasible = violated", [bounds_note(nb)])


def encode_disjunction(net, prop: Property, ks: list[int], bounds: str = "symbolic",
                       time_budget: float = 10.0) -> Encoded:
    """One program for the disjuncts ``ks`` with an indicator binary each (closed rows)."""
    ds = [prop.disjuncts[k] for k in ks]
    lo = np.min([d.lo for d in ds], axis=0)
    hi = np.max([d.hi for d in ds], axis=0)
    prog = Program(name=f"verify_{net.name}_or")
    x = prog.add_vars("input", (net.n_inputs,), REAL, lo, hi)
    nb = network_bounds(net, lo, hi, bounds, time_budget)
    y = encode_fixed_network(prog, net, x, nb)
    out_group = prog.groups[-1].name
    ylo, yhi = nb.output()
    z = prog.add_vars("disjunct", (len(ds),), BOOL)
    n = net.n_inputs
    eye = np.eye(n)
    for j, d in enumerate(ds):
        # box: x >= lo_k and -x >= -hi_k, relaxed to the hull when z_j = 0
        shrink_lo, shrink_hi = d.lo > lo, d.hi < hi
        if shrink_lo.any():
            _rows(prog, f"box{j}", x, eye[shrink_lo], d.lo[shrink_lo],
                  np.zeros(int(shrink_lo.sum()), bool), False, int(z[j]),
                  d.lo[shrink_lo] - lo[shrink_lo])
        if shrink_hi.any():
            _rows(prog, f"box{j}", x, -eye[shrink_hi], -d.hi[shrink_hi],
                  np.zeros(int(shrink_hi.sum()), bool), False, int(z[j]),
                  hi[shrink_hi] - d.hi[shrink_hi])
        if len(d.b):
            Ap, An = np.maximum(d.A, 0), np.minimum(d.A, 0)
            low = Ap @ lo + An @ hi
            _rows(prog, f"input_rows{j}", x, d.A, d.b, d.a_strict, False, int(z[j]),
                  np.maximum(d.b - low, 0.0))
        if len(d.d):
            Cp, Cn = np.maximum(d.C, 0), np.minimum(d.C, 0)
            low = Cp @ ylo + Cn @ yhi
            _rows(prog, f"unsafe{j}", y, d.C, d.d, d.c_strict, False, int(z[j]),
                  np.maximum(d.d - low, 0.0) * (1 + 1e-9) + 1e-9)
    prog.add(LinearBlock.from_dense_rows("some_disjunct", z[None, :], np.ones((1, len(ds))), GE, 1.0))
    prog.answer_groups = ["input", out_group]
    return Encoded(prog, {"kind": "verify", "input": "input", "output": out_group},
                   f"verify: {len(ds)} disjuncts of {prop.path} with indicator binaries, "
                   "feasible = violated", [bounds_note(nb)])


def encode_property(net, prop: Property, strict: bool = False, bounds: str = DEFAULT_BOUNDS,
                    time_budget: float = 10.0) -> Encoded:
    """One program for the whole property: the disjunct's, or one with a binary per
    disjunct when there are several."""
    if len(prop.disjuncts) == 1:
        return encode_disjunct(net, prop, 0, bounds, time_budget, strict=strict)
    return encode_disjunction(net, prop, list(range(len(prop.disjuncts))), bounds, time_budget)


def encode_verify_query(query, strict: bool = False, bounds: str = DEFAULT_BOUNDS,
                        time_budget: float = 10.0) -> Encoded:
    """The program of a verify query written to a file (``nncc compile``): the
    property within the network's input box (its clip box, where the network
    clips), every input bounded; an ``InputError`` where no exact program
    exists (``nncc verify`` answers those by its searches)."""
    net, prop = query.network, query.property
    if getattr(net, "input_box", None) is not None:
        if getattr(net, "input_clip", False) and prop.clip_loses(net.input_box):
            raise InputError(f"{prop.path}: a disjunct has input rows and reaches outside the "
                             "network's clip box, where the rows speak of the input and the "
                             "network sees its clip; nncc cannot compile it exactly")
        prop = prop.restrict_to(net.input_box, clips=getattr(net, "input_clip", False))
    if not prop.disjuncts:
        raise InputError(f"{prop.path}: the unsafe set is empty (the property holds); "
                         "nothing to compile")
    prop, free = bound_free_inputs(net, prop)
    if free:
        raise InputError(f"{prop.path}: input X_{free[0]} has no lower or upper bound and the "
                         "network reads it; a MILP needs bounded inputs (nncc verify searches "
                         "such properties for counterexamples)")
    enc = encode_property(net, prop, strict, bounds, time_budget)
    enc.notes.append(f"{len(prop.disjuncts)} disjunct{'s' if len(prop.disjuncts) != 1 else ''}: "
                     "feasible means the property is violated")
    return enc
