"""A batch worker: ``nncc verify`` runs in one process that imports nncc once.

``python -m nncc.cli.batch_worker`` reads one JSON request per line on its
standard input -- ``{"argv": [...]}``, the arguments of ``nncc verify`` -- runs
them in this process as the command would (the same exit code, the same
``--json`` report and counterexample file), keeping the networks it has read
(:func:`~nncc.problem.property.keep_loaded_networks`), and answers each with one JSON line
on its standard output: ``{"code": N, "stdout": ..., "stderr": ...}``. What the
run prints goes into the answer, never onto the channel. :mod:`nncc.pipeline.batch`
keeps one worker per slot, kills a worker whose instance overruns its time-out
and starts another, so a crash or a runaway run takes only its instance down.
"""
from __future__ import annotations

import contextlib
import io
import json
import sys


def run_argv(argv: list[str]) -> tuple[int, str, str]:
    """``nncc ARGV`` in this process: (exit code, what it printed, what it printed on
    standard error)."""
    from . import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as e:   # argparse's usage errors
            code = e.code if isinstance(e.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def serve(requests, answers) -> None:
    """Answer every request line of ``requests`` on ``answers``."""
    for line in requests:
        if not line.strip():
            continue
        code, out, err = run_argv(json.loads(line)["argv"])
        answers.write(json.dumps({"code": code, "stdout": out, "stderr": err}) + "\n")
        answers.flush()


def run() -> int:
    from ..problem.property import keep_loaded_networks
    keep_loaded_networks()   # many properties of one network: it is read once
    # the channel is the real stdout; every print of a run goes to its buffers
    channel = sys.stdout
    serve(sys.stdin, channel)
    return 0


if __name__ == "__main__":
    sys.exit(run())
