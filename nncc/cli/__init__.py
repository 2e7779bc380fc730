"""The ``nncc`` command: argument parsing and printing only, one module per command group.

:mod:`~nncc.cli.commands` holds the parser and the ``.nn`` commands (check,
compile, solve, decode, solvers), :mod:`~nncc.cli.verify` verify and supports,
:mod:`~nncc.cli.architecture` the architecture commands,
:mod:`~nncc.cli.data` the dataset commands, :mod:`~nncc.cli.batch` batch.
The work is done in :mod:`nncc.pipeline`; modules load on first use, so that
``nncc --help`` starts without numpy.
"""
from .commands import main

__all__ = ["main"]
