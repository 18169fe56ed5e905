"""The course site covers what the course promises, read from the Markdown sources (no build).

- Every chapter has learning goals at the top, at least three quick checks, a code cell that
  draws a figure and a "Key takeaways" section.
- Every topic of the course has a home: a chapter that teaches it, named in ``TOPICS``.
- The assignments page offers every release notebook and the digits data for download, and
  the home page links the assignments page and the instructor guide.
- Quick checks teach: every option has feedback of its own, numeric checks list their
  likely wrong values. Figures have alt text and use the course style; code fits the
  column, and long plumbing is folded. Each explorable follows a static figure of the same
  thing. Terms are defined before they are used, every chapter ends with further reading,
  and the source lessons' reading list is kept.

The slow tier (``test_book.py``) builds the site and checks the rendered pages.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import EXERCISES, EXPLORABLES, ROOT

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
    """(options, body) of every ``{code-cell}``; options are the ``:key: value`` lines or the
    YAML block between ``---`` lines that opens the cell."""
    cells = []
    for match in re.finditer(r"^```\{code-cell\}[^\n]*\n(.*?)^```\s*$", text, re.S | re.M):
        lines = match.group(1).splitlines()
        options = []
        if lines and lines[0] == "---":
            end = lines.index("---", 1)
            options, lines = lines[1:end], lines[end + 1:]
        while lines and lines[0].startswith(":"):
            options.append(lines.pop(0))
        cells.append(("\n".join(options), "\n".join(lines)))
    return cells


def cell_metadata(options: str) -> dict:
    """A code cell's options as a dict (``:tags: [a]`` lines or YAML)."""
    if not options.strip():
        return {}
    if all(line.startswith(":") for line in options.splitlines()):
        options = "\n".join(re.sub(r"^:([\w-]+):", r"\1:", line) for line in options.splitlines())
    return yaml.safe_load(options) or {}


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


# --- (d) figures, code and quick checks that teach -----------------------------------------

FOLDED = {"hide-input", "hide-cell", "remove-input", "remove-cell"}
CODE_LINE_LIMIT = 74  # characters: a line of code must fit the text column, folded or not
MAX_OPEN_CELL_LINES = 50  # longer lessons are split into steps; long plumbing is folded
MAX_OPEN_CODE_LINES = 160  # per chapter: the story comes first
FENCE_OPENER = re.compile(r"^(`{3,}|:{3,})\{([\w-]+)\}(.*)$")


def directive_blocks(text: str, name: str) -> list[tuple[str, list[str]]]:
    """(argument, body lines) of every ``{name}`` directive fenced with backticks."""
    blocks = []
    for match in re.finditer(r"^```\{" + re.escape(name) + r"\}([^\n]*)\n(.*?)^```\s*$",
                             text, re.S | re.M):
        blocks.append((match.group(1).strip(), match.group(2).splitlines()))
    return blocks


