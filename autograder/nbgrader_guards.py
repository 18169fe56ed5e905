"""Guards around what nbgrader itself does with an upload, before any preprocessor runs.

nbgrader's converters touch a submission folder in three places that no setting reaches, and
each can be turned against the class by what an upload holds:

- it copies every other file of the folder into the autograded and feedback folders
  (``find_all_files`` + ``shutil.copy``): links are followed (one to ``solutions/`` would be
  handed back to the student with the feedback, one to ``/dev/zero`` never ends), a sparse file
  of no disk becomes gigabytes, and ``os.walk`` recurses, so 1,500 nested folders raise
  RecursionError and the student is dropped;
- it reads ``timestamp.txt`` (``CourseDirectory.get_existing_timestamp``): a pipe blocks the
  whole run, a link to ``/dev/zero`` reads until memory runs out, text that is not a date
  fails the submission;
- it logs file names as they are ("Copying ...", "Skipping unknown notebook: ..."): escape
  sequences reach the instructor's terminal.

`guard_nbgrader`, called from ``nbgrader_config.py``, replaces the first two with bounded
versions and makes every log line visible text (`autograder.text.visible`). The instructor's
source folder is listed by another function of nbgrader's and is not affected.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from datetime import UTC
from typing import Any

from autograder.text import visible

MAX_FILES = 1_000  # other files copied from one submission folder
MAX_FILE_BYTES = 16 * 2**20  # the largest one (as the largest notebook graded)
MAX_TOTAL_BYTES = 64 * 2**20  # all of them together
MAX_DEPTH = 20  # folders below the submission folder (nbgrader makes each with a recursive makedirs)

def guard_nbgrader() -> None:
    """Apply every guard (see the module docstring); calling it again changes nothing."""
    from nbgrader import coursedir
    from nbgrader.converters import base

    if not getattr(base.find_all_files, "guarded", False):
        base.find_all_files = _guarded(copyable_files)
    if not getattr(coursedir.CourseDirectory.get_existing_timestamp, "guarded", False):
        coursedir.CourseDirectory.get_existing_timestamp = _guarded(recorded_timestamp)
    if not getattr(logging.getLogRecordFactory(), "guarded", False):
        logging.setLogRecordFactory(_guarded(_visible_record(logging.getLogRecordFactory())))


def _guarded(function: Callable) -> Callable:
    function.guarded = True  # type: ignore[attr-defined]
    return function


def copyable_files(path: str, exclude: list[str] | None = None) -> list[str]:
    """What nbgrader may copy of the submission folder ``path``: regular files only (no link,
    pipe or device), found without recursion and without following links, bounded in number
    and size, at most `MAX_DEPTH` folders down, and not matching ``exclude`` (nbgrader's
    ignore patterns). What is left out is logged."""
    from nbgrader.utils import is_ignored

    exclude = exclude or []
    kept: list[str] = []
    total, skipped = 0, 0
    pending = [(path, 0)]
    while pending:
        folder, depth = pending.pop()
        if is_ignored(folder, exclude) and folder != path:
            continue
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                if depth < MAX_DEPTH:
                    pending.append((entry.path, depth + 1))
                else:
                    skipped += 1
            elif is_ignored(entry.path, exclude):
                continue
            elif (not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES
                  or total + info.st_size > MAX_TOTAL_BYTES or len(kept) >= MAX_FILES):
                skipped += 1
            else:
                kept.append(entry.path)
                total += info.st_size
    if skipped:
        from traitlets.log import get_logger  # nbgrader's own log

        get_logger().warning("%s: %d other files or folders not copied (links, pipes, devices, deeper than "
                             "%d folders, or beyond %d files of %d MB in all)", path, skipped, MAX_DEPTH,
                             MAX_FILES, MAX_TOTAL_BYTES // 2**20)
    return kept


def recorded_timestamp(self: Any, dest_path: str) -> Any:
    """nbgrader's ``get_existing_timestamp``, read safely: a regular file of a few bytes, no
    link followed; a file that is not one, or text that is not a date, is no timestamp (the
    submission is then graded with no recorded time, and the log says why)."""
    from pathlib import Path

    from autograder.lateness import read_timestamp

    try:
        recorded = read_timestamp(Path(dest_path))
    except ValueError as error:
        self.log.warning("%s: timestamp.txt is not a time (%s): no recorded time", dest_path, error)
        return None
    if recorded is None:
        return None
    return recorded.at.astimezone(UTC).replace(tzinfo=None)  # as nbgrader's parse_utc gives it


def _visible_record(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    """A log-record factory whose records' messages are visible text: file names from an upload
    can hold escape sequences."""
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot be formatted is left for logging to report
            return record
        record.msg, record.args = visible(message), None
        return record

    return make
