"""The VNN-LIB 2.0 conformance suite (PyPI ``vnnlib-satisfactory``) on nncc and on a
baseline that knows nothing.

The suite generates its cases (an ONNX model and a 2.0 query each, with a known
verdict), asks the solver ``supports --onnx-operators`` and the theory questions,
skips what the solver does not claim, and runs ``SOLVER verify QUERY --network
NAME=FILE --timeout T`` per case.  Outcomes: pass (the known verdict), fail (the
other verdict: a wrong answer), suspect (``unknown`` while claiming support),
error (killed at the time-out, or not runnable), skip (not claimed).

The baseline is PyPI ``vnnlib-test-solver``'s ``vnnlibTestSolver``, a test solver
that answers from a TOML configuration.  Its rules choose an answer by the query
file's name alone (a glob), never by what the query or the model says, so the
only sound rule it can be given is ``unknown`` for every query; the configuration
written here does that and claims every capability.  Its ``--timeout`` takes
whole seconds, so its wrapper passes the suite's ``--timeout 60.0`` as ``60``.

Each solver runs through a small wrapper that also appends one line per
``verify`` (query, seconds, exit code) to a log, since the suite's report has no
times; a case the suite killed at the time-out has no line and counts as T.

    python benchmarks/vnnlib_conformance.py [--timeout 60] [--only nncc|baseline]
                                            [--test CATEGORY] [--summary-only]

Exit status: 0, or 1 when nncc gave a wrong verdict (a fail), 2 when a tool is
missing, 3 when the suite wrote no report.  Work directories (one per solver and
run, each with a ``run.json``) and ``summary.txt`` are under
``benchmarks/.cache/conformance/``; ``--summary-only`` prints the summary of the
latest finished runs there again without running anything.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from importlib import metadata
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache" / "conformance"
OUTCOMES = ("pass", "fail", "suspect", "error", "skip")
INSTALL = "pip install vnnlib-satisfactory==1.0.1 vnnlib-test-solver==2.0.1"
SUITE_SYMBOLS = {"\u2705": "pass", "\u274c": "fail", "\U0001f7e0": "suspect",
                 "\u26a0": "error", "\u23ed": "skip"}

# every element type and theory the standard names (the test solver's own closed sets)
ELEMENT_TYPES = ["real", "float16", "float32", "float64", "bfloat16", "float8e4m3fn",
                 "float8e5m2", "float8e4m3fnuz", "float8e5m2fnuz", "float4e2m1", "int8",
                 "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                 "complex64", "complex128", "bool"]
THEORIES = {"hidden-node-theories": ["NH", "H"],
            "multiple-input-output-theories": ["SIO", "MIO"],
            "multiple-network-theories": ["SNET", "MNET", "MENET", "MINET"],
            "multiple-node-comparison-theories": ["SNC", "MNC"],
            "arithmetic-complexity-theories": ["BND", "OUTC", "LIN", "POLY"]}

WRAPPER = '''#!{python} -IS
# runs {name} for the conformance suite; a "query<TAB>seconds<TAB>exit code<TAB>end" line a verify
import ctypes, os, signal, subprocess, sys, time
t0 = time.monotonic()
CMD = {cmd!r}
LOG = {log!r}
INT_TIMEOUT = {int_timeout!r}
argv = sys.argv[1:]
if INT_TIMEOUT and "--timeout" in argv[:-1]:
    i = argv.index("--timeout") + 1
    argv[i] = str(int(float(argv[i])))


def die_with_parent():
    # the suite kills this process at its time-out: the solver goes with it
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    if os.getppid() == 1:
        os._exit(137)


rc = subprocess.Popen(CMD + argv, preexec_fn=die_with_parent).wait()
if argv[:1] == ["verify"] and len(argv) > 1:
    with open(LOG, "a") as f:
        f.write(f"{{argv[1]}}\\t{{time.monotonic() - t0:.3f}}\\t{{rc}}\\t"
                f"{{time.strftime('%H:%M:%S')}}\\n")
sys.exit(rc if rc >= 0 else 128 - rc)
'''


def die(msg: str, code: int = 2):
    print(f"vnnlib_conformance: {msg}", file=sys.stderr)
    sys.exit(code)


def find_exe(name: str) -> str | None:
    here = Path(sys.executable).parent / name
    if here.is_file() and os.access(here, os.X_OK):
        return str(here)
    return shutil.which(name)


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def nncc_source(exe: str) -> dict:
    """Where the ``nncc`` executable's package lives, its commit and uncommitted files."""
    src = None
    first = Path(exe).read_text(errors="replace").splitlines()[:1] if Path(exe).is_file() else []
    python = first[0][2:].strip().split()[0] if first and first[0].startswith("#!") else None
    if python:
        # isolated and from "/": not a checkout that happens to be the working directory
        got = subprocess.run([python, "-I", "-c", "import nncc; print(nncc.__file__)"],
                             capture_output=True, text=True, cwd="/")
        if got.returncode == 0 and got.stdout.strip():
            src = Path(got.stdout.strip()).resolve().parents[1]
    info = dict(path=str(src) if src else None, commit=None, dirty=[], diff=None)
    if src is not None:
        def git(*args):
            return subprocess.run(["git", "-C", str(src), *args], capture_output=True,
                                  text=True).stdout
        info["commit"] = git("log", "-1", "--format=%h").strip() or None
        info["dirty"] = [ln[3:] for ln in git("status", "--porcelain",
                                              "--untracked-files=no").splitlines()]
        # the uncommitted changes' fingerprint: a change during the run shows as a new one
        info["diff"] = hashlib.sha256(git("diff", "HEAD", "--binary").encode()).hexdigest()[:12]
    return info


