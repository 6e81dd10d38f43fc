"""Every realistic wrong implementation in tests/mutants is caught by a check that names it."""

from __future__ import annotations

import shutil

import pytest

from course import curriculum, paths
from course.progress import run_checks
from tests.mutants import Mutant, catalog

CASES = [(lesson.name, mutant) for lesson in curriculum.LESSONS for mutant in catalog(lesson.name)]


@pytest.mark.parametrize("lesson_name, mutant", CASES, ids=[f"{l}-{m.name}" for l, m in CASES])
def test_mutant_is_caught_by_a_check_that_names_the_mistake(lesson_name: str, mutant: Mutant, tmp_path):
    tree = tmp_path / "submission"
    shutil.copytree(paths.SOLUTIONS, tree, ignore=shutil.ignore_patterns("__pycache__"))
    module = tree / lesson_name / f"{mutant.module}.py"
    module.write_text(mutant.apply(module.read_text()))
    results = run_checks(tree, [lesson_name])
    failed = [c for c in results["checks"] if c["outcome"] == "failed"]
    assert results["checks"], f"the checks did not run:\n{results['output']}"
    assert failed, f"no check of {lesson_name} fails with the mutant {mutant.name!r}"
    naming = [c for c in failed if mutant.expect.lower() in c["message"].lower()]
    assert naming, (
        f"mutant {mutant.name!r} is caught, but no failure message mentions {mutant.expect!r}. Messages:\n"
        + "\n---\n".join(f"{c['check']}:\n{c['message']}" for c in failed)
    )


@pytest.mark.parametrize("lesson", [l.name for l in curriculum.LESSONS if (paths.SOLUTIONS / l.name).is_dir()])
def test_every_lesson_has_a_catalog_of_at_least_six_mutants(lesson: str):
    assert len(catalog(lesson)) >= 6, f"tests/mutants/{lesson}.py should hold at least 6 realistic mistakes"
