"""The course site covers what the course promises, read from the Markdown sources (no build).

- Every chapter has learning goals at the top, at least three quick checks, a code cell that
  draws a figure and a "Key takeaways" section.
- Every topic of the course has a home: a chapter that teaches it, named in ``TOPICS``.
- The assignments page offers every release notebook and the digits data for download, and
  the home page links the assignments page and the instructor guide.

The slow tier (``test_book.py``) builds the site and checks the rendered pages.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import EXERCISES, ROOT

BOOK = ROOT / "book"
HOME = "book/intro"
ASSIGNMENTS_PAGE = "book/assignments"
INSTRUCTOR_GUIDE = "book/instructor-guide"
NOT_CHAPTERS = {HOME, ASSIGNMENTS_PAGE, INSTRUCTOR_GUIDE}
DIGITS = ROOT / "autograder" / "data" / "digits.csv.gz"

# topic -> (the chapter that is its home, phrases that must all appear in that chapter).
# Matching ignores case, Markdown emphasis and line breaks; a tuple lists synonyms, any one of
# which will do.
TOPICS: dict[str, tuple[str, list[str | tuple[str, ...]]]] = {
    "training as iterative improvement": (
        "book/what-is-training.md",
        ["training", "a little at a time", "repeat", "training loop"],
    ),
    "prediction vs reality, and the error": (
        "book/what-is-training.md",
        [("prediction versus reality", "prediction vs reality", "prediction vs. reality"),
         "error", "loss"],
    ),
    "loss functions: MSE, cross-entropy, confident wrong predictions": (
        "book/loss-functions.md",
        ["loss function", "mean squared error", "binary cross-entropy", "softmax",
         "cross-entropy",
         ("confidently wrong", "confident and wrong", "confident wrong", "confident mistake")],
    ),
    "minimising the loss": (
        "book/what-is-training.md",
        [("minimisation", "minimization", "minimise", "minimize"), "as small as possible"],
    ),
    "weights and biases": (
        "book/what-is-training.md",
        ["weights", "biases", "parameters"],
    ),
    "gradient descent and the learning rate (too large, too small)": (
        "book/gradient-descent.md",
        ["gradient descent", "learning rate", "too large", "too small",
         ("diverge", "divergence"), ("oscillate", "oscillates")],
    ),
    "backpropagation and the chain rule": (
        "book/backpropagation.md",
        ["backpropagation", "chain rule"],
    ),
    "computation graphs": (
        "book/backpropagation.md",
        ["computation graph", "forward pass", "backward pass"],
    ),
    "epochs, batches and iterations": (
        "book/batches-epochs.md",
        ["epoch", "batch", "iteration", "batch size"],
    ),
    "batch, stochastic and mini-batch gradient descent": (
        "book/batches-epochs.md",
        ["batch gradient descent", "stochastic gradient descent", "mini-batch gradient descent"],
    ),
    "momentum, Adam and AdamW": (
        "book/optimizers.md",
        ["momentum", "adam", "adamw", "bias correction", "weight decay"],
    ),
    "hyperparameters and their typical ranges": (
        "book/optimizers.md",
        ["hyperparameter", "typical range", "learning rate", "batch size", "epochs", "momentum"],
    ),
    "overfitting and its remedies (L2, dropout, early stopping, more data)": (
        "book/training-in-practice.md",
        ["overfitting", ("l2 regularisation", "l2 regularization", "l2 weight decay"),
         "dropout", "early stopping", "more data"],
    ),
    "underfitting and its remedies": (
        "book/training-in-practice.md",
        ["underfitting", ("bigger model", "larger model"), ("train longer", "training longer")],
    ),
    "vanishing gradients and their remedies (ReLU, batch normalisation, residual connections)": (
        "book/training-in-practice.md",
        ["vanishing gradient", "relu", ("batch normalisation", "batch normalization"),
         "residual connection"],
    ),
    "the training loop": (
        "book/training-in-practice.md",
        ["the whole loop", "forward pass", "backward pass", "update", "shuffle"],
    ),
    "convergence": (
        "book/training-in-practice.md",
        [("converged", "convergence"), "when to stop", "validation loss", "patience"],
    ),
}


# --- reading the sources --------------------------------------------------------------------


def toc_files() -> list[str]:
    """Every page listed in _toc.yml, in order (jb-book format, with or without parts)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key, []))

    walk([toc])  # the root's own entry holds "parts" or "chapters", but no "file"
    return [str(Path(f).with_suffix("")) for f in files]


def chapters() -> list[str]:
    return [f for f in toc_files() if f not in NOT_CHAPTERS]


def source(page: str) -> str:
    path = ROOT / page
    return (path if path.suffix else path.with_suffix(".md")).read_text(encoding="utf-8")


def prose(text: str) -> str:
    """Lower case, without Markdown emphasis, with every run of whitespace one space."""
    return re.sub(r"\s+", " ", re.sub(r"\*+", "", text.lower()))


