"""Architecture spaces end to end: compile to SMT-LIB, enumerate through one
incremental z3 process, count and sample exactly, check every answer, write
JSON lines and ONNX skeletons. The ``nncc enumerate | count | sample``
commands and ``nncc compile`` of an architecture file call these.
"""
from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field

from ..encodings.architecture_smt import encode_architecture
from ..errors import CheckFailed, InputError
from ..problem.architecture import (PARAMS, Architecture, ArchitectureDocument, ArchitectureSpace,
                                   SpaceCounter, SpaceTask, adjacent_hamming)
from ..writers.smtlib_terms import write_formula


def load_spaces(path: str) -> ArchitectureDocument:
    """Parse and check ``path``; it must declare at least one architecture."""
    from ..frontend.semantics import load_document
    doc = load_document(path)
    if not getattr(doc, "architectures", None):
        raise InputError(f"{path}: the file declares no architecture")
    return doc


def pick_space(doc: ArchitectureDocument, name: str | None, kind: str) -> tuple[ArchitectureSpace, SpaceTask | None]:
    """The architecture called ``name``, else the one the first ``kind`` statement names,
    else the first declared; with the matching statement (its limit, count, seed), if any."""
    tasks = [t for t in doc.tasks if t.kind == kind]
    if name is not None:
        if name not in doc.architectures:
            raise InputError(f"{doc.path}: no architecture named {name!r}; declared: "
                             + ", ".join(doc.architectures))
        space = doc.architectures[name]
        return space, next((t for t in tasks if t.space is space), None)
    if tasks:
        return tasks[0].space, tasks[0]
    return next(iter(doc.architectures.values())), None


def compile_space(space: ArchitectureSpace, out: str, logic: str = "QF_LIA") -> dict:
    """Write the formula (``out`` a path, or ``-`` for standard output) and, beside a file,
    its symbol map ``OUT.map.json``. Returns a summary."""
    import sys
    from ..atomic import atomic_output
    from ..writers.symbol_map import SymbolMap
    formula = encode_architecture(space, logic)
    buf = io.StringIO()
    write_formula(formula, buf)
    text = buf.getvalue()
    if out == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        with atomic_output(out) as f:
            f.write(text.encode("utf-8"))
        smap = SymbolMap.from_program(formula.program, "smtlib", extra={
            "architecture": space.name, "logic": logic, "decision_vars": formula.decision_vars,
            "meaning": "groups kernel/stride/padding/dilation/conv/size are (layer slot, dimension); "
                       "slots at or after 'layers' are inactive"})
        smap.save(out + ".map.json")
    return {"logic": logic, "variables": len(formula.declarations),
            "assertions": len(formula.assertions)}


def architecture_from_model(formula, model: dict[str, int]) -> Architecture:
    """The architecture a z3 model describes (active slots only)."""
    n_layers = model[formula.decision_vars[0]]
    names = {p: formula.names(p) for p in PARAMS}
    return Architecture(tuple(tuple(tuple(model[names[p][i][d]] for p in PARAMS)
                                    for d in range(formula.space.dims))
                              for i in range(n_layers)))


@dataclass
class EnumerationRun:
    """What ``enumerate`` did: the architectures (checked), how, and how long it took."""

    architectures: list[Architecture] = field(default_factory=list)
    complete: bool = False  # the solver proved there are no more
    status: str = ""
    solver: str = ""
    checks: int = 0
    seconds: float = 0.0


def enumerate_space(space: ArchitectureSpace, limit: int | None = None, *, registry=None,
                    solver: str = "z3", logic: str = "QF_LIA", time_limit: float | None = None,
                    on_solution=None) -> EnumerationRun:
    """Enumerate through one incremental z3 process (``z3 -in``, push, blocking clauses).

    Every model is decoded, checked by the numpy shape arithmetic (a model that
    fails raises :class:`CheckFailed`) and passed to ``on_solution(arch, index)``.
    """
    from ..solvers.registry import load_registry
    from ..solvers.z3_incremental import IncrementalZ3
    registry = registry or load_registry()
    spec = registry.get(solver)
    if spec.kind != "z3":
        raise InputError(f"enumeration runs an incremental z3 process; {solver!r} is a "
                         f"{spec.kind} solver (use --solver z3)")
    formula = encode_architecture(space, logic)
    buf = io.StringIO()
    write_formula(formula, buf, check=False)
    run = EnumerationRun(solver=spec.version())
    t0 = time.perf_counter()
    relevant = _active_only(formula)
    seen = set()
    with IncrementalZ3(spec, buf.getvalue(), formula.decision_vars, time_limit) as z3:
        if limit == 0:
            run.status = "limit"
        else:
            for model in z3.models(relevant):
                arch = architecture_from_model(formula, model)
                problems = arch.problems(space)
                if problems or arch in seen:
                    raise CheckFailed(f"z3 model {len(seen) + 1} is not a valid new architecture: "
                                      + ("; ".join(problems) if problems else "a repeat"))
                seen.add(arch)
                run.architectures.append(arch)
                if on_solution:
                    on_solution(arch, len(run.architectures))
                if limit is not None and len(run.architectures) >= limit:
                    run.status = "limit"
                    break
            else:
                run.status = z3.status
                run.complete = z3.status == "unsat"
        run.checks = z3.checks
    run.seconds = time.perf_counter() - t0
    return run


