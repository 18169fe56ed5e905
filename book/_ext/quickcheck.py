"""Quick checks: multiple-choice and numeric questions with instant feedback in the browser.

A quick check teaches on a wrong answer too: every option of a multiple-choice check carries
its own feedback, shown when a student picks it, and a numeric check explains its most likely
wrong values. Usage in a MyST page::

    ```{quickcheck} Which prediction of a true spam email costs the most?
    :answer: 3

    - 0.95

      Cheap: the model gave the truth 95 %, and $-\\ln 0.95 \\approx 0.05$.

    - 0.10

      Right: $-\\ln 0.10 \\approx 2.30$, the largest of the three.
    ```

    ```{quickcheck} How many iterations does one epoch of 10,000 examples take in batches of 32?
    :numeric: 313
    :explanation: 312 full batches and one last batch of 16.
    :hint: Divide, then think about the examples left over.

    - 312

      That counts the full batches only; the 16 left over still make a batch.
    ```

Multiple choice: ``:answer:`` is the 1-based number of the right option. The body ends with
the options as a bullet list; each item is the option (one line) followed by an indented
paragraph of feedback, and every option needs its feedback. Anything in the body before the
list is part of the question. ``:explanation:`` is optional and shown with a right answer.

Numeric: ``:numeric:`` is the answer and ``:explanation:`` is shown once it is found. The body
may end with a bullet list of likely wrong values, each followed by its feedback (at least
one is required); ``:hint:`` is shown for any other wrong number. The rest of the body is
part of the question. ``:tolerance:`` defaults to half a unit in the last decimal place
written (``2.30`` accepts 2.295 to 2.305), or 0 for a whole number; a listed wrong value is
matched the same way.

HTML builders render the markup that ``_static/quickcheck.js`` brings to life; other builders
(LaTeX, text, ...) get the question and a numbered list of options, without the answer.
"""

from __future__ import annotations

import math

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective
from static_files import add_static_path

__version__ = "2.0.0"



# --- nodes -------------------------------------------------------------------------------


class quickcheck(nodes.General, nodes.Element):  # noqa: N801 (docutils node naming)
    """The whole check: ``<div class="quickcheck">``."""


class quickcheck_question(nodes.General, nodes.Element):  # noqa: N801
    """The question text."""


class quickcheck_options(nodes.General, nodes.Element):  # noqa: N801
    """The group of option buttons."""


class quickcheck_option(nodes.General, nodes.Element):  # noqa: N801
    """One option: ``<button class="quickcheck-option" data-correct="...">``."""


class quickcheck_numeric(nodes.General, nodes.Element):  # noqa: N801
    """The answer box of a numeric check."""


class quickcheck_feedback(nodes.General, nodes.Element):  # noqa: N801
    """The live region the script fills in."""


class quickcheck_explanation(nodes.General, nodes.Element):  # noqa: N801
    """The explanation, revealed once the answer is right."""


class quickcheck_option_feedback(nodes.General, nodes.Element):  # noqa: N801
    """What to tell a student who picks one option (``option`` is its 1-based number)."""


class quickcheck_wrong_value(nodes.General, nodes.Element):  # noqa: N801
    """The feedback for one likely wrong value of a numeric check."""


class quickcheck_hint(nodes.General, nodes.Element):  # noqa: N801
    """Shown for a wrong number that is not one of the listed ones."""


# --- directive ---------------------------------------------------------------------------


def _number(text: str, option: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"{option} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{option} must be a finite number, got {text!r}")
    return value


def _default_tolerance(answer: str) -> float:
    """Half a unit in the last decimal place written: '2.30' -> 0.005, '313' -> 0."""
    mantissa = answer.strip().lower().split("e")[0]
    if "." not in mantissa:
        return 0.0
    decimals = len(mantissa.split(".", 1)[1])
    return 0.5 * 10.0 ** (-decimals)


