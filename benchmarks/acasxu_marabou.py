"""ACAS Xu properties 1-8 on the three ACAS Xu networks of ../shared/fixtures
(24 instances, benchmarks/acasxu_properties.py): nncc against Marabou
(PyPI maraboupy), side by side, every verdict compared.

    python3 benchmarks/acasxu_marabou.py [--time-limit 120] [--tools nncc marabou]
        [--solver highs] [--bounds symbolic|lp]

Each tool runs as its own subprocess per instance, one at a time; the wall
time includes starting Python and reading the network. nncc reads N1,1 as
the NNet file (raw units) and Marabou as the same file without its
normalisation, with the property in normalised units (how Marabou is usually
run on ACAS Xu); the two statements are the same property. Results go to
benchmarks/.cache/acasxu/results_<tool>.csv; the table merges what is there,
so the tools may be run separately (--tools) and compared afterwards.

A verdict is wrong when it contradicts a published one (acasxu_properties.KNOWN)
or the other tool's; a sat verdict is accepted only with a counterexample
that nncc's check (float64 forward pass and onnxruntime) confirms.
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from acasxu_properties import CACHE, KNOWN, MEANS, RANGES, networks, write  # noqa: E402

MARABOU = r'''
import sys, json, time, warnings
warnings.filterwarnings("ignore")
from maraboupy import Marabou
net_p, prop_p, tl = sys.argv[1], sys.argv[2], int(float(sys.argv[3]))
net = Marabou.read_nnet(net_p, normalize=False) if net_p.endswith(".nnet") else Marabou.read_onnx(net_p)
opts = Marabou.createOptions(timeoutInSeconds=tl, verbosity=0)
code, vals, stats = net.solve(propertyFilename=prop_p, options=opts, verbose=False)
x = []
if code == "sat":
    iv = net.inputVars[0].ravel()
    x = [float(vals[int(v)]) for v in iv]
print(json.dumps({"verdict": code, "x": x}))
'''


def run_nncc(net, prop, tl, solver, bounds):
    cmd = [sys.executable, "-m", "nncc", "verify", str(net), str(prop), "--time-limit", str(tl),
           "--solver", solver, "--bounds", bounds, "--json"]
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=tl + 60)
    wall = time.perf_counter() - t
    try:
        rep = json.loads(p.stdout)
    except json.JSONDecodeError:
        return {"verdict": f"error (exit {p.returncode})", "wall": wall, "inside": "", "how": ""}
    return {"verdict": rep["verdict"], "wall": wall, "inside": rep["seconds"].get("total", ""),
            "how": rep["how"]}


def run_marabou(net, prop, tl):
    t = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, "-c", MARABOU, str(net), str(prop), str(tl)],
                           capture_output=True, text=True, timeout=tl + 30)
    except subprocess.TimeoutExpired:
        return {"verdict": "timeout", "wall": time.perf_counter() - t, "x": []}
    wall = time.perf_counter() - t
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        return {"verdict": f"error (exit {p.returncode})", "wall": wall, "x": []}
    rep = json.loads(lines[-1])
    v = {"sat": "sat", "unsat": "unsat", "TIMEOUT": "timeout"}.get(rep["verdict"], rep["verdict"])
    return {"verdict": v, "wall": wall, "x": rep["x"]}


def marabou_cex_ok(net_path, prop_path, x) -> bool:
    """Marabou's point through nncc's counterexample check, in the network's own units."""
    from nncc.frontend.vnnlib import load_vnnlib
    from nncc.problem.property import load_network
    from nncc.checks.counterexample import check_counterexample
    return bool(check_counterexample(load_network(str(net_path)), load_vnnlib(str(prop_path)),
                                     x).ok)


