"""The class report: one offline HTML page per graded class, built from results records.

The page is parsed back into elements to check what it says (distributions, pass rates,
mistakes, flags with working links, timing, per-submission feedback), that nothing a student
wrote becomes markup, that it stays small for a large class, and, in a headless Chromium with
the network cut, that it renders without errors or requests.
"""

from __future__ import annotations

import base64
import io
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from chromium import headless_chromium
from conftest import ROOT

from autograder import class_report
from autograder.class_report import report_command, write_class_report
from autograder.flags import Flag, FlagKind
from autograder.results import CheckResult, SubmissionResult, mistake_label, results_document

# --- a class, in code ----------------------------------------------------------------------

SUM_NOT_MEAN = "your gradient is {} times the expected one: did you sum instead of averaging over the batch?"
UNSTABLE = "softmax overflows for large logits: subtract the maximum first."
HOSTILE_NAME = "<script>window.pwned = 1</script>"
HOSTILE_FEEDBACK = "</pre><img src=x onerror=\"document.title='pwned'\"><script>window.pwned = 2</script>"
HOSTILE_FLAG = "suspicious code, review by hand: <b onmouseover=alert(1)>open()</b>"
HOSTILE_PATH = 'class/"><script>window.pwned=3</script>/01_losses/losses.ipynb'

# 01_losses as these tests see it: (function, title, points, hidden)
LOSSES = [
    ("mse", "matches known values", 2.0, False),
    ("mse_grad", "matches known values", 1.0, False),
    ("mse_grad", "matches the reference on random inputs", 1.5, True),
    ("cross_entropy", "is stable for logits of magnitude 1e4", 1.0, False),
    ("Q1", "correct answer", 1.0, True),
]
BACKPROP = [
    ("linear_backward", "agrees with finite differences", 2.0, False),
    ("linear_backward", "matches the reference on random inputs", 1.5, True),
    ("relu_backward", "masks the gradient", 1.0, False),
]


def graded(checks: list[tuple[str, str, float, bool]], failures: dict[str, tuple[str, str | None]],
           *, public_only: bool = False) -> list[CheckResult]:
    """Every check, passed unless its name is in ``failures`` (name -> (feedback, hint)); the
    mistake's label is made from its hint as the grader makes it."""
    results = []
    for function, title, points, hidden in checks:
        if hidden and public_only:
            continue
        name = f"{function}: {title}"
        feedback, hint = failures.get(name, ("", None))
        results.append(CheckResult(function, title, points, 0.0 if name in failures else points,
                                   hidden, feedback, mistake=mistake_label(hint) if hint else None,
                                   hint=hint))
    return results


def sum_not_mean(case: str, times: int = 4) -> tuple[str, str]:
    hint = SUM_NOT_MEAN.format(times)
    return (f"mse_grad: case {case}, seed 0\n  worst element [2, 1]: expected 0.25, got 1\n"
            f"  Likely mistake: {hint}", hint)


def make_class() -> list[SubmissionResult]:
    """Seven submissions: four of 01_losses, two of 02_backprop, one unrecognised notebook."""
    return [
        SubmissionResult("class/alice/01_losses/losses.ipynb", "alice", "01_losses",
                         graded(LOSSES, {}), seconds=0.4),
        SubmissionResult("class/bob/01_losses/losses.ipynb", "bob", "01_losses", graded(LOSSES, {
            "mse_grad: matches known values": sum_not_mean("(3, 4)"),
            "mse_grad: matches the reference on random inputs": sum_not_mean("(3, 4)"),
            "cross_entropy: is stable for logits of magnitude 1e4": ("cross_entropy: got nan", UNSTABLE),
        }), seconds=0.6),
        SubmissionResult("class/carol/01_losses/losses.ipynb", "carol", "01_losses", graded(LOSSES, {
            "mse_grad: matches known values": sum_not_mean("(5, 2)", times=5),
            "Q1: correct answer": ("Q1: expected another answer", None),
        }), flags=[Flag(FlagKind.TIMED_OUT, "timed out: softmax")], seconds=5.0),
        SubmissionResult(HOSTILE_PATH, HOSTILE_NAME, "01_losses", graded(LOSSES, {
            "mse: matches known values": (HOSTILE_FEEDBACK, None),
        }), flags=[Flag(FlagKind.SUSPICIOUS, HOSTILE_FLAG)], notes=["<i>a note</i>"], seconds=1.0),
        SubmissionResult("class/dave/02_backprop/backprop.ipynb", "dave", "02_backprop", graded(BACKPROP, {
            "relu_backward: masks the gradient": ("relu_backward: the gradient passes where x < 0",
                                                  "the ReLU mask is missing."),
        }, public_only=True), hidden_checks="no reference solutions found", seconds=2.0),
        SubmissionResult("class/erin/02_backprop/backprop.ipynb", "erin", "02_backprop",
                         graded(BACKPROP, {}), seconds=1.5),
        SubmissionResult("class/frank/misc/notes.ipynb", "frank", None, [], max_points=0.0,
                         flags=[Flag(FlagKind.NOT_GRADED, "unreadable notebook: not JSON")], seconds=0.1),
    ]