class QuickCheckDirective(SphinxDirective):
    """``{quickcheck} question`` with ``:answer:`` (multiple choice) or ``:numeric:``."""

    optional_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec = {
        "answer": directives.unchanged_required,
        "explanation": directives.unchanged_required,
        "numeric": directives.unchanged_required,
        "tolerance": directives.unchanged_required,
        "hint": directives.unchanged_required,
    }

    def run(self) -> list[nodes.Node]:
        try:
            return self._run()
        except ValueError as err:
            raise self.error(f"quickcheck: {err}") from None

    def _run(self) -> list[nodes.Node]:
        opts = self.options
        if "answer" in opts and "numeric" in opts:
            raise ValueError("give either :answer: (multiple choice) or :numeric:, not both")
        if "answer" not in opts and "numeric" not in opts:
            raise ValueError("missing :answer: (1-based option number) or :numeric: (a number)")
        if "tolerance" in opts and "numeric" not in opts:
            raise ValueError(":tolerance: only applies to a :numeric: check")
        if "hint" in opts and "numeric" not in opts:
            raise ValueError(":hint: only applies to a :numeric: check (options have feedback)")

        serial = self.env.new_serialno("quickcheck") + 1
        check_id = f"quickcheck-{serial}"
        node = quickcheck(ids=[check_id], check_id=check_id)
        self.set_source_info(node)

        body = nodes.Element()
        if self.content:
            self.state.nested_parse(self.content, self.content_offset, body)
        body_nodes = list(body.children)

        question = quickcheck_question(ids=[f"{check_id}-question"])
        if self.arguments:
            inline, messages = self.state.inline_text(self.arguments[0], self.lineno)
            question += nodes.paragraph("", "", *inline)
            question += messages

        feedback: list[nodes.Element] = []
        if "numeric" in opts:
            wrong_values = []
            if body_nodes and isinstance(body_nodes[-1], nodes.bullet_list):
                wrong_values = self._wrong_values(body_nodes.pop())
            if not wrong_values:
                raise ValueError(
                    "a numeric check needs its likely wrong values, each with feedback, as a "
                    "bullet list at the end of the body ('- 312', then an indented paragraph)"
                )
            question += body_nodes
            node += question
            node += self._numeric(check_id)
            feedback += wrong_values
            if "hint" in opts:
                inline, messages = self.state.inline_text(opts["hint"], self.lineno)
                feedback += [quickcheck_hint("", *inline), *messages]
        else:
            if not body_nodes or not isinstance(body_nodes[-1], nodes.bullet_list):
                raise ValueError(
                    "a multiple-choice check needs its options as a bullet list "
                    "('- option', one per line) at the end of the body"
                )
            question += body_nodes[:-1]
            node += question
            options, option_feedback = self._options(body_nodes[-1])
            node += options
            feedback += option_feedback

        if not question.children:
            raise ValueError("the check has no question: write it after {quickcheck}")

        node += quickcheck_feedback()
        node += feedback
        if "explanation" in opts:
            inline, messages = self.state.inline_text(opts["explanation"], self.lineno)
            node += quickcheck_explanation("", *inline)
            node += messages
        return [node]

    @staticmethod
    def _split_item(item: nodes.list_item, what: str) -> tuple[nodes.paragraph, list[nodes.Node]]:
        """An item's first paragraph (the option or value) and the feedback blocks after it."""
        if not item.children or not isinstance(item[0], nodes.paragraph):
            raise ValueError(
                f"{what} must start with a single line of text (inline markup and math are "
                "fine; blocks such as code or lists are not)"
            )
        return item[0], list(item.children[1:])

    def _options(
        self, bullets: nodes.bullet_list
    ) -> tuple[quickcheck_options, list[quickcheck_option_feedback]]:
        items = [item for item in bullets.children if isinstance(item, nodes.list_item)]
        if len(items) < 2:
            raise ValueError(f"a multiple-choice check needs at least 2 options, got {len(items)}")
        try:
            answer = int(self.options["answer"])
        except ValueError:
            raise ValueError(
                f":answer: must be a whole number, got {self.options['answer']!r}"
            ) from None
        if not 1 <= answer <= len(items):
            raise ValueError(
                f":answer: {answer} is out of range: this check has {len(items)} options, "
                f"numbered 1 to {len(items)}"
            )
        group = quickcheck_options()
        feedback = []
        for number, item in enumerate(items, start=1):
            option, blocks = self._split_item(item, f"option {number}")
            if not blocks:
                raise ValueError(
                    f"option {number} has no feedback: after the option, add an indented "
                    "paragraph that tells a student who picks it why it is right or wrong"
                )
            group += quickcheck_option(
                "", *option.children, correct=number == answer, option=number
            )
            feedback.append(quickcheck_option_feedback("", *blocks, option=number))
        return group, feedback

    def _wrong_values(self, bullets: nodes.bullet_list) -> list[quickcheck_wrong_value]:
        answer, tolerance = self._answer_and_tolerance()
        found = []
        for item in bullets.children:
            if not isinstance(item, nodes.list_item):
                continue
            value, blocks = self._split_item(item, "a wrong value")
            text = value.astext().strip()
            number = _number(text, "a listed wrong value")
            if abs(number - answer) <= tolerance:
                raise ValueError(f"the listed wrong value {text} counts as the right answer")
            if not blocks:
                raise ValueError(f"the wrong value {text} has no feedback after it")
            found.append(quickcheck_wrong_value(
                "", *blocks, value=repr(number), tolerance=repr(_default_tolerance(text))
            ))
        return found

    def _answer_and_tolerance(self) -> tuple[float, float]:
        answer_text = self.options["numeric"].strip()
        answer = _number(answer_text, ":numeric:")
        if "tolerance" in self.options:
            tolerance = _number(self.options["tolerance"], ":tolerance:")
            if tolerance < 0:
                raise ValueError(f":tolerance: must not be negative, got {tolerance}")
        else:
            tolerance = _default_tolerance(answer_text)
        return answer, tolerance

    def _numeric(self, check_id: str) -> quickcheck_numeric:
        answer, tolerance = self._answer_and_tolerance()
        return quickcheck_numeric(
            answer=repr(answer), tolerance=repr(tolerance), input_id=f"{check_id}-input"
        )


