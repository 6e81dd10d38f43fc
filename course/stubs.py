"""`course stubs`: regenerate the learner's tree ``lessons/`` from the reference ``solutions/``.

``solutions/`` is the one source of truth. In its modules, the learner's part of each function
sits between a BEGIN SOLUTION and an END SOLUTION marker comment; the stub keeps the signature and the
docstring and replaces that part with ``raise NotImplementedError("lesson 02: implement softmax")``.
Each lesson's notebook is written once, as a jupytext percent-format script
(``solutions/lesson_0N/lesson_0N.py``, clean diffs in review), and becomes
``lessons/lesson_0N/lesson_0N.ipynb`` (no outputs, stable cell ids), which Jupyter and VS Code
open with no plugin; the site renders the same script.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from . import paths

# Spelled in two parts so that this file holds no marker line of its own (the release searches for them).
BEGIN = "# BEGIN " + "SOLUTION"
END = "# END " + "SOLUTION"


def is_notebook_source(path: Path) -> bool:
    """``solutions/lesson_0N/lesson_0N.py``: a lesson's notebook, not one of its modules.

    (Not ``notebook.py``: that name shadows Jupyter's own ``notebook`` package in its folder.)
    """
    return path.suffix == ".py" and path.stem == path.parent.name and path.stem.startswith("lesson_")
_DEF = re.compile(r"^(\s*)(?:async\s+)?def\s+(\w+)\s*\(")
_SKIP = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".hypothesis"}


class MarkerError(ValueError):
    """A solution file whose markers do not pair up."""


def _lesson_label(path: Path) -> str:
    for part in reversed(path.parts):
        if part.startswith("lesson_"):
            return f"lesson {part.split('_')[1]}"
    return "this lesson"


def strip_solutions(text: str, path: Path) -> str:
    """The stub version of one solution module."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    region_start: int | None = None
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if region_start is not None:
                raise MarkerError(f"{path}:{number}: {BEGIN} inside another solution region")
            region_start = number
            indent = line[: len(line) - len(line.lstrip())]
            function = _enclosing_function(lines, number - 1)
            if function is None:
                raise MarkerError(f"{path}:{number}: {BEGIN} must sit inside a function")
            out.append(f'{indent}raise NotImplementedError("{_lesson_label(path)}: implement {function}")\n')
        elif stripped == END:
            if region_start is None:
                raise MarkerError(f"{path}:{number}: {END} without {BEGIN}")
            region_start = None
        elif region_start is None:
            out.append(line)
    if region_start is not None:
        raise MarkerError(f"{path}:{region_start}: {BEGIN} is never closed")
    return "".join(out)


def _enclosing_function(lines: list[str], index: int) -> str | None:
    indent = len(lines[index]) - len(lines[index].lstrip())
    for line in reversed(lines[:index]):
        match = _DEF.match(line)
        if match and len(match.group(1)) < indent:
            return match.group(2)
    return None


def solution_lines(solutions: Path = paths.SOLUTIONS) -> dict[str, Path]:
    """Every code line inside a solution region (stripped) -> the file it comes from.

    Short lines such as ``return x`` are left out: they are not the solution, and can stand in a
    stub's docstring or another function.
    """
    found: dict[str, Path] = {}
    for path in sorted(solutions.rglob("*.py")):
        inside = False
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped == BEGIN:
                inside = True
            elif stripped == END:
                inside = False
            elif inside and len(stripped) >= 16 and not stripped.startswith("#"):
                found.setdefault(stripped, path)
    return found


_BINARY = {".gz", ".npz", ".png", ".pyc", ".ico", ".woff2"}


def text_files(root: Path):
    """``(path, text)`` for every text file under ``root`` (or ``root`` itself), caches and binaries left out."""
    for path in sorted(root.rglob("*")) if root.is_dir() else [root]:
        if path.is_file() and not _SKIP & set(path.parts) and path.suffix not in _BINARY:
            try:
                yield path, path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue


def find_leaks(tree: Path, solutions: Path = paths.SOLUTIONS) -> list[str]:
    """Solution markers or solution lines that appear anywhere in ``tree``."""
    secret = solution_lines(solutions)
    leaks = []
    for path, text in text_files(tree):
        for number, line in enumerate(text.splitlines(), start=1):
            clean = line.strip().strip('",').replace('\\"', '"').replace("\\n", "").strip()
            if BEGIN in line or END in line:
                leaks.append(f"{path}:{number}: solution marker")
            elif clean in secret:
                leaks.append(f"{path}:{number}: solution line from {secret[clean].name}: {clean}")
    return leaks


def notebook_from_script(text: str, lesson: str) -> str:
    """A lesson's jupytext percent script as .ipynb text: no outputs, stable cell ids."""
    import jupytext
    import nbformat

    nb = jupytext.reads(text, fmt="py:percent")
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for i, cell in enumerate(nb.cells):
        cell.id = f"{lesson}-{i:02d}"
        cell.metadata = {}
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nbformat.writes(nb, version=4) + "\n"


def generate(solutions: Path = paths.SOLUTIONS) -> dict[Path, str]:
    """Every file of the learner's tree, as paths relative to it -> contents."""
    files: dict[Path, str] = {}
    for path in sorted(solutions.rglob("*")):
        if not path.is_file() or _SKIP & set(path.parts) or path.suffix == ".pyc":
            continue
        rel = path.relative_to(solutions)
        text = path.read_text(encoding="utf-8")
        if is_notebook_source(path):
            lesson = path.parent.name
            files[rel.with_name(f"{lesson}.ipynb")] = notebook_from_script(strip_solutions(text, path), lesson)
        elif path.suffix == ".py":
            files[rel] = strip_solutions(text, path)
        else:
            files[rel] = text
    return files


def stale(lessons: Path = paths.LESSONS, solutions: Path = paths.SOLUTIONS) -> list[str]:
    """What differs between ``lessons`` and what ``course stubs`` would write."""
    wanted = generate(solutions)
    problems = []
    for rel, text in wanted.items():
        path = lessons / rel
        if not path.exists():
            problems.append(f"missing: {path}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"out of date: {path}")
    for path in sorted(lessons.rglob("*")):
        if path.is_file() and not _SKIP & set(path.parts) and path.suffix != ".pyc":
            if path.relative_to(lessons) not in wanted:
                problems.append(f"not generated from solutions/: {path}")
    return problems


def write(lessons: Path = paths.LESSONS, solutions: Path = paths.SOLUTIONS) -> list[Path]:
    """Write the learner's tree; return the files that changed."""
    changed = []
    for rel, text in generate(solutions).items():
        path = lessons / rel
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def _uncommitted(files: list[Path]) -> list[Path]:
    """The files among ``files`` with changes git has not committed (a learner's work, perhaps)."""
    import subprocess

    existing = [str(f) for f in files if f.exists()]
    if not existing:
        return []
    result = subprocess.run(["git", "-C", str(paths.REPO), "status", "--porcelain", "--", *existing],
                            capture_output=True, text=True)
    if result.returncode != 0:  # not a git checkout: everything counts as unsaved work
        return [Path(f) for f in existing]
    return [paths.REPO / line[3:].strip() for line in result.stdout.splitlines() if line.strip()]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if lessons/ is out of date or leaks solution code")
    parser.add_argument("--force", action="store_true",
                        help="overwrite files in lessons/ even if they have uncommitted changes")


def run(args: argparse.Namespace) -> int:
    if not solution_lines():
        print("course stubs: no solutions/ here (this is the student edition); nothing to do", file=sys.stderr)
        return 2
    if not args.check and not args.force:
        wanted = generate()
        changing = [paths.LESSONS / rel for rel, text in wanted.items()
                    if (paths.LESSONS / rel).exists() and (paths.LESSONS / rel).read_text(encoding="utf-8") != text]
        unsaved = _uncommitted(changing)
        if unsaved:
            print("course stubs: these files have uncommitted changes (your work?) and would be overwritten:",
                  *[f"  {p}" for p in unsaved], "commit or copy them first, or pass --force", sep="\n",
                  file=sys.stderr)
            return 2
    if args.check:
        problems = stale() + find_leaks(paths.LESSONS)
        for problem in problems:
            print(problem)
        print("lessons/ is up to date with solutions/" if not problems else
              f"{len(problems)} problem(s): run `course stubs` to regenerate lessons/")
        return 1 if problems else 0
    changed = write()
    for path in changed:
        print(f"wrote {path.relative_to(paths.REPO)}")
    print(f"{len(changed)} file(s) changed" if changed else "lessons/ already up to date")
    return 0
