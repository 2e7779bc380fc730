"""``nncc enumerate | count | sample`` and the architecture side of ``nncc compile`` / ``check``.

Architectures go to standard output (or ``-o``) as JSON lines; the summary
and progress go to standard error. Exit codes: 0 architectures found (or
counted), 1 the space is empty (proven), 3 the solver gave up before the
first one, 5 an answer failed the shape check.
"""
from __future__ import annotations

import io
import json
import os
import sys
import time

from .. import errors
from ..errors import CheckFailed, InputError

LOGIC_CHOICES = {"lia": "QF_LIA", "nia": "QF_NIA"}
CROSS_CHECK_LIMIT = 200_000  # architectures; above this --cross-check refuses


def add_subcommands(sub) -> None:
    """The three architecture commands, on the ``nncc`` sub-parser."""
    c = sub.add_parser("enumerate", help="list the architectures of a space through one "
                       "incremental z3 process (JSON lines)")
    _common(c)
    c.add_argument("--limit", type=int, help="stop after M architectures (default: the "
                   "statement's 'limit', else all)")
    c.add_argument("--uniform", action="store_true", help="M distinct architectures drawn "
                   "uniformly at random by exact counting, instead of the solver's order")
    c.add_argument("--seed", type=int, help="seed for --uniform")
    c.add_argument("--time-limit", type=float, help="seconds for the whole z3 run (default: "
                   "none); what was found is kept")
    c.add_argument("--logic", choices=list(LOGIC_CHOICES), default="lia",
                   help="lia: linear by case splits on stride and dilation (default); nia: products")
    c.add_argument("--solvers-config", help="a solvers.toml overriding the defaults")

    c = sub.add_parser("count", help="count the architectures of a space exactly")
    c.add_argument("file", help="an architecture-space file")
    c.add_argument("--name", help="the architecture (default: the one a 'count' statement names, "
                   "else the first)")
    c.add_argument("--cross-check", action="store_true", help="also enumerate every architecture "
                   f"with z3 and compare (spaces up to {CROSS_CHECK_LIMIT:,})")
    c.add_argument("--json", action="store_true", help="print a machine-readable report")
    c.add_argument("--solvers-config", help="a solvers.toml overriding the defaults")

    c = sub.add_parser("sample", help="draw architectures uniformly at random (exact, by counting)")
    _common(c)
    c.add_argument("--count", type=int, help="how many (default: the statement's 'count', else 1)")
    c.add_argument("--seed", type=int, help="random seed (default: the statement's, else 0)")
    c.add_argument("--distinct", action="store_true", help="without replacement (exact method)")
    c.add_argument("--method", choices=["exact", "xor"], default="exact",
                   help="exact: uniform by counting (default); xor: near-uniform by random XOR "
                   "constraints through one incremental z3 process (UniWit style, for comparison)")
    c.add_argument("--pivot", type=int, default=16, help="xor: largest cell to pick from "
                   "(default 16; larger is more uniform and slower)")
    c.add_argument("--solvers-config", help="a solvers.toml overriding the defaults")


def _common(c) -> None:
    c.add_argument("file", help="an architecture-space file")
    c.add_argument("--name", help="the architecture (default: the one the statement names, "
                   "else the first)")
    c.add_argument("-o", "--output", default="-", help="JSON lines file ('-' or absent: standard "
                   "output)")
    c.add_argument("--onnx", metavar="DIR", help="also write each architecture as a trainable "
                   "ONNX model (Conv, activation, MaxPool per layer; initialised weights), "
                   "run by onnxruntime to check its shapes")
    c.add_argument("--torch", metavar="DIR", help="also write each as a PyTorch nn.Sequential "
                   "(torch.save; load with torch.load(path, weights_only=False)); the ONNX model "
                   "then holds the same weights and must give the same outputs; needs the torch extra")
    c.add_argument("--channels", type=int, default=8, help="--onnx / --torch: output channels "
                   "of every convolution (default 8)")
    c.add_argument("--in-channels", type=int, default=1, help="--onnx / --torch: channels of the "
                   "input image (default 1)")
    c.add_argument("--activation", choices=["relu", "tanh", "sigmoid", "none"], default="relu",
                   help="--onnx / --torch: after every convolution (default relu)")
    c.add_argument("--no-bias", action="store_true", help="--onnx / --torch: convolutions and "
                   "head without bias")
    c.add_argument("--classes", type=int, default=0, help="--onnx / --torch: a classifier head, "
                   "Flatten and a dense layer to this many logits (default 0: none)")


def is_architecture_file(path: str) -> bool:
    """Whether ``path`` declares architectures and asks no network question.

    Parses only (no data loading), so that the network commands stay as fast."""
    from ..frontend import ast
    from ..frontend.semantics import read_source
    from ..frontend.parser import parse
    statements = parse(read_source(path), path).statements
    questions = (ast.TrainDecl, ast.EvaluateDecl, ast.MaximizeDecl, ast.AdversarialDecl)
    return (any(isinstance(st, ast.ArchitectureDecl) for st in statements)
            and not any(isinstance(st, questions) for st in statements))


