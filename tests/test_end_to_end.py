"""The training query end to end, through the real command and the real solver binaries."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import EXAMPLES, run_nncc, write, z3_argv

XOR = EXAMPLES / "xor.nn"
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
XOR_Y = np.array([0, 1, 1, 0])


def forward(w, X):
    """An independent forward pass of the 2-layer XOR network from an npz."""
    h = np.maximum(X @ w["h.weight"].T + w["h.bias"], 0)
    return h @ w["y.weight"].T + w["y.bias"]


def assert_classifies(w, X, y, margin, box):
    out = forward(w, X)
    n = np.arange(len(y))
    other = out.copy()
    other[n, y] = -np.inf
    assert np.all(out[n, y] - other.max(axis=1) >= margin - 1e-6)
    for k in ("h.weight", "h.bias", "y.weight", "y.bias"):
        assert np.all(np.abs(w[k]) <= box + 1e-6)
    assert w["h.weight"].shape == (4, 2) and w["y.weight"].shape == (2, 4)
    assert w["h.bias"].shape == (4,) and w["y.bias"].shape == (2,)


def test_compile_smtlib_pipes_into_z3():
    comp = run_nncc("compile", XOR, "--target", "smtlib")
    assert comp.returncode == 0, comp.stderr
    text = comp.stdout
    assert 0 <= text.index("(set-option :produce-models true)") < text.index("(set-logic QF_LRA)")
    z3 = subprocess.run([*z3_argv(), "-in"], input=comp.stdout, capture_output=True, text=True, timeout=120)
    assert z3.stdout.splitlines()[0] == "sat"


def test_cvc5_accepts_the_same_text(tmp_path):
    comp = run_nncc("compile", XOR, "--target", "smtlib", "-o", tmp_path / "xor.smt2")
    assert comp.returncode == 0, comp.stderr
    assert (tmp_path / "xor.smt2.map.json").exists()
    import sys
    out = subprocess.run([sys.executable, "-m", "nncc.solvers.cvc5_driver", str(tmp_path / "xor.smt2")],
                         capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(EXAMPLES.parent), "PATH": "/usr/bin:/bin"})
    assert out.stdout.splitlines()[0] == "sat", out.stderr


@pytest.mark.parametrize("solver", ["z3", "cvc5", "cbc", "highs", "auto"])
def test_solve_xor_with_every_solver(tmp_path, solver):
    npz, onnx_path = tmp_path / "w.npz", tmp_path / "w.onnx"
    r = run_nncc("solve", XOR, "--solver", solver, "-o", npz, "--onnx", onnx_path, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(r.stdout)
    assert report["status"] == "solution"
    assert report["check"]["ok"] and report["check"]["accuracy"] == 1.0
    assert report["check"]["min_margin"] >= 0.5 - 1e-6
    assert report["solver"] in ("z3", "cvc5", "cbc", "highs") and report["solver_version"]
    w = dict(np.load(npz))
    assert_classifies(w, XOR_X, XOR_Y, 0.5, 4.0)
    import onnxruntime as ort
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {sess.get_inputs()[0].name: XOR_X.astype(np.float32)})[0]
    w32 = {k: v.astype(np.float32).astype(np.float64) for k, v in w.items()}
    assert np.allclose(got, forward(w32, XOR_X.astype(np.float32).astype(np.float64)), atol=1e-6)


def test_text_report_names_status_solver_accuracy_and_margin():
    r = run_nncc("solve", XOR, "--solver", "highs")
    assert r.returncode == 0, r.stderr
    for word in ("solution found", "highs", "accuracy 100.00%", "smallest margin", "nonzeros"):
        assert word in r.stdout


def test_reported_time_counts_start_up_and_says_when_no_solver_ran(tmp_path):
    import re
    import time
    from nncc.cli.commands import time_text
    t = time.perf_counter()
    r = run_nncc("solve", XOR, "--solver", "highs")
    wall = time.perf_counter() - t
    line = next(x for x in r.stdout.splitlines() if x.startswith("time:"))
    since, total = (float(v) for v in re.findall(
        r"([\d.]+) s since the process started .* the query ([\d.]+) s", line)[0])
    # the start-up (interpreter, imports, reading the file) is part of what is reported
    assert total < since <= wall + 0.05, (line, wall)
    r = run_nncc("solve", XOR, "--solver", "highs", "--json")
    secs = json.loads(r.stdout)["seconds"]
    assert secs["process"] >= secs["total"] >= secs["solve"] > 0
    # an answer decided before any solver says so, rather than "0.00 s in the solver"
    text = time_text({"bounds": 0.01, "split": 0.5, "compile": 0.1, "total": 0.7}, {})
    assert "no solver ran (bounds 0.01 s, split 0.50 s)" in text and "in the solver" not in text


@pytest.mark.parametrize("target,solver", [("mps", "highs"), ("mps", "cbc"), ("lp", "highs"),
                                           ("lp", "cbc"), ("smtlib", "z3"), ("smtlib", "cvc5")])
def test_compile_then_solve_by_hand_then_decode(tmp_path, target, solver):
    """A user runs the solver binary themselves and decodes its output."""
    from nncc.solvers.registry import load_registry
    out = tmp_path / f"xor.{target}"
    r = run_nncc("compile", XOR, "--target", target, "-o", out)
    assert r.returncode == 0, r.stderr
    spec = load_registry().get(solver)
    argv = spec.executable()
    sol = tmp_path / "solution.txt"
    if solver == "highs":
        cmd = argv + ["--model_file", str(out), "--solution_file", str(sol)]
    elif solver == "cbc":
        cmd = argv + [str(out), "-solve", "-solu", str(sol)]
    else:
        cmd = argv + [str(out)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=spec.child_env())
    if solver in ("z3", "cvc5"):
        sol.write_text(p.stdout)
    npz = tmp_path / "w.npz"
    d = run_nncc("decode", f"{out}.map.json", sol, "-o", npz)
    assert d.returncode == 0, d.stdout + d.stderr
    assert_classifies(dict(np.load(npz)), XOR_X, XOR_Y, 0.5, 4.0)


def test_decode_refuses_a_tampered_answer(tmp_path):
    out = tmp_path / "xor.smt2"
    assert run_nncc("compile", XOR, "--target", "smtlib", "-o", out).returncode == 0
    p = subprocess.run([*z3_argv(), str(out)], capture_output=True, text=True, timeout=120)
    lines = p.stdout.splitlines()
    # zero every value: a model that classifies nothing
    import re
    tampered = "\n".join(re.sub(r"\((\w+) [^()]*(\([^()]*\))?\)", r"(\1 0.0)", ln) for ln in lines)
    sol = tmp_path / "bad.txt"
    sol.write_text(tampered)
    npz = tmp_path / "w.npz"
    d = run_nncc("decode", f"{out}.map.json", sol, "-o", npz)
    assert d.returncode == 5, d.stdout + d.stderr
    assert not npz.exists()
    assert "FAILED THE CHECK" in d.stdout


def test_no_solution_is_exit_1(tmp_path):
    src = write(tmp_path / "contradiction.nn", """
