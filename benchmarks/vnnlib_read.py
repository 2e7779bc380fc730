"""Reading VNN-LIB properties: nncc's VNN-LIB 1.0 reader against the VNN-LIB 2.0
parser (pip ``vnnlib`` 1.0.2, C++) and, when given, the old PyPI reader
(``vnnlib`` 0.0.1, ``read_vnnlib_simple``).

    python3 benchmarks/vnnlib_read.py [--repeat 15] [--old-python PYTHON]

PYTHON is the python of a second virtualenv with the old reader, e.g.
``python3 -m venv /tmp/venv-old && /tmp/venv-old/bin/pip install vnnlib==0.0.1 numpy``.

Four properties are generated into ``benchmarks/.cache/vnnlib_read/``, each in
VNN-LIB 1.0 and in 2.0 syntax (the same numbers, written as plain decimals,
since the 2.0 parser takes neither exponents nor integers for float32):

* ``acasxu_prop3``: ACAS Xu property 3 (5 inputs, 5 outputs, normalised);
* ``mnist_linf``: a VNN-COMP style L-infinity ball around a 784-pixel image
  (784 ``declare-const``, 1,568 bound asserts, one ``or`` over the 9 other classes);
* ``cifar_linf``: the same over 3,072 normalised inputs;
* ``boxes_200x4``: ``(assert (or (and box1) ... (and box200)))`` with
  ``(assert (or (and rows1) ... (and rows4)))`` over 5 inputs and 5 outputs:
  800 disjuncts.

Timed, best of ``--repeat`` rounds, in each round a batch of calls of about 20 ms per
reader, nncc's and the 2.0 parser's in turn (the file is read from disk each call):

* nncc: ``load_vnnlib`` (tokenise, DNF, the disjuncts' arrays: the whole
  :class:`~nncc.problem.property.Property`);
* the 2.0 parser: ``parse_query_file`` and ``to_dnf()`` of every assertion (its
  disjunct count is the product of the assertions' DNF sizes);
* the old reader, in the python of a second virtualenv (its distribution name
  is the 2.0 parser's, so the two cannot share one): ``read_vnnlib_simple``,
  timed inside that process.

The bar: nncc within 2x of the fastest of the others on every file.
"""
import argparse
import json
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from acasxu_properties import vnnlib_text  # noqa: E402

CACHE = HERE / ".cache" / "vnnlib_read"


# -- the properties, VNN-LIB 1.0 --------------------------------------------------------
def _head(n_x: int, n_y: int) -> list:
    return ([f"(declare-const X_{i} Real)" for i in range(n_x)]
            + [f"(declare-const Y_{j} Real)" for j in range(n_y)])


def linf_text(x, eps: float, lo: float, hi: float, label: int, n_y: int = 10,
              name: str = "image") -> str:
    """A VNN-COMP style robustness property: the L-infinity ball of radius eps around x
    (clipped to [lo, hi]) and "some other class scores at least the label's"."""
    lines = [f"; {name}, label {label}, L-infinity radius {eps!r}", ""] + _head(len(x), n_y)
    lines += ["", "; input constraints"]
    for i, v in enumerate(x):
        lines.append(f"(assert (<= X_{i} {min(hi, float(v) + eps)!r}))")
        lines.append(f"(assert (>= X_{i} {max(lo, float(v) - eps)!r}))")
    others = [j for j in range(n_y) if j != label]
    lines += ["", "; output constraints", "(assert (or"]
    lines += [f"    (and (>= Y_{j} Y_{label}))" for j in others]
    lines.append("))")
    return "\n".join(lines) + "\n"


def mnist_text() -> str:
    rng = np.random.default_rng(0)
    img = np.where(rng.random(784) < 0.8, 0, rng.integers(1, 256, 784)) / 255.0
    return linf_text(img, 0.03, 0.0, 1.0, label=7, name="MNIST-like image (784 pixels)")