# --- reading the page back -----------------------------------------------------------------

VOID = {"meta", "img", "br", "hr", "input", "link", "source", "wbr", "col", "area", "base"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    children: list[Element | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def all(self, tag: str | None = None) -> list[Element]:
        found = []
        for child in self.children:
            if isinstance(child, Element):
                if tag is None or child.tag == tag:
                    found.append(child)
                found += child.all(tag)
        return found


class PageParser(HTMLParser):
    """A tree of the page's elements (the page is written with every element closed)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs))
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag):
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(html: str) -> Element:
    parser = PageParser()
    parser.feed(html)
    parser.close()
    assert parser.stack == [parser.root], "unclosed elements"
    return parser.root


def section(page: Element, name: str) -> Element:
    """The <section> whose heading is ``name``, or starts with the assignment id ``name``."""
    (found,) = [s for s in page.all("section")
                if (h := s.all("h2")[0].text()) == name or h.startswith(name + " ")]
    return found


def table_after(part: Element, heading: str) -> list[list[str]]:
    """The body rows (cell texts) of the first table after the <h3> called ``heading``."""
    children = [c for c in part.children if isinstance(c, Element)]
    start = next(i for i, c in enumerate(children) if c.tag == "h3" and c.text() == heading)
    table = next(c for c in children[start:] if c.tag == "table")
    return [[words(cell.text()) for cell in row.children if isinstance(cell, Element)]
            for row in table.all("tbody")[0].all("tr")]


def words(text: str) -> str:
    """``text`` with its runs of white space as one space (as a browser shows it)."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, str, Element]:
    path = write_class_report(make_class(), tmp_path_factory.mktemp("report") / "class.html",
                              title="Autumn <term>")
    html = path.read_text(encoding="utf-8")
    return path, html, parse(html)


# --- what the page says --------------------------------------------------------------------


def test_the_page_names_the_class_and_each_assignment(report):
    _, _, page = report
    assert page.all("title")[0].text() == "Autumn <term>"
    assert page.all("h1")[0].text() == "Autumn <term>"
    headings = [s.all("h2")[0].text() for s in page.all("section")]
    # frank's unreadable notebook is a file not graded, not an "unrecognised" assignment of 0 / 0
    assert headings == ["01_losses — Loss functions", "02_backprop — Backpropagation", "Every submission",
                        "Files not graded"]
    assert "7 submissions from 7 students, 2 assignments; 3 submissions flagged" in words(page.text())


def test_score_distribution_figure_and_statistics(report):
    _, _, page = report
    losses = section(page, "01_losses")
    # scores: alice 6.5, bob 3, carol 4.5, the hostile one 4.5 (out of 6.5)
    stats = [div.text() for div in losses.all("div")[0].all("div")]
    assert stats == ["4submissions", "4.62mean score", "4.5median score", "1full marks", "2flagged"]
    (figure,) = [f for f in losses.all("figure") if "Histogram" in f.text()]
    assert figure.text() == "Histogram of 4 scores; score (out of 6.5 points)."
    png = data_uri_png(figure.all("img")[0].attrs["src"])
    assert png.size[0] > 300 and png.size[1] > 100
    # public-only maxima differ from full ones: the histogram compares fractions instead
    backprop = section(page, "02_backprop")
    assert "Hidden checks did not run for 1 submission (no reference solutions found)" in backprop.text()
    (figure,) = [f for f in backprop.all("figure") if "Histogram" in f.text()]
    assert "% of each submission's maximum" in figure.text()


def data_uri_png(src: str | None):
    from PIL import Image

    assert src and src.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1], validate=True)))
    image.load()
    assert image.format == "PNG"
    return image