network n { input x[2] dense h[2] relu dense y[2] }
data d { inputs [[1, 2], [1, 2]] labels [0, 1] }
train n on d { classify margin 0.1 }
""")
    for solver in ("z3", "highs", "cbc"):
        r = run_nncc("solve", src, "--solver", solver, "-o", tmp_path / "w.npz")
        assert r.returncode == 1, (solver, r.stdout, r.stderr)
        assert "no solution" in r.stdout
        assert not (tmp_path / "w.npz").exists()


def test_check_summarises_networks_data_ir_and_logic():
    r = run_nncc("check", XOR)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "network xor_net" in out and "4 samples x 2 features" in out
    assert "QF_LRA" in out and "normalised" in out
    assert "nonzeros" in out and "MILP IR" in out
    j = json.loads(run_nncc("check", XOR, "--json").stdout)
    q = j["queries"][0]
    assert q["logic"] == "QF_LRA" and q["targets"] == ["smtlib", "mps", "lp"]
    assert q["variables"]["bool"] == 4


def test_solvers_lists_all_four_with_versions():
    r = run_nncc("solvers", "--json")
    assert r.returncode == 0, r.stderr
    rows = {x["name"]: x for x in json.loads(r.stdout)}
    for name in ("z3", "cvc5", "cbc", "highs"):
        assert rows[name]["available"], rows[name]
        assert any(ch.isdigit() for ch in rows[name]["version"])


def _example_queries():
    import nncc
    return [(p.name, q.name) for p in sorted(EXAMPLES.glob("*.nn"))
            for q in nncc.load(str(p)).queries]


@pytest.mark.parametrize("example,query", _example_queries())
def test_every_example_solves_and_checks(tmp_path, example, query):
    r = run_nncc("solve", EXAMPLES / example, "--query", query, "-o", tmp_path / "a.npz", "--json",
                 "--time-limit", "120")
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(r.stdout)
    assert report["status"] == "solution" and report["check"]["ok"]
    # a hinge loss trades errors against the weights; every other train query
    # classifies every sample
    if "accuracy" in report["check"] and "hinge" not in report["check"].get("parts", {}):
        assert report["check"]["accuracy"] == 1.0
    assert (tmp_path / "a.npz").exists()


def test_digits_nonzero_weights_hold_in_the_answer(tmp_path):
    """The paper's digits query: 10% of the weights, chosen with seed 7, are non-zero."""
    from nncc.problem.query import nonzero_choice
    npz = tmp_path / "w.npz"
    r = run_nncc("solve", EXAMPLES / "digits.nn", "--solver", "highs", "-o", npz)
    assert r.returncode == 0, r.stdout + r.stderr
    w = dict(np.load(npz))
    flat = np.concatenate([w["h.weight"].ravel(), w["y.weight"].ravel()])
    chosen = nonzero_choice(len(flat), 0.10, 7)
    assert len(chosen) == round(0.1 * (64 * 10 + 10 * 2))
    assert np.all(flat[chosen] != 0)
    import nncc
    data = nncc.load(str(EXAMPLES / "digits.nn")).datasets["digits"]
    assert data.X.shape == (100, 64) and set(data.y) == {0, 1}
    out = np.maximum(data.X @ w["h.weight"].T + w["h.bias"], 0) @ w["y.weight"].T + w["y.bias"]
    n = np.arange(100)
    assert np.all(out[n, data.y] - out[n, 1 - data.y] >= 0.01 - 1e-6)


