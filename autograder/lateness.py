"""When a submission was handed in, how late that is, and what it costs.

Every path applies one late policy, read from the course file (`autograder.course`): the
command line, ``pytest --grade`` and Gradescope through the class run
(`autograder.classrun.grade_class`), nbgrader through its late-penalty plugin
(`autograder.nbgrader_term.CourseLatePenalty`). They all call `LatePolicy.penalty`.

The time of a submission is the one a system recorded, never a file's date (which a zip or a
copy sets freely):

- nbgrader's ``timestamp.txt``, which ``nbgrader collect`` and ``zip_collect`` write into each
  submission folder (``submitted/<student>/<assignment>/timestamp.txt``), read as nbgrader
  reads it (`read_timestamp`);
- Gradescope's ``created_at`` (``/autograder/submission_metadata.json``);
- a submission-times file the instructor exported from an LMS (`read_times`).

A submission with none of these has "no recorded time": it is never penalised, and every
report says so.
"""

from __future__ import annotations

import csv
import math
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import Enum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY, HOUR = 86_400.0, 3_600.0
TIMESTAMP_BYTES = 200  # a timestamp.txt is one short line; anything longer is not one


class LateStatus(Enum):
    """How a submission stands against its due date."""

    NO_TIME = "no recorded time"  # a due date, but no system recorded when it was handed in
    ON_TIME = "on time"  # before the due date, or within the grace period
    LATE = "late"
    NOT_ACCEPTED = "not accepted"  # after the late due date: scores 0


@dataclass(frozen=True)
class LatePolicy:
    """What handing in late costs, as fractions of the assignment's points.

    Attributes:
        grace: seconds after the due date that still count as on time.
        per_day: points lost per day late or part of a day, as a fraction of the maximum.
        per_hour: the same per hour late or part of an hour (one of the two, or neither).
        most: the largest penalty, as a fraction of the maximum.
        zero: any late submission scores 0 (then the rates do not apply).
    Lateness is measured from the due date itself, grace or not. A penalty never exceeds the
    score earned (a score does not go below 0).
    """

    grace: float = 0.0
    per_day: float = 0.0
    per_hour: float = 0.0
    most: float = 1.0
    zero: bool = False

    def penalty(self, seconds_late: float, score: float, max_score: float) -> float:
        """The points a submission ``seconds_late`` after its due date loses (0 when on time)."""
        if seconds_late <= self.grace or seconds_late <= 0:
            return 0.0
        if self.zero:
            fraction = 1.0
        elif self.per_hour:
            fraction = self.per_hour * math.ceil(seconds_late / HOUR)
        else:
            fraction = self.per_day * math.ceil(seconds_late / DAY)
        points = min(fraction, self.most) * max_score
        return round(max(0.0, min(points, score)), 6)

    def describe(self) -> str:
        """The policy in words, for the people it applies to."""
        if self.zero:
            rule = "a late submission scores 0"
        elif self.per_day or self.per_hour:
            rate, unit = (self.per_hour, "hour") if self.per_hour else (self.per_day, "day")
            article = "an" if unit == "hour" else "a"
            rule = f"{_percent(rate)} of the points per {unit} late or part of {article} {unit}"
            if self.most < 1:
                rule += f", at most {_percent(self.most)}"
        else:
            rule = "no penalty"
        if self.grace:
            rule += f" (after a grace period of {duration(self.grace)})"
        return rule


@dataclass(frozen=True)
class Recorded:
    """When a system recorded a submission: ``at`` (aware) and which system (``source``)."""

    at: datetime
    source: str


