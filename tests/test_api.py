"""The Python API returns objects: the IR, the written file, the status, the arrays."""
import numpy as np
import pytest

import nncc
from conftest import EXAMPLES, write
from nncc.ir.program import Program

XOR = str(EXAMPLES / "xor.nn")


def test_load_compile_returns_ir_symbol_map_and_file(tmp_path):
    doc = nncc.load(XOR)
    q = doc.query()
    assert q.network.name == "xor_net" and q.data.n_samples == 4 and q.margin == 0.5
    out = tmp_path / "xor.mps"
    comp = nncc.compile(q, "mps", str(out))
    assert isinstance(comp.program, Program) and comp.path == str(out)
    assert out.read_text().startswith("NAME ")
    assert (tmp_path / "xor.mps.map.json").exists()
    assert comp.logic.milp and comp.logic.smt == "QF_LRA"
    s = comp.summary()
    assert s["nonzeros"] == comp.program.nnz > 0 and s["variables"]["bool"] > 0
    # lower() builds the IR without writing anything
    comp2 = nncc.lower(q, "smtlib")
    assert comp2.path is None and comp2.program.n_vars < comp.program.n_vars  # no big-M binaries


@pytest.mark.parametrize("solver", ["z3", "highs"])
def test_solve_returns_checked_arrays(tmp_path, solver):
    q = nncc.load(XOR).query()
    ans = nncc.solve(q, solver=solver, time_limit=60)
    assert ans.status == "solution"
    assert ans.check.ok and ans.check.accuracy == 1.0 and ans.check.min_margin >= 0.5 - 1e-6
    assert set(ans.params) == {"h.weight", "h.bias", "y.weight", "y.bias"}
    assert ans.params["h.weight"].shape == (4, 2)
    ans.save_npz(str(tmp_path / "w.npz"))
    ans.save_onnx(str(tmp_path / "w.onnx"))
    assert ans.report()["solver"] == solver


def test_strict_margin_zero_on_smt_and_milp(tmp_path):
    """``classify`` without a margin: strict in SMT-LIB, epsilon in MILP; both pass a
    strict forward-pass check."""
    src = write(tmp_path / "strict.nn", (EXAMPLES / "xor.nn").read_text()
                .replace("classify margin 0.5", "classify"))
    q = nncc.load(str(src)).query()
    assert q.margin == 0
    smt = nncc.lower(q, "smtlib")
    assert any(getattr(b, "sense", None) is not None and (b.sense == 4).any() for b in smt.program.blocks)
    for solver in ("z3", "cvc5", "highs", "cbc"):
        ans = nncc.solve(q, solver=solver, time_limit=60)
        assert ans.status == "solution", solver
        assert ans.check.min_margin > 0
    # the MILP carries the documented epsilon
    assert nncc.lower(q, "mps").passes[0]["epsilon"] == 1e-3


def test_relu_as_disjunction_on_the_direct_encoding(tmp_path):
    src = write(tmp_path / "dis.nn", (EXAMPLES / "xor.nn").read_text()
                .replace("classify margin 0.5", "classify margin 0.5 relu disjunction normalise off"))
    q = nncc.load(str(src)).query()
    out = tmp_path / "dis.smt2"
    comp = nncc.compile(q, "smtlib", str(out))
    text = out.read_text()
    assert comp.logic.smt == "QF_NRA" and "(or (and (>= h_pre_0_0 0)" in text and "ite" not in text
    ans = nncc.solve(q, solver="z3", time_limit=120)
    assert ans.status == "solution" and ans.check.ok


def test_unknown_query_name_and_file_without_query(tmp_path):
    from nncc.errors import InputError
    with pytest.raises(InputError, match="no query named"):
        nncc.load(XOR).query("nope")
    src = write(tmp_path / "q.nn", "network n { input x[2] dense y[2] }\n")
    with pytest.raises(InputError, match="no train query"):
        nncc.load(str(src)).query()
