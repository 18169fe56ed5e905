"""The class policy (`autograder.submissions.plan`): who a notebook belongs to, which one
notebook per student and assignment is graded, and what every other file is said to be. These
read folders only: no notebook is graded here (the paths' tests grade the same layouts)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from autograder.flags import FlagKind
from autograder.limits import Limits
from autograder.submissions import LISTED_PER_STUDENT, plan

NOTEBOOK = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def put(root: Path, *relatives: str) -> None:
    for relative in relatives:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(NOTEBOOK)


def chosen(found) -> dict[tuple[str, str | None], str]:
    return {(s.student, s.assignment): s.path.as_posix() for s in found.submissions}


def test_the_student_is_the_first_folder_below_the_class_whatever_the_upload_holds(tmp_path):
    put(tmp_path, "alice/01_losses/losses.ipynb", "mallory/01_losses/losses.ipynb",
        "mallory/01_losses/alice/01_losses/losses.ipynb", "mallory/carol/01_losses/losses.ipynb",
        'mallory/=HYPERLINK("x")/01_losses/losses.ipynb', "mallory/alice/losses.ipynb")
    found = plan([tmp_path])
    root = tmp_path.as_posix()
    assert chosen(found) == {("alice", "01_losses"): f"{root}/alice/01_losses/losses.ipynb",
                             ("mallory", "01_losses"): f"{root}/mallory/01_losses/losses.ipynb"}
    (mallory,) = [s for s in found.submissions if s.student == "mallory"]
    assert [f.kind for f in mallory.flags] == [FlagKind.PLANTED] * 3  # the fourth: "and 2 more"
    assert not any(f.students_see for f in mallory.flags)
    assert {s.student for s in found.skipped} == {"mallory"} and len(found.skipped) == 4


@pytest.mark.parametrize("newer", ["losses.ipynb", "losses-Copy1.ipynb"])
def test_the_release_file_name_is_graded_whatever_the_dates(tmp_path, newer):
    put(tmp_path, "ada/01_losses/losses.ipynb", "ada/01_losses/losses-Copy1.ipynb",
        "ada/01_losses/.ipynb_checkpoints/losses-checkpoint.ipynb", "ada/losses.ipynb")
    os.utime(tmp_path / "ada/01_losses" / newer, (time.time() + 1e6, time.time() + 1e6))
    found = plan([tmp_path])
    (submission,) = found.submissions
    assert submission.path == tmp_path / "ada/01_losses/losses.ipynb" and submission.assignment == "01_losses"
    assert sorted(Path(s.path).name for s in found.skipped) == ["losses-Copy1.ipynb", "losses.ipynb"]
    why = "was not graded: only 01_losses/losses.ipynb is (rename or move your notebook to submit it)"
    assert submission.notes == (f"01_losses/losses-Copy1.ipynb {why}", f"losses.ipynb {why}")
    assert submission.flags == ()  # a copy is the student's business, not the instructor's


def test_a_notebook_only_in_a_subfolder_or_renamed_is_not_graded_and_says_where_it_should_be(tmp_path):
    put(tmp_path, "bob/01_losses/my_work/losses.ipynb", "cy/01_losses/losses (1).ipynb")
    found = plan([tmp_path])
    assert found.submissions == []
    reasons = {Path(s.path).relative_to(tmp_path).as_posix(): s.reason for s in found.skipped}
    why = "not graded: only 01_losses/losses.ipynb is graded"
    assert reasons == {"bob/01_losses/my_work/losses.ipynb": why, "cy/01_losses/losses (1).ipynb": why}


def test_a_folder_given_is_a_class_a_student_or_an_assignment_by_what_it_holds(tmp_path):
    put(tmp_path, "class/ann/01_losses/losses.ipynb", "class/ann/02_backprop/backprop.ipynb",
        "class/ben/training.ipynb")
    every = chosen(plan([tmp_path / "class"]))
    assert set(every) == {("ann", "01_losses"), ("ann", "02_backprop"), ("ben", "04_training")}
    assert set(chosen(plan([tmp_path / "class" / "ann"]))) == {("ann", "01_losses"), ("ann", "02_backprop")}
    assert set(chosen(plan([tmp_path / "class" / "ann" / "01_losses"]))) == {("ann", "01_losses")}
    assert set(chosen(plan([tmp_path / "class" / "ben"]))) == {("ben", "04_training")}
    one = plan([tmp_path / "class" / "ann"], assignment="02_backprop", one_student=True)
    assert set(chosen(one)) == {("ann", "02_backprop")}
    assert [Path(s.path).name for s in one.skipped] == ["losses.ipynb"]


def test_a_notebook_given_on_its_own_is_graded_whatever_its_name(tmp_path):
    put(tmp_path, "ann/01_losses/my losses.ipynb")
    (submission,) = plan([tmp_path / "ann" / "01_losses" / "my losses.ipynb"]).submissions
    assert submission.student == "ann" and submission.assignment is None  # its code decides


def test_names_with_control_or_format_characters_are_shown_escaped_and_flagged(tmp_path):
    for name in ("ecila\u202e", "al\u200bice", "esc\x1b[2J", os.fsdecode(b"\xffbytes")):
        put(tmp_path, f"{name}/01_losses/losses.ipynb")
    put(tmp_path, "alice/01_losses/losses.ipynb")
    students = {s.student: s for s in plan([tmp_path]).submissions}
    assert set(students) == {"ecila\\u202e", "al\\u200bice", "esc\\x1b[2J", "\\xffbytes", "alice"}
    cleaned = [s for name, s in students.items() if name != "alice"]
    assert all([f.kind for f in s.flags] == [FlagKind.NAME_CLEANED] for s in cleaned)
    assert students["alice"].flags == ()


def test_links_pipes_and_oddities_are_skipped_with_why(tmp_path):
    put(tmp_path, "ann/01_losses/real.ipynb")
    os.symlink(tmp_path / "ann/01_losses/real.ipynb", tmp_path / "ann/01_losses/losses.ipynb")
    os.mkfifo(tmp_path / "ann/losses.ipynb")
    (tmp_path / "bob" / "01_losses" / "losses.ipynb").mkdir(parents=True)
    os.symlink(tmp_path / "ann", tmp_path / "carl")
    found = plan([tmp_path])
    assert found.submissions == []  # a link where the notebook should be is never followed
    reasons = {Path(s.path).relative_to(tmp_path).as_posix(): s.reason for s in found.skipped}
    assert reasons["ann/01_losses/losses.ipynb"] == "skipped, a symbolic link (links are not followed)"
    assert reasons["ann/losses.ipynb"] == "skipped, a pipe or socket, not a file"
    assert "carl" not in {s.student for s in found.skipped}


def test_one_student_adds_a_bounded_amount_to_the_reports(tmp_path):
    put(tmp_path, "ann/01_losses/losses.ipynb", *(f"ann/01_losses/copy{i}.ipynb" for i in range(200)),
        *(f"ann/deep{i}/01_losses/losses.ipynb" for i in range(50)), "bob/01_losses/losses.ipynb")
    found = plan([tmp_path])
    ann = [s for s in found.skipped if s.student == "ann"]
    assert len(ann) == LISTED_PER_STUDENT
    assert ann[-1].reason == "and 231 more files of ann's folder were not graded"
    (submission,) = [s for s in found.submissions if s.student == "ann"]
    assert len(submission.notes) == 5 and submission.notes[-1] == "and 246 more notebooks were not graded"
    assert len(submission.flags) == 3 and "48 more notebooks" in submission.flags[-1].text
    assert ("bob", "01_losses") in chosen(found)


def test_a_folder_too_large_to_read_is_looked_at_up_to_a_limit(tmp_path):
    put(tmp_path, "ann/01_losses/losses.ipynb", *(f"ann/x/{i}.txt" for i in range(30)))
    found = plan([tmp_path], Limits(submissions=10))
    assert any(s.reason == "stopped looking after 10 files and folders" for s in found.skipped)


def test_one_file_shared_by_two_students_is_flagged_and_a_linked_student_folder_is_named(tmp_path):
    put(tmp_path, "ann/01_losses/losses.ipynb", "cy/01_losses/losses.ipynb")
    (tmp_path / "bob" / "01_losses").mkdir(parents=True)
    os.link(tmp_path / "ann/01_losses/losses.ipynb", tmp_path / "bob/01_losses/losses.ipynb")
    os.symlink(tmp_path / "cy", tmp_path / "dan")
    found = plan([tmp_path])
    flags = {s.student: [f.text for f in s.flags] for s in found.submissions}
    assert flags == {"ann": ["losses.ipynb of ann is the same file as bob's (a hard link): review by hand"],
                     "bob": ["losses.ipynb of bob is the same file as ann's (a hard link): review by hand"],
                     "cy": []}
    assert [(s.path, s.reason) for s in found.skipped] == [
        (str(tmp_path / "dan"), "skipped, a symbolic link (links are not followed)")]


def test_names_differing_only_in_white_space_never_look_the_same(tmp_path):
    put(tmp_path, "alice/01_losses/losses.ipynb", "alice /01_losses/losses.ipynb",
        "al\u00a0ice/01_losses/losses.ipynb")
    assert sorted(s.student for s in plan([tmp_path]).submissions) == ["al\\xa0ice", "alice", "alice\\x20"]