@dataclass(frozen=True)
class Lateness:
    """A submission against its due date: every report shows this.

    Attributes:
        status: see `LateStatus`.
        due: the due date (aware).
        penalty: points taken off the score.
        submitted_at: the recorded time (None: no recorded time).
        source: who recorded it ("nbgrader", "Gradescope", "submission times file").
        seconds_late: how long after the due date (0 when on time).
        late_due: after this, submissions are not accepted (None: no such date).
        policy: the policy in words.
    """

    status: LateStatus
    due: datetime
    penalty: float = 0.0
    submitted_at: datetime | None = None
    source: str | None = None
    seconds_late: float = 0.0
    late_due: datetime | None = None
    policy: str = ""

    def text(self) -> str:
        """One line for every report (and for the student)."""
        due = f"due {when(self.due)}"
        if self.status is LateStatus.NO_TIME:
            return f"{due}; no recorded submission time, so no late penalty"
        submitted = f"submitted {when(self.submitted_at)} ({self.source})"
        if self.status is LateStatus.ON_TIME:
            after = f", {duration(self.seconds_late)} after it, within the grace period"
            return f"{submitted}, {due}: on time{after if self.seconds_late else ''}"
        late = f"{duration(self.seconds_late)} late"
        if self.status is LateStatus.NOT_ACCEPTED:
            return (f"{submitted}, {due}: {late}, after the last date for late submissions "
                    f"({when(self.late_due)}): not accepted, penalty {_points(self.penalty)}")
        return f"{submitted}, {due}: {late}, penalty {_points(self.penalty)} ({self.policy})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value, "penalty": self.penalty, "seconds_late": round(self.seconds_late, 3),
            "submitted_at": _iso(self.submitted_at), "source": self.source, "due": _iso(self.due),
            "late_due": _iso(self.late_due), "policy": self.policy, "text": self.text(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Lateness:
        return cls(
            status=LateStatus(data["status"]), due=datetime.fromisoformat(data["due"]),
            penalty=float(data.get("penalty", 0.0)),
            submitted_at=_from_iso(data.get("submitted_at")), source=data.get("source"),
            seconds_late=float(data.get("seconds_late", 0.0)), late_due=_from_iso(data.get("late_due")),
            policy=str(data.get("policy", "")),
        )


def assess(recorded: Recorded | None, due: datetime, policy: LatePolicy, score: float, max_score: float,
           late_due: datetime | None = None) -> Lateness:
    """How a submission recorded at ``recorded`` stands against ``due``, and its penalty on
    ``score`` (out of ``max_score``). No recorded time: no penalty."""
    if recorded is None:
        return Lateness(LateStatus.NO_TIME, due, late_due=late_due, policy=policy.describe())
    seconds = max(0.0, (recorded.at - due).total_seconds())
    common = dict(due=due, submitted_at=recorded.at, source=recorded.source, seconds_late=seconds,
                  late_due=late_due, policy=policy.describe())
    if late_due is not None and recorded.at > late_due:
        return Lateness(LateStatus.NOT_ACCEPTED, penalty=round(max(score, 0.0), 6), **common)
    penalty = policy.penalty(seconds, score, max_score)
    status = LateStatus.LATE if seconds > policy.grace else LateStatus.ON_TIME
    return Lateness(status, penalty=penalty, **common)


# --- recorded times ------------------------------------------------------------------------------


class TimesError(ValueError):
    """A submission-times file that cannot be read (one line saying where and why)."""


def read_timestamp(folder: Path) -> Recorded | None:
    """The time nbgrader recorded for the submission in ``folder`` (its ``timestamp.txt``), or
    None when there is none. Read as nbgrader's ``parse_utc`` reads it: ``2025-02-07
    23:59:00.123456 UTC`` (nbgrader collect), ISO 8601 with or without an offset (zip_collect);
    a time without a zone is UTC. A link, an oversized or an unreadable file counts as none.

    Raises:
        ValueError: the file holds text that is not a time (nbgrader refuses it too).
    """
    path = Path(folder) / "timestamp.txt"
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > TIMESTAMP_BYTES:
            return None
        with open(path, "rb", opener=lambda p, f: os.open(p, f | os.O_NOFOLLOW | os.O_NONBLOCK)) as f:
            text = f.read(TIMESTAMP_BYTES).decode("utf-8", errors="strict").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not text:
        return None
    return Recorded(parse_time(text, UTC), "nbgrader")


def parse_time(text: str, default_zone: tzinfo) -> datetime:
    """An aware time from ``text``: ISO 8601 (``2025-02-07T23:59:00+01:00``, a space instead of
    the ``T``), or nbgrader's ``2025-02-07 23:59:00.123456 UTC`` form with a zone name at the
    end; a time without a zone is in ``default_zone``.

    Raises:
        ValueError: not such a time (the message says what was expected).
    """
    text = text.strip()
    zone = default_zone
    parts = text.split(" ")
    if len(parts) == 3:
        text = " ".join(parts[:2])
        try:
            zone = ZoneInfo(parts[2])
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {parts[2]!r} in {text!r}") from None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date and time (e.g. 2025-02-07 23:59:00+01:00)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def read_times(path: Path, default_zone: tzinfo) -> dict[tuple[str, str], Recorded]:
    """(student, assignment) -> when the LMS recorded it, from a CSV with the columns
    ``student``, ``assignment`` and ``submitted_at`` (times without an offset are in
    ``default_zone``). The student is named as the class layout names them (their folder).

    Raises:
        TimesError: the file cannot be read, lacks a column, or holds a bad row.
    """
    times: dict[tuple[str, str], Recorded] = {}
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = {"student", "assignment", "submitted_at"} - {c.strip() for c in reader.fieldnames or []}
            if missing:
                raise TimesError(f"{path}: no column {', '.join(sorted(missing))} "
                                 "(expected student, assignment, submitted_at)")
            for line, row in enumerate(reader, start=2):
                row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if isinstance(v, str)}
                if not row.get("submitted_at"):
                    continue  # no time recorded for this one
                try:
                    at = parse_time(row["submitted_at"], default_zone)
                except ValueError as error:
                    raise TimesError(f"{path}, line {line}: {error}") from None
                times[(row["student"], row["assignment"])] = Recorded(at, "submission times file")
    except OSError as error:
        raise TimesError(f"{path}: {error.strerror or error}") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise TimesError(f"{path}: not a CSV file in UTF-8 ({error})") from None
    return times


# --- words -----------------------------------------------------------------------------------------


def duration(seconds: float) -> str:
    """``seconds`` in the two largest units that matter: "2 days 3 h", "5 h 12 min", "40 s"."""
    seconds = int(round(seconds))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "day" if days == 1 else "days"), (hours, "h"), (minutes, "min"), (secs, "s")]
    shown = [f"{n} {unit}" for n, unit in parts if n][:2]
    return " ".join(shown) or "0 s"


def when(moment: datetime | None) -> str:
    """A time as reports show it: to the minute, with its offset (``2025-02-07 23:59 +01:00``)."""
    if moment is None:
        return "unknown"
    offset = moment.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}" if offset else ""
    return f"{moment:%Y-%m-%d %H:%M} {offset}".strip()


def _percent(fraction: float) -> str:
    return f"{fraction * 100:g}%"


def _points(points: float) -> str:
    return f"{round(points, 2):g} point" + ("" if points == 1 else "s")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _from_iso(text: Any) -> datetime | None:
    return None if not text else datetime.fromisoformat(str(text))
