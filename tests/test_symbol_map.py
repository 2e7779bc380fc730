"""The symbol map: JSON round trip, names back to indices, value vectors."""
from __future__ import annotations

import json

import numpy as np
import pytest

from nncc.ir.program import BOOL, INT, REAL, Objective, Program
from nncc.writers.symbol_map import SymbolMap


def program() -> Program:
    p = Program(name="q")
    p.add_vars("h", (3, 12), REAL, -1, 1)
    p.add_vars("h.weight", (11, 2), INT, -3, 3)
    p.add_vars("h.weight.bias", (4,), REAL)
    p.add_vars("s", (), BOOL)
    p.add_vars("x1", (2, 2, 2), REAL)
    p.objective = Objective("max", np.array([0]), np.array([1.0]))
    p.answer_groups = ["h.weight"]
    return p


def test_every_name_maps_to_its_index():
    p = program()
    smap = SymbolMap.from_program(p, "mps")
    names = p.var_names()
    assert [smap.index_of(n) for n in names] == list(range(p.n_vars))
    assert smap.names() == names


@pytest.mark.parametrize("name", ["h", "h_3_0", "h_0_12", "h_weight_1", "h_01_2", "h_-1_2",
                                  "h_weight_0_0_0", "nncc_obj", "s_0", "x1_2_0_0", "zz"])
def test_foreign_names_are_none(name):
    assert SymbolMap.from_program(program(), "lp").index_of(name) is None


def test_round_trip(tmp_path):
    p = program()
    smap = SymbolMap.from_program(p, "lp", extra={"source": "a.nn", "passes": [{"k": [1, 2]}]})
    assert smap.objective_negated
    d = json.loads(json.dumps(smap.to_json()))
    back = SymbolMap.from_json(d)
    assert back.to_json() == smap.to_json()
    path = tmp_path / "m.json"
    smap.save(path)
    assert [f.name for f in tmp_path.iterdir()] == ["m.json"]  # no temporary file left
    loaded = SymbolMap.load(path)
    assert loaded.extra == {"source": "a.nn", "passes": [{"k": [1, 2]}]}
    assert loaded.answer_names() == [f"h_weight_{i}_{j}" for i in range(11) for j in range(2)]
    assert not SymbolMap.from_program(p, "smtlib").objective_negated


def test_vector_and_group_values():
    p = program()
    smap = SymbolMap.from_program(p, "smtlib")
    x = smap.vector({"h_weight_10_1": 3.0, "h_2_11": -0.5, "s": 1.0, "nncc_obj": 9.0,
                     "unknown_7": 1.0})
    assert x.shape == (p.n_vars,)
    assert np.count_nonzero(~np.isnan(x)) == 3
    g = smap.group_values(x)
    assert g["h.weight"].shape == (11, 2) and g["h.weight"][10, 1] == 3.0
    assert g["h"][2, 11] == -0.5 and g["s"].shape == () and g["s"] == 1.0
    assert smap.vector({}, default=0.0).sum() == 0.0


def test_many_names_map_to_their_columns():
    """200,000 names (their speed: ``benchmarks/front_end_speed.py``)."""
    p = Program()
    p.add_vars("layer.weight", (200, 500), REAL)
    p.add_vars("layer", (100, 1000), REAL)
    names = p.var_names()
    smap = SymbolMap.from_program(p, "mps")
    x = smap.vector(dict(zip(names, np.arange(len(names), dtype=float))))
    assert np.array_equal(x, np.arange(len(names)))


def test_group_prefixes_never_produce_the_same_name():
    from nncc.ir.program import Program
    from nncc.writers.symbol_map import SymbolMap
    p = Program()
    p.add_vars("h", (4, 5))
    p.add_vars("h.2", (5,))  # "h_2_3" would also be h[2, 3]
    p.add_vars("h_2", (3,))
    names = p.var_names()
    assert len(set(names)) == len(names) == 28
    smap = SymbolMap.from_program(p, target="smtlib")
    assert [smap.index_of(n) for n in names] == list(range(28))