def test_ctrl_c_kills_the_solver_and_writes_nothing(tmp_path):
    """SIGINT while z3 works on a hard query: exit 130, z3 gone, no weights file."""
    from conftest import interrupt_once_solver_runs
    src = write(tmp_path / "hard.nn", (EXAMPLES / "digits.nn").read_text()
                .replace("nonzero 10% seed 7", "normalise off"))
    interrupt_once_solver_runs("solve", src, "--solver", "z3", "-o", tmp_path / "w.npz")
    assert not (tmp_path / "w.npz").exists()


def test_the_solver_dies_when_nncc_is_killed_outright(tmp_path):
    """SIGKILL leaves nncc no time to clean up: the kernel must take z3 with it."""
    import os
    import signal
    import time
    from conftest import ROOT, _children
    src = write(tmp_path / "hard.nn", (EXAMPLES / "digits.nn").read_text()
                .replace("nonzero 10% seed 7", "normalise off"))
    p = subprocess.Popen([sys.executable, "-m", "nncc", "solve", str(src), "--solver", "z3"],
                         env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    deadline, kids = time.time() + 60, []
    while time.time() < deadline and not kids:
        time.sleep(0.1)
        kids = _children(p.pid)
    assert kids, "the solver never started"
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    deadline = time.time() + 10
    alive = kids
    while alive and time.time() < deadline:
        time.sleep(0.1)
        alive = [k for k in kids if os.path.exists(f"/proc/{k}")
                 and open(f"/proc/{k}/stat").read().split()[2] != "Z"]
    assert not alive, f"solver processes {alive} outlived nncc"


def test_decode_needs_a_source_to_recheck(tmp_path):
    import shutil
    src = tmp_path / "xor.nn"
    shutil.copy(XOR, src)
    out = tmp_path / "xor.smt2"
    assert run_nncc("compile", src, "--target", "smtlib", "-o", out).returncode == 0
    p = subprocess.run([*z3_argv(), str(out)], capture_output=True, text=True, timeout=120)
    sol = tmp_path / "z3.txt"
    sol.write_text(p.stdout)
    src.unlink()
    d = run_nncc("decode", f"{out}.map.json", sol, "-o", tmp_path / "w.npz")
    assert d.returncode == 2 and "--source" in d.stderr and "Traceback" not in d.stderr
    assert not (tmp_path / "w.npz").exists()
    d = run_nncc("decode", f"{out}.map.json", sol, "-o", tmp_path / "w.npz", "--source", XOR)
    assert d.returncode == 0, d.stdout + d.stderr
    assert_classifies(dict(np.load(tmp_path / "w.npz")), XOR_X, XOR_Y, 0.5, 4.0)


def test_progress_only_when_asked_or_on_a_terminal(tmp_path):
    quiet = run_nncc("solve", XOR, "--solver", "cbc")
    assert quiet.returncode == 0 and quiet.stderr == ""
    loud = run_nncc("solve", XOR, "--solver", "cbc", env={"NNCC_PROGRESS": "1"})
    assert loud.returncode == 0
    assert "encoded" in loud.stderr and "wrote mps for cbc" in loud.stderr
    # on a terminal (a pty), without the variable, progress is shown too
    import os
    import pty
    import sys
    from conftest import ROOT
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("CI", None)
    env.pop("NNCC_PROGRESS", None)
    master, slave = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "nncc", "solve", str(XOR), "--solver", "cbc"],
                         stdout=subprocess.PIPE, stderr=slave, env=env)
    p.wait(timeout=120)
    os.close(slave)
    shown = os.read(master, 65536).decode()
    os.close(master)
    assert p.returncode == 0 and "encoded" in shown