def instances():
    write(CACHE, "nnet")
    for k in range(1, 9):
        for name, path, norm in networks("nnet"):
            own = CACHE / f"prop_{k}_{'norm' if norm else 'raw'}.vnnlib"
            yield name, k, path, own, CACHE / f"prop_{k}_norm.vnnlib"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--tools", nargs="+", default=["nncc", "marabou"])
    ap.add_argument("--solver", default="highs")
    ap.add_argument("--bounds", default="symbolic")
    a = ap.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    insts = list(instances())
    for tool in a.tools:
        out = CACHE / f"results_{tool}.csv"
        rows = []
        for name, k, net, own, norm in insts:
            if tool == "nncc":
                r = run_nncc(net, own, a.time_limit, a.solver, a.bounds)
            else:
                r = run_marabou(net, norm, a.time_limit)
                if r["verdict"] == "sat":  # Marabou's point is in normalised units
                    x = np.asarray(r["x"])
                    if str(net).endswith(".nnet"):
                        x = x * np.asarray(RANGES) + np.asarray(MEANS)
                    r["how"] = "cex checked" if marabou_cex_ok(net, own, x) else "cex FAILED check"
            rows.append({"network": name, "property": k, "verdict": r["verdict"],
                         "wall": f"{r['wall']:.3f}", "inside": r.get("inside", ""),
                         "how": r.get("how", "")})
            print(f"{tool:<8} {name:<5} prop {k}: {r['verdict']:<8} {r['wall']:7.2f} s "
                  f"{r.get('how', '')}", flush=True)
        tmp = out.with_suffix(".tmp")
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        os.replace(tmp, out)
    table(a.time_limit)


def table(tl):
    res = {}
    for tool in ("nncc", "marabou"):
        p = CACHE / f"results_{tool}.csv"
        if p.exists():
            for r in csv.DictReader(open(p)):
                res[(tool, r["network"], int(r["property"]))] = r
    print(f"\n{'network':<6} {'prop':>4} {'known':<6} {'nncc':<8} {'s':>7} {'how':<17} "
          f"{'marabou':<8} {'s':>7}  agree")
    wrong = []
    keys = sorted({(n, k) for _, n, k in res})
    for n, k in keys:
        a, b = res.get(("nncc", n, k)), res.get(("marabou", n, k))
        known = KNOWN.get((n, k), "")
        va, vb = (a or {}).get("verdict", "-"), (b or {}).get("verdict", "-")
        decided = [v for v in (va, vb, known) if v in ("sat", "unsat")]
        agree = "yes" if len(set(decided)) <= 1 else "NO"
        if agree == "NO":
            wrong.append((n, k))
        print(f"{n:<6} {k:>4} {known:<6} {va:<8} {float((a or {}).get('wall', 'nan')):7.2f} "
              f"{(a or {}).get('how', ''):<17} {vb:<8} {float((b or {}).get('wall', 'nan')):7.2f}"
              f"  {agree}")
    for tool in ("nncc", "marabou"):
        rows = [r for (t, _, _), r in res.items() if t == tool]
        if not rows:
            continue
        ans = [r for r in rows if r["verdict"] in ("sat", "unsat")]
        walls = [float(r["wall"]) for r in ans]
        print(f"{tool}: answered {len(ans)}/{len(rows)} within {tl:g} s; median wall of the "
              f"answered {statistics.median(walls) if walls else float('nan'):.2f} s; median wall "
              f"of all {statistics.median(float(r['wall']) for r in rows):.2f} s")
    both = [(float(res[('nncc', n, k)]['wall']), float(res[('marabou', n, k)]['wall']))
            for n, k in keys if ('nncc', n, k) in res and ('marabou', n, k) in res]
    if both:
        tn, tm = sum(x for x, _ in both), sum(y for _, y in both)
        print(f"total wall: nncc {tn:.1f} s, marabou {tm:.1f} s (time-outs counted at their "
              f"limit): ratio {tm / tn:.1f}x")
    if wrong:
        raise SystemExit(f"DISAGREEMENT on {wrong}")


if __name__ == "__main__":
    main()
