"""Containment of the student's process: files, network, processes, disk, memory, signals.

Each case runs with namespaces of its own (what CI and a Linux grading machine get) and
without them (the fallback of a container that refuses namespaces), where the other layers
(Landlock, seccomp, resource limits, the scratch check) must still hold.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import replace

import numpy as np
import pytest
from conftest import SOLUTIONS

from autograder.errors import CheckFailed
from autograder.isolation import IsolatedNamespace
from autograder.isolation.sandbox import landlock_abi
from autograder.limits import LIMITS
from autograder.notebook import Cell, Definitions, select_definitions

LIMITS_HERE = replace(LIMITS, call_seconds=5.0, scratch_disk=8 * 2**20, file_size=4 * 2**20)
MODES = [pytest.param(True, id="namespaces"), pytest.param(False, id="no namespaces")]

CODE = """
import os, socket, subprocess, threading, time
import numpy as np

def read(path):
    with open(path, "rb") as file:
        return len(file.read())

def write(path, megabytes):
    with open(path, "wb") as file:
        file.write(b"x" * int(megabytes * 2**20))
    return "written"

def many_files(count, megabytes):
    for i in range(count):
        write(f"file{i}.bin", megabytes)
    return "written"

def udp(host):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"x", (host, 53))
    return "sent"

def tcp(host, port):
    with socket.create_connection((host, port), timeout=2):
        return "connected"

def fork():
    pid = os.fork()
    if pid == 0:
        os.setsid()
        time.sleep(3600)
        os._exit(0)
    return pid

def run(command):
    return subprocess.run(command).returncode

def thread():
    out = []
    worker = threading.Thread(target=lambda: out.append(float(np.ones((50, 50)).dot(np.ones(50)).sum())))
    worker.start()
    worker.join()
    return out[0]

def allocate(gigabytes):
    return np.ones(int(gigabytes * 2**30 // 8)).sum()

def signal_grader(pid):
    os.kill(pid, 9)
    return "sent"

def listdir(path):
    return sorted(os.listdir(path))
"""


@pytest.fixture(params=MODES)
def sandboxed(request):
    if not request.param and landlock_abi() == 0:
        pytest.fail("this kernel has no Landlock: the fallback cannot confine files")
    cells = [Cell(index=0, source=textwrap.dedent(CODE))]
    blocks, notes = select_definitions(cells)
    namespace = IsolatedNamespace(Definitions(blocks, notes, {}, cells), limits=LIMITS_HERE,
                                  use_namespaces=request.param)
    namespace.namespaced = request.param
    yield namespace
    namespace.close()


def fails(namespace, name, *args, match="Error"):
    with pytest.raises(CheckFailed, match=match) as failure:
        namespace.function(name)(*args)
    return str(failure.value)


def test_the_notes_say_what_each_environment_gets(sandboxed):
    notes = " ".join(sandboxed.notes)
    if sandboxed.namespaced:
        assert "sandbox" not in notes, notes
    else:
        assert "sandbox: no namespaces" in notes


def test_no_file_outside_python_and_the_scratch_folder(sandboxed, tmp_path):
    denied = "PermissionError|FileNotFound|Read-only"
    fails(sandboxed, "read", str(SOLUTIONS / "01_losses" / "losses.ipynb"), match=denied)
    fails(sandboxed, "read", "/etc/passwd", match=denied)
    fails(sandboxed, "write", str(tmp_path / "results.json"), 0.001, match=denied)
    assert not (tmp_path / "results.json").exists()
    assert sandboxed.function("write")("scratch.bin", 0.001) == "written"
    assert sandboxed.function("read")(np.__file__) > 0  # Python's own files are readable


def test_no_network_of_any_protocol(sandboxed):
    for host in ("127.0.0.1", "8.8.8.8"):
        fails(sandboxed, "udp", host, match="PermissionError|OSError")
        fails(sandboxed, "tcp", host, 80, match="PermissionError|OSError|ConnectionRefused")


def test_no_new_processes_but_threads_work(sandboxed):
    fails(sandboxed, "fork", match="PermissionError")
    fails(sandboxed, "run", ["/bin/true"], match="PermissionError|FileNotFound")
    assert sandboxed.function("thread")() == 2500.0


def test_disk_use_is_bounded(sandboxed):
    fails(sandboxed, "write", "big.bin", 6, match=r"File too large|No space left")
    if sandboxed.namespaced:
        fails(sandboxed, "many_files", 4, 3, match="No space left")
    else:  # no tmpfs of its own: the grader measures the folder after the check and stops it
        assert sandboxed.function("many_files")(4, 3) == "written"
        problem = sandboxed.end_check()
        assert problem and "wrote more than 8 MB to disk" in problem


def test_memory_is_bounded(sandboxed):
    fails(sandboxed, "allocate", 8, match="MemoryError")
    assert sandboxed.function("allocate")(0.01) > 0  # and the process goes on


def test_the_grader_is_out_of_reach(sandboxed):
    fails(sandboxed, "signal_grader", os.getpid(), match="PermissionError|ProcessLookupError")
    fails(sandboxed, "listdir", f"/proc/{os.getpid()}/fd", match="PermissionError|FileNotFound")