def quickcheck_parts(body: list[str]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """A quick check's ``:key: value`` options and its final list as (item, feedback) pairs."""
    options = {}
    lines = list(body)
    while lines and lines[0].startswith(":"):
        key, value = re.match(r"^:([\w-]+):\s*(.*)$", lines.pop(0)).groups()
        options[key] = value
    items: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.startswith("- "):
            items.append((line[2:].strip(), []))
        elif items and line.strip():
            items[-1][1].append(line.strip())
    return options, [(item, " ".join(feedback)) for item, feedback in items]


def is_figure_cell(body: str) -> bool:
    return bool(FIGURE.search(body) or "plt.show()" in body)


@pytest.mark.parametrize("chapter", chapters())
def test_every_option_of_a_quick_check_explains_itself(chapter):
    """Multiple choice: every option has its own feedback. Numeric: the likely wrong values
    are listed, each with feedback, and the explanation of the answer is there."""
    problems = []
    for number, (_, body) in enumerate(directive_blocks(source(chapter), "quickcheck"), 1):
        options, items = quickcheck_parts(body)
        if "numeric" in options:
            if not items:
                problems.append(f"check {number} lists no likely wrong values")
            if not options.get("explanation"):
                problems.append(f"check {number} has no explanation of its answer")
            for value, _ in items:
                if not re.fullmatch(r"-?\d+(\.\d+)?", value):
                    problems.append(f"check {number}: {value!r} is not a number")
        elif len(items) < 2:
            problems.append(f"check {number} has {len(items)} options")
        problems += [f"check {number}, option {item!r} has no feedback"
                     for item, feedback in items if len(feedback.split()) < 5]
        feedbacks = [feedback for _, feedback in items]
        if len(set(feedbacks)) != len(feedbacks):
            problems.append(f"check {number} repeats the same feedback for two answers")
    assert problems == []


def test_the_lessons_ten_thousand_by_thirty_two_example_explains_312():
    """The worked example of the source lessons, 10,000 examples in batches of 32, is a numeric
    check whose most likely slip, 312 (the full batches only), gets its own explanation."""
    for question, body in directive_blocks(source("book/batches-epochs"), "quickcheck"):
        options, items = quickcheck_parts(body)
        if options.get("numeric") == "313":
            assert "10,000" in question and "32" in question
            wrong = dict(items)
            assert "312" in wrong and "full" in wrong["312"]
            return
    pytest.fail("batches-epochs has no numeric quick check for 10,000 examples in batches of 32")


@pytest.mark.parametrize("chapter", chapters())
def test_every_figure_has_alt_text(chapter):
    missing = []
    for options, body in code_cells(source(chapter)):
        if not is_figure_cell(body):
            continue
        alt = cell_metadata(options).get("mystnb", {}).get("image", {}).get("alt", "")
        if len(alt.split()) < 12:
            missing.append(body.strip().splitlines()[0][:60])
    assert missing == [], f"figure cells without a meaningful alt text (12 words or more): {missing}"


@pytest.mark.parametrize("chapter", chapters())
def test_figures_use_the_course_style(chapter):
    """The course style (book/coursekit.py) draws figures for the column and records their
    font sizes; it must be on before the first figure of every chapter."""
    bodies = [body for _, body in code_cells(source(chapter))]
    first_figure = next(i for i, body in enumerate(bodies) if is_figure_cell(body))
    assert any("use_course_style()" in body for body in bodies[: first_figure + 1]), (
        f"{chapter} draws a figure before calling use_course_style()"
    )
    wide = [m.group(0) for body in bodies
            for m in re.finditer(r"figsize=\((\d+(\.\d+)?),", body) if float(m.group(1)) > 6.6]
    assert wide == [], f"{chapter} draws figures wider than the column (6.6 in): {wide}"


@pytest.mark.parametrize("chapter", chapters())
def test_code_fits_the_column(chapter):
    long_lines = [line for _, body in code_cells(source(chapter))
                  for line in body.splitlines() if len(line) > CODE_LINE_LIMIT]
    long_lines += [line for match in re.finditer(r"^```python\n(.*?)^```", source(chapter),
                                                 re.S | re.M)
                   for line in match.group(1).splitlines() if len(line) > CODE_LINE_LIMIT]
    assert long_lines == [], f"{len(long_lines)} lines longer than {CODE_LINE_LIMIT}: {long_lines}"


@pytest.mark.parametrize("chapter", chapters())
def test_the_story_comes_first(chapter):
    """Open code is the code that is the lesson: no open cell is a wall of code, and long
    plumbing (plot styling, data generation, experiment loops) is folded."""
    open_cells = [body for options, body in code_cells(source(chapter))
                  if not FOLDED & set(cell_metadata(options).get("tags", []))]
    long_cells = [len(body.splitlines()) for body in open_cells
                  if len(body.splitlines()) > MAX_OPEN_CELL_LINES]
    assert long_cells == [], f"open cells of {long_cells} lines in {chapter}"
    total = sum(len(body.splitlines()) for body in open_cells)
    assert total <= MAX_OPEN_CODE_LINES, f"{chapter} shows {total} lines of open code"
    plotting = [body.splitlines()[0] for body in open_cells if "plt.show()" in body]
    assert plotting == [], f"{chapter}: figure-drawing cells should be folded: {plotting}"


@pytest.mark.parametrize("chapter", chapters())
def test_code_excerpts_are_the_chapters_own_code(chapter):
    """A ``python`` block that shows a few lines of a folded cell quotes them exactly."""
    text = source(chapter)
    code = {line.strip() for _, body in code_cells(text) for line in body.splitlines()}
    for match in re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M):
        for line in match.group(1).splitlines():
            assert not line.strip() or line.strip() in code, (
                f"{chapter}: the excerpt line {line.strip()!r} is not in any code cell"
            )


@pytest.mark.parametrize("page", toc_files())
def test_directive_fences_hold_no_backticks(page):
    """A backtick in the line that opens a ```{directive} (a role in a quick check's question,
    say) stops it from being a fence at all, and the rest of the page is swallowed."""
    bad = [line for line in source(page).splitlines()
           if FENCE_OPENER.match(line) and "`" in FENCE_OPENER.match(line).group(3)]
    assert bad == []


