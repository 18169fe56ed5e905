"""Start with only the site: the wheel it ships installs the checks, and an assignment
notebook checks itself with it, public checks only."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import textwrap
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import EXERCISES, ROOT, SOLUTIONS
from fresh_environments import execute, fresh_environment
from nbgrader_course import filled_in

from autograder import __version__
from autograder.edition import is_hidden_check, public_source

pytestmark = pytest.mark.slow
WHEEL = f"how_neural_networks_learn_checks-{__version__}-py3-none-any.whl"


def test_hidden_checks_are_removed_from_the_source():
    source = (ROOT / "autograder" / "checks" / "losses.py").read_text()
    public = ast.parse(public_source(source))
    assert not any(is_hidden_check(node) for node in public.body)
    assert sum(is_hidden_check(node) for node in ast.parse(source).body) >= 7
    names = {node.name for node in public.body if isinstance(node, ast.FunctionDef)}
    assert "mse_known_values" in names and "mse_matches_reference" not in names


@pytest.fixture(scope="module")
def wheel(built_site) -> Path:
    path = built_site / "_downloads" / "student" / WHEEL
    assert path.is_file(), "the site does not ship the students' wheel"
    return path


def test_the_assignments_page_links_the_wheel_and_every_notebook(built_site, wheel):
    page = (built_site / "book" / "assignments.html").read_text(encoding="utf-8")
    assert f'href="../_downloads/student/{WHEEL}"' in page
    assert f"pip install matplotlib\npip install {WHEEL}\n" in page
    for notebook in EXERCISES.glob("*/*.ipynb"):
        assert notebook.name in page


def test_the_wheel_holds_public_checks_only(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        sources = {name: archive.read(name).decode("utf-8", "replace")
                   for name in names if name.endswith(".py")}
        metadata = next(archive.read(n).decode() for n in names if n.endswith("METADATA"))
    assert "Name: how-neural-networks-learn-checks" in metadata
    assert not any("solutions/" in name or name.endswith(".ipynb") for name in names)
    for name, text in sources.items():
        assert "BEGIN SOLUTION" not in text, name
        if name.startswith("autograder/checks/"):
            assert not any(is_hidden_check(node) for node in ast.parse(text).body), name
            assert not re.search(r"(?m)^Q\d+ *=", text), name
    assert 'EDITION = "student"' in sources["autograder/__init__.py"]


def release_with(assignment_id: str, solved: bool) -> dict:
    (release,) = (EXERCISES / assignment_id).glob("*.ipynb")
    if not solved:
        return json.loads(release.read_text(encoding="utf-8"))
    return filled_in(release, next((SOLUTIONS / assignment_id).glob("*.ipynb")))


@pytest.fixture(scope="module")
def student_environment(wheel, tmp_path_factory) -> Path:
    """A new virtual environment with the wheel (and its dependencies from the registry) and a
    Jupyter kernel, nothing of the repository."""
    folder = tmp_path_factory.mktemp("student")
    fresh_environment(folder, ["matplotlib", str(wheel)])  # what the assignments page says
    return folder


def run_notebook(environment: Path, notebook: dict, folder: Path, monkeypatch) -> list[str]:
    """Execute every cell with the environment's kernel; the text each test cell printed."""
    document = execute(environment, nbformat.reads(json.dumps(notebook), as_version=4), folder, monkeypatch)
    return ["".join(o.get("text", "") + "\n".join(o.get("traceback", [])) for o in cell.get("outputs", []))
            for cell in document.cells if cell.metadata.get("nbgrader", {}).get("grade")]


def test_a_solved_notebook_checks_itself_with_the_wheel(student_environment, tmp_path, monkeypatch):
    outputs = run_notebook(student_environment, release_with("01_losses", solved=True), tmp_path, monkeypatch)
    assert outputs and all("Error" not in text for text in outputs), outputs
    assert any("All public checks of mse passed." in text for text in outputs)


def test_the_stubs_fail_with_the_usual_friendly_messages(student_environment, tmp_path, monkeypatch):
    outputs = run_notebook(student_environment, release_with("01_losses", solved=False), tmp_path,
                           monkeypatch)
    joined = "\n".join(outputs)
    assert "mse is not implemented yet" in joined and "Replace the `raise NotImplementedError()`" in joined
    assert "ModuleNotFoundError" not in joined


def test_the_wheel_imports_without_the_repository(student_environment):
    python = student_environment / "venv" / "bin" / "python"
    code = ("import autograder, autograder.assignments as a; "
            "print(autograder.EDITION, any(c.hidden for c in a.get_assignment('01_losses').checks()))")
    probe = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=120,
                           cwd=student_environment)
    assert probe.stdout.split() == ["student", "False"], probe.stderr


