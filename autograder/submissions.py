"""Who submitted what: the class layout read from the top, and the one notebook per student and
assignment that every path grades.

A class folder is ``<class>/<student>/...``. The student is the first folder below the class
root, whatever the upload holds below it: an upload cannot name another student, however it
nests its folders. Of everything in a student's folder, the notebook graded for an assignment
is the one with the release's file name at the top of the student's folder for it:

    <student>/<assignment>/<release>.ipynb     nbgrader's layout (``01_losses/losses.ipynb``)
    <student>/<release>.ipynb                  an upload of loose files (Gradescope, an LMS)

the first of these that exists. This is nbgrader's own rule, so the command line, ``pytest
--grade``, Gradescope and nbgrader grade the same file. The assignment it is graded as is the
one its place names, provided its code is that assignment's (`autograder.core`). Every other
notebook in the student's folder (a renamed copy, a draft, a notebook in a subfolder) is listed
as not graded, with why, and the student hears of it with their grade; a notebook with a
release's name anywhere deeper (``mallory/01_losses/alice/01_losses/losses.ipynb``) is also
flagged for the instructor. Nothing depends on file dates, which a zip sets freely.

Which folder is the class? The instructor can say (``layout="class"`` or ``"student"``: the
command line's ``--layout``); otherwise a folder given to grade is one student's when it holds an
assignment folder or a release notebook at its top (``alice/``), one student's assignment
folder when it is named like an assignment (``alice/01_losses/``), and a class otherwise. What
cannot be told from a folder is how its upload arranged it: a student's folder that holds only
``alice/01_losses/...`` looks like a class of alice, so every folder read as a class is said
(`Plan.readings`), and re-grading one student's folder is ``--layout student``. A notebook
given on its own is graded whatever its name (the instructor chose it); its student is the
folder above its assignment folder, or the folder holding it.

Files are found without trusting them (`autograder.files`): links are never followed inside a
folder, hidden folders (``.ipynb_checkpoints``) are passed over, and only regular files are read.
"""

from __future__ import annotations

import itertools
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from autograder.files import file_problem
from autograder.flags import Flag, FlagKind
from autograder.limits import LIMITS, Limits
from autograder.results import Skipped
from autograder.text import display_name, one_line

LINK = "a symbolic link (links are not followed)"


def release_names() -> dict[str, str]:
    """assignment id -> the file name of its release notebook (``"losses.ipynb"``)."""
    from autograder.assignments import ASSIGNMENTS

    return {a.id: a.notebook for a in ASSIGNMENTS.values()}


