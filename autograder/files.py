"""Read submitted notebooks without trusting the files.

A class folder may hold anything an LMS download or a zip can: folders named ``*.ipynb``,
symbolic links (to ``/dev/zero``, to ``solutions/``, out of the class), FIFOs, empty or
huge files. `file_problem` says why an entry cannot be a submission (the class policy,
`autograder.submissions`, finds them without following links and reports each in one line);
`read_notebook_bytes` never opens anything but a regular file and never reads more than
`Limits.notebook_bytes`.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from autograder.errors import NotebookError
from autograder.limits import LIMITS, Limits


def file_problem(info: os.stat_result) -> str | None:
    """Why a file with this ``lstat`` cannot be a submission, or None."""
    mode = info.st_mode
    if stat.S_ISLNK(mode):
        return "a symbolic link (links are not followed)"
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        return "a pipe or socket, not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a file"
    if not stat.S_ISREG(mode):
        return "not a regular file"
    if info.st_size == 0:
        return "empty"
    return None


def read_notebook_bytes(path: str | Path, limits: Limits = LIMITS) -> bytes:
    """The bytes of the notebook file at ``path``, read safely (see the module docstring).

    Raises NotebookError with a one-line reason.
    """
    path = Path(path)
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise NotebookError(f"{path}: no such file") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise NotebookError(f"{path}: a symbolic link (links are not followed)") from None
        raise NotebookError(f"{path}: cannot be read ({error.strerror})") from None
    try:
        info = os.fstat(fd)
        reason = file_problem(info)
        if reason:
            raise NotebookError(f"{path}: {reason}")
        if info.st_size > limits.notebook_bytes:
            raise NotebookError(
                f"{path}: too large to be a notebook ({info.st_size / 2**20:.1f} MB; the limit is "
                f"{limits.notebook_bytes / 2**20:g} MB): clear the outputs and save it again"
            )
        chunks, size = [], 0
        while size <= limits.notebook_bytes:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limits.notebook_bytes:
            raise NotebookError(f"{path}: grew past {limits.notebook_bytes / 2**20:g} MB while being read")
        return b"".join(chunks)
    except OSError as error:
        raise NotebookError(f"{path}: cannot be read ({error.strerror})") from None
    finally:
        os.close(fd)
