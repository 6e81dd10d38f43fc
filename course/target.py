"""The one seam between the checks and the code under test.

A *tree* is a folder laid out like ``lessons/`` (``lesson_01/`` ... ``lesson_06/``). It is imported
as a package under a private name, so its relative imports (``from ..lesson_02.forward import
forward``) work the same in ``lessons/``, ``solutions/`` or a student's submission.

Checks never import a tree. They ask a :class:`LessonAPI` for a function by name and call it; the
call comes back with the function's result, or fails the check with a message a learner can act
on: which stub to fill in, which earlier lesson to finish, or the learner's own traceback with the
course's frames left out. The grader swaps in a backend that runs the same calls in a sandbox.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import sys
import traceback
from itertools import count
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from . import curriculum
from .describe import describe_call

_STUB = re.compile(r"lesson (\d\d): implement (\w+)")
_names = count()
_trees: dict[Path, str] = {}


class CheckError(AssertionError):
    """A check cannot go on: the message is written for the learner, no traceback needed."""


def load_tree(path: str | Path, name: str | None = None) -> ModuleType:
    """Import the tree at ``path`` as a package (once per process) and return it."""
    path = Path(path).resolve()
    if name is None:
        if path in _trees and _trees[path] in sys.modules:
            return sys.modules[_trees[path]]
        safe = re.sub(r"\W", "_", path.name)
        name = f"_tree{next(_names)}_{safe}"
    init = path / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        name, init if init.exists() else None, submodule_search_locations=[str(path)]
    )
    if spec is None or spec.loader is None and init.exists():
        raise CheckError(f"cannot import the folder {path} as a package")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    if init.exists():
        spec.loader.exec_module(module)
    _trees.setdefault(path, name)
    return module


def _stub_info(exc: BaseException) -> tuple[int, str] | None:
    match = _STUB.search(str(exc))
    return (int(match.group(1)), match.group(2)) if match else None


def _learner_traceback(exc: BaseException, tree: Path) -> str:
    """The traceback of ``exc`` restricted to frames in the learner's tree."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).is_relative_to(tree)]
    lines = traceback.format_list(frames) if frames else []
    return "".join(lines) + "".join(traceback.format_exception_only(type(exc), exc))


class LessonAPI:
    """The graded functions of one lesson of one tree: ``api.softmax(z)``.

    ``checking`` is the lesson whose checks are running (it decides whether a NotImplementedError
    means "fill in this stub" or "finish an earlier lesson first"). Each function used is recorded
    in ``used`` so that a failing check can say which file it graded.
    """

    def __init__(self, tree: Path, lesson: int, checking: int | None = None):
        self.tree = Path(tree).resolve()
        self.lesson = curriculum.lesson(lesson)
        self.checking = checking or lesson
        self.used: dict[str, str] = {}
        self._package = None

    def __repr__(self) -> str:
        return f"<{self.lesson.label} of {self.tree}>"

    def _module(self, module: str) -> ModuleType:
        relative = f"{self.lesson.name}/{module}.py"
        if not (self.tree / relative).exists():
            raise CheckError(f"{self.tree / relative} does not exist: the checks of {self.lesson.label} "
                             f"grade the functions in {relative}. Was it moved or renamed?")
        package = load_tree(self.tree)
        try:
            return importlib.import_module(f"{package.__name__}.{self.lesson.name}.{module}")
        except NotImplementedError as exc:  # a stub called at import time
            raise CheckError(self._not_implemented(exc, f"importing {relative}")) from None
        except Exception as exc:  # SyntaxError, ImportError, an error at import time
            raise CheckError(
                f"could not import {self.tree / relative}:\n{_learner_traceback(exc, self.tree)}"
                f"hint: fix this first; no check of {self.lesson.label} can run until the file imports."
            ) from None

    def __getattr__(self, function: str) -> Callable[..., Any]:
        if function.startswith("_"):
            raise AttributeError(function)
        module_name = self.lesson.module_of(function)
        if module_name is None:
            raise AttributeError(f"{function} is not a graded function of {self.lesson.label}")
        module = self._module(module_name)
        fn = getattr(module, function, None)
        path = self.tree / self.lesson.name / f"{module_name}.py"
        if not callable(fn):
            raise CheckError(f"{path} has no function `{function}`: the checks call it by that name. "
                             f"Did you rename or delete it? (The stub's signature is the contract.)")
        self.used[function] = f"{path}::{function}"
        return _Checked(self, function, fn)

    def _not_implemented(self, exc: BaseException, call: str) -> str:
        info = _stub_info(exc)
        if info is None:
            return f"{call} raised NotImplementedError: {exc}"
        number, name = info
        owner = curriculum.lesson(number)
        module = owner.module_of(name) or "?"
        where = f"{owner.name}/{module}.py"
        if number == self.checking:
            return (f"{name} is not written yet: {call} raised NotImplementedError.\n"
                    f"Fill in the stub `{name}` in {self.tree.name}/{where} "
                    f"(read its docstring and the lesson notebook), then run the checks again.")
        if number < self.checking:
            return (f"{owner.label} is not finished yet ({name} raises NotImplementedError): finish it first.\n"
                    f"{call} needs {name} from {self.tree.name}/{where}; "
                    f"run `pytest checks/{owner.name}` until it passes, then come back to "
                    f"{curriculum.lesson(self.checking).label}.")
        return (f"{call} called {name} from {owner.label}, a later lesson: a lesson may only use "
                f"the lessons before it.")


class _Checked:
    """A learner's function, called so that every failure reads as a lesson, not a traceback."""

    def __init__(self, api: LessonAPI, name: str, fn: Callable[..., Any]):
        self.api, self.name, self.fn = api, name, fn
        self.__doc__ = fn.__doc__
        try:
            self.params = tuple(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            self.params = ()

    def text(self, *args: Any, **kwargs: Any) -> str:
        """How a call of this function is shown in a message: ``softmax(z: (4, 10) float64)``."""
        return describe_call(self.name, args, kwargs, self.params)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return self.fn(*args, **kwargs)
        except NotImplementedError as exc:
            raise CheckError(self.api._not_implemented(exc, self.text(*args, **kwargs))) from None
        except CheckError:
            raise
        except Exception as exc:
            raise CheckError(
                f"{self.text(*args, **kwargs)} raised {type(exc).__name__}:\n"
                f"{_learner_traceback(exc, self.api.tree)}"
            ) from None

    def raw(self, *args: Any, **kwargs: Any) -> Any:
        """Call without translating exceptions (for checks that expect an error)."""
        return self.fn(*args, **kwargs)