def test_xor_questions_answers_are_right(tmp_path):
    """The trained XOR network: its corners, its strongest class-1 input, the flip of (0, 0)."""
    import onnxruntime as ort
    sess = ort.InferenceSession(str(EXAMPLES / "xor_net.onnx"), providers=["CPUExecutionProvider"])
    run = lambda X: sess.run(None, {sess.get_inputs()[0].name: np.asarray(X, np.float32)})[0]  # noqa
    src = EXAMPLES / "xor_questions.nn"
    r = run_nncc("solve", src, "--query", "corners", "--json", "-o", tmp_path / "e.npz")
    assert r.returncode == 0, r.stderr
    out = np.load(tmp_path / "e.npz")["output"]
    assert np.allclose(out, run(XOR_X), atol=1e-5)
    assert list(out.argmax(axis=1)) == [0, 1, 1, 0]
    r = run_nncc("solve", src, "--query", "strongest_one", "--json", "-o", tmp_path / "m.npz")
    best = json.loads(r.stdout)["check"]["value"]
    g = np.stack(np.meshgrid(np.linspace(0, 1, 101), np.linspace(0, 1, 101)), -1).reshape(-1, 2)
    assert best >= run(g)[:, 1].max() - 1e-5  # no grid point does better
    # the start is proven closest by ReLU splitting (no solver run), and by highs without it
    for extra, solver in (([], "relu splitting"), (["--split-time", "0"], "highs")):
        r = run_nncc("solve", src, "--query", "flip_origin", "--json", "-o", tmp_path / "a.npz",
                     *extra)
        rep = json.loads(r.stdout)
        assert rep["status"] == "solution" and rep["solver"] == solver, rep
        x = np.load(tmp_path / "a.npz")["input"]
        y = run(x[None])[0]
        assert y[1] - y[0] >= 0.1 - 1e-4 and np.abs(x).max() == pytest.approx(rep["check"]["value"])
        assert rep["check"]["value"] == pytest.approx(0.49375, rel=1e-4)


def test_the_report_names_the_query_and_says_when_others_were_left(tmp_path):
    src = EXAMPLES / "xor_questions.nn"
    r = run_nncc("solve", src)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "query:     corners"
    assert ("note:      the file has 4 queries (corners, strongest_one, typical_zero, "
            "flip_origin); this is the first, 'corners': --query NAME solves another") in r.stdout
    r = run_nncc("solve", src, "--query", "strongest_one")
    assert r.stdout.splitlines()[0] == "query:     strongest_one"
    assert "the file has 4 queries" not in r.stdout
    r = run_nncc("solve", EXAMPLES / "xor.nn", "-o", tmp_path / "w.npz")
    assert r.returncode == 0 and "the file has" not in r.stdout


