"""``nncc batch INSTANCES.csv`` and ``nncc plot RESULTS.csv ...``: the command line of
:mod:`nncc.pipeline.batch` and :mod:`nncc.pipeline.batch_report`."""
from __future__ import annotations


def add_subcommands(sub) -> None:
    c = sub.add_parser("batch", help="run the verify instances of a CSV (network, property, "
                       "time-out) in parallel; resumable; results CSV. Exit 0 once every "
                       "instance has a row (the verdicts are in the file), 2 on bad input, "
                       "130 on Ctrl-C")
    c.add_argument("instances", help="a VNN-COMP instances CSV: network, property, time-out "
                   "in seconds per row (paths relative to the CSV's folder)")
    c.add_argument("-o", "--results", help="results CSV (default INSTANCES.results.csv in the "
                   "working folder); instances already in it are skipped")
    c.add_argument("--workers", "-j", type=int, help="parallel instances (default: half the cores)")
    c.add_argument("--solver", "-s", default="auto",
                   help="passed to each nncc verify: highs, cbc, z3, cvc5, auto (default) or "
                   "race:highs,cbc")
    c.add_argument("--counterexamples", help="folder for counterexample files (default "
                   "RESULTS_counterexamples beside the results file)")
    c.add_argument("--cluster", choices=["local", "ray"], default="local",
                   help="local: worker processes on this machine (default); ray: Ray actors, "
                   "on a local Ray cluster or the one at --address (pip install '.[cluster]')")
    c.add_argument("--address", help="with --cluster ray: the cluster to join (e.g. "
                   "ray://head:10001 or auto); without it Ray starts one here")
    c.add_argument("--process-per-instance", action="store_true",
                   help="a new nncc verify process for every instance (default: worker "
                   "processes that import nncc once and run instance after instance)")
    c = sub.add_parser("plot", help="batch results: a summary table, and a cactus plot "
                       "(instances answered against seconds, one line per results file)")
    c.add_argument("results", nargs="+", help="results CSVs of nncc batch")
    c.add_argument("-o", "--output", help="the cactus plot's PNG (without it: the table only)")
    c.add_argument("--title", help="the plot's title")


def cmd_batch(args) -> int:
    from ..errors import InputError
    from ..pipeline.batch import Worker, run_batch
    worker, workers = Worker, args.workers
    if args.address and args.cluster != "ray":
        raise InputError("--address is for --cluster ray")
    if args.cluster == "ray":
        if args.process_per_instance:
            raise InputError("--process-per-instance is for the local cluster: Ray's actors "
                             "run instance after instance")
        from ..pipeline.batch import read_instances
        read_instances(args.instances)   # a bad instances file is refused before Ray starts
        from . import batch_ray
        workers, worker = batch_ray.start(args.address, args.workers), batch_ray.RayWorker
    try:
        rows = run_batch(args.instances, args.results, workers, args.solver, args.counterexamples,
                         reuse=not args.process_per_instance, worker=worker)
    finally:
        if args.cluster == "ray":
            batch_ray.stop()
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    print(", ".join(f"{v} {n}" for v, n in sorted(counts.items())) or "nothing to run")
    return 0


def cmd_plot(args) -> int:
    from ..pipeline.batch_report import cactus_plot, read_results, summary_lines
    results = read_results(args.results)
    print("\n".join(summary_lines(results)))
    if args.output:
        cactus_plot(results, args.output, args.title)
        print(f"wrote:     {args.output}")
    return 0
