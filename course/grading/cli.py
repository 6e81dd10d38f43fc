"""`course grade`: grade submissions with the pristine checks, safely, and export the grades.

    course grade submissions/*.zip submissions/bob/ --out grades/ --workers 2
    course grade alice.zip --out grades/ --extra-checks hidden-checks/

Each SUBMISSION is a folder or a .zip: a learner's ``lessons/`` tree or a whole clone of the course.
See docs/instructors.md for what is written to --out and how the sandbox works.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from .. import paths
from . import sandbox
from .export import Redactor, write_all
from .grader import Grader, new_work_dir
from .intake import read_submission, submission_id


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("submissions", nargs="+", metavar="SUBMISSION", type=Path,
                        help="a folder or a .zip per student (a lessons/ tree or a whole clone)")
    parser.add_argument("--out", required=True, type=Path, help="folder for the gradebook, tables and feedback")
    parser.add_argument("--workers", type=int, default=1, help="submissions graded in parallel (default 1)")
    parser.add_argument("--extra-checks", type=Path, default=None,
                        help="hidden checks: a folder laid out like checks/ (lesson_0N/test_*.py), with their own points")
    parser.add_argument("--lessons", default=None,
                        help="grade only these lessons, e.g. 01,02,03 (default: every lesson with checks)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the checks' random inputs (default: derived from the reference, "
                             "the same on every run and unknown to learners)")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds one call of a learner's function may take")
    parser.add_argument("--lesson-budget", type=float, default=180.0,
                        help="seconds all calls of one lesson's checks may take together, per submission")
    parser.add_argument("--isolation", choices=sandbox.LEVELS, default=None,
                        help="force an isolation level (default: the strongest this machine allows)")
    parser.add_argument("--sandbox-python", default=None,
                        help="the Python the sandboxed code runs with (default: this one); it must import NumPy "
                             "and, at the uid level, be readable by every user")
    parser.add_argument("--reference", type=Path, default=paths.SOLUTIONS, help="the reference solutions (solutions/)")
    parser.add_argument("--checks", type=Path, default=paths.CHECKS, help="the pristine checks (checks/)")
    parser.add_argument("--work", type=Path, default=None, help="work folder (default: a new temporary folder)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")


def _lessons(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [f"lesson_{int(part):02d}" for part in text.replace(" ", "").split(",") if part]


def main_grade(args: argparse.Namespace, log=print) -> tuple[int, list]:
    if not any(args.reference.glob("lesson_*/*.py")):
        log(f"course grade: no reference solutions in {args.reference} (this is the student edition?)",
            file=sys.stderr)
        return 2, []
    missing = [s for s in args.submissions if not s.exists()]
    if missing:
        log(f"course grade: no such submission: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2, []
    work = args.work or new_work_dir()
    started = time.monotonic()
    limits = sandbox.Limits(call_seconds=args.timeout, lesson_seconds=args.lesson_budget)
    grader = Grader(work, reference=args.reference, checks=args.checks, extra_checks=args.extra_checks,
                    lessons=_lessons(args.lessons), limits=limits, level=args.isolation, seed=args.seed,
                    python=args.sandbox_python)
    log(f"isolation: {grader.level} ({sandbox.describe_level(grader.level)})")
    if grader.level == "uid":
        log("warning: without namespaces, the reference and other submissions are protected only by file "
            "permissions: keep the course folder and the submissions folder unreadable to other users "
            "(chmod 700)", file=sys.stderr)
    log(f"lessons: {', '.join(grader.lessons)}; seed {grader.seed}; calibrating on the reference ...")
    calibration = grader.calibrate()
    voided = {r.check.key for r in calibration.checks if r.status != "passed"}
    if calibration.error or not calibration.checks:
        log(f"course grade: the reference could not be graded: {calibration.error}", file=sys.stderr)
        return 2, []
    log(f"reference: {len(calibration.checks) - len(voided)} of {len(calibration.checks)} checks pass "
        f"({calibration.seconds:.1f} s)")
    if len(voided) > 0.2 * len(calibration.checks):
        first = next(r for r in calibration.checks if r.status != "passed")
        log(f"course grade: the reference fails {len(voided)} checks: the sandbox does not work here, or the "
            f"checks and the reference disagree. The first failure:\n{first.message}", file=sys.stderr)
        return 2, []
    for r in calibration.checks:
        if r.status != "passed":
            log(f"warning: the reference fails {r.check.key} with seed {grader.seed}: it will not count.\n"
                f"{r.message}", file=sys.stderr)
    taken: set[str] = set()
    subs = [read_submission(path, submission_id(path, taken), args.checks) for path in args.submissions]

    def progress(result, done, total):
        if not args.quiet:
            log(f"[{done}/{total}] {result.submission.id}: {result.total:g} points ({result.seconds:.1f} s)"
                + (f" - {result.error.splitlines()[0]}" if result.error else ""))

    results = grader.grade(subs, workers=args.workers, progress=progress)
    elapsed = time.monotonic() - started
    redact = Redactor(args.reference, public=[args.checks, paths.LESSONS])
    run = {"seed": grader.seed, "isolation": grader.level, "workers": args.workers, "submissions": len(subs),
           "seconds": round(elapsed, 1), "call_timeout": args.timeout, "lesson_budget": args.lesson_budget,
           "extra_checks": str(args.extra_checks) if args.extra_checks else None}
    write_all(args.out, results, grader.catalog, voided, run, redact)
    log(f"graded {len(subs)} submission(s) in {elapsed:.1f} s; wrote {args.out}/gradebook.csv, checks.csv, "
        f"feedback/, gradescope/")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0, results


def run(args: argparse.Namespace) -> int:
    def log(*a, file=sys.stdout):
        print(*a, file=file, flush=True)

    try:
        code, _ = main_grade(args, log)
    except sandbox.SandboxError as exc:
        print(f"course grade: {exc}", file=sys.stderr)
        return 2
    return code
