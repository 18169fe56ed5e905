/*
 * Quick checks: instant feedback for the course's multiple-choice and numeric questions.
 * Plain JavaScript, no libraries, no network. The markup comes from book/_ext/quickcheck.py.
 */
(function () {
  "use strict";

  var WRONG = "Not quite \u2014 try again.";

  function setFeedback(check, parts, correct) {
    var feedback = parts.feedback;
    var explanation = parts.explanation;
    var verdict = document.createElement("span");
    verdict.className = "quickcheck-verdict";

    feedback.textContent = "";
    feedback.classList.toggle("is-correct", correct);
    feedback.classList.toggle("is-wrong", !correct);
    if (correct) {
      verdict.textContent = explanation ? "Correct \u2014 " : "Correct!";
      feedback.appendChild(verdict);
      if (explanation) {
        explanation.hidden = false;
        feedback.appendChild(explanation);
      }
    } else {
      verdict.textContent = WRONG;
      feedback.appendChild(verdict);
      if (explanation) {
        explanation.hidden = true;
        check.appendChild(explanation);
      }
    }
    check.classList.toggle("is-solved", correct);
  }

  function initChoice(check, parts) {
    var options = check.querySelectorAll(".quickcheck-option");
    Array.prototype.forEach.call(options, function (option) {
      option.addEventListener("click", function () {
        var correct = option.getAttribute("data-correct") === "true";
        Array.prototype.forEach.call(options, function (other) {
          other.setAttribute("aria-pressed", "false");
          other.classList.remove("is-correct", "is-wrong");
        });
        option.setAttribute("aria-pressed", "true");
        option.classList.add(correct ? "is-correct" : "is-wrong");
        setFeedback(check, parts, correct);
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

  function initNumeric(check, parts) {
    var form = check.querySelector(".quickcheck-numeric");
    var input = check.querySelector(".quickcheck-input");
    var answer = parseFloat(check.getAttribute("data-answer"));
    var tolerance = parseFloat(check.getAttribute("data-tolerance")) || 0;
    if (!form || !input || isNaN(answer)) {
      return;
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var value = parseNumber(input.value);
      if (isNaN(value)) {
        parts.feedback.textContent = "Please type a number, for example 2.5.";
        parts.feedback.classList.remove("is-correct");
        parts.feedback.classList.add("is-wrong");
        input.setAttribute("aria-invalid", "true");
        return;
      }
      var slack = 1e-9 * Math.max(1, Math.abs(answer));
      var correct = Math.abs(value - answer) <= tolerance + slack;
      input.setAttribute("aria-invalid", correct ? "false" : "true");
      setFeedback(check, parts, correct);
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