def describe_source(s: dict) -> str:
    text = f"{s['path'] or '?'}, commit {s['commit'] or '?'}"
    if s["dirty"]:
        text += (f" with uncommitted changes in {len(s['dirty'])} file(s): "
                 + ", ".join(s["dirty"][:8]) + (" ..." if len(s["dirty"]) > 8 else ""))
    return text


def baseline_config(path: Path) -> None:
    """A configuration that claims every capability and answers unknown to every query."""
    try:
        import onnx.defs
        ops = sorted({s.name for s in onnx.defs.get_all_schemas() if s.domain in ("", "ai.onnx")})
        opset = str(onnx.defs.onnx_opset_version())
    except ImportError:   # the suite needs onnx; this is only a fallback
        ops, opset = [], "21"

    def arr(xs):
        return "[" + ", ".join(json.dumps(x) for x in xs) + "]"
    lines = ["# claims everything, knows nothing: 'unknown' to every query",
             "[solver]", 'name = "vnnlibTestSolver (unknown to everything)"',
             f'version = "{version("vnnlib-test-solver")}"', "",
             "[capabilities]", f'onnx-opset-versions = ["1", "{opset}"]',
             'vnnlib-versions = ["1.0", "2.0"]', f"onnx-element-types = {arr(ELEMENT_TYPES)}"]
    lines += [f"{k} = {arr(v)}" for k, v in THEORIES.items()]
    # 'unknown' carries no assignment; the test solver writes no assignment files
    lines += ["optimised-disjunctive-reasoning = true", "serialise-assignments = false", ""]
    lines += [f'[[capabilities.onnx-operators]]\nname = "{op}"\n' for op in ops]
    # 'unknown' is sound whatever the element type
    lines += ["[soundness]", f"sound-for = {arr(ELEMENT_TYPES)}", "",
              "[[rules]]", 'match = "*"', 'result = "unknown"', ""]
    path.write_text("\n".join(lines))


