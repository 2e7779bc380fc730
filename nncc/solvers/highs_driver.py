"""A highs command line over the ``highspy`` package, for when it holds a newer HiGHS than the binary.

Usage: ``python -m nncc.solvers.highs_driver --model_file FILE [--solution_file OUT]
[--time_limit S] [--options_file F] [--read_solution_file F] [--KEY VALUE ...]``

It does what the ``highs`` binary does with the same arguments: the same log
on standard output (it is the same library's), the solution file in the same
style, exit 0 once the model was read (optimal, infeasible, time limit alike)
and 255 with ``Error loading file`` and no solution file when it could not be
read.  ``--version`` prints ``HiGHS version X.Y.Z Githash H``, as the binary.
Any other ``--KEY VALUE`` is a HiGHS option, as on the binary's command line.

The time limit counts from the start, reading the model included, as the
binary's does.

Kept free of nncc imports so that it starts fast.
"""
from __future__ import annotations

import os
import sys
import time

EXIT_ERROR = 255  # the binary's exit code when the model cannot be read


def _value(text: str):
    low = text.lower()
    if low in ("true", "on"):
        return True
    if low in ("false", "off"):
        return False
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main(argv: list[str] | None = None) -> int:
    """Run the driver; returns the process exit code."""
    t0 = time.monotonic()
    args = sys.argv[1:] if argv is None else argv
    import highspy

    h = highspy.Highs()
    if "--version" in args:
        print(f"HiGHS version {h.version()} Githash {h.githash()} "
              "(highspy package, through nncc.solvers.highs_driver)")
        return 0
    opts: dict[str, str] = {}
    i = 0
    while i < len(args):
        a = args[i]
        if not a.startswith("--") or i + 1 >= len(args):
            sys.stderr.write(f"highs_driver: unexpected argument {a!r}\n")
            return EXIT_ERROR
        key, _, inline = a[2:].partition("=")
        if inline:
            opts[key] = inline
            i += 1
        else:
            opts[key] = args[i + 1]
            i += 2
    model = opts.pop("model_file", None)
    solution = opts.pop("solution_file", None)
    start = opts.pop("read_solution_file", None)
    options_file = opts.pop("options_file", None)
    limit = float(opts.pop("time_limit", "inf"))
    if model is None:
        sys.stderr.write("highs_driver: --model_file is required\n")
        return EXIT_ERROR
    if not os.path.isfile(model):
        print(f"--model_file: File does not exist: {model}")
        return 105  # as the binary (CLI11's "file does not exist")
    if options_file is not None and h.readOptions(options_file) != highspy.HighsStatus.kOk:
        print(f"Error reading the options file {options_file}")
        return EXIT_ERROR
    if options_file is not None:   # said as the binary says it
        with open(options_file) as f:
            for key in (line.partition("=")[0].strip() for line in f):
                if key and not key.startswith("#"):
                    print(f"Set option {key} to {h.getOptionValue(key)!r}")
    for key, text in opts.items():
        if h.setOptionValue(key, _value(text)) == highspy.HighsStatus.kError:
            print(f"ERROR:   Illegal value or option: --{key} {text}")
            return EXIT_ERROR
    h.setOptionValue("time_limit", limit)
    if h.readModel(model) == highspy.HighsStatus.kError:
        print("Error loading file")
        return EXIT_ERROR
    left = limit - (time.monotonic() - t0)
    if left <= 0:
        print("Parser reached timeout")
        return EXIT_ERROR
    h.setOptionValue("time_limit", left)
    if start is not None:
        h.readSolution(start, 0)
    h.run()
    if solution is not None:
        tmp = f"{solution}.part"
        h.writeSolution(tmp, 0)
        os.replace(tmp, solution)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
