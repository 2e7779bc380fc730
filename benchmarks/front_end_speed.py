"""Front-end and symbol-map speed: the figures that were wall-clock asserts in tests.

* parsing: milliseconds per parse of ``examples/xor.nn`` (Lark's LALR parser and
  nncc's transformer), against Lark's parse alone (the grammar's own cost);
* the symbol map: ``SymbolMap.vector`` on 200,000 solver names (200 x 500 and
  100 x 1,000 arrays), against a name -> column dict built from the map's
  names and a loop over the values (the map parses each name instead and
  keeps no table, so that a map of millions of variables stays small).

    python benchmarks/front_end_speed.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nncc.frontend.parser import lark_parser, parse  # noqa: E402
from nncc.ir.program import REAL, Program  # noqa: E402
from nncc.writers.symbol_map import SymbolMap  # noqa: E402


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    text = (ROOT / "examples" / "xor.nn").read_text()
    parse(text, "warm.nn")
    lark = lark_parser()
    ours = best_of(lambda: [parse(text, "x.nn") for _ in range(20)]) / 20
    print(f"parse examples/xor.nn: {ours * 1e3:.2f} ms per parse")
    alone = best_of(lambda: [lark.parse(text) for _ in range(20)]) / 20
    print(f"  Lark's parse alone: {alone * 1e3:.2f} ms (nncc's transformer: "
          f"{(ours - alone) * 1e3:.2f} ms)")

    prog = Program()
    prog.add_vars("layer.weight", (200, 500), REAL)
    prog.add_vars("layer", (100, 1000), REAL)
    names = prog.var_names()
    smap = SymbolMap.from_program(prog, "mps")
    values = dict(zip(names, np.arange(len(names), dtype=float)))
    fast = best_of(lambda: smap.vector(values), repeat=3)

    def naive():   # the dict built from the map's names, then a loop over the values
        index = {n: i for i, n in enumerate(smap.names())}
        x = np.zeros(len(names))
        for n, v in values.items():
            x[index[n]] = v
        return x
    slow = best_of(naive, repeat=3)
    print(f"SymbolMap.vector, {len(names):,} names: {fast:.3f} s (names parsed, no table kept); "
          f"a name -> column dict built from the map, then a loop: {slow:.3f} s "
          f"(SymbolMap takes {fast / slow:.1f}x its time)")


if __name__ == "__main__":
    main()