def write_wrapper(work: Path, name: str, cmd: list[str], int_timeout: bool) -> Path:
    w = work / f"{name}-solver"
    w.write_text(WRAPPER.format(python=sys.executable, name=name, cmd=cmd,
                                log=str(work / "times.log"), int_timeout=int_timeout))
    w.chmod(0o755)
    return w


def case_id(query: str) -> str:
    p = Path(query)
    return f"{p.parent.name}/{p.stem}"


def read_times(work: Path) -> dict[str, float]:
    out = {}
    log = work / "times.log"
    if log.exists():
        for line in log.read_text().splitlines():
            q, secs = line.split("\t")[:2]
            out[case_id(q)] = float(secs)
    return out


def run_suite(name: str, cmd: list[str], int_timeout: bool, a) -> dict:
    CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=time.strftime(f"{name}-%Y%m%d-%H%M%S-"), dir=CACHE))
    exe = cmd[0]
    if name == "baseline":
        cfg = work / "baseline.toml"
        baseline_config(cfg)
        cmd = cmd + ["--config", str(cfg)]
    wrapper = write_wrapper(work, name, cmd, int_timeout)
    suite = [find_exe("vnnlib-satisfactory"), "run", "--solver", str(wrapper),
             "--timeout", str(a.timeout), "--no-verbose"]
    if a.test:
        suite += ["--test", a.test]
    print(f"{name}: {' '.join(suite)}  (in {work})", flush=True)
    before = nncc_source(exe) if name == "nncc" else None
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    t0 = time.monotonic()
    with open(work / "suite.log", "w") as log:
        p = subprocess.Popen(suite, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, encoding="utf-8", errors="replace", env=env)
        for line in p.stdout:
            log.write(line)
            m = re.match(r"Test (\d+) (\S+)\s+(\S+)\s*$", line)
            if m:
                outcome = SUITE_SYMBOLS.get(m.group(2).replace("\ufe0f", ""), m.group(2))
                secs = read_times(work).get(m.group(3))
                print(f"  {name} {int(m.group(1)):>3} {outcome:<7} {m.group(3)}"
                      + (f" ({secs:.1f} s)" if secs is not None else ""), flush=True)
        rc = p.wait()
    wall = time.monotonic() - t0
    info = dict(name=name, cmd=exe, wall=wall, timeout=a.timeout, test=a.test, suite_exit=rc,
                started=time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(time.time() - wall)))
    if name == "nncc":
        info.update(source=before, source_after=nncc_source(exe))
    (work / "run.json").write_text(json.dumps(info, indent=1))
    if not (work / ".vnnlib-satisfactory" / "report.json").exists():
        tail = "".join((work / "suite.log").read_text().splitlines(True)[-5:])
        die(f"{name}: the suite wrote no report (exit {rc}); {work / 'suite.log'} ends:\n{tail}", 3)
    return load_run(work)


def load_run(work: Path) -> dict:
    """A finished run: run.json, the suite's report and the wrapper's times."""
    run = json.loads((work / "run.json").read_text())
    data = json.loads((work / ".vnnlib-satisfactory" / "report.json").read_text())
    times = read_times(work)
    cases = []
    for r in data["results"]:
        secs = times.get(r["test_id"])
        if secs is None and "Timed out" in (r.get("error") or ""):
            secs = run["timeout"]
        cases.append(dict(r, seconds=secs))
    for s in data["skipped"]:
        cases.append(dict(test_id=s["test_id"], category=s["category"], outcome="skip",
                          expected="", actual="", stdout="", stderr="", error=None,
                          seconds=None, reason=f"skipped: not claimed ({s['missing_op']})"))
    return dict(run, work=work, cases=cases)


def latest_run(name: str) -> Path | None:
    done = sorted(d for d in CACHE.glob(f"{name}-*") if (d / "run.json").exists()
                  and (d / ".vnnlib-satisfactory" / "report.json").exists())
    return done[-1] if done else None


