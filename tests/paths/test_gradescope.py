"""The Gradescope bundle, run against a simulated /autograder layout in a temporary folder,
writes a results.json that follows Gradescope's format."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile

import jsonschema
import pytest
from conftest import EXERCISES, ROOT, SOLUTIONS

from autograder.assignments import get_assignment

pytestmark = pytest.mark.slow

# Gradescope's results.json, as its autograder specification describes it.
RESULTS_SCHEMA = {
    "type": "object",
    "required": ["score", "max_score", "execution_time", "output", "output_format", "tests"],
    "properties": {
        "score": {"type": "number"},
        "max_score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "test_output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "test_name_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "stdout_visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "score", "max_score", "status", "output", "output_format", "visibility"],
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "score": {"type": "number", "minimum": 0},
                    "max_score": {"type": "number", "minimum": 0},
                    "output": {"type": "string"},
                    "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
                    "status": {"enum": ["passed", "failed"]},
                    "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundle")
    zip_path = folder / "01_losses-gradescope.zip"
    result = subprocess.run([sys.executable, "-m", "autograder", "gradescope-bundle", "01_losses",
                             "--output", str(zip_path)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return zip_path


def unpack(bundle, root) -> None:
    """Unpack the bundle into ``root``/source as Gradescope does, with the scripts' modes."""
    with zipfile.ZipFile(bundle) as z:
        z.extractall(root / "source")
        modes = {info.filename: info.external_attr >> 16 for info in z.infolist()}
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111, "scripts must be executable"
    for script in ("run_autograder", "setup.sh"):
        (root / "source" / script).chmod(0o755)


def autograde(bundle, tmp_path, *uploads, installed: bool = False, printed: list | None = None) -> dict:
    """Upload files, run run_autograder, read results.json. Unless ``installed`` (setup.sh has
    run in ``tmp_path``), the bundle is unpacked first and runs with this interpreter. What
    run_autograder printed (which Gradescope shows to instructors only) goes to ``printed``."""
    root = tmp_path / "autograder"
    env = os.environ | {"AUTOGRADER_ROOT": str(root)}
    if not installed:
        unpack(bundle, root)
        env |= {"AUTOGRADER_PYTHON": sys.executable,
                "PYTHONPATH": str(root / "source" / "package")}  # the bundled package
    shutil.rmtree(root / "submission", ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    (root / "submission").mkdir()
    for upload in uploads:
        shutil.copy(upload, root / "submission" / upload.name)
    script = root / "source" / "run_autograder"
    run = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    if printed is not None:
        printed.append(run.stdout)
    document = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(document, RESULTS_SCHEMA)
    return document


TOTAL = sum(c.points for c in get_assignment("01_losses").checks())


def test_bundle_holds_the_scripts_the_package_and_the_reference(bundle):
    names = set(zipfile.ZipFile(bundle).namelist())
    assert {"setup.sh", "run_autograder", "solutions/01_losses/losses.ipynb",
            "package/pyproject.toml", "package/autograder/cli.py"} <= names
    assert not any("02_backprop" in n or "__pycache__" in n for n in names)


def test_reference_earns_full_marks(bundle, tmp_path):
    document = autograde(bundle, tmp_path, SOLUTIONS / "01_losses" / "losses.ipynb")
    assert document["score"] == document["max_score"] == TOTAL
    assert sum(t["max_score"] for t in document["tests"]) == TOTAL


def test_release_earns_zero_with_feedback(bundle, tmp_path):
    document = autograde(bundle, tmp_path, EXERCISES / "01_losses" / "losses.ipynb")
    assert document["score"] == 0 and document["max_score"] == TOTAL
    assert any("not implemented yet" in t["output"] for t in document["tests"])


@pytest.mark.parametrize("assignment_id", sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir()))
def test_every_assignments_bundle_gives_its_reference_full_marks_and_release_zero(tmp_path, assignment_id):
    from autograder.gradescope import build_bundle

    bundle = build_bundle(assignment_id, tmp_path / f"{assignment_id}-gradescope.zip")
    assignment = get_assignment(assignment_id)
    name, total = assignment.notebook, sum(c.points for c in assignment.checks())
    solved = autograde(bundle, tmp_path / "solved", SOLUTIONS / assignment_id / name)
    assert solved["score"] == solved["max_score"] == total
    stubs = autograde(bundle, tmp_path / "stubs", EXERCISES / assignment_id / name)
    assert stubs["score"] == 0 and stubs["max_score"] == total


def test_wrong_assignment_and_two_notebooks_are_explained(bundle, tmp_path):
    wrong = autograde(bundle, tmp_path / "a", EXERCISES / "02_backprop" / "backprop.ipynb")
    assert wrong["score"] == 0 and "Please upload your notebook as losses.ipynb" in wrong["output"]
    assert "backprop.ipynb: not graded: only losses.ipynb is graded" in wrong["output"]
    two = autograde(bundle, tmp_path / "b", SOLUTIONS / "01_losses" / "losses.ipynb",
                    EXERCISES / "02_backprop" / "backprop.ipynb")
    assert two["score"] == two["max_score"] > 0  # losses.ipynb is graded; the other is named
    assert "backprop.ipynb was not graded: only losses.ipynb is" in two["output"]


def test_setup_installs_everything_the_autograder_needs(bundle, tmp_path):
    """setup.sh as Gradescope runs it (as root, on a Debian or Ubuntu image): system Python
    from apt, a virtual environment, the package and its dependencies from PyPI."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("setup.sh needs root and apt-get, as on Gradescope's images")
    root = tmp_path / "autograder"
    unpack(bundle, root)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    setup = subprocess.run([str(root / "source" / "setup.sh")], env=env | {"AUTOGRADER_ROOT": str(root)},
                           cwd=root / "source", capture_output=True, text=True, timeout=1200)
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    assert (root / "venv" / "bin" / "python").exists()
    document = autograde(bundle, tmp_path, SOLUTIONS / "01_losses" / "losses.ipynb", installed=True)
    assert document["score"] == document["max_score"] == TOTAL
    wrong = json.loads((SOLUTIONS / "01_losses" / "losses.ipynb").read_text())
    for cell in wrong["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "mse":
            cell["source"] = "def mse(y_pred, y_true):\n    return float(np.sum((y_pred - y_true) ** 2))\n"
    submitted = tmp_path / "losses.ipynb"
    submitted.write_text(json.dumps(wrong))
    document = autograde(bundle, tmp_path, submitted, installed=True)
    assert 0 < document["score"] < TOTAL


def test_flags_for_the_instructor_never_reach_the_student(bundle, tmp_path):
    notebook = json.loads((SOLUTIONS / "01_losses" / "losses.ipynb").read_text())
    for cell in notebook["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "mse":
            cell["source"] = ("def mse(y_pred, y_true):\n    open('/etc/hostname')\n"
                              "    return float(np.mean((y_pred - y_true) ** 2))\n")
    upload = tmp_path / "losses.ipynb"
    upload.write_text(json.dumps(notebook))
    printed: list[str] = []
    document = autograde(bundle, tmp_path / "run", upload, printed=printed)
    assert "flag for the instructor: suspicious code, review by hand" in printed[0]
    assert "suspicious" not in json.dumps(document) and "open" not in document["output"]
    assert document["stdout_visibility"] == "hidden"
    for test in document["tests"]:
        assert test["status"] == ("passed" if test["score"] == test["max_score"] else "failed")
    assert document["execution_time"] >= 1 and document["extra_data"]["assignment"] == "01_losses"
