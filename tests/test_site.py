"""The course website, built with --strict and read in a real browser.

The site is built once per test session (`mkdocs build --strict` into a temporary folder; with
pytest-xdist, the workers share one build), served from 127.0.0.1 by a thread of this process, and
read by Debian's chromium driven by Playwright (no browser download). Screenshots of each lesson
page and of the draw page go to artifacts/screenshots/ (git-ignored; CI keeps them as artifacts).

The browser tests are skipped only when /usr/bin/chromium is absent (CI installs it with
`apt-get install -y chromium`). The first tests need no browser: the generated pages, the guard
against requests to other hosts, and the weights' JSON.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from course import curriculum, paths, webexport
from course.target import load_tree

REPO = paths.REPO
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Raw TeX that MathJax should have typeset: in a page's visible text, outside code.
RAW_TEX = re.compile(r"\$\$|\\(frac|begin\{|end\{|mathrm|mathbf|sum|sqrt|left|right|partial|cdot|tfrac|\(|\[)"
                     r"|\$[^$\n]{0,80}[\\^_{}][^$\n]{0,80}\$")

browser_test = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium); "
    "Playwright downloads no browser here")


# ---------------------------------------------------------------- without a browser


def _hooks():
    """tools/website/hooks.py, imported the way mkdocs imports it (its folder on sys.path)."""
    folder = str(REPO / "tools" / "website")
    sys.path.insert(0, folder)
    try:
        spec = importlib.util.spec_from_file_location("course_site_hooks", f"{folder}/hooks.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(folder)
    return module


def test_api_pages_show_every_graded_function_with_its_signature():
    pages = _hooks().site_pages
    for lesson in curriculum.LESSONS:
        page = pages.api_page(lesson)
        for function in lesson.functions:
            assert f"### `{function}`" in page and f"def {function}(" in page, f"{lesson.name}: {function}"
        assert ":math:" not in page and "``" not in page.replace("```", ""), "reST markup left in the page"


def test_troubleshooting_page_names_the_mistakes_the_mutant_catalogue_makes():
    from tests.mutants import Mutant  # noqa: F401  (the catalogues import it)

    page = _hooks().site_pages.troubleshooting().lower().replace("\\", "")
    expected = [(f.stem, m.expect) for f in sorted((REPO / "tests" / "mutants").glob("lesson_*.py"))
                for m in importlib.import_module(f"tests.mutants.{f.stem}").MUTANTS]
    missing = [(lesson, words) for lesson, words in expected if words.lower() not in page]
    # A few mutants are caught by words of an `expected=` line, which the page does not list.
    assert len(missing) <= len(expected) // 20, f"{len(missing)} of {len(expected)} not on the page: {missing}"


def test_post_page_removes_cdn_loaders_and_warns_about_other_hosts(caplog):
    hooks = _hooks()
    page = type("Page", (), {"file": type("File", (), {"src_uri": "lessons/lesson_02.ipynb"})()})()
    html = ('<!-- Load mathjax --><script src="https://cdnjs.cloudflare.com/x/latest.js"> </script>'
            '<script type="text/x-mathjax-config">init()</script><!-- End of mathjax configuration -->'
            '<script data-mkdocs-jupyter-mathjax="{&quot;url&quot;: &quot;https://cdn.jsdelivr.net/m.js&quot;}">'
            'load()</script><link rel="canonical" href="https://example.org/lessons/">'
            '<script src="../assets/mathjax/tex-mml-chtml.js"></script>'
            '<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">')
    with caplog.at_level("WARNING"):
        out = hooks.on_post_page(html, page, None)
    assert "cdnjs" not in out and "jsdelivr" not in out and "x-mathjax-config" not in out
    assert "../assets/mathjax/tex-mml-chtml.js" in out
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "fonts.googleapis.com" in warned and "example.org" not in warned


def test_export_web_writes_the_float32_weights_exactly(tmp_path):
    from course.cli import main

    rng = np.random.default_rng(0)
    params = {k: rng.standard_normal(shape).astype(np.float32) for k, shape in webexport.SHAPES.items()}
    np.savez(tmp_path / "weights.npz", **params)
    assert main(["export-web", "--weights", str(tmp_path / "weights.npz"), "--out", str(tmp_path / "w.json")]) == 0
    back = webexport.from_json(json.loads((tmp_path / "w.json").read_text()))
    for key, value in params.items():
        assert back[key].dtype == np.float32 and np.array_equal(back[key], value), key
    with pytest.raises(ValueError, match="784-128-10"):
        webexport.to_json({**params, "W1": params["W1"][:10]})


# ---------------------------------------------------------------- the built site, served


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The site, built once with --strict (shared by xdist workers through a lock file)."""
    if os.environ.get("COURSE_SITE_DIR"):  # a site you built yourself, e.g. while writing a page
        return Path(os.environ["COURSE_SITE_DIR"]).resolve()
    root = tmp_path_factory.getbasetemp()
    shared = root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root
    out, log, done = shared / "course-site", shared / "course-site.log", shared / "course-site.done"
    with _locked(shared / "course-site.lock"):
        if not done.exists():
            start = time.perf_counter()
            env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
            build = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
                                   cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
            log.write_text(build.stdout + build.stderr)
            done.write_text(f"{build.returncode} {time.perf_counter() - start:.1f}")
    code, seconds = done.read_text().split()
    if code != "0":
        pytest.fail(f"`mkdocs build --strict` failed (exit {code}):\n{log.read_text()[-6000:]}")
    print(f"site built in {seconds} s")
    return out


