"""nncc batch: worker processes that import nncc once against a process per instance.

The 24 ACAS Xu instances of benchmarks/acasxu_properties.py (properties 1-8 on
the three networks of ../shared/fixtures), run by ``nncc batch`` with worker
reuse (the default), with ``--process-per-instance`` and (``--ray``) with
``--cluster ray`` on a local Ray cluster (its start-up included), one after the
other in the same run, at 1 and 2 workers; each configuration ``--repeat``
times, the best kept. Prints instances per minute, the ratio, and checks that
every mode gives the same verdicts.

    python benchmarks/batch_throughput.py [--repeat 3] [--workers 1 2] [--ray]
"""
import argparse
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from acasxu_properties import CACHE, write  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


MODES = {"reuse": ("workers (reuse)", []),
         "fresh": ("process per instance", ["--process-per-instance"]),
         "ray": ("Ray actors (local cluster)", ["--cluster", "ray"])}


def run(instances: Path, workers: int, mode: str) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        res = Path(tmp) / "results.csv"
        cmd = [sys.executable, "-m", "nncc", "batch", str(instances), "-o", str(res),
               "-j", str(workers)] + MODES[mode][1]
        t = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t
        if p.returncode != 0:
            sys.exit(p.stderr)
        rows = {r["instance"]: r["verdict"] for r in csv.DictReader(open(res))}
    return wall, rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--ray", action="store_true", help="also --cluster ray")
    args = ap.parse_args()
    modes = ["reuse", "fresh"] + (["ray"] if args.ray else [])
    instances = write(CACHE, "nnet", timeout=120.0)
    print("| workers | mode | best wall s | instances / minute | verdicts |")
    print("|---|---|---|---|---|")
    for w in args.workers:
        walls, verdicts = {}, {}
        for mode in modes:
            best = None
            for _ in range(args.repeat):
                wall, rows = run(instances, w, mode)
                best = wall if best is None else min(best, wall)
                verdicts[mode] = rows
            walls[mode] = best
            counts = {}
            for v in rows.values():
                counts[v] = counts.get(v, 0) + 1
            print(f"| {w} | {MODES[mode][0]} | "
                  f"{best:.2f} | {60 * len(rows) / best:.0f} | "
                  + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())) + " |")
        same = all(verdicts[m] == verdicts["fresh"] for m in modes)
        print(f"| {w} | reuse / per instance | {walls['reuse'] / walls['fresh']:.2f}x | "
              f"{walls['fresh'] / walls['reuse']:.2f}x | "
              f"{'same verdicts' if same else 'VERDICTS DIFFER'} |")
        if not same:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