def test_pass_rate_of_every_check_most_failed_first(report):
    _, _, page = report
    losses = section(page, "01_losses")
    rows = table_after(losses, "Pass rate of every check")
    assert rows == [
        ["mse_grad: matches known values", "public", "2 / 4", "50%"],
        ["mse: matches known values", "public", "3 / 4", "75%"],
        ["mse_grad: matches the reference on random inputs", "hidden", "3 / 4", "75%"],
        ["cross_entropy: is stable for logits of magnitude 1e4", "public", "3 / 4", "75%"],
        ["Q1: correct answer", "hidden", "3 / 4", "75%"],
    ]
    assert any("Pass rate of every check, most-failed first." in f.text() for f in losses.all("figure"))
    # a check that did not run (public-only submission) is counted over those it ran in
    backprop = table_after(section(page, "02_backprop"), "Pass rate of every check")
    assert backprop[0] == ["relu_backward: masks the gradient", "public", "1 / 2", "50%"]
    assert ["linear_backward: matches the reference on random inputs", "hidden", "1 / 1", "100%"] in backprop


def test_mistakes_are_counted_once_per_student_and_grouped_by_function(report):
    _, _, page = report
    rows = table_after(section(page, "01_losses"), "Most common mistakes")
    # bob made the sum-instead-of-mean mistake in two checks: he counts once; the mistake is
    # shown as the checks told bob (his numbers), never as a label with "N" for numbers
    assert rows == [
        ["mse_grad", SUM_NOT_MEAN.format(4), "2 (50%)"],
        ["cross_entropy", UNSTABLE, "1 (25%)"],
    ]
    assert table_after(section(page, "02_backprop"), "Most common mistakes") == [
        ["relu_backward", "the ReLU mask is missing.", "1 (50%)"]]


def test_flagged_submissions_link_to_their_feedback(report):
    _, _, page = report
    ids = {e.attrs["id"]: e for e in page.all() if e.attrs.get("id")}
    for link in page.all("a"):  # without --feedback and with notebooks that are not there: anchors only
        href = link.attrs["href"]
        assert href and href.startswith("#") and href[1:] in ids, f"dangling link {href}"
    flagged = table_after(section(page, "01_losses"), "Flagged for review")
    assert flagged == [["carol", "timed out: softmax"], [HOSTILE_NAME, HOSTILE_FLAG]]
    losses = section(page, "01_losses")
    links = [row.all("a")[0] for row in losses.all("tr") if "timed out: softmax" in row.text()]
    target = ids[links[0].attrs["href"][1:]]
    assert target.tag == "details"
    assert target.all("summary")[0].text().startswith("carol · 01_losses · 4.5 / 6.5")
    assert "timed out: softmax" in target.text()
    not_graded = section(page, "Files not graded").all("tbody")[0].all("tr")
    assert [[c.text() for c in row.all("td")] for row in not_graded] == [
        ["frank", "class/frank/misc/notes.ipynb", "unreadable notebook: not JSON"]]


def test_grading_time_total_median_and_slowest(report):
    _, _, page = report
    losses = section(page, "01_losses").text()
    assert "Median 0.8 s per notebook" in losses  # 0.4, 0.6, 1.0, 5.0
    assert f"slowest: carol (5.0 s), {HOSTILE_NAME} (1.0 s), bob (0.6 s)." in losses
    # without the run's wall time (an older results file), the page says what it has
    assert ("grading took 10.6 s of notebook time (the results file does not record the run's wall time)"
            in words(page.all("p")[0].text()))


def test_every_submission_has_a_row_and_a_detail_section(report):
    _, _, page = report
    students = section(page, "Every submission")
    body = students.all("table")[0].all("tbody")[0].all("tr")
    rows = [[c.text() for c in r.children if isinstance(c, Element)] for r in body]
    # no feedback pages were written and no notebook is there: those cells are empty
    assert rows == [
        [HOSTILE_NAME, "01_losses", "4.5 / 6.5", "1", "details", "", ""],
        ["alice", "01_losses", "6.5 / 6.5", "0", "details", "", ""],
        ["bob", "01_losses", "3 / 6.5", "0", "details", "", ""],
        ["carol", "01_losses", "4.5 / 6.5", "1", "details", "", ""],
        ["dave", "02_backprop", "2 / 3", "0", "details", "", ""],
        ["erin", "02_backprop", "4.5 / 4.5", "0", "details", "", ""],
    ]
    details = page.all("details")
    assert len(details) == 6
    assert all(d.attrs.get("open") is None for d in details)  # collapsed until asked for
    bob = next(d for d in details if d.all("summary")[0].text().startswith("bob "))
    feedback = [pre.text() for pre in bob.all("pre")]
    assert feedback == [sum_not_mean("(3, 4)")[0], "cross_entropy: got nan"]
    assert bob.text().count("(same as above)") == 1  # the hidden mse_grad check, same message
    assert "✗ mse_grad: matches the reference on random inputs (0 / 1.5)" in bob.text()
    dave = next(d for d in details if d.all("summary")[0].text().startswith("dave "))
    assert "Hidden checks did not run: no reference solutions found." in dave.text()
    per_function = [[c.text() for c in r.children if isinstance(c, Element)]
                    for r in dave.all("table")[0].all("tr")]
    assert per_function == [["ok", "linear_backward", "2 / 2"], ["--", "relu_backward", "0 / 1"],
                            ["", "total", "2 / 3"]]


