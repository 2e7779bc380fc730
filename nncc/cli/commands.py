"""The ``nncc`` command: a thin layer over :mod:`nncc.api`.

Messages go to standard error, answers and written files to standard output
or ``-o``. Exit codes are listed in :mod:`nncc.errors` and README.md.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys

from .. import errors
from ..budget import steps_text
from ..analysis.bounds import BOUNDS_METHODS, DEFAULT_BOUNDS
from ..solvers.highs import ROOT_LP
from ..writers import TARGETS
from ..errors import EXIT_CHECK_FAILED, EXIT_FOUND, EXIT_NO_ANSWER, EXIT_UNKNOWN, NnccError

# numpy's OpenBLAS: one thread. nncc's searches multiply small matrices, where a
# second thread was slower even idle, and under load the worker threads spin
# while they wait for each other, which makes a budget of CPU seconds buy less
# work (nncc/budget.py). Where a value is set already (or threads are allowed), the
# workers start when numpy is imported and spin for 2^28 clock cycles before they
# sleep (again after every call): about 0.1 s of CPU in every process; 2^24 (a
# few milliseconds) is enough for calls in a row. A value already set wins.
if "numpy" not in sys.modules:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "24")

STATUS_EXIT = {"solution": EXIT_FOUND, "no_solution": EXIT_NO_ANSWER, "unknown": EXIT_UNKNOWN,
               "check_failed": EXIT_CHECK_FAILED, "error": errors.EXIT_SOLVER_FAILED}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, as for every bad input
        self.exit(errors.EXIT_BAD_INPUT, f"nncc: error: {message} (see nncc {self.prog.split()[-1]} --help)\n"
                  if " " in self.prog else f"nncc: error: {message} (see nncc --help)\n")


def _bounds_arguments(c) -> None:
    c.add_argument("--bounds", choices=BOUNDS_METHODS, default=DEFAULT_BOUNDS,
                   help="neuron bounds of a trained network (big-M, stable ReLUs): interval or "
                   "symbolic back-substitution (milliseconds; default symbolic), or tightened "
                   "with LP / MILP solves")
    c.add_argument("--bounds-time", type=float, default=10.0,
                   help="seconds for LP / MILP bound tightening (default 10)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="nncc", description="Compile questions about neural networks to SMT-LIB, "
                "MPS or LP; run a solver; get checked weights or inputs back.")
    p.add_argument("--version", action=_VersionAction)
    p.add_argument("--name", action="version", version="nncc, a neural-network constraint compiler",
                   help="print the verifier's full name and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    c = sub.add_parser("check", help="parse and check a .nn file; print a summary of its IR")
    c.add_argument("file", help="a .nn file (or an architecture-space file)")
    c.add_argument("--json", action="store_true", help="machine-readable summary")
    _bounds_arguments(c)

    c = sub.add_parser("compile", help="write a query as SMT-LIB, MPS or LP (+ a symbol map)")
    c.add_argument("file", help="a .nn file, or a network (.onnx / .nnet) with --property")
    c.add_argument("--target", "-t", required=True, choices=TARGETS,
                   help="smtlib (SMT-LIB 2.6, for z3 / cvc5), mps (free MPS) or lp (CPLEX LP), "
                   "for cbc / highs")
    _bounds_arguments(c)
    c.add_argument("-o", "--output", default="-", help="output file ('-' or absent: standard output); "
                   "a symbol map is written beside a file as OUT.map.json")
    c.add_argument("--query", help="the query to compile (default: the first)")
    c.add_argument("--epsilon", type=float, default=None,
                   help="MILP stand-in for strict inequalities and non-zero weights (default 1e-3)")
    c.add_argument("--relu", choices=["ite", "disjunction"],
                   help="SMT-LIB form of ReLU: ite (default) or a disjunction of its two cases")
    c.add_argument("--property", help="FILE is a network (.onnx / .nnet): compile this VNN-LIB "
                   "property over it (feasible = violated)")

    c = sub.add_parser("solve", help="compile, run a solver, check and write the answer")
    c.add_argument("file", help="a .nn file")
    c.add_argument("--solver", "-s", default="auto",
                   help="z3, cvc5, cbc, highs, highspy, auto (default: a MILP solver where the "
                   "query is a MILP, else z3), or race:A,B to run several at once and take the "
                   "first checked answer (race:highs,cbc, race:z3,cvc5)")
    c.add_argument("-o", "--output", help="write the answer as .npz: the weights of a training "
                   "query, the inputs and outputs of a question about a trained network")
    c.add_argument("--onnx", help="write the trained network as ONNX (training queries)")
    c.add_argument("--time-limit", type=float,
                   help="seconds for the whole run, the steps before the solver included "
                   "(default: none)")
    c.add_argument("--query", help="the query to solve (default: the first)")
    c.add_argument("--epsilon", type=float, default=None,
                   help="MILP stand-in for strict inequalities and non-zero weights (default 1e-3)")
    c.add_argument("--relu", choices=["ite", "disjunction"],
                   help="SMT-LIB form of ReLU: ite (default) or a disjunction of its two cases")
    _bounds_arguments(c)
    c.add_argument("--no-start", action="store_true",
                   help="adversarial and maximise queries: skip the search for a start "
                   "(greedy descent or gradient ascent, and LPs over activation regions) that "
                   "gives the solver a cutoff; verify statements: skip the search for a "
                   "counterexample before the solver")
    c.add_argument("--split-time", type=float, default=None,
                   help="adversarial and maximise queries: CPU seconds of ReLU splitting "
                   "before the solver, to prove the start optimal or that there is no answer "
                   "(default 10 for adversarial, 1 for maximise, at most half the time limit, "
                   "ending when 90%% of it has passed; 0 skips it); verify statements: as "
                   "nncc verify --split-time")
    c.add_argument("--root-lp", choices=ROOT_LP, default="auto",
                   help="how highs solves a MILP's root LP: ipm (interior point), simplex "
                   "(highs' own choice, dual simplex) or auto (default: ipm for training "
                   "queries, where dual simplex stalls on the dense sample rows)")
    c.add_argument("--certify", nargs="?", const="cvc5", choices=["cvc5", "z3"],
                   help="re-check a maximize / adversarial answer exactly: fix its activation "
                   "pattern and solve the rest in rational arithmetic (default cvc5)")
    c.add_argument("--png", help="adversarial and maximise queries: a labelled picture, for an "
                   "adversarial one the original, the new input and their difference side by "
                   "side (each with its class, and the distance); for a maximise one the input "
                   "found")
    c.add_argument("--image-shape", type=int, nargs="+", metavar="N",
                   help="H W [C]: how --png reads a flat input (row-major, channels last; "
                   "default: the network's input shape when it is an image)")
    c.add_argument("--keep", help="also keep the file given to the solver at this path")
    c.add_argument("--solvers-config", help="a solvers.toml overriding the defaults")
    c.add_argument("--json", action="store_true", help="print a machine-readable report")

    c = sub.add_parser("decode", help="turn a solver's output back into arrays")
    c.add_argument("map", help="the symbol map written by nncc compile (OUT.map.json)")
    c.add_argument("solver_output", help="z3/cvc5 output, or a cbc / highs solution file")
    c.add_argument("-o", "--output", required=True,
                   help="weights .npz, or the counterexample file of a verify query")
    c.add_argument("--onnx", help="also write ONNX")
    c.add_argument("--source", help="the .nn file to re-check against (default: the one named "
                   "in the map)")
    c.add_argument("--json", action="store_true", help="print a machine-readable report")

    c = sub.add_parser("solvers", help="list the solvers found, where from, and their versions")
    c.add_argument("--solvers-config", help="a solvers.toml overriding the defaults")
    c.add_argument("--json", action="store_true", help="print a machine-readable list")

    from .architecture import add_subcommands  # enumerate, count, sample
    add_subcommands(sub)
    from .verify import add_subcommands as add_verify  # verify
    add_verify(sub)
    from .batch import add_subcommands as add_batch
    add_batch(sub)
    from .data import add_subcommands as add_data  # data
    add_data(sub)
    return p


class _VersionAction(argparse._VersionAction):
    """``--version``, with the installed version looked up only when asked for."""

    def __call__(self, parser, namespace, values, option_string=None):
        self.version = _version()
        super().__call__(parser, namespace, values, option_string)


def _version() -> str:
    try:
        from importlib.metadata import version
        return "nncc " + version("nncc")
    except Exception:  # running from a source tree without installing
        return "nncc (source tree)"


def _stdout_broken() -> bool:
    """Whether standard output's reader has gone; if so, it is pointed at /dev/null so
    that the interpreter's last flush stays quiet."""
    import select
    try:
        fd = sys.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        broken = any(ev & select.POLLERR for _, ev in poller.poll(0))
    except (AttributeError, OSError, ValueError):   # no file descriptor, or no poll
        return False
    if broken:   # a pipe whose reader has gone
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    return broken


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns (and exits with) the documented exit code."""
    args = build_parser().parse_args(argv)
    if not args.command:
        build_parser().print_help(sys.stderr)
        return errors.EXIT_BAD_INPUT
    # A broken standard output (nncc compile ... | head) is not an error of ours: it ends
    # the run quietly, as SIGPIPE would. SIGPIPE itself stays ignored (Python's default):
    # with its default action, a write to a solver that had already exited (z3 at its -T
    # limit) killed nncc on the spot, the results not written.
    try:
        code = COMMANDS[args.command](args)
    except BrokenPipeError:
        if not _stdout_broken():
            raise
        return 128 + signal.SIGPIPE
    except NnccError as e:
        print(f"nncc: error: {e.render()}", file=sys.stderr)
        code = e.exit_code
    except KeyboardInterrupt:
        print("nncc: interrupted", file=sys.stderr)
        code = errors.EXIT_INTERRUPTED
    except Exception as e:  # a bug: one line, not a traceback (NNCC_DEBUG=1 shows it)
        if os.environ.get("NNCC_DEBUG"):
            raise
        print(f"nncc: internal error: {type(e).__name__}: {e} (NNCC_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        code = errors.EXIT_INTERNAL
    return code


def _document(args):
    """The file, with only the query asked for (``--query``) built."""
    from ..frontend.semantics import load_document
    return load_document(args.file, wanted=getattr(args, "query", None))


def _query(args):
    return _document(args).query(getattr(args, "query", None))


def cmd_check(args) -> int:
    from .architecture import is_architecture_file
    if is_architecture_file(args.file):
        from .architecture import cmd_check as check_architectures
        return check_architectures(args)
    from ..frontend.semantics import load_document as load
    from ..pipeline.compile import lower
    doc = load(args.file)
    out = {"file": args.file, "networks": [], "datasets": [], "queries": []}
    for net in doc.networks.values():
        if not hasattr(net, "input_size"):  # a trained network (ONNX, NNet)
            kinds = [type(l).__name__ for l in net.layers]
            out["networks"].append({"name": net.name, "input": list(net.input_shape),
                                    "output": list(net.output_shape), "source": net.source,
                                    "layers": [f"{k} x{kinds.count(k)}" for k in dict.fromkeys(kinds)],
                                    "relus": net.relu_count(), "notes": list(net.notes),
                                    "weights": []})
            continue
        out["networks"].append({"name": net.name, "input": net.input_size,
                                "layers": [f"{l.name}[{l.size}] {l.activation}"
                                           + ("" if l.trainable else " (fixed)") for l in net.layers],
                                "weights": [str(l.weight_domain) for l in net.layers if l.trainable]})
    for d in doc.datasets.values():
        out["datasets"].append({"name": d.name, "samples": d.n_samples, "features": d.n_features,
                                "classes": len(d.classes) or d.n_classes, "source": d.source})
    for q in doc.queries:
        milp_ok = True
        enc = None
        if q.kind == "verify":   # the property as written (compile restricts it to the box)
            from ..encodings.verify import encode_property
            enc = encode_property(q.network, q.property, strict=True, bounds=args.bounds,
                                  time_budget=args.bounds_time)
        comp = lower(q, "smtlib", encoded=enc, bounds=args.bounds, bounds_budget=args.bounds_time)
        info = comp.summary()
        try:
            info["milp_target"] = lower(q, "mps", encoded=comp.encoded).summary()
        except errors.TargetError as e:
            milp_ok = False
            info["milp_target"] = None
            info["milp_refusal"] = e.message
        info["targets"] = ["smtlib"] + (["mps", "lp"] if milp_ok else [])
        out["queries"].append(info)
    if args.json:
        print(json.dumps(out, indent=1, default=str))
        return 0
    for n in out["networks"]:
        if "relus" in n:
            print(f"network {n['name']}: {n['source']}, input {n['input']} -> output {n['output']}; "
                  f"{', '.join(n['layers'])}; {n['relus']} ReLUs")
            for note in n["notes"]:
                print(f"  note: {note}")
            continue
        print(f"network {n['name']}: input {n['input']} -> " + " -> ".join(n["layers"])
              + (f"; weights {', '.join(sorted(set(n['weights'])))}" if n["weights"] else ""))
    for d in out["datasets"]:
        print(f"data {d['name']}: {d['samples']} samples x {d['features']} features, "
              f"{d['classes']} classes ({d['source']})")
    for q in out["queries"]:
        print(f"query '{q['query']}': logic {q['logic']}, targets {', '.join(q['targets'])}")
        print(f"  encoding: {q['encoding']}")
        for note in q["notes"]:
            print(f"  note: {note}")
        v = q["variables"]
        print(f"  SMT-LIB IR: {v['real']} real, {v['int']} int, {v['bool']} bool variables; "
              f"{q['constraints']} constraints, {q['nonzeros']} nonzeros")
        for b in q["blocks"]:
            print(f"    {b['block']:<24} {b['type']:<18} {b['rows']:>9} rows {b['nonzeros']:>10} nonzeros")
        m = q.get("milp_target")
        if m:
            mv = m["variables"]
            print(f"  MILP IR (mps/lp): {mv['real']} real, {mv['int']} int, {mv['bool']} binary; "
                  f"{m['constraints']} rows, {m['nonzeros']} nonzeros")
        else:
            print(f"  MILP: {q.get('milp_refusal')}")
    return 0


def cmd_compile(args) -> int:
    if getattr(args, "property", None):
        return compile_property(args)
    from .architecture import is_architecture_file
    if is_architecture_file(args.file):
        from .architecture import cmd_compile as compile_architecture
        return compile_architecture(args)
    return compile_query(_query(args), args)


def compile_property(args) -> int:
    """``nncc compile NET --property PROP --target ...``."""
    from ..frontend.vnnlib2 import load_property
    from ..problem.property import load_network
    from ..problem.query import VerifyQuery
    net = load_network(args.file)
    prop = load_property(args.property)
    prop.check_network(net)
    return compile_query(VerifyQuery(f"verify_{net.name}", net, prop, network_path=args.file),
                         args)


def compile_query(q, args) -> int:
    """Write ``q`` in ``args.target`` (a verify query too: feasible means violated)."""
    from ..pipeline.compile import compile
    from ..passes.strict_epsilon import DEFAULT_EPSILON
    from ..progress import Progress
    comp = compile(q, args.target, args.output, epsilon=args.epsilon or DEFAULT_EPSILON,
                   relu_encoding=args.relu, progress=Progress(), bounds=args.bounds,
                   bounds_budget=args.bounds_time)
    if args.output != "-":
        counts = comp.program.var_counts()
        kind = (comp.logic.smt if args.target == "smtlib" else
                _milp_kind(counts["int"] + counts["bool"] > 0, comp.logic.quadratic_objective))
        print(f"nncc: wrote {args.output} ({kind}, "
              f"{comp.program.nnz:,} nonzeros) and {args.output}.map.json", file=sys.stderr)
    for note in comp.encoded.notes:
        print(f"nncc: note: {note}", file=sys.stderr)
    return 0


def cmd_solve(args) -> int:
    from .architecture import is_architecture_file
    if is_architecture_file(args.file):
        raise errors.InputError(f"{args.file} declares architecture spaces: use nncc enumerate, "
                                "count or sample")
    from ..pipeline.solve import solve
    from ..passes.strict_epsilon import DEFAULT_EPSILON
    from ..progress import Progress
    from ..solvers.registry import load_registry
    doc = _document(args)
    q = doc.query(args.query)
    if q.kind == "verify":
        from .verify import solve_verify_query
        return solve_verify_query(q, args)
    if args.png:   # a shape that cannot be drawn is refused before any solving
        from ..pipeline.answer import png_shape
        png_shape(q, args.image_shape)
    elif args.image_shape:
        raise errors.InputError("--image-shape says how --png draws the input: give --png too")
    reg = load_registry(args.solvers_config)
    ans = solve(q, args.solver, time_limit=args.time_limit, epsilon=args.epsilon or DEFAULT_EPSILON,
                relu_encoding=args.relu, keep_file=args.keep, registry=reg, progress=Progress(),
                bounds=args.bounds, bounds_budget=args.bounds_time, certify=args.certify,
                start=not args.no_start, split_budget=args.split_time, root_lp=args.root_lp)
    if len(doc.queries) > 1 and args.query is None:
        ans.notes.append(f"the file has {len(doc.queries)} queries "
                         f"({', '.join(x.name for x in doc.queries)}); this is the first, "
                         f"'{q.name}': --query NAME solves another")
    return _finish(ans, args)


def cmd_decode(args) -> int:
    from ..pipeline.answer import decode
    from .verify import cmd_decode_verify, is_verify_map
    from ..writers.symbol_map import SymbolMap
    try:
        smap = SymbolMap.load(args.map)
    except (OSError, ValueError, KeyError):
        smap = None  # decode reports it
    if smap is not None and is_verify_map(smap):
        from ..solvers.output_detect import parse_any_output
        try:
            with open(args.solver_output, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError as e:
            raise errors.InputError(f"{args.solver_output}: {e.strerror}") from None
        return cmd_decode_verify(args, smap, parse_any_output(text, args.solver_output))
    ans = decode(args.map, args.solver_output, source=args.source)
    return _finish(ans, args)


def _finish(ans, args) -> int:
    written = []
    if ans.status == "solution" or ans.checked_unproven:
        if args.output:
            ans.save_npz(args.output)
            written.append(args.output)
        if getattr(args, "onnx", None):
            if ans.query.kind != "train":
                raise errors.InputError("--onnx writes trained weights: it is for train queries")
            ans.save_onnx(args.onnx)
            written.append(args.onnx)
        if getattr(args, "png", None):
            note = ans.save_png(args.png, getattr(args, "image_shape", None))
            if note:
                ans.notes.append(note)
            written.append(args.png)
    report = ans.report()
    report["written"] = written
    if report.get("seconds"):
        from ..progress import process_seconds
        report["seconds"] = {**report["seconds"], "process": process_seconds()}
    if getattr(args, "json", False):
        print(json.dumps(report, indent=1, default=float))
    else:
        _print_report(ans, report)
    return STATUS_EXIT.get(ans.status, errors.EXIT_INTERNAL)


def _milp_kind(integer: bool, quadratic: bool) -> str:
    """What an MPS / LP file holds: LP, MILP, QP or MIQP."""
    return ("MI" if integer else "") + ("QP" if quadratic else "LP")


def _print_report(ans, report) -> None:
    r = ans.result
    words = {"solution": "solution found", "no_solution": "no solution (proven)",
             "unknown": "unknown", "check_failed": "ANSWER FAILED THE CHECK (not written)"}
    if ans.query is not None:
        print(f"query:     {ans.query.name}")
    print(f"status:    {words.get(ans.status, ans.status)}"
          + (" (a checked answer, not proven optimal)" if ans.checked_unproven else ""))
    if r is not None and r.solver:
        print(f"solver:    {r.version or r.solver}")
    if r is not None and r.message and ans.status != "solution":
        print(f"message:   {r.message}")
    _print_time_and_ir(ans, report)
    if ans.check is not None and ans.query is not None and ans.query.kind != "train":
        _print_network_check(ans)
    elif ans.check is not None and hasattr(ans.check, "describe"):
        for line in ans.check.describe():  # binarised networks
            print(line)
    elif ans.check is not None:
        _print_training_check(ans.check)
    for n in ans.notes:
        print(f"note:      {n}")
    for w in report.get("written", []):
        print(f"wrote:     {w}")


def time_text(secs: dict, budgets: dict) -> str:
    """``0.45 s since the process started (0.39 s start-up: Python, nncc, reading the
    file, its data and networks); the query 0.06 s, 0.02 s of it in the solver
    (bounds 0.00 s before it)``; "no solver ran" when the steps before it decided."""
    steps = steps_text(secs, budgets, ("bounds", "split", "start"))
    total = secs.get("total", 0.0)
    out = ""
    if "process" in secs:
        out = (f"{secs['process']:.2f} s since the process started "
               f"({max(secs['process'] - total, 0.0):.2f} s start-up: Python, nncc, reading "
               "the file, its data and networks); ")
    out += f"the query {total:.2f} s, "
    if "solve" in secs:
        out += f"{secs['solve']:.2f} s of it in the solver" + (f" ({steps} before it)" if steps else "")
    else:
        out += "no solver ran" + (f" ({steps})" if steps else "")
    return out


def _print_time_and_ir(ans, report) -> None:
    """The seconds (the steps before the solver, the solver's), the step that decided,
    and the size of the program."""
    secs = report.get("seconds") or {}
    if secs:
        print(f"time:      {time_text(secs, report.get('budgets') or {})}")
    if ans.how:
        print(f"decided:   by {ans.how}")
    ir = report.get("ir")
    if report.get("map"):
        m = report["map"]
        print(f"IR:        {m['target']} file of {m['variables']:,} variables (as its symbol map "
              "records; decode reads the answer back without encoding the query again)")
    if ir:
        v = ir["variables"]
        logic = (ir["logic"] if ir["target"] == "smtlib" else
                 _milp_kind(v["int"] + v["bool"] > 0, bool(ir.get("quadratic"))))
        print(f"IR:        {ir['target']} {logic}, {v['real']} real / {v['int']} int / "
              f"{v['bool']} bool variables, {ir['constraints']} constraints, {ir['nonzeros']} nonzeros")


def _print_training_check(c) -> None:
    """Accuracy, margin, objective and problems of trained real weights."""
    required = ("none: hinge loss" if not getattr(c, "classify", True) else
                "> 0" if not c.required_margin else f">= {c.required_margin:g}")
    print(f"training:  accuracy {c.accuracy:.2%}, smallest margin {c.min_margin:.6g} "
          f"(required {required})")
    line = c.objective_line() if hasattr(c, "objective_line") else None
    if line:
        print(line)
    for p in c.problems:
        print(f"problem:   {p}")


def _print_network_check(ans) -> None:
    """Outputs, values and distances of an answer about a trained network."""
    import numpy as np

    q, c = ans.query, ans.check
    fmt = lambda v: np.array2string(np.asarray(v), precision=6, max_line_width=100,  # noqa: E731
                                    threshold=20)
    if q.kind == "evaluate":
        print(f"outputs:   {fmt(c.outputs)} (forward pass; the solver's differ by at most "
              f"{c.max_error:.2g})")
    elif q.kind == "maximize":
        word = "minimum" if q.minimize else "maximum"
        print(f"{word}:   output {q.output} = {c.value:.10g} (forward pass at the answer)")
        bound = ans.result.bound if ans.result is not None else None
        if bound is not None:
            from ..pipeline.maximize import gap_text
            print(f"bound:     {gap_text(c.value, bound)} (value, bound the optimum cannot pass, "
                  "gap)")
        print(f"input:     {fmt(ans.arrays['input'])}")
    else:
        x0 = np.asarray(q.x0, float).reshape(1, -1)
        before = q.network.forward(x0)[0]
        print(f"distance:  {c.value:.10g} ({q.norm})")
        print(f"before:    class {int(np.argmax(before))}, outputs {fmt(before)}")
        print(f"after:     class {int(np.argmax(c.outputs[0]))}, outputs {fmt(c.outputs[0])}")
    for p in c.problems:
        print(f"problem:   {p}")
    cert = ans.certificate
    if cert is not None:
        if cert.ok:
            print(f"certified: exactly {cert.value} = {float(cert.value):.12g} ({cert.solver}, "
                  "rational arithmetic, activation pattern of the answer)")
        for p in cert.problems:
            print(f"certify:   {p}")


def cmd_solvers(args) -> int:
    from ..solvers.registry import load_registry
    reg = load_registry(args.solvers_config)
    rows = []
    for name in reg.names():
        spec = reg.get(name)
        ok = spec.available()
        rows.append({"name": name, "available": ok, "version": spec.version() if ok else None,
                     "origin": spec.origin, "formats": spec.formats, "logics": spec.logics,
                     "by_hand": spec.hand_command() if ok else None})
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        for r in rows:
            state = r["version"] if r["available"] else "not found"
            print(f"{r['name']:<8} {state:<22} {'/'.join(r['formats']):<10} {r['origin']}")
        hand = [r for r in rows if r["by_hand"]]
        if hand:
            print("\nby hand, as nncc runs them (FILE: the model, SOLUTION: the solution file):")
            for r in hand:
                print(f"  {r['name']:<8} {r['by_hand']}")
    return 0 if any(r["available"] for r in rows) else errors.EXIT_SOLVER_FAILED


def _architecture_command(name: str):
    def run(args) -> int:
        from . import architecture
        return getattr(architecture, "cmd_" + name)(args)
    return run


COMMANDS = {"check": cmd_check, "compile": cmd_compile, "solve": cmd_solve, "decode": cmd_decode,
            "solvers": cmd_solvers, "enumerate": _architecture_command("enumerate"),
            "count": _architecture_command("count"), "sample": _architecture_command("sample"),
            "verify": lambda args: __import__("nncc.cli.verify", fromlist=["cmd_verify"]).cmd_verify(args),
            "supports": lambda args: __import__("nncc.cli.verify",
                                                fromlist=["cmd_supports"]).cmd_supports(args),
            "batch": lambda args: __import__("nncc.cli.batch", fromlist=["cmd_batch"]).cmd_batch(args),
            "plot": lambda args: __import__("nncc.cli.batch", fromlist=["cmd_plot"]).cmd_plot(args),
            "data": lambda args: __import__("nncc.cli.data", fromlist=["cmd_data"]).cmd_data(args)}

if __name__ == "__main__":
    sys.exit(main())
