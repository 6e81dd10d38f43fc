"""Every realistic wrong implementation in tests/mutants is caught by a check that names it.

All mutants of one lesson are checked in a single pytest session (``--target`` repeated, one tree
per mutant), so the whole catalog costs one interpreter start per lesson.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from course import curriculum, paths
from course.progress import run_checks
from tests.mutants import Mutant, catalog

CASES = [(lesson.name, mutant) for lesson in curriculum.LESSONS for mutant in catalog(lesson.name)]


@pytest.fixture(scope="session")
def mutant_results(tmp_path_factory):
    """Per lesson, lazily: mutant name -> the lesson's check results on the reference with that mutant."""
    cache: dict[str, dict[str, list[dict]]] = {}

    def get(lesson: str) -> dict[str, list[dict]]:
        if lesson not in cache:
            root = tmp_path_factory.mktemp(f"mutants_{lesson}")
            trees: dict[str, Path] = {}
            for i, mutant in enumerate(catalog(lesson)):
                tree = root / f"m{i:02d}"
                shutil.copytree(paths.SOLUTIONS, tree, ignore=shutil.ignore_patterns("__pycache__"))
                module = tree / lesson / f"{mutant.module}.py"
                module.write_text(mutant.apply(module.read_text()))
                trees[mutant.name] = tree.resolve()
            results = run_checks(list(trees.values()), [lesson])
            assert results["checks"], f"the checks of {lesson} did not run:\n{results['output']}"
            by_tree: dict[str, list[dict]] = {}
            for check in results["checks"]:
                by_tree.setdefault(check["tree"], []).append(check)
            cache[lesson] = {name: by_tree.get(str(tree), []) for name, tree in trees.items()}
        return cache[lesson]

    return get


@pytest.mark.parametrize("lesson_name, mutant", CASES, ids=[f"{l}-{m.name}" for l, m in CASES])
def test_mutant_is_caught_by_a_check_that_names_the_mistake(lesson_name: str, mutant: Mutant, mutant_results):
    checks = mutant_results(lesson_name)[mutant.name]
    assert checks, f"no check of {lesson_name} ran on the mutant {mutant.name!r}"
    failed = [c for c in checks if c["outcome"] == "failed"]
    assert failed, f"no check of {lesson_name} fails with the mutant {mutant.name!r}"
    naming = [c for c in failed if mutant.expect.lower() in c["message"].lower()]
    assert naming, (
        f"mutant {mutant.name!r} is caught, but no failure message mentions {mutant.expect!r}. Messages:\n"
        + "\n---\n".join(f"{c['check']}:\n{c['message']}" for c in failed)
    )


@pytest.mark.parametrize("lesson", [l.name for l in curriculum.LESSONS if (paths.SOLUTIONS / l.name).is_dir()])
def test_every_lesson_has_a_catalog_of_at_least_six_mutants(lesson: str):
    assert len(catalog(lesson)) >= 6, f"tests/mutants/{lesson}.py should hold at least 6 realistic mistakes"
