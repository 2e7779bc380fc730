"""Verification instances (VNN-COMP CSV: network, property, time-out) under several bound
methods and solvers: verdict and seconds per step, as a table.

Defaults to the VNN-COMP 2021 test category in ../shared/fixtures (two of its
networks are ACAS Xu 5-50x6-5 networks); point it at an ACAS Xu instances.csv
for the full benchmark:

    python3 benchmarks/verify_acasxu.py [INSTANCES.csv] [--bounds symbolic lp]
        [--solvers highs cbc z3] [--no-falsify] [--time-limit S]

Every sat verdict here is checked (verify never prints sat otherwise); a wrong
verdict against the README's table stops the run.
"""
import argparse
import csv
import statistics
import time
from pathlib import Path

from nncc.frontend.vnnlib import load_vnnlib
from nncc.problem.property import load_network
from nncc.pipeline.verify import verify

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "vnncomp2021_test"
KNOWN = {("test_nano.onnx", "test_nano.vnnlib"): "unsat",
         ("test_tiny.onnx", "test_tiny.vnnlib"): "unsat",
         ("test_small.onnx", "test_small.vnnlib"): "unsat",
         ("test_sat.onnx", "test_prop.vnnlib"): "sat", ("test_unsat.onnx", "test_prop.vnnlib"): "unsat"}


def known(net_p: str, prop_p: str) -> str | None:
    """The published verdict of an instance, for the fixture CSV and for the CSVs
    that acasxu_properties.py writes."""
    from acasxu_properties import KNOWN as ACAS, instance_name
    want = KNOWN.get((Path(net_p).name, Path(prop_p).name))
    if want is None:
        try:
            want = ACAS.get(instance_name(net_p, prop_p))
        except KeyError:
            pass
    return want


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("instances", nargs="?", default=str(DEFAULT / "test_instances.csv"))
    ap.add_argument("--bounds", nargs="+", default=["symbolic", "lp"])
    ap.add_argument("--solvers", nargs="+", default=["highs", "cbc"])
    ap.add_argument("--no-falsify", action="store_true")
    ap.add_argument("--time-limit", type=float, help="override the instances' time-outs")
    a = ap.parse_args()
    base = Path(a.instances).resolve().parent
    rows = [r for r in csv.reader(open(a.instances)) if r and not r[0].startswith("#")]
    print(f"{'network':<18} {'property':<20} {'bounds':<9} {'solver':<6} {'verdict':<8} "
          f"{'how':<16} {'falsify':>7} {'bounds s':>8} {'solver s':>8} {'total s':>8}")
    totals = {}
    for net_p, prop_p, tout in rows:
        net = load_network(str(base / net_p.strip()))
        for b in a.bounds:
            for s in a.solvers:
                prop = load_vnnlib(str(base / prop_p.strip()))
                t0 = time.perf_counter()
                v = verify(None, None, net=net, prop=prop, solver=s, bounds=b,
                           time_limit=a.time_limit or float(tout),
                           falsify_budget=0.0 if a.no_falsify else None)
                total = time.perf_counter() - t0
                sec = v.seconds
                print(f"{Path(net_p).name:<18} {Path(prop_p).name:<20} {b:<9} {s:<6} "
                      f"{v.status:<8} {v.how:<16} {sec.get('falsify', 0):>7.2f} "
                      f"{sec.get('bounds', 0):>8.2f} {sec.get('solver', 0):>8.2f} {total:>8.2f}",
                      flush=True)
                want = known(net_p.strip(), prop_p.strip())
                if want and v.status in ("sat", "unsat") and v.status != want:
                    raise SystemExit(f"WRONG VERDICT on {net_p} {prop_p}: {v.status}, known {want}")
                totals.setdefault((b, s), []).append((total, v.status))
    for (b, s), vals in totals.items():
        answered = sum(st in ("sat", "unsat") for _, st in vals)
        print(f"{b:<9} {s:<6}: answered {answered}/{len(vals)}, median total "
              f"{statistics.median(t for t, _ in vals):.2f} s")


if __name__ == "__main__":
    main()
