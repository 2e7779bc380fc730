"""The clauses of binarised networks (step / sign layers) and their training, validated.

A binarised network has step or sign hidden layers and an identity output
layer with one unit per class (the prediction is the argmax). Its training
query minimises the training errors (``minimize errors``), by a MILP or by
the local search (``method local-search``); the ReLU training clauses do not
apply to it, and its clauses do not apply to ReLU networks.
"""
from __future__ import annotations

import math

from ..errors import InputError
from ..problem.network import DEFAULT_LEVELS, IDENTITY, RELU, Network
from ..problem.query import TrainQuery
from . import ast
from .regularisation_clauses import REGULARISER_KEYS, apply_regularisers

# `minimize hinge` and `regularize l1 | l2` are for both kinds (ReLU networks: semantics.py)
BINARISED_CLAUSES = ("maximize", "method", "big-m", "regularize l0", "nonzero at most", "robust")
RELU_CLAUSES = ("classify", "nonzero", "relu", "normalise")


def step_fields(spec: ast.StepSpec) -> tuple[str, tuple[float, float], float | str]:
    """``(activation, levels, threshold)`` of a ``step`` / ``sign`` clause, checked."""
    levels = DEFAULT_LEVELS[spec.kind]
    if spec.levels is not None:
        beta, gamma = spec.levels
        for v in (beta, gamma):
            if not math.isfinite(v.value):
                raise InputError(f"levels must be finite numbers, got {v.text}", v.pos)
        if beta.value == gamma.value:
            raise InputError(f"levels [{beta.text}, {gamma.text}] are equal: a step needs "
                             "two different values", spec.pos)
        levels = (beta.value, gamma.value)
    threshold: float | str = 0.0
    if isinstance(spec.threshold, ast.Num):
        if not math.isfinite(spec.threshold.value):
            raise InputError(f"threshold must be a finite number, got {spec.threshold.text}",
                             spec.threshold.pos)
        threshold = spec.threshold.value
    elif spec.threshold == "learned":
        threshold = "learned"
    return spec.kind, levels, threshold


def check_binarised_network(network: Network) -> None:
    """Step / sign hidden layers, an identity output layer, parameters in boxes or pairs."""
    *hidden, last = network.layers
    if last.is_step:
        raise InputError(f"layer {last.name}: the output layer of a binarised network is "
                         "linear (one unit per class, the prediction is the largest): "
                         "drop its step / sign", last.pos)
    if last.size < 2:
        raise InputError(f"layer {last.name}: a binarised network needs one output unit per "
                         "class, at least 2", last.pos)
    if last.activation != IDENTITY:
        raise InputError(f"layer {last.name}: the output layer of a binarised network must "
                         "be identity", last.pos)
    for layer in hidden:
        if layer.activation == RELU or not layer.is_step:
            raise InputError(f"layer {layer.name}: a binarised network has step or sign "
                             f"hidden layers only, not {layer.activation}", layer.pos)
    for layer in network.layers:
        if not layer.trainable:
            raise InputError(f"layer {layer.name}: binarised networks are trained from "
                             "scratch (fixed weights are not supported)", layer.pos)
        for what, dom in (("weights", layer.weight_domain), ("bias", layer.bias_domain)):
            if dom.kind == "set" and len(dom.values) != 2:
                raise InputError(f"layer {layer.name}: {what} in {dom}: a set must have two "
                                 "values (e.g. {0, 1} or {-1, 1}); use 'int in [-P, P]' "
                                 "for more", layer.pos)


