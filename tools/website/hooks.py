"""MkDocs hooks of the course website (``hooks:`` in mkdocs.yml).

What they add to a plain MkDocs + Material + mkdocs-jupyter build:

- **One source of truth.** Each lesson page is ``solutions/lesson_0N/lesson_0N.py``, the script the
  learner's ``lessons/lesson_0N/lesson_0N.ipynb`` is generated from, executed top to bottom in
  its own folder against the reference (``COURSE_TREE=solutions``), on the embedded MNIST subset
  unless ``MNIST_DIR`` is set, two notebooks at a time, then rendered by mkdocs-jupyter as
  ``lessons/lesson_0N/``. A failing cell fails the build with its traceback. An executed notebook
  is cached in ``.cache/site/executed/`` under the hash of everything it runs (the notebook, the
  reference lessons up to its own, course/, the data), so a change of the code executes it again:
  never a figure that the code can no longer produce.
- **Generated pages.** The API page of each lesson, the course map on the home page and the
  troubleshooting catalogue come from the code (tools/website/site_pages.py).
- **Offline.** MathJax 3.2.2 (npm, pinned in package-lock.json) is copied into the built site;
  mkdocs-jupyter's own MathJax and Mermaid loaders, which point at CDNs, are removed; any
  remaining script, stylesheet or image from another host is a warning (an error with --strict).
- **The draw page's network.** ``course export-web`` trains the reference on the embedded subset
  and writes ``assets/draw/weights.json`` into the built site (cached under ``.cache/site/``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File
from mkdocs.structure.toc import get_toc

import site_pages  # tools/website/site_pages.py (mkdocs puts this folder on sys.path while loading hooks)
from course import curriculum, paths, webexport

log = logging.getLogger("mkdocs.hooks.course")

REPO = paths.REPO
MATHJAX = REPO / "node_modules" / "mathjax"
MATHJAX_VERSION = "3.2.2"
# What the page loads (tex-mml-chtml.js) and what it may load on demand (extensions, fonts, menu).
MATHJAX_PARTS = ("tex-mml-chtml.js", "input", "output/chtml.js", "output/chtml", "ui", "a11y", "sre", "adaptors")
CACHE = REPO / ".cache"
EXECUTED = CACHE / "site" / "executed"
# What a notebook runs besides the reference: the course package's modules and its data subset
# (not its subpackages, such as the grader, which no notebook imports).
COURSE_CODE = (*sorted((REPO / "course").glob("*.py")), paths.EMBEDDED_DATA)
JUPYTER_PLUGIN = "mkdocs-jupyter"
_CDN_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)
_CDN_MARKS = ("data-mkdocs-jupyter-mathjax", "text/x-mathjax-config", "cdnjs.cloudflare.com",
              "cdn.jsdelivr.net", ".jp-Mermaid")
_TAG = re.compile(r"<(script|link|img|iframe|source|video|audio|object|embed)\b[^>]*>", re.I)
_URL = re.compile(r"\b(?:src|href|data)=[\"']?((?:https?:)?//[^\"' >]+)", re.I)
_NOT_A_LOAD = re.compile(r"\brel=[\"']?(canonical|alternate|author|license|me)\b", re.I)  # links, not requests


def _digest(*roots: Path, extra: str = "") -> str:
    """A short hash of every file under ``roots`` (paths and bytes), caches and bytecode left out."""
    sha = hashlib.sha256(extra.encode())
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc" or ".ipynb_checkpoints" in path.parts:
                continue
            sha.update(str(path.relative_to(REPO)).encode())
            sha.update(path.read_bytes())
    return sha.hexdigest()[:16]


def _notebooks() -> list[curriculum.Lesson]:
    """The lessons whose notebook exists."""
    return [lesson for lesson in curriculum.LESSONS if site_pages.notebook_source(lesson).is_file()]


# ------------------------------------------------------------------ configuration


def on_config(config):
    # The notebooks run against the reference, on the embedded subset unless MNIST_DIR says otherwise.
    os.environ["COURSE_TREE"] = "solutions"
    os.environ.setdefault(paths.DATA_ENV, str(paths.EMBEDDED_DATA))
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # a kernel warning on stderr, not ours
    # Two kernels run at once on small matrices: one BLAS thread each (several are far slower).
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")

    for lesson in curriculum.LESSONS:
        if not site_pages.notebook_source(lesson).is_file():
            log.warning(f"{lesson.label}: {site_pages.notebook_source(lesson).relative_to(REPO)} "
                        f"does not exist yet; its page is left out")
    config.nav = [_expand(item) for item in config.nav or []]

    plugin = config.plugins.get(JUPYTER_PLUGIN)
    if plugin is None:
        raise PluginError(f"mkdocs.yml: the {JUPYTER_PLUGIN} plugin is missing")
    if plugin.config["execute"]:
        raise PluginError(f"mkdocs.yml: set {JUPYTER_PLUGIN}'s `execute: false`: the hooks execute the "
                          f"notebooks (in parallel, cached by the code they run) before it renders them")

    _ensure_mathjax()
    return config


def _expand(item):
    """Replace the nav markers ``course:lessons`` / ``course:api`` with one entry per lesson."""
    if isinstance(item, dict):
        return {key: _expand_value(value) for key, value in item.items()}
    return item


def _expand_value(value):
    if value == "course:lessons":
        return [{site_pages.title(lesson): site_pages.lesson_page(lesson)} for lesson in _notebooks()]
    if value == "course:api":
        return [{f"{lesson.number:02d} {lesson.title}": site_pages.api_path(lesson)} for lesson in curriculum.LESSONS]
    if isinstance(value, list):
        return [_expand(v) for v in value]
    return value


def _ensure_mathjax() -> None:
    """node_modules/mathjax at the pinned version, installed with `npm ci` from package-lock.json if missing."""
    package = MATHJAX / "package.json"
    if package.is_file() and f'"version": "{MATHJAX_VERSION}"' in package.read_text():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise PluginError(f"MathJax {MATHJAX_VERSION} is missing from node_modules/ and npm is not installed: "
                          f"install Node.js (Debian: apt-get install npm), then run `npm ci` in {REPO}")
    log.info("MathJax is missing: running `npm ci` (package-lock.json pins mathjax %s)", MATHJAX_VERSION)
    done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0 or not package.is_file():
        raise PluginError(f"`npm ci` failed in {REPO}:\n{done.stdout}\n{done.stderr}")


# ------------------------------------------------------------------ pages


@event_priority(50)  # before mkdocs-jupyter wraps the notebooks
def on_files(files, config):
    # mkdocs-jupyter reads a page from src_dir/src_uri: the executed notebooks are written to
    # .cache/site/notebooks/lessons/lesson_0N.ipynb and added as pages of that folder.
    pages = CACHE / "site" / "notebooks"
    shutil.rmtree(pages, ignore_errors=True)
    (pages / "lessons").mkdir(parents=True)
    executed = execute_notebooks(_notebooks())
    for lesson in _notebooks():
        uri = site_pages.lesson_page(lesson)
        shutil.copyfile(executed[lesson.name], pages / uri)
        files.append(File(uri, src_dir=str(pages), dest_dir=config.site_dir,
                          use_directory_urls=config.use_directory_urls))
    for lesson in curriculum.LESSONS:
        files.append(File.generated(config, site_pages.api_path(lesson), content=site_pages.api_page(lesson)))
    return files


def execute_notebooks(lessons: list[curriculum.Lesson]) -> dict[str, Path]:
    """Each lesson's notebook executed top to bottom on the reference, two at a time.

    A notebook is executed again only when it, the reference lessons up to its own, course/ or
    the data change (its cache file name is the hash of all of them). Any failing cell stops the
    build with the cell's traceback.
    """
    EXECUTED.mkdir(parents=True, exist_ok=True)
    data = os.environ[paths.DATA_ENV]
    wanted = {}
    for lesson in lessons:
        deps = [site_pages.notebook_source(lesson), paths.SOLUTIONS / "__init__.py", *COURSE_CODE,
                *(paths.SOLUTIONS / f"lesson_{k:02d}" for k in range(1, lesson.number + 1))]
        wanted[lesson.name] = EXECUTED / f"{lesson.name}-{_digest(*deps, extra=data)}.ipynb"
    todo = [lesson for lesson in lessons if not wanted[lesson.name].is_file()]
    if todo:
        log.info("Executing %s on the reference (%s) ...", ", ".join(l.name for l in todo), data)
        with ThreadPoolExecutor(max_workers=min(2, len(todo))) as pool:
            list(pool.map(lambda lesson: _execute(lesson, wanted[lesson.name]), todo))
    for old in EXECUTED.glob("*.ipynb"):  # notebooks executed by older code
        if old not in wanted.values():
            old.unlink()
    return wanted


def _execute(lesson: curriculum.Lesson, out: Path) -> None:
    import jupytext
    import nbclient
    import nbformat
    from nbclient.exceptions import CellExecutionError

    source = site_pages.notebook_source(lesson)
    notebook = jupytext.read(source)
    start = time.perf_counter()
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=False,
                                     record_timing=False, resources={"metadata": {"path": str(source.parent)}})
    try:
        client.execute()
    except CellExecutionError as exc:
        traceback = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # the kernel's colours
        raise PluginError(f"{source.relative_to(REPO)}: a cell failed on the reference:\n{traceback}") from None
    tmp = out.with_suffix(".tmp")
    nbformat.write(notebook, tmp)
    tmp.replace(out)
    log.info("Executed %s in %.1f s", source.relative_to(REPO), time.perf_counter() - start)


def on_page_markdown(markdown, page, config, files):
    if "<!-- course:lesson-table -->" in markdown:
        markdown = markdown.replace("<!-- course:lesson-table -->", site_pages.lesson_table(page.file.src_uri))
    if "<!-- course:troubleshooting -->" in markdown:
        markdown = markdown.replace("<!-- course:troubleshooting -->", site_pages.troubleshooting())
    return markdown


_HEADING = re.compile(r"<h([1-6]) id=\"([^\"]+)\"[^>]*>(.*?)</h\1>", re.S)


def on_page_content(html, page, config, files):
    """A notebook page's table of contents, from its rendered headings.

    mkdocs-jupyter 0.26 builds it from a copy of the Markdown with the inline code removed
    ("Your turn: " instead of "Your turn: `relu_backward`"); math stays as $...$ and MathJax
    typesets it in the sidebar too.
    """
    if not (page.file.src_uri.startswith("lessons/") and page.file.src_uri.endswith(".ipynb")):
        return html
    root: list[dict] = []
    stack: list[dict] = []
    for level, anchor, inner in _HEADING.findall(html):
        inner = re.sub(r"<a class=\"anchor-link\".*?</a>", "", inner, flags=re.S)
        token = {"level": int(level), "id": anchor, "name": re.sub(r"<[^>]+>", "", inner).strip(), "children": []}
        while stack and stack[-1]["level"] >= token["level"]:
            stack.pop()
        (stack[-1]["children"] if stack else root).append(token)
        stack.append(token)
    page.toc = get_toc(root)
    return html


def on_post_page(output, page, config):
    # mkdocs-jupyter's MathJax 2 loader (0.26) or its CDN loader (0.27), and its Mermaid loader.
    output = re.sub(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", "", output, flags=re.S)
    output = _CDN_SCRIPT.sub(lambda m: "" if any(mark in m.group(0) for mark in _CDN_MARKS) else m.group(0), output)
    for match in _TAG.finditer(output):
        url = _URL.search(match.group(0))
        if url and not (match.group(1).lower() == "link" and _NOT_A_LOAD.search(match.group(0))):
            log.warning(f"{page.file.src_uri}: <{match.group(1)}> loads {url.group(1)} from another host; "
                        f"the site must be self-contained")
    return output


# ------------------------------------------------------------------ assets


def on_post_build(config):
    site = Path(config.site_dir)
    _copy_mathjax(site / "assets" / "mathjax")
    _write_weights(site / "assets" / "draw" / "weights.json")


def _copy_mathjax(dest: Path) -> None:
    source = MATHJAX / "es5"
    for part in MATHJAX_PARTS:
        src, out = source / part, dest / part
        out.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, out, dirs_exist_ok=True)
        else:
            shutil.copy2(src, out)
    shutil.copy2(MATHJAX / "LICENSE", dest / "LICENSE")


def _write_weights(dest: Path) -> None:
    key = _digest(*(paths.SOLUTIONS / f"lesson_{n:02d}" for n in (1, 2, 3, 4, 5)),
                  REPO / "course" / "webexport.py", REPO / "course" / "datasets.py",
                  extra=os.environ.get(paths.DATA_ENV, ""))
    cached = CACHE / "site" / f"weights-{key}.json"
    if not cached.is_file():
        log.info("Training the reference network for the draw page (course export-web) ...")
        if cached.parent.is_dir():
            for old in cached.parent.glob("weights-*.json"):
                old.unlink()
        info = webexport.export(cached, tree="solutions")
        log.info(f"Draw page network: {info['test_accuracy']:.1%} test accuracy on {info['data']} "
                 f"({info['train_seconds']} s of training)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(cached, dest)
