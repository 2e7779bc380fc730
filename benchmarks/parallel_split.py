"""Input and ReLU splitting of one instance on 1 and 2 worker processes (``--split-workers``).

The hard ACAS Xu instance (property 6 on N1,7: 25,764 boxes) and the 24 ACAS Xu
instances of benchmarks/acasxu_properties.py one after another (no
falsification, so that splitting decides), and (where benchmarks/.cache has the
MNIST 784-64-64-10 network, ``python benchmarks/mnist_model.py``) ReLU splitting
on L-infinity balls of radius 0.08 around test images 1 and 3, each with 1 and 2
workers, in the same run, best of ``--repeat``. Prints wall seconds, the
speed-up, instances per minute, and checks that the verdicts and the proofs'
boxes (nodes) are the same.

    python benchmarks/parallel_split.py [--repeat 3]
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from acasxu_properties import CACHE, networks, write  # noqa: E402


def run(net, prop, workers):
    from nncc.pipeline.verify import verify
    t = time.perf_counter()
    v = verify(str(net), str(prop), solver="highs", time_limit=300, falsify_budget=0.0,
               split_workers=workers)
    return time.perf_counter() - t, v


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    write(CACHE, "nnet")
    hard = (networks("nnet")[2][1], CACHE / "prop_6_norm.vnnlib")
    print("| what | 1 worker s | 2 workers s | speed-up | same verdicts |")
    print("|---|---|---|---|---|")
    best, verdicts = {}, {}
    for w in (1, 2):
        for _ in range(args.repeat):
            secs, v = run(*hard, w)
            best[w] = min(best.get(w, secs), secs)
            verdicts[w] = (v.status, v.split_boxes)
    same = verdicts[1] == verdicts[2]
    print(f"| property 6 / N1,7 ({verdicts[1][1]:,} boxes) | {best[1]:.2f} | {best[2]:.2f} | "
          f"{best[1] / best[2]:.2f}x | {'yes' if same else f'NO {verdicts}'} |")
    insts = [(p, CACHE / f"prop_{k}_{'norm' if norm else 'raw'}.vnnlib")
             for k in range(1, 9) for _, p, norm in networks("nnet")]
    total, out = {}, {}
    for w in (1, 2):
        for _ in range(args.repeat):
            t = time.perf_counter()
            out[w] = [run(n, p, w)[1].status for n, p in insts]
            secs = time.perf_counter() - t
            total[w] = min(total.get(w, secs), secs)
    same24 = out[1] == out[2]
    print(f"| 24 ACAS Xu instances, one after another | {total[1]:.2f} | {total[2]:.2f} | "
          f"{total[1] / total[2]:.2f}x | {'yes' if same24 else 'NO'} |")
    mnist = Path(__file__).resolve().parent / ".cache" / "mnist_784_64_64_10.onnx"
    same_m = True
    if mnist.exists():
        import numpy as np
        import nncc
        data = np.load(mnist.with_name("mnist_test.npz"))
        net = nncc.network(str(mnist))
        for i in (1, 3):
            x = data["X"][i].ravel()
            label = int(np.argmax(net.forward(x[None])[0]))
            prop = nncc.robustness_property(x, 0.08, label, 10, 0, 1)
            best_m, got = {}, {}
            for w in (1, 2):
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    v = nncc.verify(str(mnist), prop, time_limit=300, falsify_budget=0.0,
                                    split_workers=w)
                    secs = time.perf_counter() - t
                    best_m[w] = min(best_m.get(w, secs), secs)
                    got[w] = (v.status, v.split_boxes if v.status == "unsat" else None)
            same_m = same_m and got[1] == got[2]
            print(f"| MNIST image {i}, radius 0.08: {got[1][0]} by ReLU splitting "
                  f"({v.split_boxes:,} nodes) | {best_m[1]:.2f} | {best_m[2]:.2f} | "
                  f"{best_m[1] / best_m[2]:.2f}x | {'yes' if got[1] == got[2] else 'NO'} |")
    print(f"\ninstances per minute: {60 * 24 / total[1]:.0f} on 1 worker, "
          f"{60 * 24 / total[2]:.0f} on 2")
    return 0 if same and same24 and same_m else 1


if __name__ == "__main__":
    sys.exit(main())