@contextlib.contextmanager
def _locked(path: Path):
    import fcntl

    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def base_url(site: Path):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # a page closed while its fonts were still loading: not the site's problem

    server = Server(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM),
            headless=True, args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900})
        yield context
        context.close()


class Visit:
    """One page load with everything that went wrong on the way."""

    def __init__(self, context, base: str, path: str):
        self.page, self.base, self.problems = context.new_page(), base, []
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console error: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"uncaught error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url} ({r.failure})"))
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))
        self.page.route("**/*", self._route)
        self.page.goto(base + path, wait_until="load")
        self.page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise"
                           " ? MathJax.startup.promise.then(() => true) : true")

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.base) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:  # never let a request leave the machine
            self.problems.append(f"request leaving 127.0.0.1: {url}")
            route.abort()


def _pages(site: Path) -> list[str]:
    """Every page of the site as a path relative to its root ("" for the home page)."""
    pages = []
    for index in sorted(site.rglob("index.html")):
        rel = index.parent.relative_to(site).as_posix()
        pages.append("" if rel == "." else rel + "/")
    return pages


def _lesson_paths(site: Path) -> list[tuple[str, str]]:
    """(name, page path) of the lessons of the course that the site has."""
    return [(lesson.name, f"lessons/{lesson.name}/") for lesson in curriculum.LESSONS
            if (site / "lessons" / lesson.name / "index.html").is_file()]


# ---------------------------------------------------------------- every page


PAGE_REPORT = """() => {
  const skip = 'pre, code, script, style, textarea, mjx-container, .clipboard-copy-txt, .md-clipboard';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const text = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest(skip) || el.getClientRects().length === 0) continue;
    text.push(node.textContent);
  }
  const images = Array.from(document.images).map((img) => ({
    src: img.currentSrc.slice(0, 80), complete: img.complete, width: img.naturalWidth,
    height: img.naturalHeight, shown: img.getClientRects().length > 0,
    box: img.getBoundingClientRect().width}));
  return {
    text: text.join(' '),
    formulas: document.querySelectorAll('mjx-container').length,
    nested: document.querySelectorAll('mjx-container mjx-container').length,
    errors: Array.from(document.querySelectorAll('mjx-merror')).map((e) => e.textContent),
    inCopy: document.querySelectorAll(
      '.md-clipboard mjx-container, .clipboard-copy-txt mjx-container, clipboard-copy mjx-container, '
      + 'button mjx-container, pre mjx-container, code mjx-container').length,
    images,
    links: Array.from(document.querySelectorAll('a[href]')).map((a) => a.href),
    title: document.title,
  };
}"""


