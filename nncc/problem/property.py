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
forward pass (see :mod:`nncc.roundtrip.counterexample`).

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
        self._check_dropped_softmax(net)

    def _check_dropped_softmax(self, net) -> None:
        """Raise InputError when the network's final softmax was dropped (its outputs are
        the logits) and an output row would not mean the same on the logits: after a
        Softmax only the comparisons ``a y_i - a y_j >= 0`` (or ``>``) keep their truth,
        after a LogSoftmax (a shift of every output by one amount) every row whose
        coefficients sum to zero."""
        from ..errors import InputError
        dropped = [n for n in getattr(net, "notes", []) if "oftmax" in n and "dropped" in n]
        if not dropped:
            return
        log = all("LogSoftmax" in n for n in dropped)
        for k, d in enumerate(self.disjuncts):
            for r in range(len(d.d)):
                c = np.asarray(d.C[r], float)
                nz = np.flatnonzero(c)
                if log:
                    ok = abs(float(c.sum())) <= 1e-12 * (1.0 + float(np.abs(c).sum()))
                else:
                    ok = nz.size == 0 or (nz.size == 2 and c[nz[0]] == -c[nz[1]] and d.d[r] == 0)
                if not ok:
                    op = "LogSoftmax" if log else "Softmax"
                    raise InputError(
                        f"{self.path}: output row {r + 1} of disjunct {k + 1} "
                        f"({d.where or 'the property'}) is not a comparison between two outputs, "
                        f"and network '{net.name}' ends with a {op} that was dropped (its outputs "
                        f"are the logits): the answer would be about the logits, not the {op}'s "
                        f"outputs; nncc accepts only rows " + (
                            "whose coefficients sum to zero" if log else "Y_i >= Y_j") +
                        " on such a network")

    def restrict_to(self, box) -> "Property":
        """The property with every disjunct's box intersected with ``box`` (lo, hi), e.g.
        an NNet network's input clip box (outside it the network sees the clipped
        input, so the outputs over the intersection are all the outputs); disjuncts
        left empty are dropped."""
        lo, hi = (np.asarray(v, float) for v in box)
        out = []
        for d in self.disjuncts:
            nd = Disjunct(np.maximum(d.lo, lo), np.minimum(d.hi, hi), d.lo_strict & (d.lo >= lo),
                          d.hi_strict & (d.hi <= hi), d.A, d.b, d.a_strict, d.C, d.d, d.c_strict,
                          d.where)
            if not nd.box_empty():
                out.append(nd)
        return Property(self.path, self.n_inputs, self.n_outputs, out, list(self.notes))


def load_network(path: str):
    """A network file by its extension: ``.onnx`` or ``.nnet``."""
    from ..errors import InputError
    p = str(path)
    if p.lower().endswith(".onnx"):
        from .onnx_import import load_onnx
        return load_onnx(p)
    if p.lower().endswith(".nnet"):
        from .nnet_import import load_nnet
        return load_nnet(p)
    raise InputError(f"'{p}': a network must be an .onnx or .nnet file")
