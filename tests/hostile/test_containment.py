"""Containment of the student's process, with namespaces and without (where bubblewrap cannot
run, Landlock and seccomp are what is left): no network of any kind, no process of its own,
no file outside its scratch folder, no signal outside, no privilege, no memory the address
space limit does not count, bounded disk, and every hang or crash stopped and flagged.

Each probe is a graded function that tries everything in its field: if one attempt works,
it returns the right answer (and earns the points); if all fail, it raises with what stopped
each one. So a breach shows as points, and containment as the list of refusals.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess

import pytest
from hostile_support import (
    EXERCISES,
    GB,
    SOLUTIONS,
    assert_graded_cleanly,
    digest,
    earned,
    feedback,
    flags,
    grade_class,
    notebook,
    troubled,
    write_class,
)

from autograder.assignments import get_assignment
from autograder.isolation.sandbox import landlock_abi

pytestmark = pytest.mark.slow

PROBE = '''
import numpy as np

def _tries(attempts):
    done, failed = [], []
    for name, attempt in attempts:
        try:
            attempt()
            done.append(name)
        except BaseException as error:
            failed.append(f"{name}: {type(error).__name__}")
    return done, failed

def _verdict(done, failed, value):
    if done:
        return value  # a breach: the points show it
    raise PermissionError("contained: " + "; ".join(failed))
'''


def network(udp: int, tcp: int, abstract: str, path: str) -> str:
    return PROBE + f'''
import socket

def _udp(host, port, family=socket.AF_INET):
    def attempt():
        socket.socket(family, socket.SOCK_DGRAM).sendto(b"leak", (host, port))
    return attempt

def _tcp(host, port, family=socket.AF_INET):
    def attempt():
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(1)
        s.connect((host, port))
    return attempt

def _unix(address):
    def attempt():
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).connect(address)
    return attempt

def _raw(family, kind, protocol=0):
    return lambda: socket.socket(family, kind, protocol)

def mse(y_pred, y_true):
    done, failed = _tries([
        ("udp to the host", _udp("127.0.0.1", {udp})), ("udp out", _udp("1.1.1.1", 53)),
        ("tcp to the host", _tcp("127.0.0.1", {tcp})), ("tcp out", _tcp("1.1.1.1", 80)),
        ("tcp6", _tcp("::1", {tcp}, socket.AF_INET6)), ("raw icmp", _raw(socket.AF_INET, socket.SOCK_RAW, 1)),
        ("packet", _raw(socket.AF_PACKET, socket.SOCK_RAW)),
        ("netlink", _raw(socket.AF_NETLINK, socket.SOCK_RAW)),
        ("abstract unix", _unix({abstract!r})), ("unix path", _unix({path!r})),
        ("dns", lambda: socket.getaddrinfo("example.com", 80))])
    return _verdict(done, failed, float(np.mean((y_pred - y_true) ** 2)))
'''


PROCESSES = PROBE + '''
import ctypes, multiprocessing, os, pty, subprocess, threading

def _fork():
    if os.fork() == 0:
        import time
        time.sleep(600)
        os._exit(0)

def _in_a_thread(attempt):
    def run_it():
        box = []
        def target():
            try:
                attempt()
                box.append(None)
            except BaseException as error:
                box.append(error)
        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
        if box[0] is not None:
            raise box[0]
    return run_it

def _syscall(number, *args):
    def attempt():
        libc = ctypes.CDLL(None, use_errno=True)
        result = libc.syscall(number, *args)
        if result == 0:
            libc.syscall(60, 0)  # the child, if there is one, exits at once
        if result < 0:
            raise OSError(ctypes.get_errno(), f"system call {number}")
    return attempt

def _system():
    if os.system("sleep 603 &") != 0:
        raise OSError("os.system failed")

def mse_grad(y_pred, y_true):
    done, failed = _tries([
        ("fork", _fork), ("popen", lambda: subprocess.Popen(["sleep", "601"])),
        ("posix_spawn", lambda: os.posix_spawn("/bin/sleep", ["sleep", "602"], {})), ("system", _system),
        ("multiprocessing", lambda: multiprocessing.get_context("spawn").Process(target=print).start()),
        ("fork in a thread", _in_a_thread(_fork)), ("clone", _syscall(56, 17, 0, 0, 0, 0)),
        ("vfork", _syscall(58)), ("clone3", _syscall(435, 0, 0)), ("pty", pty.fork)])
    return _verdict(done, failed, 2 * (y_pred - y_true) / y_pred.size)
'''


def files(secrets: list[str], writes: list[str]) -> str:
    return PROBE + f'''
import os

def _read(path):
    def attempt():
        with open(path, "rb") as f:
            if not f.read(1):
                raise EOFError(path)
    return attempt

def _write(path):
    def attempt():
        with open(path, "w") as f:
            f.write("written by a student")
    return attempt

def _look_for_solutions():
    seen = 0
    for top in ("/", "/opt", "/work", "/root", "/home", "/tmp", os.path.dirname(os.getcwd())):
        for folder, folders, names in os.walk(top):
            seen += len(names) + len(folders)
            if os.path.basename(folder) == "solutions" or "solutions" in folders:
                for name in names:
                    _read(os.path.join(folder, name))()
                    return
            if seen > 20_000:
                break
    raise FileNotFoundError("no solutions folder in sight")

def _standard_error():
    import stat
    if not stat.S_ISREG(os.fstat(2).st_mode):
        raise PermissionError("standard error is not a file")
    os.write(2, b"written outside the scratch folder")

def binary_cross_entropy(probs, targets):
    attempts = [("read " + path, _read(path)) for path in {secrets!r}]
    attempts += [("standard error", _standard_error)]
    attempts += [("write " + path, _write(path)) for path in {writes!r}]
    attempts += [("find solutions/", _look_for_solutions)]
    done, failed = _tries(attempts)
    p = np.clip(probs, 1e-12, 1 - 1e-12)
    return _verdict(done, failed, float(-np.mean(targets * np.log(p) + (1 - targets) * np.log(1 - p))))
'''


def signals(sentinel: int) -> str:
    return PROBE + f'''
import os, signal

def _kill(pid, sig):
    def attempt():
        if pid in (0, os.getpid()):  # PID 1 of its own namespace, or no parent it can see: itself
            raise ProcessLookupError("only itself")
        os.kill(pid, sig)
    return attempt

def binary_cross_entropy_grad(probs, targets):
    done, failed = _tries([("a process outside", _kill({sentinel}, signal.SIGKILL)),
                           ("the parent", _kill(os.getppid(), signal.SIGSTOP)),
                           ("pid 1", _kill(1, signal.SIGKILL))])
    p = np.clip(probs, 1e-12, 1 - 1e-12)
    return _verdict(done, failed, (-(targets / p) + (1 - targets) / (1 - p)) / probs.size)
'''


PRIVILEGES = PROBE + '''
import ctypes, os, resource

def _unlimit(kind):
    return lambda: resource.setrlimit(kind, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

def _syscall(number, *args):
    def attempt():
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.syscall(number, *args) < 0:
            raise OSError(ctypes.get_errno(), f"system call {number}")
    return attempt

def _chown():
    with open("owned", "w"):
        pass
    os.chown("owned", 12345, 12345)

def _become_root():
    if os.geteuid() == 0:
        raise PermissionError("already uid 0, without capabilities: nothing to gain")
    os.setuid(0)

def softmax(logits):
    done, failed = _tries([
        ("address space", _unlimit(resource.RLIMIT_AS)), ("cpu", _unlimit(resource.RLIMIT_CPU)),
        ("open files", _unlimit(resource.RLIMIT_NOFILE)), ("file size", _unlimit(resource.RLIMIT_FSIZE)),
        ("setuid 0", _become_root), ("chown", _chown),
        ("unshare", _syscall(272, 0x10000000)), ("ptrace", _syscall(101, 16, 1, 0, 0)),
        ("io_uring", _syscall(425, 1, 0)), ("bpf", _syscall(321, 0, 0, 0)),
        ("mount", _syscall(165, 0, 0, 0, 0, 0)),
        ("keyctl", _syscall(250, 0, 0)), ("userfaultfd", _syscall(323, 0)),
        ("perf_event_open", _syscall(298, 0, 0, -1, -1, 0)),
        ("setns", lambda: os.open("/proc/1/ns/net", os.O_RDONLY))])
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return _verdict(done, failed, e / e.sum(axis=-1, keepdims=True))
'''

MEMORY = PROBE + '''
import ctypes, mmap, os

HELD = []

def _memfd():
    fd = os.memfd_create("outside the address space")
    os.posix_fallocate(fd, 0, 16 << 20)

def _shared():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.shmget(0, 1 << 30, 0o1600) < 0:
        raise OSError(ctypes.get_errno(), "shmget")

def cross_entropy(logits, labels):
    if not HELD:  # within the limit: the watcher of the run must see it
        HELD.append(np.ones(2**29 // 8))  # 512 MB
    done, failed = _tries([
        ("6 GB array", lambda: np.ones(6 * 2**30 // 8)),
        ("6 GB mapping", lambda: mmap.mmap(-1, 6 * 2**30)),
        ("memfd", _memfd), ("System V shared memory", _shared),
        ("/dev/shm", lambda: open("/dev/shm/hostile", "wb").write(b"x" * (1 << 20)))])
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return _verdict(done, failed, float(-np.mean(log_p[np.arange(len(labels)), labels])))
'''

# Fills its scratch folder with 16 MB files, up to 200 MB: with namespaces the folder holds
# 64 MB and writing fails; without, the grader measures it after the check and stops the process.
DISK = '''
import numpy as np

def cross_entropy_grad(logits, labels):
    block = b"x" * (16 << 20)
    for number in range(13):
        with open(f"fill-{number}", "wb") as f:
            f.write(block)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1
    return p / len(labels)
'''

# Each function hangs or crashes its process in its own way; the grader's clock and the kernel
# stop each, and each is flagged.
HANGS_AND_CRASHES = {
    "mse": "import ctypes\ndef mse(y_pred, y_true):\n    ctypes.CDLL(None).sleep(3600)\n",
    "mse_grad": "import os\ndef mse_grad(y_pred, y_true):\n    r, w = os.pipe()\n    os.read(r, 1)\n",
    "binary_cross_entropy": (  # one NumPy call that does not return for minutes, deaf to signals
        "import signal\ndef binary_cross_entropy(probs, targets):\n"
        "    signal.pthread_sigmask(signal.SIG_BLOCK, range(1, signal.NSIG))\n"
        "    for sig in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT, signal.SIGXCPU):\n"
        "        signal.signal(sig, signal.SIG_IGN)\n"
        "    big = np.ones((6000, 6000), dtype=np.int8)\n    return float((big @ big).sum())\n"),
    "binary_cross_entropy_grad": (  # returns, but a thread holds the interpreter: no reply
        "import ctypes, threading, time\n"
        "def binary_cross_entropy_grad(probs, targets):\n"
        "    threading.Thread(target=ctypes.PyDLL(None).sleep, args=(3600,), daemon=True).start()\n"
        "    time.sleep(0.2)\n"
        "    p = np.clip(probs, 1e-12, 1 - 1e-12)\n"
        "    return (-(targets / p) + (1 - targets) / (1 - p)) / probs.size\n"),
    "softmax": "import ctypes\ndef softmax(logits):\n    ctypes.memset(8, 0, 8)\n",
    "cross_entropy": (  # each level of repr is a C call: the C stack overflows
        "import sys\nsys.setrecursionlimit(10**8)\n"
        "class _Deeper:\n    def __repr__(self):\n        return repr(self)\n"
        "def cross_entropy(logits, labels):\n    return repr(_Deeper())\n"),
    "cross_entropy_grad": (
        "import threading, time\n"
        "def cross_entropy_grad(logits, labels):\n"
        "    while True:\n        threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()\n"),
}
# torch in the student's process: it works, and none of its ways to share memory or start
# processes does.
TORCH = {
    "mse": "import torch\ndef mse(y_pred, y_true):\n"
           "    return float(torch.mean((torch.tensor(y_pred) - torch.tensor(y_true)) ** 2))\n",
    "mse_grad": PROBE + '''
import torch

def mse_grad(y_pred, y_true):
    done, failed = _tries([
        ("shared tensor", lambda: torch.zeros(2**26).share_memory_()),
        ("file system sharing", lambda: (torch.multiprocessing.set_sharing_strategy("file_system"),
                                         torch.zeros(2**26).share_memory_())),
        ("mapped file", lambda: torch.from_file("/dev/shm/hostile", shared=True, size=2**26)),
        ("loader workers", lambda: list(torch.utils.data.DataLoader(list(range(4)), num_workers=2)))])
    return _verdict(done, failed, 2 * (y_pred - y_true) / y_pred.size)
''',
}

FLAGGED = {"mse": "timed out", "mse_grad": "timed out", "binary_cross_entropy": "timed out",
           "binary_cross_entropy_grad": "", "softmax": "crashed", "cross_entropy": "crashed"}


@pytest.fixture(scope="module")
def listeners(tmp_path_factory):
    """Sockets on the host that student code would reach if it could, and a process of the
    grader's user it would kill if it could."""
    folder = tmp_path_factory.mktemp("listen")
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen()
    abstract_name = f"\0hostile-{os.getpid()}"
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    abstract.bind(abstract_name)
    abstract.listen()
    path = folder / "listening.sock"
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(str(path))
    unix.listen()
    sockets = (udp, tcp, abstract, unix)
    for s in sockets:
        s.setblocking(False)
    sentinel = subprocess.Popen(["sleep", "900"])
    yield {"udp": udp.getsockname()[1], "tcp": tcp.getsockname()[1], "abstract": abstract_name,
           "path": str(path), "sentinel": sentinel, "sockets": sockets}
    sentinel.kill()
    sentinel.wait()
    for s in sockets:
        s.close()