def apply_binarised_clauses(query: TrainQuery, decl: ast.TrainDecl) -> None:
    """``minimize errors | hinge [margin G]`` / ``maximize margin``, ``method``, ``big-m``,
    ``regularize l0 LAMBDA``, ``nonzero at most K``, ``robust linf R``, each at most once;
    ``regularize l1 | l2`` as :func:`~nncc.frontend.regularisation_clauses.apply_regularisers`."""
    seen: dict[str, ast.TrainClause] = {}
    for clause in decl.clauses:
        if clause.key in RELU_CLAUSES:
            hint = ("; a budget on the non-zero weights is 'nonzero at most K'"
                    if clause.key == "nonzero" else "")
            raise InputError(f"'{clause.key}' is for ReLU networks; network "
                             f"{query.network.name} is binarised (step / sign layers): "
                             f"its training minimises errors ('minimize errors'){hint}", clause.pos)
        if clause.key in REGULARISER_KEYS:
            continue
        slot = "loss" if clause.key in ("minimize", "maximize") else clause.key
        if slot in seen:
            raise InputError(f"{'a loss' if slot == 'loss' else repr(clause.key)} given twice "
                             f"(first at line {seen[slot].pos.line})", clause.pos)
        seen[slot] = clause
        if slot == "loss":
            loss, margin = clause.value
            query.objective = loss
            if margin is not None:
                if loss != "hinge":
                    raise InputError("'margin' is for 'minimize hinge'", margin.pos)
                if not math.isfinite(margin.value) or margin.value <= 0:
                    raise InputError(f"the hinge margin must be a positive number, got "
                                     f"{margin.text}", margin.pos)
                query.hinge_margin = margin.value
        elif clause.key in ("regularize l0", "robust"):
            v = clause.value
            if not math.isfinite(v.value) or v.value < 0:
                raise InputError(f"'{clause.key}' needs a non-negative number, got {v.text}", v.pos)
            if clause.key == "robust":
                query.robust = v.value
            else:
                query.l0 = v.value
        elif clause.key == "nonzero at most":
            v = clause.value
            if not v.is_integer or v.value < 0:
                raise InputError(f"'nonzero at most' needs a non-negative integer, got {v.text}",
                                 v.pos)
            query.nonzero_budget = int(v.value)
        elif clause.key == "method":
            method, restarts = clause.value
            query.method = method
            if restarts is not None:
                if method != "local-search":
                    raise InputError("'restarts' is for 'method local-search'", restarts.pos)
                if not restarts.is_integer or restarts.value < 1:
                    raise InputError(f"restarts must be a positive integer, got {restarts.text}",
                                     restarts.pos)
                query.restarts = int(restarts.value)
            if clause.seed is not None:
                if not clause.seed.is_integer or clause.seed.value < 0:
                    raise InputError(f"seed must be a non-negative integer, got "
                                     f"{clause.seed.text}", clause.seed.pos)
                query.seed = int(clause.seed.value)
        elif clause.key == "big-m":   # "seed": the old spelling of "blanket"
            query.big_m = "blanket" if clause.value == "seed" else clause.value
    regularisers = apply_regularisers(query, decl)
    if query.objective is None:
        query.objective = "errors"
    extras = [c.key for c in regularisers][:1] + [
        k for k in ("regularize l0", "nonzero at most") if k in seen] + (
        ["minimize " + query.objective] if query.objective != "errors" else [])
    if query.method == "local-search" and extras:
        raise InputError(f"'method local-search' minimises training errors (robust ones too) only; "
                         f"'{extras[0]}' needs 'method milp'", seen["method"].pos)
    regs = regularisers + [seen[k] for k in ("regularize l0",) if k in seen]
    if query.objective == "margin" and regs:
        raise InputError("'maximize margin' takes no regulariser (the margin grows with the "
                         "weights); use 'minimize hinge' with a regulariser", regs[0].pos)
    if query.objective != "errors" and "robust" in seen:
        raise InputError(f"'robust' is for 'minimize errors' (a sample is an error unless its "
                         f"whole ball is classified correctly), not 'minimize {query.objective}'",
                         seen["robust"].pos)


def reject_binarised_clauses(decl: ast.TrainDecl, network: Network) -> None:
    """The binarised clauses on a ReLU network are mistakes: say so."""
    for clause in decl.clauses:
        if clause.key in BINARISED_CLAUSES:
            raise InputError(f"'{clause.key}' is for binarised networks (step / sign layers); "
                             f"network {network.name} has none", clause.pos)