def cifar_text() -> str:
    rng = np.random.default_rng(1)
    mean = np.repeat([0.4914, 0.4822, 0.4465], 1024)
    std = np.repeat([0.2471, 0.2435, 0.2616], 1024)
    img = rng.integers(0, 256, 3072) / 255.0
    lo, hi = (0 - mean) / std, (1 - mean) / std
    x = (img - mean) / std
    eps = (2 / 255) / std
    lines = ["; CIFAR-like image (3x32x32, normalised), label 3, L-infinity radius 2/255", ""]
    lines += _head(3072, 10) + ["", "; input constraints"]
    for i in range(3072):
        lines.append(f"(assert (<= X_{i} {float(min(hi[i], x[i] + eps[i]))!r}))")
        lines.append(f"(assert (>= X_{i} {float(max(lo[i], x[i] - eps[i]))!r}))")
    lines += ["", "; output constraints", "(assert (or"]
    lines += [f"    (and (>= Y_{j} Y_3))" for j in range(10) if j != 3]
    return "\n".join(lines + ["))"]) + "\n"


def boxes_text(n_boxes: int = 200, n_out: int = 4) -> str:
    """n_boxes input boxes (slices of ACAS Xu property 3's box) in one or, and n_out
    output conjunctions in another: n_boxes x n_out disjuncts."""
    lo = np.array([-0.30353115613746867, -0.009549296585513092, 0.4933803235848431, 0.3, 0.3])
    hi = np.array([-0.29855281193475053, 0.009549296585513092, 0.49999999998567607, 0.5, 0.5])
    cuts = np.linspace(0.3, 0.5, n_boxes + 1)
    lines = [f"; {n_boxes} input boxes x {n_out} output conjunctions", ""] + _head(5, 5) + [""]
    lines.append("(assert (or")
    for k in range(n_boxes):
        b_lo, b_hi = lo.copy(), hi.copy()
        b_lo[3], b_hi[3] = cuts[k], cuts[k + 1]
        lines.append("    (and " + " ".join(f"(>= X_{i} {float(b_lo[i])!r}) (<= X_{i} "
                                            f"{float(b_hi[i])!r})" for i in range(5)) + ")")
    lines.append("))")
    lines.append("(assert (or")
    for j in range(1, n_out + 1):
        other = 1 + j % n_out
        lines.append(f"    (and (<= Y_{j} Y_0) (<= Y_{j} Y_{other}))")
    lines.append("))")
    return "\n".join(lines) + "\n"


def acas_text() -> str:
    return vnnlib_text(3, normalised=True)


# -- the same in VNN-LIB 2.0 syntax -----------------------------------------------------
def to_vnnlib2(text: str) -> str:
    """The 1.0 text in 2.0 syntax: a network declaration, X[i] for X_i, every number a
    plain decimal with a point (exact: via Decimal)."""
    import re
    n_x = len(re.findall(r"\(declare-const X_\d+ Real\)", text))
    n_y = len(re.findall(r"\(declare-const Y_\d+ Real\)", text))
    body = re.sub(r"\(declare-const [XY]_\d+ Real\)\n?", "", text)

    def number(m):
        s = format(Decimal(m.group(0)), "f")
        return s if "." in s else s + ".0"
    body = re.sub(r"(?<![\w.\[])[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?(?![\w.\]])", number, body)
    body = re.sub(r"\b([XY])_(\d+)\b", r"\1[\2]", body)
    head = ("(vnnlib-version <2.0>)\n(declare-network N\n"
            f"  (declare-input X float32 [{n_x}])\n  (declare-output Y float32 [{n_y}]))\n")
    return head + body


PROPERTIES = [("acasxu_prop3", acas_text, 5, 5), ("mnist_linf", mnist_text, 784, 10),
              ("cifar_linf", cifar_text, 3072, 10), ("boxes_200x4", boxes_text, 5, 5)]


def write(out: Path = CACHE) -> list:
    """Write the 1.0 and 2.0 files; [(name, path 1.0, path 2.0, n_x, n_y)]."""
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for name, make, n_x, n_y in PROPERTIES:
        text = make()
        p1, p2 = out / f"{name}.vnnlib", out / f"{name}.v2.vnnlib"
        p1.write_text(text)
        p2.write_text(to_vnnlib2(text))
        files.append((name, p1, p2, n_x, n_y))
    return files


# -- timing ------------------------------------------------------------------------------
def batch(fn, k: int) -> float:
    """Seconds per call, over k calls in a row."""
    t0 = time.perf_counter()
    for _ in range(k):
        fn()
    return (time.perf_counter() - t0) / k


