"""``nncc verify`` and ``nncc compile NET --property PROP``: the VNN-LIB front end.

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

from .errors import EXIT_CHECK_FAILED, EXIT_FOUND, EXIT_NO_ANSWER, EXIT_UNKNOWN

VERDICT_EXIT = {"sat": EXIT_FOUND, "unsat": EXIT_NO_ANSWER, "unknown": EXIT_UNKNOWN}


def add_subcommands(sub) -> None:
    c = sub.add_parser("verify", help="check a VNN-LIB property on an ONNX / NNet network: "
                       "sat (violated, checked counterexample), unsat (holds) or unknown")
    c.add_argument("network", help="NET.onnx or NET.nnet")
    c.add_argument("property", help="PROP.vnnlib (VNN-LIB 1.0, the unsafe set)")
    c.add_argument("--solver", "-s", default="auto",
                   help="highs, cbc, z3, cvc5 or auto (default: highs when found)")
    c.add_argument("--time-limit", type=float, help="seconds for the whole run")
    c.add_argument("-o", "--output", help="write the counterexample here on sat (VNN-COMP format)")
    c.add_argument("--bounds", choices=["interval", "symbolic", "lp", "milp"], default="symbolic",
                   help="neuron bounds for proofs and big-M (default symbolic)")
    c.add_argument("--bounds-time", type=float, default=10.0)
    c.add_argument("--disjuncts", choices=["split", "indicator"], default="split",
                   help="several disjuncts: one solver run each (default) or one run with an "
                   "indicator binary each")
    c.add_argument("--falsify-time", type=float, default=None,
                   help="seconds for the search for a counterexample before any solver "
                   "(default min(2, 10%% of the time limit); 0 skips it)")
    c.add_argument("--split-time", type=float, default=None,
                   help="seconds for input splitting on networks with few inputs, ReLU "
                   "splitting on others (default 60%% of the time left, or 60 without a time "
                   "limit; 0 skips it)")
    c.add_argument("--keep", help="also keep the last file given to the solver at this path")
    c.add_argument("--solvers-config")
    c.add_argument("--json", action="store_true", help="print a machine-readable report")


def cmd_verify(args) -> int:
    from .progress import Progress
    from .solvers.registry import load_registry
    from .verify_api import verify
    reg = load_registry(args.solvers_config)
    v = verify(args.network, args.property, solver=args.solver, time_limit=args.time_limit,
               bounds=args.bounds, bounds_budget=args.bounds_time, disjuncts=args.disjuncts,
               falsify_budget=args.falsify_time, registry=reg, progress=Progress(),
               keep_file=args.keep, split_budget=args.split_time)
    return _report(v, args)


def _report(v, args) -> int:
    from .roundtrip.counterexample import write_counterexample
    if v.status == "sat" and args.output:
        write_counterexample(args.output, v.check)
    if args.json:
        print(json.dumps(v.report(), indent=1))
    else:
        print(v.status)
        if v.status == "sat" and args.output and args.output != "-":
            print(f"nncc: wrote the counterexample to {args.output}", file=sys.stderr)
    secs = ", ".join(f"{k} {s:.2f} s" for k, s in v.seconds.items())
    print(f"nncc: {v.status} by {v.how}: {v.message}" + (f" ({secs})" if secs else ""),
          file=sys.stderr)
    for note in v.notes:
        print(f"nncc: note: {note}", file=sys.stderr)
    if v.check_failed:
        return EXIT_CHECK_FAILED
    return VERDICT_EXIT[v.status]


def property_encoding(net, prop, strict: bool = False):
    """One program for the whole property: the disjunct's, or one with a binary per
    disjunct when there are several."""
    from .encodings.verify import encode_disjunct, encode_disjunction
    if len(prop.disjuncts) == 1:
        return encode_disjunct(net, prop, 0, strict=strict)
    return encode_disjunction(net, prop, list(range(len(prop.disjuncts))))


def cmd_compile_property(args) -> int:
    """``nncc compile NET --property PROP --target ...``."""
    from .frontend.vnnlib import load_vnnlib
    from .problem.property import load_network
    from .verify_api import VerifyQuery
    net = load_network(args.file)
    prop = load_vnnlib(args.property)
    prop.check_network(net)
    return compile_verify_query(VerifyQuery(f"verify_{net.name}", net, prop), args,
                                network_path=args.file, property_path=args.property)


def compile_verify_query(q, args, network_path=None, property_path=None) -> int:
    """Write a verify query (from the command line or a ``.nn`` file) in ``args.target``,
    with its symbol map beside a file output; feasible means violated."""
    from .api import lower, write_target
    from .errors import InputError
    from .passes.strict_epsilon import DEFAULT_EPSILON
    from .roundtrip.atomic import atomic_output
    net, prop = q.network, q.property
    if getattr(net, "input_box", None) is not None:
        prop = prop.restrict_to(net.input_box)
    if not prop.disjuncts:
        raise InputError(f"{prop.path}: the unsafe set is empty (the property holds); "
                         "nothing to compile")
    enc = property_encoding(net, prop, strict=args.target == "smtlib")
    comp = lower(q, args.target, epsilon=args.epsilon or DEFAULT_EPSILON, encoded=enc)
    comp.symbol_map.extra["network"] = network_path or getattr(net, "source", None)
    comp.symbol_map.extra["property"] = property_path or prop.path
    if args.output == "-":
        write_target(comp, sys.stdout.buffer, relu_encoding=args.relu, objective=False)
        sys.stdout.buffer.flush()
    else:
        with atomic_output(args.output) as f:
            write_target(comp, f, relu_encoding=args.relu, objective=False)
        comp.symbol_map.save(args.output + ".map.json")
        print(f"nncc: wrote {args.output} ({len(prop.disjuncts)} disjuncts, "
              f"{comp.program.nnz:,} nonzeros) and {args.output}.map.json; feasible = the "
              "property is violated", file=sys.stderr)
    for note in enc.notes:
        print(f"nncc: note: {note}", file=sys.stderr)
    return 0


def solve_verify_query(q, args) -> int:
    """``nncc solve FILE.nn`` on a ``verify`` statement: the verdict as ``nncc verify``."""
    from .progress import Progress
    from .solvers.registry import load_registry
    from .verify_api import verify
    reg = load_registry(getattr(args, "solvers_config", None))
    v = verify(None, None, net=q.network, prop=q.property, solver=args.solver,
               time_limit=args.time_limit, bounds=args.bounds, bounds_budget=args.bounds_time,
               registry=reg, progress=Progress(), keep_file=getattr(args, "keep", None))
    return _report(v, args)


def is_verify_map(smap) -> bool:
    return (smap.extra.get("encoding") or {}).get("kind") == "verify"


def cmd_decode_verify(args, smap, result) -> int:
    """``nncc decode OUT.map.json SOLVER_OUTPUT -o CEX.txt`` for a file written by
    ``nncc compile NET --property PROP``: the network and the property named in the
    map are read again, and a feasible point is a counterexample only after
    :func:`~nncc.roundtrip.counterexample.check_counterexample`."""
    import os
    from .api import arrays_from_values
    from .errors import InputError, SolverError
    from .frontend.vnnlib import load_vnnlib
    from .problem.property import load_network
    from .roundtrip.counterexample import check_counterexample
    from .solvers.result import ERROR, NO_SOLUTION, SOLUTION
    from .verify_api import SAT, UNKNOWN, UNSAT, Verdict, _checked_point
    import numpy as np
    paths = {k: smap.extra.get(k) for k in ("network", "property")}
    for what, path in paths.items():
        if not path or not os.path.exists(str(path)):
            raise InputError(f"{args.map}: the {what} file {path or '(none named)'} cannot be read, "
                             "so the answer cannot be re-checked")
    net = load_network(str(paths["network"]))
    prop = load_vnnlib(str(paths["property"]))
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
        chk = _checked_point(net, prop, [k] if k is not None else
                             list(range(len(prop.disjuncts))), x)
        chk = chk or check_counterexample(net, prop, x, prefer=k)
        if chk.ok:
            v = Verdict(SAT, "decode", chk, message="the solver's point is a checked counterexample")
        else:
            v = Verdict(UNKNOWN, "decode", chk, message="the solver's point failed the check: "
                        + "; ".join(chk.problems), check_failed=True)
    return _report(v, args)
