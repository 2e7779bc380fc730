"""Input splitting on ACAS Xu: which input to bisect, side by side on the same instances.

    python3 benchmarks/split_rules.py [--props 2 3 6 7] [--time-limit 120]
        [--rules relax slope]

* ``slope``: the input whose width times its coefficient in the nearest row's
  linear upper bound is largest (ReluVal's and Neurify's rule);
* ``relax`` (nncc's default): the same, plus each Relu chord's intercept in
  that row shared out over the inputs by their width times their weight in
  the Relu's own input (nncc.analysis.input_split.box_bounds).

Each instance runs ``verify`` in process with falsification, bounds and
splitting as ``nncc verify`` does (splitting may take the whole time limit;
no solver after it), once per rule.  The table gives the verdict, the boxes
bounded and the seconds of splitting; the last lines the totals and their
ratio.  Every verdict is compared with the published one where there is one
and between the rules; a contradiction stops the run.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from acasxu_properties import CACHE, FIXTURES, KNOWN, networks, vnnlib_text  # noqa: E402

from nncc.frontend.vnnlib import load_vnnlib  # noqa: E402
from nncc.problem.property import load_network  # noqa: E402
from nncc.pipeline.verify import verify  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--props", nargs="+", type=int, default=[2, 3, 6, 7])
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--rules", nargs="+", default=["relax", "slope"])
    a = ap.parse_args()
    if not (FIXTURES / "vnncomp2021_test").exists():
        raise SystemExit("../shared/fixtures (the ACAS Xu networks) is absent")
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"{'instance':<14} {'rule':<6} {'verdict':<8} {'how':<16} {'boxes':>9} {'split s':>8} "
          f"{'total s':>8}")
    res = {r: [] for r in a.rules}
    for k in a.props:
        for name, path, norm in networks("nnet"):
            net = load_network(str(path))
            prop_p = CACHE / f"prop_{k}_{'norm' if norm else 'raw'}.vnnlib"
            prop_p.write_text(vnnlib_text(k, norm))
            verdicts = set()
            for rule in a.rules:
                t0 = time.perf_counter()
                v = verify(None, None, net=net, prop=load_vnnlib(str(prop_p)), solver="highs",
                           time_limit=a.time_limit + 5.0, split_budget=a.time_limit,
                           split_rule=rule)
                total = time.perf_counter() - t0
                split = v.seconds.get("split", 0.0)
                print(f"{name + ' prop ' + str(k):<14} {rule:<6} {v.status:<8} {v.how:<16} "
                      f"{v.split_boxes:>9,} {split:>8.2f} {total:>8.2f}", flush=True)
                want = KNOWN.get((name, k))
                if v.status in ("sat", "unsat"):
                    if want and v.status != want:
                        raise SystemExit(f"WRONG VERDICT {name} prop {k}: {v.status}, known {want}")
                    verdicts.add(v.status)
                res[rule].append((v.status in ("sat", "unsat"), v.split_boxes, split, total))
            if len(verdicts) > 1:
                raise SystemExit(f"the rules disagree on {name} prop {k}: {verdicts}")
    print()
    for rule, rows in res.items():
        print(f"{rule:<6}: answered {sum(r[0] for r in rows)}/{len(rows)}, boxes "
              f"{sum(r[1] for r in rows):,}, splitting {sum(r[2] for r in rows):.1f} s, "
              f"median total {statistics.median(r[3] for r in rows):.2f} s")
    if len(a.rules) == 2:
        r0, r1 = (res[r] for r in a.rules)
        both = [(x, y) for x, y in zip(r0, r1) if x[0] and y[0]]
        if both:
            print(f"on the {len(both)} instances both answered: {a.rules[1]} / {a.rules[0]} = "
                  f"{sum(y[1] for _, y in both) / max(sum(x[1] for x, _ in both), 1):.2f}x the "
                  f"boxes, {sum(y[2] for _, y in both) / max(sum(x[2] for x, _ in both), 1e-9):.2f}x"
                  f" the splitting seconds")


if __name__ == "__main__":
    main()