def test_student_text_stays_inert(report):
    _, html, page = report
    elements = page.all()
    assert not [e for e in elements if e.tag == "script"]
    handlers = [(e.tag, a) for e in elements for a in e.attrs if a.lower().startswith("on")]
    assert handlers == []
    assert [e.tag for e in elements if e.tag == "img"] == ["img"] * 4  # the figures, no more
    hostile = next(d for d in page.all("details") if HOSTILE_NAME in d.all("summary")[0].text())
    assert hostile.all("pre")[0].text() == HOSTILE_FEEDBACK
    assert HOSTILE_PATH in hostile.text() and HOSTILE_FLAG in hostile.text()
    assert "<i>a note</i>" in hostile.text() and not page.all("i")
    assert not [e for e in elements if e.text() == "open()"]
    # and a policy forbids scripts and requests even if escaping ever failed
    (policy,) = [m for m in page.all("meta") if m.attrs.get("http-equiv") == "Content-Security-Policy"]
    assert "default-src 'none'" in (policy.attrs["content"] or "")
    assert "script-src" not in (policy.attrs["content"] or "")


def test_the_page_is_self_contained(report):
    _, html, page = report
    assert not page.all("link") and not page.all("script")
    for element in page.all():
        for name in ("src", "href", "srcset", "action", "poster"):
            value = element.attrs.get(name)
            if value is not None:
                assert value.startswith(("#", "data:image/png;base64,")), (element.tag, value[:60])
    assert not re.search(r"url\(|@import|https?://", page.all("style")[0].text())


def test_figures_leave_no_pyplot_state_behind(report):
    import matplotlib.pyplot as plt

    assert plt.get_fignums() == []


def test_a_large_class_gives_a_bounded_page(tmp_path):
    """500 submissions, each failing every check with long feedback: a page of a few MB, and
    each section lists a bounded number of checks and characters."""
    checks = [(f"f{i // 3}", f"check {i}", 1.0, i % 2 == 1) for i in range(30)]
    long = "worst element [1, 2]: expected 0.5, got 0.25\n" + "x" * 3_900
    submissions = [
        SubmissionResult(f"class/s{i}/01_losses/n.ipynb", f"student {i:03d}", "01_losses",
                         graded(checks, {f"f{j // 3}: check {j}": (f"{j} {long}", None) for j in range(30)}),
                         seconds=0.5)
        for i in range(500)
    ]
    path = write_class_report(submissions, tmp_path / "big.html")
    size = path.stat().st_size
    assert size < 4_000_000, f"{size / 1e6:.1f} MB"
    page = parse(path.read_text(encoding="utf-8"))
    first = page.all("details")[0]
    assert len(first.all("h4")) == class_report.DETAIL_FAILED
    assert sum(len(p.text()) for p in first.all("pre")) <= class_report.DETAIL_FEEDBACK + 200
    assert "… and 18 more failed checks" in first.text()


# --- the report subcommand -----------------------------------------------------------------


def test_report_command_writes_the_page_from_a_results_file(tmp_path, capsys):
    results = tmp_path / "results.json"
    results.write_text(json.dumps(results_document(make_class())), encoding="utf-8")
    html = tmp_path / "class.html"
    assert report_command(results, html) == 0
    out, err = capsys.readouterr()
    assert out == f"Wrote {html}: class report of 7 submissions, 2 assignments.\n" and err == ""
    page = parse(html.read_text(encoding="utf-8"))
    assert len(page.all("details")) == 6
    assert table_after(section(page, "01_losses"), "Most common mistakes")[0][2] == "2 (50%)"


