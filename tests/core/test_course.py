"""The course file (due dates, late policy, roster, submission times) and the lateness it gives:
read strictly, applied the same way wherever it is applied."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from autograder.course import Course, CourseError, find_course, load_course
from autograder.flags import FlagKind
from autograder.lateness import LatePolicy, LateStatus, Recorded, assess, parse_time, read_timestamp
from autograder.results import CheckResult, SubmissionResult
from autograder.roster import RosterError, read_roster
from autograder.submissions import Submission

PARIS = ZoneInfo("Europe/Paris")
DUE = datetime(2025, 2, 7, 23, 59, tzinfo=PARIS)
DAY = 86_400.0


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def course_file(folder: Path, text: str) -> Path:
    return write(folder, "course.toml", text)


# --- the late policy --------------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "expected"), [
    (0, 0.0), (-5, 0.0), (600, 0.0),  # on time, early, within the 10 minutes of grace
    (601, 2.3), (DAY, 2.3), (DAY + 1, 4.6),  # per day or part of a day, from the due date itself
    (3 * DAY, 6.9), (5 * DAY + 1, 11.5), (30 * DAY, 11.5),  # at most half the points
])
def test_penalty_per_started_day_with_grace_and_a_cap(seconds, expected):
    policy = LatePolicy(grace=600, per_day=0.1, most=0.5)
    assert policy.penalty(seconds, 23, 23) == pytest.approx(expected)


def test_penalty_never_exceeds_the_score_and_zero_takes_everything():
    assert LatePolicy(per_day=0.5).penalty(3 * DAY, score=4, max_score=23) == 4
    assert LatePolicy(zero=True).penalty(1, score=17.5, max_score=23) == 17.5
    assert LatePolicy(per_hour=0.01).penalty(3 * 3600 + 1, 23, 23) == pytest.approx(0.92)
    assert LatePolicy().penalty(10 * DAY, 23, 23) == 0  # no rate: lateness is shown, nothing taken


def test_lateness_against_the_due_and_the_late_due_date():
    policy = LatePolicy(per_day=0.1)
    late_due = DUE + timedelta(days=7)
    on_time = assess(Recorded(DUE - timedelta(hours=1), "nbgrader"), DUE, policy, 20, 23, late_due)
    assert on_time.status is LateStatus.ON_TIME and on_time.penalty == 0 and on_time.seconds_late == 0
    late = assess(Recorded(DUE + timedelta(hours=25), "Gradescope"), DUE, policy, 20, 23, late_due)
    assert (late.status, late.penalty, late.seconds_late) == (LateStatus.LATE, 4.6, 25 * 3600)
    assert "1 day 1 h late, penalty 4.6 points" in late.text() and "(Gradescope)" in late.text()
    refused = assess(Recorded(late_due + timedelta(seconds=1), "nbgrader"), DUE, policy, 20, 23, late_due)
    assert refused.status is LateStatus.NOT_ACCEPTED and refused.penalty == 20
    unknown = assess(None, DUE, policy, 20, 23)
    assert unknown.status is LateStatus.NO_TIME and unknown.penalty == 0
    assert "no recorded submission time, so no late penalty" in unknown.text()


def test_lateness_round_trips_through_the_results_record():
    result = SubmissionResult("a.ipynb", "alice", "01_losses",
                              checks=[CheckResult("mse", "values", 23, score=23)])
    result.late = assess(Recorded(DUE + timedelta(days=2), "nbgrader"), DUE, LatePolicy(per_day=0.1), 23, 23)
    data = result.to_dict()
    assert (data["score"], data["late_penalty"], data["final_score"]) == (23, 4.6, 18.4)
    assert data["late"]["status"] == "late" and data["late"]["due"] == DUE.isoformat()
    again = SubmissionResult.from_dict(data)
    assert again.late == result.late and again.final_score == 18.4


# --- recorded times ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-02-09 10:00:00.000000 UTC", datetime(2025, 2, 9, 10, tzinfo=UTC)),  # nbgrader collect
    ("2025-02-09 11:00:00.5 Europe/Paris", datetime(2025, 2, 9, 10, 0, 0, 500000, tzinfo=UTC)),
    ("2025-02-09 11:00:00+01:00", datetime(2025, 2, 9, 10, tzinfo=UTC)),  # zip_collect, isoformat(" ")
    ("2025-02-09T10:00:00Z", datetime(2025, 2, 9, 10, tzinfo=UTC)),
    ("2025-02-09 10:00:00", datetime(2025, 2, 9, 10, tzinfo=UTC)),  # no zone: UTC, as nbgrader reads it
])
def test_nbgrader_timestamps_are_read_as_nbgrader_reads_them(tmp_path, text, expected):
    write(tmp_path, "timestamp.txt", text + "\n")
    recorded = read_timestamp(tmp_path)
    assert recorded is not None and recorded.at == expected and recorded.source == "nbgrader"


def test_a_timestamp_that_is_no_time_is_refused_and_a_link_is_not_read(tmp_path):
    write(tmp_path, "timestamp.txt", "yesterday")
    with pytest.raises(ValueError, match="not a date and time"):
        read_timestamp(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    write(tmp_path, "real.txt", "2025-02-09 10:00:00 UTC")
    (other / "timestamp.txt").symlink_to(tmp_path / "real.txt")
    assert read_timestamp(other) is None
    assert read_timestamp(tmp_path / "nowhere") is None


def test_the_submission_time_is_recorded_never_the_files_date(tmp_path):
    folder = tmp_path / "class" / "alice" / "01_losses"
    folder.mkdir(parents=True)
    notebook = write(folder, "losses.ipynb", "{}")
    os.utime(notebook, (0, 0))  # a date from 1970: it must not matter
    course = load_course(course_file(tmp_path, "[assignments.01_losses]\ndue = 2025-02-07T23:59:00+01:00\n"))
    submission = Submission(notebook, "alice", "01_losses")
    result = course.apply(SubmissionResult(str(notebook), "alice", "01_losses",
                                           checks=[CheckResult("mse", "v", 2, score=2)]), submission)
    assert result.late.status is LateStatus.NO_TIME and result.penalty == 0
    write(folder, "timestamp.txt", "2025-02-08 09:00:00 UTC")
    result = course.apply(SubmissionResult(str(notebook), "alice", "01_losses",
                                           checks=[CheckResult("mse", "v", 2, score=2)]), submission)
    assert result.late.status is LateStatus.LATE and result.late.submitted_at == parse_time(
        "2025-02-08 09:00:00", UTC)
    alone = Submission(notebook, "alice", None)  # the notebook given on its own: its code names it
    result = course.apply(SubmissionResult(str(notebook), "alice", "01_losses"), alone)
    assert result.late.status is LateStatus.LATE
    write(folder, "timestamp.txt", "not a time")
    result = course.apply(SubmissionResult(str(notebook), "alice", "01_losses"), submission)
    assert result.late.status is LateStatus.NO_TIME and result.has(FlagKind.REVIEW)


def test_a_times_file_gives_the_lms_time_where_nbgrader_recorded_none(tmp_path):
    write(tmp_path, "times.csv", "student,assignment,submitted_at\n"
                                 "alice,01_losses,2025-02-08 10:00\nbob,01_losses,\n")
    course = load_course(course_file(tmp_path, '[course]\ntimezone = "Europe/Paris"\n'
                                     'submission_times = "times.csv"\n'
                                     "[assignments.01_losses]\ndue = 2025-02-07T23:59:00\n"))
    alice = Submission(tmp_path / "alice" / "losses.ipynb", "alice", "01_losses")
    assert course.recorded(alice) == Recorded(datetime(2025, 2, 8, 10, tzinfo=PARIS), "submission times file")
    assert course.recorded(Submission(tmp_path / "bob.ipynb", "bob", "01_losses")) is None
    assert course.term("01_losses").due == DUE


# --- the course file ---------------------------------------------------------------------------


def test_a_whole_course_file(tmp_path):
    write(tmp_path, "roster.csv", "\ufeffid,first_name,last_name,email,lms_user_id,section\n"
                                  "alice,Alice,Liddell,alice@example.edu,48213,A\n\n")
    course = load_course(course_file(tmp_path, """
