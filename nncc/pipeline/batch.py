"""``nncc batch INSTANCES.csv``: many ``nncc verify`` runs, in parallel, resumable.

The instances file has the VNN-COMP form: one row per instance, ``network,
property, time-out in seconds`` (paths relative to the CSV's folder;
``.vnnlib.gz`` is read too). Each instance is one ``nncc verify`` run, in a
worker process that imports nncc once and runs instance after instance
(:mod:`nncc.cli.batch_worker`; ``reuse=False``: a new process per instance). A
crash or a runaway solver takes only its instance down: a worker is killed
``GRACE`` seconds past its instance's time-out, or when it dies, and the next
instance gets a new one. Results are
appended, one line as each instance ends, to the results CSV (instance,
network, property, verdict, seconds, counterexample path, message, the step
that decided); an
interrupted batch resumes where it stopped: instances already in the
results file are not run again. A second batch on a results file in use
is refused (an exclusive lock on the file while a batch writes it).
"""
from __future__ import annotations

import contextlib
import csv
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import EXIT_CHECK_FAILED, EXIT_FOUND, EXIT_NO_ANSWER, EXIT_UNKNOWN, InputError
from ..solvers.child_process import solver_popen_args

GRACE = 10.0
FIELDS = ["instance", "network", "property", "verdict", "seconds", "counterexample", "message",
          "how"]
# nncc verify's exit codes (nncc.errors) as verdicts
EXIT_VERDICT = {EXIT_FOUND: "sat", EXIT_NO_ANSWER: "unsat", EXIT_UNKNOWN: "unknown",
                EXIT_CHECK_FAILED: "unknown"}


@dataclass
class Instance:
    index: int
    network: str
    property: str
    timeout: float

    @property
    def key(self) -> str:
        return f"{self.index}:{Path(self.network).name}:{Path(self.property).name}"


def read_instances(path: str) -> list[Instance]:
    """The rows of an instances CSV (network, property, time-out)."""
    base = Path(path).resolve().parent
    out = []
    try:
        rows = list(csv.reader(open(path, newline="", encoding="utf-8")))
    except FileNotFoundError:
        raise InputError(f"cannot read instances file '{path}': no such file") from None
    for i, row in enumerate(rows, 1):
        row = [c.strip() for c in row]
        if not row or not any(row) or row[0].startswith("#"):
            continue
        if len(row) < 3:
            raise InputError(f"{path}:{i}:1: expected 'network,property,timeout', got {len(row)} "
                             "fields")
        try:
            timeout = float(row[2])
        except ValueError:
            raise InputError(f"{path}:{i}:1: time-out {row[2]!r} is not a number") from None
        net, prop = (str(p if Path(p).is_absolute() else base / p) for p in row[:2])
        out.append(Instance(len(out), net, prop, timeout))
    return out


def finished_keys(results: str) -> set[str]:
    """Instances already in a results file (resume)."""
    if not os.path.exists(results):
        return set()
    with open(results, newline="", encoding="utf-8") as f:
        return {r["instance"] for r in csv.DictReader(f) if r.get("verdict")}


def _lock_results(f, results: str) -> None:
    """One batch at a time on a results file: an exclusive lock on it (released when the
    file closes, also when the process is killed), or a refusal when another batch holds
    it. Where the platform has no ``fcntl`` (Windows) there is no lock."""
    try:
        import fcntl
    except ImportError:
        return
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise InputError(f"results file '{results}' is in use by another nncc batch: wait for "
                         "it to end, or give this one another -o") from None


def _header(results: str) -> list[str]:
    """The columns of an existing results file: rows appended to it keep them (a file
    from before a column was added gets rows without it)."""
    with open(results, newline="", encoding="utf-8") as f:
        head = next(csv.reader(f), None)
    return head if head and "instance" in head and "verdict" in head else FIELDS


