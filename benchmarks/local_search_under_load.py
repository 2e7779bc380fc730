"""Does the local search of binarised networks answer the same under load? Idle and
loaded, this checkout against a baseline checkout, side by side in one run.

The query is ``examples/bdnn.nn --query local`` (the breast-cancer BDNN, 32 rows,
``method local-search restarts 2 seed 0``) and, with ``--rows``, the same network on
more rows of the original data; each run is ``nncc.solve(q, time_limit=--time-limit)``
(default: none, the 60 s budget) in a child process with the checkout first on
``PYTHONPATH``. ``load``: ``--load`` busy processes run beside the child (10 make a
load of about 11 on 2 cores). The baseline (``--baseline``, default the commit before
the local search's CPU budget) limited each sub-problem to a wall-clock eighth of the
budget; this checkout limits it to CPU seconds of the process (HiGHS's interrupt
callback). Per run: training accuracy, restarts and sub-problems, wall and CPU seconds.

    python benchmarks/local_search_under_load.py [--load 10] [--time-limit S] [--rows 150]
        [--baseline REV] [--repeat 2]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from budgets_under_load import ROOT, checkout, run_beside_load  # noqa: E402

DEFAULT_BASELINE = "e7f91c1"  # the last commit with wall-clock sub-problem limits


def worker(args) -> None:
    import re

    import nncc
    q = nncc.load(str(ROOT / "examples" / "bdnn.nn")).query("local")
    if args.rows:
        import numpy as np
        from nncc.problem.dataset import Dataset
        from nncc.problem.datasets_binarised import breast_cancer_original, split_dataset
        X, y = breast_cancer_original("drop")
        keep = np.sort(np.random.default_rng(0).choice(len(y), args.rows, replace=False))
        q.data, _ = split_dataset(Dataset("cancer", X[keep] / 10.0, y[keep], [0, 1], ""), 80, 20, 0)
    assert Path(nncc.__file__).resolve().parent.parent == Path.cwd().resolve(), nncc.__file__
    c0, t0 = time.process_time(), time.perf_counter()
    ans = nncc.solve(q, time_limit=args.time_limit)
    msg = ans.result.message
    m = re.search(r"(\d+) restarts, (\d+) sub-problems", msg)
    print(json.dumps({"accuracy": ans.check.accuracy, "restarts": int(m[1]), "solves": int(m[2]),
                      "wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}))


def run(source: Path, args, load: int) -> dict:
    extra = ["--time-limit", str(args.time_limit)] if args.time_limit else []
    r = run_beside_load(__file__, ["--rows", str(args.rows or 0), *extra], source, load, timeout=900)
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--load", type=int, default=10)
    ap.add_argument("--time-limit", type=float, default=None)
    ap.add_argument("--rows", type=int, default=0, help="rows of the original data (0: the example's 40)")
    ap.add_argument("--baseline", default=DEFAULT_BASELINE)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    base = checkout(args.baseline)
    print(f"local search, {'the example' if not args.rows else f'{args.rows} rows'}, time limit "
          f"{args.time_limit or 'none (60 s budget)'}; load: {args.load} busy processes")
    print(f"{'checkout':<10}{'machine':<8}{'accuracy':>9}{'restarts':>9}{'solves':>7}{'wall s':>8}{'cpu s':>7}")
    for name, src in (("this", ROOT), (args.baseline, base)):
        for load in (0, args.load):
            for _ in range(args.repeat):
                r = run(src, args, load)
                print(f"{name:<10}{'loaded' if load else 'idle':<8}{r['accuracy']:>9.1%}{r['restarts']:>9}"
                      f"{r['solves']:>7}{r['wall']:>8.1f}{r['cpu']:>7.1f}", flush=True)


if __name__ == "__main__":
    main()