def test_network_question_compiled_solved_by_hand_and_decoded(tmp_path):
    src = EXAMPLES / "xor_questions.nn"
    out = tmp_path / "flip.mps"
    r = run_nncc("compile", src, "--query", "flip_origin", "--target", "mps", "-o", out)
    assert r.returncode == 0, r.stderr
    from nncc.solvers.registry import load_registry
    spec = load_registry().get("highs")
    sol = tmp_path / "flip.sol"
    subprocess.run(spec.executable() + ["--model_file", str(out), "--solution_file", str(sol)],
                   capture_output=True, timeout=120, env=spec.child_env(), check=True)
    d = run_nncc("decode", f"{out}.map.json", sol, "-o", tmp_path / "a.npz", "--json")
    assert d.returncode == 0, d.stdout + d.stderr
    rep = json.loads(d.stdout)
    x = np.load(tmp_path / "a.npz")["input"]
    assert rep["check"]["ok"] and np.abs(x).max() == pytest.approx(rep["check"]["value"])
    # decode does not encode the query again: the report gives the map's variable count,
    # not an empty program's zeros
    n_vars = json.loads(open(f"{out}.map.json").read())["n_vars"]
    assert "ir" not in rep and rep["map"] == {"target": "mps", "variables": n_vars} and n_vars > 0
    d = run_nncc("decode", f"{out}.map.json", sol, "-o", tmp_path / "b.npz")
    assert f"IR:        mps file of {n_vars:,} variables" in d.stdout
    assert "0 real / 0 int / 0 bool" not in d.stdout


