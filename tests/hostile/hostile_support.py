"""What every hostile test needs: submissions made from the reference or the release with
some cells replaced, a class folder, one class run watched from outside, and what grading
must leave behind (the class folder unchanged, no process, no scratch folder).

A class run goes through a small watcher process that is the subreaper of everything the
grader starts: whatever outlives the command line (a detached student process, a grading
process that was not stopped) is re-parented to it, listed and killed. Its resource usage
covers every process of the run, so the largest resident set of any of them is known.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from autograder.submissions import release_names

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
NOTEBOOKS = release_names()  # assignment id -> its release notebook's file name
GB = 2**30


def cells_of(assignment: str, base: Path = SOLUTIONS) -> dict[str, str]:
    """grade_id -> source of every nbgrader cell of a reference (or release) notebook."""
    notebook = json.loads((base / assignment / NOTEBOOKS[assignment]).read_text(encoding="utf-8"))
    found = {}
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id:
            source = cell["source"]
            found[grade_id] = "".join(source) if isinstance(source, list) else source
    return found


def notebook(assignment: str, cells: dict[str, str] | None = None, base: Path = SOLUTIONS) -> dict:
    """The reference (or, with ``base=EXERCISES``, the release) notebook of ``assignment`` with
    the cells named by grade_id replaced by the given sources."""
    document = json.loads((base / assignment / NOTEBOOKS[assignment]).read_text(encoding="utf-8"))
    for cell in document["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if cells and grade_id in cells:
            cell["source"] = cells[grade_id]
    return document


def write_class(folder: Path, students: dict[str, tuple[str, dict]]) -> None:
    """``<folder>/<student>/<assignment>/<notebook>`` for each student: (assignment, notebook)."""
    for student, (assignment, document) in students.items():
        path = folder / student / assignment / NOTEBOOKS[assignment]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document), encoding="utf-8")


def digest(folder: Path) -> dict[str, tuple]:
    """Every entry under ``folder`` (links, pipes and sockets too, never followed), with its
    kind and content: two digests are equal only if nothing was added, removed or changed."""
    entries = {}
    for directory, folders, files in os.walk(folder, followlinks=False):
        for name in folders + files:
            path = Path(directory) / name
            info = path.lstat()
            key = str(path.relative_to(folder))
            if stat.S_ISLNK(info.st_mode):
                entries[key] = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                entries[key] = ("file", info.st_size, _sha256(path), info.st_mtime_ns, info.st_mode)
            else:
                entries[key] = (stat.S_IFMT(info.st_mode), info.st_mode)
    return entries


def _sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


# The watcher: subreaper of the run; samples the resident memory of every process of the run
# (the student's processes too: a PID namespace is still visible from outside), reports what
# outlived the command, and kills it.
WATCHER = r"""
import ctypes, json, os, signal, subprocess, sys, threading, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
spec = json.loads(sys.argv[1])
PAGE = os.sysconf("SC_PAGE_SIZE")

def table():
    processes = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{entry}/statm") as f:
                    rss = int(f.read().split()[1]) * PAGE
                processes[int(entry)] = (int(fields[1]), fields[0], rss)
            except (OSError, IndexError, ValueError):
                pass
    return processes

peak = {"largest": 0, "total": 0}
done = threading.Event()

def sample():
    me = os.getpid()
    while not done.wait(0.2):
        processes = table()
        tree, grew = {me}, True
        while grew:
            found = {pid for pid, (parent, _, _) in processes.items() if parent in tree} - tree
            grew = bool(found)
            tree |= found
        sizes = [processes[pid][2] for pid in tree if pid in processes and pid != me]
        peak["largest"] = max([peak["largest"], *sizes])
        peak["total"] = max(peak["total"], sum(sizes))

threading.Thread(target=sample, daemon=True).start()
with open(spec["stdout"], "wb") as out, open(spec["stderr"], "wb") as err:
    started = time.monotonic()
    try:
        code = subprocess.run(spec["argv"], cwd=spec["cwd"], stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                              timeout=spec["timeout"]).returncode
    except subprocess.TimeoutExpired:
        code = "timeout"
    seconds = time.monotonic() - started

def alive():
    found = {}
    for pid, (parent, state, _) in table().items():
        if parent != os.getpid():
            continue
        if state == "Z":
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                found[pid] = f.read().replace(b"\0", b" ").decode(errors="replace")[:300]
        except OSError:
            pass
    return found

deadline = time.monotonic() + spec["grace"]
left = alive()
while left and time.monotonic() < deadline:  # a process on its way out (the fork server) ends
    time.sleep(0.1)
    left = alive()
done.set()
for pid in left:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
time.sleep(0.2)
alive()
print(json.dumps({"returncode": code, "seconds": seconds, "left": list(left.values()),
                  "largest": peak["largest"], "total": peak["total"]}))
