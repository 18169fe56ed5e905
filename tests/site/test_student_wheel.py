"""Start with only the site: the wheel it ships installs the checks, and an assignment
notebook checks itself with it, public checks only."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import EXERCISES, ROOT, SOLUTIONS
from nbclient import NotebookClient
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
    assert f"pip install {WHEEL}" in page
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
def fresh_environment(wheel, tmp_path_factory) -> Path:
    """A new virtual environment with the wheel (and its dependencies from the registry) and a
    Jupyter kernel, nothing of the repository."""
    folder = tmp_path_factory.mktemp("student")
    subprocess.run([sys.executable, "-m", "venv", str(folder / "venv")], check=True, timeout=300)
    python = folder / "venv" / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel), "ipykernel"],
                             capture_output=True, text=True, timeout=900, cwd=folder)
    assert install.returncode == 0, install.stderr[-3000:]
    kernel = subprocess.run([str(python), "-m", "ipykernel", "install", "--prefix", str(folder / "jupyter"),
                             "--name", "student"], capture_output=True, text=True, timeout=300)
    assert kernel.returncode == 0, kernel.stderr[-2000:]
    return folder


def run_notebook(environment: Path, notebook: dict, folder: Path, monkeypatch) -> list[str]:
    """Execute every cell with the environment's kernel; the text each test cell printed."""
    monkeypatch.setenv("JUPYTER_PATH", str(environment / "jupyter" / "share" / "jupyter"))
    document = nbformat.reads(json.dumps(notebook), as_version=4)
    client = NotebookClient(document, kernel_name="student", timeout=300, allow_errors=True,
                            resources={"metadata": {"path": str(folder)}})
    client.execute()
    return ["".join(o.get("text", "") + "\n".join(o.get("traceback", [])) for o in cell.get("outputs", []))
            for cell in document.cells if cell.metadata.get("nbgrader", {}).get("grade")]


def test_a_solved_notebook_checks_itself_with_the_wheel(fresh_environment, tmp_path, monkeypatch):
    outputs = run_notebook(fresh_environment, release_with("01_losses", solved=True), tmp_path, monkeypatch)
    assert outputs and all("Error" not in text for text in outputs), outputs
    assert any("All public checks of mse passed." in text for text in outputs)


def test_the_stubs_fail_with_the_usual_friendly_messages(fresh_environment, tmp_path, monkeypatch):
    outputs = run_notebook(fresh_environment, release_with("01_losses", solved=False), tmp_path, monkeypatch)
    joined = "\n".join(outputs)
    assert "mse is not implemented yet" in joined and "Replace the `raise NotImplementedError()`" in joined
    assert "ModuleNotFoundError" not in joined


def test_the_wheel_imports_without_the_repository(fresh_environment):
    python = fresh_environment / "venv" / "bin" / "python"
    code = ("import autograder, autograder.assignments as a; "
            "print(autograder.EDITION, any(c.hidden for c in a.get_assignment('01_losses').checks()))")
    probe = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=120,
                           cwd=fresh_environment)
    assert probe.stdout.split() == ["student", "False"], probe.stderr


def test_a_self_check_with_the_wheel_sends_the_student_to_the_failing_prerequisite(
        fresh_environment, tmp_path, monkeypatch):
    notebook = release_with("02_backprop", solved=True)
    (cell,) = [c for c in notebook["cells"] if "def linear_backward(" in "".join(c["source"])]
    cell["source"] = ("def linear_backward(dout, cache):\n    x, W, _ = cache\n"
                      "    return dout @ W.T, x.T @ dout, dout  # db not summed over the batch\n")
    outputs = run_notebook(fresh_environment, notebook, tmp_path, monkeypatch)
    (mlp,) = [text for text in outputs if "mlp_loss_and_grads:" in text]
    assert "mlp_loss_and_grads: fix linear_backward first" in mlp and "Error" not in mlp, mlp
    assert any("✗ linear_backward" in text for text in outputs)
