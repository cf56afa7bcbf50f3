/* Self-check questions (_ext/self_check.py): feedback in the page, no kernel, nothing graded.
   Each question is a <fieldset class="self-check">; its options are buttons whose
   data-correct says whether they are right. Choosing one (mouse, Enter or Space) marks it,
   writes "Correct." or "Not quite." into the live region and shows the explanation. */
(() => {
  "use strict";

  const RIGHT = "self-check-right";
  const WRONG = "self-check-wrong";

  function setUp(question) {
    const options = [...question.querySelectorAll("button.self-check-option")];
    const verdict = question.querySelector(".self-check-verdict");
    const explanation = question.querySelector(".self-check-explanation");
    const several = options.filter((o) => o.dataset.correct === "true").length > 1;
    for (const option of options) {
      option.addEventListener("click", () => {
        const right = option.dataset.correct === "true";
        for (const other of options) {
          other.setAttribute("aria-pressed", String(other === option));
          other.classList.remove(RIGHT, WRONG);
          other.querySelector(".self-check-mark").textContent = "";
        }
        option.classList.add(right ? RIGHT : WRONG);
        option.querySelector(".self-check-mark").textContent = right ? "✓" : "✗";
        verdict.className = `self-check-verdict ${right ? RIGHT : WRONG}`;
        verdict.textContent = right
          ? several
            ? "Correct. (More than one option is right.)"
            : "Correct."
          : "Not quite.";
        explanation.hidden = false;
      });
    }
  }

  // A typeset formula inside an option would be a Tab stop of its own inside the button.
  function untabFormulas() {
    for (const formula of document.querySelectorAll(".self-check-option mjx-container")) {
      formula.setAttribute("tabindex", "-1");
    }
  }

  function start() {
    document.querySelectorAll("fieldset.self-check").forEach(setUp);
    window.addEventListener("load", () => {
      const typeset = window.MathJax?.startup?.promise;
      if (typeset) typeset.then(untabFormulas);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
