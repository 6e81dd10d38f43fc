"""The checks are honest: all pass on the reference, none pass on the untouched stubs.

Both runs happen in a fresh interpreter, exactly as a learner runs them.
"""

from __future__ import annotations

import ast
import re

import pytest

from course import curriculum, paths
from course.progress import run_checks

BUILT = [l.name for l in curriculum.LESSONS if (paths.CHECKS / l.name).is_dir() and any((paths.CHECKS / l.name).glob("test_*.py"))]


@pytest.fixture(scope="module")
def on_reference() -> dict:
    return run_checks("solutions", BUILT)


@pytest.fixture(scope="module")
def on_stubs() -> dict:
    return run_checks("lessons", BUILT)


def test_every_check_passes_on_the_reference(on_reference):
    checks = on_reference["checks"]
    assert checks, f"no checks ran:\n{on_reference['output']}"
    bad = [f"{c['check']} ({c['outcome']}):\n{c['message']}" for c in checks if c["outcome"] != "passed"]
    assert not bad, "checks that do not pass on solutions/:\n" + "\n".join(bad)


@pytest.mark.parametrize("lesson", BUILT)
def test_every_lesson_has_checks_on_the_reference(on_reference, lesson):
    assert any(c["lesson"] == lesson for c in on_reference["checks"]), f"{lesson} has no checks that ran"


def test_no_check_passes_on_the_untouched_stubs(on_stubs):
    checks = on_stubs["checks"]
    assert checks, f"no checks ran:\n{on_stubs['output']}"
    passing = [c["nodeid"] for c in checks if c["outcome"] != "failed"]
    assert not passing, "checks that do not fail on the untouched stubs (they assert nothing about the learner's work):\n" + "\n".join(passing)


def test_every_failure_on_the_stubs_names_the_stub_to_fill_in(on_stubs):
    pattern = re.compile(r"(is not written yet|is not finished yet).*", re.S)
    vague = [f"{c['check']}:\n{c['message']}" for c in on_stubs["checks"]
             if not pattern.search(c["message"]) or "lessons/lesson_0" not in c["message"]]
    assert not vague, "failures on the stubs that do not name the stub to fill in:\n" + "\n---\n".join(vague)


def test_no_failure_shows_a_traceback_of_the_course_code(on_stubs):
    raw = [c["check"] for c in on_stubs["checks"] if "Traceback" in c["message"] or "course/" in c["message"]]
    assert not raw, f"failures that show the course's own traceback: {raw}"


def _checks_files():
    return sorted(paths.CHECKS.glob("lesson_*/test_*.py"))


@pytest.mark.parametrize("path", _checks_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_checks_are_named_as_sentences_and_carry_points(path):
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            words = node.name.split("_")[1:]
            assert len(words) >= 3, f"{path.name}::{node.name}: name a check as a sentence of what it tests"
            marks = [ast.unparse(d) for d in node.decorator_list]
            assert any("points" in m for m in marks), f"{path.name}::{node.name} has no @pytest.mark.points(n)"


@pytest.mark.parametrize("path", _checks_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_checks_never_import_a_tree_directly(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        for name in names:
            assert not re.match(r"(lessons|solutions)\b", name) and not (isinstance(node, ast.ImportFrom) and node.level), \
                f"{path}: imports {name!r}; checks reach the code under test only through the fixtures"


@pytest.mark.parametrize("lesson", BUILT)
def test_no_check_passes_on_functions_that_return_none(lesson, tmp_path):
    """A do-nothing implementation (each graded function of the lesson returns None) earns nothing."""
    import shutil

    tree = tmp_path / "do-nothing"
    shutil.copytree(paths.SOLUTIONS, tree, ignore=shutil.ignore_patterns("__pycache__"))
    for module, functions in curriculum.lesson(lesson).modules.items():
        path = tree / lesson / f"{module}.py"
        path.write_text(path.read_text() + "".join(f"\n\ndef {f}(*args, **kwargs):\n    return None\n" for f in functions))
    results = run_checks(tree, [lesson])
    assert results["checks"], results["output"]
    passing = [c["check"] for c in results["checks"] if c["outcome"] == "passed"]
    assert not passing, f"checks of {lesson} that pass when every function returns None: {passing}"
