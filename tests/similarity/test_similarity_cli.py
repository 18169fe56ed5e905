"""The similarity review through the command line: a short section in the terminal, the pairs
in ``--json``, no score, flag or note changed, ``--no-similarity`` and ``--corpus``; and the
review alone (``similar``) for a class graded another way."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from conftest import ROOT
from students import DISGUISED_VERBOSE, INDEPENDENT, write_class
from test_cli import run_grader
from test_similarity import FUNCTIONS_01

from autograder.similarity import read_similar


def test_a_class_run_lists_the_pairs_and_changes_no_grade(tmp_path):
    root = write_class(tmp_path / "class", {"verbose": INDEPENDENT["verbose"], "copycat": DISGUISED_VERBOSE,
                                            "terse": INDEPENDENT["terse"]})
    report = tmp_path / "results.json"
    result = run_grader(str(root), "--json", str(report), "--jobs", "2")
    assert result.returncode == 0, result.stderr
    section = result.stdout.split("Pairs worth a second look", 1)[1].splitlines()
    assert "not a verdict" in section[0] and "never shown to students" in section[0]
    assert section[1].split()[:4] == ["01_losses", "copycat", "~", "verbose"]
    document = json.loads(report.read_text())
    (pair,) = document["similar"]
    assert {pair["first"]["student"], pair["second"]["student"]} == {"copycat", "verbose"}
    for submission in document["submissions"]:  # a pair is no flag, note or lost point
        assert submission["score"] == submission["max_score"]
        assert submission["flags"] == [] and submission["notes"] == []


def test_no_similarity_skips_the_review(tmp_path):
    root = write_class(tmp_path / "class", {"verbose": INDEPENDENT["verbose"], "copycat": DISGUISED_VERBOSE})
    report = tmp_path / "results.json"
    result = run_grader(str(root), "--json", str(report), "--no-similarity")
    assert result.returncode == 0 and "second look" not in result.stdout
    assert "similar" not in json.loads(report.read_text())


def test_a_corpus_match_for_one_notebook_and_a_missing_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "public.py").write_text(textwrap.dedent(INDEPENDENT["verbose"]))
    root = write_class(tmp_path / "class", {"copycat": DISGUISED_VERBOSE})
    notebook = root / "copycat" / "01_losses" / "losses.ipynb"
    report = tmp_path / "results.json"
    result = run_grader(str(notebook), "--json", str(report), "--corpus", str(corpus))
    assert result.returncode == 0, result.stderr
    assert "copycat ~ corpus: public.py" in result.stdout
    (pair,) = json.loads(report.read_text())["similar"]
    assert pair["corpus"] is True and pair["second"]["student"] is None
    missing = run_grader(str(notebook), "--corpus", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "--corpus" in missing.stderr and "Traceback" not in missing.stderr


def test_one_notebook_alone_is_not_reviewed(tmp_path):
    root = write_class(tmp_path / "class", {"verbose": INDEPENDENT["verbose"]})
    result = run_grader(str(root / "verbose" / "01_losses" / "losses.ipynb"))
    assert result.returncode == 0 and "Similarity review" not in result.stdout


def run_similar(*args: str):
    return subprocess.run([sys.executable, "-m", "autograder", "similar", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_the_review_alone_for_a_class_graded_elsewhere(tmp_path):
    """`similar` grades nothing: an nbgrader class folder, or notebooks given one by one."""
    code = {"verbose": INDEPENDENT["verbose"], "copycat": DISGUISED_VERBOSE, "terse": INDEPENDENT["terse"]}
    root = write_class(tmp_path / "submitted", code)
    report = tmp_path / "similar.json"
    result = run_similar(str(root), "--json", str(report))
    assert result.returncode == 0, result.stderr
    assert "01_losses  copycat ~ verbose" in result.stdout
    (pair,) = read_similar(json.loads(report.read_text()))
    assert pair.first.student == "copycat" and set(pair.functions) == set(FUNCTIONS_01)
    loose = [str(root / student / "01_losses" / "losses.ipynb") for student in ("copycat", "verbose")]
    assert "01_losses  copycat ~ verbose" in run_similar(*loose).stdout  # recognised from the code
    missing = run_similar(str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
