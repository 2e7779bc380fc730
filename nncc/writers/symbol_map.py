"""The symbol map written next to every emitted file.

It holds what is needed to turn a solver's answer (values by solver-side
name) back into arrays by group, without the source file: the variable
groups (display name, name prefix, shape, kind, offset), the target, whether
the file minimises the negated objective, and whatever the compile pipeline
adds under ``extra`` (inverse data of passes, source file, query name).

Names are parsed, not stored: ``h_weight_3_1`` is the group with prefix
``h_weight`` and index (3, 1). Prefixes may contain underscores and digits
(``h`` and ``h_weight`` both exist), so a name is split by taking exactly as
many trailing ``_<int>`` parts as a group's shape has axes and looking the
remaining prefix up among the groups of that rank.
"""
from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from ..ir.program import Program, VarGroup

FORMAT = "nncc-symbol-map"
VERSION = 1
TARGETS = ("smtlib", "mps", "lp")


class SymbolMap:
    """Solver-side names <-> global variable indices and groups."""

    def __init__(self, groups: list[VarGroup], target: str, *, n_vars: int | None = None,
                 objective_negated: bool = False, answer_groups: list[str] | None = None,
                 program_name: str = "nncc", extra: dict | None = None):
        if target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, not {target!r}")
        self.groups = list(groups)
        self.target = target
        self.n_vars = int(n_vars if n_vars is not None else sum(g.size for g in groups))
        self.objective_negated = bool(objective_negated)
        self.answer_groups = list(answer_groups or [])
        self.program_name = program_name
        self.extra: dict[str, Any] = dict(extra or {})
        # rank -> {prefix: group}; only ranks that occur are tried when parsing.
        self._by_rank: dict[int, dict[str, VarGroup]] = {}
        for g in self.groups:
            self._by_rank.setdefault(len(g.shape), {})[g.prefix] = g
        self._ranks = sorted(self._by_rank)
        self._strides = {g.prefix: _strides(g.shape) for g in self.groups}

    @classmethod
    def from_program(cls, program: Program, target: str, extra: dict | None = None) -> "SymbolMap":
        """The map of ``program`` as written for ``target`` (``smtlib``, ``mps`` or ``lp``)."""
        o = program.objective
        negated = target in ("mps", "lp") and o is not None and o.sense == "max"
        return cls(program.groups, target, n_vars=program.n_vars, objective_negated=negated,
                   answer_groups=program.answer_groups, program_name=program.name, extra=extra)

    # -- persistence -----------------------------------------------------------------------------
    def to_json(self) -> dict:
        """A JSON-able dict (see :meth:`from_json`)."""
        return {"format": FORMAT, "version": VERSION, "target": self.target,
                "program": self.program_name, "n_vars": self.n_vars,
                "objective_negated": self.objective_negated,
                "answer_groups": self.answer_groups,
                "groups": [g.to_json() for g in self.groups], "extra": self.extra}

    @classmethod
    def from_json(cls, d: dict) -> "SymbolMap":
        """The map saved by :meth:`to_json`."""
        if d.get("format") != FORMAT:
            raise ValueError("not an nncc symbol map")
        if int(d.get("version", 0)) > VERSION:
            raise ValueError(f"symbol map version {d['version']} is newer than this nncc "
                             f"(reads up to {VERSION})")
        return cls([VarGroup.from_json(g) for g in d["groups"]], d["target"], n_vars=d["n_vars"],
                   objective_negated=d.get("objective_negated", False),
                   answer_groups=d.get("answer_groups", []), program_name=d.get("program", "nncc"),
                   extra=d.get("extra", {}))

    def save(self, path: str | os.PathLike) -> None:
        """Write the map as JSON atomically (a temporary file in the same folder, then rename)."""
        from ..atomic import atomic_output
        with atomic_output(os.fspath(path)) as f:
            f.write(json.dumps(self.to_json()).encode("utf-8") + b"\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> "SymbolMap":
        """Read a map written by :meth:`save`."""
        with open(path, encoding="utf-8") as f:
            return cls.from_json(json.load(f))

    # -- names -----------------------------------------------------------------------------------
    def index_of(self, name: str) -> int | None:
        """Global index of a solver-side variable name, or None when it is not a variable."""
        by_rank = self._by_rank
        for k in self._ranks:
            if k == 0:
                g = by_rank[0].get(name)
                if g is not None:
                    return g.offset
                continue
            parts = name.rsplit("_", k)
            if len(parts) != k + 1:
                continue
            g = by_rank[k].get(parts[0])
            if g is None:
                continue
            flat = 0
            ok = True
            for p, s, st in zip(parts[1:], g.shape, self._strides[g.prefix]):
                # isdigit: no signs, no spaces; "01" would be another name, so refuse leading 0s
                if not p.isdigit() or (len(p) > 1 and p[0] == "0"):
                    ok = False
                    break
                i = int(p)
                if i >= s:
                    ok = False
                    break
                flat += i * st
            if ok:
                return g.offset + flat
        return None

    def vector(self, values: dict[str, float], default: float = np.nan) -> np.ndarray:
        """A full value vector by global index from solver-name -> value; unknown names are ignored."""
        x = np.full(self.n_vars, default, dtype=np.float64)
        index_of = self.index_of
        idx, vals = [], []
        for name, v in values.items():
            i = index_of(name)
            if i is not None:
                idx.append(i)
                vals.append(v)
        if idx:
            x[np.asarray(idx, np.int64)] = np.asarray(vals, np.float64)
        return x

    def group_values(self, vector: np.ndarray) -> dict[str, np.ndarray]:
        """Arrays by group display name, shaped like the groups."""
        vector = np.asarray(vector)
        return {g.name: vector[g.offset:g.offset + g.size].reshape(g.shape) for g in self.groups}

    def names(self) -> list[str]:
        """Every variable's solver-side name in index order."""
        out: list[str] = []
        for g in self.groups:
            out.extend(g.var_names())
        return out

    def answer_names(self) -> list[str]:
        """Names in the order of the SMT-LIB ``get-value`` (answer groups, or all)."""
        wanted = set(self.answer_groups)
        out: list[str] = []
        for g in self.groups:
            if not wanted or g.name in wanted:
                out.extend(g.var_names())
        return out


def _strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    st, acc = [], 1
    for s in reversed(shape):
        st.append(acc)
        acc *= s
    return tuple(reversed(st))