class _Writer:
    """JSON lines to stdout, or atomically to a file (nothing left on failure)."""

    def __init__(self, path: str):
        self.path = path
        self.buf = io.StringIO() if path != "-" else None

    def line(self, text: str) -> None:
        if self.buf is None:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
        else:
            self.buf.write(text + "\n")

    def close(self) -> None:
        if self.buf is not None:
            from ..atomic import atomic_output
            with atomic_output(self.path) as f:
                f.write(self.buf.getvalue().encode("utf-8"))


def model_spec(args):
    """The --channels / --in-channels / --activation / --no-bias / --classes choices."""
    from ..export.architecture_model import ModelSpec
    import importlib.util
    if getattr(args, "torch", None) and importlib.util.find_spec("torch") is None:
        raise InputError("--torch needs PyTorch: python3 -m pip install '.[torch]'")
    return ModelSpec(args.channels, args.in_channels, not args.no_bias, args.activation, args.classes)


def _emit(archs_with_index, space, args, writer, spec) -> None:
    """Each architecture as a JSON line, and as models (``spec``) where asked."""
    from ..pipeline.architectures import json_line, write_onnx_skeleton
    folder = args.onnx or args.torch
    for d in (args.onnx, args.torch):
        if d:
            os.makedirs(d, exist_ok=True)
    for arch, index in archs_with_index:
        writer.line(json_line(arch, space, index))
        if folder:
            stem = f"{space.name}_{index:05d}"
            onnx_path = os.path.join(args.onnx or args.torch, stem + ".onnx")
            write_onnx_skeleton(arch, space, onnx_path, spec, seed=index,
                                torch_path=os.path.join(args.torch, stem + ".pt") if args.torch else None)


def cmd_enumerate(args) -> int:
    from ..pipeline.architectures import enumerate_space, load_spaces, pick_space, quality, sample_space
    from ..problem.architecture import SpaceCounter
    from ..progress import Progress
    from ..solvers.registry import load_registry
    spec = model_spec(args)   # bad model choices, or --torch without torch, before any work
    doc = load_spaces(args.file)
    space, task = pick_space(doc, args.name, "enumerate")
    limit = args.limit if args.limit is not None else (task.limit if task else None)
    if limit is not None and limit < 0:
        raise InputError("--limit must be 0 or more")
    uniform = args.uniform or bool(task and task.uniform)
    writer = _Writer(args.output)
    t0 = time.perf_counter()
    if uniform:
        if limit is None:
            raise InputError("--uniform needs --limit M (how many distinct architectures)")
        seed = args.seed if args.seed is not None else (task.seed if task else 0)
        archs = sample_space(space, limit, seed, distinct=True)
        _emit(((a, i + 1) for i, a in enumerate(archs)), space, args, writer, spec)
        writer.close()
        print(f"nncc: {len(archs)} distinct architectures of '{space.name}' drawn uniformly "
              f"(exact counting, seed {seed}) in {time.perf_counter() - t0:.2f} s; "
              f"Adj_T {quality(archs, space)['adj_t']}", file=sys.stderr)
        return errors.EXIT_FOUND if archs else errors.EXIT_NO_ANSWER
    progress = Progress()
    tick = progress.solver("z3 enumerate")

    def on_solution(arch, index):
        _emit([(arch, index)], space, args, writer, spec)
        tick(time.perf_counter() - t0, f"{index} architectures")

    run = enumerate_space(space, limit, registry=load_registry(args.solvers_config),
                          logic=LOGIC_CHOICES[args.logic], time_limit=args.time_limit,
                          on_solution=on_solution)
    progress.done()
    writer.close()
    n = len(run.architectures)
    how = {"limit": "limit reached", "unsat": "all of them (z3: no more)",
           "unknown": "z3 gave up (unknown)", "timeout": "time limit"}.get(run.status, run.status)
    print(f"nncc: {n} architectures of '{space.name}', {how}; {run.seconds:.2f} s, {run.solver}, "
          f"{run.checks} check-sat calls in one process; every one shape-checked; "
          f"Adj_T {quality(run.architectures, space)['adj_t']}", file=sys.stderr)
    if run.complete and n != SpaceCounter(space).count():  # the two methods disagree: a bug
        raise CheckFailed(f"z3 enumerated {n} architectures, exact counting says "
                          f"{SpaceCounter(space).count()}")
    if n:
        return errors.EXIT_FOUND
    return errors.EXIT_NO_ANSWER if run.complete else errors.EXIT_UNKNOWN


