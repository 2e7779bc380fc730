"""Architecture spaces: stacks of convolutions (each followed by a fixed pooling
layer, if asked) that map an input shape to an output shape.

Shape arithmetic, per dimension, as PyTorch and ONNX compute it::

    conv:  O = floor((I + 2p - d(k - 1) - 1) / s) + 1     needs I + 2p - d(k - 1) - 1 >= 0
    pool:  O = floor((I - kp) / sp) + 1                     needs I - kp >= 0

Three semantics say which stacks count:

* ``paper`` (the default; the architecture-space paper's): the kernel is
  larger than the stride (``kernel > stride >= 1``: windows overlap, no input
  is skipped, no identity layer); the first layer (convolution and pooling)
  divides with floor, every later one must tile its input exactly;
* ``floor``: floor division in every layer, any kernel >= 1 (PyTorch's
  whole space, identity layers included);
* ``exact``: every division exact, ``(I + 2p - d(k - 1) - 1) mod s = 0`` and
  ``(I - kp) mod sp = 0``, in every layer.

An architecture is the number of layers and, per layer and dimension, the
kernel k, stride s, padding p and dilation d. The space is counted and
sampled exactly by dynamic programming over the layers (:class:`SpaceCounter`);
:func:`brute_force` enumerates the same space by trying every combination in
numpy and is the reference the tests compare against.
"""
from __future__ import annotations

import itertools
import operator
import random
from dataclasses import dataclass, field

import numpy as np

from ..errors import SourcePos
from .query import Document

PARAMS = ("kernel", "stride", "padding", "dilation")
COMPARE_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
               "=": operator.eq, "!=": operator.ne}


@dataclass(frozen=True)
class Compare:
    """``lhs OP rhs`` within every layer and dimension; ``rhs`` a parameter name or an int."""

    lhs: str
    op: str
    rhs: str | int

    def holds(self, values: dict[str, int]) -> bool:
        rhs = values[self.rhs] if isinstance(self.rhs, str) else self.rhs
        return COMPARE_OPS[self.op](values[self.lhs], rhs)

    def __str__(self) -> str:
        return f"{self.lhs} {self.op} {self.rhs}"


PAPER_RULE = Compare("kernel", ">", "stride")


@dataclass
class ArchitectureSpace:
    """The declared space (``architecture NAME { ... }``), checked."""

    name: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    layers: tuple[int, int]
    ranges: dict[str, tuple[int, int]]  # every name of PARAMS -> (lo, hi), inclusive
    pool_kernel: tuple[int, ...] | None = None
    pool_stride: tuple[int, ...] | None = None
    semantics: str = "paper"  # "paper" | "floor" | "exact" (module docstring)
    square: frozenset = frozenset()  # parameters equal across dimensions within a layer
    compares: tuple[Compare, ...] = ()
    monotone: tuple[tuple[str, str], ...] = ()  # (param, "increasing" | "decreasing")
    pos: SourcePos | None = None

    kind = "architecture"

    @property
    def dims(self) -> int:
        return len(self.input_shape)

    def exact_at(self, layer: int) -> bool:
        """Whether layer ``layer`` (from 0) must tile its input exactly."""
        return self.semantics == "exact" or (self.semantics == "paper" and layer > 0)

    @property
    def rules(self) -> tuple[Compare, ...]:
        """The per-layer comparisons: the declared ones and the semantics' own."""
        return (PAPER_RULE,) + self.compares if self.semantics == "paper" else self.compares

    def local_choices(self) -> list[tuple[int, int, int, int]]:
        """Every (k, s, p, d) in the ranges that satisfies the per-layer comparisons."""
        out = []
        for combo in itertools.product(*(range(lo, hi + 1) for lo, hi in
                                         (self.ranges[p] for p in PARAMS))):
            values = dict(zip(PARAMS, combo))
            if all(c.holds(values) for c in self.rules):
                out.append(combo)
        return out

    def describe(self) -> str:
        shape = lambda t: " x ".join(map(str, t))  # noqa: E731
        parts = [f"{shape(self.input_shape)} -> {shape(self.output_shape)}",
                 f"{self.layers[0]}..{self.layers[1]} layers"]
        parts += [f"{p} {lo}..{hi}" for p, (lo, hi) in self.ranges.items() if lo != hi or p in
                  ("kernel", "stride")]
        if self.pool_kernel:
            parts.append(f"pool {shape(self.pool_kernel)} stride {shape(self.pool_stride)} after each")
        parts.append(f"semantics {self.semantics}")
        parts += [f"square {p}" for p in sorted(self.square)]
        parts += [str(c) for c in self.compares]
        parts += [f"monotone {p} {d}" for p, d in self.monotone]
        return ", ".join(parts)


