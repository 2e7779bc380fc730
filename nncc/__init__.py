"""nncc: a neural-network constraint compiler.

Questions about neural networks, written in the small ``.nn`` language, are
lowered to SMT-LIB 2.6, free MPS or CPLEX LP, solved by z3, cvc5, cbc or
highs, and every answer is re-checked by a forward pass.

The Python API (see :mod:`nncc.api`): :func:`load`, :func:`compile`,
:func:`solve`, :func:`decode`.
"""
from .api import Answer, Compilation, compile, decode, load, lower, solve

__all__ = ["Answer", "Compilation", "compile", "decode", "load", "lower", "solve"]