def cmd_count(args) -> int:
    from ..pipeline.architectures import enumerate_space, load_spaces, pick_space
    from ..problem.architecture import SpaceCounter
    from ..solvers.registry import load_registry
    doc = load_spaces(args.file)
    space, _ = pick_space(doc, args.name, "count")
    t0 = time.perf_counter()
    counter = SpaceCounter(space)
    by_layers = counter.by_layers()
    total = sum(by_layers.values())
    seconds = time.perf_counter() - t0
    report = {"architecture": space.name, "count": total,
              "by_layers": {str(k): v for k, v in by_layers.items()},
              "method": "exact (dynamic programming over layers"
                        + (", dimensions jointly: square parameters tie them)" if space.square
                           else ", dimensions independent)"),
              "seconds": round(seconds, 4)}
    code = errors.EXIT_FOUND
    if args.cross_check:
        if total > CROSS_CHECK_LIMIT:
            raise InputError(f"--cross-check enumerates every architecture: {total:,} is more "
                             f"than {CROSS_CHECK_LIMIT:,}")
        run = enumerate_space(space, None, registry=load_registry(args.solvers_config))
        report["z3_count"] = len(run.architectures)
        report["z3_seconds"] = round(run.seconds, 3)
        if not run.complete or len(run.architectures) != total:
            code = errors.EXIT_CHECK_FAILED
    if args.json:
        print(json.dumps(report))
    else:
        per = ", ".join(f"{k} layers: {v:,}" for k, v in by_layers.items())
        print(f"{space.name}: {total:,} architectures ({per}); {report['method']}, {seconds:.3f} s")
        if "z3_count" in report:
            same = "agrees" if code == errors.EXIT_FOUND else "DISAGREES"
            print(f"z3 enumeration: {report['z3_count']:,} in {report['z3_seconds']} s ({same})")
    if code != errors.EXIT_FOUND:
        print("nncc: error: the z3 enumeration and the exact count disagree", file=sys.stderr)
    return code


def cmd_sample(args) -> int:
    from ..pipeline.architectures import load_spaces, pick_space, quality, sample_space
    spec = model_spec(args)   # bad model choices, or --torch without torch, before any work
    doc = load_spaces(args.file)
    space, task = pick_space(doc, args.name, "sample")
    count = args.count if args.count is not None else (task.count if task else 1)
    seed = args.seed if args.seed is not None else (task.seed if task else 0)
    if count < 1:
        raise InputError("--count must be 1 or more")
    t0 = time.perf_counter()
    how = "exactly uniformly"
    if args.method == "xor":
        from ..pipeline.architectures import xor_sample_space
        from ..solvers.registry import load_registry
        if args.distinct:
            raise InputError("--distinct works with --method exact only")
        if args.pivot < 1:
            raise InputError("--pivot must be 1 or more")
        archs, st = xor_sample_space(space, count, seed, pivot=args.pivot,
                                     registry=load_registry(args.solvers_config))
        how = (f"near-uniformly by XOR hashing ({st['xors']} XORs over {st['bits']} bits at the "
               f"end, {st['cells']} cells, {st['checks']} check-sat calls in one z3 process)")
    else:
        archs = sample_space(space, count, seed, distinct=args.distinct)
    writer = _Writer(args.output)
    _emit(((a, i + 1) for i, a in enumerate(archs)), space, args, writer, spec)
    writer.close()
    if not archs:
        print(f"nncc: architecture '{space.name}' has no member (proven by exact counting)",
              file=sys.stderr)
        return errors.EXIT_NO_ANSWER
    print(f"nncc: {len(archs)} architectures of '{space.name}' sampled {how} "
          f"(seed {seed}{', distinct' if args.distinct else ''}) in "
          f"{time.perf_counter() - t0:.2f} s; Adj_T {quality(archs, space)['adj_t']}",
          file=sys.stderr)
    return errors.EXIT_FOUND


def cmd_compile(args) -> int:
    """``nncc compile`` of a file that declares architectures (SMT-LIB only)."""
    from ..pipeline.architectures import compile_space, load_spaces, pick_space
    if args.target != "smtlib":
        raise errors.TargetError(f"an architecture space compiles to SMT-LIB only (integer "
                                 f"case splits and disjunctions), not {args.target}; use "
                                 "--target smtlib")
    doc = load_spaces(args.file)
    space, _ = pick_space(doc, args.query, "enumerate")
    info = compile_space(space, args.output)
    if args.output != "-":
        print(f"nncc: wrote {args.output} ({info['logic']}, {info['variables']} variables, "
              f"{info['assertions']} assertions) and {args.output}.map.json", file=sys.stderr)
    return 0


def cmd_check(args) -> int:
    """``nncc check`` of a file that declares architectures."""
    from ..pipeline.architectures import load_spaces
    from ..problem.architecture import SpaceCounter
    doc = load_spaces(args.file)
    rows = [{"architecture": s.name, "space": s.describe(), "count": SpaceCounter(s).count()}
            for s in doc.architectures.values()]
    tasks = [t.name for t in doc.tasks]
    if args.json:
        print(json.dumps({"file": args.file, "architectures": rows, "tasks": tasks}, indent=1))
        return 0
    for r in rows:
        print(f"architecture {r['architecture']}: {r['space']}; {r['count']:,} architectures")
    for t in tasks:
        print(f"task: {t}")
    return 0
