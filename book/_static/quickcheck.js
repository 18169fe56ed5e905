/*
 * Quick checks: instant feedback for the course's multiple-choice and numeric questions.
 * Plain JavaScript, no libraries, no network. The markup comes from book/_ext/quickcheck.py.
 *
 * A wrong answer is explained too: a multiple-choice option shows its own feedback, and a
 * numeric check recognises its likely wrong values (or gives its hint for any other).
 */
(function () {
  "use strict";

  var WRONG = "Not quite \u2014 try again.";
  var NOT_QUITE = "Not quite. ";

  // Show a verdict and, after it, one feedback element (moved into the live region, and
  // moved back, hidden, when another answer replaces it).
  function setFeedback(check, parts, correct, verdictText, shown) {
    var feedback = parts.feedback;
    Array.prototype.slice.call(feedback.children).forEach(function (child) {
      if (child.classList.contains("quickcheck-verdict")) {
        feedback.removeChild(child);
      } else {
        child.hidden = true;
        check.appendChild(child);
      }
    });
    feedback.textContent = "";
    var verdict = document.createElement("span");
    verdict.className = "quickcheck-verdict";
    verdict.textContent = verdictText;
    feedback.appendChild(verdict);
    (shown || []).forEach(function (element) {
      if (element) {
        element.hidden = false;
        feedback.appendChild(element);
      }
    });
    feedback.classList.toggle("is-correct", correct);
    feedback.classList.toggle("is-wrong", !correct);
    check.classList.toggle("is-solved", correct);
  }

  function initChoice(check, parts) {
    var options = check.querySelectorAll(".quickcheck-option");
    Array.prototype.forEach.call(options, function (option) {
      option.addEventListener("click", function () {
        var correct = option.getAttribute("data-correct") === "true";
        var number = option.getAttribute("data-option");
        var own = check.querySelector(
          '.quickcheck-option-feedback[data-option="' + number + '"]');
        Array.prototype.forEach.call(options, function (other) {
          other.setAttribute("aria-pressed", "false");
          other.classList.remove("is-correct", "is-wrong");
        });
        option.setAttribute("aria-pressed", "true");
        option.classList.add(correct ? "is-correct" : "is-wrong");
        var verdict = correct ? "Correct \u2014 " : (own ? NOT_QUITE : WRONG);
        setFeedback(check, parts, correct, verdict,
                    correct ? [own, parts.explanation] : [own]);
      });
    });
  }

  function parseNumber(text) {
    var cleaned = text.trim().replace(/\u2212/g, "-").replace(/\s+/g, "");
    if (/^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$/.test(cleaned)) {
      cleaned = cleaned.replace(/,/g, ""); // thousands separators: 2,500 -> 2500
    } else {
      cleaned = cleaned.replace(",", "."); // decimal comma: 2,30 -> 2.30
    }
    if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(cleaned)) {
      return NaN;
    }
    return parseFloat(cleaned);
  }

  function near(value, target, tolerance) {
    var slack = 1e-9 * Math.max(1, Math.abs(target));
    return Math.abs(value - target) <= tolerance + slack;
  }

  function initNumeric(check, parts) {
    var form = check.querySelector(".quickcheck-numeric");
    var input = check.querySelector(".quickcheck-input");
    var answer = parseFloat(check.getAttribute("data-answer"));
    var tolerance = parseFloat(check.getAttribute("data-tolerance")) || 0;
    var known = Array.prototype.slice.call(check.querySelectorAll(".quickcheck-wrong-value"));
    var hint = check.querySelector(".quickcheck-hint");
    if (!form || !input || isNaN(answer)) {
      return;
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var value = parseNumber(input.value);
      if (isNaN(value)) {
        setFeedback(check, parts, false, "Please type a number, for example 2.5.", []);
        check.classList.remove("is-solved");
        input.setAttribute("aria-invalid", "true");
        return;
      }
      var correct = near(value, answer, tolerance);
      input.setAttribute("aria-invalid", correct ? "false" : "true");
      if (correct) {
        var verdict = parts.explanation ? "Correct \u2014 " : "Correct!";
        setFeedback(check, parts, true, verdict, [parts.explanation]);
        return;
      }
      var match = known.filter(function (element) {
        return near(value, parseFloat(element.getAttribute("data-value")),
                    parseFloat(element.getAttribute("data-tolerance")) || 0);
      })[0];
      if (match) {
        setFeedback(check, parts, false, NOT_QUITE, [match]);
      } else {
        setFeedback(check, parts, false, hint ? NOT_QUITE : WRONG, [hint]);
      }
    });
  }

  function init() {
    var checks = document.querySelectorAll(".quickcheck");
    Array.prototype.forEach.call(checks, function (check) {
      if (check.classList.contains("is-ready")) {
        return;
      }
      var parts = {
        feedback: check.querySelector(".quickcheck-feedback"),
        explanation: check.querySelector(".quickcheck-explanation"),
      };
      if (!parts.feedback) {
        return;
      }
      if (check.getAttribute("data-kind") === "numeric") {
        initNumeric(check, parts);
      } else {
        initChoice(check, parts);
      }
      check.classList.add("is-ready");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
