"""`course autograder`: the same grader on Gradescope's machines, and a GitHub Classroom workflow.

    course autograder --out autograder/              # folder + autograder.zip to upload to Gradescope
    course autograder --out autograder/ --extra-checks hidden/ --lessons 01,02
    course autograder --github-classroom .github/workflows/classroom.yml

The Gradescope bundle holds ``setup.sh`` and ``run_autograder`` at its root, the course's own code,
the pristine checks, the reference (made unreadable to the sandbox user before every run), the
hidden checks if any, and ``course-autograder.json``: the calibration made here (seed, lessons,
checks and points, checks that do not count), so every submission is graded against the same
catalog. ``run_autograder`` always writes ``results.json``, even when grading fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import sys
import zipfile
from pathlib import Path

from .. import paths
from . import classroom, sandbox
from .gradescope import CONFIG

SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints",
                              "*.egg-info")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (choose the Ubuntu 24.04
# base image: the course needs Python 3.11 or newer). util-linux provides `unshare`, which the
# sandbox uses where the container allows namespaces; otherwise it falls back to a dedicated uid.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip util-linux >/dev/null
PY=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  apt-get install -y -qq python3.11 python3.11-venv >/dev/null
  PY=python3.11
fi
"$PY" -m venv /autograder/venv
/autograder/venv/bin/pip install -q --upgrade pip
/autograder/venv/bin/pip install -q -e /autograder/source
/autograder/venv/bin/python -c "from course.grading import sandbox; print('sandbox isolation here:', sandbox.detect())"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. Every path can be moved, for a local test:
#   AUTOGRADER_ROOT=/tmp/ag AUTOGRADER_PYTHON=python3 bash run_autograder
set -u
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="${AUTOGRADER_SOURCE:-$ROOT/source}"
SUBMISSION="${AUTOGRADER_SUBMISSION:-$ROOT/submission}"
RESULTS="${AUTOGRADER_RESULTS:-$ROOT/results}"
PYTHON="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
mkdir -p "$RESULTS"
# The reference, the hidden checks and the submission: readable by the grader only, never by the
# unprivileged user the submission's code runs as.
chmod -R go-rwx "$SOURCE" "$SUBMISSION" 2>/dev/null || true
if ! "$PYTHON" -m course.grading.gradescope --source "$SOURCE" --submission "$SUBMISSION" \\
     --results "$RESULTS/results.json"; then
  if [ ! -s "$RESULTS/results.json" ]; then
    printf '{"score": 0, "output": "The autograder could not start (%s). Please tell your instructor.", "tests": []}\\n' \\
      "$PYTHON" > "$RESULTS/results.json"
  fi
fi
exit 0
"""


def build(out: Path, extra_checks: Path | None = None, lessons: list[str] | None = None,
          call_seconds: float = 20.0, lesson_seconds: float = 180.0, repo: Path = paths.REPO,
          log=print) -> Path:
    """Write the bundle folder ``out`` and ``out.zip``; return the zip."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"course autograder: {out} is not empty: choose a new folder")
    out.mkdir(parents=True, exist_ok=True)
    for name in ("course", "checks", "solutions"):
        shutil.copytree(repo / name, out / name, ignore=SKIP, symlinks=False)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (repo / name).is_file():
            shutil.copyfile(repo / name, out / name)
    if extra_checks:
        shutil.copytree(extra_checks, out / "extra-checks", ignore=SKIP, symlinks=False)
    for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
        (out / name).write_text(text)
        os.chmod(out / name, 0o755)
    log("calibrating on the reference (the catalog of checks and points every submission is graded against) ...")
    calibration = calibrate(out, lessons, call_seconds, lesson_seconds)
    config = {"lessons": calibration["lessons"], "call_seconds": call_seconds, "lesson_seconds": lesson_seconds,
              "calibration": calibration}
    (out / CONFIG).write_text(json.dumps(config, indent=1))
    archive = out.parent / (out.name + ".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(out.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo(path.relative_to(out).as_posix())
                info.external_attr = (stat.S_IFREG | (0o755 if os.access(path, os.X_OK) else 0o644)) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())
    points = {}
    for check in calibration["checks"]:
        if check["key"] not in calibration["voided"]:
            points[check["lesson"]] = points.get(check["lesson"], 0) + check["points"]
    log(f"points per lesson: {points}; total {sum(points.values()):g}")
    if calibration["voided"]:
        log(f"warning: the reference fails {calibration['voided']} with the bundle's seed; they will not count",
            file=sys.stderr)
    return archive


def calibrate(bundle: Path, lessons: list[str] | None, call_seconds: float, lesson_seconds: float) -> dict:
    from .grader import Grader, new_work_dir

    level = sandbox.detect()
    work = new_work_dir()
    try:
        extra = bundle / "extra-checks"
        grader = Grader(work, reference=bundle / "solutions", checks=bundle / "checks",
                        extra_checks=extra if extra.is_dir() else None, lessons=lessons,
                        limits=sandbox.Limits(call_seconds=call_seconds, lesson_seconds=lesson_seconds),
                        level="none" if level == "none" else None)  # the reference is trusted code
        grader.calibrate()
        return grader.catalog_json()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the Gradescope bundle (a .zip of it is written next to it)")
    parser.add_argument("--extra-checks", type=Path, default=None, help="hidden checks to include (lesson_0N/test_*.py)")
    parser.add_argument("--lessons", default=None, help="grade only these lessons, e.g. 01,02 (default: all)")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds one call of a learner's function may take")
    parser.add_argument("--lesson-budget", type=float, default=180.0,
                        help="seconds all calls of one lesson's checks may take together")
    parser.add_argument("--github-classroom", type=Path, default=None, metavar="WORKFLOW.yml",
                        help="also (or only) write a GitHub Classroom workflow: one step per lesson with its points")


def run(args: argparse.Namespace) -> int:
    from .cli import _lessons

    if args.out is None and args.github_classroom is None:
        print("course autograder: give --out DIR (Gradescope bundle) and/or --github-classroom FILE", file=sys.stderr)
        return 2
    lessons = _lessons(args.lessons)
    if args.out is not None:
        archive = build(args.out, args.extra_checks, lessons, args.timeout, args.lesson_budget,
                        log=lambda *a, **k: print(*a, **k, flush=True))
        print(f"wrote {args.out}/ and {archive}: upload {archive.name} to Gradescope (Ubuntu 24.04 base image)")
    if args.github_classroom is not None:
        points = classroom.points_per_lesson(paths.CHECKS, paths.SOLUTIONS, lessons)
        args.github_classroom.parent.mkdir(parents=True, exist_ok=True)
        args.github_classroom.write_text(classroom.workflow(points))
        print(f"wrote {args.github_classroom}: one step per lesson ({sum(points.values()):g} points in all)")
    return 0