# --- (e) explorables ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", EXPLORABLES)
def test_explorable_follows_a_static_figure_of_the_same_thing(kind):
    """Without JavaScript the reader still gets the picture: the explorable comes right after
    a code cell that draws it with matplotlib (only prose may stand between them)."""
    text = source(EXPLORABLES[kind])
    opener = re.search(r"^```\{explorable\} " + re.escape(kind) + r"\s*$", text, re.M)
    assert opener, f"{EXPLORABLES[kind]} has no {{explorable}} {kind}"
    before = text[: opener.start()]
    cells = list(re.finditer(r"^```\{code-cell\}[^\n]*\n(.*?)^```\s*$", before, re.S | re.M))
    assert cells and is_figure_cell(cells[-1].group(1)), "no figure cell before the explorable"
    between = before[cells[-1].end():]
    assert not re.search(r"^#{1,6} ", between, re.M), "the figure is in another section"


# --- (f) order, pacing and sources ----------------------------------------------------------

# Each term must be defined (in bold) where the course first uses it.
TERMS = {
    "batch": r"batch(es)?",
    "epoch": r"epochs?",
    "iteration": r"iterations?",
    "batch size": r"batch sizes?",
    "mini-batch": r"mini-batch(es)?",
}


def reading_text(text: str) -> str:
    """What a student reads, in order: code cells, the learning goals (a preview of terms to
    come) and the front matter removed."""
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
    text = re.sub(r"^```\{code-cell\}.*?^```\s*$", "", text, flags=re.S | re.M)
    return re.sub(r"^```\{admonition\} Learning goals.*?^```\s*$", "", text, flags=re.S | re.M)


@pytest.mark.parametrize("term", TERMS)
def test_terms_are_defined_before_they_are_used(term):
    pattern = re.compile(r"\b(" + TERMS[term] + r")\b", re.I)
    for chapter in chapters():
        text = reading_text(source(chapter))
        match = pattern.search(text)
        if match:
            in_bold = text[: match.start()].count("**") % 2 == 1  # inside **...**
            context = text[max(0, match.start() - 60): match.end() + 20]
            assert in_bold, (
                f"{term!r} is first used in {chapter} without being defined there: ...{context}..."
            )
            return
    pytest.fail(f"no chapter uses {term!r}")


def test_batches_come_before_the_optimizers_that_use_them():
    order = chapters()
    assert order.index("book/batches-epochs") < order.index("book/optimizers")


def further_reading(chapter: str) -> list[str]:
    """The entries of a chapter's "Further reading" section (one string per bullet)."""
    match = re.search(r"^## Further reading\s*$(.*?)(?=^## |\Z)", source(chapter), re.S | re.M)
    if not match:
        return []
    return [re.sub(r"\s+", " ", item).strip()
            for item in re.split(r"^- ", match.group(1), flags=re.M)[1:]]


CITATION = re.compile(
    r"^(?P<authors>[A-Z][^()]+?) \((?P<year>1[89]\d\d|20\d\d)\)\. (?P<title>[^.]{8,}?[.?]) (?P<venue>.{8,})"
)

# The reading list of the source lessons: (authors, year, words of the title).
LESSON_READING = [
    (("Rumelhart", "Hinton", "Williams"), "1986", "back-propagating errors"),
    (("Kingma", "Ba"), "2014", "Adam: A method for stochastic optimization"),
    (("Loshchilov", "Hutter"), "2017", "Decoupled weight decay regularization"),
    (("Pascanu", "Mikolov", "Bengio"), "2013", "difficulty of training recurrent neural networks"),
    (("LeCun", "Bengio", "Hinton"), "2015", "Deep learning"),
]


@pytest.mark.parametrize("chapter", chapters())
def test_chapter_has_further_reading_with_full_citations(chapter):
    entries = further_reading(chapter)
    assert len(entries) >= 2, f"{chapter} has no 'Further reading' section with 2 or more entries"
    for entry in entries:
        assert CITATION.match(entry), f"not a full citation (authors, year, title, venue): {entry}"


@pytest.mark.parametrize(("authors", "year", "title"), LESSON_READING)
def test_the_source_lessons_reading_list_is_kept(authors, year, title):
    entries = [entry for chapter in chapters() for entry in further_reading(chapter)]
    cited = [entry for entry in entries
             if f"({year})" in entry and title.lower() in entry.lower()
             and all(name in entry.split(f"({year})")[0] for name in authors)]
    assert cited, f"no chapter's further reading cites {', '.join(authors)} ({year})"


def test_home_page_states_no_reading_time_the_chapters_do_not_show():
    """The home page gives each chapter's reading time as computed from the chapter itself
    (the ``{reading-time}`` role), never a fixed promise such as "about ten minutes"."""
    text = source(HOME)
    promises = re.findall(r"\b(\d+|ten|five|fifteen|twenty)\s+minutes?\b", text, re.I)
    assert promises == [], f"{HOME}.md promises fixed reading times: {promises}"
    for chapter in chapters():
        name = Path(chapter).name
        assert f"{{reading-time}}`{name}`" in text, f"{HOME}.md gives no reading time for {name}"