@dataclass
class SpaceTask:
    """``enumerate NAME [limit M] [uniform] [seed S]``, ``count NAME``, ``sample NAME count M seed S``."""

    kind: str  # "enumerate" | "count" | "sample"
    space: ArchitectureSpace
    limit: int | None = None
    count: int | None = None
    seed: int = 0
    uniform: bool = False
    pos: SourcePos | None = None

    @property
    def name(self) -> str:
        return f"{self.kind} {self.space.name}"


@dataclass
class ArchitectureDocument(Document):
    """A ``Document`` that also holds architecture spaces and the tasks asked of them."""

    architectures: dict[str, ArchitectureSpace] = field(default_factory=dict)
    tasks: list[SpaceTask] = field(default_factory=list)


# ------------------------------------------------------------------ arithmetic

def conv_size(n: int, k: int, s: int, p: int, d: int, exact: bool) -> int | None:
    """Output size of one convolution, None when the kernel does not fit (or, exact, does not tile)."""
    num = n + 2 * p - d * (k - 1) - 1
    if num < 0 or (exact and num % s):
        return None
    return num // s + 1


def pool_size(n: int, k: int, s: int, exact: bool) -> int | None:
    """Output size of one pooling window (no padding, no dilation)."""
    return conv_size(n, k, s, 0, 1, exact)