def sample_space(space: ArchitectureSpace, count: int, seed: int,
                 distinct: bool = False) -> list[Architecture]:
    """``count`` architectures drawn exactly uniformly (by the counter), each checked."""
    archs = SpaceCounter(space).sample(count, seed, distinct=distinct)
    return _checked(archs, space)


def xor_sample_space(space: ArchitectureSpace, count: int, seed: int, *, registry=None,
                     pivot: int = 16, solver: str = "z3") -> tuple[list[Architecture], dict]:
    """``count`` architectures drawn near-uniformly by random XOR constraints (UniWit style)
    through one incremental z3 process; each checked. Returns them and run statistics."""
    from ..solvers.registry import load_registry
    from ..solvers.xor_sampling import XorSampler, bit_declarations
    from ..solvers.z3_incremental import IncrementalZ3
    registry = registry or load_registry()
    spec = registry.get(solver)
    formula = encode_architecture(space)
    buf = io.StringIO()
    write_formula(formula, buf, check=False)
    bits_text, bits = bit_declarations(formula.declarations, formula.decision_vars)
    relevant = _active_only(formula)
    archs = []
    t0 = time.perf_counter()
    with IncrementalZ3(spec, buf.getvalue() + bits_text, formula.decision_vars) as z3:
        sampler = XorSampler(z3, bits, seed, pivot=pivot, relevant=relevant)
        for _ in range(count):
            model = sampler.sample()
            if model is None:
                break
            archs.append(architecture_from_model(formula, model))
        stats = {"checks": z3.checks, "cells": sampler.cells_tried, "xors": sampler.m,
                 "bits": len(bits), "seconds": time.perf_counter() - t0}
    return _checked(archs, space), stats


def _active_only(formula):
    """Which variables of a model to block: ``layers`` and the active slots' parameters
    (inactive slots are fixed by the formula)."""
    layers_var = formula.decision_vars[0]
    names = {p: formula.names(p) for p in PARAMS}

    def relevant(model):
        n = model[layers_var]
        keep = {layers_var: n}
        for p in PARAMS:
            for row in names[p][:n]:
                keep.update({v: model[v] for v in row})
        return keep
    return relevant


def _checked(archs: list[Architecture], space: ArchitectureSpace) -> list[Architecture]:
    for a in archs:
        problems = a.problems(space)
        if problems:  # a bug in the counter or the encoding: never hand it out
            raise CheckFailed("sampled architecture fails the check: " + "; ".join(problems))
    return archs


def json_line(arch: Architecture, space: ArchitectureSpace, index: int) -> str:
    d = {"index": index}
    d.update(arch.to_json(space))
    return json.dumps(d, separators=(", ", ": "))


def write_onnx_skeleton(arch: Architecture, space: ArchitectureSpace, path: str,
                        spec=None, seed: int = 0, torch_path: str | None = None) -> tuple[int, ...]:
    """The architecture as a trainable ONNX model (:mod:`nncc.export.architecture_model`:
    Conv, activation, MaxPool per layer, a classifier head if ``spec`` asks) written
    atomically to ``path``, and as a PyTorch module (``torch.save``) to ``torch_path``
    when given, the ONNX model then holding the module's weights. onnxruntime runs it
    (and the module, which must agree); the output shape is returned."""
    from ..atomic import atomic_output
    from ..export.architecture_model import ModelSpec, check_model, onnx_model, torch_module
    spec = spec or ModelSpec()
    module = torch_module(arch, space, spec, seed=seed) if torch_path else None
    model = onnx_model(arch, space, spec, module=module, seed=seed)
    check_model(model, space, spec, module=module, seed=seed)
    with atomic_output(path) as f:
        f.write(model.SerializeToString())
    if module is not None:
        import torch
        with atomic_output(torch_path) as f:
            torch.save(module, f)
    return (spec.classes,) if spec.classes else tuple(space.output_shape)


def quality(archs: list[Architecture], space: ArchitectureSpace) -> dict:
    """The paper's Adj_T over the order given (higher: more varied consecutive answers)."""
    return {"adj_t": round(adjacent_hamming(archs, space), 3)}
