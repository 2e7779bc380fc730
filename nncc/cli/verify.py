"""``nncc verify``, ``nncc supports`` and ``nncc compile NET --property PROP``: the VNN-LIB front end.

Two forms of ``nncc verify``:

* ``nncc verify NET.onnx|NET.nnet PROP.vnnlib``: a VNN-LIB 1.0 property (or a
  2.0 query declaring one network) on one network file;
* ``nncc verify QUERY.vnnlib --network NAME=FILE.onnx ... [--timeout S]
  [--serialise-assignments DIR]``: the VNN-LIB 2.0 solver interface (the
  standard's chapter 5). Standard output is the verdict line (``sat``,
  ``unsat``, ``unknown`` or ``timed-out``), after ``sat`` the assignment of
  every declared variable in declaration order (``NAME TYPE [d1,d2]``, then
  one value a line, row-major), or with ``--serialise-assignments`` one ONNX
  ``TensorProto`` file a variable in DIR.

``nncc supports --CAPABILITY`` answers the standard's capability questions.

Exit codes of ``nncc verify`` (the general ones of :mod:`nncc.errors`):

====  ================================================================
0     sat: the property is violated; the counterexample passed the check
1     unsat: the property holds
2     bad input (network, property, options)
3     unknown: time limit, or the solver gave up
4     solver failure (missing, crashed, unreadable output)
5     unknown: a candidate counterexample failed the check (nothing written)
====  ================================================================
"""
from __future__ import annotations

import json
import sys
import time

from ..analysis.bounds import BOUNDS_METHODS, DEFAULT_BOUNDS
from ..budget import steps_text
from ..errors import (EXIT_CHECK_FAILED, EXIT_FOUND, EXIT_NO_ANSWER, EXIT_UNKNOWN, InputError,
                      SolverError)

VERDICT_EXIT = {"sat": EXIT_FOUND, "unsat": EXIT_NO_ANSWER, "unknown": EXIT_UNKNOWN}


_START = time.monotonic()   # the standard's --timeout counts from the process start


def add_subcommands(sub) -> None:
    c = sub.add_parser("verify", help="check a VNN-LIB property on an ONNX / NNet network: "
                       "sat (violated, checked counterexample), unsat (holds) or unknown")
    c.add_argument("paths", nargs="+", metavar="FILE",
                   help="NET.onnx|NET.nnet PROP.vnnlib, or QUERY.vnnlib with --network")
    c.add_argument("--network", action="append", default=[], metavar="NAME=FILE.onnx",
                   help="the ONNX model of a network the VNN-LIB 2.0 query declares (once per "
                   "network not declared equal-to another)")
    c.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="the standard's time-out, counted from the start of the process: the "
                   "verdict is printed before it runs out ('timed-out' if it did)")
    c.add_argument("--serialise-assignments", metavar="DIR",
                   help="on sat, write every declared variable as DIR/NAME.pb (an ONNX "
                   "TensorProto) instead of printing the assignment")
    c.add_argument("--solver", "-s", default="auto",
                   help="highs, cbc, z3, cvc5 or auto (default: highs when found), or "
                   "race:highs,cbc to run several at once and take the first checked answer")
    c.add_argument("--time-limit", type=float, help="seconds for the whole run (default: none)")
    c.add_argument("-o", "--output", help="write the counterexample here on sat (VNN-COMP format)")
    c.add_argument("--bounds", choices=BOUNDS_METHODS, default=DEFAULT_BOUNDS,
                   help="neuron bounds for proofs and big-M (default symbolic)")
    c.add_argument("--bounds-time", type=float, default=10.0,
                   help="seconds for LP / MILP bound tightening (default 10)")
    c.add_argument("--disjuncts", choices=["split", "indicator"], default="split",
                   help="several disjuncts: one solver run each (default) or one run with an "
                   "indicator binary each")
    c.add_argument("--falsify-time", type=float, default=None,
                   help="CPU seconds for the search for a counterexample before any solver "
                   "(default min(2, 10%% of the time limit); 0 skips it)")
    c.add_argument("--split-time", type=float, default=None,
                   help="CPU seconds for input splitting on networks with few inputs, ReLU "
                   "splitting on others, so that the same work is done idle or under load "
                   "(default 60%% of the time left, ending when 90%% of it has passed on the "
                   "wall clock, or 60 without a time limit; 0 skips it)")
    c.add_argument("--split-workers", type=int, default=1, metavar="N",
                   help="processes for input or ReLU splitting, each with the --split-time budget "
                   "(default 1: none; 0: one per core this process may use)")
    c.add_argument("--keep", help="also keep the last file given to the solver at this path")
    c.add_argument("--solvers-config", help="a solvers.toml overriding the defaults")
    c.add_argument("--json", action="store_true", help="print a machine-readable report")
    s = sub.add_parser("supports", help="what nncc verifies, in the VNN-LIB 2.0 standard's terms "
                       "(one capability per call)")
    g = s.add_mutually_exclusive_group(required=True)
    for cap in CAPABILITIES:
        g.add_argument("--" + cap, dest="capability", action="store_const", const=cap,
                       help=f"print nncc's answer to the standard's {cap} question")


