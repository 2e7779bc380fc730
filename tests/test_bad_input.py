"""Every error a user can cause: one line, a position where it applies, the documented
exit code, no traceback, and no partial output file."""
import os
import sys

import pytest

from conftest import EXAMPLES, run_nncc, write

XOR = EXAMPLES / "xor.nn"

THREE_CLASS = """
network n { input x[4] dense h[3] relu dense y[3] weights real in [-1, 1] }
data iris = bundled "iris" sample 30 seed 1
train n on iris { classify margin 0.1  normalise off }
"""


def assert_one_error(r, code, *words):
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    first = r.stderr.splitlines()[0]
    assert first.startswith("nncc: error: ")
    for w in words:
        assert w in r.stderr, (w, r.stderr)


def test_syntax_error_has_position_line_and_caret(tmp_path):
    src = write(tmp_path / "bad.nn", "network n {\n    input x[2]\n    dense h[4] relu }\n    }\n")
    r = run_nncc("compile", src, "--target", "smtlib")
    assert_one_error(r, 2, f"{src}:4:5")
    assert "^" in r.stderr


def test_unknown_network_name(tmp_path):
    src = write(tmp_path / "u.nn", XOR.read_text().replace("train xor_net", "train xor_nett"))
    assert_one_error(run_nncc("check", src), 2, "xor_nett", "xor_net", f"{src}:12:")


def test_shape_mismatch(tmp_path):
    src = write(tmp_path / "s.nn", XOR.read_text().replace("input  x[2]", "input  x[3]"))
    assert_one_error(run_nncc("check", src), 2, "3", "2", f"{src}:")


def test_missing_data_file(tmp_path):
    src = write(tmp_path / "m.nn", """
network n { input x[2] dense y[2] }
data d = csv "nowhere.csv"
train n on d { classify }
""")
    assert_one_error(run_nncc("check", src), 2, "nowhere.csv", f"{src}:3:")


def test_malformed_data_file(tmp_path):
    write(tmp_path / "bad.csv", "1,2,0\n3,x,1\n")
    src = write(tmp_path / "m.nn", """
network n { input x[2] dense y[2] }
data d = csv "bad.csv"
train n on d { classify }
""")
    assert_one_error(run_nncc("check", src), 2, "bad.csv")


def test_missing_source_file(tmp_path):
    assert_one_error(run_nncc("check", tmp_path / "absent.nn"), 2, "absent.nn")


def test_target_that_cannot_express_the_query_says_which_can(tmp_path):
    src = write(tmp_path / "iris.nn", THREE_CLASS)
    out = tmp_path / "iris.mps"
    r = run_nncc("compile", src, "--target", "mps", "-o", out)
    assert_one_error(r, 2, "QF_NRA", "smtlib")
    assert not out.exists() and not os.path.exists(str(out) + ".map.json")
    assert [p for p in os.listdir(tmp_path) if p != "iris.nn"] == []
    # and a MILP-only solver is refused the same way
    assert_one_error(run_nncc("solve", src, "--solver", "highs"), 2, "z3")


def test_unknown_target_and_solver():
    assert_one_error(run_nncc("compile", XOR, "--target", "smt"), 2, "smtlib")
    assert_one_error(run_nncc("solve", XOR, "--solver", "gurobi"), 2, "gurobi", "z3")


def solver_config(tmp_path, command):
    cfg = tmp_path / "solvers.toml"
    cfg.write_text(f"[highs]\ncommand = {command}\n")
    return cfg


def test_missing_solver_binary(tmp_path):
    cfg = solver_config(tmp_path, '"/nonexistent/highs"')
    r = run_nncc("solve", XOR, "--solver", "highs", "--solvers-config", cfg, "-o", tmp_path / "w.npz")
    assert_one_error(r, 4, "highs")
    assert not (tmp_path / "w.npz").exists()


def test_crashing_solver(tmp_path):
    crash = f'["{sys.executable}", "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"]'
    cfg = solver_config(tmp_path, crash)
    r = run_nncc("solve", XOR, "--solver", "highs", "--solvers-config", cfg, "-o", tmp_path / "w.npz")
    assert_one_error(r, 4, "signal")
    assert not (tmp_path / "w.npz").exists()


def test_garbage_solver_output(tmp_path):
    junk = f'["{sys.executable}", "-c", "print(\'hello there\')"]'
    cfg = solver_config(tmp_path, junk)
    r = run_nncc("solve", XOR, "--solver", "highs", "--solvers-config", cfg, "-o", tmp_path / "w.npz")
    assert_one_error(r, 4)
    assert not (tmp_path / "w.npz").exists()


def test_usage_errors_are_exit_2_without_traceback():
    for args in (["compile"], ["frobnicate"], ["solve", XOR, "--time-limit", "abc"]):
        r = run_nncc(*args)
        assert r.returncode == 2 and "Traceback" not in r.stderr, (args, r.stderr)
        assert r.stderr.startswith("nncc: error:")
