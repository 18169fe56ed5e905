"""The feedback pages handed back to students: one self-contained, offline page per student and
assignment, read back element by element.

Each page lists every function with every check marked, the feedback of each failed check, the
score and the grade after a late penalty, the notes and the flags meant for students (never
those for the instructor only), and what each function had to do with its math rendered as
MathML; nothing a student wrote becomes markup, nothing runs and nothing is requested. In
headless Chromium with the network cut, the math is laid out and no line scrolls sideways.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from chromium import headless_chromium
from conftest import ROOT, SOLUTIONS
from test_class_report import (
    HOSTILE_FEEDBACK,
    HOSTILE_FLAG,
    HOSTILE_NAME,
    Element,
    make_class,
    parse,
    words,
)

from autograder.errors import Withheld
from autograder.feedback import feedback_page, page_paths, safe_name, write_feedback_pages
from autograder.flags import Flag, FlagKind
from autograder.lateness import Lateness, LateStatus
from autograder.marks import check_line
from autograder.marks import outcome as mark
from autograder.results import Skipped, SubmissionResult
from autograder.summary import summarise


def by_student(results: list[SubmissionResult], name: str) -> SubmissionResult:
    (found,) = [r for r in results if r.student == name]
    return found


def page_of(result: SubmissionResult, **options) -> Element:
    return parse(feedback_page(result, solutions=SOLUTIONS, **options))


def sections(page: Element) -> dict[str, Element]:
    """function -> its <section> (the heading's first word)."""
    return {s.all("h2")[0].text().split()[0]: s for s in page.all("section")}


def check_items(section: Element) -> list[Element]:
    return [li for ul in section.all("ul") if ul.attrs.get("class") == "checks" for li in ul.all("li")]


def test_every_check_of_every_function_is_marked_with_its_points_and_feedback():
    bob = by_student(make_class(), "bob")
    page = page_of(bob)
    shown = sections(page)
    assert list(shown) == [f for f, _, _ in bob.by_function()]
    for function, score, points in bob.by_function():
        section = shown[function]
        heading = words(section.all("h2")[0].text())
        assert heading == f"{function} {score:g} / {points:g} points"
        checks = [c for c in bob.checks if c.function == function]
        items = check_items(section)
        assert len(items) == len(checks)
        for item, check in zip(items, checks, strict=True):
            line = words(item.text())
            assert line.startswith(f"{check_line(check)} ({check.score:g} / {check.points:g})"), line
            assert ("hidden" in [t.text() for t in item.all("span")]) == check.hidden
            feedback = [pre.text() for pre in item.all("pre")]
            if check.passed:
                assert feedback == [] and mark(check).symbol == "✓"
            elif check.name == "mse_grad: matches the reference on random inputs":  # the same text as above
                assert feedback == [] and "The same as above." in line
            else:
                assert feedback == [check.feedback.strip()]
    table = page.all("table")[0]
    contents = [[words(c.text()) for c in row.all("td")] for row in table.all("tbody")[0].all("tr")]
    assert contents == [["✓" if s == m else "✗", f, f"{s:g} / {m:g}"] for f, s, m in bob.by_function()]
    links = {a.attrs["href"] for a in page.all("table")[0].all("a")}
    assert links == {f"#{s.all('h2')[0].attrs['id']}" for s in page.all("section")}
    assert "Score: 3 / 6.5 points." in words(page.text())


def test_a_withheld_property_is_marked_as_counted_once_the_values_are_right():
    alice = by_student(make_class(), "alice")
    check = alice.checks[0]
    check.score, check.feedback = 0.0, "mse: the values are wrong, so this property is not counted yet."
    check.withheld = Withheld.VALUES
    item = check_items(sections(page_of(alice))["mse"])[0]
    assert words(item.text()).startswith(
        "· mse: matches known values (counted once the values are right) (0 / 2)")
    assert item.all("span")[0].attrs["class"] == "mark withheld"


def test_flags_for_the_instructor_never_reach_a_student():
    results = make_class()
    hostile = by_student(results, HOSTILE_NAME)
    assert hostile.flags[0].kind is FlagKind.SUSPICIOUS
    page = feedback_page(hostile, solutions=SOLUTIONS)
    assert "suspicious" not in page and "onmouseover" not in page and HOSTILE_FLAG not in page
    carol = page_of(by_student(results, "carol"))
    assert "timed out: softmax" in [words(li.text()) for li in carol.all("li")]  # a flag students see
    frank = page_of(by_student(results, "frank"))
    assert "Not graded: unreadable notebook: not JSON." in words(frank.text())
    # the grader's path of a notebook is shown to its student as the file name alone
    erin = by_student(results, "erin")
    erin.path = str(Path("/srv/grading/submitted/erin/02_backprop/backprop.ipynb"))
    erin.flag(FlagKind.CRASHED, f"crashed: {erin.path} ended its process")
    erin.note(f"{erin.path}: a cell failed to load")
    text = words(page_of(erin).text())
    assert "crashed: backprop.ipynb ended its process" in text and "backprop.ipynb: a cell failed" in text
    assert "/srv/grading" not in text
    hidden = by_student(results, "dave")
    hidden.flags += [Flag(FlagKind.UNTRUSTED, "sandbox: this machine could not confine the student"),
                     Flag(FlagKind.PLANTED, "a notebook planted in another folder")]
    page = feedback_page(hidden, solutions=SOLUTIONS)
    assert "sandbox" not in page and "planted" not in page
    assert "Only the public checks ran (no reference solutions found)" in words(parse(page).text())


def test_hostile_text_is_shown_as_text():
    hostile = by_student(make_class(), HOSTILE_NAME)
    page = page_of(hostile)
    elements = page.all()
    assert not [e for e in elements if e.tag in ("script", "img", "iframe", "i")]
    assert not [(e.tag, a) for e in elements for a in e.attrs if a.lower().startswith("on")]
    assert [pre.text() for pre in page.all("pre")] == [HOSTILE_FEEDBACK]
    assert page.all("title")[0].text() == f"Loss functions (01_losses): feedback for {HOSTILE_NAME}"
    assert "<i>a note</i>" in [li.text() for li in page.all("li")]


def test_pages_are_self_contained_and_offline():
    for result in make_class():
        page = page_of(result)
        assert not page.all("script") and not page.all("link") and not page.all("img")
        for element in page.all():
            for name in ("src", "href", "srcset", "action", "poster", "xlink:href"):
                value = element.attrs.get(name)
                assert value is None or value.startswith("#"), (element.tag, name, value)
        (policy,) = [m for m in page.all("meta") if m.attrs.get("http-equiv") == "Content-Security-Policy"]
        assert "default-src 'none'" in policy.attrs["content"] and "script-src" not in policy.attrs["content"]
        assert "http://" not in page.all("style")[0].text() and "https://" not in page.all("style")[0].text()


def test_what_each_function_had_to_do_with_its_math_as_mathml_and_no_solution_code():
    alice = by_student(make_class(), "alice")
    shown = sections(page_of(alice))
    task = shown["mse"].all("details")[0]
    assert words(task.all("summary")[0].text()) == "What mse had to do"
    formulas = task.all("math")
    assert formulas and {m.attrs["display"] for m in formulas} == {"inline", "block"}
    assert any(e.tag == "mfrac" for m in formulas for e in m.all())  # the 1/n of the mean
    assert "$" not in "".join(c if isinstance(c, str) else "" for c in task.all("div")[0].children)
    assert "\\frac" not in task.text()
    quiz = shown["Q1"].all("details")[0]
    assert "Q1" in quiz.text()
    # the assignment's text, never a solution or a hidden test
    page = feedback_page(alice, solutions=SOLUTIONS)
    reference = json.loads((SOLUTIONS / "01_losses" / "losses.ipynb").read_text(encoding="utf-8"))
    for cell in reference["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("solution") or meta.get("grade"):
            for line in "".join(cell["source"]).splitlines():
                if len(line.strip()) > 25 and "def " not in line and '"""' not in line:
                    assert line.strip() not in page, line


def test_hidden_checks_as_the_instructor_chooses():
    bob = by_student(make_class(), "bob")
    hidden = [c for c in bob.checks if c.hidden]
    assert any(not c.passed for c in hidden)
    results = page_of(bob, hidden="results")
    items = [words(li.text()) for s in sections(results).values() for li in check_items(s)]
    assert len(items) == len(bob.checks)  # every check still listed, with its mark and points
    mse_grad = sections(results)["mse_grad"]
    assert [pre.text() for pre in mse_grad.all("pre")] == [bob.checks[1].feedback.strip()]  # the public one
    assert "The feedback of hidden checks is not shown." in words(mse_grad.text())
    summary = page_of(bob, hidden="summary")
    items = [words(li.text()) for s in sections(summary).values() for li in check_items(s)]
    assert len(items) == len([c for c in bob.checks if not c.hidden])
    assert not any(c.title in " ".join(items) for c in hidden if c.title != "matches known values")
    assert "Checks against the reference solution: 0 of 1 passed, 0 / 1.5 points." in \
        words(sections(summary)["mse_grad"].text())
    with pytest.raises(ValueError, match="hidden must be one of"):
        write_feedback_pages([bob], Path("unused"), hidden="everything")


def test_lateness_and_the_grade_after_the_penalty():
    alice = by_student(make_class(), "alice")
    due = datetime(2025, 2, 7, 23, 59, tzinfo=UTC)
    alice.late = Lateness(LateStatus.LATE, due, penalty=0.65, source="nbgrader", seconds_late=36_060,
                          submitted_at=datetime(2025, 2, 8, 10, 0, tzinfo=UTC),
                          policy="10% of the points per day late")
    text = words(page_of(alice).text())
    assert "Score: 6.5 / 6.5 points; after the late penalty of 0.65: 5.85 / 6.5." in text
    assert f"Handed in: {alice.late.text()}." in text


def test_one_page_per_student_and_assignment_and_an_index_for_the_instructor(tmp_path):
    results = make_class()
    pages = write_feedback_pages(results, tmp_path / "feedback", solutions=SOLUTIONS)
    assert pages[-1] == tmp_path / "feedback" / "index.html"
    paths = page_paths(results)
    assert [tmp_path / "feedback" / p for p in paths] == pages[:-1]
    assert paths[0].as_posix() == "alice/01_losses.html" and paths[-1].as_posix() == "frank/not-graded.html"
    hostile = paths[[r.student for r in results].index(HOSTILE_NAME)]
    assert hostile.parent.name == safe_name(HOSTILE_NAME)
    assert "<" not in str(hostile) and " " not in str(hostile)
    index = parse(pages[-1].read_text(encoding="utf-8"))
    rows = [[words(c.text()) for c in row.all("td")] for row in index.all("tbody")[0].all("tr")]
    assert len(rows) == len(results) and rows[0][0] == HOSTILE_NAME
    for row in index.all("tbody")[0].all("tr"):
        assert (tmp_path / "feedback" / row.all("a")[0].attrs["href"]).is_file()


def test_a_student_none_of_whose_files_was_graded_hears_why(tmp_path):
    why = "not graded: only 01_losses/losses.ipynb is graded"
    skipped = [Skipped("class/gina/01_losses/losses (1).ipynb", "gina", why),
               Skipped("class/alice/01_losses/draft.ipynb", "alice", why)]
    pages = write_feedback_pages(summarise(make_class(), skipped), tmp_path / "feedback", solutions=SOLUTIONS)
    gina = tmp_path / "feedback" / "gina" / "not-graded.html"
    assert gina in pages and not (tmp_path / "feedback" / "alice" / "not-graded.html").exists()
    shown = words(parse(gina.read_text(encoding="utf-8")).text())
    assert "Not graded: none of your files was graded." in shown
    assert "losses (1).ipynb: not graded: only 01_losses/losses.ipynb is graded" in shown
    assert "class/gina" not in shown  # the grader's path is not the student's business


def test_file_names_never_collide():
    names = ["alice", "Alice", "al ice", "al_ice", "al?ice", ".hidden", "x" * 300, "x" * 301, ""]
    safe = [safe_name(n) for n in names]
    assert len(set(safe)) == len(names)  # (names that differ only in case: see page_paths)
    assert safe[0] == "alice" and all(len(s) < 80 and not s.startswith(".") and "/" not in s for s in safe)
    twins = [SubmissionResult("a", "alice", "01_losses"), SubmissionResult("b", "Alice", "01_losses"),
             SubmissionResult("c", "alice", None), SubmissionResult("d", "alice", None)]
    assert [p.as_posix() for p in page_paths(twins)] == [
        "alice/01_losses.html", "Alice/01_losses-2.html", "alice/not-graded.html", "alice/not-graded-2.html"]


# --- in a browser ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.browser
def test_a_page_renders_its_math_offline_and_never_scrolls_sideways(tmp_path, tmp_path_factory):
    bob = by_student(make_class(), "bob")
    bob.checks[1].feedback += "\n  " + "a_very_long_identifier_without_spaces_" * 8
    written = write_feedback_pages([bob], tmp_path, solutions=SOLUTIONS)
    (page,) = [p for p in written if p.name != "index.html"]
    with headless_chromium(tmp_path_factory) as browser:
        browser.set_window_size(640, 900)
        browser.get(page.as_uri())
        browser.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
        formulas = browser.execute_script("""
            return [...document.querySelectorAll('math')].map(m => {
                const box = m.getBoundingClientRect();
                const fraction = m.querySelector('mfrac');
                const parts = fraction ? [...fraction.children].map(c => c.getBoundingClientRect().top) : [];
                return [getComputedStyle(m).display, box.width, box.height, parts];
            });""")
        assert len(formulas) > 10
        assert all(display in ("math", "inline math", "block math") for display, *_ in formulas), formulas[:3]
        assert all(width > 0 and height > 0 for _, width, height, _ in formulas)
        # a fraction is laid out as one: its numerator above its denominator (MathML is drawn)
        stacked = [parts for *_, parts in formulas if len(parts) == 2]
        assert stacked and all(top < bottom for top, bottom in stacked)
        sideways = browser.execute_script("""
            const wide = [...document.querySelectorAll('body *')].filter(e =>
                e.tagName !== 'MATH' && !e.closest('math') && e.scrollWidth > e.clientWidth + 1
                && getComputedStyle(e).overflowX !== 'visible');
            return [document.documentElement.scrollWidth, document.documentElement.clientWidth,
                    wide.map(e => e.tagName)];""")
        assert sideways[0] <= sideways[1] and sideways[2] == [], sideways
        assert browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)") == []
        assert [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
        artifacts = ROOT / ".artifacts"
        artifacts.mkdir(exist_ok=True)
        browser.save_screenshot(str(artifacts / "feedback-page.png"))
