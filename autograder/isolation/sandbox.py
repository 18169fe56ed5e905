"""Contain the student's process in every resource, with the kernel's own mechanisms.

Before the student's process exists, its monitor (see `autograder.isolation.zygote`)
enters new namespaces (`enter_namespaces`):
- user, PID, network, IPC and UTS namespaces: no network of any protocol (the new network
  namespace has no interface that is up), no signal to or view of any process outside;
  when the grader kills the student's process, PID 1 of its namespace, the kernel ends every
  process it could have started, however it forked or detached;
- a mount namespace with a tmpfs as its scratch folder, limited in bytes and in files
  (`Limits.scratch_disk`, `Limits.scratch_files`).

Then the student's process confines itself (`confine_self`), before any student code runs:
- resource limits: address space, file size, open files, CPU time, no core dumps;
- no new privileges and no capabilities;
- Landlock (Linux 5.13+): read only Python, its packages and ``autograder``, write only the
  scratch folder; from ABI 4 no TCP, from ABI 6 no signals or abstract sockets outside;
- seccomp, through libseccomp: no new processes (threads are fine), no sockets, no signals
  but to itself, no ``io_uring``, ``ptrace``, ``bpf``, mounts or namespaces, no memory outside
  the address-space limit (``memfd_create``, System V shared memory).

Each layer that the kernel or a container refuses is reported as a `Gap` with a sentence; the
grade's notes list them, and the README says what each environment gets. A resource limit
higher than the hard limit already in force (a batch scheduler's ``ulimit -v``) is lowered to
it, and the notes say so.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import resource
import sys
import sysconfig
from pathlib import Path

from autograder.isolation.protocol import Gap
from autograder.limits import LIMITS, Limits, set_limit

PACKAGE = Path(__file__).resolve().parents[1]  # the autograder package, wherever it is installed


def readable_roots() -> list[Path]:
    """What the student's process may read: Python, its packages, and ``autograder``."""
    paths = {Path(sysconfig.get_path(key)) for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths |= {Path(sys.base_prefix), Path(sys.prefix), PACKAGE}
    return sorted(p for p in paths if p.exists())


# --- the monitor: namespaces ----------------------------------------------------------------

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 0x4000, 1 << 18
NO_NAMESPACES = ("no namespaces ({reason}): network is blocked by seccomp only, the scratch disk is "
                 "checked after each check rather than capped, and leftover processes are killed one by one")


def enter_namespaces(scratch: Path, limits: Limits = LIMITS) -> list[tuple[Gap, str]]:
    """Move this (single-threaded) process into new namespaces and mount a tmpfs of
    ``limits.scratch_disk`` bytes on ``scratch``; its next child is PID 1 of the new PID
    namespace. Returns what could not be done (nothing if all went well)."""
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID
    try:
        _check(_libc.unshare(flags))
    except OSError as error:
        return [(Gap.NAMESPACES, NO_NAMESPACES.format(reason=error.strerror))]
    try:
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
        Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
        _check(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None))  # nothing leaks out
        options = f"size={limits.scratch_disk},nr_inodes={limits.scratch_files},mode=0700".encode()
        flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
        _check(_libc.mount(b"tmpfs", str(scratch).encode(), b"tmpfs", flags, options))
    except OSError as error:
        return [(Gap.SCRATCH, f"scratch folder not size-limited ({error.strerror or error})")]
    return []


def _check(result: int) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))


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
        libraries = [Path(p) for p in ("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/share/zoneinfo")
                     if os.path.isdir(p)]
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
DENIED_CALLS = ("fork", "vfork", "execve", "execveat", "socketpair", "connect", "ptrace",
                "process_vm_readv", "process_vm_writev",
                "io_uring_setup", "io_uring_enter", "io_uring_register", "bpf", "perf_event_open",
                "userfaultfd", "keyctl", "add_key", "request_key", "mount", "umount2", "pivot_root",
                "unshare", "setns", "chroot", "kexec_load", "init_module", "finit_module",
                "delete_module", "reboot", "swapon", "swapoff", "acct", "quotactl", "syslog",
                "name_to_handle_at", "open_by_handle_at", "mknod", "mknodat",
                # memory no address-space limit counts: anonymous files and System V shared
                # memory (which, without an IPC namespace, even outlives the process)
                "memfd_create", "memfd_secret", "shmget", "shmat", "msgget", "semget", "mq_open",
                # one processor: threads cannot spread over the others
                "sched_setaffinity")


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
    # No socket at all: a Unix one reaches any listening path it can name (a Docker, D-Bus or
    # agent socket), which Landlock does not confine. It talks to the grader over its pipes.
    rules.add_rule(seccomp.ERRNO(errno.EACCES), "socket")
    # Signals to itself only (its time limit is a SIGALRM), whatever Landlock's ABI scopes.
    me = os.getpid()
    for name in ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"):
        rules.add_rule(denied, name, seccomp.Arg(0, seccomp.NE, me))
    for name in ("tkill", "pidfd_open", "pidfd_send_signal"):
        rules.add_rule(denied, name)
    return rules


def confine_self(scratch: Path, limits: Limits = LIMITS) -> list[tuple[Gap, str]]:
    """Confine this process (see the module docstring); what could not be done in full."""
    missing: list[tuple[Gap, str]] = []
    for name, kind, value in (("address space", resource.RLIMIT_AS, limits.student_memory),
                              ("core dumps", resource.RLIMIT_CORE, 0),
                              ("file size", resource.RLIMIT_FSIZE, limits.file_size),
                              ("open files", resource.RLIMIT_NOFILE, limits.open_files),
                              ("CPU time", resource.RLIMIT_CPU, limits.cpu_seconds)):
        try:
            lowered = set_limit(kind, value, name)
        except (ValueError, OSError) as error:
            missing.append((Gap.LIMIT, f"resource limit of {name} not set ({error})"))
        else:
            if lowered:
                missing.append((Gap.LOWERED, lowered))
    try:
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
    except OSError as error:
        missing.append((Gap.PRIVILEGES, f"no_new_privs ({error.strerror})"))
    try:
        system_calls = system_call_filter()
    except OSError as error:
        system_calls = None
        missing.append((Gap.SECCOMP, "no seccomp filter: processes and sockets are not blocked "
                        f"({error.strerror or error})"))
    try:
        restrict_files(scratch)
    except OSError as error:
        missing.append((Gap.LANDLOCK, f"file access is not confined by Landlock ({error.strerror or error})"))
    if os.geteuid() == 0:
        try:
            drop_capabilities()
        except OSError as error:
            missing.append((Gap.CAPABILITIES, f"capabilities not dropped ({error.strerror or error})"))
    if system_calls is not None:
        try:
            system_calls.load()
        except Exception as error:  # the kernel refused the filter
            missing.append((Gap.SECCOMP, f"no seccomp filter: processes and sockets are not blocked "
                            f"({error})"))
    return missing


def keep_memory_private() -> None:
    """No other process of the same user may read or write this one's memory (no ptrace, no
    /proc/<pid>/mem): for a grading process, which holds the reference solution."""
    _libc.prctl(4, ctypes.c_ulong(0), 0, 0, 0)  # PR_SET_DUMPABLE


def become_subreaper() -> None:
    """Inherit the processes that descendants detach (to kill them, see the zygote)."""
    _libc.prctl(36, ctypes.c_ulong(1), 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def die_with_parent() -> None:
    """Ask the kernel to kill this process when the grader that started it ends."""
    _prctl(PR_SET_PDEATHSIG, 9)


def _prctl(option: int, value: int) -> None:
    if _libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))
