"""Do nncc's answers hold under load? The MNIST epsilon balls idle and on a loaded machine,
this checkout against a baseline checkout, side by side in one run.

The question is issue 17's: the L-infinity ball (epsilon ``--eps``, default 0.1)
around each of the first ``--images`` correctly classified test images of the
MNIST 784-64-64-10 network (``mnist_model.py``), minimal L1 to the next class
by a margin of 0.01 inside the ball, or a proof that none exists, through
``nncc.solve(..., "highs", time_limit=--time-limit)`` with its default budgets
(ReLU splitting 10 s, the start 2 s). Each configuration runs in a child
process with the checkout first on ``PYTHONPATH``:

* ``idle``: nothing else runs;
* ``load``: ``--load`` busy processes (a ``while True`` loop each) run beside it,
  started before and killed after the child; on a 2-core machine 10 of them
  make a load of about 11.

The baseline (``--baseline``, a git revision, default the commit before the CPU
budgets) is checked out once into ``benchmarks/.cache/baseline-REV`` (a detached
git worktree). Its budgets are wall-clock seconds and numpy's BLAS uses every
core; this checkout's are CPU seconds (``nncc/budget.py``) with BLAS on one
thread while the steps run.

Per configuration: images proven (optimal, or no adversarial in the ball),
median and total wall seconds per image, and the split's CPU seconds where the
answer reports them; then per checkout the images proven idle but not under
load (the answers that changed with the load), and the ratios of median wall
time loaded to idle.

    python benchmarks/budgets_under_load.py [--images 10] [--eps 0.1] [--time-limit 60]
        [--load 10] [--baseline REV] [--only new|baseline]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = HERE / ".cache"
DEFAULT_BASELINE = "41f9963"


def worker(args) -> None:
    """In the child: the balls, one JSON line per image."""
    import warnings

    import numpy as np

    import nncc     # from PYTHONPATH, before mnist_model puts this checkout on the path
    from nncc.problem.onnx_import import load_onnx
    from nncc.problem.query import AdversarialQuery
    sys.path.insert(0, str(HERE))
    import mnist_model
    warnings.filterwarnings("ignore")
    onnx_path, test_path = mnist_model.build(mnist_model.DEFAULT_CACHE, 0)
    net = load_onnx(onnx_path, name="mnist")
    with np.load(test_path) as d:
        X, Y = d["X"], d["y"]
    chosen = np.flatnonzero(net.forward(X).argmax(axis=1) == Y)[:args.images]
    print(json.dumps({"nncc": str(Path(nncc.__file__).resolve().parent.parent)}), flush=True)
    for n, idx in enumerate(chosen):
        x0, label = X[idx].astype(float), int(Y[idx])
        q = AdversarialQuery(f"ball{idx}", net, x0, 0.0, 1.0, target=(label + 1) % 10,
                             margin=0.01, norm="l1", epsilon=args.eps)
        t0, c0 = time.perf_counter(), time.process_time()
        ans = nncc.solve(q, "highs", time_limit=args.time_limit)
        r = ans.result
        proven = ans.status == "no_solution" or (ans.status == "solution" and r is not None
                                                 and bool(r.optimal))
        split = (getattr(ans, "budgets", None) or {}).get("split")
        print(json.dumps({"image": n, "status": ans.status, "how": ans.how, "proven": proven,
                          "checked": ans.check is None or bool(ans.check.ok),
                          "wall": time.perf_counter() - t0, "cpu": time.process_time() - c0,
                          "split_wall": ans.seconds.get("split"),
                          "split_cpu": split["cpu"] if split else None}), flush=True)


def checkout(rev: str) -> Path:
    """A detached worktree of ``rev`` under benchmarks/.cache (made once)."""
    path = CACHE / f"baseline-{rev}"
    if not (path / "nncc").is_dir():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), rev],
                       check=True, capture_output=True)
    return path


def busy(n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
            for _ in range(n)]


def run_beside_load(script: str, worker_args: list[str], source: Path, load: int,
                    timeout: float | None = None) -> subprocess.CompletedProcess:
    """``python -S SCRIPT --worker ARGS`` with the checkout ``source`` first on the path,
    ``load`` busy processes running beside it (started a second before, killed after)."""
    import site
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBLAS")}
    # -S: no site processing, so that an editable install of nncc (a finder ahead of
    # PYTHONPATH) cannot stand in for the checkout; the packages come from PYTHONPATH
    env["PYTHONPATH"] = os.pathsep.join([str(source), *site.getsitepackages()])
    cmd = [sys.executable, "-S", str(Path(script).resolve()), "--worker", *worker_args]
    hogs = busy(load)
    try:
        time.sleep(1.0 if load else 0.0)
        return subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(source),
                              timeout=timeout)
    finally:
        for h in hogs:
            h.kill()
        for h in hogs:
            h.wait()


def run(source: Path, args, load: int) -> list[dict]:
    out = run_beside_load(__file__, ["--images", str(args.images), "--eps", str(args.eps),
                                     "--time-limit", str(args.time_limit)], source, load)
    if out.returncode != 0:
        sys.exit(f"the worker failed ({source}):\n{out.stderr[-2000:]}")
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    if not rows or Path(rows[0].get("nncc", "")) != source.resolve():
        sys.exit(f"the worker imported nncc from {rows[0].get('nncc') if rows else '?'}, "
                 f"not {source}")
    return rows[1:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=10)
    ap.add_argument("--eps", type=float, default=0.1)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--load", type=int, default=10, help="busy processes beside the loaded runs")
    ap.add_argument("--baseline", default=DEFAULT_BASELINE, help="a git revision to compare with")
    ap.add_argument("--only", choices=["new", "baseline"])
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    sources = []
    if args.only != "baseline":
        sources.append(("this checkout", ROOT))
    if args.only != "new":
        sources.append((f"baseline {args.baseline}", checkout(args.baseline)))
    print(f"MNIST 784-64-64-10, epsilon {args.eps:g} balls around {args.images} images, "
          f"time limit {args.time_limit:g} s each, {os.cpu_count()} cores; load: {args.load} "
          "busy processes", flush=True)
    results = {}
    for name, src in sources:
        for cond, load in (("idle", 0), ("load", args.load)):
            t = time.perf_counter()
            rows = run(src, args, load)
            results[name, cond] = rows
            print(f"  {name:<18} {cond:<5} done in {time.perf_counter() - t:6.1f} s: "
                  + " ".join(f"{r['image']}:{'P' if r['proven'] else r['status'][0]}"
                             f"{r['wall']:.1f}" for r in rows), flush=True)
    print(f"\n{'checkout':<18} {'run':<5} {'proven':>7} {'median s':>9} {'total s':>8} "
          f"{'split CPU s':>12} {'unchecked':>9}")
    for (name, cond), rows in results.items():
        cpu = [r["split_cpu"] for r in rows if r["split_cpu"] is not None]
        print(f"{name:<18} {cond:<5} {sum(r['proven'] for r in rows):>3}/{len(rows):<3} "
              f"{statistics.median(r['wall'] for r in rows):>9.2f} "
              f"{sum(r['wall'] for r in rows):>8.1f} "
              f"{(f'{sum(cpu):.1f}' if cpu else '-'):>12} "
              f"{sum(not r['checked'] for r in rows):>9}")
    print()
    for name, _ in sources:
        idle, load = results[name, "idle"], results[name, "load"]
        lost = [r["image"] for r, s in zip(idle, load) if r["proven"] and not s["proven"]]
        gained = [r["image"] for r, s in zip(idle, load) if s["proven"] and not r["proven"]]
        ratio = (statistics.median(r["wall"] for r in load)
                 / max(statistics.median(r["wall"] for r in idle), 1e-9))
        print(f"{name}: proven idle, not under load: {lost or 'none'}; the reverse: "
              f"{gained or 'none'}; median wall loaded / idle {ratio:.1f}x")
    if len(sources) == 2:
        new, old = (statistics.median(r["wall"] for r in results[s[0], "load"]) for s in sources)
        print(f"under load, median wall this checkout / baseline: {new / old:.2f}x")


if __name__ == "__main__":
    main()
