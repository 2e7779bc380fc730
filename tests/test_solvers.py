"""End to end: the real solver binaries on tiny hand-written files."""
from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest

from nncc.errors import InputError, SolverError
from nncc.solvers.registry import load_registry
from nncc.solvers.result import ERROR, NO_SOLUTION, SOLUTION, UNKNOWN
from nncc.solvers.runner import solve_file

SMT_SAT = """(set-option :produce-models true)
(set-logic QF_NRA)
(declare-fun x () Real)
(declare-fun y () Real)
(declare-fun b () Bool)
(assert (= (* x x) 2.0))
(assert (> x 0.0))
(assert (= (* 3.0 y) (- 1.0)))
(assert b)
(check-sat)
(get-value (x y b))
"""
SMT_UNSAT = """(set-option :produce-models true)
(set-logic QF_LRA)
(declare-fun x () Real)
(assert (> x 1.0))
(assert (< x 0.0))
(check-sat)
(get-value (x))
"""
# Factoring a 60-bit semiprime: neither z3 nor cvc5 answers within a second.
SMT_HARD = """(set-option :produce-models true)
(set-logic QF_NIA)
(declare-fun x () Int)
(declare-fun y () Int)
(assert (= (* x y) 1000000016000000063))
(assert (> x 1))
(assert (> y 1))
(check-sat)
(get-value (x y))
"""
MPS_OPT = """NAME opt FREE
ROWS
 N obj
 L c1
 L c2
COLUMNS
 MARKER 'MARKER' 'INTORG'
 x obj -5 c1 1
 x c2 2
 y obj -4 c1 1
 y c2 1
 MARKER 'MARKER' 'INTEND'
 z obj 1 c1 1
RHS
 rhs c1 5 c2 8
BOUNDS
 LO bnd x 0
 UP bnd x 10
 LO bnd y 0
 UP bnd y 10
 UP bnd z 3
ENDATA
"""
MPS_INFEASIBLE = """NAME inf FREE
ROWS
 N obj
 G c1
 L c2
COLUMNS
 MARKER 'MARKER' 'INTORG'
 x obj 1 c1 1
 x c2 1
 MARKER 'MARKER' 'INTEND'
RHS
 rhs c1 5 c2 3
BOUNDS
 LO bnd x 0
 UP bnd x 10
ENDATA
"""
LP_OPT = """Minimize
 obj: -5 x - 4 y + z
Subject To
 c1: x + y + z <= 5
 c2: 2 x + y <= 8
Bounds
 0 <= x <= 10
 0 <= y <= 10
 z <= 3
General
 x y
End
"""