@dataclass(frozen=True)
class Architecture:
    """``layers[i][dim] = (kernel, stride, padding, dilation)``."""

    layers: tuple[tuple[tuple[int, int, int, int], ...], ...]

    def param(self, layer: int, name: str) -> tuple[int, ...]:
        j = PARAMS.index(name)
        return tuple(c[j] for c in self.layers[layer])

    def shapes(self, space: ArchitectureSpace) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
        """Per layer: (shape after the convolution, shape after the pooling), computed in numpy.

        A size that does not exist (the kernel does not fit) is -1 from there on.
        """
        n = np.asarray(space.input_shape, dtype=np.int64)
        out = []
        for i, layer in enumerate(self.layers):
            exact = space.exact_at(i)
            k, s, p, d = (np.asarray(v, dtype=np.int64) for v in zip(*layer))
            num = n + 2 * p - d * (k - 1) - 1
            ok = (n >= 1) & (num >= 0) & ((not exact) | (num % s == 0))
            conv = np.where(ok, np.floor_divide(num, s) + 1, -1)
            pooled = conv
            if space.pool_kernel:
                kp = np.asarray(space.pool_kernel, dtype=np.int64)
                sp = np.asarray(space.pool_stride, dtype=np.int64)
                num = conv - kp
                ok = (conv >= 1) & (num >= 0) & ((not exact) | (num % sp == 0))
                pooled = np.where(ok, np.floor_divide(num, sp) + 1, -1)
            out.append((tuple(int(v) for v in conv), tuple(int(v) for v in pooled)))
            n = pooled
        return out

    def problems(self, space: ArchitectureSpace) -> list[str]:
        """What is wrong with this architecture in ``space`` (empty: it is a valid member)."""
        found = []
        if not space.layers[0] <= len(self.layers) <= space.layers[1]:
            found.append(f"{len(self.layers)} layers, outside {space.layers[0]}..{space.layers[1]}")
        for i, layer in enumerate(self.layers):
            if len(layer) != space.dims:
                found.append(f"layer {i + 1}: {len(layer)} dimensions, not {space.dims}")
                return found
            for dim, choice in enumerate(layer):
                values = dict(zip(PARAMS, choice))
                for name, v in values.items():
                    lo, hi = space.ranges[name]
                    if not lo <= v <= hi:
                        found.append(f"layer {i + 1} dim {dim}: {name} {v} outside {lo}..{hi}")
                found += [f"layer {i + 1} dim {dim}: {c} fails" for c in space.rules
                          if not c.holds(values)]
            for name in space.square:
                if len(set(self.param(i, name))) > 1:
                    found.append(f"layer {i + 1}: {name} {self.param(i, name)} not square")
        for name, direction in space.monotone:
            for i in range(len(self.layers) - 1):
                a, b = self.param(i, name), self.param(i + 1, name)
                if any((y < x) if direction == "increasing" else (y > x) for x, y in zip(a, b)):
                    found.append(f"layers {i + 1}-{i + 2}: {name} not {direction}")
        shapes = self.shapes(space)
        for i, (conv, pooled) in enumerate(shapes):
            if -1 in conv or -1 in pooled:
                found.append(f"layer {i + 1}: the window does not fit"
                             + (" or does not tile exactly" if space.exact_at(i) else ""))
                break
        if shapes and shapes[-1][1] != tuple(space.output_shape):
            found.append(f"output shape {shapes[-1][1]} is not {tuple(space.output_shape)}")
        return found

    def to_json(self, space: ArchitectureSpace) -> dict:
        """One JSON line: the layers with their parameters and shapes."""
        layers = []
        for i, (conv, pooled) in enumerate(self.shapes(space)):
            row = {name: list(self.param(i, name)) for name in PARAMS}
            row["conv_shape"] = list(conv)
            row["shape"] = list(pooled)
            layers.append(row)
        return {"architecture": space.name, "input": list(space.input_shape),
                "output": list(space.output_shape), "n_layers": len(self.layers),
                "pool": ({"kernel": list(space.pool_kernel), "stride": list(space.pool_stride)}
                         if space.pool_kernel else None),
                "layers": layers}

    @classmethod
    def from_json(cls, d: dict) -> "Architecture":
        return cls(tuple(tuple(zip(*(row[p] for p in PARAMS))) for row in d["layers"]))

    def bits(self, space: ArchitectureSpace) -> str:
        """Kernel and stride of every layer slot as fixed-width bits (for the Adj_T metric)."""
        out = []
        for name in ("kernel", "stride"):
            width = max(1, int(space.ranges[name][1]).bit_length())
            for i in range(space.layers[1]):
                for dim in range(space.dims):
                    v = self.param(i, name)[dim] if i < len(self.layers) else 0
                    out.append(format(v, f"0{width}b"))
        return "".join(out)


def adjacent_hamming(archs: list[Architecture], space: ArchitectureSpace) -> float:
    """The paper's Adj_T: mean Hamming distance between consecutive solutions' bit vectors."""
    if len(archs) < 2:
        return 0.0
    bits = [a.bits(space) for a in archs]
    return sum(sum(x != y for x, y in zip(a, b)) for a, b in zip(bits, bits[1:])) / (len(bits) - 1)


# ------------------------------------------------------------------ reference: brute force

