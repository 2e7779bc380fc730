"""``regularize l1 | l2 LAMBDA [on LAYER] [segments K]`` in train queries, checked.

Shared by ReLU and binarised networks. A clause without ``on`` sets the
lambda of every layer; ``on LAYER`` sets one layer's and overrides the global
clause for it. Each (regulariser, layer) pair, and the global one, may be
given once; ``segments`` (the tangent lines of the L2 approximation) only
with ``l2``.
"""
from __future__ import annotations

import math

from ..errors import InputError
from ..problem.query import TrainQuery
from . import ast

REGULARISER_KEYS = ("regularize l1", "regularize l2")


def apply_regularisers(query: TrainQuery, decl: ast.TrainDecl) -> list[ast.TrainClause]:
    """Set the query's L1 / L2 lambdas and segments from the clauses; returns those clauses."""
    layers = {layer.name: layer for layer in query.network.layers}
    seen: dict[tuple[str, str | None], ast.TrainClause] = {}
    clauses = []
    for clause in decl.clauses:
        if clause.key == "regularize l0" and (clause.layers or clause.segments):
            extra = (clause.layers or clause.segments)[0]
            raise InputError("'regularize l0' counts the non-zero weights of the whole network: "
                             "it takes no 'on' or 'segments'", extra.pos)
        if clause.key not in REGULARISER_KEYS:
            continue
        clauses.append(clause)
        kind = clause.key.split()[1]
        lam = clause.value
        if not math.isfinite(lam.value) or lam.value < 0:
            raise InputError(f"'{clause.key}' needs a non-negative number (lambda), got {lam.text}", lam.pos)
        if len(clause.layers) > 1:
            raise InputError("'on' given twice in one clause: write one clause per layer",
                             clause.layers[1].pos)
        if len(clause.segments) > 1:
            raise InputError("'segments' given twice in one clause", clause.segments[1].pos)
        layer = clause.layers[0] if clause.layers else None
        if layer is not None:
            if layer.name not in layers:
                raise InputError(f"network {query.network.name} has no layer '{layer.name}'; "
                                 f"its layers: {', '.join(layers)}", layer.pos)
            if not layers[layer.name].trainable:
                raise InputError(f"layer '{layer.name}' has fixed weights: there is nothing to "
                                 "regularise", layer.pos)
        key = (kind, layer.name if layer is not None else None)
        if key in seen:
            where = f" on {layer.name}" if layer is not None else " (for every layer)"
            raise InputError(f"'{clause.key}'{where} given twice (first at line "
                             f"{seen[key].pos.line})", clause.pos)
        seen[key] = clause
        segments = None
        if clause.segments:
            num = clause.segments[0]
            if kind != "l2":
                raise InputError("'segments' is for 'regularize l2' (the tangent lines that "
                                 "approximate W^2); L1 is exact", num.pos)
            if not num.is_integer or num.value < 1:
                raise InputError(f"segments must be an integer >= 1, got {num.text}", num.pos)
            segments = int(num.value)
        if layer is None:
            setattr(query, kind, lam.value)
            if segments is not None:
                query.l2_segments = segments
        else:
            getattr(query, kind + "_layers")[layer.name] = lam.value
            if segments is not None:
                query.l2_segments_layers[layer.name] = segments
    return clauses