@pytest.mark.slow
@browser_test
def test_every_page_loads_cleanly_offline_with_typeset_math(site, base_url, browser):
    pages = _pages(site)
    lesson_pages = {path for _, path in _lesson_paths(site)}
    problems, links = [], set()
    if len(lesson_pages) != len(curriculum.LESSONS):
        problems.append(f"the site has {len(lesson_pages)} lesson pages, the course {len(curriculum.LESSONS)}")
    for path in pages:
        visit = Visit(browser, base_url, path)
        report = visit.page.evaluate(PAGE_REPORT)
        where = f"/{path}"
        problems += [f"{where}: {p}" for p in visit.problems]
        raw = RAW_TEX.search(report["text"])
        if raw:
            context = report["text"][max(0, raw.start() - 60): raw.end() + 60]
            problems.append(f"{where}: raw TeX in the visible text: ...{context}...")
        if report["nested"]:
            problems.append(f"{where}: {report['nested']} formulas typeset inside other formulas")
        if report["inCopy"]:
            problems.append(f"{where}: {report['inCopy']} formulas typeset inside code or copy buttons")
        if report["errors"]:
            problems.append(f"{where}: MathJax errors {report['errors'][:3]}")
        if path in lesson_pages and report["formulas"] == 0:
            problems.append(f"{where}: a lesson page without a single typeset formula")
        for img in report["images"]:
            if not img["complete"] or not img["width"] or not img["height"] or (img["shown"] and not img["box"]):
                problems.append(f"{where}: image without a size: {img}")
        if path in lesson_pages and not any(i["width"] > 100 for i in report["images"]):
            problems.append(f"{where}: a lesson page without a figure")
        links |= {link.split("#")[0] for link in report["links"] if link.startswith(base_url)}
        visit.page.close()
    for link in sorted(links):
        try:
            with urllib.request.urlopen(link, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        if status != 200:
            problems.append(f"internal link {link} answered {status}")
    assert not problems, f"{len(problems)} problems on {len(pages)} pages:\n" + "\n".join(problems[:40])


@pytest.mark.slow
@browser_test
def test_lesson_pages_show_math_and_figures_in_screenshots(site, base_url, browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in _lesson_paths(site):
        visit = Visit(browser, base_url, path)
        page = visit.page
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), animations="disabled")
        figure = page.locator(".jupyter-wrapper img").first
        figure.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / f"{name}-figure.png"), animations="disabled")
        assert not visit.problems, visit.problems
        page.close()


# ---------------------------------------------------------------- the draw page


def _draw(page, strokes):
    """Draw polylines given in fractions of the canvas (0..1) with the mouse."""
    box = page.locator(".draw-digit__canvas").bounding_box()
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=8)
        page.mouse.up()


SEVEN = [[(0.25, 0.2), (0.75, 0.2), (0.62, 0.45), (0.48, 0.82)]]


@pytest.mark.slow
@browser_test
def test_drawing_a_digit_shows_a_prediction(site, base_url, browser):
    visit = Visit(browser, base_url, "draw/")
    page = visit.page
    page.wait_for_selector(".draw-digit[data-ready='true']", timeout=10_000)
    _draw(page, SEVEN)
    page.wait_for_selector(".draw-digit[data-prediction]", timeout=5_000)
    last = page.evaluate("() => window.courseDraw.last")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "draw.png"), animations="disabled")
    probs, x = np.array(last["probs"]), np.array(last["input"]).reshape(28, 28)
    assert probs.shape == (10,) and abs(probs.sum() - 1) < 1e-6
    assert last["prediction"] == int(probs.argmax()) == 7, f"a drawn 7 read as {probs.round(3)}"
    bars = page.locator(".draw-bar__value").all_inner_texts()
    assert bars[7] == f"{100 * probs[7]:.1f}%"
    # MNIST's preparation: ink in [0, 1], fitted in 20x20, centre of mass at the centre of 28x28.
    rows, cols = np.nonzero(x)
    assert x.min() >= 0 and x.max() <= 1 and max(np.ptp(rows), np.ptp(cols)) + 1 <= 21
    com = np.array([(x.sum(axis=1) * np.arange(28)).sum(), (x.sum(axis=0) * np.arange(28)).sum()]) / x.sum()
    assert np.all(np.abs(com + 0.5 - 14) <= 1.0), f"centre of mass at {com + 0.5}, expected (14, 14)"
    page.click(".draw-digit__clear")
    assert page.get_attribute(".draw-digit", "data-prediction") is None
    # A reader's own network, exported by `course export-web`, loaded from a file.
    page.set_input_files(".draw-digit__file", files=[{
        "name": "my-network.json", "mimeType": "application/json",
        "buffer": (site / "assets" / "draw" / "weights.json").read_bytes()}])
    page.wait_for_function("() => document.querySelector('.draw-digit__status').textContent"
                           ".startsWith('Your network (my-network.json)')", timeout=5_000)
    _draw(page, SEVEN)
    page.wait_for_selector(".draw-digit[data-prediction='7']", timeout=5_000)
    assert not visit.problems, visit.problems
    page.close()


