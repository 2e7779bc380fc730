"""Errors a user can cause or meet, each with its documented exit code.

Exit codes (also in README.md):

====  =====================================================================
0     an answer was found and passed the forward-pass check
1     proven: no answer exists (the solver said unsat / infeasible)
2     bad input: usage, syntax, names, shapes, data files, target choice
3     unknown: the solver gave up or hit the time limit without an answer
4     solver failure: missing binary, crash, unreadable output
5     the solver's answer failed the forward-pass check (nothing written)
70    internal error (a bug in nncc: please report it)
130   interrupted (Ctrl-C); child processes are killed
====  =====================================================================
"""
from __future__ import annotations

from dataclasses import dataclass

EXIT_FOUND = 0
EXIT_NO_ANSWER = 1
EXIT_BAD_INPUT = 2
EXIT_UNKNOWN = 3
EXIT_SOLVER_FAILED = 4
EXIT_CHECK_FAILED = 5
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


class NnccError(Exception):
    """Base of every error that ends in a one-line message and an exit code."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def render(self) -> str:
        return self.message


@dataclass(frozen=True)
class SourcePos:
    """A position in a source file (1-based line and column)."""

    file: str
    line: int
    column: int
    text: str = ""  # the whole source line, for the caret display

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class InputError(NnccError):
    """Bad input: the user's file, data or command line is wrong."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, pos: SourcePos | None = None):
        super().__init__(message)
        self.pos = pos

    def render(self) -> str:
        if self.pos is None:
            return self.message
        head = f"{self.pos}: {self.message}"
        if not self.pos.text:
            return head
        caret = " " * (max(self.pos.column, 1) - 1) + "^"
        return f"{head}\n    {self.pos.text}\n    {caret}"


class TargetError(InputError):
    """The chosen target format cannot express the query (the message says which can)."""


class SolverError(NnccError):
    """A solver is missing, crashed, or printed output nncc cannot read."""

    exit_code = EXIT_SOLVER_FAILED


class CheckFailed(NnccError):
    """A solver's answer broke a constraint beyond tolerance in the forward pass."""

    exit_code = EXIT_CHECK_FAILED
