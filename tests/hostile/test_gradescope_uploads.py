"""Hostile uploads through the Gradescope bundle's run_autograder: links (to the reference it
ships, to /dev/zero, the upload folder itself a link), pipes, huge or malformed notebooks,
names with escape sequences, files that would shadow the grader's modules, and notebooks
whose code attacks the grader. run_autograder always exits 0 and writes a valid results.json
that scores the upload for what it is; it follows no link and runs nothing it was handed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import jsonschema
import pytest
from hostile_support import EXERCISES, SOLUTIONS, cells_of, digest, notebook, total, watch
from test_boundary import FORGED
from test_gradescope import RESULTS_SCHEMA, unpack

from autograder.assignments import get_assignment

pytestmark = pytest.mark.slow

REFERENCE = SOLUTIONS / "01_losses" / "losses.ipynb"
TOTAL = total("01_losses")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """The bundle, unpacked as Gradescope does, run with this interpreter."""
    folder = tmp_path_factory.mktemp("gradescope")
    bundle = folder / "01_losses-gradescope.zip"
    built = subprocess.run([sys.executable, "-m", "autograder", "gradescope-bundle", "01_losses",
                            "--output", str(bundle)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    unpack(bundle, folder / "autograder")
    return folder / "autograder"


def upload(root, tmp_path, make) -> dict:
    """Make the upload folder with ``make(folder)``, run run_autograder, return results.json
    (after checking it against Gradescope's format, the exit status and what was left behind)."""
    submission = root / "submission"
    shutil.rmtree(root / "results", ignore_errors=True)
    if submission.is_symlink():
        submission.unlink()
    shutil.rmtree(submission, ignore_errors=True)
    make(submission)
    before = digest(root / "source")
    uploaded = digest(submission) if submission.is_dir() and not submission.is_symlink() else None
    env = {"AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable,
           "PYTHONPATH": str(root / "source" / "package"), "PYTHONDONTWRITEBYTECODE": "1",
           "AUTOGRADER_CALL_TIMEOUT": "3"}
    run = watch([str(root / "source" / "run_autograder")], tmp_path, env=env, timeout=400)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.left == [], run.left
    document = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(document, RESULTS_SCHEMA)
    assert document["max_score"] == TOTAL
    assert digest(root / "source") == before, "grading changed the bundle"
    if uploaded is not None:
        assert digest(submission) == uploaded, "grading changed the upload"
    text = json.dumps(document)
    assert "\\u001b" not in text and "\\u0007" not in text, "escape sequences in results.json"
    assert len(text) < 200_000
    return document


def link(target):
    def make(submission):
        submission.mkdir()
        os.symlink(target, submission / "losses.ipynb")
    return make


def test_a_link_to_the_bundled_reference_is_not_followed(root, tmp_path):
    document = upload(root, tmp_path, link(root / "source" / "solutions" / "01_losses" / "losses.ipynb"))
    assert document["score"] == 0 and "a symbolic link" in document["output"]


def test_a_link_to_a_device_is_not_followed(root, tmp_path):
    document = upload(root, tmp_path, link("/dev/zero"))
    assert document["score"] == 0 and "a symbolic link" in document["output"]


def test_an_upload_folder_that_is_itself_a_link_is_not_followed(root, tmp_path):
    def make(submission):
        os.symlink(root / "source" / "solutions" / "01_losses", submission)
    document = upload(root, tmp_path, make)
    assert document["score"] == 0 and "this upload could not be read" in document["output"]


def test_a_pipe_named_like_a_notebook_does_not_block(root, tmp_path):
    def make(submission):
        submission.mkdir()
        os.mkfifo(submission / "losses.ipynb")
    document = upload(root, tmp_path, make)
    assert document["score"] == 0 and "a pipe or socket" in document["output"]


@pytest.mark.parametrize("content, reason", [
    (None, "too large to be a notebook"), ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
    ('{"cells": [', "not JSON"), ('{"metadata": {"n": ' + "1" * 5000 + '}, "cells": []}', "not JSON"),
])
def test_a_file_that_is_not_a_readable_notebook_scores_zero_with_a_reason(root, tmp_path, content, reason):
    def make(submission):
        submission.mkdir()
        if content is None:
            with (submission / "losses.ipynb").open("wb") as f:
                f.truncate(100 * 2**20)
        else:
            (submission / "losses.ipynb").write_text(content)
    document = upload(root, tmp_path, make)
    assert document["score"] == 0 and document["tests"] == [] and reason in document["output"]


def test_names_with_escape_sequences_reach_the_results_clean(root, tmp_path):
    def make(submission):
        submission.mkdir()
        for name in ("\x1b[2J\x1b]0;owned\x07a.ipynb", "b\x1b[31m.ipynb"):
            shutil.copy(REFERENCE, submission / name)
    document = upload(root, tmp_path, make)
    assert document["score"] == 0 and "Please upload your notebook as losses.ipynb" in document["output"]
    assert "\\x1b[2J" in document["output"] and "\x1b" not in json.dumps(document)


def test_files_beside_the_notebook_that_would_shadow_modules_never_run(root, tmp_path):
    marker = tmp_path / "ran"

    def make(submission):
        (submission / "autograder").mkdir(parents=True)
        shutil.copy(REFERENCE, submission / "losses.ipynb")
        code = f"open({str(marker)!r}, 'a').write(__name__ + ' ')\n"
        for name in ("sitecustomize.py", "usercustomize.py", "numpy.py", "conftest.py", "pytest.py",
                     "autograder/__init__.py", "__init__.py"):
            (submission / name).write_text(code)
        (submission / "pytest.ini").write_text("[pytest]\naddopts = -p conftest\n")
    document = upload(root, tmp_path, make)
    assert not marker.exists(), f"an uploaded module ran: {marker.read_text()}"
    assert document["score"] == TOTAL


def test_a_notebook_that_attacks_the_grader_scores_what_its_code_earns(root, tmp_path):
    cells = cells_of("01_losses", EXERCISES) | {"mse": FORGED["forged_laughs"],
                                                "softmax": cells_of("01_losses")["softmax"]}

    def make(submission):
        submission.mkdir()
        (submission / "losses.ipynb").write_text(json.dumps(notebook("01_losses", cells)))
    document = upload(root, tmp_path, make)
    scores = {}
    for test in document["tests"]:
        function = test["name"].split(": ")[0]
        scores[function] = scores.get(function, 0) + test["score"]
    assert scores["mse"] == 0 and scores["softmax"] == get_assignment("01_losses").points("softmax")
    assert document["score"] == scores["softmax"]
    assert "Flag: timed out: mse" in document["output"] or "Flag: sent something" in document["output"]
