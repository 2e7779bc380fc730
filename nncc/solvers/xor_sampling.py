"""Near-uniform sampling with random XOR constraints (UniWit / UniGen style),
through the same incremental z3 process as the enumerator.

Each decision variable ``x`` in ``[lo, hi]`` gets Boolean bits with
``x = lo + sum 2^j b_j``. A sample: inside a ``(push 1)``, assert ``m``
random XORs over the bits (each bit in with probability 1/2, random parity),
which cut the space into about ``2^m`` cells; enumerate the cell up to
``pivot + 1`` models (blocking clauses, popped afterwards); if it holds
between ``pivot / 4`` and ``pivot`` models, return one of them uniformly,
else search ``m`` (doubling while cells are too big, then bisecting, before
the first sample; one step at a time after it) with fresh XORs each try. ``m`` carries over between samples (UniGen2's
leapfrogging). When the whole space has at
most ``pivot`` models it is enumerated once and sampled exactly.

This is the fallback for spaces exact counting cannot split; nncc's own
spaces are always counted exactly (``nncc sample``), and this sampler is
reached with ``nncc sample --method xor`` for comparison.
"""
from __future__ import annotations

import random

from .z3_incremental import IncrementalZ3


def bit_declarations(declarations: list[tuple[str, int, int]], names: list[str]) -> tuple[str, list[str]]:
    """SMT-LIB text tying each of ``names`` to its bits; returns (text, bit names)."""
    bounds = {n: (lo, hi) for n, lo, hi in declarations}
    lines, bits = [], []
    for name in names:
        lo, hi = bounds[name]
        width = (hi - lo).bit_length()
        if width == 0:
            continue
        mine = [f"{name}__b{j}" for j in range(width)]
        lines += [f"(declare-fun {b} () Bool)" for b in mine]
        terms = " ".join(f"(ite {b} {1 << j} 0)" for j, b in enumerate(mine))
        lines.append(f"(assert (= {name} (+ {lo} {terms})))")
        bits += mine
    return "\n".join(lines) + "\n", bits


class XorSampler:
    """Draws models of the formula in ``z3`` near-uniformly over ``bits``."""

    def __init__(self, z3: IncrementalZ3, bits: list[str], seed: int, pivot: int = 16,
                 relevant=None, max_tries: int = 200):
        self.z3 = z3
        self.bits = bits
        self.rng = random.Random(seed)
        self.pivot = pivot
        self.relevant = relevant
        self.max_tries = max_tries
        self.m = 1
        self._big: int | None = None  # largest number of XORs seen with too big a cell
        self._small: int | None = None  # smallest seen with too small a cell
        self.found_m = False  # some m gave a cell of the right size
        self.small_space: list[dict] | None = None
        self.cells_tried = 0

    def _cell(self, m: int) -> list[dict] | None:
        """Models in a random cell of 2^m (None: more than the pivot)."""
        z3 = self.z3
        z3._send("(push 1)\n")
        try:
            for _ in range(m):
                chosen = [b for b in self.bits if self.rng.random() < 0.5]
                parity = self.rng.random() < 0.5
                if not chosen:
                    if parity:
                        z3._send("(assert false)\n")
                    continue
                xor = chosen[0] if len(chosen) == 1 else "(xor " + " ".join(chosen) + ")"
                z3._send(f"(assert {xor})\n" if parity else f"(assert (not {xor}))\n")
            found = []
            for model in z3.models(self.relevant):
                found.append(model)
                if len(found) > self.pivot:
                    return None
            return found
        finally:
            z3._send("(pop 1)\n")

    def sample(self) -> dict | None:
        """One model, or None when the formula has none."""
        if self.small_space is None:
            everything = self._cell(0)
            self.small_space = everything if everything is not None else []
            if everything is not None and not everything:
                return None
        if self.small_space:
            return self.rng.choice(self.small_space)
        low = max(1, self.pivot // 4)
        for _ in range(self.max_tries):
            self.cells_tried += 1
            cell = self._cell(self.m)
            if cell is not None and (len(cell) >= low or (self.m == 1 and cell)):
                self._big = self._small = None
                self.found_m = True
                return self.rng.choice(cell)
            # search for the number of XORs: double while cells are too big, then bisect
            if cell is None:
                self._big = max(self._big or 0, self.m)
            else:
                self._small = min(self._small or self.m, self.m)
            if self._small is not None and self._big is not None and self._small <= self._big + 1:
                self._big = self._small = None  # the bracket collapsed: fresh XORs, same m
                continue
            if self._small is None:  # too big: double until the first sample, then step
                self.m = self.m + 1 if self.found_m else self.m * 2
            elif self._big is None:
                self.m = max(1, self.m - 1 if self.found_m else self.m // 2)
            else:
                self.m = (self._big + self._small) // 2
        raise RuntimeError(f"no cell of the right size in {self.max_tries} tries")
