"""What ``run_autograder`` runs on Gradescope: grade one submission, always write results.json.

    python -m course.grading.gradescope --source /autograder/source \\
        --submission /autograder/submission --results /autograder/results/results.json

The bundle's ``course-autograder.json`` holds the calibration made when the bundle was built (the
seed, the lessons, every check with its points, the checks that do not count), so each submission
is graded once, with the same inputs as every other. Whatever happens (a submission that cannot be
read, a machine without namespaces, a bug of the grader), a valid results.json is written: a
failure becomes a score of 0 with the reason in the output, never a missing file.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import traceback
from pathlib import Path

CONFIG = "course-autograder.json"


def _fallback(results: Path, message: str, started: float) -> None:
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps({
        "score": 0.0, "execution_time": round(time.monotonic() - started, 1),
        "output": "The autograder could not grade this submission: " + message[-3000:]
                  + "\nPlease tell your instructor; nothing you can change in your files caused a score of 0 "
                    "unless the message above says so.",
        "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden", "tests": [],
    }, indent=1))


def _submission_path(folder: Path) -> Path:
    """The submission folder, or the single .zip in it if that is all there is."""
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")] if folder.is_dir() else []
    zips = [p for p in entries if p.suffix.lower() == ".zip"]
    if len(entries) == 1 and len(zips) == 1:
        return zips[0]
    return folder


def grade(source: Path, submission: Path, results: Path, work: Path | None = None) -> dict:
    from ..grading import sandbox
    from .export import Redactor, gradescope
    from .grader import Grader, new_work_dir
    from .intake import read_submission

    config = json.loads((source / CONFIG).read_text())
    limits = sandbox.Limits(call_seconds=config.get("call_seconds", 20.0),
                            lesson_seconds=config.get("lesson_seconds", 180.0))
    extra = source / "extra-checks"
    work = work or new_work_dir()
    try:
        grader = Grader(work, reference=source / "solutions", checks=source / "checks",
                        extra_checks=extra if extra.is_dir() else None, lessons=config.get("lessons"),
                        limits=limits, seed=config["calibration"]["seed"])
        voided = grader.use_catalog(config["calibration"])
        sub = read_submission(_submission_path(submission), "submission", source / "checks")
        result = grader.grade([sub], workers=1)[0]
        data = gradescope(result, voided, Redactor(source / "solutions", public=[source / "checks"]))
        if result.error:
            data["output"] += f"\n\nThe grading run reported: {result.error[:1500]}"
        data["output"] += f"\n\n(isolation: {grader.level}; seed {grader.seed})"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(data, indent=1))
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course.grading.gradescope")
    parser.add_argument("--source", type=Path, default=Path("/autograder/source"))
    parser.add_argument("--submission", type=Path, default=Path("/autograder/submission"))
    parser.add_argument("--results", type=Path, default=Path("/autograder/results/results.json"))
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        data = grade(args.source, args.submission, args.results)
    except BaseException as exc:  # noqa: BLE001 - a results.json is written whatever happens
        if isinstance(exc, KeyboardInterrupt):
            raise
        _fallback(args.results, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}", started)
        print(f"autograder: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"autograder: {data['score']:g} / {data.get('max_score', 0):g} points; wrote {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
