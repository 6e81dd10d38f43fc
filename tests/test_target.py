"""The seam between checks and code: what a learner reads when something is not right."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from course import paths
from course.target import CheckError, LessonAPI


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "tree"
    for rel, text in {"__init__.py": "", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    for lesson in ("lesson_01", "lesson_02", "lesson_03"):
        (root / lesson).mkdir(exist_ok=True)
        (root / lesson / "__init__.py").touch()
    return root


def test_an_unfinished_earlier_lesson_is_named_not_traced(tmp_path):
    tree = _tree(tmp_path, {
        "lesson_02/forward.py": """
            def softmax(z):
                raise NotImplementedError("lesson 02: implement softmax")
            """,
        "lesson_03/loss.py": """
            from ..lesson_02.forward import softmax
            def cross_entropy(probs, y_onehot, eps=1e-12):
                return softmax(probs)
            """,
    })
    api = LessonAPI(tree, 3)
    with pytest.raises(CheckError) as info:
        api.cross_entropy(np.zeros((2, 3)), np.eye(3)[:2])
    message = str(info.value)
    assert message.startswith("lesson 02 is not finished yet (softmax raises NotImplementedError): finish it first")
    assert "cross_entropy(probs: (2, 3) float64, y_onehot: (2, 3) float64)" in message
    assert "Traceback" not in message


def test_an_unwritten_stub_names_the_file_to_fill_in(tmp_path):
    tree = _tree(tmp_path, {"lesson_02/forward.py": """
        def relu(z):
            raise NotImplementedError("lesson 02: implement relu")
        """})
    with pytest.raises(CheckError, match=r"(?s)relu is not written yet.*Fill in the stub `relu` in tree/lesson_02/forward.py"):
        LessonAPI(tree, 2).relu(np.zeros(3))


def test_a_syntax_error_is_shown_with_the_learners_line_only(tmp_path):
    tree = _tree(tmp_path, {"lesson_02/forward.py": "def relu(z):\n    return np.maximum(z, 0\n"})
    with pytest.raises(CheckError) as info:
        LessonAPI(tree, 2).relu(np.zeros(3))
    message = str(info.value)
    assert "could not import" in message and "forward.py" in message and "SyntaxError" in message
    assert "course/target.py" not in message


def test_a_renamed_function_is_reported_by_its_expected_name(tmp_path):
    tree = _tree(tmp_path, {"lesson_02/forward.py": "def my_relu(z):\n    return z\n"})
    with pytest.raises(CheckError, match="has no function `relu`"):
        LessonAPI(tree, 2).relu


def test_an_error_in_the_learners_code_shows_only_their_frames(tmp_path):
    tree = _tree(tmp_path, {"lesson_02/forward.py": """
        import numpy as np
        def _helper(z):
            return z @ np.ones((5, 5))
        def relu(z):
            return _helper(z)
        """})
    with pytest.raises(CheckError) as info:
        LessonAPI(tree, 2).relu(np.zeros((2, 3)))
    message = str(info.value)
    assert "relu(z: (2, 3) float64) raised ValueError" in message
    assert "_helper" in message and "course/" not in message


def test_a_lesson_using_a_later_lesson_is_told_so(tmp_path):
    tree = _tree(tmp_path, {
        "lesson_02/forward.py": """
            from ..lesson_03.loss import accuracy
            def relu(z):
                return accuracy(z, z)
            """,
        "lesson_03/loss.py": """
            def accuracy(scores, labels):
                raise NotImplementedError("lesson 03: implement accuracy")
            """,
    })
    with pytest.raises(CheckError, match="a later lesson"):
        LessonAPI(tree, 2).relu(np.zeros(3))


def test_the_reference_and_the_stubs_are_separate_packages():
    ref, stub = LessonAPI(paths.SOLUTIONS, 2), LessonAPI(paths.LESSONS, 2)
    assert ref.relu.fn is not stub.relu.fn
    assert ref.used["relu"].startswith(str(paths.SOLUTIONS))
    assert stub.used["relu"].startswith(str(paths.LESSONS))
