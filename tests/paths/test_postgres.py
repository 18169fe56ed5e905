"""nbgrader with a PostgreSQL gradebook: a throwaway server on loopback, in a temporary folder,
then generate -> autograde -> export against it. SQLite stays the default elsewhere."""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
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