def brute_force(space: ArchitectureSpace, max_rows: int = 5_000_000) -> list[Architecture]:
    """Every architecture of ``space``, found by trying every combination in numpy.

    Deliberately shares no code with the counter: it is the tests' reference.
    Refuses spaces with more than ``max_rows`` combinations per layer count.
    """
    grids = [np.arange(lo, hi + 1) for lo, hi in (space.ranges[p] for p in PARAMS)]
    mesh = np.stack([g.ravel() for g in np.meshgrid(*grids, indexing="ij")], axis=1)  # (C, 4)
    keep = np.ones(len(mesh), dtype=bool)
    for c in space.rules:
        lhs = mesh[:, PARAMS.index(c.lhs)]
        rhs = mesh[:, PARAMS.index(c.rhs)] if isinstance(c.rhs, str) else c.rhs
        keep &= COMPARE_OPS[c.op](lhs, rhs)
    local = mesh[keep]
    dims = space.dims
    found = []
    for n_layers in range(space.layers[0], space.layers[1] + 1):
        slots = n_layers * dims
        total = len(local) ** slots
        if total > max_rows:
            raise ValueError(f"brute force: {total} combinations for {n_layers} layers is too many")
        idx = np.stack(np.unravel_index(np.arange(total), (len(local),) * slots), axis=1)
        choice = local[idx].reshape(total, n_layers, dims, 4)
        k, s, p, d = (choice[..., j] for j in range(4))
        ok = np.ones(total, dtype=bool)
        n = np.broadcast_to(np.asarray(space.input_shape), (total, dims)).copy()
        for i in range(n_layers):
            exact = space.semantics == "exact" or (space.semantics == "paper" and i > 0)
            num = n + 2 * p[:, i] - d[:, i] * (k[:, i] - 1) - 1
            ok &= np.all(num >= 0, axis=1)
            if exact:
                ok &= np.all(num % s[:, i] == 0, axis=1)
            n = num // s[:, i] + 1
            if space.pool_kernel:
                num = n - np.asarray(space.pool_kernel)
                ok &= np.all(num >= 0, axis=1)
                if exact:
                    ok &= np.all(num % np.asarray(space.pool_stride) == 0, axis=1)
                n = num // np.asarray(space.pool_stride) + 1
        ok &= np.all(n == np.asarray(space.output_shape), axis=1)
        for name in space.square:
            v = choice[..., PARAMS.index(name)]
            ok &= np.all(v == v[:, :, :1], axis=(1, 2))
        for name, direction in space.monotone:
            v = choice[..., PARAMS.index(name)]
            step = v[:, 1:] - v[:, :-1]
            ok &= np.all(step >= 0 if direction == "increasing" else step <= 0, axis=(1, 2))
        for row in choice[ok]:
            found.append(Architecture(tuple(tuple(tuple(int(x) for x in row[i, dim])
                                                  for dim in range(dims))
                                            for i in range(n_layers))))
    return found


# ------------------------------------------------------------------ exact counting by DP

class _GroupCounter:
    """Counts completions for a group of dimensions that must be decided together.

    State: (sizes of the group's dimensions, previous values of the monotone
    parameters per dimension, whether the next layer is the first). ``ways(r, state)`` is the number of ways to
    choose ``r`` more layers that end exactly at the target sizes.
    """

    def __init__(self, space: ArchitectureSpace, dims: tuple[int, ...]):
        self.space = space
        self.dims = dims
        self.target = tuple(space.output_shape[d] for d in dims)
        self.start = (tuple(space.input_shape[d] for d in dims), None, True)
        local = space.local_choices()
        square_idx = [PARAMS.index(p) for p in space.square]
        self.choices = [combo for combo in itertools.product(local, repeat=len(dims))
                        if all(len({c[j] for c in combo}) == 1 for j in square_idx)]
        self.monotone = [(PARAMS.index(p), direction == "increasing")
                         for p, direction in space.monotone]
        self._memo: dict = {}
        self._next: dict = {}

    def step(self, state, combo):
        """The state after one more layer ``combo`` (per dimension (k, s, p, d)), or None."""
        key = (state, combo)
        if key in self._next:
            return self._next[key]
        sizes, prev, first = state
        exact = self.space.exact_at(0 if first else 1)
        new_sizes = []
        result = None
        for j, (n, (k, s, p, d)) in enumerate(zip(sizes, combo)):
            if prev is not None and any(
                    (combo[j][idx] < prev[j][m]) if up else (combo[j][idx] > prev[j][m])
                    for m, (idx, up) in enumerate(self.monotone)):
                break
            o = conv_size(n, k, s, p, d, exact)
            if o is not None and self.space.pool_kernel:
                dim = self.dims[j]
                o = pool_size(o, self.space.pool_kernel[dim], self.space.pool_stride[dim], exact)
            if o is None:
                break
            new_sizes.append(o)
        else:
            new_prev = (tuple(tuple(c[idx] for idx, _ in self.monotone) for c in combo)
                        if self.monotone else None)
            result = (tuple(new_sizes), new_prev, False)
        self._next[key] = result
        return result

    def ways(self, remaining: int, state) -> int:
        if remaining == 0:
            return 1 if state[0] == self.target else 0
        key = (remaining, state)
        if key in self._memo:
            return self._memo[key]
        total = 0
        # without padding sizes never grow: a size already below the target is dead
        if self.space.ranges["padding"][1] == 0 and any(
                n < t for n, t in zip(state[0], self.target)):
            self._memo[key] = 0
            return 0
        for combo in self.choices:
            nxt = self.step(state, combo)
            if nxt is not None:
                total += self.ways(remaining - 1, nxt)
        self._memo[key] = total
        return total

    def unrank(self, n_layers: int, rank: int) -> list[tuple]:
        """The ``rank``-th way (in choice order) to fill ``n_layers`` layers."""
        state, out = self.start, []
        for remaining in range(n_layers, 0, -1):
            for combo in self.choices:
                nxt = self.step(state, combo)
                if nxt is None:
                    continue
                w = self.ways(remaining - 1, nxt)
                if rank < w:
                    out.append(combo)
                    state = nxt
                    break
                rank -= w
            else:  # pragma: no cover - ranks come from ways()
                raise ValueError("rank out of range")
        return out