# the standard's capability questions and nncc's answers; see README.md "VNN-LIB 2.0"
CAPABILITIES = {
    "onnx-operators": None,          # the importer's list, below
    "onnx-opset-versions": "7\n21",
    # analysis is in real arithmetic: float declarations are read as reals (counterexamples
    # are checked under onnxruntime in the file's types, proofs are real-valued)
    "onnx-element-types": "real",
    "vnnlib-versions": "1.0\n2.0",
    "hidden-node-theories": "NH\nH",
    "multiple-input-output-theories": "SIO\nMIO",
    "multiple-network-theories": "SNET\nMENET\nMINET\nMNET",
    "multiple-node-comparison-theories": "SNC\nMNC",
    # POLY: products of variables become outputs of the query's model, which is then
    # verified on its graph (interval bounds and box splitting)
    "arithmetic-complexity-theories": "BND\nOUTC\nLIN\nPOLY",
    "optimised-disjunctive-reasoning": "false",
    "serialise-assignments": "true",
}


def cmd_supports(args) -> int:
    answer = CAPABILITIES[args.capability]
    if answer is None:
        from ..problem.onnx_graph import GRAPH_OPS
        from ..problem.onnx_import import SUPPORTED_OPS, SOFTMAX_OPS
        # ConstantOfShape makes constants only, which every graph may hold; the graph
        # evaluator's operators are verified on the graph when they are not piecewise linear
        answer = "\n".join(sorted(SUPPORTED_OPS | SOFTMAX_OPS | GRAPH_OPS | {"ConstantOfShape"}))
    print(answer)
    return 0


def _time_limit(args) -> float | None:
    limits = [t for t in (args.time_limit,) if t is not None]
    if args.timeout is not None:
        # leave room to print: a tenth of the time-out, at least half a second
        left = args.timeout - (time.monotonic() - _START)
        limits.append(max(left - max(0.5, 0.1 * args.timeout), 0.05))
    return min(limits) if limits else None


def cmd_verify(args) -> int:
    from ..progress import Progress
    from ..solvers.registry import load_registry
    from ..pipeline.verify import verify
    reg = load_registry(args.solvers_config)
    given = {}
    for item in args.network:
        name, eq, path = item.partition("=")
        if not eq or not name or not path:
            raise InputError(f"--network {item}: expected NAME=FILE.onnx")
        if name in given:
            raise InputError(f"--network {name}=... is given twice")
        given[name] = path
    if len(args.paths) > 2 or (given and len(args.paths) != 1):
        raise InputError("nncc verify takes NET PROP, or one QUERY.vnnlib with --network "
                         "NAME=FILE.onnx options")
    opts = dict(solver=args.solver, time_limit=_time_limit(args), bounds=args.bounds,
                bounds_budget=args.bounds_time, disjuncts=args.disjuncts,
                falsify_budget=args.falsify_time, registry=reg, progress=Progress(),
                keep_file=args.keep, split_budget=args.split_time,
                split_workers=_split_workers(args.split_workers))
    if len(args.paths) == 2:
        net_path, prop_path = args.paths
        from ..frontend.vnnlib import parse_vnnlib, read_vnnlib_text
        from ..frontend.vnnlib2 import is_vnnlib2, load_vnnlib2
        text = read_vnnlib_text(prop_path)
        if not is_vnnlib2(text):   # read once: the 1.0 property from the same text
            v = verify(net_path, None, prop=parse_vnnlib(text, prop_path), **opts)
            return _report(v, args)
        query = load_vnnlib2(prop_path, text)
        if len(query.networks) != 1:
            raise InputError(f"{prop_path} declares {len(query.networks)} networks: give each "
                             "with --network NAME=FILE.onnx")
        given = {query.networks[0].name: net_path}
        return _verify_query(query, given, args, opts)
    from ..frontend.vnnlib import read_vnnlib_text
    from ..frontend.vnnlib2 import is_vnnlib2, load_vnnlib2
    text = read_vnnlib_text(args.paths[0])
    if not is_vnnlib2(text):
        raise InputError(f"{args.paths[0]} is not a VNN-LIB 2.0 query (no declare-network); "
                         "for VNN-LIB 1.0 give the network first: nncc verify NET PROP")
    return _verify_query(load_vnnlib2(args.paths[0], text), given, args, opts)


def _verify_query(query, given: dict, args, opts) -> int:
    """A VNN-LIB 2.0 query on its networks: the standard's output."""
    import tempfile
    from ..problem.query_network import (assignment_lines, network_files, query_network,
                                        serialise_assignment)
    from ..pipeline.verify import verify
    files = network_files(query, given)
    with tempfile.TemporaryDirectory(prefix="nncc-query-") as tmp:
        net = query_network(query, files, tmp)
        v = verify(None, None, net=net, prop=query.property, **opts)
        if v.status == "sat" and args.output:
            from ..checks.counterexample import write_counterexample
            write_counterexample(args.output, v.check)
        if args.json:
            print(json.dumps(v.report(), indent=1))
        else:
            timed_out = v.status == "unknown" and v.how == "timeout"
            print("timed-out" if timed_out else v.status)
            if v.status == "sat":
                x = v.check.x
                y = v.check.y_ort if v.check.y_ort is not None else v.check.y
                if args.serialise_assignments:
                    serialise_assignment(query, x, y, args.serialise_assignments)
                    print(f"nncc: wrote the assignment to {args.serialise_assignments}/",
                          file=sys.stderr)
                else:
                    print("\n".join(assignment_lines(query, x, y)))
        sys.stdout.flush()
        _diagnostics(v)
    if v.check_failed:
        return EXIT_CHECK_FAILED
    return VERDICT_EXIT[v.status]