def received(sockets) -> list:
    """What reached the listeners (nothing should)."""
    got = []
    for s in sockets:
        with contextlib.suppress(OSError):  # BlockingIOError: nothing came
            got.append(s.recv(100) if s.type == socket.SOCK_DGRAM else s.accept())
    return got


@pytest.fixture(scope="module", params=["namespaces", "no namespaces"])
def graded(request, listeners, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("containment")
    folder = tmp / "class"
    honest = folder / "honest" / "01_losses" / "losses.ipynb"
    secrets = [str(SOLUTIONS / "01_losses" / "losses.ipynb"), str(honest),
               "/opt/grader/solutions/01_losses/losses.ipynb", "../solutions/01_losses/losses.ipynb",
               "/proc/1/environ", "/proc/self/environ", "/etc/shadow"]
    writes = [str(folder / "probes" / "01_losses" / "results.json"), str(tmp / "results.json"),
              "/tmp/hostile", "/dev/shm/hostile", "/opt/grader/autograder/hostile.py"]
    probes = {"mse": network(listeners["udp"], listeners["tcp"], listeners["abstract"], listeners["path"]),
              "mse_grad": PROCESSES, "binary_cross_entropy": files(secrets, writes),
              "binary_cross_entropy_grad": signals(listeners["sentinel"].pid), "softmax": PRIVILEGES,
              "cross_entropy": MEMORY, "cross_entropy_grad": DISK}
    write_class(folder, {"honest": ("01_losses", notebook("01_losses")),
                         "release": ("01_losses", notebook("01_losses", base=EXERCISES)),
                         "probes": ("01_losses", notebook("01_losses", probes)),
                         "hangs_and_crashes": ("01_losses", notebook("01_losses", HANGS_AND_CRASHES)),
                         "torch": ("01_losses", notebook("01_losses", TORCH))})
    before = digest(folder)
    env = {"AUTOGRADER_NO_NAMESPACES": "1"} if request.param == "no namespaces" else {}
    run = grade_class(folder, tmp, env=env, call_seconds=4, timeout=120)
    return run, folder, before, request.param, writes


def test_the_class_is_graded_cleanly(graded, listeners):
    run, folder, before, mode, writes = graded
    assert_graded_cleanly(run, folder, before, {"honest": "01_losses"}, seconds=240)
    assert received(listeners["sockets"]) == [], "a packet or connection reached the host"
    assert listeners["sentinel"].poll() is None, "student code killed a process outside its sandbox"
    assert not any(os.path.exists(path) for path in writes if path.startswith("/"))


def contained(run, target: str) -> str:
    submission = run.submissions["probes"]
    baseline = earned(run.submissions["release"], target)
    assert earned(submission, target) == baseline == 0, feedback(submission, target)
    return feedback(submission, target)


def test_no_network_of_any_kind(graded):
    run, *_ = graded
    text = contained(run, "mse")
    for attempt in ("udp to the host", "tcp out", "raw icmp", "netlink", "abstract unix", "unix path", "dns"):
        assert attempt in text


def test_no_process_of_its_own(graded):
    run, *_ = graded
    text = contained(run, "mse_grad")
    for attempt in ("fork", "popen", "posix_spawn", "system", "multiprocessing", "fork in a thread", "clone",
                    "vfork"):
        assert f"{attempt}: " in text


def test_no_file_outside_its_scratch_folder(graded):
    run, *_ = graded
    text = contained(run, "binary_cross_entropy")
    assert "find solutions/: FileNotFoundError" in text


def test_no_signal_outside(graded):
    run, _, _, mode, _ = graded
    if mode == "no namespaces" and landlock_abi() < 6:
        pytest.skip("without namespaces, only Landlock 6 (Linux 6.12) scopes signals")
    contained(run, "binary_cross_entropy_grad")


def test_no_privilege(graded):
    run, *_ = graded
    text = contained(run, "softmax")
    assert "address space: ValueError" in text and "unshare: PermissionError" in text


def test_no_memory_beyond_the_limit_and_the_limit_is_watched(graded):
    run, *_ = graded
    text = contained(run, "cross_entropy")
    for attempt in ("6 GB array: MemoryError", "memfd: PermissionError",
                    "System V shared memory: PermissionError"):
        assert attempt in text
    assert 0.45 * GB < run.largest < 4.5 * GB, "the watcher should have seen the 512 MB the probe holds"


def test_the_disk_is_bounded(graded):
    run, _, _, mode, _ = graded
    submission = run.submissions["probes"]
    assert earned(submission, "cross_entropy_grad") == 0
    if mode == "namespaces":
        assert "No space left on device" in feedback(submission, "cross_entropy_grad")
    else:
        assert "wrote more than 64 MB to disk" in feedback(submission, "cross_entropy_grad")
        assert "crashed: cross_entropy_grad" in flags(submission, "crashed")


def test_every_hang_and_crash_is_stopped_and_flagged(graded):
    run, *_ = graded
    submission = run.submissions["hangs_and_crashes"]
    assert submission["score"] == sum(earned(submission, answer) for answer in ("Q1", "Q2", "Q3"))
    for target, kind in FLAGGED.items():
        assert earned(submission, target) == 0
        if kind:
            assert f"{kind}: {target}" in flags(submission), (target, submission["flags"])
    assert "binary_cross_entropy_grad" in " ".join(troubled(submission))


def test_torch_works_and_shares_nothing(graded):
    run, *_ = graded
    submission = run.submissions["torch"]
    assert earned(submission, "mse") == get_assignment("01_losses").points("mse")
    assert earned(submission, "mse_grad") == 0
    text = feedback(submission, "mse_grad")
    for attempt in ("shared tensor", "file system sharing", "mapped file", "loader workers"):
        assert f"{attempt}: " in text


# A lent reference function fed data that would keep NumPy busy in C for minutes (the grading
# process cannot interrupt C code): lent functions take a bounded number of numbers per call.
BUSY_LENDER = {"mlp_loss_and_grads": '''
def mlp_loss_and_grads(params, X, y, activation="relu"):
    big = np.ones((4000, 4000), dtype=np.int8)
    return linear_forward(big, big, np.zeros(4000, dtype=np.int8))
'''}


def test_a_lent_function_cannot_be_kept_busy(tmp_path):
    folder = tmp_path / "class"
    write_class(folder, {"honest": ("02_backprop", notebook("02_backprop")),
                         "busy_lender": ("02_backprop", notebook("02_backprop", BUSY_LENDER))})
    before = digest(folder)
    run = grade_class(folder, tmp_path, timeout=60)
    assert_graded_cleanly(run, folder, before, {"honest": "02_backprop"}, seconds=60)
    busy = run.submissions["busy_lender"]
    assert earned(busy, "mlp_loss_and_grads") == 0 and busy["flags"] == []
    assert "takes at most 1,000,000 numbers per call" in feedback(busy, "mlp_loss_and_grads")
    assert busy["score"] == run.submissions["honest"]["score"] - get_assignment("02_backprop").points(
        "mlp_loss_and_grads")


# Empty files cost no bytes of the scratch disk's limit, but each holds kernel memory (with
# namespaces) or an inode of the grader's disk (without): their number is limited too.
MANY_FILES = {"mse": '''
import os

def mse(y_pred, y_true):
    os.makedirs("many", exist_ok=True)
    for number in range(20_000):
        os.close(os.open(f"many/{number}", os.O_CREAT | os.O_WRONLY))
    return float(np.mean((y_pred - y_true) ** 2))
'''}


@pytest.mark.parametrize("mode", ["namespaces", "no namespaces"])
def test_the_number_of_files_is_bounded(tmp_path, mode):
    folder = tmp_path / "class"
    write_class(folder, {"many_files": ("01_losses", notebook("01_losses", MANY_FILES))})
    env = {"AUTOGRADER_NO_NAMESPACES": "1"} if mode == "no namespaces" else {}
    run = grade_class(folder, tmp_path, env=env, call_seconds=20, timeout=120)
    assert run.returncode == 0 and run.left == []
    submission = run.submissions["many_files"]
    assert earned(submission, "mse") == 0
    if mode == "namespaces":  # the tmpfs holds a bounded number of files
        assert "No space left on device" in feedback(submission, "mse")
    else:  # the grader counts them after the check and stops the process
        assert "created more than 1,000 files" in feedback(submission, "mse")
        assert "crashed: mse" in flags(submission, "crashed")