@dataclass(frozen=True)
class Submission:
    """One notebook to grade, and what the class layout says about it.

    Attributes:
        path: the notebook file.
        student: who submitted it, as reports show it (`autograder.text.display_name`).
        assignment: the assignment its place in the layout names; None for a notebook given on
            its own (then its code decides).
        flags: what the layout shows an instructor (a name that needed cleaning, a planted
            notebook elsewhere in the student's folder).
        notes: what the student should hear (other notebooks of theirs that were not graded).
    """

    path: Path
    student: str
    assignment: str | None = None
    flags: tuple[Flag, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass
class Plan:
    """What a class run grades, and every notebook it does not grade with why."""

    submissions: list[Submission] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    readings: list[str] = field(default_factory=list)  # how each folder given was read, when a class


LAYOUTS = ("auto", "class", "student")


def plan(paths: list[str | Path], limits: Limits = LIMITS, *, assignment: str | None = None,
         one_student: bool = False, upload: bool = False, layout: str = "auto") -> Plan:
    """The submissions named by ``paths`` (notebooks or folders; see the module docstring).

    Args:
        paths: what the instructor asked to grade.
        limits: `Limits.submissions` bounds how many notebooks are looked at.
        assignment: grade only this assignment (Gradescope's autograder is one assignment's).
        one_student: each folder is one student's folder (nbgrader's ``submitted/<student>``).
        layout: "class" (each folder is a class), "student" (each is one student's folder, as
            ``one_student``) or "auto" (see the module docstring).
        upload: each folder is one student's upload of loose files (Gradescope's submission
            folder): as ``one_student``, and notes name the graded notebook by its file name.
    Raises:
        FileNotFoundError: a path does not exist.
    """
    result = Plan()
    seen: set[Path] = set()
    for path in map(Path, paths):
        try:
            info = path.lstat()
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: no such file or folder") from None
        if stat.S_ISLNK(info.st_mode) and path.is_dir():  # the instructor may name a link
            info = path.stat()
        if layout not in LAYOUTS:
            raise ValueError(f"unknown layout {layout!r} (one of {', '.join(LAYOUTS)})")
        if stat.S_ISDIR(info.st_mode):
            _plan_folder(path, result, limits, assignment, one_student or upload or layout == "student", seen,
                         upload, layout == "class")
        else:
            _plan_file(path, info, result, seen)
    _flag_shared_files(result)
    return result


def _flag_shared_files(result: Plan) -> None:
    """Flag notebooks of different students that are one file (a hard link an archive made):
    each would earn the other's grade."""
    owners: dict[tuple[int, int], list[int]] = {}
    for index, submission in enumerate(result.submissions):
        try:
            info = submission.path.lstat()
        except OSError:
            continue
        owners.setdefault((info.st_dev, info.st_ino), []).append(index)
    for indices in owners.values():
        students = {result.submissions[i].student for i in indices}
        if len(students) < 2:
            continue
        for i in indices:
            submission = result.submissions[i]
            others = ", ".join(sorted(students - {submission.student}))
            flag = Flag(FlagKind.REVIEW, f"{submission.path.name} of {submission.student} is the same file "
                        f"as {others}'s (a hard link): review by hand")
            result.submissions[i] = replace(submission, flags=(*submission.flags, flag))


def _plan_file(path: Path, info: os.stat_result, result: Plan, seen: set[Path]) -> None:
    reason = file_problem(info) or (None if path.suffix == ".ipynb" else "not a notebook (.ipynb)")
    student = student_of_file(path)
    if reason:
        result.skipped.append(Skipped(str(path), display_name(student), f"skipped, {reason}"))
    elif path.absolute() not in seen:
        seen.add(path.absolute())
        result.submissions.append(_submission(path, student, None, [], []))


def student_of_file(path: Path) -> str:
    """The student of a notebook given on its own: the folder above its assignment folder, or
    the folder holding it."""
    from autograder.assignments import ASSIGNMENTS

    folder = Path(path).absolute().parent
    if folder.name in ASSIGNMENTS and folder.parent.name:
        return folder.parent.name
    return folder.name


def _plan_folder(root: Path, result: Plan, limits: Limits, assignment: str | None, one_student: bool,
                 seen: set[Path], upload: bool, a_class: bool) -> None:
    names = release_names()
    wanted = [assignment] if assignment else list(names)
    if root.absolute().name in names and not one_student and not a_class:  # alice/01_losses/ given
        _plan_student(root.absolute().parent.name, root, result, limits, [root.absolute().name], seen,
                      assignment_folder=root)
        return
    if one_student or (not a_class and _is_student_folder(root, names)):
        _plan_student(root.absolute().name, root, result, limits, wanted, seen, short_names=upload)
        return
    students = []
    for entry in _entries(root, result, student=None):
        if entry.is_dir(follow_symlinks=False):
            students.append(display_name(entry.name))
            _plan_student(entry.name, Path(entry.path), result, limits, wanted, seen)
        elif entry.is_symlink():
            result.skipped.append(Skipped(entry.path, None, f"skipped, {LINK}"))
        elif entry.name.endswith(".ipynb"):
            result.skipped.append(Skipped(entry.path, None, "skipped, not in a student's folder "
                                          "(a class folder holds <student>/<assignment>/<notebook>)"))
    shown = ", ".join(students[:5]) + (f" and {len(students) - 5:,} more" if len(students) > 5 else "")
    result.readings.append(f"{one_line(root, 300)}: read as a class of {len(students):,} student folders"
                           f"{': ' + shown if students else ''} (if it is one student's folder, grade it "
                           "with the layout 'student')")



def _is_student_folder(folder: Path, names: dict[str, str]) -> bool:
    """Whether ``folder`` holds an assignment folder or a release notebook at its top."""
    return any((folder / a).is_dir() and not (folder / a).is_symlink() for a in names) or any(
        (folder / n).is_file() and not (folder / n).is_symlink() for n in names.values())


def _entries(folder: Path, result: Plan, student: str | None, most: int | None = None) -> list[os.DirEntry]:
    """The entries of ``folder`` in name order (at most ``most`` of them, read in the file
    system's order), hidden ones left out; a folder that cannot be listed is noted."""
    try:
        with os.scandir(folder) as listing:
            entries = [e for e in itertools.islice(listing, most) if not e.name.startswith(".")]
    except OSError as error:
        result.skipped.append(Skipped(str(folder), student, f"skipped, cannot be listed ({error.strerror})"))
        return []
    return sorted(entries, key=lambda e: e.name)


# What one student's folder can add to the reports, however many files it holds.
LISTED_PER_STUDENT = 20  # files not graded, listed one by one
NOTES_PER_ASSIGNMENT = 5  # of those, named in the student's feedback
PLANTED_PER_STUDENT = 3  # flags for release-named notebooks deeper down


def _plan_student(raw_name: str, folder: Path, result: Plan, limits: Limits, wanted: list[str],
                  seen: set[Path], assignment_folder: Path | None = None, short_names: bool = False) -> None:
    """The submissions of one student's folder (``assignment_folder``: only that one). Notes name
    the graded place by its file name alone with ``short_names`` (an upload of loose files)."""
    short_names = short_names or assignment_folder is not None
    student = display_name(raw_name)
    names = release_names()
    notebooks, problems = _notebooks_below(folder, result, limits, student)
    readable = set(notebooks)
    chosen: dict[str, Path] = {}
    for assignment in wanted:
        for place in _places(folder, assignment, assignment_folder is not None):
            if place in problems:
                break  # a link or a pipe where the notebook should be: skipped, with why
            if place in readable:
                chosen[assignment] = place
                break
    skipped: list[Skipped] = []
    planted: list[Flag] = []
    notes: dict[str, list[str]] = {a: [] for a in chosen}
    for notebook in notebooks:
        if notebook in chosen.values():
            continue
        relative = notebook.relative_to(folder)
        about = [relative.parts[0]] if relative.parts[0] in names else list(chosen) or wanted
        graded_instead = " or ".join(_place(a, short_names) for a in about)
        skipped.append(Skipped(str(notebook), student, f"not graded: only {graded_instead} is graded"))
        if notebook.name in names.values() and len(relative.parts) > 1 + (relative.parts[0] in names):
            planted.append(Flag(FlagKind.PLANTED, f"{student}'s folder holds another {notebook.name} in "
                                f"{relative.parent}: not graded; review by hand"))
        for assignment in (a for a in about if a in chosen):
            notes[assignment].append(f"{relative} was not graded: only {_place(assignment, short_names)} is "
                                     "(rename or move your notebook to submit it)")
    skipped += [Skipped(str(path), student, f"skipped, {problem}") for path, problem in problems.items()]
    result.skipped += _bounded(skipped, LISTED_PER_STUDENT, lambda more: Skipped(
        str(folder), student, f"and {more:,} more files of {student}'s folder were not graded"))
    planted = _bounded(planted, PLANTED_PER_STUDENT, lambda more: Flag(
        FlagKind.PLANTED, f"{student}'s folder holds {more:,} more notebooks named as released, deeper down"))
    for assignment, path in chosen.items():
        if path.absolute() not in seen:
            seen.add(path.absolute())
            shown = _bounded(notes[assignment], NOTES_PER_ASSIGNMENT,
                             lambda more: f"and {more:,} more notebooks were not graded")
            result.submissions.append(_submission(path, raw_name, assignment, planted, shown))


def _bounded(items: list, most: int, summary: Callable[[int], object]) -> list:
    """``items``, or its first ``most - 1`` and a summary of the rest."""
    return items if len(items) <= most else [*items[: most - 1], summary(len(items) - most + 1)]


def _places(folder: Path, assignment: str, in_assignment_folder: bool) -> list[Path]:
    """Where the notebook of ``assignment`` is read in a student's folder, in order."""
    release = release_names()[assignment]
    return [folder / release] if in_assignment_folder else [folder / assignment / release, folder / release]


def _place(assignment: str, short: bool) -> str:
    release = release_names()[assignment]
    return release if short else f"{assignment}/{release}"


def _notebooks_below(folder: Path, result: Plan, limits: Limits, student: str,
                     ) -> tuple[list[Path], dict[Path, str]]:
    """(the regular ``.ipynb`` files below ``folder``, in path order; the other entries named
    ``.ipynb`` with why they cannot be read). Links are never followed."""
    notebooks: list[Path] = []
    problems: dict[Path, str] = {}
    pending = [folder]
    budget = limits.submissions  # entries looked at in one student's folder
    while pending:
        current = pending.pop()
        folders = []
        entries = _entries(current, result, student, most=budget + 1)
        budget -= len(entries)
        for entry in entries:
            path = Path(entry.path)
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                folders.append(path)
            elif entry.name.endswith(".ipynb"):
                problem = file_problem(info)
                if problem:
                    problems[path] = problem
                else:
                    notebooks.append(path)
        if budget < 0:
            looked = f"stopped looking after {limits.submissions:,} files and folders"
            result.skipped.append(Skipped(str(folder), student, looked))
            break
        pending.extend(reversed(folders))
    return sorted(notebooks, key=str), problems


def _submission(path: Path, raw_name: str, assignment: str | None, flags: list[Flag],
                notes: list[str]) -> Submission:
    student = display_name(raw_name)
    if student != raw_name:
        flags = [*flags, Flag(FlagKind.NAME_CLEANED, f"the folder name of {student} holds control or format "
                              "characters (shown escaped): check who this is")]
    return Submission(path, student, assignment, tuple(flags), tuple(notes))
