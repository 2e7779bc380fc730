"""An architecture space as an integer formula (QF_LIA by case splits, or QF_NIA).

Variables (``Lmax`` layer slots x ``D`` dimensions, names from the IR's
variable groups so that the symbol map decodes them): ``layers``;
``kernel``, ``stride``, ``padding``, ``dilation``; ``conv`` (size after the
convolution) and ``size`` (after the pooling) per slot and dimension.

Slot ``i`` is active when ``i < layers``. An inactive slot passes the size
through and fixes its parameters to the lower ends of their ranges, so that
each architecture is exactly one model over the parameter variables (the
blocking clauses of the enumerator rely on this).

``O = floor(num / s) + 1`` with ``num = I + 2p - d(k - 1) - 1`` is
``s(O - 1) <= num < s O`` (in a layer that must tile exactly, as every layer
after the first does under the default ``paper`` semantics: ``num = s (O - 1)``). The product
of two unknowns is avoided by splitting on the values of the stride and the
dilation: ``(s = 2 and d = 1) => 2(O - 1) <= I + 2p - k ...``, which keeps the
formula linear (QF_LIA) at the price of ``|S| x |D|`` implications per slot
and dimension. ``logic="QF_NIA"`` writes the products instead.

The formula is a list of terms: nested tuples ``(op, arg, ...)`` whose leaves
are variable names (str) and integers; :mod:`nncc.writers.smtlib_terms` prints them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..ir.program import INT, Program
from ..problem.architecture import PARAMS, ArchitectureSpace

LOGICS = ("QF_LIA", "QF_NIA")
_OPS = {">": ">", ">=": ">=", "<": "<", "<=": "<=", "=": "="}


@dataclass
class ArchitectureFormula:
    """Declarations (name, lo, hi), assertions (terms) and the decision variables."""

    space: ArchitectureSpace
    logic: str
    program: Program  # variable groups only (for the symbol map); no blocks
    declarations: list[tuple[str, int, int]] = field(default_factory=list)
    assertions: list = field(default_factory=list)
    decision_vars: list[str] = field(default_factory=list)  # layers + every parameter slot

    def names(self, group: str) -> list[list[str]]:
        """The solver names of a (slots x dims) group, as rows per slot."""
        flat = self.program.group(group).var_names()
        d = self.space.dims
        return [flat[i * d:(i + 1) * d] for i in range(self.space.layers[1])]


def encode_architecture(space: ArchitectureSpace, logic: str = "QF_LIA") -> ArchitectureFormula:
    """The formula whose models are exactly the architectures of ``space``."""
    if logic not in LOGICS:
        raise ValueError(f"logic must be one of {LOGICS}")
    slots, dims = space.layers[1], space.dims
    prog = Program(name=f"architecture {space.name}")
    prog.add_vars("layers", (), INT, space.layers[0], space.layers[1])
    size_hi = max(space.input_shape) + 2 * space.ranges["padding"][1] * slots
    for p in PARAMS:
        prog.add_vars(p, (slots, dims), INT, *space.ranges[p])
    prog.add_vars("conv", (slots, dims), INT, 1, size_hi)
    prog.add_vars("size", (slots, dims), INT, 1, size_hi)
    f = ArchitectureFormula(space, logic, prog)
    for g in prog.groups:
        for name, lo, hi in zip(g.var_names(), prog.lb[g.offset:g.offset + g.size],
                                prog.ub[g.offset:g.offset + g.size]):
            f.declarations.append((name, int(lo), int(hi)))
    layers = prog.group("layers").var_names()[0]
    par = {p: f.names(p) for p in PARAMS}
    conv, size = f.names("conv"), f.names("size")
    f.decision_vars = [layers] + [v for p in PARAMS for row in par[p] for v in row]
    A = f.assertions.append

    for i in range(slots):
        active = ("<", i, layers)
        exact = space.exact_at(i)
        for d in range(dims):
            before = space.input_shape[d] if i == 0 else size[i - 1][d]
            k, s, pad, dil = (par[p][i][d] for p in PARAMS)
            # inactive: canonical parameters, size passes through
            idle = ["and"] + [("=", par[p][i][d], space.ranges[p][0]) for p in PARAMS]
            idle += [("=", conv[i][d], before), ("=", size[i][d], before)]
            if i >= space.layers[0]:
                A(("=>", ("not", active), tuple(idle)))
            for body in _conv_rows(space, before, k, s, pad, dil, conv[i][d], exact, logic):
                A(("=>", active, body) if i >= space.layers[0] else body)
            if space.pool_kernel:
                kp, sp = space.pool_kernel[d], space.pool_stride[d]
                num = ("-", conv[i][d], kp)
                rows = ([("=", num, ("*", sp, ("-", size[i][d], 1)))] if exact else
                        [("<=", ("*", sp, ("-", size[i][d], 1)), num),
                         ("<", num, ("*", sp, size[i][d]))])
            else:
                rows = [("=", size[i][d], conv[i][d])]
            for body in rows:
                A(("=>", active, body) if i >= space.layers[0] else body)
            values = {p: par[p][i][d] for p in PARAMS}
            for c in space.rules:
                rhs = values[c.rhs] if isinstance(c.rhs, str) else c.rhs
                rel = ("not", ("=", values[c.lhs], rhs)) if c.op == "!=" else (_OPS[c.op], values[c.lhs], rhs)
                A(("=>", active, rel) if i >= space.layers[0] else rel)
            for p in space.square:
                if d > 0:
                    A(("=", par[p][i][d], par[p][i][0]))
            if i > 0:
                for p, direction in space.monotone:
                    rel = (">=" if direction == "increasing" else "<=", par[p][i][d], par[p][i - 1][d])
                    A(("=>", active, rel) if i >= space.layers[0] else rel)
    for d in range(dims):
        A(("=", size[slots - 1][d], space.output_shape[d]))
    return f


def _conv_rows(space, before, k, s, pad, dil, out, exact, logic):
    """Terms saying ``out = floor((before + 2 pad - dil (k - 1) - 1) / s) + 1`` (or exactly)."""
    def num(dv):
        dterm = ("*", dv, ("-", k, 1))
        return ("-", ("+", before, ("*", 2, pad)), ("+", dterm, 1))

    def relation(sv, dv):
        n = num(dv)
        if exact:
            return [("=", n, ("*", sv, ("-", out, 1)))]
        return [("<=", ("*", sv, ("-", out, 1)), n), ("<", n, ("*", sv, out))]

    if logic == "QF_NIA":
        return relation(s, dil)
    s_lo, s_hi = space.ranges["stride"]
    d_lo, d_hi = space.ranges["dilation"]
    rows = []
    for sv in range(s_lo, s_hi + 1):
        for dv in range(d_lo, d_hi + 1):
            cond = [("=", s, sv)] if s_lo != s_hi else []
            cond += [("=", dil, dv)] if d_lo != d_hi else []
            body = ("and", *relation(sv, dv))
            rows.append(("=>", ("and", *cond), body) if cond else body)
    return rows
