"""The class roster: who is in the class, by the name of their folder, with what the LMS knows.

The roster is an optional CSV file the instructor makes (named in the course file,
`autograder.course`). Its columns are nbgrader's student columns, so the same file also goes
into nbgrader's gradebook as it is (``nbgrader db student import roster.csv``), plus the
section and the SIS ids Canvas's grade import matches students by:

    id,first_name,last_name,email,lms_user_id,sis_user_id,sis_login_id,section
    alice,Alice,Liddell,alice@example.edu,48213,S1001,aliddell,Section A

``id`` is required: the student as the class layout names them (their folder under the class
folder, nbgrader's student id). ``name`` may stand for first and last name together. Other
columns are ignored. Who a submission belongs to still comes only from the class layout
(`autograder.submissions`): the roster adds names to the students found there, and says who
handed in nothing and which folders are not on it.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from autograder.text import display_name

COLUMNS = ("id", "first_name", "last_name", "email", "lms_user_id", "sis_user_id", "sis_login_id", "section")
ROSTER_BYTES = 16 * 2**20  # a roster of tens of thousands of students is far smaller


class RosterError(ValueError):
    """A roster that cannot be read (one line saying where and why)."""


@dataclass(frozen=True)
class RosterEntry:
    """One student of the roster (every field but ``id`` may be empty)."""

    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    lms_user_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    name_given: str = ""  # the ``name`` column, when the roster has one

    @property
    def name(self) -> str:
        """The name to show: "First Last", the ``name`` column, or the id."""
        return self.name_given or " ".join(p for p in (self.first_name, self.last_name) if p) or self.id

    @property
    def sortable_name(self) -> str:
        """"Last, First", as Canvas lists students (or `name` when there are not both)."""
        if self.first_name and self.last_name:
            return f"{self.last_name}, {self.first_name}"
        return self.name

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "name_given"}
        return data | {"name": self.name}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RosterEntry:
        known = {f.name for f in fields(cls)} - {"name_given"}
        entry = cls(**{k: str(v) for k, v in data.items() if k in known and v is not None})
        joined = " ".join(p for p in (entry.first_name, entry.last_name) if p) or entry.id
        name = str(data.get("name") or "")
        return entry if name in ("", joined) else cls(**{**asdict(entry), "name_given": name})


@dataclass(frozen=True)
class Roster:
    """The students of the class, by id (their folder name, as reports show it)."""

    entries: dict[str, RosterEntry] = field(default_factory=dict)

    def get(self, student: str) -> RosterEntry | None:
        """The entry of ``student`` (named as the class layout names them), or None."""
        return self.entries.get(student)

    def __contains__(self, student: str) -> bool:
        return student in self.entries

    def __len__(self) -> int:
        return len(self.entries)


def read_roster(path: Path) -> Roster:
    """The roster in the CSV file ``path`` (UTF-8, a byte-order mark allowed).

    Raises:
        RosterError: the file cannot be read, has no ``id`` column, or a row has an empty or
            repeated id.
    """
    path = Path(path)
    try:
        if path.stat().st_size > ROSTER_BYTES:
            raise RosterError(f"{path}: larger than {ROSTER_BYTES // 2**20} MB: not a roster")
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [(c or "").strip().lower() for c in reader.fieldnames or []]
            if "id" not in header:
                raise RosterError(f"{path}: no 'id' column (the student's folder name); expected the "
                                  f"columns {', '.join(COLUMNS)}")
            reader.fieldnames = header
            entries: dict[str, RosterEntry] = {}
            for line, row in enumerate(reader, start=2):
                values = {k: (v or "").strip() for k, v in row.items() if k and isinstance(v, str)}
                if not any(values.values()):
                    continue  # a blank line
                student = values.get("id", "")
                if not student:
                    raise RosterError(f"{path}, line {line}: no id")
                shown = display_name(student)  # as the class layout names the folder
                if shown in entries:
                    raise RosterError(f"{path}, line {line}: {shown} is listed twice")
                entries[shown] = RosterEntry(
                    id=shown, name_given=values.get("name", ""),
                    **{c: values.get(c, "") for c in COLUMNS if c != "id"})
    except OSError as error:
        raise RosterError(f"{path}: {error.strerror or error}") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise RosterError(f"{path}: not a CSV file in UTF-8 ({error})") from None
    return Roster(entries)


@dataclass(frozen=True)
class Missing:
    """A student of the roster with no graded submission for an assignment of the run (and
    their name on the roster, when it says more than the id)."""

    student: str
    assignment: str
    name: str = ""

    @property
    def who(self) -> str:
        """The student as reports list them: ``carol (Carol Ng)``, or the id alone."""
        return f"{self.student} ({display_name(self.name)})" if self.name else self.student


@dataclass
class RosterSummary:
    """What the roster says about a class run: who handed in nothing, which folders it lacks.

    Attributes:
        students: how many students the roster lists.
        missing: (student, assignment) for each roster student with no graded submission of an
            assignment the run graded.
        not_on_roster: the students of the class layout the roster does not list.
    """

    students: int
    missing: list[Missing] = field(default_factory=list)
    not_on_roster: list[str] = field(default_factory=list)

    def lines(self, roster: Roster | None = None) -> list[str]:
        """What the terminal summary says (names shown as every report shows them)."""
        lines = []
        by_assignment: dict[str, list[str]] = {}
        for m in self.missing:
            entry = roster.get(m.student) if roster else None
            if entry is not None and entry.name != m.student and not m.name:
                m = Missing(m.student, m.assignment, entry.name)
            by_assignment.setdefault(m.assignment, []).append(m.who)
        for assignment, students in by_assignment.items():
            lines.append(f"No submission of {assignment} from {len(students)} student"
                         f"{'' if len(students) == 1 else 's'} of the roster: {_listed(students)}")
        if self.not_on_roster:
            lines.append(f"Not on the roster ({len(self.not_on_roster)}): {_listed(self.not_on_roster)}")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {"students": self.students,
                "missing": [{"student": m.student, "assignment": m.assignment, "name": m.name}
                            for m in self.missing],
                "not_on_roster": list(self.not_on_roster)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RosterSummary:
        return cls(int(data.get("students", 0)),
                   [Missing(str(m["student"]), str(m["assignment"]), str(m.get("name") or ""))
                    for m in data.get("missing", [])],
                   [str(s) for s in data.get("not_on_roster", [])])


LISTED = 40  # names listed in one line of the terminal summary (the results file has all)


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:LISTED])
    return shown + (f" and {len(names) - LISTED:,} more" if len(names) > LISTED else "")


def summarise(roster: Roster, graded: list[tuple[str, str | None]], assignments: list[str]) -> RosterSummary:
    """The roster against a class run.

    Args:
        roster: the class roster.
        graded: (student, assignment) of every result of the run (the assignment None when the
            notebook was not recognised).
        assignments: the assignments the run graded (a roster student lacking one is missing).
    """
    handed_in = {(student, assignment) for student, assignment in graded}
    students = sorted({student for student, _ in graded})
    missing = [Missing(entry, assignment, _name(roster.entries[entry]))
               for assignment in assignments for entry in roster.entries
               if (entry, assignment) not in handed_in]
    return RosterSummary(len(roster), missing, [s for s in students if s not in roster])


def _name(entry: RosterEntry) -> str:
    """The roster's name of a student when it says more than their id."""
    return entry.name if entry.name != entry.id else ""
