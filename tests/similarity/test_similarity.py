"""The similarity review: disguised copies are found, independent correct work is not, a copy of
a corpus solution is matched, and hostile notebooks cost bounded work.

What is caught (each disguise below, alone and all at once): every name changed, functions
reordered and spread over other cells, reformatting, comments and docstrings, dead code (unused
assignments and helpers, `if False:` blocks, prints), `x = x + y` written `x += y`, operands of
`+` and `*` swapped, `a < b` written `b > a`, `x * x` written `x ** 2`, NumPy imported under
another name, constants given names. What is not: code rewritten with other functions or another
algorithm (a loop for `np.sum`, `np.square` for `** 2`), which is also what independent work
looks like; code the reference solution or the release also holds; code a fifth of the class
shares.
"""

from __future__ import annotations

import ast
import builtins
import json
import textwrap
from pathlib import Path

import pytest
from conftest import EXERCISES, SOLUTIONS, grade
from students import DISGUISED_VERBOSE, INDEPENDENT, QUIZ, notebook, write_class

from autograder import fingerprints, similarity
from autograder.notebook import Cell
from autograder.results import SubmissionResult, read_results, results_document
from autograder.similarity import SimilarPair, rarity, read_similar, review
from autograder.submissions import plan

FUNCTIONS_01 = ("mse", "mse_grad", "binary_cross_entropy", "binary_cross_entropy_grad", "softmax",
                "cross_entropy", "cross_entropy_grad")


def folder_name(style: str) -> str:
    return style.replace(" ", "_")


def independent() -> dict[str, str]:
    """The class of independent solutions, each in a folder named after its style."""
    return {folder_name(style): code for style, code in INDEPENDENT.items()}


def class_review(root: Path, code: dict, **options) -> similarity.Review:
    return review(plan([write_class(root, code)]).submissions, solutions=options.pop("solutions", SOLUTIONS),
                  **options)


def pairs_of(found: similarity.Review) -> set[frozenset[str]]:
    return {frozenset((p.first.label, p.second.label)) for p in found.pairs}


# -- every independent solution is correct, and so is the disguised copy ----------------------

@pytest.mark.parametrize("style", INDEPENDENT)
def test_independent_solution_earns_full_marks(style):
    lost = [f"{r.name}: {r.feedback}" for r in grade("01_losses", textwrap.dedent(INDEPENDENT[style]) + QUIZ)
            if not r.passed]
    assert not lost, lost


def test_the_disguised_copy_earns_full_marks_too():
    code = "\n".join(textwrap.dedent(cell) for cell in DISGUISED_VERBOSE)
    assert all(r.passed for r in grade("01_losses", code + "\n" + QUIZ))


# -- independent work is not flagged ----------------------------------------------------------

def test_independent_correct_solutions_are_not_flagged(tmp_path):
    found = class_review(tmp_path, independent())
    assert found.pairs == [] and found.notes == []


def test_independent_solutions_are_not_flagged_without_the_reference_either(tmp_path):
    found = class_review(tmp_path, independent(), solutions=None)
    assert found.pairs == []


def test_independent_solutions_share_little_even_with_no_threshold(tmp_path, monkeypatch):
    """The margin: with every threshold off, no two independent solutions share a fifth of
    their own code, where the disguised copy shares nearly all of it."""
    monkeypatch.setattr(similarity, "MIN_SCORE", 0.0)
    monkeypatch.setattr(similarity, "MIN_SHARED", 0.0)
    code = independent() | {"copycat": DISGUISED_VERBOSE}
    scores = {frozenset((p.first.label, p.second.label)): p.score for p in class_review(tmp_path, code).pairs}
    assert scores.pop(frozenset(("copycat", "verbose"))) > 0.95
    assert max(scores.values()) < 0.2, scores


def test_the_untouched_release_handed_in_by_many_is_not_flagged(tmp_path):
    release = json.loads((EXERCISES / "01_losses" / "losses.ipynb").read_text(encoding="utf-8"))
    code = {f"idle{i}": release for i in range(8)}
    code |= {"terse": INDEPENDENT["terse"], "loops": INDEPENDENT["loops"]}
    assert class_review(tmp_path, code).pairs == []
    assert class_review(tmp_path, code, solutions=None).pairs == []