class SpaceCounter:
    """Exact count, ranking and uniform sampling of an architecture space.

    The dimensions are independent unless a ``square`` constraint ties them;
    independent dimensions are counted separately (dimensions with the same
    input and output size share one count) and the counts multiplied; tied
    ones are counted jointly. Architectures are numbered by layer count, then
    in mixed radix over the groups, then in choice order within a group.
    """

    def __init__(self, space: ArchitectureSpace):
        self.space = space
        if space.square:
            self.groups = [tuple(range(space.dims))]
        else:
            self.groups = [(d,) for d in range(space.dims)]
        shared: dict = {}
        self.counters = []
        for g in self.groups:
            pool = (tuple((space.pool_kernel[d], space.pool_stride[d]) for d in g)
                    if space.pool_kernel else None)
            key = (tuple(space.input_shape[d] for d in g),
                   tuple(space.output_shape[d] for d in g), pool)
            if key not in shared:
                shared[key] = _GroupCounter(space, g)
            self.counters.append(shared[key])

    def count_layers(self, n_layers: int) -> int:
        """How many architectures have exactly ``n_layers`` layers."""
        total = 1
        for c in self.counters:
            total *= c.ways(n_layers, c.start)
            if not total:
                break
        return total

    def by_layers(self) -> dict[int, int]:
        lo, hi = self.space.layers
        return {n: self.count_layers(n) for n in range(lo, hi + 1)}

    def count(self) -> int:
        """The number of architectures in the space (exact)."""
        return sum(self.by_layers().values())

    def unrank(self, rank: int) -> Architecture:
        """The architecture numbered ``rank`` (0 <= rank < count())."""
        for n_layers, w in self.by_layers().items():
            if rank < w:
                break
            rank -= w
        else:
            raise IndexError("rank out of range")
        per_dim: dict[int, list] = {}
        for g, c in zip(self.groups, self.counters):
            w = c.ways(n_layers, c.start)
            rank, r = divmod(rank, w)
            layer_combos = c.unrank(n_layers, r)
            for j, d in enumerate(g):
                per_dim[d] = [combo[j] for combo in layer_combos]
        return Architecture(tuple(tuple(per_dim[d][i] for d in range(self.space.dims))
                                  for i in range(n_layers)))

    def __iter__(self):
        for r in range(self.count()):
            yield self.unrank(r)

    def sample(self, m: int, seed: int, distinct: bool = False) -> list[Architecture]:
        """``m`` architectures drawn uniformly at random (exactly: uniform ranks).

        ``distinct``: without replacement (all of them, shuffled, when ``m`` is
        at least the size of the space).
        """
        rng = random.Random(seed)
        total = self.count()
        if total == 0:
            return []
        if distinct:
            ranks = rng.sample(range(total), min(m, total))
        else:
            ranks = [rng.randrange(total) for _ in range(m)]
        return [self.unrank(r) for r in ranks]
