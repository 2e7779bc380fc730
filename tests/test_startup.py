"""What the ``nncc`` command imports before it does any work.

Structure only, in fresh interpreters: which packages end up in
``sys.modules``. No test here measures time (``benchmarks/startup.py`` does).
"""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, SHARED

HEAVY = ("onnxruntime", "onnx", "ml_dtypes", "scipy", "sklearn", "matplotlib", "lark", "highspy",
         "numpy")
ACAS_ONNX = SHARED / "fixtures" / "vnncomp2021_test" / "test_unsat.onnx"
ACAS_NNET = SHARED / "fixtures" / "nnet" / "TestNetwork.nnet"
ACAS_PROP = SHARED / "fixtures" / "vnncomp2021_test" / "test_prop.vnnlib"


def heavy_imported(code: str) -> list[str]:
    """The packages of HEAVY that ``code`` leaves imported in a fresh interpreter (a
    package, not only a module under its name: the ONNX reader loads onnx's
    compiled checker as ``onnx.onnx_cpp2py_export`` without the package)."""
    probe = (code + "\nimport json, sys\n"
             f"print(json.dumps(sorted(set(sys.modules) & {set(HEAVY)!r})))")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                       cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.splitlines()[-1])


def test_the_command_module_and_its_parser_import_no_heavy_package():
    assert heavy_imported("import nncc.cli.commands\nnncc.cli.commands.build_parser()") == []


def test_import_nncc_leaves_the_api_until_it_is_used():
    assert heavy_imported("import nncc") == []
    assert "numpy" in heavy_imported("import nncc\nassert callable(nncc.load)")


def test_nncc_check_reads_a_training_program_without_scipy_or_onnx():
    """``nncc check examples/xor.nn`` parses, resolves and lowers: numpy and lark, no
    scipy (the binarised check and the adversarial starts load it), no onnx."""
    code = "\n".join([
        "import contextlib, io",
        "from nncc.cli.commands import main",
        "with contextlib.redirect_stdout(io.StringIO()):",
        f"    code = main(['check', {str(ROOT / 'examples' / 'xor.nn')!r}])",
        "assert code == 0, code"])
    assert set(heavy_imported(code)) == {"numpy", "lark"}


@pytest.mark.skipif(not (ACAS_ONNX.exists() and ACAS_NNET.exists()),
                    reason="../shared/fixtures is absent")
@pytest.mark.parametrize("net", [ACAS_ONNX, ACAS_NNET], ids=["onnx", "nnet"])
def test_a_dense_network_and_its_property_are_read_without_onnx_or_scipy(net):
    code = ("from nncc.problem.property import load_network\n"
            "from nncc.frontend.vnnlib import load_vnnlib\n"
            f"net = load_network({str(net)!r})\n"
            f"load_vnnlib({str(ACAS_PROP)!r}).check_network(net)")
    left = set(heavy_imported(code)) - {"numpy", "lark"}  # lark: the VNN-LIB reader's
    assert left == set()


def test_the_command_sets_openblas_thread_timeout_only_if_unset():
    code = "import os, nncc.cli.commands\nprint(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))"
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120).stdout.split()
    assert out == ["24"]
    env["OPENBLAS_THREAD_TIMEOUT"] = "28"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120).stdout.split()
    assert out == ["28"]