"""


@dataclass
class Run:
    """What one run of a grading command did, seen from outside."""

    returncode: int | str
    seconds: float
    stdout: str
    stderr: str
    left: list[str]  # command lines of processes that outlived the command (killed since)
    largest: int  # bytes: the largest resident set any process of the run reached (sampled)
    total: int  # bytes: the largest resident set of all of them together (sampled)
    scratch_left: list[str] = field(default_factory=list)  # what stayed in the run's TMPDIR
    submissions: dict[str, dict] = field(default_factory=dict)  # student -> --json entry


def watch(argv: list[str], tmp: Path, *, env: dict[str, str] | None = None, timeout: float = 600,
          grace: float = 5.0, cwd: Path = ROOT) -> Run:
    """Run ``argv`` under the watcher with its own TMPDIR (see the module docstring)."""
    tmpdir = tmp / "run-tmp"
    tmpdir.mkdir(parents=True, exist_ok=True)
    spec = {"argv": argv, "cwd": str(cwd), "stdout": str(tmp / "run.out"), "stderr": str(tmp / "run.err"),
            "timeout": timeout, "grace": grace}
    environment = os.environ | {"TMPDIR": str(tmpdir)} | (env or {})
    watcher = subprocess.run([sys.executable, "-c", WATCHER, json.dumps(spec)], env=environment,
                             capture_output=True, text=True, timeout=timeout + 120)
    assert watcher.returncode == 0, watcher.stderr[-3000:]
    report = json.loads(watcher.stdout.strip().splitlines()[-1])
    return Run(report["returncode"], report["seconds"],
               (tmp / "run.out").read_text(errors="replace"), (tmp / "run.err").read_text(errors="replace"),
               report["left"], report["largest"], report["total"], sorted(p.name for p in tmpdir.iterdir()))


def grade_class(folder: Path, tmp: Path, *extra: str, env: dict[str, str] | None = None,
                call_seconds: float = 3, timeout: float = 120, jobs: int = 2) -> Run:
    """``python -m autograder grade folder --json`` under the watcher; submissions by student
    folder (the first folder below ``folder``)."""
    report = tmp / "class.json"
    argv = [sys.executable, "-m", "autograder", "grade", str(folder), "--json", str(report),
            "--jobs", str(jobs), "--timeout", str(timeout), *extra]
    run = watch(argv, tmp, env={"AUTOGRADER_CALL_TIMEOUT": str(call_seconds)} | (env or {}), timeout=900)
    if report.exists():
        for submission in json.loads(report.read_text())["submissions"]:
            run.submissions[Path(submission["path"]).relative_to(folder).parts[0]] = submission
    return run


def earned(submission: dict, target: str) -> float:
    """Points ``submission`` earned for ``target`` (a function or quiz answer)."""
    return sum(t["score"] for t in submission["tests"] if t["name"].startswith(f"{target}: "))


def total(assignment: str) -> float:
    from autograder.assignments import get_assignment

    return sum(c.points for c in get_assignment(assignment).checks())


def feedback(submission: dict, target: str | None = None) -> str:
    """Every test's output (of ``target``'s tests only, if given), the notes and the flags."""
    outputs = [t["output"] for t in submission["tests"]
               if target is None or t["name"].startswith(f"{target}: ")]
    return "\n".join(outputs + submission["notes"] + flags(submission))


def flags(submission: dict, *kinds: str) -> list[str]:
    """The texts of the flags of ``submission`` (of these kinds only, if given: "timed_out"...)."""
    return [f["text"] for f in submission["flags"] if not kinds or f["kind"] in kinds]


def troubled(submission: dict) -> list[str]:
    """The flags that say the student's code timed out, crashed or sent something refused."""
    return flags(submission, "timed_out", "crashed", "refused")


def assert_graded_cleanly(run: Run, folder: Path, before: dict, honest: dict[str, str],
                          seconds: float) -> None:
    """What every class run must show, however hostile the class: exit 0 within ``seconds``,
    each honest student (student -> assignment) at full marks without flags, the class folder
    as it was, no process left over, no scratch folder left behind, and no process of the run
    beyond the memory limits."""
    assert run.returncode == 0, run.stderr[-3000:] + run.stdout[-3000:]
    assert run.seconds < seconds, f"the class took {run.seconds:.0f} s"
    for student, assignment in honest.items():
        submission = run.submissions[student]
        assert submission["assignment"] == assignment
        assert submission["score"] == submission["max_score"] == total(assignment), feedback(submission)
        assert submission["flags"] == [], submission["flags"]
    assert digest(folder) == before, "grading changed the class folder"
    assert run.left == [], f"processes outlived grading: {run.left}"
    assert not [name for name in run.scratch_left if name.startswith("autograder-student")], run.scratch_left
    assert run.largest < 4.5 * GB, f"a process of the run reached {run.largest / GB:.1f} GB"
    assert "Traceback" not in run.stdout + run.stderr, (run.stdout + run.stderr)[-3000:]