def calls_for(fn, seconds: float = 0.02) -> int:
    """How many calls make a batch of about `seconds` (tiny files are timed in batches)."""
    return max(1, int(seconds / max(batch(fn, 1), 1e-7)))


def nncc_reader(path: Path):
    from nncc.frontend.vnnlib import load_vnnlib
    return lambda: len(load_vnnlib(str(path)).disjuncts)


def vnnlib2_reader(path: Path):
    try:
        import vnnlib
        vnnlib.parse_query_file
    except (ImportError, AttributeError):
        return None

    def run():
        q = vnnlib.parse_query_file(str(path))
        n = 1
        for a in q.assertions:
            n *= len(a.expr.to_dnf())
        return n
    return run


def time_side_by_side(readers: dict, repeat: int) -> dict:
    """Best seconds per call of each reader; the readers take turns in every round, so
    that a busy spell of the machine falls on all of them."""
    k = {name: calls_for(fn) for name, fn in readers.items()}
    best = dict.fromkeys(readers, float("inf"))
    for _ in range(repeat):
        for name, fn in readers.items():
            best[name] = min(best[name], batch(fn, k[name]))
    return best


OLD_SCRIPT = r"""
import json, sys, time
from vnnlib.compat import read_vnnlib_simple
path, n_x, n_y, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def batch(k):
    t0 = time.perf_counter()
    for _ in range(k):
        res = read_vnnlib_simple(path, n_x, n_y)
    return (time.perf_counter() - t0) / k, res
t, res = batch(1)
k = max(1, int(0.02 / t))
best = min(batch(k)[0] for _ in range(repeat))
print(json.dumps([best, sum(len(specs) for _, specs in res)]))
"""


def time_old(python: str | None, path: Path, n_x: int, n_y: int, repeat: int):
    """(best seconds, disjuncts) of PyPI vnnlib 0.0.1's read_vnnlib_simple, run by `python`."""
    if not python:
        return None, None
    r = subprocess.run([python, "-c", OLD_SCRIPT, str(path), str(n_x), str(n_y), str(repeat)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f"old reader failed on {path.name}: {r.stderr.strip().splitlines()[-1:]}",
              file=sys.stderr)
        return None, None
    t, n = json.loads(r.stdout.strip().splitlines()[-1])
    return t, n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15, help="rounds; the best is kept")
    ap.add_argument("--old-python", help="python of a virtualenv with pip 'vnnlib==0.0.1'")
    a = ap.parse_args()
    files = write()

    def ms(t):
        return "-" if t is None else f"{1000 * t:.3f}" if t < 0.001 else f"{1000 * t:.2f}"
    print(f"{'file':<14} {'KB':>6} {'nncc ms':>8} {'2.0 ms':>8} {'old ms':>8} {'nncc/best':>9} "
          f"{'disjuncts nncc / 2.0 / old':>27}  bar")
    all_met = True
    for name, p1, p2, n_x, n_y in files:
        readers = {"nncc": nncc_reader(p1)}
        v2 = vnnlib2_reader(p2)
        if v2 is not None:
            readers["2.0"] = v2
        best = time_side_by_side(readers, a.repeat)
        n_n = readers["nncc"]()
        t_2, n_2 = (best["2.0"], v2()) if v2 is not None else (None, None)
        t_o, n_o = time_old(a.old_python, p1, n_x, n_y, a.repeat)
        t_n = best["nncc"]
        others = [t for t in (t_2, t_o) if t is not None]
        ratio = t_n / min(others) if others else None
        met = ratio is None or ratio <= 2.0
        all_met &= met
        counts = " / ".join("-" if n is None else str(n) for n in (n_n, n_2, n_o))
        print(f"{name:<14} {p1.stat().st_size / 1000:>6.1f} {ms(t_n):>8} {ms(t_2):>8} "
              f"{ms(t_o):>8} {'-' if ratio is None else f'{ratio:.2f}x':>9} {counts:>27}  "
              f"{'met' if met else 'NOT met'}")
    print("bar (nncc within 2x of the fastest on every file):", "met" if all_met else "NOT met")


if __name__ == "__main__":
    main()
