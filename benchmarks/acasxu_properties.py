"""ACAS Xu properties 1-8 (Katz et al., Reluplex, 2017) as VNN-LIB 1.0 files, in
the units of each network file, and a VNN-COMP instances CSV over the ACAS Xu
networks that ../shared/fixtures holds.

The fixtures hold three of the 45 ACAS Xu networks:

    N1,1  nnet/TestNetwork.nnet (raw units, normalisation in the header) and
          nnet/TestNetwork2.onnx (raw units, normalisation built in)
    N1,6  vnncomp2021_test/test_unsat.onnx (normalised units, as VNN-COMP)
    N1,7  vnncomp2021_test/test_sat.onnx (normalised units, as VNN-COMP)

A property is stated in the units the network file takes, so each property is
written twice: raw (metres, radians, ft/s; outputs in the NNet's output units)
and normalised (x_n = (x - mean) / range, y_n = (y - mean_out) / range_out,
the VNN-COMP 2021 convention; the normalised property 3 equals the fixture's
test_prop.vnnlib). Properties 2-8 compare outputs with each other, so only
property 1's threshold depends on the output units.

    python3 benchmarks/acasxu_properties.py [--out DIR] [--networks nnet|onnx]

writes DIR/prop_K_{raw,norm}.vnnlib and DIR/instances.csv (8 properties x 3
networks = 24 instances, 120 s each) and prints the CSV's path.
"""
import argparse
from math import pi
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
CACHE = Path(__file__).resolve().parent / ".cache" / "acasxu"

MEANS = [19791.091, 0.0, 0.0, 650.0, 600.0]
RANGES = [60261.0, 6.28318530718, 6.28318530718, 1100.0, 1200.0]
OUT_MEAN, OUT_RANGE = 7.5188840201005975, 373.94992
PI = 3.141592  # the constant the properties' authors used

# Input boxes, raw units: (lower, upper) per input; a list of boxes is a disjunction.
BOXES = {
    1: [[(55947.691, 60760), (-pi, pi), (-pi, pi), (1145, 1200), (0, 60)]],
    2: [[(55947.691, 60760), (-pi, pi), (-pi, pi), (1145, 1200), (0, 60)]],
    3: [[(1500, 1800), (-0.06, 0.06), (3.1, pi), (980, 1200), (960, 1200)]],
    4: [[(1500, 1800), (-0.06, 0.06), (0, 0), (1000, 1200), (700, 800)]],
    5: [[(250, 400), (0.2, 0.4), (-PI, -PI + 0.005), (100, 400), (0, 400)]],
    6: [[(12000, 62000), (0.7, PI), (-PI, -PI + 0.005), (100, 1200), (0, 1200)],
        [(12000, 62000), (-PI, -0.7), (-PI, -PI + 0.005), (100, 1200), (0, 1200)]],
    7: [[(0, 60760), (-PI, PI), (-PI, PI), (100, 1200), (0, 1200)]],
    8: [[(0, 60760), (-PI, -0.75 * PI), (-0.1, 0.1), (600, 1200), (600, 1200)]],
}

# The unsafe outputs, as VNN-LIB over Y_0 (COC), Y_1 (weak left), Y_2 (weak
# right), Y_3 (strong left), Y_4 (strong right); the advisory is the argmin.
UNSAFE = {
    1: ("COC >= 1500", None),   # written per unit below
    2: ("COC is maximal",
        "(assert (and (>= Y_0 Y_1) (>= Y_0 Y_2) (>= Y_0 Y_3) (>= Y_0 Y_4)))"),
    3: ("COC is minimal",
        "(assert (and (<= Y_0 Y_1) (<= Y_0 Y_2) (<= Y_0 Y_3) (<= Y_0 Y_4)))"),
    4: ("COC is minimal",
        "(assert (and (<= Y_0 Y_1) (<= Y_0 Y_2) (<= Y_0 Y_3) (<= Y_0 Y_4)))"),
    5: ("strong right is not minimal",
        "(assert (or (<= Y_0 Y_4) (<= Y_1 Y_4) (<= Y_2 Y_4) (<= Y_3 Y_4)))"),
    6: ("COC is not minimal",
        "(assert (or (<= Y_1 Y_0) (<= Y_2 Y_0) (<= Y_3 Y_0) (<= Y_4 Y_0)))"),
    7: ("strong left or strong right is minimal",
        "(assert (or (and (<= Y_3 Y_0) (<= Y_3 Y_1) (<= Y_3 Y_2))\n"
        "            (and (<= Y_4 Y_0) (<= Y_4 Y_1) (<= Y_4 Y_2))))"),
    8: ("neither COC nor weak left is minimal",
        "(assert (or (and (<= Y_2 Y_0) (<= Y_2 Y_1)) (and (<= Y_3 Y_0) (<= Y_3 Y_1))\n"
        "            (and (<= Y_4 Y_0) (<= Y_4 Y_1))))"),
}