class Worker:
    """One long-lived ``python -m nncc.cli.batch_worker`` process, started on first use
    and again after it was killed or died. It runs in its own session: killing it takes
    whatever it started, and its solvers die with it; it dies with the batch, even one
    killed outright (:mod:`nncc.solvers.child_process`)."""

    def __init__(self):
        self.proc = None
        self.runs = 0   # instances this process has run

    def _start(self) -> None:
        # its own session, and (on Linux) death with the batch, as a solver's
        self.proc = subprocess.Popen([sys.executable, "-m", "nncc.cli.batch_worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, **solver_popen_args())
        self.runs = 0

    def kill(self) -> None:
        p = self.proc
        if p is not None and p.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGKILL)
        if p is not None:
            p.wait()

    def close(self) -> None:
        """Let the worker finish (end of its input), killing it if it does not."""
        p = self.proc
        if p is None:
            return
        with contextlib.suppress(OSError):
            p.stdin.close()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
        self.proc = None

    def run(self, argv: list[str], timeout: float) -> tuple[int, str, str]:
        """``nncc ARGV`` in the worker: (exit code, stdout, stderr); the worker is killed
        ``timeout`` seconds on (code EXIT_UNKNOWN, "killed past the time-out")."""
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        killed = threading.Event()

        def overrun():
            killed.set()
            self.kill()
        timer = threading.Timer(timeout, overrun)
        timer.start()
        try:
            self.proc.stdin.write(json.dumps({"argv": [str(a) for a in argv]}) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except (BrokenPipeError, OSError, ValueError):
            line = ""
        finally:
            timer.cancel()
        if not line:   # killed, or it died (a crash takes this instance only)
            self.kill()
            code, self.proc = self.proc.returncode, None
            if killed.is_set():
                return EXIT_UNKNOWN, "", "killed past the time-out"
            return -1, "", f"the batch worker died ({_exit_text(code)})"
        self.runs += 1
        rep = json.loads(line)
        return int(rep["code"]), rep["stdout"], rep["stderr"]


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
    return f"exit code {code}"


def run_instance(inst: Instance, cex_dir: str, solver: str, extra: list[str],
                 worker: Worker | None = None) -> dict:
    """One ``nncc verify`` run, in ``worker`` or else in a process of its own; its verdict
    as a results row."""
    cex = os.path.join(cex_dir, f"{inst.index}_{Path(inst.network).stem}_"
                                f"{Path(inst.property).name.split('.')[0]}.counterexample")
    argv = ["verify", inst.network, inst.property, "--json", "--time-limit", str(inst.timeout),
            "--solver", solver, "-o", cex, *extra]
    t0 = time.perf_counter()
    if worker is not None:
        code, out, err = worker.run(argv, inst.timeout + GRACE)
    else:
        try:
            p = subprocess.run([sys.executable, "-m", "nncc", *argv], capture_output=True,
                               text=True, timeout=inst.timeout + GRACE, start_new_session=False)
            code, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired:
            code, out, err = EXIT_UNKNOWN, "", "killed past the time-out"
    secs = time.perf_counter() - t0
    verdict = EXIT_VERDICT.get(code, "error")
    message, how = "", ""
    try:
        rep = json.loads(out)
        message, how = rep.get("message", ""), rep.get("how", "")
    except (ValueError, TypeError):
        message = (err.strip().splitlines() or [""])[-1]
    if code == EXIT_UNKNOWN and ("time" in message or "killed" in err):
        verdict = "timeout"
    return {"instance": inst.key, "network": inst.network, "property": inst.property,
            "verdict": verdict, "seconds": f"{secs:.3f}",
            "counterexample": cex if verdict == "sat" and os.path.exists(cex) else "",
            "message": message[:300], "how": how}


def run_batch(instances_csv: str, results: str | None = None, workers: int | None = None,
              solver: str = "auto", cex_dir: str | None = None, extra: list[str] | None = None,
              stream=None, reuse: bool = True, worker=Worker) -> list[dict]:
    """Run every instance not yet in ``results`` (default ``INSTANCES.results.csv`` in the
    working folder, counterexamples in ``INSTANCES.results_counterexamples/`` beside it);
    returns the rows written now.
    ``reuse``: worker processes that run instance after instance (default), else a
    new ``nncc verify`` process per instance. ``worker``: makes one worker (a local
    :class:`Worker` by default; ``nncc batch --cluster ray`` gives a Ray actor's,
    with the same ``run`` / ``kill`` / ``close``)."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    stream = stream or sys.stderr
    insts = read_instances(instances_csv)
    # by default in the working folder: the instances' folder is often not writable
    results = results or Path(instances_csv).stem + ".results.csv"
    cex_dir = cex_dir or str(Path(results).with_suffix("")) + "_counterexamples"
    with open(results, "a", newline="", encoding="utf-8") as f:
        _lock_results(f, results)
        os.makedirs(cex_dir, exist_ok=True)
        done = finished_keys(results)
        todo = [i for i in insts if i.key not in done]
        workers = workers or max(1, (os.cpu_count() or 2) // 2)
        new_file = os.path.getsize(results) == 0
        fields = FIELDS if new_file else _header(results)
        lock = threading.Lock()
        rows = []
        stream.write(f"nncc: {len(insts)} instances, {len(insts) - len(todo)} already in "
                     f"{results}, {len(todo)} to run on {workers} workers\n")
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        if new_file:
            w.writeheader()
            f.flush()
        t0 = time.perf_counter()
        tally: dict[str, int] = {}
        idle: queue.Queue = queue.Queue()
        procs = [worker() for _ in range(workers)] if reuse else []
        for wk in procs:
            idle.put(wk)

        def one(inst):
            if not reuse:
                return run_instance(inst, cex_dir, solver, extra or [])
            wk = idle.get()
            try:
                return run_instance(inst, cex_dir, solver, extra or [], wk)
            finally:
                idle.put(wk)
        with ThreadPoolExecutor(max_workers=workers) as pool, _closing(procs):
            futs = {pool.submit(one, i): i for i in todo}
            try:
                for n, fut in enumerate(as_completed(futs), 1):
                    row = fut.result()
                    with lock:
                        w.writerow(row)
                        f.flush()
                        rows.append(row)
                    tally[row["verdict"]] = tally.get(row["verdict"], 0) + 1
                    el = time.perf_counter() - t0
                    eta = el / n * (len(todo) - n)
                    stream.write(f"nncc: [{n}/{len(todo)}] {Path(row['network']).name} "
                                 f"{Path(row['property']).name}: {row['verdict']} "
                                 f"({float(row['seconds']):.2f} s) | "
                                 + ", ".join(f"{v} {c}" for v, c in sorted(tally.items()))
                                 + f" | {el:.0f} s elapsed, about {eta:.0f} s left\n")
                    stream.flush()
            except KeyboardInterrupt:
                for fut in futs:
                    fut.cancel()
                for wk in procs:   # the running instances end now, their solvers with them
                    wk.kill()
                raise
    return rows


@contextlib.contextmanager
def _closing(procs: list[Worker]):
    try:
        yield
    finally:
        for wk in procs:
            wk.close()