@pytest.mark.parametrize("content, message", [
    (None, "No such file or directory"),
    ("{not json", "not a results file (invalid JSON"),
    ('{"results": []}', 'not a results file: expected {"submissions": [...]}'),
    ('{"submissions": [{"student": "x"}]}', "a submission is malformed"),
    ('{"submissions": [{"path": "p", "seconds": "soon"}]}', "a submission is malformed"),
    (b"\xff\xfe\x00", "not UTF-8 text"),
])
def test_report_command_rejects_what_is_not_a_results_file(tmp_path, capsys, content, message):
    results = tmp_path / "results.json"
    if isinstance(content, str):
        results.write_text(content, encoding="utf-8")
    elif isinstance(content, bytes):
        results.write_bytes(content)
    assert report_command(results, tmp_path / "class.html") == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith(f"error: {results}: ")
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "class.html").exists()


def test_report_command_says_when_the_page_cannot_be_written(tmp_path, capsys):
    results = tmp_path / "results.json"
    results.write_text(json.dumps(results_document(make_class()[:1])), encoding="utf-8")
    assert report_command(results, tmp_path / "no-such-folder" / "class.html") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No such file or directory" in err


def test_odd_values_in_a_results_file_do_not_break_the_page(tmp_path, capsys):
    """A results file is data: an assignment that is a list, a mistake that is a number,
    infinite times and scores still give a page."""
    document = results_document(make_class()[:2])
    document["submissions"][0]["assignment"] = ["01_losses"]
    document["submissions"][1]["tests"][1]["mistake"] = 7
    document["submissions"][1]["seconds"] = float("inf")
    document["submissions"][1]["tests"][0]["score"] = float("nan")
    results = tmp_path / "results.json"
    results.write_text(json.dumps(document), encoding="utf-8")
    assert report_command(results, tmp_path / "class.html") == 0, capsys.readouterr().err
    page = parse((tmp_path / "class.html").read_text(encoding="utf-8"))
    assert len(page.all("details")) == 1  # an assignment that is not a name: listed as not graded
    assert [[words(c.text()) for c in row.all("td")] for row in section(page, "Files not graded").all("tr")
            if row.all("td")] == [["alice", "class/alice/01_losses/losses.ipynb",
                                   "not recognised as a notebook of any assignment"]]


# --- in a browser --------------------------------------------------------------------------

IMAGES_SHOWN = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
Promise.all(images.map(img => img.complete ? null : new Promise(ok => {
    img.addEventListener("load", ok); img.addEventListener("error", ok); setTimeout(ok, 10000); })))
  .then(() => done(images.map(img => [img.naturalWidth, img.getAttribute("src").slice(0, 30)])));
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with headless_chromium(tmp_path_factory) as driver:
        yield driver


@pytest.mark.slow
@pytest.mark.browser
def test_the_page_renders_offline_in_a_browser(report, browser):
    path, _, _ = report
    browser.get(path.as_uri())
    images = browser.execute_async_script(IMAGES_SHOWN)
    assert len(images) == 4 and all(width > 0 for width, _ in images), images
    foreign = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => !n.startsWith('data:'))")
    assert foreign == []
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    # nothing a student wrote ran
    assert browser.title == "Autumn <term>"
    assert browser.execute_script("return [document.scripts.length, window.pwned === undefined]") == [0, True]

    # a flagged submission's link leads to its section, which opens on a click
    browser.find_element("css selector", "section a[href^='#sub-']").click()
    target = browser.execute_script("const t = document.querySelector(':target'); return t && t.id")
    assert target and target.startswith("sub-")
    summary = browser.find_element("css selector", f"#{target} > summary")
    if not browser.execute_script(f"return document.getElementById('{target}').open"):
        summary.click()
    assert browser.execute_script(f"return document.getElementById('{target}').open") is True
    assert "timed out: softmax" in browser.find_element("id", target).text

    artifacts = ROOT / ".artifacts"
    artifacts.mkdir(exist_ok=True)
    browser.save_screenshot(str(artifacts / "class-report.png"))


