"""How fast `course grade` grades a class: submissions per minute with 1 and 2 workers.

    python bench/grade_throughput.py                    # 100 submissions, 1 then 2 workers
    python bench/grade_throughput.py --count 20 --workers 2 --json bench-grade.json

The class is generated from the reference and the stubs, mixed like a real class near a deadline:
a sixth complete, the rest stopped after 1 to 5 lessons, every fourth with a realistic mistake in
a finished lesson (tests/mutants). Every submission goes through the whole sandboxed path (a
trusted pytest per submission, one sandboxed child per lesson). The calibration on the reference,
made once per run, is timed apart. Targets (issue 5): one complete submission in under 20 s on one
core; 100 submissions in under 20 minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from course import curriculum, paths  # noqa: E402
from course.grading import sandbox  # noqa: E402
from course.grading.grader import Grader  # noqa: E402
from course.grading.intake import read_submission  # noqa: E402
from tests.mutants import catalog  # noqa: E402
from tests.submissions.corpus import write_tree  # noqa: E402

LESSONS = [l.name for l in curriculum.LESSONS]
DONE = (6, 3, 5, 1, 4, 2)  # lessons finished, cycling through the class


def make_class(folder: Path, count: int) -> list[tuple[Path, str]]:
    """``count`` submission folders and a label for each (``complete``, ``3 lessons``, ``+mistake``)."""
    out = []
    for i in range(count):
        done = DONE[i % len(DONE)]
        overrides, label = {}, "complete" if done == 6 else f"{done} lessons"
        if i % 4 == 3:
            lesson = LESSONS[(i // 4) % done]
            mutants = catalog(lesson)
            if mutants:
                mutant = mutants[i % len(mutants)]
                rel = f"{lesson}/{mutant.module}.py"
                overrides[rel] = mutant.apply((paths.SOLUTIONS / rel).read_text())
                label += " +mistake"
        tree = write_tree(folder / f"student{i:03d}" / "lessons", overrides, stubs=tuple(LESSONS[done:]))
        out.append((tree.parent, label))
    return out


def run(count: int, workers: int, folder: Path) -> dict:
    submissions = make_class(folder / "class", count)
    work = Path(tempfile.mkdtemp(prefix="bench-grade-"))
    try:
        started = time.monotonic()
        grader = Grader(work)
        grader.calibrate()
        calibration = time.monotonic() - started
        subs = [read_submission(path, path.name, paths.CHECKS) for path, _ in submissions]
        started = time.monotonic()
        results = grader.grade(subs, workers=workers)
        elapsed = time.monotonic() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)
    labels = {path.name: label for path, label in submissions}
    complete = [r.seconds for r in results if labels[r.submission.id] == "complete"]
    errors = [r.submission.id for r in results if r.error]
    return {
        "workers": workers, "submissions": count, "seconds": round(elapsed, 1),
        "per_minute": round(60 * count / elapsed, 1), "calibration_seconds": round(calibration, 1),
        "complete_mean_seconds": round(sum(complete) / len(complete), 1) if complete else None,
        "complete_max_seconds": round(max(complete), 1) if complete else None,
        "mean_seconds": round(sum(r.seconds for r in results) / len(results), 1), "errors": errors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100, help="submissions in the class (default 100)")
    parser.add_argument("--workers", default="1,2", help="worker counts to try, e.g. 1,2 (default)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers to this file")
    args = parser.parse_args(argv)
    level = sandbox.detect()
    print(f"isolation {level}; {os.cpu_count()} CPUs; Python {platform.python_version()}; "
          f"load average {os.getloadavg()[0]:.1f} at start", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-class-") as tmp:
        for workers in [int(w) for w in args.workers.split(",")]:
            row = run(args.count, workers, Path(tmp) / f"w{workers}")
            row["load_average"] = round(os.getloadavg()[0], 1)
            rows.append(row)
            print(f"{workers} worker(s): {row['submissions']} submissions in {row['seconds']:.0f} s = "
                  f"{row['per_minute']:.1f} per minute; a complete submission {row['complete_mean_seconds']} s "
                  f"(max {row['complete_max_seconds']} s); calibration {row['calibration_seconds']} s"
                  + (f"; ERRORS: {row['errors']}" if row["errors"] else ""), flush=True)
    print()
    print("| workers | submissions | wall clock | per minute | complete submission (mean / max) |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(f"| {row['workers']} | {row['submissions']} | {row['seconds'] / 60:.1f} min | {row['per_minute']:.1f} | "
              f"{row['complete_mean_seconds']} s / {row['complete_max_seconds']} s |")
    if args.json:
        args.json.write_text(json.dumps({"level": level, "cpus": os.cpu_count(), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