@pytest.mark.slow
@browser_test
def test_drawing_with_a_finger_shows_a_prediction_without_scrolling(site, base_url, browser):
    visit = Visit(browser, base_url, "draw/")
    page = visit.page
    page.wait_for_selector(".draw-digit[data-ready='true']", timeout=10_000)
    cdp = browser.new_cdp_session(page)
    cdp.send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 1})
    box = page.locator(".draw-digit__canvas").bounding_box()
    scrolled = page.evaluate("window.scrollY")

    def touch(kind, x=None, y=None):
        points = [] if x is None else [{"x": box["x"] + x * box["width"], "y": box["y"] + y * box["height"]}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", 0.5, 0.15)
    for step in range(1, 25):  # a vertical stroke: a 1
        touch("touchMove", 0.5, 0.15 + 0.7 * step / 24)
    touch("touchEnd")
    page.wait_for_selector(".draw-digit[data-prediction='1']", timeout=5_000)
    assert page.evaluate("window.scrollY") == scrolled, "drawing with a finger scrolled the page"
    assert not visit.problems, visit.problems
    page.close()


@pytest.mark.slow
@browser_test
def test_javascript_forward_pass_matches_numpy_on_mnist_test_images(site, base_url, browser):
    params = webexport.from_json(json.loads((site / "assets" / "draw" / "weights.json").read_text()))
    package = load_tree(paths.SOLUTIONS)
    data = importlib.import_module(f"{package.__name__}.lesson_01.data")
    forward = importlib.import_module(f"{package.__name__}.lesson_02.forward")
    (_, _), (x_test, y_test) = data.load_mnist(paths.EMBEDDED_DATA)
    x = data.preprocess_images(x_test[:12])  # (12, 784) float32
    expected, _ = forward.forward({k: v.astype(np.float64) for k, v in params.items()}, x.astype(np.float64))

    visit = Visit(browser, base_url, "draw/")
    page = visit.page
    got = np.array(page.evaluate("images => window.courseDraw.forwardBatch(images)", x.tolist()))
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)
    # The page's preprocessing of a test digit drawn 10 times larger gives back what the network reads.
    redrawn = np.array(page.evaluate("""images => images.map((image) => {
        const ink = new Float32Array(280 * 280);  // the 28x28 digit, each pixel a 10x10 block
        for (let y = 0; y < 280; y++) for (let x = 0; x < 280; x++)
          ink[y * 280 + x] = image[Math.floor(y / 10) * 28 + Math.floor(x / 10)] / 255;
        return Array.from(window.courseDraw.preprocess(ink, 280, 280));
      })""", x_test[:12].reshape(12, -1).tolist()))
    again, _ = forward.forward(params, redrawn.astype(np.float32))
    agree = np.mean(again.argmax(axis=1) == expected.argmax(axis=1))
    assert agree >= 0.9, f"the page's preprocessing changed {1 - agree:.0%} of the predictions on MNIST digits"
    assert not visit.problems, visit.problems
    page.close()
