"""Exact re-checking of a MILP answer about a trained network (``--certify``).

A MILP solver works in floating point with tolerances: its point may break a
row by 1e-9 and still be called optimal. To certify it, nncc fixes the
activation pattern the answer has (every ReLU active or inactive, as the
forward pass at the answer says), which leaves a linear problem, asks that
the objective be no worse than the answer's (up to 1e-6 relative: a row
broken by the solver's 1e-7 feasibility tolerance moves the value that much), and
solves this feasibility problem exactly with an SMT solver (z3 or cvc5,
rational arithmetic). The exact point is then run through the network in
rational arithmetic (Python fractions) and every claim is checked with no
tolerance at all. What is certified is the answer's value, exactly, as an
upper bound (minimisation) or lower bound (maximisation) that a real input
reaches; optimality remains the MILP solver's claim.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..errors import InputError
from ..ir.program import EQ, GE, LE, LinearBlock, ReluBlock
from ..problem.fixed_network import Affine, MaxPool, Relu


# the names nncc.encodings.fixed_network gives ReLU blocks: "<prefix>.relu<k>.relu"
_RELU_BLOCK = re.compile(r"\.relu(\d+)\.relu$")


@dataclass
class Certificate:
    """``ok``: an exact point satisfies every constraint exactly; ``value`` its exact
    objective (a Fraction) where the query has one."""

    ok: bool
    solver: str
    value: Fraction | None = None
    input: list[Fraction] | None = None
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"ok": self.ok, "solver": self.solver,
                "value": None if self.value is None else str(self.value),
                "value_float": None if self.value is None else float(self.value),
                "problems": self.problems}


def activation_pattern(net, x: np.ndarray) -> dict[int, np.ndarray]:
    """For each ReLU layer index: True where its input is positive at ``x``."""
    _, outs = net.forward(np.asarray(x, float)[None], return_all=True)
    pattern = {}
    for k, layer in enumerate(net.layers):
        if isinstance(layer, Relu):
            pre = outs[k - 1][0] if k else np.asarray(x, float)
            pattern[k] = pre > 0
        elif isinstance(layer, MaxPool):
            raise InputError("--certify does not handle MaxPool layers yet")
    return pattern


def fix_pattern(program, pattern: dict[int, np.ndarray]) -> None:
    """Replace every ReLU block ``<prefix>.relu<k>.relu`` by the linear rows of its phase:
    active ``inp >= 0, out = inp``; inactive ``inp <= 0, out = 0``."""
    for i, b in enumerate(list(program.blocks)):
        m = _RELU_BLOCK.search(b.name) if isinstance(b, ReluBlock) else None
        if m is None:
            continue
        on = pattern[int(m.group(1))]
        n = len(on)
        sign = LinearBlock.from_dense_rows(f"{b.name}.sign", b.inp[:, None], np.ones((n, 1)),
                                           np.where(on, GE, LE), 0.0)
        phase = LinearBlock.from_dense_rows(f"{b.name}.phase", np.stack([b.out, b.inp], 1),
                                            np.stack([np.ones(n), np.where(on, -1.0, 0.0)], 1),
                                            EQ, 0.0, drop_zeros=True)
        program.blocks[i] = LinearBlock.concat(b.name, [sign, phase])


def _q(v) -> Fraction:
    """A float as the rational the SMT-LIB writer writes for it: its shortest decimal."""
    return Fraction(repr(float(v)))


def exact_forward(net, x: list[Fraction]) -> list[Fraction]:
    """The network on ``x`` in rational arithmetic, weights read as the shortest
    decimals of their float64 values (as the SMT-LIB file states them)."""
    h = list(x)
    for layer in net.layers:
        if isinstance(layer, Affine):
            W = layer.W.toarray() if hasattr(layer.W, "toarray") else np.asarray(layer.W)
            rows = []
            for j in range(W.shape[0]):
                nz = np.flatnonzero(W[j])
                rows.append(sum((_q(W[j, i]) * h[i] for i in nz), Fraction(0)) + _q(layer.b[j]))
            h = rows
        elif isinstance(layer, Relu):
            h = [v if v > 0 else Fraction(0) for v in h]
    return h


def certify(query, registry, solver: str = "z3", time_limit: float | None = 60.0,
            arrays: dict | None = None, value: float | None = None) -> Certificate:
    """Certify an answer (``arrays["input"]``, objective ``value``) of a maximize or
    adversarial query exactly (see the module docstring)."""
    import os
    import tempfile

    from .compile import encode_query, lower, write_target
    from ..solvers.runner import solve_file
    if query.kind not in ("maximize", "adversarial"):
        raise InputError("--certify is for maximize and adversarial queries")
    x = np.asarray(arrays["input"], float)
    pattern = activation_pattern(query.network, x)
    enc = encode_query(query)
    fix_pattern(enc.program, pattern)
    obj = enc.program.objective
    if obj is not None and value is not None:
        # no worse than the answer, with room for the MILP's float error
        slack = 1e-6 * abs(value) + 1e-9
        minimise = obj.sense == "min"
        enc.program.add(LinearBlock("objective_bound", np.array([0, len(obj.idx)], np.int64),
                                    np.asarray(obj.idx, np.int64), np.asarray(obj.coef, float),
                                    np.array([LE if minimise else GE], np.int8),
                                    np.array([value - obj.constant + (slack if minimise else -slack)])))
        enc.program.objective = None
    comp = lower(query, "smtlib", encoded=enc)
    spec = registry.get(solver)
    with tempfile.TemporaryDirectory(prefix="nncc-certify-") as tmp:
        path = os.path.join(tmp, "certify.smt2")
        with open(path, "wb") as f:
            write_target(comp, f, objective=False)
        res = solve_file(spec, path, "smtlib", time_limit=time_limit)
    if res.status != "solution":
        return Certificate(False, res.version or solver,
                           problems=[f"the linear problem of this activation pattern: {res.status}"
                                     + (f" ({res.message})" if res.message else "")])
    names = comp.symbol_map
    g = next(gr for gr in names.groups if gr.name == "input")
    xs = []
    for name in g.var_names():
        v = res.exact.get(name)
        if v is None:
            return Certificate(False, res.version or solver,
                               problems=[f"no exact value for {name}"])
        xs.append(Fraction(v))
    return _exact_checks(query, xs, res.version or solver)


def _exact_checks(query, xs: list[Fraction], solver: str) -> Certificate:
    net = query.network
    y = exact_forward(net, xs)
    problems = []
    if query.kind == "maximize":
        lo = np.broadcast_to(np.asarray(query.input_lo, float), (len(xs),))
        hi = np.broadcast_to(np.asarray(query.input_hi, float), (len(xs),))
        if any(v < _q(l) or v > _q(h) for v, l, h in zip(xs, lo, hi)):
            problems.append("the exact point leaves the box")
        k = query.output
        if getattr(query, "wins", False):
            if any(y[k] - y[j] < _q(query.margin) for j in range(len(y)) if j != k):
                problems.append(f"class {k} does not win by the margin, exactly")
            if query.ratio is not None and any(y[k] < _q(query.ratio) * y[j]
                                               for j in range(len(y)) if j != k):
                problems.append(f"class {k} is not {query.ratio:g} times every other output, exactly")
        return Certificate(not problems, solver, y[k], xs, problems)
    from ..problem.query import adversarial_box
    lo, hi = adversarial_box(query)
    if any(v < _q(l) or v > _q(h) for v, l, h in zip(xs, lo, hi)):
        problems.append("the exact point leaves the box")
    x0 = [_q(v) for v in np.asarray(query.x0, float).reshape(-1)]
    margin = _q(query.margin)
    if query.target is not None:
        t = query.target
        if any(y[t] - y[k] < margin for k in range(len(y)) if k != t):
            problems.append(f"class {t} does not win by the margin, exactly")
    else:
        label = query.label if query.label is not None else int(np.argmax(net.forward(
            np.asarray(query.x0, float)[None])[0]))
        if not any(y[k] - y[label] >= margin for k in range(len(y)) if k != label):
            problems.append(f"no class beats {label} by the margin, exactly")
    d = [v - w for v, w in zip(xs, x0)]
    value = {"l1": sum((abs(v) for v in d), Fraction(0)),
             "linf": max((abs(v) for v in d), default=Fraction(0)),
             "l0": Fraction(sum(1 for v in d if v != 0))}[query.norm]
    return Certificate(not problems, solver, value, xs, problems)
