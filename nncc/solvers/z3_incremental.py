"""One long-lived ``z3 -in`` process fed over a pipe, for enumerating models.

The formula is sent once; then each round asks ``(check-sat)``, reads the
values of the decision variables, and asserts a clause that blocks exactly
that assignment, all inside one ``(push 1)`` scope, so the solver keeps its
learnt clauses between solutions (no restart per solution). Every answer is
followed by an ``(echo ...)`` marker so that the reader knows where it ends.

The process has its own process group and is killed with its children
(:func:`nncc.solvers.runner.kill_group`) on exit, error or Ctrl-C.
"""
from __future__ import annotations

import re
import subprocess
import threading
import time
from typing import Iterator

from ..errors import SolverError
from ..writers.smtlib_terms import term_text
from .child_process import solver_popen_args
from .registry import SolverSpec
from .runner import kill_group

MARKER = "nncc-end-of-answer"
_VALUE = re.compile(r"\(\s*([A-Za-z_][A-Za-z0-9_]*)\s+(\(\s*-\s*\d+\s*\)|-?\d+)\s*\)")


def _timed_out(lines: list[str]) -> bool:
    """Whether z3's -T limit struck: it prints ``timeout``, even in the middle of a
    get-value answer (seen: a line ``(timeout``), and exits."""
    return any(line.rstrip(") ").endswith("timeout") for line in lines)


class IncrementalZ3:
    """A z3 process holding one formula; ``models()`` yields distinct models."""

    def __init__(self, spec: SolverSpec, declarations_text: str, decision_vars: list[str],
                 time_limit: float | None = None):
        argv = spec.require() + ["-in", "-smt2"]
        if time_limit is not None:
            argv.append(f"-T:{max(1, int(time_limit + 0.999))}")
        self.decision_vars = decision_vars
        self.time_limit = time_limit
        self.expired = False   # z3 ended at its -T limit (possibly while we were writing)
        self.version = spec.version()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1,
                                     env=spec.child_env(), **solver_popen_args())
        self._stderr: list[str] = []
        threading.Thread(target=lambda: self._stderr.extend(self.proc.stderr), daemon=True).start()
        self.checks = 0
        self._send(declarations_text + "(push 1)\n")

    def _send(self, text: str) -> None:
        if self.expired:
            return
        try:
            self.proc.stdin.write(text)
            self.proc.stdin.flush()
        except BrokenPipeError:
            # z3 exits by itself when its -T limit strikes: with a time limit, a clean exit
            # is that limit (what was found is kept), not a failure
            if self.time_limit is not None and self.proc.wait() == 0:
                self.expired = True
                return
            raise SolverError("z3 stopped reading its input: " + self._why()) from None

    def _why(self) -> str:
        self.proc.poll()
        err = "".join(self._stderr).strip().splitlines()
        return (err[-1] if err else f"exit code {self.proc.returncode}")[:200]

    def _ask(self, command: str) -> list[str]:
        """Send ``command``; the lines it printed (up to the marker)."""
        self._send(f'{command}\n(echo "{MARKER}")\n')
        if self.expired:
            return ["timeout"]
        lines = []
        for line in self.proc.stdout:
            line = line.strip()
            if line == MARKER:
                return lines
            lines.append(line)
        if _timed_out(lines):  # -T:s hit: z3 prints 'timeout' and exits
            return lines
        raise SolverError("z3 ended without answering: " + (" ".join(lines)[:200] or self._why()))

    def check(self) -> str:
        """``sat``, ``unsat``, ``unknown`` or ``timeout``."""
        self.checks += 1
        answer = self._ask("(check-sat)")
        if _timed_out(answer):
            return "timeout"
        words = [w for w in answer if w]
        if not words or words[-1] not in ("sat", "unsat", "unknown"):
            raise SolverError("z3 answered check-sat with: " + " | ".join(answer)[:200])
        return words[-1]

    def values(self) -> dict[str, int] | None:
        """The decision variables' values; None when z3's time limit struck first."""
        answer = self._ask("(get-value (" + " ".join(self.decision_vars) + "))")
        if _timed_out(answer):
            return None
        text = " ".join(answer)
        if text.startswith("(error"):
            raise SolverError("z3: " + text[:200])
        out = {}
        for name, value in _VALUE.findall(text):
            out[name] = int(re.sub(r"[()\s]", "", value))
        missing = [v for v in self.decision_vars if v not in out]
        if missing:
            raise SolverError(f"z3 gave no value for {missing[0]}: {text[:200]}")
        return out

    def block(self, assignment: dict[str, int]) -> None:
        """Exclude this assignment of the decision variables from now on."""
        clause = " ".join(f"(not (= {name} {term_text(v)}))" for name, v in assignment.items())
        self._send(f"(assert (or {clause}))\n")

    def models(self, relevant=None) -> Iterator[dict[str, int]]:
        """Distinct models until unsat; ``relevant(model)`` chooses the variables to block
        (default: all decision variables). Ends with ``self.status`` set."""
        self.status = None
        while True:
            verdict = self.check()
            if verdict != "sat":
                self.status = verdict
                return
            model = self.values()
            if model is None:
                self.status = "timeout"
                return
            self.block(relevant(model) if relevant else model)
            yield model

    def close(self) -> None:
        """Pop the scope, ask z3 to exit, and make sure the process group is gone."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("(pop 1)\n(exit)\n")
                self.proc.stdin.close()
            except (BrokenPipeError, OSError, ValueError):
                pass
            deadline = time.monotonic() + 2.0
            while self.proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
        if self.proc.poll() is None:
            kill_group(self.proc)
        self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
