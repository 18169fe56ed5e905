"""Confine the student's process before it runs any student code.

- Memory: an address-space limit, so a huge allocation fails with MemoryError.
- Files (Linux Landlock, kernel 5.13+): read-only access to the Python installation and the
  ``autograder`` package, read and write in one scratch folder, nothing else. Reading
  ``solutions/`` or writing a results file fails with PermissionError. From Landlock ABI 4
  on, no TCP connections; from ABI 6 on, no signals to processes outside the sandbox.
- Privileges: no new privileges, and when the grader runs as root (Gradescope does), no
  capabilities either.

`confine` reports what it could not do (an older kernel, a container that blocks the
system calls) instead of failing: the process boundary still protects the grade.
"""

from __future__ import annotations

import ctypes
import os
import resource
import sys
import sysconfig
from pathlib import Path

MEMORY_LIMIT = 4 * 2**30  # bytes of address space for the student's process

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


def readable_roots() -> list[Path]:
    """Where the student's process may read: Python, its packages, and ``autograder``."""
    paths = {Path(sysconfig.get_path(key)) for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths |= {Path(sys.base_prefix) / "lib", Path(sys.prefix) / "lib", Path(__file__).parents[1]}
    paths |= {Path(p) for p in ("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/share/zoneinfo")}
    return sorted(p for p in paths if p.exists())


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
        rules = [(root, READ_FILE | READ_DIR) for root in readable_roots()]
        rules += [(scratch, fs_rights), (Path("/dev/null"), READ_FILE | (1 << 1))]
        for path, rights in rules:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
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


def confine(scratch: Path) -> list[str]:
    """Confine this process (see the module docstring); what could not be done, in words."""
    missing = []
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
    except OSError as error:
        missing.append(f"no_new_privs ({error.strerror})")
    try:
        restrict_files(scratch)
    except OSError as error:
        missing.append(f"file access is not confined ({error.strerror or error})")
    if os.geteuid() == 0:
        try:
            drop_capabilities()
        except OSError as error:
            missing.append(f"capabilities not dropped ({error.strerror or error})")
    return missing


def die_with_parent() -> None:
    """Ask the kernel to kill this process when the grader that started it ends."""
    _prctl(PR_SET_PDEATHSIG, 9)


def _prctl(option: int, value: int) -> None:
    if _libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, os.strerror(error))
