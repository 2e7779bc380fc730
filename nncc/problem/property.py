"""A verification property: the unsafe set of a VNN-LIB file, as a union of boxes with rows.

A VNN-LIB property describes the *unsafe* set: inputs ``x`` and outputs
``y = f(x)`` that violate the specification. nncc keeps it in disjunctive
normal form: a list of :class:`Disjunct`, each an input box ``[lo, hi]``,
optional linear rows over the inputs (``A x >= b``) and linear rows over the
outputs (``C y >= d``). The property is violated (``sat``) when some input
of some disjunct satisfies all its rows; it holds (``unsat``) when no
disjunct can be reached.

Strict rows (``<``, ``>``) keep a flag: a proof of ``unsat`` uses their
closure (``>=``, which is sound: if the closed set is unreachable so is the
open one), a counterexample must satisfy them strictly in the float64
forward pass (see :mod:`nncc.checks.counterexample`).

Values are in the units the network file takes (the ONNX input tensor; for
NNet the raw, unnormalised inputs, since the importer folds the header's
normalisation into the first layer).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Disjunct:
    """One conjunction of the unsafe set: ``lo <= x <= hi``, ``A x >= b``, ``C y >= d``
    (``>`` where the matching ``*_strict`` flag is set)."""

    lo: np.ndarray
    hi: np.ndarray
    lo_strict: np.ndarray
    hi_strict: np.ndarray
    A: np.ndarray  # (p, n_inputs)
    b: np.ndarray
    a_strict: np.ndarray
    C: np.ndarray  # (m, n_outputs)
    d: np.ndarray
    c_strict: np.ndarray
    where: str = ""  # file:line:col of the conjunction, for messages

    def box_empty(self) -> bool:
        return bool(np.any(self.lo > self.hi) or np.any((self.lo == self.hi) & (self.lo_strict
                                                                                 | self.hi_strict)))

    def unbounded_inputs(self) -> np.ndarray:
        return np.flatnonzero(~(np.isfinite(self.lo) & np.isfinite(self.hi)))

    def describe(self) -> str:
        return f"{len(self.d)} output rows, {len(self.b)} input rows"


@dataclass
class Property:
    """A VNN-LIB property: ``disjuncts`` whose union is the unsafe set."""

    path: str
    n_inputs: int
    n_outputs: int
    disjuncts: list[Disjunct] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # For a property restated by nncc (e.g. over the logits before a final softmax,
    # nncc.problem.output_softmax): the user's own, which a counterexample must meet.
    original: "Property | None" = None
    # True for a property nncc restated over the logits before a final softmax
    logits: bool = False
    # inputs whose values must be integers (VNN-LIB 2.0 integer declarations), or None
    integer_inputs: np.ndarray | None = None

    @property
    def has_strict(self) -> bool:
        return any(d.lo_strict.any() or d.hi_strict.any() or d.a_strict.any() or d.c_strict.any()
                   for d in self.disjuncts)

    def check_network(self, net) -> None:
        """Raise InputError when the network's sizes differ from the property's."""
        from ..errors import InputError
        if net.n_inputs != self.n_inputs or net.n_outputs != self.n_outputs:
            raise InputError(f"{self.path}: the property declares {self.n_inputs} inputs (X_i) and "
                             f"{self.n_outputs} outputs (Y_j); network '{net.name}' has "
                             f"{net.n_inputs} inputs and {net.n_outputs} outputs")

    def restrict_to(self, box, clips: bool = False) -> "Property":
        """The property with every disjunct's box intersected with ``box`` (lo, hi), the
        box a network is defined on; disjuncts left empty are dropped.

        ``clips``: the network clips its input into ``box`` (NNet), so an input outside it
        is a real input with the outputs of its clipped value: each box becomes its image
        under the clip (the intersection, or the nearest face of ``box`` where they are
        disjoint) and nothing is dropped; :attr:`original` keeps the user's boxes, which a
        counterexample is checked in (``check_counterexample`` clips as the network does).
        Input rows are kept as they are: over a box that reaches outside ``box`` they are
        not exact (:meth:`clip_loses`)."""
        lo, hi = (np.asarray(v, float) for v in box)
        out = []
        for d in self.disjuncts:
            if clips:
                nlo, nhi = np.clip(d.lo, lo, hi), np.clip(d.hi, lo, hi)
                nd = Disjunct(nlo, nhi, d.lo_strict & (d.lo >= lo) & (d.lo <= hi),
                              d.hi_strict & (d.hi <= hi) & (d.hi >= lo), d.A, d.b, d.a_strict,
                              d.C, d.d, d.c_strict, d.where)
            else:
                nd = Disjunct(np.maximum(d.lo, lo), np.minimum(d.hi, hi), d.lo_strict & (d.lo >= lo),
                              d.hi_strict & (d.hi <= hi), d.A, d.b, d.a_strict, d.C, d.d,
                              d.c_strict, d.where)
            if not nd.box_empty():
                out.append(nd)
        original = self.original or (self if clips else None)
        return Property(self.path, self.n_inputs, self.n_outputs, out, list(self.notes),
                        original, self.logits, self.integer_inputs)

    def clip_loses(self, box) -> bool:
        """Would clipping into ``box`` make some disjunct with input rows inexact (its box
        reaches outside ``box``, where the rows hold of the input, not of its clip)?"""
        lo, hi = (np.asarray(v, float) for v in box)
        return any(len(d.b) and (np.any(d.lo < lo) or np.any(d.hi > hi)) for d in self.disjuncts)


def box_property(lo, hi, C, d, *, strict: bool = False, n_outputs: int | None = None,
                 path: str = "<numpy>") -> Property:
    """The unsafe set ``lo <= x <= hi`` and ``C y >= d`` (``>`` with ``strict``) as a
    :class:`Property`, from numpy arrays: ``lo`` / ``hi`` one value per network input
    (flattened in C order), ``C`` (m, n_outputs) and ``d`` (m,). A list of ``C`` matrices (or a 3-D array) with a list
    of ``d`` vectors is a union: one disjunct per pair, all over the same box. ``n_outputs`` is needed
    only when every ``C`` has no rows. Raises InputError for shapes that do not fit."""
    from ..errors import InputError
    lo, hi = np.atleast_1d(np.asarray(lo, float)).ravel(), np.atleast_1d(np.asarray(hi, float)).ravel()
    if lo.shape != hi.shape:
        raise InputError(f"{path}: the box's lo has {lo.size} values and hi {hi.size}")
    if np.isnan(lo).any() or np.isnan(hi).any():
        raise InputError(f"{path}: the box has NaN bounds")
    union = (isinstance(C, np.ndarray) and C.ndim == 3) or (
        isinstance(C, (list, tuple)) and len(C) > 0 and all(np.ndim(c) == 2 for c in C))
    if union and (np.isscalar(d) or len(C) != len(d)):
        raise InputError(f"{path}: a union needs as many d vectors as C matrices")
    pairs = list(zip(C, d)) if union else [(C, d)]
    if not pairs:
        raise InputError(f"{path}: no output rows (give C of shape (0, n_outputs) for an empty "
                         "set of rows)")
    out, n_out = [], n_outputs
    for k, (Ck, dk) in enumerate(pairs):
        Ck, dk = np.asarray(Ck, float), np.atleast_1d(np.asarray(dk, float)).ravel()
        if Ck.ndim == 1:
            Ck = Ck[None, :]
        if Ck.ndim != 2 or Ck.shape[0] != dk.size:
            raise InputError(f"{path}: output rows {k}: C has shape {Ck.shape} and d "
                             f"{dk.size} values; C must be (m, n_outputs) and d (m,)")
        if n_out is None and Ck.shape[0]:
            n_out = Ck.shape[1]
        if Ck.shape[0] and Ck.shape[1] != n_out:
            raise InputError(f"{path}: output rows {k} have {Ck.shape[1]} columns, not {n_out}")
        if not (np.isfinite(Ck).all() and np.isfinite(dk).all()):
            raise InputError(f"{path}: output rows {k} are not finite")
        n = lo.size
        out.append(Disjunct(lo.copy(), hi.copy(), np.zeros(n, bool), np.zeros(n, bool),
                            np.zeros((0, n)), np.zeros(0), np.zeros(0, bool),
                            Ck.reshape(-1, n_out or 0), dk, np.full(dk.size, bool(strict)),
                            f"{path}: disjunct {k}"))
    if n_out is None:
        raise InputError(f"{path}: every C is empty: say n_outputs")
    disjuncts = [dj for dj in out if not dj.box_empty()]
    return Property(path, lo.size, int(n_out), disjuncts)


def robustness_property(x0, epsilon: float, label: int, n_outputs: int, lo=None, hi=None,
                        path: str = "<robustness>") -> Property:
    """Local robustness as an unsafe set: some input within ``epsilon`` of ``x0``
    (L-infinity, within ``[lo, hi]`` where given) where another output reaches the
    ``label``'s (``y_j >= y_label`` for some ``j``: a tie counts as unsafe)."""
    from ..errors import InputError
    x0 = np.asarray(x0, float).ravel()
    if not (np.isfinite(epsilon) and epsilon >= 0):
        raise InputError(f"{path}: epsilon must be a finite number >= 0, got {epsilon}")
    if not 0 <= int(label) < n_outputs:
        raise InputError(f"{path}: label {label} is not one of the {n_outputs} outputs")
    blo, bhi = x0 - epsilon, x0 + epsilon
    if lo is not None:
        blo = np.maximum(blo, np.broadcast_to(np.asarray(lo, float), x0.shape))
    if hi is not None:
        bhi = np.minimum(bhi, np.broadcast_to(np.asarray(hi, float), x0.shape))
    Cs, ds = [], []
    for j in range(n_outputs):
        if j != int(label):
            row = np.zeros((1, n_outputs))
            row[0, j], row[0, int(label)] = 1.0, -1.0
            Cs.append(row)
            ds.append(np.zeros(1))
    return box_property(blo, bhi, Cs, ds, n_outputs=n_outputs, path=path)