# --- HTML --------------------------------------------------------------------------------


def visit_quickcheck_html(self, node: quickcheck) -> None:
    kind = "numeric" if any(isinstance(c, quickcheck_numeric) for c in node.children) else "choice"
    attrs = {"data-kind": kind, "role": "group", "aria-labelledby": f"{node['check_id']}-question"}
    for child in node.children:
        if isinstance(child, quickcheck_numeric):
            attrs["data-answer"] = child["answer"]
            attrs["data-tolerance"] = child["tolerance"]
    self.body.append(self.starttag(node, "div", "", CLASS="quickcheck", **attrs))
    self.body.append('<p class="quickcheck-title">Quick check</p>\n')


def depart_quickcheck_html(self, node: quickcheck) -> None:
    self.body.append(
        '<p class="quickcheck-nojs">Turn on JavaScript to get feedback on your answer.</p>\n'
    )
    self.body.append("</div>\n")


def visit_question_html(self, node: quickcheck_question) -> None:
    self.body.append(self.starttag(node, "div", "", CLASS="quickcheck-question"))


def visit_options_html(self, node: quickcheck_options) -> None:
    self.body.append(self.starttag(node, "div", "", CLASS="quickcheck-options"))


def visit_option_html(self, node: quickcheck_option) -> None:
    correct = "true" if node["correct"] else "false"
    self.body.append(
        self.starttag(
            node,
            "button",
            "",
            CLASS="quickcheck-option",
            type="button",
            **{"data-correct": correct, "aria-pressed": "false", "data-option": node["option"]},
        )
    )


def visit_option_feedback_html(self, node: quickcheck_option_feedback) -> None:
    self.body.append(self.starttag(
        node, "div", "", CLASS="quickcheck-option-feedback", hidden="",
        **{"data-option": node["option"]},
    ))


