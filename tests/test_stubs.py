"""One source of truth: lessons/ is generated from solutions/ and leaks none of it."""

from __future__ import annotations

import ast
import json

import pytest

from course import curriculum, paths, stubs


def test_lessons_are_up_to_date_with_solutions():
    problems = stubs.stale()
    assert not problems, "lessons/ is out of date; run `course stubs`:\n" + "\n".join(problems)


def test_no_solution_line_or_marker_leaks_into_lessons():
    leaks = stubs.find_leaks(paths.LESSONS)
    assert not leaks, "\n".join(leaks)


def test_leak_finder_sees_a_pasted_solution_line(tmp_path):
    line = next(iter(stubs.solution_lines()))
    (tmp_path / "x.py").write_text(f"def f():\n    {line}\n")
    assert stubs.find_leaks(tmp_path), "a solution line pasted into a file was not found"


def test_stub_keeps_signature_and_docstring_and_names_lesson_and_function():
    text = "def f(a, b=1):\n    \"\"\"Doc.\"\"\"\n    # BEGIN SOLUTION\n    return a + b\n    # END SOLUTION\n"
    out = stubs.strip_solutions(text, paths.SOLUTIONS / "lesson_03" / "loss.py")
    assert out == "def f(a, b=1):\n    \"\"\"Doc.\"\"\"\n    raise NotImplementedError(\"lesson 03: implement f\")\n"


@pytest.mark.parametrize("text", ["    # BEGIN SOLUTION\n", "def f():\n    # END SOLUTION\n",
                                  "def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n"])
def test_unpaired_markers_are_an_error(text):
    with pytest.raises(stubs.MarkerError):
        stubs.strip_solutions(text, paths.SOLUTIONS / "x.py")


@pytest.mark.parametrize("lesson", [l for l in curriculum.LESSONS if (paths.LESSONS / l.name).is_dir()],
                         ids=lambda l: l.name)
def test_every_graded_function_is_a_stub_in_lessons(lesson):
    for module, functions in lesson.modules.items():
        path = paths.LESSONS / lesson.name / f"{module}.py"
        tree = ast.parse(path.read_text())
        defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
        for name in functions:
            assert name in defs, f"{path} has no function {name}"
            fn = defs[name]
            assert ast.get_docstring(fn), f"{path}::{name} has no docstring"
            body = ast.unparse(fn.body[-1])
            assert body == f"raise NotImplementedError('{lesson.label}: implement {name}')", \
                f"{path}::{name} should end in raise NotImplementedError(...), not {body!r}"


def _relative_imports(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            yield node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            for name in names:
                assert not (name or "").startswith(("lessons", "solutions")), \
                    f"{path}: import {name}: lessons import each other with relative imports only"


@pytest.mark.parametrize("tree", [paths.SOLUTIONS, paths.LESSONS], ids=["solutions", "lessons"])
def test_a_lesson_imports_only_earlier_lessons(tree):
    for path in sorted(tree.glob("lesson_*/*.py")):
        if stubs.is_notebook_source(path):
            continue  # notebooks import the tree as `lessons` (course.notebook.setup)
        number = int(path.parent.name.split("_")[1])
        for node in _relative_imports(path):
            module = node.module or ""
            if node.level == 2 and module.startswith("lesson_"):
                other = int(module.split(".")[0].split("_")[1])
                assert other < number, f"{path}: imports {module}, a lesson that is not before {path.parent.name}"


def test_generated_notebooks_are_plain_ipynb_without_outputs():
    for path in sorted(paths.LESSONS.glob("lesson_*/*.ipynb")):
        nb = json.loads(path.read_text())
        assert nb["nbformat"] == 4
        assert all(not c.get("outputs") for c in nb["cells"]), f"{path} carries outputs"
        assert "jupytext" not in json.dumps(nb["metadata"]), f"{path} needs jupytext to open"