def reason(case: dict) -> str:
    if case.get("reason"):
        return case["reason"]
    if case["outcome"] == "error" and case.get("error"):
        return case["error"]
    lines = [x.strip() for x in (case.get("stderr") or "").splitlines() if x.strip()]
    own = [x for x in lines if x.startswith("nncc:")]
    if own or lines:
        return (own or lines)[0]
    out = (case.get("stdout") or "").strip().splitlines()
    return f"(no stderr; stdout: {out[0][:80]!r})" if out else "(no output)"


def reason_kind(text: str) -> str:
    """A reason without its particulars (timings, file names, node names, numbers)."""
    text = re.sub(r"\s*\([^()]*\d+\.\d+ s[^()]*\)", "", text)
    text = re.sub(r"\S+\.vnnlib:\d+:\d+:", "<query>:", text)
    text = re.sub(r"'[^']*'", "'…'", text)
    text = re.sub(r"\b\d+(\.\d+)?\b", "#", text)
    return text.strip()


def counts(cases) -> Counter:
    return Counter(c["outcome"] for c in cases)


def fmt_counts(c: Counter) -> str:
    return "/".join(str(c.get(o, 0)) for o in OUTCOMES)


def summary(runs: list[dict]) -> tuple[str, int]:
    out = []
    p = out.append
    r0 = runs[0]
    p(f"VNN-LIB 2.0 conformance: vnnlib-satisfactory {version('vnnlib-satisfactory')}, "
      f"time-out {r0['timeout']:g} s" + (f", category {r0['test']}" if r0["test"] else "")
      + f", started {r0['started']}")
    for r in runs:
        if r["name"] == "nncc":
            p(f"nncc: {r['cmd']} ({describe_source(r['source'])})")
            if r.get("note"):
                p(f"  note: {r['note']}")
            if r["source_after"] != r["source"]:
                p(f"  !! the nncc source changed during the run; at its end: "
                  f"{describe_source(r['source_after'])}")
        else:
            p(f"baseline: vnnlibTestSolver {version('vnnlib-test-solver')}, 'unknown' to every "
              f"query, every capability claimed ({r['work'] / 'baseline.toml'})")
    header = len(out)
    p("")
    p(f"{'solver':<9} {'cases':>5} {'pass':>5} {'fail':>5} {'suspect':>8} {'error':>6} "
      f"{'skip':>5} {'wall s':>8} {'case s':>8} {'median':>7}")
    for r in runs:
        c = counts(r["cases"])
        secs = sorted(x["seconds"] for x in r["cases"] if x["seconds"] is not None)
        med = secs[len(secs) // 2] if secs else float("nan")
        p(f"{r['name']:<9} {len(r['cases']):>5} {c['pass']:>5} {c['fail']:>5} {c['suspect']:>8} "
          f"{c['error']:>6} {c['skip']:>5} {r['wall']:>8.1f} {sum(secs):>8.1f} {med:>7.2f}")
    p("(wall: the whole suite run; case s: the sum of the verify runs; median per case)")
    p("")
    names = [r["name"] for r in runs]
    bycat = {r["name"]: defaultdict(list) for r in runs}
    for r in runs:
        for c in r["cases"]:
            bycat[r["name"]][c["category"]].append(c)
    cats = sorted({k for d in bycat.values() for k in d})
    head = f"{'category':<20} {'cases':>5} " + " ".join(f"{n + ' p/f/s/e/k':>20}" for n in names)
    p(head)
    p("-" * len(head))
    for k in cats:
        n = max(len(bycat[x][k]) for x in names)
        p(f"{k:<20} {n:>5} " + " ".join(f"{fmt_counts(counts(bycat[x][k])):>20}" for x in names))
    p("(p/f/s/e/k: pass / fail / suspect / error / skip)")
    base = next((r for r in runs if r["name"] == "baseline"), None)
    if base is not None:
        odd = [c for c in base["cases"] if c["outcome"] != "skip"
               and ((c.get("stdout") or "").strip() != "unknown" or (c.get("stderr") or "").strip())]
        p("")
        p(f"baseline cases without a plain 'unknown' ({len(odd)}):")
        for c in odd:
            first = next((x for x in (c.get("stderr") or "").splitlines() if x.strip()), "")
            p(f"  {c['outcome']:<7} {c['test_id']}: {first or c.get('error') or '(no output)'}")
    status = 0
    nncc = next((r for r in runs if r["name"] == "nncc"), None)
    if nncc is not None:
        fails = [c for c in nncc["cases"] if c["outcome"] == "fail"]
        block = [""]
        if fails:
            status = 1
            block.append(f"!!! nncc gave {len(fails)} WRONG VERDICT(S) !!!")
            block += [f"  FAIL {c['test_id']} ({c['category']}): expected {c['expected']}, "
                      f"nncc said {c['actual']}: {reason(c)}" for c in fails]
        else:
            block.append("nncc gave no wrong verdict (no fail).")
        out[header:header] = block   # first, after the header
        rest = [c for c in nncc["cases"] if c["outcome"] not in ("pass", "fail")]
        p("")
        p(f"nncc's cases without the expected verdict ({len(rest)}):")
        for c in sorted(rest, key=lambda c: (OUTCOMES.index(c["outcome"]), c["test_id"])):
            secs = f"{c['seconds']:.1f} s" if c["seconds"] is not None else "-"
            exp = f" expected {c['expected']}" if c["expected"] else ""
            p(f"  {c['outcome']:<7} {c['test_id']:<32} {secs:>7}{exp}: {reason(c)}")
        groups = defaultdict(list)
        for c in rest:
            groups[reason_kind(reason(c))].append(c["test_id"].split("/")[-1])
        p("")
        p("grouped (quoted names as '…', numbers as #):")
        for why, ids in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            p(f"  {len(ids):>3}  {why}")
            p(f"       {', '.join(ids)}")
    return "\n".join(out) + "\n", status


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per case (default 60)")
    ap.add_argument("--only", choices=["nncc", "baseline"], help="run one solver only")
    ap.add_argument("--test", metavar="CATEGORY", help="one category of the suite (e.g. relu)")
    ap.add_argument("--summary-only", action="store_true",
                    help="summarise the latest finished runs in the cache again, running nothing")
    a = ap.parse_args()
    if a.summary_only:
        dirs = [d for d in (latest_run(n) for n in ("nncc", "baseline")
                            if a.only in (None, n)) if d is not None]
        if not dirs:
            die(f"no finished run under {CACHE}", 3)
        return finish([load_run(d) for d in dirs])
    if find_exe("vnnlib-satisfactory") is None:
        die(f"vnnlib-satisfactory is not installed: {INSTALL}")
    tool = find_exe("vnnlibTestSolver")
    if a.only != "nncc" and tool is None:
        die(f"vnnlibTestSolver is not installed: {INSTALL}")
    nncc = find_exe("nncc")
    if a.only != "baseline" and nncc is None:
        die("nncc is not installed: pip install -e . (from the nncc checkout)")
    runs = []
    if a.only != "baseline":
        runs.append(run_suite("nncc", [nncc], False, a))
    if a.only != "nncc":
        runs.append(run_suite("baseline", [tool], True, a))
    finish(runs)


def finish(runs: list[dict]):
    text, status = summary(runs)
    print()
    print(text, end="")
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "summary.txt").write_text(text)
    print(f"\n(saved to {CACHE / 'summary.txt'}; reports in "
          + ", ".join(str(r["work"] / ".vnnlib-satisfactory" / "report.json") for r in runs) + ")")
    if status:
        print("vnnlib_conformance: FAILED: nncc gave a wrong verdict (see above)", file=sys.stderr)
    sys.exit(status)


if __name__ == "__main__":
    main()
