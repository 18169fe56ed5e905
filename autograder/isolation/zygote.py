"""A clean process that forks contained student processes on request.

Starting Python and importing NumPy costs about 0.3 s; forking a process that has already
done it costs a few milliseconds. The zygote is started fresh (``python -m
autograder.isolation.zygote``, never forked from the grader, so it holds nothing of the
grader's: no reference solution, no quiz key, no open file of a grading run), imports what
the student's process needs, then waits. For each student process it forks twice:

    zygote ── monitor ── student        (the student is PID 1 of its own namespaces)

The *monitor* enters new user, mount, network, IPC, UTS and PID namespaces (see
`sandbox.enter_namespaces`), mounts a size-limited tmpfs as the scratch folder, forks the
*student* process, reports its process id, waits for it and reports how it ended. The
student process closes every inherited file but its two pipes, confines itself
(`sandbox.confine_self`) and serves the grader (`worker.serve`). Killing it ends its PID
namespace, and with it every process it could have started.

The grader talks to the zygote through `Zygote`, over a Unix socket pair whose requests carry
the new process's pipes as file descriptors. Every process of a grading run (the command line
and the grading processes it forks) shares one zygote.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.isolation.protocol import Gap
from autograder.limits import LIMITS, Limits

REQUEST_BYTES = 1 << 16


@dataclass
class Spawned:
    """A student process, as the grader holds it."""

    pid: int  # the student process (PID 1 of its namespaces), as this process sees it
    read_fd: int  # messages from the student process
    write_fd: int  # messages to it
    status_fd: int  # the monitor writes how it ended (a wait status) here
    scratch: Path  # its scratch folder on the host (empty while it runs in its own tmpfs)
    missing: list[tuple[Gap, str]]  # what could not be contained

    def ended(self, timeout: float = 0.5) -> int | None:
        """Its exit code (negative: killed by that signal), or None if unknown yet."""
        if not select.select([self.status_fd], [], [], timeout)[0]:
            return None
        data = os.read(self.status_fd, 64)
        try:
            return os.waitstatus_to_exitcode(int(data))
        except ValueError:
            return None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.pid, signal.SIGKILL)
        for fd in (self.read_fd, self.write_fd, self.status_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            import shutil

            shutil.rmtree(self.scratch)


class ZygoteLost(Exception):
    """The zygote is not running (and could not be started)."""


class Zygote:
    """The grader's handle on the zygote process (see the module docstring)."""

    def __init__(self) -> None:
        """Start the zygote; it imports what it needs while this process goes on (`wait`)."""
        here, there = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {key: value for key, value in os.environ.items() if not key.startswith("AUTOGRADER_")}
        env |= {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autograder.isolation.zygote", str(there.fileno())],
            pass_fds=(there.fileno(),), env=env, start_new_session=True,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        there.close()
        self.socket = here
        self.owner = os.getpid()
        self.ready = False
        atexit.register(self.stop)

    def wait(self) -> Zygote:
        """Wait until the zygote is ready (before forking processes that share it); returns it."""
        if self.ready:
            return self
        self.socket.settimeout(60)
        try:
            ready = self.socket.recv(REQUEST_BYTES)
        except OSError:
            ready = b""
        if not ready:
            error = self.process.stderr.read().decode(errors="replace").strip().splitlines()[-3:]
            self.stop()
            raise ZygoteLost(" | ".join(error) or "it ended at once")
        self.socket.settimeout(None)
        self.ready = True
        return self

    def spawn(self, limits: Limits = LIMITS, namespaces: bool = True) -> Spawned:
        """A new contained student process (see the module docstring)."""
        from_worker, to_judge = os.pipe()
        from_judge, to_worker = os.pipe()
        status_read, status_write = os.pipe()
        reply, reply_there = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            # the student's process shares the requester's processor: they take turns, and a
            # message between them then crosses no processor boundary (several times faster)
            cpu = min(os.sched_getaffinity(0))
            request = json.dumps({"limits": asdict(limits), "namespaces": namespaces,
                                  "requester": os.getpid(), "cpu": cpu}).encode()
            fds = [from_judge, to_judge, status_write, reply_there.fileno()]
            socket.send_fds(self.socket, [request], fds)
            reply.settimeout(limits.load_seconds)
            answer = reply.recv(REQUEST_BYTES)
        except OSError as error:
            for fd in (from_worker, to_worker, status_read):
                os.close(fd)
            raise ZygoteLost(f"it did not answer ({error})") from None
        finally:
            for fd in (from_judge, to_judge, status_write):
                os.close(fd)
            reply_there.close()
            reply.close()
        try:
            data = json.loads(answer)
            return Spawned(int(data["pid"]), from_worker, to_worker, status_read, Path(data["scratch"]),
                           [(Gap(gap), str(text)) for gap, text in data["missing"]])
        except (ValueError, KeyError, TypeError):
            for fd in (from_worker, to_worker, status_read):
                os.close(fd)
            raise ZygoteLost(f"it could not start a process ({answer[:300]!r})") from None

    def alive(self) -> bool:
        if os.getpid() == self.owner:
            return self.process.poll() is None
        try:  # a grading process forked from the owner cannot wait for it, only look
            os.kill(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self) -> None:
        """Let the zygote end its student processes and remove their folders, then stop it."""
        if os.getpid() != self.owner or self.process.returncode is not None:
            return  # a grading process forked from the owner: the zygote is not its to stop
        self.socket.close()  # the zygote sees the end of its requests and cleans up
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_zygote: Zygote | None = None


def start_zygote() -> None:
    """Start the zygote of this grading run now, so that it imports while this process does."""
    global _zygote
    if _zygote is None or not _zygote.alive():
        _zygote = Zygote()


def zygote() -> Zygote:
    """The zygote of this grading run, ready (started on first use)."""
    start_zygote()
    return _zygote.wait()


# --- inside the zygote ------------------------------------------------------------------------


def main(argv: list[str]) -> None:
    from autograder.isolation import sandbox, worker  # what every student process needs, once

    control = socket.socket(fileno=int(argv[1]))
    sandbox.die_with_parent()
    sandbox.become_subreaper()  # without namespaces, what a student process detaches comes here
    control.send(b"ready")
    # Standard error was the grader's pipe for the messages of a failed start; nobody reads it
    # from now on, and a student's process must not write where the grader could see it.
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    control.settimeout(1.0)
    monitors: dict[int, Path] = {}  # monitor -> its student's scratch folder
    while True:
        _reap(monitors)
        try:
            message, fds, _, _ = socket.recv_fds(control, REQUEST_BYTES, 4)
        except TimeoutError:
            continue
        except OSError:
            message, fds = b"", []
        if not message:  # the grading run is over
            _end(monitors)
            os._exit(0)  # at once: the grader waits for this
        if len(fds) != 4:
            for fd in fds:
                os.close(fd)
            continue
        scratch = Path(tempfile.mkdtemp(prefix="autograder-student-"))
        pid = os.fork()
        if pid == 0:
            control.close()
            _monitor(json.loads(message), *fds, scratch=scratch, sandbox=sandbox, worker=worker)
        monitors[pid] = scratch
        for fd in fds:
            os.close(fd)


def _end(monitors: dict[int, Path]) -> None:
    """Kill every monitor (its student process dies with it) and remove every scratch folder."""
    for pid in monitors:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while monitors and time.monotonic() < deadline:
        _reap(monitors)
        time.sleep(0.01)


def _reap(monitors: dict[int, Path]) -> None:
    """Collect ended monitors and remove their scratch folders; kill every other child
    (processes detached by student code)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            break
        with contextlib.suppress(OSError):
            import shutil

            shutil.rmtree(monitors.pop(pid))
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in monitors:
            continue
        with contextlib.suppress(OSError, IndexError):
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == str(os.getpid()):
                os.kill(int(entry.name), signal.SIGKILL)


def _monitor(request: dict, read_fd: int, write_fd: int, status_fd: int, reply_fd: int, *, scratch: Path,
             sandbox, worker) -> None:
    """The monitor: contain, fork the student process, report it, wait for it; kill it if the
    grading process that asked for it ends first (killed at its notebook's time limit, say)."""
    try:
        os.setsid()
        sandbox.die_with_parent()
        limits = Limits(**request["limits"])
        requester = os.pidfd_open(int(request["requester"]))
        if request["namespaces"]:
            missing = sandbox.enter_namespaces(scratch, limits)
        else:
            missing = [(Gap.NAMESPACES, sandbox.NO_NAMESPACES.format(reason="turned off"))]
        child = os.fork()
        if child == 0:
            with contextlib.suppress(OSError, ValueError):  # one processor, whatever threads it starts
                os.sched_setaffinity(0, {int(request["cpu"])})
            sandbox.die_with_parent()
            keep = {read_fd, write_fd}
            for fd in (status_fd, reply_fd):
                os.close(fd)
            os.closerange(3, min(keep))
            os.closerange(min(keep) + 1, max(keep))
            os.closerange(max(keep) + 1, 1 << 16)
            worker.serve(read_fd, write_fd, scratch, limits, missing)
            os._exit(0)
        os.close(read_fd)
        os.close(write_fd)
        reply = socket.socket(fileno=reply_fd)
        reply.send(json.dumps({"pid": child, "scratch": str(scratch), "missing": missing}).encode())
        reply.close()
        student = os.pidfd_open(child)
        while not select.select([student, requester], [], [])[0].count(student):
            with contextlib.suppress(ProcessLookupError):  # the grading process is gone
                os.kill(child, signal.SIGKILL)
        _, status = os.waitpid(child, 0)
        with contextlib.suppress(OSError):
            os.write(status_fd, str(status).encode())
    except BaseException as error:  # report, never leave the grader waiting
        with contextlib.suppress(OSError):
            socket.socket(fileno=reply_fd).send(f"{type(error).__name__}: {error}".encode()[:300])
    finally:
        os._exit(0)


if __name__ == "__main__":
    main(sys.argv)
