"""Find and read submitted notebooks without trusting the files.

A class folder may hold anything an LMS download or a zip can: folders named ``*.ipynb``,
symbolic links (to ``/dev/zero``, to ``solutions/``, out of the class), FIFOs, empty or
huge files. The grader never follows a link inside a folder it searches, never opens anything
but a regular file, never reads more than `Limits.notebook_bytes`, and reports each file it
skips in one line, so the rest of the class is graded.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from autograder.errors import NotebookError
from autograder.limits import LIMITS, Limits


@dataclass
class Found:
    """What a search for notebooks found: the notebooks, and what it skipped and why."""

    notebooks: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def find_notebooks(paths: list[str | Path], limits: Limits = LIMITS) -> Found:
    """The notebooks named by ``paths``: files, or folders searched recursively.

    A path given explicitly may be a link to a folder (the instructor chose it); inside a
    folder, links are never followed. Raises FileNotFoundError for a path that does not exist.
    """
    found = Found()
    for path in map(Path, paths):
        try:
            info = path.lstat()
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: no such file or folder") from None
        if stat.S_ISLNK(info.st_mode) and path.is_dir():
            info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            _search(path, found, limits)
        else:
            _consider(path, info, found)
    return found


def _search(folder: Path, found: Found, limits: Limits) -> None:
    """Add the notebooks under ``folder`` (in path order) to ``found``."""
    here = Found(skipped=found.skipped)
    _walk(folder, here, limits, already=len(found.notebooks))
    found.notebooks += sorted(here.notebooks, key=str)


def _walk(folder: Path, found: Found, limits: Limits, already: int) -> None:
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError as error:
            found.skipped.append(f"{current}: skipped, cannot be listed ({error.strerror})")
            continue
        folders = []
        for entry in entries:
            if entry.name.startswith(".") and entry.name != ".":
                continue  # .ipynb_checkpoints, .git, editors' files
            path = Path(entry.path)
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                folders.append(path)
            elif path.suffix == ".ipynb":
                _consider(path, info, found)
            if already + len(found.notebooks) >= limits.submissions:
                found.skipped.append(f"{folder}: stopped after {limits.submissions:,} notebooks")
                return
        pending.extend(reversed(folders))


def _consider(path: Path, info: os.stat_result, found: Found) -> None:
    reason = file_problem(info)
    if path.suffix != ".ipynb":
        reason = reason or "not a notebook (.ipynb)"
    if reason:
        found.skipped.append(f"{path}: skipped, {reason}")
    else:
        found.notebooks.append(path)


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