def market_split(m: int, n: int, seed: int) -> str:
    """Cornuejols-Dawande market split with slacks: hard for branch and bound,
    easy to find incumbents for. Free MPS takes at most two entries per line."""
    rnd = random.Random(seed)
    a = [[rnd.randrange(100) for _ in range(n)] for _ in range(m)]
    lines = ["NAME msplit FREE", "ROWS", " N obj"] + [f" E r{i}" for i in range(m)]
    lines += ["COLUMNS", " MARKER 'MARKER' 'INTORG'"]
    lines += [f" x{j} r{i} {a[i][j]}" for j in range(n) for i in range(m)]
    lines.append(" MARKER 'MARKER' 'INTEND'")
    for i in range(m):
        lines += [f" sp{i} obj 1 r{i} 1", f" sm{i} obj 1 r{i} -1"]
    lines += ["RHS"] + [f" rhs r{i} {sum(a[i]) // 2}" for i in range(m)]
    lines += ["BOUNDS"] + [f" BV bnd x{j}" for j in range(n)] + ["ENDATA"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def reg():
    return load_registry()


def write(tmp_path: Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def processes_mentioning(text: str) -> list[int]:
    """Live (non-zombie) processes whose command line contains ``text``."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmd and state != "Z":
            found.append(int(d.name))
    return found


def gone(pid: int, within: float = 3.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


# ------------------------------------------------------------------ listing

def test_every_default_solver_is_found_with_a_version(reg):
    assert reg.names()[:4] == ["z3", "cvc5", "cbc", "highs"]
    for name in ("z3", "cvc5", "cbc", "highs"):
        spec = reg.get(name)
        assert spec.available(), f"{name}: {spec.origin}"
        assert re.fullmatch(rf"{name} \d+\.\d+(\.\d+)?", spec.version()), spec.version()
        assert spec.origin.startswith("PyPI")
    # HiGHS from the highspy package, through nncc's driver, which acts as the binary
    assert re.fullmatch(r"highs \d+\.\d+\.\d+", reg.get("highspy").version())
    assert reg.get("highspy").kind == "highs" and "highs_driver" in reg.get("highspy").origin
    assert reg.get("z3").formats == ["smtlib"] and reg.get("cbc").logics == ["MILP"]
    assert reg.get("z3").optimises and not reg.get("cvc5").optimises


# ------------------------------------------------------------------ SMT

@pytest.mark.parametrize("name", ["z3", "cvc5"])
def test_smt_sat_unsat(reg, tmp_path, name):
    res = solve_file(reg.get(name), write(tmp_path, "sat.smt2", SMT_SAT), "smtlib", time_limit=20)
    assert res.status == SOLUTION, res.message
    assert res.values["x"] == pytest.approx(2 ** 0.5, abs=1e-12) and "x" in res.approximate
    assert res.exact["y"] == Fraction(-1, 3) and res.values["b"] == 1.0
    assert res.solver == name and res.version.startswith(name)
    res = solve_file(reg.get(name), write(tmp_path, "unsat.smt2", SMT_UNSAT), "smtlib")
    assert res.status == NO_SOLUTION, res.message


@pytest.mark.parametrize("name", ["z3", "cvc5"])
def test_smt_time_limit(reg, tmp_path, name):
    path = write(tmp_path, f"hard-{name}.smt2", SMT_HARD)
    res = solve_file(reg.get(name), path, "smtlib", time_limit=1)
    assert res.status == UNKNOWN and res.message == "time limit" and res.values == {}
    assert processes_mentioning(path) == []


# ------------------------------------------------------------------ MILP

@pytest.mark.parametrize("name", ["cbc", "highs", "highspy"])
def test_milp_optimal_infeasible_lp(reg, tmp_path, name):
    spec = reg.get(name)
    res = solve_file(spec, write(tmp_path, "opt.mps", MPS_OPT), "mps")
    assert res.status == SOLUTION and res.optimal and res.objective == -23
    assert res.values["x"] == 3 and res.values["y"] == 2 and res.values.get("z", 0) == 0
    res = solve_file(spec, write(tmp_path, "inf.mps", MPS_INFEASIBLE), "mps")
    assert res.status == NO_SOLUTION and res.values == {}
    res = solve_file(spec, write(tmp_path, "opt.lp", LP_OPT), "lp")
    assert res.status == SOLUTION and res.objective == -23
    # cbc and highs choose the reader by extension: a .txt file still works
    res = solve_file(spec, write(tmp_path, "model.txt", MPS_OPT), "mps")
    assert res.status == SOLUTION and res.objective == -23


def test_cbc_run_again_takes_the_options_and_keeps_the_answer(reg, tmp_path, monkeypatch):
    # the second run of the runner (cbc's answer to "Postprocessed model is infeasible")
    # on a real cbc: the options reach cbc, the answer is the second run's, time adds up
    from nncc.solvers import cbc
    asked = []

    def once(run):
        asked.append(run.stdout)
        return ["-preprocess", "off"] if len(asked) == 1 else None
    monkeypatch.setattr(cbc, "run_again_with", once)
    res = solve_file(reg.get("cbc"), write(tmp_path, "opt.mps", MPS_OPT), "mps", time_limit=30)
    assert len(asked) == 1 and res.status == SOLUTION and res.objective == -23
    assert "preprocess off" in res.stdout.lower().replace("-", "")


@pytest.mark.parametrize("name", ["cbc", "highs", "highspy"])
def test_milp_unreadable_file(reg, tmp_path, name):
    res = solve_file(reg.get(name), write(tmp_path, "bad.mps", "this is not an mps file\n"), "mps")
    assert res.status == ERROR
    assert ("Unknown image" if name == "cbc" else "Parser error") in res.message


@pytest.mark.parametrize("name", ["cbc", "highs", "highspy"])
def test_milp_time_limit_keeps_incumbent(reg, tmp_path, name):
    path = write(tmp_path, f"msplit-{name}.mps", market_split(5, 40, seed=1))
    seen: list[tuple[float, str | None]] = []
    res = solve_file(reg.get(name), path, "mps", time_limit=1,
                     on_progress=lambda s, inc: seen.append((s, inc)))
    assert res.status == UNKNOWN and res.has_incumbent, res.message
    assert res.objective is not None and res.objective > 0
    # highs' values carry integrality tolerance (0.9999999999999)
    assert all(min(abs(res.values.get(f"x{j}", 0) - b) for b in (0, 1)) < 1e-6 for j in range(40))
    assert seen and any(inc and inc.startswith("incumbent") for _, inc in seen)
    assert processes_mentioning(path) == []


def test_cbc_cpu_time_mode_never_passes_junk_as_incumbent(tmp_path):
    # With -sec alone (CPU-time mode) cbc 2.10.3 loses its incumbent at the time
    # limit and writes fractional LP values; nncc must not hand those out.
    toml = write(tmp_path, "cpu.toml", '[cbc-cpu]\nkind = "cbc"\nfind = "pulp-cbc"\n'
                 'args = ["{input}", "{time_limit}", "-solve", "-solu", "{solution}"]\n'
                 'time_limit_args = ["-sec", "{seconds}"]\nformats = ["mps"]\n'
                 'logics = ["MILP"]\nversion_args = ["-quit"]\n')
    spec = load_registry(toml).get("cbc-cpu")
    res = solve_file(spec, write(tmp_path, "ms.mps", market_split(4, 30, seed=1)), "mps",
                     time_limit=1)
    assert res.status == UNKNOWN
    if res.has_incumbent:
        assert all(abs(v - round(v)) < 1e-6 for k, v in res.values.items() if k.startswith("x"))
    else:
        assert res.values == {} and "values discarded" in res.message


# ------------------------------------------------------------------ failures

def test_missing_executable(tmp_path):
    toml = write(tmp_path, "s.toml", '[z3-missing]\nkind = "z3"\ncommand = "/nonexistent/z3"\n'
                 'formats = ["smtlib"]\nlogics = ["QF_LRA"]\n')
    spec = load_registry(toml).get("z3-missing")
    assert not spec.available() and "not found" in spec.origin
    with pytest.raises(SolverError, match="/nonexistent/z3"):
        solve_file(spec, write(tmp_path, "u.smt2", SMT_UNSAT), "smtlib")


def _custom(tmp_path, name: str, command: list[str], extra: str = "") -> object:
    cmd = "[" + ", ".join(f'"{c}"' for c in command) + "]"
    toml = write(tmp_path, f"{name}.toml",
                 f'[{name}]\nkind = "z3"\ncommand = {cmd}\nversion_args = []\n'
                 f'formats = ["smtlib"]\nlogics = ["QF_LRA"]\n{extra}')
    return load_registry(toml).get(name)


def test_garbage_output(tmp_path):
    spec = _custom(tmp_path, "echo", ["/bin/echo"])
    res = solve_file(spec, write(tmp_path, "u.smt2", SMT_UNSAT), "smtlib")
    assert res.status == ERROR and res.message.startswith("garbage output") and "u.smt2" in res.message


def test_crash_is_reported_with_its_signal(tmp_path):
    spec = _custom(tmp_path, "crash", [sys.executable, "-c",
                                       "import os,signal; os.kill(os.getpid(), signal.SIGSEGV)"])
    res = solve_file(spec, write(tmp_path, "u.smt2", SMT_UNSAT), "smtlib", time_limit=5)
    assert res.status == ERROR and "solver crashed (signal 11" in res.message


# A "solver" that starts a grandchild ignoring SIGTERM, records its pid, then hangs.
SLEEPY = ("import subprocess,sys,time; "
          "p = subprocess.Popen([sys.executable, '-c', 'import signal,time; "
          "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)']); "
          "open(sys.argv[1], 'w').write(str(p.pid)); time.sleep(60)")


def _sleepy(tmp_path):
    pidfile = tmp_path / "grandchild.pid"
    spec = _custom(tmp_path, "sleepy", [sys.executable, "-c", SLEEPY],
                   f'args = ["{pidfile}"]\ntime_limit_args = []\ngrace_seconds = 0.5\n')
    return spec, pidfile


def test_watchdog_kills_the_process_group(tmp_path):
    spec, pidfile = _sleepy(tmp_path)
    res = solve_file(spec, write(tmp_path, "u.smt2", SMT_UNSAT), "smtlib", time_limit=0.5)
    assert res.status == UNKNOWN and "killed" in res.message
    assert gone(int(pidfile.read_text()))


def test_interrupt_kills_the_process_group(tmp_path):
    spec, pidfile = _sleepy(tmp_path)

    def interrupt(elapsed, incumbent):
        if pidfile.exists() and pidfile.read_text():
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        solve_file(spec, write(tmp_path, "u.smt2", SMT_UNSAT), "smtlib", on_progress=interrupt)
    assert gone(int(pidfile.read_text()))


# ------------------------------------------------------------------ registry

def test_registry_overrides_and_errors(tmp_path, monkeypatch):
    env_file = write(tmp_path, "env.toml", '[z3]\noptimises = false\n')
    user = write(tmp_path, "user.toml", '[cbc]\ncommand = "/nonexistent/cbc"\n'
                 '[highs]\ncommand = "/nonexistent/highs"\n'
                 '[highspy]\ncommand = "/nonexistent/highs"\n')
    monkeypatch.setenv("NNCC_SOLVERS", env_file)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "nothing-here"))
    reg = load_registry(user)
    assert not reg.get("z3").optimises and reg.get("z3").formats == ["smtlib"]  # per key
    assert not reg.get("cbc").available()
    with pytest.raises(InputError, match="known: z3, cvc5, cbc, highs"):
        reg.get("gurobi")
    with pytest.raises(SolverError, match=r"nncc\[solvers\]"):
        reg.auto(["mps", "lp"], "MILP", milp_ok=True)
    assert reg.auto(["smtlib"], "QF_LRA", False).name == "z3"
    assert reg.auto(["smtlib"], "QF_LRA", False, prefer=["cvc5"]).name == "cvc5"
    assert reg.auto(["smtlib", "mps"], "QF_LRA", True, prefer=["cbc", "cvc5"]).name == "cvc5"
    bad = write(tmp_path, "bad.toml", '[z3]\ncomand = "z3"\n')
    with pytest.raises(InputError, match="unknown key"):
        load_registry(bad)


def test_format_mismatch_is_input_error(reg, tmp_path):
    with pytest.raises(InputError, match="does not read mps"):
        solve_file(reg.get("z3"), write(tmp_path, "m.mps", MPS_OPT), "mps")


def test_z3_is_found_when_the_virtual_environment_is_not_on_path():
    """A virtual environment that is not activated: ``z3`` is not on PATH, yet nncc
    finds the z3-solver wheel's binary beside its Python, and the tests that pipe
    into z3 by hand (``conftest.z3_argv``) start that same binary."""
    from conftest import z3_argv
    env = dict(os.environ, PATH=os.defpath)
    code = ("from nncc.solvers.registry import load_registry; s = load_registry().get('z3'); "
            "print(s.executable()[0]); print(s.origin)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parent.parent)
    path, origin = out.stdout.splitlines()[:2]
    assert Path(path).is_file() and "z3" in origin, out.stdout
    assert z3_argv() == [path]
    z3 = subprocess.run([path, "-in"], input="(declare-const x Int)(assert (> x 2))(check-sat)\n",
                        capture_output=True, text=True, timeout=60, env=env)
    assert z3.stdout.strip() == "sat", z3.stdout + z3.stderr


# ------------------------------------------------------------------ races

def _race(*specs):
    from nncc.solvers.race import Race
    return Race(list(specs))


def test_race_takes_the_first_deciding_answer_and_stops_the_others(reg, tmp_path):
    from nncc.solvers.race import race_file
    from nncc.solvers.result import race_note
    spec, pidfile = _sleepy(tmp_path)
    res = race_file(_race(spec, reg.get("z3")), write(tmp_path, "u.smt2", SMT_UNSAT), "smtlib")
    assert res.status == NO_SOLUTION and res.solver == "z3" and res.race_winner
    assert res.race["sleepy"]["status"] == "stopped" and res.race["z3"]["status"] == NO_SOLUTION
    assert race_note(res).startswith("race: z3 answered first (no_solution")
    if pidfile.exists() and pidfile.read_text():   # the loser's whole process group is gone
        assert gone(int(pidfile.read_text()))


def test_a_race_answer_the_caller_refuses_does_not_win(reg, tmp_path):
    from nncc.solvers.race import race_file
    from nncc.solvers.result import race_note
    seen = []

    def refuse(result):
        seen.append(result.solver)
        return False
    res = race_file(_race(reg.get("z3"), reg.get("cvc5")), write(tmp_path, "s.smt2", SMT_SAT),
                    "smtlib", accept=refuse)
    assert sorted(seen) == ["cvc5", "z3"]   # each asked in turn, none taken: both ran to the end
    assert res.status == SOLUTION and not res.race_winner
    assert {r["status"] for r in res.race.values()} == {SOLUTION}
    assert race_note(res).startswith("race: no racer decided; the best answer is")


def test_ctrl_c_during_a_race_kills_every_racer(tmp_path):
    import signal
    import threading
    from nncc.solvers.race import race_file
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, pid1 = _sleepy(tmp_path / "a")
    second, pid2 = _sleepy(tmp_path / "b")
    second.name = "sleepy2"
    old = signal.signal(signal.SIGINT, signal.default_int_handler)   # as in a terminal
    try:
        def press():
            while not (pid1.exists() and pid2.exists()):
                time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGINT)
        threading.Thread(target=press, daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            race_file(_race(first, second), write(tmp_path, "u.smt2", SMT_UNSAT), "smtlib")
    finally:
        signal.signal(signal.SIGINT, old)
    for pidfile in (pid1, pid2):
        assert gone(int(pidfile.read_text()))


def test_race_names_are_checked(reg):
    from nncc.solvers.race import race_of
    assert race_of(reg, "race:highs,cbc").formats == ["mps", "lp"]
    for name, fragment in [("race:highs", "two solvers or more"),
                           ("race:highs,highs", "names a solver twice"),
                           ("race:highs,z3", "no format in common"),
                           ("race:highs,nosuch", "unknown solver 'nosuch'")]:
        with pytest.raises(InputError, match=fragment):
            race_of(reg, name)


@pytest.mark.parametrize("name", ["highs", "cbc", "z3"])
def test_the_by_hand_command_lines_run_in_a_shell(reg, tmp_path, name):
    """nncc solvers prints how to run each solver by hand; the line works as printed
    (highs from highsbox needs its library folder on LD_LIBRARY_PATH)."""
    spec = reg.get(name)
    line = spec.hand_command()
    model = write(tmp_path, "m.mps", MPS_OPT) if name != "z3" else write(tmp_path, "m.smt2",
                                                                          SMT_UNSAT)
    sol = tmp_path / "solution.txt"
    line = line.replace("FILE.mps", model).replace("FILE.smt2", model).replace("SOLUTION",
                                                                               str(sol))
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    r = subprocess.run(["bash", "-c", line], capture_output=True, text=True, env=env,
                       timeout=60)
    if name == "z3":   # (its get-model after unsat is an error: exit code 1)
        assert r.stdout.strip().startswith("unsat"), (line, r.stdout, r.stderr)
    else:
        assert r.returncode == 0, (line, r.stdout, r.stderr)
        assert sol.exists() and sol.read_text().strip()