def test_a_self_check_with_the_wheel_sends_the_student_to_the_failing_prerequisite(
        student_environment, tmp_path, monkeypatch):
    notebook = release_with("02_backprop", solved=True)
    (cell,) = [c for c in notebook["cells"] if "def linear_backward(" in "".join(c["source"])]
    cell["source"] = ("def linear_backward(dout, cache):\n    x, W, _ = cache\n"
                      "    return dout @ W.T, x.T @ dout, dout  # db not summed over the batch\n")
    outputs = run_notebook(student_environment, notebook, tmp_path, monkeypatch)
    (mlp,) = [text for text in outputs if "mlp_loss_and_grads:" in text]
    assert "mlp_loss_and_grads: fix linear_backward first" in mlp and "Error" not in mlp, mlp
    assert any("✗ linear_backward" in text for text in outputs)


# --- every Python a student may have -------------------------------------------------------

REQUIRED_PYTHONS = ("3.11", "3.12", "3.13")
# what the checks must never import: the instructor's tools, which the wheel does not depend on
INSTRUCTORS_ONLY = ("nbformat", "IPython", "rich", "pyseccomp", "pytest", "nbgrader")

SELF_CHECK = textwrap.dedent("""
    import json, sys
    notebook = json.load(open(sys.argv[1], encoding="utf-8"))
    cell = {"__name__": "__main__"}  # the notebook's globals, as in a kernel
    for index, source in enumerate(notebook["cells"]):
        code = "".join(source["source"])
        if source["cell_type"] == "code" and "plt" not in code:  # plots need Matplotlib, not the checks
            exec(compile(code, f"<cell {index}>", "exec"), cell)
    print(json.dumps(sorted({name.partition(".")[0] for name in sys.modules} & set(sys.argv[2:]))))
""")


def pythons_here() -> dict[str, str]:
    """version -> an interpreter of it on this machine (on PATH, in /usr/bin, or pyenv's)."""
    found = {}
    for minor in range(11, 20):
        version = f"3.{minor}"
        pyenv = (Path.home() / ".pyenv" / "versions").glob(f"{version}.*/bin/python{version}")
        candidates = [shutil.which(f"python{version}"), f"/usr/bin/python{version}", *map(str, sorted(pyenv))]
        for candidate in (c for c in candidates if c and Path(c).is_file()):
            probe = subprocess.run([candidate, "-c", "import sys, venv; print(sys.version_info[:2])"],
                                   capture_output=True, text=True, timeout=60)
            if probe.returncode == 0 and probe.stdout.strip() == f"(3, {minor})":
                found[version] = candidate
                break
    return found


def test_the_wheel_installs_and_checks_on_every_python_here(wheel, tmp_path):
    """Python 3.11 to 3.13 at least (every version found here): the wheel brings NumPy and
    nothing else, and a solved notebook's test cells pass without importing an instructor's tool."""
    found = pythons_here()
    missing = [version for version in REQUIRED_PYTHONS if version not in found]
    assert not missing, f"no Python {', '.join(missing)} here to test the students' wheel with"
    notebook = tmp_path / "losses.ipynb"
    notebook.write_text(json.dumps(release_with("01_losses", solved=True)), encoding="utf-8")
    (tmp_path / "cell.py").write_text(SELF_CHECK, encoding="utf-8")
    for version, python in found.items():
        venv_python = fresh_environment(tmp_path / version, [str(wheel)], python=python, kernel=False)
        listed = subprocess.run([str(venv_python), "-m", "pip", "list", "--format=json"],
                                capture_output=True, text=True, timeout=120)
        installed = {package["name"].lower() for package in json.loads(listed.stdout)}
        assert installed - {"pip", "setuptools", "wheel"} == {"how-neural-networks-learn-checks", "numpy"}, \
            (version, installed)
        run = subprocess.run([str(venv_python), str(tmp_path / "cell.py"), str(notebook), *INSTRUCTORS_ONLY],
                             capture_output=True, text=True, timeout=300, cwd=tmp_path / version)
        assert run.returncode == 0, (version, run.stderr[-3000:])
        printed, imported = run.stdout.rsplit("\n", 2)[0], json.loads(run.stdout.strip().splitlines()[-1])
        assert printed.count("All public checks of") == 10 and "✗" not in printed, (version, printed[-2000:])
        assert imported == [], f"Python {version}: the checks imported {imported}"