# the networks a long-lived process keeps (nncc batch's workers), by file and stamp
_kept: "dict | None" = None
KEEP_NETWORKS = 64


def keep_loaded_networks() -> None:
    """From now on, :func:`load_network` keeps the last :data:`KEEP_NETWORKS` networks
    it read, by path, modification time and size: a batch worker that runs many
    properties of one network reads it once. (Nothing nncc runs changes a network
    after it is read.)"""
    global _kept
    if _kept is None:
        _kept = {}


def load_network(path: str, graph: bool = False):
    """A network file by its extension: ``.onnx`` or ``.nnet``. ``graph``: an ONNX
    network that is not piecewise linear is kept as its graph
    (:func:`~nncc.problem.onnx_graph.load_onnx_or_graph`; for ``nncc verify`` only)."""
    if _kept is None:
        return _load_network(path, graph)
    import os
    try:
        st = os.stat(path)
    except OSError:
        return _load_network(path, graph)
    key = (os.path.abspath(path), st.st_mtime_ns, st.st_size, graph)
    if key not in _kept:
        if len(_kept) >= KEEP_NETWORKS:
            _kept.pop(next(iter(_kept)))
        _kept[key] = _load_network(path, graph)
    else:
        _kept[key] = _kept.pop(key)   # the most recent last
    return _kept[key]


