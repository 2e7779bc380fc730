"""The paper's Table 4 grid for architecture spaces (not part of the test suite).

I = 30, O = 20 in every dimension, kernel 2..11 > stride 1..3, the paper's
semantics (the first layer floor, exact tiling after it), a 2 / stride 1
pooling layer after every convolution, 1-D / 2-D / 3-D, exactly 2..5 layers,
M = 20 architectures; ``--semantics floor`` runs PyTorch's wider space
(kernel 1..10, floor in every layer) instead:

* limited: the first M through one incremental z3 process (push, blocking clauses);
* uniform: M distinct architectures drawn exactly uniformly by counting;
* count:   the exact number of architectures (dynamic programming);
* all:     seconds to enumerate every one with z3, where the count is at most
           --all-up-to (default 20,000; the paper's code needed minutes for this);
* xor:     (--xor) M near-uniform samples by random XOR constraints through z3.

Every architecture is checked by the numpy shape arithmetic. The paper's
slowest cell was 11,509 s (uniform, 3-D, 4 layers); its limited enumeration
took 0.26 s to 1,885 s. Run: ``python3 benchmarks/architecture_grid.py``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nncc.pipeline.architectures import enumerate_space, sample_space, xor_sample_space  # noqa: E402
from nncc.problem.architecture import ArchitectureSpace, SpaceCounter, adjacent_hamming  # noqa: E402


def grid_space(dims: int, layers: int, semantics: str = "paper") -> ArchitectureSpace:
    kernel = (2, 11) if semantics == "paper" else (1, 10)
    return ArchitectureSpace(f"grid{dims}d{layers}", (30,) * dims, (20,) * dims, (layers, layers),
                             {"kernel": kernel, "stride": (1, 3), "padding": (0, 0),
                              "dilation": (1, 1)},
                             pool_kernel=(2,) * dims, pool_stride=(1,) * dims, semantics=semantics)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-m", type=int, default=20, help="architectures per cell (default 20)")
    ap.add_argument("--all-up-to", type=int, default=20_000,
                    help="also time full z3 enumeration for spaces up to this size")
    ap.add_argument("--dims", type=int, nargs="*", default=[1, 2, 3])
    ap.add_argument("--layers", type=int, nargs="*", default=[2, 3, 4, 5])
    ap.add_argument("--xor", action="store_true", help="also time XOR-hash near-uniform "
                    "sampling through z3 (UniWit style, pivot 16)")
    ap.add_argument("--semantics", choices=["paper", "floor"], default="paper",
                    help="paper (default): the paper's space; floor: PyTorch's wider one")
    args = ap.parse_args()
    print(f"{'dims':>4} {'layers':>6} {'count':>12} {'limited s':>10} {'Adj_T':>6} "
          f"{'uniform s':>10} {'Adj_T':>6} {'all s':>8}" + (f" {'xor s':>8}" if args.xor else ""))
    for dims in args.dims:
        for layers in args.layers:
            space = grid_space(dims, layers, args.semantics)
            t = time.perf_counter()
            count = SpaceCounter(space).count()
            t_count = time.perf_counter() - t
            run = enumerate_space(space, args.m)
            t = time.perf_counter()
            uni = sample_space(space, args.m, seed=0, distinct=True)
            t_uni = time.perf_counter() - t + t_count
            assert all(not a.problems(space) for a in run.architectures + uni)
            all_s = ""
            if count <= args.all_up_to:
                full = enumerate_space(space, None)
                assert full.complete and len(full.architectures) == count
                all_s = f"{full.seconds:.2f}"
            xor_s = ""
            if args.xor:
                t = time.perf_counter()
                xs, _ = xor_sample_space(space, args.m, seed=0)
                assert len(xs) == args.m
                xor_s = f" {time.perf_counter() - t:>8.2f}"
            print(f"{dims:>4} {layers:>6} {count:>12,} {run.seconds:>10.3f} "
                  f"{adjacent_hamming(run.architectures, space):>6.2f} {t_uni:>10.3f} "
                  f"{adjacent_hamming(uni, space):>6.2f} {all_s:>8}{xor_s}", flush=True)


if __name__ == "__main__":
    main()
