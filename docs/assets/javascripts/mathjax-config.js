/* MathJax 3 for the course site, served from the site itself (assets/mathjax/, copied from the
 * npm package mathjax 3.2.2 at build time).
 *
 * What gets typeset:
 *  - Markdown pages: only the math that pymdownx.arithmatex marked (<span class="arithmatex">\(..\)</span>).
 *  - Notebook pages (.jupyter-wrapper): the notebook's own $...$ and $$...$$, as in Jupyter, and
 *    the headings in the table of contents (.md-nav--secondary), which carry the same $...$.
 * Everything else is left alone: the page chrome, code (pre/code are skipped), and the hidden text
 * of copy buttons (.clipboard-copy-txt, .md-clipboard), which would otherwise be typeset when a
 * code cell contains dollar signs.
 */
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: "tex2jax_ignore|md-container|md-header|md-dialog|md-search|clipboard-copy-txt|md-clipboard|zeroclipboard-container",
    processHtmlClass: "tex2jax_process|arithmatex|jupyter-wrapper|md-nav--secondary",
  },
};

/* With Material's instant navigation, pages arrive without a reload: typeset each new page, but
 * not on the first event (MathJax's startup already typeset it; doing it twice nests formulas). */
if (typeof document$ !== "undefined") {
  let first = true;
  document$.subscribe(() => {
    if (first) { first = false; return; }
    if (!window.MathJax || !window.MathJax.typesetPromise) return;
    window.MathJax.startup.output.clearCache();
    window.MathJax.typesetClear();
    window.MathJax.texReset();
    window.MathJax.typesetPromise();
  });
}
