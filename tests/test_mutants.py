"""Every realistic wrong implementation in tests/mutants is caught by a check that names it.

The mutants of a lesson are checked a few at a time in one pytest session each (``--target``
repeated, one tree per mutant), so the catalog costs a handful of interpreter starts per lesson.
"""

from __future__ import annotations

import fcntl
import json
import shutil
from pathlib import Path

import pytest

from course import curriculum, paths
from course.progress import run_checks
from tests.mutants import Mutant, catalog

CASES = [(lesson.name, mutant) for lesson in curriculum.LESSONS for mutant in catalog(lesson.name)]


CHUNK = 6  # mutants checked per pytest session: chunks spread over xdist workers


def _check_chunk(lesson: str, index: int, root: Path) -> dict[str, list[dict]]:
    """Run the lesson's checks on the reference with each mutant of one chunk of the catalog."""
    trees: dict[str, Path] = {}
    for i, mutant in enumerate(catalog(lesson)[index * CHUNK:(index + 1) * CHUNK]):
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
    return {name: by_tree.get(str(tree), []) for name, tree in trees.items()}


@pytest.fixture(scope="session")
def mutant_results(tmp_path_factory):
    """(lesson, chunk) -> mutant name -> check results; computed once across xdist workers."""
    shared = tmp_path_factory.getbasetemp().parent  # the same folder for every xdist worker
    memo: dict[tuple[str, int], dict] = {}

    def get(lesson: str, index: int) -> dict[str, list[dict]]:
        if (lesson, index) not in memo:
            done = shared / f"mutants-{lesson}-{index}.json"
            with open(shared / f"mutants-{lesson}-{index}.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if not done.exists():
                    root = tmp_path_factory.mktemp(f"mutants_{lesson}_{index}")
                    done.write_text(json.dumps(_check_chunk(lesson, index, root)))
            memo[(lesson, index)] = json.loads(done.read_text())
        return memo[(lesson, index)]

    return get


@pytest.mark.parametrize("lesson_name, mutant", CASES, ids=[f"{l}-{m.name}" for l, m in CASES])
def test_mutant_is_caught_by_a_check_that_names_the_mistake(lesson_name: str, mutant: Mutant, mutant_results):
    index = [m.name for m in catalog(lesson_name)].index(mutant.name) // CHUNK
    checks = mutant_results(lesson_name, index)[mutant.name]
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
