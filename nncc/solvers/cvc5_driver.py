"""A cvc5 command line over the ``cvc5`` Python package (whose wheel has no binary).

Usage: ``python -m nncc.solvers.cvc5_driver [--tlimit=MS] [--key=value ...] FILE|-``

It prints what the cvc5 binary prints for the same SMT-LIB input: ``sat`` /
``unsat`` / ``unknown`` and the answers of get-value / get-model. Options
``--key=value`` go to ``Solver.setOption``; ``--key`` alone means ``true``;
``-q``, ``--lang=smt2`` and ``--produce-models`` are accepted for the
binary's sake (models are always on).

Time limit: the package does not enforce ``tlimit`` (in cvc5 that is the
binary's job), so the driver gives each ``check-sat`` the time left as
``tlimit-per``. When that runs out it prints ``unknown``, writes
``cvc5 interrupted by timeout.`` to standard error and exits 134, as the
binary does on ``--tlimit`` — and it stops there, because cvc5's model after
a time-out ``unknown`` is wrong. Parse errors print ``(error "...")`` and
exit 1, also as the binary does.

Kept free of nncc imports so that it starts fast.
"""
from __future__ import annotations

import sys
import time

EXIT_TIMEOUT = 134  # what the cvc5 binary returns when --tlimit fires


def _error(msg: str) -> str:
    return '(error "' + msg.replace('"', '""') + '")\n'


def main(argv: list[str] | None = None) -> int:
    """Run the driver; returns the process exit code."""
    args = sys.argv[1:] if argv is None else argv
    import cvc5

    if "--version" in args:
        tm = cvc5.TermManager()
        ver = cvc5.Solver(tm).getVersion()
        ver = ver.decode() if isinstance(ver, bytes) else str(ver)
        print(f"This is cvc5 version {ver} [python package, nncc driver]")
        return 0

    tlimit_ms: int | None = None
    options: list[tuple[str, str]] = []
    inputs: list[str] = []
    for a in args:
        if a in ("-q", "--quiet", "--produce-models", "--incremental") or a.startswith("--lang"):
            continue
        if a.startswith("--tlimit="):
            tlimit_ms = int(float(a.split("=", 1)[1]))
        elif a.startswith("--"):
            key, _, value = a[2:].partition("=")
            options.append((key, value or "true"))
        else:
            inputs.append(a)
    if len(inputs) != 1:
        sys.stderr.write("usage: python -m nncc.solvers.cvc5_driver [--tlimit=MS] [--opt=value ...] FILE|-\n")
        return 2

    start = time.monotonic()
    tm = cvc5.TermManager()
    solver = cvc5.Solver(tm)
    solver.setOption("produce-models", "true")
    try:
        for key, value in options:
            solver.setOption(key, value)
    except Exception as err:  # cvc5 raises its own exception types
        sys.stdout.write(_error(f"option: {err}"))
        return 1
    symbols = cvc5.SymbolManager(tm)
    parser = cvc5.InputParser(solver, symbols)
    if inputs[0] == "-":
        parser.setStringInput(cvc5.InputLanguage.SMT_LIB_2_6, sys.stdin.read(), "<stdin>")
    else:
        try:
            parser.setFileInput(cvc5.InputLanguage.SMT_LIB_2_6, inputs[0])
        except Exception as err:
            sys.stdout.write(_error(f"cannot read {inputs[0]}: {err}"))
            return 1

    while True:
        try:
            cmd = parser.nextCommand()
        except Exception as err:
            sys.stdout.write(_error(f"Parse Error: {err}"))
            sys.stdout.flush()
            return 1
        if cmd.isNull():
            return 0
        name = cmd.getCommandName()
        if tlimit_ms is not None and name.startswith("check-sat"):
            left = tlimit_ms - int((time.monotonic() - start) * 1000)
            if left <= 0:
                return _timed_out()
            solver.setOption("tlimit-per", str(left))
        try:
            out = cmd.invoke(solver, symbols)
        except Exception as err:
            out = _error(str(err))
        if name.startswith("check-sat") and out.startswith("unknown"):
            reason = solver.getInfo("reason-unknown")
            reason = reason.decode() if isinstance(reason, bytes) else str(reason)
            if tlimit_ms is not None and ("timeout" in reason or "TIMEOUT" in out):
                sys.stdout.write("unknown\n")
                return _timed_out()
        sys.stdout.write(out)
        sys.stdout.flush()
        if name == "exit":
            return 0


def _timed_out() -> int:
    sys.stdout.flush()
    sys.stderr.write("cvc5 interrupted by timeout.\n")
    sys.stderr.flush()
    return EXIT_TIMEOUT


if __name__ == "__main__":
    sys.exit(main())
