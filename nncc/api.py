"""The Python API: load a ``.nn`` file, compile a query to a file, solve it, decode answers.

>>> import nncc
>>> doc = nncc.load("examples/xor.nn")
>>> comp = nncc.compile(doc.query(), "smtlib", "xor.smt2")   # IR, symbol map, the file
>>> ans = nncc.solve(doc.query(), solver="z3")
>>> ans.status, ans.check.accuracy, ans.params["h.weight"].shape
('solution', 1.0, (4, 2))

Queries are training queries (:class:`~nncc.problem.query.TrainQuery`) and
questions about trained networks (``EvaluateQuery``, ``MaximizeQuery``,
``AdversarialQuery``, ``VerifyQuery``); every answer comes back checked by a
forward pass. VNN-LIB properties of ONNX / NNet networks go through
:func:`verify`. The command line (:mod:`nncc.cli`) is a thin layer over these
functions; the work is done in :mod:`nncc.pipeline`.

========================  =====================================================
``load(path)``            parse and check a ``.nn`` file: a ``Document`` of queries
``lower(query, target)``  encode and apply the target's passes (no file)
``compile(query, ...)``   lower and write ``.smt2`` / ``.mps`` / ``.lp`` + symbol map
``solve(query, ...)``     compile, run a solver, map back, re-check: an ``Answer``
``decode(map, output)``   read a solver run by hand back into a checked ``Answer``
``verify(net, prop)``     a VNN-LIB property: a ``Verdict``, a view of an ``Answer``
``write_target(comp, f)`` write a ``Compilation`` to a binary stream
========================  =====================================================
"""
from __future__ import annotations

from .pipeline.answer import Answer, decode
from .pipeline.compile import Compilation, compile, lower, write_target
from .pipeline.solve import solve
from .pipeline.verify import Verdict, verify
from .problem.query import Document

__all__ = ["Answer", "Compilation", "Verdict", "compile", "decode", "load", "lower", "solve",
           "verify", "write_target"]


def load(path: str, text: str | None = None) -> Document:
    """Parse and check a ``.nn`` file; raise :class:`~nncc.errors.InputError` on bad input."""
    from .frontend.semantics import load_document
    return load_document(path, text)

