"""``nncc batch INSTANCES.csv``: many ``nncc verify`` runs, in parallel, resumable.

The instances file has the VNN-COMP form: one row per instance, ``network,
property, time-out in seconds`` (paths relative to the CSV's folder;
``.vnnlib.gz`` is read too). Each instance runs as its own ``nncc verify``
process (a crash or a runaway solver takes only its instance down; the
process is killed ``GRACE`` seconds past its time-out). Results are
appended, one line as each instance ends, to the results CSV (instance,
network, property, verdict, seconds, counterexample path, message, the step
that decided); an
interrupted batch resumes where it stopped: instances already in the
results file are not run again. A second batch on a results file in use
is refused (an exclusive lock on the file while a batch writes it).
"""
from __future__ import annotations

import csv
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import EXIT_CHECK_FAILED, EXIT_FOUND, EXIT_NO_ANSWER, EXIT_UNKNOWN, InputError

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


def run_instance(inst: Instance, cex_dir: str, solver: str, extra: list[str]) -> dict:
    """One ``nncc verify`` subprocess; its verdict as a results row."""
    import subprocess

    cex = os.path.join(cex_dir, f"{inst.index}_{Path(inst.network).stem}_"
                                f"{Path(inst.property).name.split('.')[0]}.counterexample")
    cmd = [sys.executable, "-m", "nncc", "verify", inst.network, inst.property, "--json",
           "--time-limit", str(inst.timeout), "--solver", solver, "-o", cex, *extra]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=inst.timeout + GRACE,
                           start_new_session=False)
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
              stream=None) -> list[dict]:
    """Run every instance not yet in ``results``; returns the rows written now."""
    import threading
    from concurrent.futures import ThreadPoolExecutor, as_completed

    stream = stream or sys.stderr
    insts = read_instances(instances_csv)
    results = results or str(Path(instances_csv).with_suffix("")) + ".results.csv"
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
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futs = {pool.submit(run_instance, i, cex_dir, solver, extra or []): i for i in todo}
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
                raise
    return rows


