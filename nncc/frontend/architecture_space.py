"""Validate ``architecture`` blocks and the ``enumerate`` / ``count`` / ``sample``
statements that name them; build :class:`ArchitectureSpace` / :class:`SpaceTask`."""
from __future__ import annotations

from ..errors import InputError
from ..problem.architecture import PARAMS, ArchitectureSpace, Compare, SpaceTask
from . import ast

# what a parameter may be when not written
DEFAULT_RANGES = {"kernel": (2, 11), "stride": (1, 3), "padding": (0, 0), "dilation": (1, 1)}
PARAM_MINIMUM = {"kernel": 1, "stride": 1, "padding": 0, "dilation": 1}
MAX_LAYERS = 64
MAX_SIZE = 1_000_000


def _int(num: ast.Num, what: str, minimum: int, maximum: int = MAX_SIZE) -> int:
    if not num.is_integer or not minimum <= num.value <= maximum:
        raise InputError(f"{what} must be an integer from {minimum} to {maximum}, got {num.text}",
                         num.pos)
    return int(num.value)


def _range(value, what: str, minimum: int, maximum: int = MAX_SIZE) -> tuple[int, int]:
    lo_num, hi_num = value
    lo = _int(lo_num, what, minimum, maximum)
    hi = lo if hi_num is None else _int(hi_num, what, minimum, maximum)
    if hi < lo:
        raise InputError(f"{what} {lo} .. {hi} is empty: the lower end is above the upper end",
                         lo_num.pos)
    return lo, hi


def _shape(nums: list[ast.Num], what: str, dims: int | None, at) -> tuple[int, ...]:
    shape = tuple(_int(n, f"{what} size", 1) for n in nums)
    if dims is not None and len(shape) not in (1, dims):
        raise InputError(f"{what} has {len(shape)} dimensions, the input has {dims}", at)
    return shape * dims if dims is not None and len(shape) == 1 and dims > 1 else shape


def build_space(decl: ast.ArchitectureDecl) -> ArchitectureSpace:
    """The space a block declares; every mistake an ``InputError`` at its clause."""
    seen: dict[str, ast.ArchClause] = {}
    single = {"input", "output", "layers", "pool", "semantics", *PARAMS}
    for c in decl.clauses:
        if c.key in single and c.key in seen:
            raise InputError(f"'{c.key}' is given twice in architecture {decl.name.name} "
                             f"(first at line {seen[c.key].pos.line}, column {seen[c.key].pos.column})", c.pos)
        seen.setdefault(c.key, c)
    for need in ("input", "output"):
        if need not in seen:
            raise InputError(f"architecture {decl.name.name} needs an '{need}' shape "
                             f"(e.g. {need} 30 x 30)", decl.name.pos)
    inp = _shape(seen["input"].value, "input", None, seen["input"].pos)
    dims = len(inp)
    out = _shape(seen["output"].value, "output", dims, seen["output"].pos)  # 20: every dim
    layers = _range(seen["layers"].value, "layers", 1, MAX_LAYERS) if "layers" in seen else (1, 1)
    ranges = {}
    for p in PARAMS:
        ranges[p] = (_range(seen[p].value, p, PARAM_MINIMUM[p], 10_000) if p in seen
                     else DEFAULT_RANGES[p])
    space = ArchitectureSpace(decl.name.name, inp, out, layers, ranges, pos=decl.pos)
    if "pool" in seen:
        k, s = seen["pool"].value
        space.pool_kernel = _shape(k, "pool kernel", dims, seen["pool"].pos)
        space.pool_stride = _shape(s, "pool stride", dims, seen["pool"].pos)
    if "semantics" in seen:
        space.semantics = seen["semantics"].value
    square, compares, monotone = set(), [], []
    for c in decl.clauses:
        if c.key == "square":
            square |= {w[:-1] for w in c.value} if c.value else {"kernel"}
        elif c.key == "compare":
            lhs, op, rhs = c.value
            if isinstance(rhs, ast.Num):
                if not rhs.is_integer:
                    raise InputError(f"'{lhs} {op} ...' needs an integer, got {rhs.text}", rhs.pos)
                rhs = int(rhs.value)
            elif rhs == lhs:
                raise InputError(f"'{lhs} {op} {rhs}' compares a parameter with itself", c.pos)
            compares.append(Compare(lhs, op, rhs))
        elif c.key == "monotone":
            param, direction = c.value
            if any(p == param for p, _ in monotone):
                raise InputError(f"'monotone {param}' is given twice", c.pos)
            monotone.append((param, direction or "increasing"))
    space.square = frozenset(square)
    space.compares = tuple(compares)
    space.monotone = tuple(monotone)
    if not space.local_choices():
        raise InputError(f"architecture {decl.name.name}: no kernel, stride, padding and "
                         "dilation in the ranges satisfy the comparisons"
                         + (" (semantics paper has kernel > stride; 'semantics floor' drops it)"
                            if space.semantics == "paper" else ""), decl.pos)
    return space


def build_task(decl: ast.SpaceTaskDecl, space: ArchitectureSpace) -> SpaceTask:
    """The statement as a task on ``space``."""
    task = SpaceTask(decl.kind, space, uniform=decl.uniform, pos=decl.pos)
    if decl.limit is not None:
        task.limit = _int(decl.limit, "limit", 1, 10**9)
    if decl.count is not None:
        task.count = _int(decl.count, "count", 1, 10**9)
    if decl.seed is not None:
        task.seed = _int(decl.seed, "seed", 0, 2**63 - 1)
    if decl.uniform and decl.limit is None:
        raise InputError("'uniform' picks a random subset: it needs 'limit M'", decl.pos)
    return task