# Verdicts published for the networks each property was written for; the
# other pairs have no published verdict here and are cross-checked instead.
KNOWN = {("N1,1", 1): "unsat", ("N1,6", 1): "unsat", ("N1,7", 1): "unsat",
         ("N1,1", 3): "unsat", ("N1,6", 3): "unsat", ("N1,7", 3): "sat",
         ("N1,1", 4): "unsat", ("N1,6", 4): "unsat", ("N1,7", 4): "sat",
         ("N1,1", 5): "unsat", ("N1,1", 6): "unsat"}


def _box(box, normalised: bool):
    if not normalised:
        return box
    return [((lo - m) / r, (hi - m) / r) for (lo, hi), m, r in zip(box, MEANS, RANGES)]


def vnnlib_text(k: int, normalised: bool) -> str:
    """Property k as VNN-LIB 1.0 text, in normalised or raw units."""
    unit = "normalised" if normalised else "raw"
    lines = [f"; ACAS Xu property {k} ({unit} units); unsafe if {UNSAFE[k][0]}", ""]
    lines += [f"(declare-const X_{i} Real)" for i in range(5)]
    lines += [f"(declare-const Y_{i} Real)" for i in range(5)] + [""]
    boxes = [_box(b, normalised) for b in BOXES[k]]
    conj = [" ".join(f"(>= X_{i} {lo!r}) (<= X_{i} {hi!r})" for i, (lo, hi) in enumerate(b))
            for b in boxes]
    if len(conj) == 1:
        lines.append(f"(assert (and {conj[0]}))")
    else:
        lines.append("(assert (or\n" + "\n".join(f"    (and {c})" for c in conj) + "))")
    if k == 1:
        thr = (1500 - OUT_MEAN) / OUT_RANGE if normalised else 1500.0
        lines.append(f"(assert (>= Y_0 {thr!r}))")
    else:
        lines.append(UNSAFE[k][1])
    return "\n".join(lines) + "\n"


def networks(kind: str = "nnet"):
    """(name, path, normalised?) of the ACAS Xu networks in the fixtures."""
    n11 = FIXTURES / ("nnet/TestNetwork.nnet" if kind == "nnet" else "nnet/TestNetwork2.onnx")
    return [("N1,1", n11, False),
            ("N1,6", FIXTURES / "vnncomp2021_test/test_unsat.onnx", True),
            ("N1,7", FIXTURES / "vnncomp2021_test/test_sat.onnx", True)]


def write(out: Path = CACHE, kind: str = "nnet", timeout: float = 120.0,
          props=range(1, 9)) -> Path:
    """Write the property files and instances.csv; returns the CSV's path."""
    out.mkdir(parents=True, exist_ok=True)
    for k in props:
        for norm in (False, True):
            (out / f"prop_{k}_{'norm' if norm else 'raw'}.vnnlib").write_text(vnnlib_text(k, norm))
    rows = []
    for k in props:
        for name, path, norm in networks(kind):
            rows.append(f"{path},prop_{k}_{'norm' if norm else 'raw'}.vnnlib,{timeout:g}")
    csv = out / f"instances_{kind}.csv"
    csv.write_text("\n".join(rows) + "\n")
    return csv


def instance_name(net_path: str, prop_path: str) -> tuple[str, int]:
    """(network name, property number) of one CSV row."""
    name = {str(p): n for kind in ("nnet", "onnx") for n, p, _ in networks(kind)}[str(net_path)]
    return name, int(Path(prop_path).name.split("_")[1])


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(CACHE))
    ap.add_argument("--networks", choices=["nnet", "onnx"], default="nnet",
                    help="N1,1 as the NNet file or as its ONNX export")
    ap.add_argument("--timeout", type=float, default=120.0)
    a = ap.parse_args()
    print(write(Path(a.out), a.networks, a.timeout))