def visit_wrong_value_html(self, node: quickcheck_wrong_value) -> None:
    self.body.append(self.starttag(
        node, "div", "", CLASS="quickcheck-wrong-value", hidden="",
        **{"data-value": node["value"], "data-tolerance": node["tolerance"]},
    ))


def visit_hint_html(self, node: quickcheck_hint) -> None:
    self.body.append(self.starttag(node, "span", "", CLASS="quickcheck-hint", hidden=""))


def depart_button_html(self, node: nodes.Element) -> None:
    self.body.append("</button>\n")


def visit_numeric_html(self, node: quickcheck_numeric) -> None:
    input_id = node["input_id"]
    self.body.append(
        '<form class="quickcheck-numeric" novalidate>\n'
        f'<label class="quickcheck-label" for="{input_id}">Your answer</label>\n'
        f'<input class="quickcheck-input" id="{input_id}" type="text" inputmode="decimal" '
        'autocomplete="off" spellcheck="false">\n'
        '<button class="quickcheck-submit" type="submit">Check</button>\n'
        "</form>\n"
    )
    raise nodes.SkipNode


def visit_feedback_html(self, node: quickcheck_feedback) -> None:
    self.body.append('<div class="quickcheck-feedback" aria-live="polite"></div>\n')
    raise nodes.SkipNode


def visit_explanation_html(self, node: quickcheck_explanation) -> None:
    self.body.append(self.starttag(node, "span", "", CLASS="quickcheck-explanation", hidden=""))


def depart_span_html(self, node: nodes.Element) -> None:
    self.body.append("</span>\n")


def depart_div_html(self, node: nodes.Element) -> None:
    self.body.append("</div>\n")


def depart_skipped(self, node: nodes.Element) -> None:
    """Never called: the matching visit raises SkipNode."""


# --- other builders ----------------------------------------------------------------------


class QuickCheckFallback(SphinxPostTransform):
    """Outside HTML, show the question and numbered options, and leave out the answer."""

    default_priority = 100

    def run(self, **kwargs) -> None:
        if self.app.builder.format == "html":
            return
        for node in list(self.document.findall(quickcheck)):
            replacement = nodes.container(
                "", nodes.rubric("", "Quick check"), classes=["quickcheck"]
            )
            for child in node.children:  # feedback and explanations stay out
                if isinstance(child, quickcheck_question):
                    replacement += child.children
                elif isinstance(child, quickcheck_options):
                    choices = nodes.enumerated_list(enumtype="loweralpha")
                    for option in child.children:
                        choices += nodes.list_item("", nodes.paragraph("", "", *option.children))
                    replacement += choices
            node.replace_self(replacement)


# --- setup -------------------------------------------------------------------------------




def setup(app: Sphinx) -> dict:
    html = {
        quickcheck: (visit_quickcheck_html, depart_quickcheck_html),
        quickcheck_question: (visit_question_html, depart_div_html),
        quickcheck_options: (visit_options_html, depart_div_html),
        quickcheck_option: (visit_option_html, depart_button_html),
        quickcheck_numeric: (visit_numeric_html, depart_skipped),
        quickcheck_feedback: (visit_feedback_html, depart_skipped),
        quickcheck_explanation: (visit_explanation_html, depart_span_html),
        quickcheck_option_feedback: (visit_option_feedback_html, depart_div_html),
        quickcheck_wrong_value: (visit_wrong_value_html, depart_div_html),
        quickcheck_hint: (visit_hint_html, depart_span_html),
    }
    for node_class, visitors in html.items():
        app.add_node(node_class, html=visitors)
    app.add_directive("quickcheck", QuickCheckDirective)
    app.add_post_transform(QuickCheckFallback)
    app.connect("builder-inited", add_static_path)
    app.add_css_file("quickcheck.css")
    app.add_js_file("quickcheck.js", loading_method="defer")
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
