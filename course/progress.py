"""`course progress`: every lesson with its checks passed, like an exercise runner's overview.

Also home of :func:`run_checks`, which runs the checks of a tree in a fresh interpreter and
returns each check's outcome, points and message (used by the project's own tests too).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from . import curriculum, paths


def run_checks(tree: Path | str | list | None = None, lessons: list[str] | None = None,
               extra_args: list[str] | None = None, timeout: float = 600) -> dict:
    """Run ``pytest checks/...`` on ``tree`` in a subprocess; return the parsed results.

    ``{"tree": ..., "returncode": int, "checks": [{"tree", "lesson", "check", "points", "outcome",
    "message"}, ...], "output": tail of pytest's output}``. ``tree`` may be a list of trees: every
    check then runs on each of them in the same session (how the mutant catalogs are tested).
    """
    trees = tree if isinstance(tree, list) else [tree]
    targets = [arg for t in trees for arg in ("--target", str(paths.resolve_target(t)))]
    folders = [str(paths.CHECKS / name) for name in (lessons or [l.name for l in curriculum.LESSONS])
               if (paths.CHECKS / name).is_dir()]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.json"
        cmd = [sys.executable, "-m", "pytest", *folders, *targets, "--results-json", str(out),
               "-q", "-p", "no:cacheprovider", "--no-header", "-o", "console_output_style=classic",
               *(extra_args or [])]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        proc = subprocess.run(cmd, cwd=paths.REPO, capture_output=True, text=True, timeout=timeout, env=env)
        results = json.loads(out.read_text()) if out.exists() else {"tree": targets[1::2], "checks": []}
    results["returncode"] = proc.returncode
    results["output"] = (proc.stdout + proc.stderr)[-6000:]
    return results


def summarise(results: dict) -> list[dict]:
    """Per lesson: passed, total, points earned, points possible, and the first failing check."""
    rows = []
    for lesson in curriculum.LESSONS:
        checks = [c for c in results["checks"] if c["lesson"] == lesson.name]
        passed = [c for c in checks if c["outcome"] == "passed"]
        failing = [c for c in checks if c["outcome"] != "passed"]
        rows.append({
            "lesson": lesson, "passed": len(passed), "total": len(checks),
            "points": sum(c["points"] for c in passed), "max": sum(c["points"] for c in checks),
            "first_failure": failing[0] if failing else None,
        })
    return rows


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = round(width * done / total) if total else 0
    return "#" * filled + "-" * (width - filled)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", default=None,
                        help="the tree to check: lessons (default), solutions, or a folder laid out like lessons/")


def run(args: argparse.Namespace) -> int:
    tree = paths.resolve_target(args.target)
    print(f"Checking {tree} ...", flush=True)
    results = run_checks(tree)
    if not results["checks"]:
        print("The checks did not run. pytest said:\n" + results["output"], file=sys.stderr)
        return 2
    rows = summarise(results)
    print()
    print(f"  {'lesson':<26} {'checks':>9}  {'':20}  points")
    for row in rows:
        lesson = row["lesson"]
        mark = "done" if row["total"] and row["passed"] == row["total"] else "    "
        print(f"  {lesson.label + ': ' + lesson.title:<26} {row['passed']:>3}/{row['total']:<5} "
              f"[{_bar(row['passed'], row['total'])}] {row['points']:>3}/{row['max']:<3} {mark}")
    total = sum(r["passed"] for r in rows), sum(r["total"] for r in rows)
    points = sum(r["points"] for r in rows), sum(r["max"] for r in rows)
    print(f"  {'all lessons':<26} {total[0]:>3}/{total[1]:<5} [{_bar(*total)}] {points[0]:>3}/{points[1]:<3}")
    print()
    todo = next((r for r in rows if r["passed"] < r["total"]), None)
    if todo is None:
        print("Every check passes. Train your network on MNIST: course train")
        return 0
    lesson, failure = todo["lesson"], todo["first_failure"]
    print(f"Next: {lesson.label} ({lesson.title}). Open lessons/{lesson.name}/{lesson.name}.ipynb, then run")
    print(f"    pytest checks/{lesson.name}")
    if failure:
        first = failure["message"].strip().splitlines()
        print(f"First failing check: {failure['check']}")
        for line in first[1:4]:
            print(f"    {line}")
    return 0
