"""nncc: a neural-network constraint compiler.

Questions about neural networks, written in the small ``.nn`` language, are
lowered to SMT-LIB 2.6, free MPS or CPLEX LP, solved by z3, cvc5, cbc or
highs, and every answer is re-checked by a forward pass.

The Python API (see :mod:`nncc.api`): :func:`load`, :func:`lower`, :func:`compile`,
:func:`solve`, :func:`decode`, :func:`verify`; for trained networks given as
files or objects (scikit-learn, PyTorch, ONNX), :func:`network`, :func:`evaluate`,
:func:`maximize`, :func:`adversarial`, :func:`box_property`, :func:`robustness_property`.
"""
from __future__ import annotations

import typing

__all__ = ["Answer", "Compilation", "Verdict", "adversarial", "box_property", "compile",
           "decode", "evaluate", "load", "lower", "maximize", "network", "robustness_property",
           "solve", "verify", "write_target"]

if typing.TYPE_CHECKING:
    from .api import (Answer, Compilation, Verdict, adversarial, box_property, compile, decode,
                      evaluate, load, lower, maximize, network, robustness_property, solve,
                      verify, write_target)


def __getattr__(name: str):
    # The API (and numpy with it) is imported on first use, so that the
    # ``nncc`` command starts without it.
    if name in __all__ or name == "api":
        import importlib

        api = importlib.import_module(".api", __name__)
        return api if name == "api" else getattr(api, name)
    raise AttributeError(f"module 'nncc' has no attribute {name!r}")