[course]
timezone = "Europe/Paris"
roster = "roster.csv"
[late]
grace_minutes = 10
penalty_per_day = 0.1
max_penalty = 0.5
[assignments.01_losses]
due = 2025-02-07T23:59:00
late_due = 2025-02-14T23:59:00+01:00
canvas_id = 48213
canvas_name = "Loss functions"
[assignments.02_backprop]
due = 2025-02-21T22:59:00Z
late = { zero = true }
"""))
    losses, backprop = course.term("01_losses"), course.term("02_backprop")
    assert losses.due == DUE and losses.late_due == DUE + timedelta(days=7)
    assert losses.policy == LatePolicy(grace=600, per_day=0.1, most=0.5)
    assert (losses.canvas_id, losses.canvas_name) == ("48213", "Loss functions")
    assert backprop.due == datetime(2025, 2, 21, 22, 59, tzinfo=UTC)
    assert backprop.policy.zero and backprop.policy.grace == 600  # its own policy, on the course's
    assert course.term("03_optimizers").due is None  # no date: nothing is late
    assert course.roster.get("alice").sortable_name == "Liddell, Alice"


@pytest.mark.parametrize(("text", "message"), [
    ("[late]\npenalty_per_days = 0.1\n", "unknown key 'penalty_per_days'"),
    ("[late]\npenalty_per_day = 10\n", "between 0 and 1 (0.1 for 10%)"),
    ("[late]\npenalty_per_day = 0.1\npenalty_per_hour = 0.01\n", "not both"),
    ("[assignments.01_losses]\ndue = 2025-02-07T23:59:00\n", "has no time zone"),
    ("[assignments.01_losses]\ndue = 2025-02-07\n", "a date and a time"),
    ('[assignments.01_losses]\ndue = "tomorrow"\n', "expected a date and time"),
    ("[assignments.09_nothing]\ndue = 2025-02-07T23:59:00Z\n", "no such assignment"),
    ("[assignments.01_losses]\ndue = 2025-02-07T23:59:00Z\nlate_due = 2025-02-01T00:00:00Z\n",
     "late_due needs a due date before it"),
    ('[course]\ntimezone = "Mars/Olympus"\n', "unknown time zone"),
    ('[course]\nroster = "missing.csv"\n', "missing.csv"),
    ("[course\n", "not a TOML file"),
])
def test_a_bad_course_file_is_one_line_naming_what_is_wrong(tmp_path, text, message):
    with pytest.raises(CourseError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        load_course(course_file(tmp_path, text))
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("text", "message"), [
    ("name,email\nAlice,a@x\n", "no 'id' column"),
    ("id,name\nalice,Alice\nalice,Alice again\n", "line 3: alice is listed twice"),
    ("id,name\n,Nobody\n", "line 2: no id"),
])
def test_a_bad_roster_is_refused_with_the_line(tmp_path, text, message):
    with pytest.raises(RosterError, match=message):
        read_roster(write(tmp_path, "roster.csv", text))


def test_roster_names_are_shown_as_text(tmp_path):
    roster = read_roster(write(tmp_path, "roster.csv", "id,name\nalice,Ali\u202ece\n"))
    assert roster.get("alice").name == "Ali\u202ece"  # kept as the instructor wrote it...
    from autograder.roster import Missing, RosterSummary

    line = RosterSummary(1, [Missing("alice", "01_losses")]).lines(roster)[0]
    assert "\u202e" not in line and "Ali\\u202ece" in line  # ...and shown escaped


def test_a_course_file_among_the_submissions_is_refused(tmp_path, monkeypatch):
    upload = tmp_path / "class" / "mallory"
    upload.mkdir(parents=True)
    course_file(upload, "")
    monkeypatch.delenv("AUTOGRADER_COURSE", raising=False)
    monkeypatch.chdir(upload)
    with pytest.raises(CourseError, match="lies among the submissions"):
        find_course([tmp_path / "class"])
    monkeypatch.chdir(tmp_path)
    course_file(tmp_path, "[assignments.01_losses]\ndue = 2025-02-07T23:59:00Z\n")
    assert find_course([tmp_path / "class"]).term("01_losses").due is not None
    assert find_course([tmp_path / "class"], given=upload / "course.toml").assignments == {}


def test_without_a_course_file_nothing_is_late(tmp_path):
    notebook = tmp_path / "alice" / "01_losses" / "losses.ipynb"
    result = Course().apply(SubmissionResult(str(notebook), "alice", "01_losses"),
                            Submission(notebook, "alice", "01_losses"))
    assert result.late is None and result.person is None and result.final_score == 0