def test_lateness_roster_similar_code_and_whole_flags(tmp_path):
    """The term on the page: each submission's lateness and grade, the roster's names, who
    handed in nothing and who is not on the roster; the similarity pairs as code side by side,
    to review by hand (hostile code shown as text); flags whole, never shortened."""
    from datetime import UTC, datetime

    from autograder.lateness import Lateness, LateStatus
    from autograder.roster import Missing, RosterEntry, RosterSummary
    from autograder.similarity import Party, SharedCode, SimilarPair, Snippet
    from autograder.summary import summarise

    results = make_class()
    bob, carol = results[1], results[2]
    bob.person = RosterEntry("bob", "Bob", "Marley")
    bob.late = Lateness(LateStatus.LATE, datetime(2025, 2, 7, tzinfo=UTC), penalty=0.65, source="nbgrader",
                        submitted_at=datetime(2025, 2, 8, 1, tzinfo=UTC), seconds_late=90_000, policy="10%")
    long_flag = "timed out: softmax, " + "then every later call of it failed at once " * 10
    carol.flags = [Flag(FlagKind.TIMED_OUT, long_flag)]
    code = "def mse(a, b):\n    return ((a - b) ** 2).mean()  # </td><script>window.pwned=4</script>\n"
    pair = SimilarPair("01_losses", Party("bob", "class/bob/01_losses/losses.ipynb"),
                       Party("carol", "class/carol/01_losses/losses.ipynb"), 0.93, 60.0,
                       (SharedCode(Snippet("mse", "<code cell 3>", 10, code, (2,)),
                                   Snippet("mse", "<code cell 2>", 4, code, (1, 2)), 40.0),))
    roster = RosterSummary(3, [Missing("zed", "01_losses", "Zed Zee")], ["dave"])
    summary = summarise(results, roster=roster, similar=[pair], wall_seconds=3.2)
    page = parse(write_class_report(summary, tmp_path / "class.html").read_text(encoding="utf-8"))
    assert "graded in 3.2 s (the run's wall time; 10.6 s of notebook time, several at once)." in \
        words(page.all("p")[0].text())
    students = section(page, "Every submission")
    header = [words(th.text()) for th in students.all("thead")[0].all("th")]
    assert header[:6] == ["student", "name", "assignment", "score", "late", "grade"]
    (row,) = [r for r in students.all("tbody")[0].all("tr") if r.all("td")[0].text() == "bob"]
    assert [words(td.text()) for td in row.all("td")][:6] == [
        "bob", "Bob Marley", "01_losses", "3 / 6.5", "1 day 1 h late: -0.65 = 2.35", "2.35"]
    flagged = table_after(section(page, "01_losses"), "Flagged for review")
    assert flagged[0] == ["carol", words(long_flag)] and "shortened" not in page.text()
    assert "1 student of the roster handed in nothing for 01_losses: zed (Zed Zee)." in \
        words(section(page, "01_losses").text())
    roster_part = words(section(page, "The roster").text())
    assert "1 student: zed (Zed Zee)" in roster_part and "Not on the roster (1): dave." in roster_part
    similar = section(page, "Similar code, to review by hand")
    assert "not a finding" in similar.text() and "No score was changed" in similar.text()
    sides = [t for t in similar.all("table") if t.attrs.get("class") == "code"]
    assert len(sides) == 2
    for side, shared in zip(sides, [(2,), (1, 2)], strict=True):
        rows = side.all("tbody")[0].all("tr")
        assert "".join(r.all("td")[1].text() + "\n" for r in rows) == code  # the code, as text
        marked = [i + 1 for i, r in enumerate(rows) if r.attrs.get("class") == "shared"]
        assert marked == list(shared)
    assert not page.all("script")
    assert sum(1 for p in page.all("p") if "students never see" in p.text()) == 1


def test_links_to_feedback_pages_and_notebooks_are_relative_and_lead_to_them(tmp_path):
    from autograder.feedback import write_feedback_pages

    results = make_class()[:3]
    for r in results:
        notebook = tmp_path / "class" / r.student / "01_losses" / "losses.ipynb"
        notebook.parent.mkdir(parents=True)
        notebook.write_text("{}")
        r.path = str(notebook)
    write_feedback_pages(results, tmp_path / "feedback pages", solutions=None)
    (tmp_path / "out").mkdir()
    report = write_class_report(results, tmp_path / "out" / "class.html",
                                feedback=tmp_path / "feedback pages")
    page = parse(report.read_text(encoding="utf-8"))
    files = [a.attrs["href"] for a in page.all("a") if not a.attrs["href"].startswith("#")]
    assert len(files) == 2 * 2 * len(results)  # in the table and in each submission's details
    for href in files:
        assert "://" not in href and not href.startswith("/") and " " not in href
        assert (report.parent / urllib.parse.unquote(href)).is_file(), href
