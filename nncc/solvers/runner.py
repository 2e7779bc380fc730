"""Run a solver on a file as a subprocess and read its answer.

The solver gets its own process group (``start_new_session``) so that a
time-out or Ctrl-C kills it together with anything it started, and dies
with nncc even when nncc is killed outright
(:mod:`nncc.solvers.child_process`). The time
limit is passed the solver's way and also enforced by a watchdog
``grace_seconds`` after it. Standard output and error are read by threads
while the main thread reports progress; the per-solver modules turn the
text into a SolverResult.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from nncc.errors import InputError, SolverError
from nncc.solvers.child_process import solver_popen_args
from nncc.solvers.registry import SolverSpec
from nncc.solvers.result import ERROR, UNKNOWN, SolverResult

PROGRESS_INTERVAL = 0.5  # seconds between on_progress calls
TERM_WAIT = 2.0  # seconds between SIGTERM and SIGKILL

from ..writers import FORMAT_SUFFIX as _EXTENSIONS


@dataclass
class RunOutput:
    """Everything a finished run left behind, for the per-solver readers."""

    stdout: str
    stderr: str
    returncode: int | None
    solution_text: str | None  # contents of the solution file, None if not written
    seconds: float
    time_limit: float | None
    killed: bool = False  # by the watchdog
    stopped: bool = False  # cancelled: another solver of a race answered first


def garbage_result(run: RunOutput, what: str = "garbage output") -> SolverResult:
    """ERROR quoting the first lines of what the solver printed."""
    lines = [ln for ln in (run.stdout + "\n" + run.stderr).splitlines() if ln.strip()]
    if not lines:
        return SolverResult(ERROR, message=f"solver printed nothing (exit code {run.returncode})")
    quoted = " | ".join(ln.strip()[:120] for ln in lines[:3])
    return SolverResult(ERROR, message=f"{what} (exit code {run.returncode}): {quoted}")


def kill_group(proc: subprocess.Popen) -> None:
    """SIGTERM the process group of ``proc``, then SIGKILL what is left."""
    for sig, wait in ((signal.SIGTERM, TERM_WAIT), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        if wait is None:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            # The group may outlive its leader: probe it with signal 0.
            if proc.poll() is not None and not _group_alive(proc.pid):
                return
            time.sleep(0.05)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _signal_name(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def _input_with_extension(input_path: str, fmt: str, tmpdir: str) -> str:
    """The input under a name with the right extension (cbc and highs pick the
    reader by extension): the file itself, or a link to it in ``tmpdir``."""
    path = Path(input_path).resolve()
    ext = _EXTENSIONS[fmt]
    if path.suffix.lower() == ext:
        return str(path)
    link = Path(tmpdir) / f"model{ext}"
    try:
        link.symlink_to(path)
    except OSError:
        shutil.copyfile(path, link)
    return str(link)


def solve_file(spec: SolverSpec, input_path: str, fmt: str, *,
               time_limit: float | None = None,
               on_progress: Callable[[float, str | None], None] | None = None,
               workdir: str | None = None, focus: str | None = None,
               cancel: threading.Event | None = None) -> SolverResult:
    """Run ``spec`` on ``input_path`` (format ``fmt``) and return its verdict.

    ``time_limit`` (seconds) is passed to the solver and enforced by a watchdog
    ``spec.grace_seconds`` later. ``on_progress(elapsed, incumbent)`` is called
    about every 0.5 s; ``incumbent`` is text such as ``"incumbent 3, bound 0,
    gap 100%"`` when the log shows one, else None. Temporary files go to a
    directory under ``workdir`` (default: the system's) that is removed after.
    ``focus="bound"`` says an answer is already known (a cutoff row keeps only
    better ones): solvers that can be told (highs) skip their primal heuristics.
    ``cancel``: when the event is set, the solver is killed and the result is
    ``unknown`` with ``stopped`` set (a race's losers, :mod:`nncc.solvers.race`).
    Raises SolverError when the executable is missing, InputError when the
    solver does not read ``fmt`` or the file does not exist; every other
    failure is a SolverResult with status ERROR.
    """
    if fmt not in _EXTENSIONS:
        raise InputError(f"unknown format {fmt!r}; use one of {', '.join(_EXTENSIONS)}")
    if fmt not in spec.formats:
        raise InputError(f"solver {spec.name} does not read {fmt}; it reads "
                         f"{', '.join(spec.formats) or 'nothing'}")
    if not Path(input_path).is_file():
        raise InputError(f"{input_path}: no such file")
    spec.require()
    module = spec.module
    version = spec.version()
    tmpdir = tempfile.mkdtemp(prefix="nncc-solve-", dir=workdir)
    try:
        model = _input_with_extension(input_path, fmt, tmpdir)
        solution = os.path.join(tmpdir, "solution.txt")
        argv = spec.command_line(model, solution, time_limit)
        if focus is not None:
            argv += getattr(module, "focus_args", lambda focus, tmp: [])(focus, tmpdir)
        run = _run(argv, spec, module, time_limit, on_progress, tmpdir, cancel)
        again = getattr(module, "run_again_with", lambda run: None)(run)
        if again and not run.killed and not run.stopped:
            # the solver's own words say its answer cannot be trusted: once more, other options
            import dataclasses
            at = spec.args.index("-solve") if "-solve" in spec.args else len(spec.args)
            plain = dataclasses.replace(spec, args=spec.args[:at] + again + spec.args[at:])
            left = None if time_limit is None else max(time_limit - run.seconds, 1.0)
            if os.path.exists(solution):
                os.remove(solution)
            first = run.seconds
            run = _run(plain.command_line(model, solution, left), plain, module, left,
                       on_progress, tmpdir, cancel)
            run.seconds += first
        if os.path.exists(solution):
            with open(solution, errors="replace") as fh:
                run.solution_text = fh.read()
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)

    if run.stopped:
        res = SolverResult(UNKNOWN, stopped=True, message=(
            f"stopped after {run.seconds:.1f} s: another solver of the race answered first"))
    elif run.killed:
        res = SolverResult(UNKNOWN, message=(
            f"time limit: the solver did not stop at {time_limit:g} s and was killed "
            f"after {run.seconds:.1f} s"))
    elif run.returncode is not None and run.returncode < 0:
        num = -run.returncode
        last = [ln for ln in run.stderr.splitlines() if ln.strip()][-1:]
        res = SolverResult(ERROR, message=f"solver crashed (signal {num}, {_signal_name(num)})"
                           + (f": {last[0].strip()[:200]}" if last else ""))
    else:
        res = module.read_result(run)
    res.solver = spec.name
    res.version = version
    res.seconds = run.seconds
    res.stdout, res.stderr, res.returncode = run.stdout, run.stderr, run.returncode
    return res


def _run(argv: list[str], spec: SolverSpec, module, time_limit: float | None,
         on_progress: Callable[[float, str | None], None] | None, cwd: str,
         cancel: threading.Event | None = None) -> RunOutput:
    start = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, env=spec.child_env(), cwd=cwd,
                                **solver_popen_args())
    except OSError as err:
        raise SolverError(f"cannot start {spec.name} ({argv[0]}): {err.strerror}; "
                          f"{spec.install_hint()}") from None

    chunks: dict[str, list[str]] = {"stdout": [], "stderr": []}
    incumbent: list[str | None] = [None]

    def pump(stream, key: str) -> None:
        # Line by line so that progress is seen while the solver runs.
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace")
            chunks[key].append(line)
            seen = module.progress(line)
            if seen:
                incumbent[0] = seen
        stream.close()

    threads = [threading.Thread(target=pump, args=(proc.stdout, "stdout"), daemon=True),
               threading.Thread(target=pump, args=(proc.stderr, "stderr"), daemon=True)]
    for t in threads:
        t.start()

    deadline = None if time_limit is None else start + time_limit + spec.grace_seconds
    killed = stopped = False
    last_report, nap = start, 0.005
    try:
        while True:
            try:
                # WNOWAIT: learn that the leader exited without reaping it, so its
                # pid (= the group id) cannot be reused before the group is killed.
                info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                info = True
            if info is not None:
                break
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                killed = True
                break
            if cancel is not None and cancel.is_set():
                stopped = True
                break
            if on_progress is not None and now - last_report >= PROGRESS_INTERVAL:
                last_report = now
                on_progress(now - start, incumbent[0])
            # Short naps first so that quick runs return quickly.
            time.sleep(nap)
            nap = min(nap * 2, 0.1)
    except KeyboardInterrupt:
        kill_group(proc)
        raise
    # Whatever the leader left running (helpers, a shell's children) goes too.
    kill_group(proc)
    proc.wait()
    for t in threads:
        t.join(timeout=5)
    return RunOutput(stdout="".join(chunks["stdout"]), stderr="".join(chunks["stderr"]),
                     returncode=proc.returncode, solution_text=None,
                     seconds=time.monotonic() - start, time_limit=time_limit, killed=killed,
                     stopped=stopped)
