"""Questions about a trained network: its outputs at given inputs, and the input
in a box that maximises (or minimises) one output.

A maximise query with a start (a checked input from
:mod:`nncc.analysis.maximize_start`) gets the cutoff ``y_k >= value`` (a hair
below, so that the start stays feasible): the optimum is at least as good.
Its inverse data carries the bound of the output that the neuron bounds prove
over the box, reported beside the answer's value.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..ir.program import GE, LE, REAL, LinearBlock, Objective, Program
from ..problem.query import EvaluateQuery, MaximizeQuery, query_box
from ..analysis.bounds import DEFAULT_BOUNDS, bounds_note, network_bounds
from .fixed_network import encode_fixed_network
from .encoded import Encoded


def encode_evaluate(query: EvaluateQuery) -> Encoded:
    """One copy of the network per input, its inputs fixed: with interval bounds
    every ReLU is stable, so the MILP has no binary at all."""
    net = query.network
    X = np.asarray(query.inputs, dtype=np.float64).reshape(-1, net.n_inputs)
    prog = Program(name=f"evaluate_{net.name}")
    x = prog.add_vars("input", X.shape, REAL, X, X)
    outs = []
    for n in range(X.shape[0]):
        y = encode_fixed_network(prog, net, x[n], prefix=f"net{n}")
        outs.append(prog.groups[-1].name)
        assert prog.groups[-1].size == len(y)
    prog.answer_groups = outs
    return Encoded(prog, {"kind": "evaluate", "outputs": outs},
                   f"evaluate: {X.shape[0]} copies of '{net.name}' with fixed inputs")


def start_cutoff(start, minimize: bool) -> float:
    """The cutoff a start of value ``v`` allows: ``v`` less a hair (more, minimising)."""
    hair = 1e-7 * abs(float(start.value)) + 1e-9
    return float(start.value) + (hair if minimize else -hair)


def encode_maximize(query: MaximizeQuery, bounds: str = DEFAULT_BOUNDS,
                    time_budget: float = 10.0, start=None) -> Encoded:
    """The network over an input box with the chosen output as the objective (with the
    cutoff of ``start``, a :class:`~nncc.analysis.maximize_start.MaxStart`)."""
    net = query.network
    if not 0 <= query.output < net.n_outputs:
        raise InputError(f"network '{net.name}' has {net.n_outputs} outputs; there is no output "
                         f"{query.output}", query.pos)
    lo, hi = query_box(query)
    if np.any(lo > hi) or not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise InputError("the input box must be finite with lo <= hi", query.pos)
    prog = Program(name=f"maximize_{net.name}")
    x = prog.add_vars("input", (net.n_inputs,), REAL, lo, hi)
    nb = network_bounds(net, lo, hi, bounds, time_budget)
    y = encode_fixed_network(prog, net, x, nb)
    out_group = prog.groups[-1].name
    prog.objective = Objective("min" if query.minimize else "max", np.array([y[query.output]]),
                               np.array([1.0]))
    prog.answer_groups = ["input", out_group]
    word = "minimise" if query.minimize else "maximise"
    notes, proof = [bounds_note(nb)], None
    out_lo, out_hi = nb.output()
    k = int(query.output)
    proven = float(out_lo[k] if query.minimize else out_hi[k])   # what the bounds allow
    if start is not None:
        prog.add(LinearBlock.from_dense_rows("cutoff", np.array([[y[k]]]), np.ones((1, 1)),
                                             LE if query.minimize else GE,
                                             start_cutoff(start, query.minimize)))
        notes.append(start.note(query.minimize))
    if query.wins:
        from ..analysis.adversarial_start import class_rows
        from ..analysis.symbolic_bounds import class_rows_unreachable
        from .adversarial import add_win_rows
        C, rhs = class_rows(net.n_outputs, k, query.margin, query.ratio)
        add_win_rows(prog, "class", y, k, query.margin, query.ratio)
        if class_rows_unreachable(net, nb, C, rhs).any():
            proof = (f"no input of the box makes class {k} win as asked: the bounds "
                     f"({nb.method}) prove it")
    return Encoded(prog, {"kind": "maximize", "input": "input", "output": out_group,
                          "index": int(query.output), "minimize": bool(query.minimize),
                          "bounds_proven": proven, "bounds_method": nb.method},
                   f"{word} output {query.output} of '{net.name}' over an input box"
                   + (f", class {query.output} winning" if query.wins else ""), notes, proof)


def arrays_from_network_groups(inverse: dict, groups: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``{"output": ...}`` (evaluate) or ``{"input": ..., "output": ...}`` (maximize)."""
    if inverse["kind"] == "evaluate":
        return {"output": np.stack([np.asarray(groups[g], float) for g in inverse["outputs"]])}
    return {"input": np.asarray(groups[inverse["input"]], float),
            "output": np.asarray(groups[inverse["output"]], float)}