def _diagnostics(v) -> None:
    from ..progress import process_seconds
    secs = steps_text(v.seconds, v.budgets)
    if v.seconds:
        secs += f"; {process_seconds():.2f} s since the process started"
    print(f"nncc: {v.status} by {v.how}: {v.message}" + (f" ({secs})" if secs else ""),
          file=sys.stderr)
    for note in v.notes:
        print(f"nncc: note: {note}", file=sys.stderr)


def _report(v, args) -> int:
    from ..checks.counterexample import write_counterexample
    if v.status == "sat" and args.output:
        write_counterexample(args.output, v.check)
    if args.json:
        from ..progress import process_seconds
        report = v.report()
        report["seconds"] = {**report["seconds"], "process": process_seconds()}
        print(json.dumps(report, indent=1))
    else:
        print(v.status)
        if v.status == "sat" and args.output and args.output != "-":
            print(f"nncc: wrote the counterexample to {args.output}", file=sys.stderr)
    _diagnostics(v)
    if v.check_failed:
        return EXIT_CHECK_FAILED
    return VERDICT_EXIT[v.status]


def solve_verify_query(q, args) -> int:
    """``nncc solve FILE.nn`` on a ``verify`` statement: the verdict as ``nncc verify``."""
    from ..progress import Progress
    from ..solvers.registry import load_registry
    from ..pipeline.verify import verify
    reg = load_registry(getattr(args, "solvers_config", None))
    v = verify(None, None, net=q.network, prop=q.property, solver=args.solver,
               time_limit=args.time_limit, bounds=args.bounds, bounds_budget=args.bounds_time,
               registry=reg, progress=Progress(), keep_file=getattr(args, "keep", None),
               split_budget=args.split_time, falsify_budget=0.0 if args.no_start else None)
    return _report(v, args)


def is_verify_map(smap) -> bool:
    return (smap.extra.get("encoding") or {}).get("kind") == "verify"


def cmd_decode_verify(args, smap, result) -> int:
    """``nncc decode OUT.map.json SOLVER_OUTPUT -o CEX.txt`` for a file written by
    ``nncc compile NET --property PROP``: the network and the property named in the
    map are read again, and a feasible point is a counterexample only after
    :func:`~nncc.checks.counterexample.check_counterexample`."""
    import os
    from ..pipeline.compile import arrays_from_values
    from ..frontend.vnnlib2 import load_property
    from ..problem.property import load_network
    from ..checks.counterexample import check_counterexample
    from ..solvers.result import ERROR, NO_SOLUTION, SOLUTION
    from ..analysis.falsify import checked_point
    from ..pipeline.verify import SAT, UNKNOWN, UNSAT, Verdict
    import numpy as np
    paths = {k: smap.extra.get(k) for k in ("network", "property")}
    for what, path in paths.items():
        if not path or not os.path.exists(str(path)):
            raise InputError(f"{args.map}: the {what} file {path or '(none named)'} cannot be read, "
                             "so the answer cannot be re-checked")
    net = load_network(str(paths["network"]))
    prop = load_property(str(paths["property"]))
    if result.status == ERROR:
        raise SolverError(f"{result.solver or 'solver'}: {result.message or 'solver failed'}")
    if result.status == NO_SOLUTION:
        v = Verdict(UNSAT, "decode", message=f"{result.solver or 'the solver'}: infeasible: no "
                    "input of the compiled disjuncts violates the property")
    elif result.status != SOLUTION and not result.has_incumbent:
        v = Verdict(UNKNOWN, "decode", message=result.message or "no answer")
    else:
        x = np.asarray(arrays_from_values(smap, result)["input"], float).reshape(-1)
        k = smap.extra["encoding"].get("disjunct")
        # a solution file rounds its values: a point a hair outside the box is clipped in
        chk = checked_point(net, prop, [k] if k is not None else
                             list(range(len(prop.disjuncts))), x)
        chk = chk or check_counterexample(net, prop, x, prefer=k)
        if chk.ok:
            v = Verdict(SAT, "decode", chk, message="the solver's point is a checked counterexample")
        else:
            v = Verdict(UNKNOWN, "decode", chk, message="the solver's point failed the check: "
                        + "; ".join(chk.problems), check_failed=True)
    v.disjuncts = len(prop.disjuncts)  # all of them are in the compiled file
    return _report(v, args)


def _split_workers(n: int) -> int:
    if n < 0:
        raise InputError(f"--split-workers must be 0 (every core) or more, not {n}")
    if n == 0:
        from ..analysis.parallel_split import default_workers
        return default_workers()
    return n
