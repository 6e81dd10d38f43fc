"""`course release --out DIR`: write the student edition of the course.

The student edition holds what a learner needs and nothing of the answers:

    lessons/   the stubs and notebooks, regenerated from solutions/ (never copied from a working tree)
    checks/    the checks, exactly as they grade
    course/    the `course` command (data, progress, train, ...) and the embedded MNIST subset
    docs/      the guides as Markdown
    README.md, LICENSE, pyproject.toml, .gitignore

Left out: solutions/, tests/ (they hold wrong implementations and the grading corpus), bench/,
tools/ and the website's build (it executes the reference), CI files, and anything else not
listed above, such as a folder of hidden checks. Before it finishes, the release searches every
file it wrote for solution markers and for every line of the reference's solution regions, and
fails (and removes what it wrote) if one is found.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from . import paths, stubs

FILES = ("README.md", "LICENSE", "pyproject.toml", ".gitignore")
FOLDERS = ("course", "checks", "docs")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints",
                              "*.egg-info", ".cache", "site")


class ReleaseError(RuntimeError):
    pass


def secret_lines(solutions: Path = paths.SOLUTIONS, public: tuple[Path, ...] = ()) -> dict[str, Path]:
    """Lines of the reference's solution regions that appear nowhere else (the lines unique to it).

    A line that the stubs, the checks or the course's own tools hold as well (``path = Path(path)``,
    ``rng = np.random.default_rng(seed)`` in a check's hint) is public by design; every other solution
    line must not appear anywhere in the student edition, docs included.
    """
    secret = stubs.solution_lines(solutions)
    seen = "\n".join(text for root in public for _, text in stubs.text_files(root))
    return {line: path for line, path in secret.items() if line not in seen}


def search(out: Path, secret: dict[str, Path]) -> list[str]:
    """Every solution marker, and every secret line (found as a substring), in the files under ``out``."""
    found = []
    for path, text in stubs.text_files(out):
        for number, line in enumerate(text.splitlines(), start=1):
            if stubs.BEGIN in line or stubs.END in line:
                found.append(f"{path}:{number}: solution marker")
        flat = text.replace('\\"', '"').replace("\\n", "\n")
        for line in secret:
            if line in flat:
                found.append(f"{path}: solution line from {secret[line].name}: {line}")
    return sorted(set(found))


def release(out: Path, repo: Path = paths.REPO, solutions: Path = paths.SOLUTIONS) -> list[Path]:
    """Write the student edition to ``out`` (which must not exist or be empty); return the files written."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ReleaseError(f"{out} is not empty: choose a new folder")
    if not stubs.solution_lines(solutions):
        raise ReleaseError(f"no reference in {solutions}: this already is a student edition")
    out.mkdir(parents=True, exist_ok=True)
    try:
        for name in FILES:
            if (repo / name).is_file():
                shutil.copyfile(repo / name, out / name)
        for name in FOLDERS:
            if (repo / name).is_dir():
                shutil.copytree(repo / name, out / name, ignore=SKIP, symlinks=False)
        lessons = out / "lessons"
        for rel, text in stubs.generate(solutions).items():
            target = lessons / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        if (repo / "lessons" / "__init__.py").is_file() and not (lessons / "__init__.py").exists():
            shutil.copyfile(repo / "lessons" / "__init__.py", lessons / "__init__.py")
        secret = secret_lines(solutions, public=(lessons, out / "checks", out / "course"))
        leaks = search(out, secret)
        if leaks:
            raise ReleaseError("the student edition would contain solution code:\n" + "\n".join(leaks[:50]))
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return sorted(p for p in out.rglob("*") if p.is_file())


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path, help="a new folder for the student edition")


def run(args: argparse.Namespace) -> int:
    try:
        written = release(args.out)
    except ReleaseError as exc:
        print(f"course release: {exc}", file=sys.stderr)
        return 1
    print(f"wrote the student edition to {args.out}: {len(written)} files, no solutions "
          f"(searched for every line of the reference)")
    print(f"next: cd {args.out} && git init && git add -A && git commit -m 'Student edition' "
          f"(or publish it as a GitHub Classroom template)")
    return 0