def _load_network(path: str, graph: bool):
    from ..errors import InputError
    p = str(path)
    if p.lower().endswith(".onnx"):
        if graph:
            from .onnx_graph import load_onnx_or_graph
            return load_onnx_or_graph(p)
        from .onnx_import import load_onnx
        return load_onnx(p)
    if p.lower().endswith(".nnet"):
        from .nnet_import import load_nnet
        return load_nnet(p)
    raise InputError(f"'{p}': a network must be an .onnx or .nnet file")


def bound_free_inputs(net, prop: Property) -> tuple[Property, list[int]]:
    """Inputs that some disjunct leaves without a lower or upper bound (VNN-LIB lets an
    input range over all reals): one the network never reads and no input row
    names is fixed at a value of its range (the outputs do not depend on it);
    returns the property and the flat indices of the unbounded inputs the network
    reads."""
    if all(np.isfinite(d.lo).all() and np.isfinite(d.hi).all() for d in prop.disjuncts):
        return prop, []
    used = np.ones(net.n_inputs, bool)
    first = net.layers[0] if net.layers else None
    if first is not None and hasattr(first, "W"):
        W = first.W
        used = (np.asarray(abs(W).sum(axis=0)).ravel() > 0)
    elif first is None:
        used[:] = True   # the outputs are the inputs
    out, free = [], set()
    for d in prop.disjuncts:
        lo, hi = d.lo.copy(), d.hi.copy()
        los, his = d.lo_strict.copy(), d.hi_strict.copy()
        in_rows = np.any(d.A != 0, axis=0) if len(d.b) else np.zeros(lo.size, bool)
        for i in np.flatnonzero(~(np.isfinite(lo) & np.isfinite(hi))):
            if used[i] or in_rows[i]:
                free.add(int(i))
                continue
            val = lo[i] + 1.0 if np.isfinite(lo[i]) else (hi[i] - 1.0 if np.isfinite(hi[i]) else 0.0)
            lo[i] = hi[i] = val
            los[i] = his[i] = False
        out.append(Disjunct(lo, hi, los, his, d.A, d.b, d.a_strict, d.C, d.d, d.c_strict, d.where))
    return (Property(prop.path, prop.n_inputs, prop.n_outputs, out, list(prop.notes),
                     prop.original, prop.logits, prop.integer_inputs), sorted(free))
