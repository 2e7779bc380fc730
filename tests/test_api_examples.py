"""The Python API's runnable examples (examples/api_*.py), each run as a user runs it.

The scripts assert their answers on the objects themselves (predict, predict_proba,
torch, onnxruntime); these tests read the tables they print."""
import os
import subprocess
import sys

import pytest

from conftest import EXAMPLES, ROOT


def run_example(name: str, tmp_path, timeout: float = 600) -> list[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, str(EXAMPLES / name)], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stdout + r.stderr
    assert list(tmp_path.iterdir()) == []   # nothing left in the working folder
    return r.stdout.splitlines()


def test_verify_sklearn_proves_small_radii_and_finds_counterexamples_at_large(tmp_path):
    lines = run_example("api_verify_sklearn.py", tmp_path)
    rows = [ln.split() for ln in lines if ln.split() and ln.split()[0].isdigit()]
    assert len(rows) == 10
    for r in rows:
        verdicts = r[2:]
        assert verdicts[0] == "unsat"           # eps 0.01: robust
        assert verdicts[-1] == "sat"            # eps 0.3: a checked counterexample
        # robustness is monotone in the radius: once sat, sat at every larger radius
        first_sat = verdicts.index("sat")
        assert all(v == "sat" for v in verdicts[first_sat:])
    assert lines[-1].startswith("flower 0 classified 2 within 0.1: unsat")


def test_maximize_onnx_finds_each_class_s_best_input(tmp_path):
    lines = run_example("api_maximize_onnx.py", tmp_path)
    rows = [ln for ln in lines if ln.split() and ln.split()[0].isdigit()]
    assert len(rows) == 2 and all(r.rstrip().endswith("solution") for r in rows)


def test_evaluate_regressor_solver_outputs_equal_predict(tmp_path):
    lines = run_example("api_evaluate_regressor.py", tmp_path)
    rows = [ln.split() for ln in lines if ln.split() and ln.split()[0].isdigit()]
    assert len(rows) == 5 and all(abs(float(a) - float(b)) < 1e-3 for _, a, b in rows)
    assert "(solution;" in lines[-1]


def test_adversarial_torch_moves_torch_s_class(tmp_path):
    pytest.importorskip("torch", reason="torch is not installed (pip install '.[torch]')")
    lines = run_example("api_adversarial_torch.py", tmp_path)
    assert float(lines[0].split()[-1]) > 0.8   # test accuracy of the trained CNN
    rows = [ln.split() for ln in lines if ln.split() and ln.split()[0].isdigit()]
    assert len(rows) == 3
    for r in rows:
        if r[3] != "-":
            assert r[3] != r[2]                      # another class (the script asked torch)
            assert float(r[4]) >= float(r[5]) - 1e-6  # never closer than the solver's bound
    assert sum(r[-1] == "solution" for r in rows) >= 1


def test_adversarial_retraining_reports_both_networks_and_checked_distances(tmp_path, capsys):
    from conftest import load_example
    ex = load_example("adversarial_retraining")
    assert ex.main(["--quick"]) == 0
    out = capsys.readouterr().out
    rows = [ln.split("|")[1:-1] for ln in out.splitlines()
            if ln.startswith("| ") and ln[2].isdigit()]
    assert [(r[0].strip(), r[1].strip()) for r in rows] == [
        ("0", "original"), ("1", "adversarial"), ("1", "control")]
    for r in rows:
        acc, mean = float(r[4]), float(r[6])
        assert 0.5 < acc <= 1.0 and mean > 0   # every distance from a checked answer
    added = int(rows[1][3])
    assert added > 0 and int(rows[1][2]) == int(rows[0][2]) + added == int(rows[2][2])
