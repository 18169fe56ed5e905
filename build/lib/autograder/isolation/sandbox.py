"""Contain the student's process in every resource, with well-kept mechanisms where they exist.

Outside, before it starts (`launch`), with bubblewrap (``bwrap``) where it works:
- namespaces: its own user, PID, network, IPC and mount namespaces. No network of any
  protocol (the namespace has no interface that is up); when the grader kills it, the kernel
  ends every process of its PID namespace, however it forked or detached;
- a file system that holds only Python, its packages and the ``autograder`` package,
  read-only, plus a size-limited tmpfs as its scratch folder (`Limits.scratch_disk`).

Inside, before any student code runs (`confine_self`):
- resource limits: address space, file size, open files, CPU time, no core dumps;
- no new privileges and, for a process that is still root, no capabilities;
- Landlock (Linux 5.13+): read only Python and ``autograder``, write only the scratch
  folder; from ABI 4 no TCP, from ABI 6 no signals or abstract sockets outside;
- seccomp, through libseccomp: no new processes (threads are fine), no sockets but Unix
  ones, no ``io_uring``, ``ptrace``, ``bpf``, mounts or namespaces.

Each layer that the kernel or a container refuses is reported in words (`Containment`);
the grade's notes list them, and the README says what each environment gets.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
import resource
import shutil
import socket
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

from autograder.limits import LIMITS, Limits

SCRATCH_INSIDE = "/scratch"
PACKAGE = Path(__file__).resolve().parents[1]  # the autograder package, wherever it is installed
PACKAGE_INSIDE = "/opt/grader"  # ... and where the student's process imports it from

# --- outside: the launcher --------------------------------------------------------------------


@dataclass
class Containment:
    """How a student's process is started, and what could not be enforced."""

    argv_prefix: list[str]
    scratch: str  # the scratch folder as the student's process sees it
    missing: list[str] = field(default_factory=list)

    @property
    def namespaced(self) -> bool:
        return bool(self.argv_prefix)