def code_cells(text: str) -> list[tuple[str, str]]:
    """(options, body) of every ``{code-cell}``; options are the ``:key: value`` lines."""
    cells = []
    for match in re.finditer(r"^```\{code-cell\}[^\n]*\n(.*?)^```\s*$", text, re.S | re.M):
        lines = match.group(1).splitlines()
        options = []
        while lines and lines[0].startswith(":"):
            options.append(lines.pop(0))
        cells.append(("\n".join(options), "\n".join(lines)))
    return cells


FIGURE = re.compile(r"\bplt\.(subplots|subplot_mosaic|figure|plot|imshow|bar|scatter)\(")
HIDDEN_OUTPUT = re.compile(r"remove-output|remove-cell|hide-output")


# --- (a) every chapter is complete ----------------------------------------------------------


def test_the_toc_lists_chapters_and_the_two_extra_pages():
    pages = toc_files()
    assert chapters(), "_toc.yml lists no chapters"
    for page in (ASSIGNMENTS_PAGE, INSTRUCTOR_GUIDE):
        assert page in pages, f"{page} is not listed in _toc.yml"
    last_chapter = max(pages.index(c) for c in chapters())
    assert pages.index(ASSIGNMENTS_PAGE) > last_chapter, "the assignments page should follow the chapters"
    assert pages.index(INSTRUCTOR_GUIDE) > last_chapter, "the instructor guide should follow the chapters"


@pytest.mark.parametrize("chapter", chapters())
def test_chapter_opens_with_learning_goals(chapter):
    text = source(chapter)
    first_section = re.search(r"^## ", text, re.M)
    top = text[: first_section.start()] if first_section else text
    assert re.search(r"^(```+|:::+)\{admonition\} Learning goals\s*$", top, re.M | re.I), (
        f"{chapter} has no 'Learning goals' admonition before its first section"
    )


@pytest.mark.parametrize("chapter", chapters())
def test_chapter_has_three_quick_checks(chapter):
    checks = re.findall(r"^(?:```+|:::+)\{quickcheck\}", source(chapter), re.M)
    assert len(checks) >= 3, f"{chapter} has {len(checks)} quick checks; every chapter needs 3 or more"


@pytest.mark.parametrize("chapter", chapters())
def test_chapter_draws_a_figure(chapter):
    drawing = [body for options, body in code_cells(source(chapter))
               if FIGURE.search(body) and not HIDDEN_OUTPUT.search(options)]
    assert drawing, f"{chapter} has no code cell that draws a matplotlib figure (with its output shown)"


@pytest.mark.parametrize("chapter", chapters())
def test_chapter_ends_with_key_takeaways(chapter):
    assert re.search(r"^##+ Key takeaways\s*$", source(chapter), re.M), (
        f"{chapter} has no 'Key takeaways' section"
    )


# --- (b) every topic has a home -------------------------------------------------------------


@pytest.mark.parametrize("topic", TOPICS)
def test_topic_has_a_home(topic):
    home, phrases = TOPICS[topic]
    page = str(Path(home).with_suffix(""))
    assert page in chapters(), (
        f"topic {topic!r} lacks a home: it is expected in {home}, which is not a chapter in _toc.yml"
    )
    text = prose(source(home))
    missing = [
        " / ".join(options)
        for options in (p if isinstance(p, tuple) else (p,) for p in phrases)
        if not any(option.lower() in text for option in options)
    ]
    assert not missing, (
        f"topic {topic!r} lacks a home: it is expected in {home}, which does not mention "
        + "; ".join(repr(m) for m in missing)
    )


# --- (c) the assignments page offers every release notebook and the data --------------------


def download_targets(page: str) -> dict[Path, str]:
    """Resolved file -> link text of every {download} role on ``page``."""
    targets = {}
    for role in re.findall(r"\{download\}`([^`]+)`", source(page)):
        explicit = re.fullmatch(r"(.*?)\s*<([^<>]+)>", role, re.S)
        text, target = (explicit.group(1), explicit.group(2)) if explicit else (role, role)
        resolved = (ROOT / page).parent / target if not target.startswith("/") else ROOT / target[1:]
        targets[resolved.resolve()] = text
    return targets


def test_assignments_page_offers_every_release_notebook_and_the_digits():
    releases = sorted(EXERCISES.glob("*/*.ipynb"))
    assert len(releases) >= 4, f"expected the four release notebooks in exercises/, found {releases}"
    offered = download_targets(ASSIGNMENTS_PAGE)
    for wanted in [*releases, DIGITS]:
        assert wanted.resolve() in offered, (
            f"{ASSIGNMENTS_PAGE}.md has no {{download}} link to {wanted.relative_to(ROOT)}"
        )
    for target in offered:
        assert target.is_file(), f"{ASSIGNMENTS_PAGE}.md offers a missing file: {target}"


def test_home_page_links_the_assignments_and_the_instructor_guide():
    text = source(HOME)
    for page in (ASSIGNMENTS_PAGE, INSTRUCTOR_GUIDE):
        name = Path(page).name
        assert re.search(rf"\{{doc\}}`(?:[^`<]*<)?{re.escape(name)}>?`|\]\({re.escape(name)}(\.md)?\)",
                         text), f"{HOME}.md does not link to {page}"
