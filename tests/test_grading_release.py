"""`course release` writes a student edition with no solution code, and `course autograder` a bundle
whose `run_autograder`, run in an /autograder layout, writes a valid results.json."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course import paths, stubs
from course.grading import sandbox
from course.release import ReleaseError, release, secret_lines


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "student-edition"
    release(out)
    return out


def test_the_student_edition_holds_no_line_unique_to_the_reference(edition):
    secret = secret_lines(paths.SOLUTIONS, public=(paths.LESSONS, paths.CHECKS, paths.REPO / "course"))
    assert len(secret) > 50, "too few solution lines to search for: is the reference there?"
    hits = []
    for path in sorted(edition.rglob("*")):
        if path.is_file() and path.suffix not in {".gz", ".png"}:
            text = path.read_text(encoding="utf-8", errors="replace")
            hits += [f"{path.relative_to(edition)}: {line}" for line in secret if line in text]
            if stubs.BEGIN in text or stubs.END in text:
                hits.append(f"{path.relative_to(edition)}: a solution marker")
    assert not hits, "solution code in the student edition:\n" + "\n".join(hits[:30])


def test_the_student_edition_has_the_stubs_checks_docs_and_tools_but_no_solutions(edition):
    assert not (edition / "solutions").exists() and not (edition / "tests").exists()
    for rel in ("lessons/lesson_02/forward.py", "lessons/lesson_02/lesson_02.ipynb", "checks/conftest.py",
                "checks/lesson_02/test_forward.py", "course/cli.py", "docs/instructors.md", "pyproject.toml"):
        assert (edition / rel).is_file(), f"{rel} is missing from the student edition"
    for rel, text in stubs.generate().items():
        assert (edition / "lessons" / rel).read_text() == text
    assert stubs.find_leaks(edition / "lessons") == []


def test_the_student_editions_checks_run_and_fail_on_its_stubs(edition):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COURSE_"))}
    env["PYTHONPATH"] = str(edition)
    proc = subprocess.run([sys.executable, "-m", "pytest", "checks/lesson_02", "-q", "-p", "no:cacheprovider",
                           "--tb=line"], cwd=edition, capture_output=True, text=True, env=env, timeout=300)
    assert "failed" in proc.stdout and " passed" not in proc.stdout, proc.stdout[-2000:]
    assert "is not written yet" in proc.stdout


def test_a_release_into_a_folder_that_is_not_empty_is_refused(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    with pytest.raises(ReleaseError):
        release(tmp_path / "x")
    assert (tmp_path / "x" / "keep.txt").read_text() == "mine"


# --- Gradescope and GitHub Classroom ------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    from course.grading.autograder import build

    root = tmp_path_factory.mktemp("autograder")
    build(root / "source", lessons=["lesson_02", "lesson_03"], call_seconds=10, lesson_seconds=60,
          log=lambda *a, **k: None)
    return root


def _run_autograder(root: Path, submission_files: dict[str, str] | None) -> dict:
    submission = root / "submission"
    shutil.rmtree(submission, ignore_errors=True)
    submission.mkdir()
    for rel, text in (submission_files or {}).items():
        (submission / rel).parent.mkdir(parents=True, exist_ok=True)
        (submission / rel).write_text(text)
    results = root / "results" / "results.json"
    results.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COURSE_"))}
    env.update(AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable)
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(results.read_text())


def _valid(data: dict) -> None:
    assert isinstance(data["score"], (int, float)) and isinstance(data["tests"], list)
    assert data["visibility"] in ("hidden", "after_due_date", "after_published", "visible")
    for test in data["tests"]:
        assert isinstance(test["name"], str) and test["status"] in ("passed", "failed")
        assert 0 <= test["score"] <= test["max_score"]
        assert test["visibility"] in ("hidden", "after_due_date", "after_published", "visible")


@pytest.mark.skipif(sandbox.detect() == "none", reason="no sandbox isolation on this machine")
def test_run_autograder_writes_a_valid_results_json(bundle):
    assert (bundle / "source" / "setup.sh").is_file() and os.access(bundle / "source" / "run_autograder", os.X_OK)
    assert (bundle / "source.zip").is_file()
    files = {f"lessons/{rel}": (paths.SOLUTIONS / rel).read_text()
             for rel in ("lesson_02/forward.py", "lesson_03/loss.py")}
    files["lessons/lesson_03/loss.py"] = files["lessons/lesson_03/loss.py"].replace("def accuracy(", "def acc(")
    data = _run_autograder(bundle, files)
    _valid(data)
    lesson_02 = [t for t in data["tests"] if "lesson_02" in t["tags"]]
    lesson_03 = [t for t in data["tests"] if "lesson_03" in t["tags"]]
    assert lesson_02 and all(t["status"] == "passed" for t in lesson_02)
    assert any(t["status"] == "failed" and "no function `accuracy`" in t["output"] for t in lesson_03)
    assert 0 < data["score"] < data["max_score"]
    assert not os.stat(bundle / "source" / "solutions").st_mode & 0o077, "the reference stays readable to others"


def test_run_autograder_writes_results_json_even_for_an_empty_submission(bundle):
    data = _run_autograder(bundle, None)
    _valid(data)
    assert data["score"] == 0


def test_the_github_classroom_workflow_has_one_step_per_lesson_with_its_points():
    yaml = pytest.importorskip("yaml")
    from course.grading.classroom import points_per_lesson, workflow

    points = points_per_lesson(paths.CHECKS, paths.SOLUTIONS)
    doc = yaml.safe_load(workflow(points))
    assert doc["name"] == "Autograding Tests"
    steps = doc["jobs"]["run-autograding-tests"]["steps"]
    graders = [s for s in steps if s.get("uses", "").startswith("classroom-resources/autograding-command-grader")]
    assert [g["with"]["command"].split()[3] for g in graders] == [f"checks/{name}" for name in points]
    assert [g["with"]["max-score"] for g in graders] == list(points.values())
    reporter = steps[-1]
    assert reporter["with"]["runners"] == ",".join(g["id"] for g in graders)
    assert all(f"{g['id'].upper()}_RESULTS" in reporter["env"] for g in graders)


# --- course grade, end to end, with hidden checks ----------------------------------------------------

HIDDEN = '''
import numpy as np
import pytest

from course.checklib import expect_close


@pytest.mark.points(3)
def test_relu_of_a_large_random_batch_matches_max_z_0(lesson, rng):
    z = rng.standard_normal((50, 7)) * 10
    expect_close(lesson.relu(z), np.maximum(z, 0), lesson.relu.text(z))
'''


@pytest.mark.skipif(sandbox.detect() == "none", reason="no sandbox isolation on this machine")
def test_course_grade_writes_every_export_and_counts_hidden_checks(tmp_path, capsys):
    import csv

    from course.cli import main
    from tests.submissions.corpus import write_tree

    hidden = tmp_path / "hidden" / "lesson_02"
    hidden.mkdir(parents=True)
    (hidden / "test_more_relu.py").write_text(HIDDEN)
    write_tree(tmp_path / "subs" / "amy" / "lessons")
    write_tree(tmp_path / "subs" / "bo, jr" / "lessons", stubs=("lesson_02",))
    out = tmp_path / "grades"
    code = main(["grade", str(tmp_path / "subs" / "amy" / "lessons"), str(tmp_path / "subs" / "bo, jr"),
                 "--out", str(out), "--lessons", "02", "--extra-checks", str(tmp_path / "hidden"), "--workers", "2"])
    assert code == 0, capsys.readouterr().err
    with open(out / "gradebook.csv", newline="") as f:
        book = {row["id"]: row for row in csv.DictReader(f)}
    assert set(book) == {"amy", "bo__jr"}
    assert book["amy"]["lesson_02"] == book["amy"]["max"] == "34" and book["amy"]["percent"] == "100.0"
    assert book["bo__jr"]["total"] == "0"
    with open(out / "checks.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["hidden"] == "yes"]
    assert {r["id"] for r in rows} == {"amy", "bo__jr"} and all(r["max"] == "3" for r in rows)
    assert "(hidden check)" in (out / "feedback" / "bo__jr.md").read_text()
    data = json.loads((out / "gradescope" / "amy" / "results.json").read_text())
    assert data["score"] == 34 and any(t["visibility"] == "after_published" for t in data["tests"])
    run = json.loads((out / "run.json").read_text())
    assert run["max"] == 34 and run["isolation"] == sandbox.detect()