def _write_small_onnx(path, W, input_shape):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    nodes = ([helper.make_node("Flatten", ["x"], ["f"])] if len(input_shape) > 1 else
             [helper.make_node("Identity", ["x"], ["f"])])
    graph = helper.make_graph(
        nodes + [helper.make_node("Gemm", ["f", "W", "b"], ["h"], transB=1),
                 helper.make_node("Relu", ["h"], ["y"])], "img",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *input_shape])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", W.shape[0]])],
        initializer=[numpy_helper.from_array(W, "W"),
                     numpy_helper.from_array(np.zeros(W.shape[0], np.float32), "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


def _adversarial_file(tmp_path, input_shape, seed=3):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(3, 16)).astype(np.float32)
    _write_small_onnx(tmp_path / "img.onnx", W, input_shape)
    x0 = np.round(rng.uniform(0.2, 0.8, size=16), 4)
    label = int(np.argmax(np.maximum(W.astype(float) @ x0, 0)))
    target = (label + 1) % 3
    write(tmp_path / "img.nn", f'network net = onnx "img.onnx"\n'
          f'adversarial net near [{", ".join(f"{v:.4f}" for v in x0)}] '
          f'{{ target {target}  minimize l1  input in [0, 1] }}\n')
    return W.astype(float), x0, label, target


def _read_png_size(path):
    from matplotlib import image
    img = image.imread(str(path))
    assert img.ndim == 3 and float(img[..., :3].std()) > 0.01  # not blank
    return img.shape[:2]


def test_png_of_an_image_shaped_adversarial(tmp_path):
    """A 1x4x4 'image' network built with onnx.helper: --png writes the labelled
    comparison, -o the arrays with the original, the distance and both classes."""
    W, x0, label, target = _adversarial_file(tmp_path, (1, 4, 4))
    png = tmp_path / "cmp.png"
    r = run_nncc("solve", tmp_path / "img.nn", "--png", png, "-o", tmp_path / "a.npz")
    assert r.returncode == 0, r.stdout + r.stderr  # seed 3: the target is reachable
    h, w = _read_png_size(png)
    assert w > 2 * h > 100   # three labelled panels side by side
    with np.load(tmp_path / "a.npz") as d:
        a = dict(d)
    assert a["input"].shape == a["original"].shape == (1, 4, 4)
    assert list(a["input_shape"]) == [1, 4, 4] and str(a["norm"]) == "l1"
    np.testing.assert_allclose(a["original"].reshape(-1), x0)
    assert float(a["distance"]) == pytest.approx(np.abs(a["input"] - a["original"]).sum(), rel=1e-9)
    y = np.maximum(W @ a["input"].reshape(-1), 0)
    assert int(a["class_before"]) == label and int(a["class_after"]) == int(np.argmax(y)) == target
    assert int(a["target"]) == target
    np.testing.assert_allclose(a["output"], y, atol=1e-9)


def test_png_of_a_flat_input_needs_an_image_shape_before_solving(tmp_path):
    _adversarial_file(tmp_path, (16,))
    png = tmp_path / "cmp.png"
    r = run_nncc("solve", tmp_path / "img.nn", "--png", png, "-o", tmp_path / "a.npz")
    assert r.returncode == 2 and "give --image-shape H W [C] (e.g. --image-shape 4 4)" in r.stderr
    assert "solution" not in r.stdout and not png.exists() and not (tmp_path / "a.npz").exists()
    r = run_nncc("solve", tmp_path / "img.nn", "--png", png, "--image-shape", "4", "5")
    assert r.returncode == 2 and "holds 20 values, the input has 16" in r.stderr
    r = run_nncc("solve", tmp_path / "img.nn", "--image-shape", "4", "4")
    assert r.returncode == 2 and "give --png too" in r.stderr
    r = run_nncc("solve", tmp_path / "img.nn", "--png", png, "--image-shape", "4", "4",
                 "-o", tmp_path / "a.npz")
    assert r.returncode == 0, r.stdout + r.stderr
    assert _read_png_size(png)[1] > 100
    with np.load(tmp_path / "a.npz") as d:
        assert d["input"].shape == (16,) and list(d["input_shape"]) == [16]


def test_a_race_of_highs_and_cbc_solves_xor_and_says_who_won(tmp_path):
    from nncc.checks.check_training import check_training
    from nncc.frontend.semantics import load_document
    r = run_nncc("solve", EXAMPLES / "xor.nn", "--solver", "race:highs,cbc", "--json",
                 "-o", tmp_path / "w.npz")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["status"] == "solution" and rep["check"]["ok"]
    assert rep["solver"] in ("highs", "cbc") and rep["how"] == rep["solver"]
    assert set(rep["race"]) == {"highs", "cbc"}
    assert any(n.startswith(f"race: {rep['solver']} answered first") for n in rep["notes"])
    q = load_document(str(EXAMPLES / "xor.nn")).query()
    w = dict(np.load(tmp_path / "w.npz"))   # the weights classify every sample
    assert check_training(q, w).accuracy == 1.0


@pytest.mark.parametrize("solver, fragment", [
    ("race:highs", "two solvers or more"), ("race:highs,z3", "no format in common"),
    ("race:highs,nosuch", "unknown solver 'nosuch'")])
def test_bad_races_are_one_line_errors(solver, fragment):
    r = run_nncc("solve", EXAMPLES / "xor.nn", "--solver", solver)
    assert r.returncode == 2 and fragment in r.stderr and "Traceback" not in r.stderr


def test_ctrl_c_during_a_race_kills_both_solvers(tmp_path):
    from conftest import interrupt_once_solver_runs
    src = write(tmp_path / "hard.nn", (EXAMPLES / "digits.nn").read_text()
                .replace("nonzero 10% seed 7", "normalise off"))
    interrupt_once_solver_runs("solve", src, "--solver", "race:z3,cvc5", "-o", tmp_path / "w.npz")
    assert not (tmp_path / "w.npz").exists()


def test_every_option_and_positional_of_every_command_has_help():
    import argparse
    from nncc.cli.commands import build_parser
    missing = []
    for a in build_parser()._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, sp in a.choices.items():
                missing += [f"{name} {act.option_strings or act.dest}" for act in sp._actions
                            if act.help is None and not isinstance(act, argparse._HelpAction)]
    assert missing == []


def test_a_closed_pipe_ends_nncc_quietly_and_sigpipe_stays_ignored(tmp_path, capsys):
    """`nncc compile ... | head` ends without a word (exit 141, as SIGPIPE would); in
    process, SIGPIPE keeps Python's ignore, so a write to a solver that already exited
    is an error nncc handles, never a silent death."""
    import signal
    err = tmp_path / "err.txt"
    r = subprocess.run(["bash", "-c", f"{sys.executable} -m nncc compile {EXAMPLES / 'digits.nn'} "
                        f"--target smtlib 2> {err} | head -c 20 > /dev/null; "
                        "echo ${PIPESTATUS[0]}"], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, PYTHONPATH=str(EXAMPLES.parent)))
    assert r.stdout.strip() in ("0", "141") and err.read_text() == ""
    from nncc.cli import main
    before = signal.getsignal(signal.SIGPIPE)
    assert main(["check", str(EXAMPLES / "xor.nn")]) == 0
    capsys.readouterr()
    assert signal.getsignal(signal.SIGPIPE) == before