def readable_roots() -> list[Path]:
    """What the student's process may read: Python, its packages, and ``autograder``."""
    paths = {Path(sysconfig.get_path(key)) for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths |= {Path(sys.base_prefix), Path(sys.prefix), Path(__file__).resolve().parents[1]}
    return sorted(p for p in paths if p.exists())


def _bwrap_arguments(scratch_bytes: int) -> list[str]:
    binary = shutil.which("bwrap")
    if binary is None:
        raise FileNotFoundError("bubblewrap (bwrap) is not installed")
    argv = [binary, "--unshare-all", "--unshare-user", "--disable-userns", "--uid", "65534", "--gid", "65534",
            "--die-with-parent", "--new-session", "--hostname", "sandbox", "--clearenv",
            "--proc", "/proc", "--dev", "/dev"]
    for top in ("/usr", "/lib", "/lib64", "/bin", "/sbin"):
        if os.path.islink(top):
            argv += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            argv += ["--ro-bind", top, top]
    if os.path.exists("/etc/ld.so.cache"):
        argv += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    for root in readable_roots():
        argv += ["--ro-bind", str(root), str(root)]
    argv += ["--ro-bind", str(PACKAGE), f"{PACKAGE_INSIDE}/autograder"]
    argv += ["--size", str(scratch_bytes), "--tmpfs", SCRATCH_INSIDE, "--chdir", SCRATCH_INSIDE]
    return argv


@functools.cache
def _probe_bwrap(scratch_bytes: int) -> tuple[tuple[str, ...], str | None]:
    """The bubblewrap prefix, if a trial run works here (once per process), else why not."""
    try:
        argv = _bwrap_arguments(scratch_bytes)
        trial = subprocess.run([*argv, "--", sys.executable, "-c", "pass"], capture_output=True, timeout=20,
                               stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as error:
        return (), str(error)
    if trial.returncode != 0:
        message = trial.stderr.decode(errors="replace").strip().splitlines()
        last = message[-1] if message else "no message"
        return (), f"bubblewrap cannot create namespaces here ({last})"
    return tuple(argv), None


def launch(limits: Limits = LIMITS, use_namespaces: bool = True) -> Containment:
    """How to start the student's process: inside bubblewrap when it works, else directly."""
    if use_namespaces and os.environ.get("AUTOGRADER_NO_NAMESPACES") != "1":
        prefix, problem = _probe_bwrap(limits.scratch_disk)
        if prefix:
            return Containment(list(prefix), SCRATCH_INSIDE)
    else:
        problem = "namespaces turned off"
    return Containment([], "", [
        f"no namespaces ({problem}): network is blocked by seccomp only, the scratch disk is checked "
        "after each check rather than capped, and detached processes are cleaned up by the grader"])


# --- inside: the student's process confines itself ---------------------------------------------

# Linux system call numbers (the same on x86-64 and arm64) and Landlock's constants.
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
SYS_CAPSET = {"x86_64": 126, "aarch64": 91}.get(os.uname().machine)
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS, PR_SET_PDEATHSIG = 38, 1

READ_FILE, READ_DIR = 1 << 2, 1 << 3
FILE_RIGHTS = (1 << 0) | (1 << 1) | READ_FILE | (1 << 14) | (1 << 15)  # exec, write, read, truncate, ioctl
ALL_FS_RIGHTS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
NET_TCP = (1 << 0) | (1 << 1)  # bind, connect
SCOPE_ALL = (1 << 0) | (1 << 1)  # abstract unix sockets, signals
DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")  # read (null: write too)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_libc = ctypes.CDLL(None, use_errno=True)


def _syscall(number: int, *args) -> int:
    result = _libc.syscall(number, *args)
    if result < 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))
    return result


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is not available."""
    try:
        return _syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                        ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    except OSError:
        return 0


def restrict_files(scratch: Path) -> int:
    """Apply the Landlock rules (see the module docstring); returns the ABI used."""
    abi = landlock_abi()
    if abi < 1:
        raise OSError("Landlock is not available on this kernel")
    fs_rights = ALL_FS_RIGHTS_BY_ABI[max(k for k in ALL_FS_RIGHTS_BY_ABI if k <= abi)]
    attr = _RulesetAttr(fs_rights, NET_TCP if abi >= 4 else 0, SCOPE_ALL if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = _syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size),
                       ctypes.c_uint32(0))
    try:
        libraries = [Path(p) for p in ("/usr/lib", "/usr/lib64", "/lib", "/lib64") if os.path.isdir(p)]
        rules = [(root, READ_FILE | READ_DIR) for root in readable_roots() + libraries]
        rules += [(scratch, fs_rights)]
        rules += [(Path(device), READ_FILE | (1 << 1) * (device == "/dev/null")) for device in DEVICES]
        for path, rights in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # a device this system does not have
            try:
                if not path.is_dir():
                    rights &= FILE_RIGHTS
                rule = _PathBeneathAttr(rights & fs_rights, fd)
                _syscall(SYS_LANDLOCK_ADD_RULE, ruleset, ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH),
                         ctypes.byref(rule), ctypes.c_uint32(0))
            finally:
                os.close(fd)
        _syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, ctypes.c_uint32(0))
    finally:
        os.close(ruleset)
    return abi


def drop_capabilities() -> None:
    """Clear every capability (a process running as root keeps its uid but loses its powers)."""
    if SYS_CAPSET is None:
        raise OSError("unknown architecture")
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: all zero (two words each)
    _syscall(SYS_CAPSET, ctypes.byref(header), ctypes.byref(data))


CLONE_THREAD = 0x00010000
# System calls student code has no use for, each a way out of the sandbox or around it.
DENIED_CALLS = ("fork", "vfork", "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev",
                "io_uring_setup", "io_uring_enter", "io_uring_register", "bpf", "perf_event_open",
                "userfaultfd", "keyctl", "add_key", "request_key", "mount", "umount2", "pivot_root",
                "unshare", "setns", "chroot", "kexec_load", "init_module", "finit_module",
                "delete_module", "reboot", "swapon", "swapoff", "acct", "quotactl", "syslog",
                "name_to_handle_at", "open_by_handle_at", "mknod", "mknodat")


def system_call_filter():
    """The seccomp filter (see the module docstring), ready to load; OSError if libseccomp is
    missing. Made before Landlock applies: finding the library runs ``ldconfig``."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError, RuntimeError) as error:  # the package, or libseccomp, is missing
        raise OSError(f"libseccomp is not available ({error})") from None
    denied = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in DENIED_CALLS:
        with contextlib.suppress(Exception):  # a call this architecture does not have
            rules.add_rule(denied, name)
    rules.add_rule(denied, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_THREAD, 0))  # a process
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")  # C libraries then use clone for threads
    rules.add_rule(seccomp.ERRNO(errno.EACCES), "socket", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
    rules.add_rule(seccomp.ERRNO(errno.EACCES), "socketpair", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
    return rules


def confine_self(scratch: Path, limits: Limits = LIMITS) -> list[str]:
    """Confine this process (see the module docstring); what could not be done, in words."""
    missing = []
    for kind, value in ((resource.RLIMIT_AS, limits.student_memory), (resource.RLIMIT_CORE, 0),
                        (resource.RLIMIT_FSIZE, limits.file_size),
                        (resource.RLIMIT_NOFILE, limits.open_files),
                        (resource.RLIMIT_CPU, limits.cpu_seconds)):
        try:
            resource.setrlimit(kind, (value, value))
        except (ValueError, OSError) as error:
            missing.append(f"resource limit {kind} not set ({error})")
    try:
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
    except OSError as error:
        missing.append(f"no_new_privs ({error.strerror})")
    try:
        system_calls = system_call_filter()
    except OSError as error:
        system_calls = None
        missing.append(f"no seccomp filter: processes and sockets are not blocked "
                       f"({error.strerror or error})")
    try:
        restrict_files(scratch)
    except OSError as error:
        missing.append(f"file access is not confined by Landlock ({error.strerror or error})")
    if os.geteuid() == 0:
        try:
            drop_capabilities()
        except OSError as error:
            missing.append(f"capabilities not dropped ({error.strerror or error})")
    if system_calls is not None:
        try:
            system_calls.load()
        except Exception as error:  # the kernel refused the filter
            missing.append(f"no seccomp filter: processes and sockets are not blocked ({error})")
    return missing


def die_with_parent() -> None:
    """Ask the kernel to kill this process when the grader that started it ends."""
    _prctl(PR_SET_PDEATHSIG, 9)


def _prctl(option: int, value: int) -> None:
    if _libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))
