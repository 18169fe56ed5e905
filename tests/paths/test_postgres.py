"""nbgrader with a PostgreSQL gradebook: a throwaway server on loopback, in a temporary folder,
then generate -> autograde -> export against it. SQLite stays the default elsewhere."""

from __future__ import annotations

import csv
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import sqlalchemy
from conftest import SOLUTIONS, require_tool
from nbgrader_course import Course, filled_in

from autograder.assignments import get_assignment

pytestmark = pytest.mark.slow


def server_binaries() -> Path:
    """PostgreSQL's server programs, installing Debian's package when they are missing."""
    def found():
        return sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))

    if not found() and os.geteuid() == 0 and shutil.which("apt-get"):
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-q", "postgresql"], env=env, capture_output=True,
                       timeout=900)
    if not found():
        pytest.skip("PostgreSQL's server (Debian package postgresql) is not installed and cannot be "
                    "installed here")
    return Path(found()[-1]).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    binaries = server_binaries()
    folder = Path(tempfile.mkdtemp(prefix="autograder-pg-"))
    as_postgres = []
    if os.geteuid() == 0:  # the server refuses to run as root
        shutil.chown(folder, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    port, data = free_port(), folder / "data"

    def run(*command):
        result = subprocess.run([*as_postgres, *command], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{command[0]} failed:\n{result.stdout}\n{result.stderr}"

    run(str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust")
    run(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w", "start",
        "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1")
    try:
        run(str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "gradebook")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/gradebook"
    finally:
        run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def test_nbgrader_grades_into_a_postgresql_gradebook(tmp_path, tool_env, postgres_url):
    pytest.importorskip("psycopg", reason="the psycopg driver comes with `pip install -e .[course]`")
    require_tool("nbgrader")
    course = Course(tmp_path, "01_losses", tool_env)
    with open(tmp_path / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.CourseDirectory.db_url = {postgres_url!r}\n")
    course.nbgrader("generate_assignment", "01_losses", "--force")
    course.submit("alice", filled_in(course.release, SOLUTIONS / "01_losses" / "losses.ipynb"))
    course.submit("bob", json.loads(course.release.read_text()))
    course.nbgrader("autograde", "01_losses", "--create")

    total = sum(c.points for c in get_assignment("01_losses").checks())
    assert course.grades() == {"alice": (total, total), "bob": (0.0, total)}
    assert not (tmp_path / "grading" / "gradebook.db").exists(), "the SQLite gradebook was used instead"

    engine = sqlalchemy.create_engine(postgres_url)
    with engine.connect() as connection:
        students = connection.execute(sqlalchemy.text("select id from student order by id")).scalars().all()
    engine.dispose()
    assert students == ["alice", "bob"]


def test_a_term_on_postgresql_names_students_and_exports_for_canvas(tmp_path, tool_env, postgres_url):
    """The roster and the late policy of the course file reach a PostgreSQL gradebook, and the
    Canvas file exported from it is the one exported from the command line's results."""
    pytest.importorskip("psycopg", reason="the psycopg driver comes with `pip install -e .[course]`")
    require_tool("nbgrader")
    from test_term import COURSE, ROSTER, STAMPS

    database = "term"
    binaries = server_binaries()
    url = sqlalchemy.engine.make_url(postgres_url)
    created = subprocess.run([str(binaries / "createdb"), "-h", url.host, "-p", str(url.port),
                              "-U", url.username, database], capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    course = Course(tmp_path, "01_losses", tool_env)
    (tmp_path / "course.toml").write_text(COURSE)
    (tmp_path / "roster.csv").write_text(ROSTER)
    with open(tmp_path / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.CourseDirectory.db_url = {url.set(database=database).render_as_string(False)!r}\n")
    course.nbgrader("generate_assignment", "01_losses", "--force")
    alice = course.submit("alice", filled_in(course.release, SOLUTIONS / "01_losses" / "losses.ipynb"))
    (alice.parent / "timestamp.txt").write_text(STAMPS["alice"])
    course.nbgrader("autograde", "01_losses")
    rows = {}
    for source, option in (("gradebook", ["--gradebook"]), ("results", ["--results", "cli.json"])):
        if source == "results":
            course.command_line(tmp_path / "grading" / "submitted")
        run = subprocess.run([sys.executable, "-m", "autograder", "export", *option,
                              "--canvas", f"{source}.csv"],
                             cwd=tmp_path, env=tool_env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
        rows[source] = (tmp_path / f"{source}.csv").read_text()
    assert rows["gradebook"] == rows["results"]
    canvas = {row[1]: row for row in csv.reader(rows["gradebook"].splitlines()[2:])}
    total = sum(c.points for c in get_assignment("01_losses").checks())
    assert canvas["101"][0] == "Liddell, Alice" and float(canvas["101"][5]) == pytest.approx(0.8 * total)
    assert canvas["102"][5] == ""  # bob, on the roster, handed in nothing


def test_a_missing_database_is_named_as_such(tmp_path, tool_env, postgres_url):
    """nbgrader reports a database that does not exist as "run `nbgrader db upgrade`"; the course
    says first what is wrong and how to create it."""
    pytest.importorskip("psycopg", reason="the psycopg driver comes with `pip install -e .[course]`")
    require_tool("nbgrader")
    course = Course(tmp_path, "01_losses", tool_env, clone=True)  # as a fresh clone: no gradebook yet
    (tmp_path / "course.toml").write_text("")
    url = sqlalchemy.engine.make_url(postgres_url).set(database="nowhere", password="secret")
    with open(tmp_path / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.CourseDirectory.db_url = {url.render_as_string(False)!r}\n")
    course.submit("alice", json.loads(course.release.read_text()))
    run = subprocess.run(["nbgrader", "autograde", "01_losses", "--create"], cwd=tmp_path, env=tool_env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    said = run.stdout + run.stderr
    assert 'database "nowhere" does not exist' in said and "Create the database first" in said
    assert said.index("Create the database first") < said.index("nbgrader db upgrade")
    ours = next(line for line in said.splitlines() if "Create the database first" in line)
    assert "cannot use the gradebook at postgresql+psycopg://postgres:***@" in ours and "secret" not in ours
