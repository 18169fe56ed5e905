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
    "required": ["tests"],
    "properties": {
        "score": {"type": "number"},
        "max_score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "stdout_visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "score", "max_score", "output", "visibility"],
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "score": {"type": "number", "minimum": 0},
                    "max_score": {"type": "number", "minimum": 0},
                    "output": {"type": "string"},
                    "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
                    "status": {"enum": ["passed", "failed"]},
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


def autograde(bundle, tmp_path, *uploads) -> dict:
    """Unpack the bundle as Gradescope does, upload files, run run_autograder, read results.json."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as z:
        z.extractall(root / "source")
        modes = {info.filename: info.external_attr >> 16 for info in z.infolist()}
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111, "scripts must be executable"
    (root / "submission").mkdir()
    for upload in uploads:
        shutil.copy(upload, root / "submission" / upload.name)
    script = root / "source" / "run_autograder"
    script.chmod(0o755)
    env = os.environ | {"AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable,
                        "PYTHONPATH": str(root / "source" / "package")}  # the bundled package
    run = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
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


def test_wrong_assignment_and_two_notebooks_are_explained(bundle, tmp_path):
    wrong = autograde(bundle, tmp_path / "a", EXERCISES / "02_backprop" / "backprop.ipynb")
    assert wrong["score"] == 0 and "not the notebook of assignment 01_losses" in wrong["output"]
    two = autograde(bundle, tmp_path / "b", SOLUTIONS / "01_losses" / "losses.ipynb",
                    EXERCISES / "02_backprop" / "backprop.ipynb")
    assert two["score"] == 0 and "exactly one notebook" in two["output"]
