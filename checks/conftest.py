"""What the checks run against, and how their failures read.

    pytest checks/lesson_02                      # grades your lessons/
    pytest checks --target solutions             # grades the reference
    pytest checks --target path/to/submission    # grades any folder laid out like lessons/

Checks reach the code under test only through the fixtures below (``lesson`` and ``lessons``),
never by importing a tree.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from course import paths
from course.target import CheckError, LessonAPI

try:
    from hypothesis import HealthCheck, Phase, settings

    # The fixtures handed to property checks hold no state, so reusing them across examples is safe.
    settings.register_profile("checks", derandomize=True, deadline=None, max_examples=40,
                              database=None, print_blob=False,
                              # No "explain" phase: it reruns a failing check many times to say
                              # which argument mattered, seconds per failing check on a stub.
                              phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
                              suppress_health_check=[HealthCheck.function_scoped_fixture])
    settings.load_profile("checks")
except ImportError:  # pragma: no cover - hypothesis is a learner dependency
    pass


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("course")
    group.addoption("--target", action="append", default=None,
                    help="the tree to grade: lessons (default), solutions, or a folder laid out like lessons/; "
                         "repeat it to run every check on several trees in one session")
    group.addoption("--results-json", default=None, help="write each check's outcome, points and message here")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(n): how many points a check is worth when graded")
    # The checks multiply small matrices: one BLAS thread is faster than several, and never spins
    # on a busy machine (lesson 05's checks: 0.5 s on one thread, 7 s on two under load).
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a learner dependency; without it BLAS keeps its threads
        return
    config._course_blas = threadpool_limits(limits=1)  # type: ignore[attr-defined]
    config._course_results = []  # type: ignore[attr-defined]


def _trees(config: pytest.Config) -> list[Path]:
    targets = config.getoption("--target") or [os.environ.get("COURSE_TARGET") or None]
    return [paths.resolve_target(t) for t in targets]


def _item_tree(item: pytest.Item) -> Path:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "tree" in callspec.params:
        return callspec.params["tree"]
    return _trees(item.config)[0]


def pytest_report_header(config: pytest.Config) -> str:
    return "graded tree: " + ", ".join(str(t) for t in _trees(config))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    trees = _trees(metafunc.config)
    if len(trees) > 1 and "tree" in metafunc.fixturenames:
        metafunc.parametrize("tree", trees, indirect=True, scope="session",
                             ids=[f"tree{i}" for i in range(len(trees))])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = [item.nodeid for item in items if item.get_closest_marker("points") is None]
    if missing:
        raise pytest.UsageError("checks without a points marker: " + ", ".join(missing))


def _lesson_number(path: Path) -> int:
    for part in reversed(path.parts):
        if part.startswith("lesson_"):
            return int(part.split("_")[1])
    raise pytest.UsageError(f"{path} is not inside a checks/lesson_NN folder")


def make_api(tree: Path, number: int, checking: int) -> LessonAPI:
    """The seam: the functions of lesson ``number`` of ``tree``, for the checks of ``checking``.

    ``course grade`` sets ``COURSE_SANDBOX``: then the lesson being checked runs in a sandboxed
    child process (same calls, same messages) and earlier lessons come from ``tree``, the reference.
    """
    if os.environ.get("COURSE_SANDBOX"):
        from course.grading.remote import make_api as sandboxed

        return sandboxed(tree, number, checking)
    return LessonAPI(tree, number, checking=checking)


@pytest.fixture(scope="session")
def tree(request: pytest.FixtureRequest) -> Path:
    """The folder being graded."""
    return getattr(request, "param", None) or _trees(request.config)[0]


@pytest.fixture
def lessons(request: pytest.FixtureRequest, tree: Path):
    """``lessons(2)``: the graded functions of lesson 02 of the tree, e.g. ``lessons(2).forward``."""
    checking = _lesson_number(request.path)
    apis = request.node.__dict__.setdefault("_course_apis", [])

    def get(number: int) -> LessonAPI:
        api = make_api(tree, number, checking)
        apis.append(api)
        return api

    return get


@pytest.fixture
def lesson(request: pytest.FixtureRequest, lessons) -> LessonAPI:
    """The graded functions of the lesson these checks belong to: ``lesson.softmax(z)``."""
    return lessons(_lesson_number(request.path))


@pytest.fixture
def rng() -> np.random.Generator:
    """A fixed-seed random generator, so every run of a check sees the same numbers.

    The grader sets ``COURSE_SEED`` so that graded inputs are not the ones a learner saw.
    """
    return np.random.default_rng(int(os.environ.get("COURSE_SEED") or 20261124))


def _graded(item: pytest.Item) -> str:
    used = [f for api in item.__dict__.get("_course_apis", []) for f in api.used.values()]
    root = _item_tree(item)
    if not used:
        return f"graded tree: {root}"
    shown = sorted({str(Path(u).relative_to(root.parent)) if Path(u.split('::')[0]).is_relative_to(root.parent)
                    else u for u in used})
    return "graded: " + ", ".join(shown)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.excinfo is not None:
        header = _graded(item)
        exc = call.excinfo.value
        if isinstance(exc, CheckError):
            notes = "\n".join(getattr(exc, "__notes__", []) or [])
            report.longrepr = f"{header}\n{exc}" + (f"\n{notes}" if notes else "")
        else:
            report.sections.insert(0, ("graded code", header))
        item._course_message = str(report.longrepr)  # type: ignore[attr-defined]
    if report.when == "call" or (report.when == "setup" and not report.passed):
        marker = item.get_closest_marker("points")
        item.config._course_results.append({  # type: ignore[attr-defined]
            "nodeid": item.nodeid,
            "tree": str(_item_tree(item)),
            "lesson": f"lesson_{_lesson_number(Path(str(item.path))):02d}",
            "check": item.name,
            "points": marker.args[0] if marker and marker.args else 0,
            "outcome": "passed" if report.passed else "skipped" if report.skipped else "failed",
            "message": "" if report.passed else str(report.longrepr)[-4000:],
        })


def pytest_sessionfinish(session: pytest.Session) -> None:
    out = session.config.getoption("--results-json")
    if out:
        Path(out).write_text(json.dumps({"tree": ", ".join(str(t) for t in _trees(session.config)),
                                         "checks": session.config._course_results}, indent=1))  # type: ignore[attr-defined]