def test_a_partly_done_release_next_to_its_finished_copy_is_not_a_pair_by_its_stubs(tmp_path):
    """Two students who each wrote one different function and left the rest as released."""
    release = (EXERCISES / "01_losses" / "losses.ipynb").read_text(encoding="utf-8")
    first, second = json.loads(release), json.loads(release)
    first["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                           "source": textwrap.dedent(INDEPENDENT["loops"]).split("def mse_grad")[0]})
    second["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                            "source": textwrap.dedent(INDEPENDENT["verbose"]).split("def mse_grad")[0]})
    assert class_review(tmp_path, {"first": first, "second": second}).pairs == []


def test_rarity_counts_less_the_more_of_the_class_shares_it():
    assert rarity(2, 50) == 1.0
    assert 1.0 > rarity(3, 50) > rarity(6, 50) > 0.0
    assert rarity(10, 50) == rarity(40, 50) == 0.0  # a fifth of the class
    assert rarity(6, 6) == 0.0 and rarity(4, 6) == 0.5  # a small class: from 6 on
    assert rarity(50, 1_000) == 0.0 < rarity(49, 1_000)  # a large one: from 50 on, so work stays bounded


# -- disguised copies are found ---------------------------------------------------------------

class _Rename(ast.NodeTransformer):
    """Every parameter and local variable renamed (the graded functions keep their names)."""

    def __init__(self, tree: ast.Module) -> None:
        self.names: dict[str, str] = {}
        imports = [node for node in tree.body if isinstance(node, ast.Import)]
        self.kept = {*FUNCTIONS_01, *dir(builtins)} | {a.asname or a.name for i in imports for a in i.names}

    def _new(self, name: str) -> str:
        if name in self.kept:
            return name
        return self.names.setdefault(name, f"{name[0]}{len(self.names)}_renamed")

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self._new(node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg = self._new(node.arg)
        return node


class _Rewrite(ast.NodeTransformer):
    """Equivalent rewrites: `x = x + y` as `x += y`, operands of + and * swapped, `a < b` as
    `b > a`, `x * x` as `x ** 2`."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Mult) and ast.dump(node.left) == ast.dump(node.right) and isinstance(
                node.left, ast.Name):
            return ast.BinOp(node.left, ast.Pow(), ast.Constant(2))
        if isinstance(node.op, ast.Add | ast.Mult):
            node.left, node.right = node.right, node.left
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.Compare:
        self.generic_visit(node)
        if len(node.ops) == 1 and isinstance(node.ops[0], ast.Lt | ast.Eq):
            flipped = ast.Gt() if isinstance(node.ops[0], ast.Lt) else ast.Eq()
            return ast.Compare(node.comparators[0], [flipped], [node.left])
        return node

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        self.generic_visit(node)
        value, (target,) = node.value, node.targets
        if (isinstance(value, ast.BinOp) and isinstance(target, ast.Name) and isinstance(value.left, ast.Name)
                and value.left.id == target.id):
            return ast.AugAssign(target, value.op, value.right)
        return node


def _functions(code: str) -> tuple[list[str], list[ast.FunctionDef]]:
    tree = ast.parse(textwrap.dedent(code))
    return ([ast.unparse(n) for n in tree.body if not isinstance(n, ast.FunctionDef)],
            [n for n in tree.body if isinstance(n, ast.FunctionDef)])


def renamed(code: str) -> str:
    tree = ast.parse(textwrap.dedent(code))
    return ast.unparse(_Rename(tree).visit(tree))


def reordered(code: str) -> list[str]:
    """Functions in reverse order, two cells of them."""
    header, functions = _functions(code)
    sources = [ast.unparse(f) for f in reversed(functions)]
    return ["\n".join(header + sources[:3]), "\n\n".join(sources[3:])]


def reformatted(code: str) -> str:
    """Another layout: every statement through ast.unparse, blank lines, comments and docstrings."""
    header, functions = _functions(code)
    out = header[:]
    for function in functions:
        lines = ast.unparse(function).splitlines()
        out += [lines[0], '    """My own solution."""']
        out += [f"{line}    # step {n}" if not line.rstrip().endswith(":") else line
                for n, line in enumerate(lines[1:])]
        out.append("")
    return "\n".join(out)


def with_dead_code(code: str) -> str:
    """Unused assignments, an `if False:` block and a print in every function, an unused helper."""
    header, functions = _functions(code)
    for function in functions:
        dead = "unused_total = 0\nprint('working on it')\nif False:\n    unused_total = 1"
        function.body[:0] = ast.parse(dead).body
        function.body.insert(-1, ast.parse("scratch = [1, 2, 3]").body[0])
    helper = "def helper_i_never_call(a, b):\n    return sorted([a, b])[0] * 3 + 17"
    return "\n\n".join([*header, helper, *(ast.unparse(f) for f in functions)])


def rewritten(code: str) -> str:
    return ast.unparse(ast.fix_missing_locations(_Rewrite().visit(ast.parse(textwrap.dedent(code)))))


def other_import(code: str) -> str:
    return textwrap.dedent(code).replace("import numpy as np", "import numpy as xp").replace("np.", "xp.")


def everything(code: str) -> list[str]:
    return reordered(with_dead_code(rewritten(renamed(other_import(code)))))


DISGUISES = {"renamed": renamed, "reordered": reordered, "reformatted": reformatted,
             "dead code": with_dead_code, "rewritten": rewritten, "numpy as xp": other_import,
             "all at once": everything}


@pytest.mark.parametrize("style", ["loops", "one-hot matrices", "verbose", "logaddexp"])
@pytest.mark.parametrize("disguise", DISGUISES)
def test_a_disguised_copy_is_found_and_only_it(tmp_path, style, disguise):
    code = independent() | {"copycat": DISGUISES[disguise](INDEPENDENT[style])}
    found = class_review(tmp_path, code)
    assert pairs_of(found) == {frozenset(("copycat", folder_name(style)))}
    (pair,) = found.pairs
    assert pair.score >= 0.8 and pair.assignment == "01_losses" and not pair.corpus
    assert set(pair.functions) >= {"cross_entropy", "softmax"}


def test_the_hand_disguised_copy_shows_every_function_side_by_side(tmp_path):
    code = independent() | {"copycat": DISGUISED_VERBOSE}
    (pair,) = class_review(tmp_path, code).pairs
    assert {pair.first.student, pair.second.student} == {"copycat", "verbose"}
    copy_first = pair.first.student == "copycat"
    copy, original = (pair.first, pair.second) if copy_first else (pair.second, pair.first)
    assert set(pair.functions) == set(FUNCTIONS_01)
    for shared in pair.code:
        mine, theirs = (shared.first, shared.second) if pair.first is copy else (shared.second, shared.first)
        assert mine.function == theirs.function  # each copied function next to its original
        assert "numeric." in mine.source and "np." in theirs.source  # the code as each wrote it
        assert shared.weight > 0 and mine.lines and theirs.lines
        shown = mine.source.splitlines()
        assert all(1 <= n <= len(shown) for n in mine.lines)
        assert not any("print(" in shown[n - 1] or "#" in shown[n - 1].split("=")[0] for n in mine.lines)
        rows = mine.rows()  # what a report shows: numbered as in the cell, shared lines marked
        assert [text for _, text, _ in rows] == shown and rows[0][0] == mine.first_line
        assert [n - mine.first_line + 1 for n, _, marked in rows if marked] == list(mine.lines)
    assert Path(copy.path).parts[-3] == "copycat" and Path(original.path).parts[-3] == "verbose"


def test_a_copy_of_a_copy_makes_three_pairs(tmp_path):
    code = independent() | {
        "copycat": DISGUISED_VERBOSE, "second_copy": renamed(INDEPENDENT["verbose"])}
    expected = [("copycat", "verbose"), ("second_copy", "verbose"), ("copycat", "second_copy")]
    assert pairs_of(class_review(tmp_path, code)) == {frozenset(p) for p in expected}


def test_only_the_most_similar_pairs_are_listed(tmp_path, monkeypatch):
    monkeypatch.setattr(similarity, "MOST_PAIRS", 1)
    code = independent() | {"copycat": DISGUISED_VERBOSE, "second_copy": renamed(INDEPENDENT["verbose"])}
    found = class_review(tmp_path, code)
    assert len(found.pairs) == 1 and found.notes == ["2 more pairs than the 1 listed"]


# -- the corpus -------------------------------------------------------------------------------

def test_a_copy_of_a_corpus_solution_is_matched(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "blog").mkdir(parents=True)
    (corpus / "blog" / "losses_solution.py").write_text(textwrap.dedent(INDEPENDENT["logaddexp"]))
    (corpus / "course.ipynb").write_text(json.dumps(notebook(INDEPENDENT["one-hot matrices"])))
    (corpus / "notes.txt").write_text("not code")
    others = {folder_name(s): c for s, c in INDEPENDENT.items() if s not in ("logaddexp", "one-hot matrices")}
    code = others | {"borrower": everything(INDEPENDENT["logaddexp"]),
                     "nb_borrower": renamed(INDEPENDENT["one-hot matrices"])}
    found = class_review(tmp_path / "class", code, corpus=corpus)
    matched = {(p.first.student, Path(p.second.path).name) for p in found.pairs if p.corpus}
    assert matched == {("borrower", "losses_solution.py"), ("nb_borrower", "course.ipynb")}
    assert all(p.second.student is None and p.second.label.startswith("corpus: ") for p in found.pairs)
    assert found.notes == []


# -- the results document ---------------------------------------------------------------------

def test_pairs_round_trip_through_the_results_document(tmp_path):
    code = independent() | {"copycat": DISGUISED_VERBOSE}
    pairs = class_review(tmp_path, code).pairs
    result = SubmissionResult("a.ipynb", "copycat", "01_losses")
    document = json.loads(json.dumps(results_document([result], [], pairs)))
    assert [p.to_dict() for p in read_similar(document)] == [p.to_dict() for p in pairs]
    assert [s.student for s in read_results(document)[0]] == ["copycat"]  # older readers still read it
    fields = {"assignment", "first", "second", "corpus", "score", "shared", "code"}
    assert set(document["similar"][0]) == fields
    assert "similar" not in results_document([result], [])  # the review did not run
    assert read_similar(results_document([result], [])) is None
    assert read_similar(results_document([result], [], [])) == []
    with pytest.raises(ValueError, match="similar pair is malformed"):
        read_similar({"submissions": [], "similar": [{"assignment": "01_losses"}]})


def test_a_pair_is_not_part_of_any_submissions_record(tmp_path):
    """Never a flag, a note or a score: nothing a student's feedback or Gradescope reads."""
    code = {"verbose": INDEPENDENT["verbose"], "copycat": DISGUISED_VERBOSE}
    (pair,) = class_review(tmp_path, code).pairs
    assert isinstance(pair, SimilarPair)
    assert not {"similar", "similarity"} & set(SubmissionResult("a", "b", "01_losses").to_dict())


# -- hostile input: bounded work, no crash ----------------------------------------------------

def test_hostile_notebooks_cost_bounded_work(tmp_path):
    deep = "def mse(y_pred, y_true):\n    return " + "+".join(["y_pred"] * 900) + "\n"
    too_deep = "def softmax(logits):\n    return " + "-" * 5000 + "logits\n"
    wide = "def mse_grad(y_pred, y_true):\n    v = 0\n" + "    v = v + y_pred * 2\n" * 3000 + "    return v\n"
    huge = "def cross_entropy(logits, labels):\n" + "    x = 1\n" * 30_000
    trojan = [*DISGUISED_VERBOSE[:2], DISGUISED_VERBOSE[2].replace("clip first!", "\u202eclip")]
    code = {"deep": [deep, too_deep], "deep_copy": [deep, too_deep], "wide": [wide], "huge": [huge],
            "mallory\u202egnp.": trojan,
            "verbose": INDEPENDENT["verbose"],
            "\u00e9l\u00e8ve": ["def \u00e9cart(a, b):\n    return a - b\n" * 200]}
    found = class_review(tmp_path, code)
    assert any("huge" in note and "not compared" in note for note in found.notes)
    names = {p.first.label for p in found.pairs} | {p.second.label for p in found.pairs}
    assert "mallory\\u202egnp." in names  # shown escaped, never as the name it pretends to be
    assert not any("\u202e" in pair.line() for pair in found.pairs)
    sources = [side.source for p in found.pairs for c in p.code for side in (c.first, c.second)]
    assert any("# \\u202eclip" in source for source in sources)  # Trojan-source text shown escaped
    assert not any("\u202e" in source for source in sources)
    wide_prints = fingerprints.fingerprint_blocks(similarity._definitions([Cell(0, wide)]))
    assert wide_prints.truncated and len(wide_prints.grams) <= fingerprints.TOKENS_PER_UNIT


def test_a_notebook_that_cannot_be_read_is_passed_over(tmp_path):
    root = write_class(tmp_path, {"verbose": INDEPENDENT["verbose"], "copycat": DISGUISED_VERBOSE})
    submissions = plan([root]).submissions
    (root / "verbose" / "01_losses" / "losses.ipynb").write_text("{not json")
    assert review(submissions, solutions=SOLUTIONS).pairs == []


def test_a_hostile_corpus_is_read_without_following_links(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "zero.py").symlink_to("/dev/zero")
    (corpus / "solutions").symlink_to(SOLUTIONS, target_is_directory=True)
    (corpus / "big.py").write_text("x = 1\n" * 200_000)
    (corpus / "broken.ipynb").write_text("{")
    (corpus / "empty.py").write_text("")
    code = {"verbose": INDEPENDENT["verbose"], "terse": INDEPENDENT["terse"]}
    found = class_review(tmp_path / "class", code, corpus=corpus)
    assert found.pairs == []
    assert any("big.py" in n and "not compared" in n for n in found.notes)
    assert any("broken.ipynb" in n for n in found.notes)
    assert not any("zero.py" in n or "solutions" in n for n in found.notes)  # links are passed over
