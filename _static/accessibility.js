/* Keyboard access to formulas that scroll (issue 28; Jupyter Book links every .js file of
   _static/ into every page).

   The formulas are not Tab stops (MathJax's inTabOrder setting, _config.yml), but a display
   formula wider than the column scrolls sideways (reading.css), and a region that scrolls
   must be reachable by the keyboard (WCAG 2.1.1; axe's scrollable-region-focusable): such a
   formula is a Tab stop, the others are not. Checked when MathJax has typeset the page and
   whenever the window's width changes, as the theme does for code blocks that scroll. */
(function () {
  "use strict";

  function markWideFormulas() {
    document.querySelectorAll('article mjx-container[display="true"]').forEach(function (m) {
      var wide = m.scrollWidth > m.clientWidth + 1;
      m.tabIndex = wide ? 0 : -1;
    });
  }

  var timer = null;
  function later() {
    clearTimeout(timer);
    timer = setTimeout(markWideFormulas, 200);
  }

  window.addEventListener("load", function () {
    var startup = window.MathJax && window.MathJax.startup;
    if (!startup || !startup.promise) return;
    startup.promise.then(function () {
      markWideFormulas();
      window.addEventListener("resize", later);
    });
  });
})();
