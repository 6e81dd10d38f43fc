"""Grading the corpus: every submission gets exactly what it truly earned, and the run finishes.

Two grading runs, two submissions at a time, as an instructor would run them:

* the honest submissions (complete, partial, stubs, syntax error, wrong names, realistic mistakes,
  a zipped clone) on every lesson;
* the hostile ones (tests/submissions/corpus.py: hang, crash, memory and fork bombs, fake
  summaries, exit at import, own conftest/pytest.ini/plugin, edited checks, patched pytest and
  numpy, always-equal objects, reading the reference or another submission, the network, huge
  output, path-escaping archives, symlinks) on lesson 02 (the target) and lesson 03 (a bystander),
  next to the complete submission, whose grade must not move.

"honest" expectations are what the same files score in-process, the way a learner runs the checks
(with the grader's seed, each lesson on top of the reference), so the sandbox must be faithful too.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import re
import socket
import threading
from pathlib import Path

import pytest

from course import paths
from course.grading import sandbox
from course.grading.export import Redactor, feedback, lesson_names, maxima
from course.grading.grader import Grader
from course.grading.intake import read_submission
from course.grading.sandbox import Limits
from course.progress import run_checks
from tests.submissions import corpus

LEVEL = sandbox.detect()
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(LEVEL == "none", reason="no sandbox isolation on this machine (not root, no userns)")]

HONEST = [c for c in corpus.CASES if not c.attack]
HOSTILE = [c for c in corpus.CASES if c.attack]


def _serve(data: bytes) -> tuple[socket.socket, int]:
    """A server on localhost that hands the reference to whoever connects (the network attack)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def loop():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(data)

    threading.Thread(target=loop, daemon=True).start()
    return server, server.getsockname()[1]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    server, port = _serve((paths.SOLUTIONS / "lesson_02" / "forward.py").read_bytes())
    shared = tmp_path_factory.getbasetemp()
    marker = f"corpus-escape-{(shared.parent if os.environ.get('PYTEST_XDIST_WORKER') else shared).name}"
    ctx = corpus.Context(others=[root / "complete"], port=port, marker=marker)
    subs = {case.name: case.build(root / case.name, ctx) for case in corpus.CASES}
    yield root, subs, marker
    server.close()


def _shared(tmp_path_factory, name: str, compute):
    """Compute once per test session, even across pytest-xdist workers (a lock file and a pickle)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    path = base / f"grading-{name}.pickle"
    with open(base / f"grading-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return pickle.loads(path.read_bytes())
        value = compute()
        path.write_bytes(pickle.dumps(value))
        return value


class Run:
    """What the tests need of a grading run (picklable)."""

    def __init__(self, grader: Grader, results: dict, voided: set):
        self.lessons, self.catalog, self.seed = grader.lessons, grader.catalog, grader.seed
        self.calibration = grader.calibration
        self.results, self.voided = results, voided
        self.expected: dict = {}


def _grade(tmp_path_factory, built, lessons, cases, limits, workers=2):
    root, subs, _ = built
    grader = Grader(tmp_path_factory.mktemp("work"), lessons=lessons, limits=limits)
    calibration = grader.calibrate()
    names = [c.name for c in cases]
    submissions = [read_submission(subs[name], name, paths.CHECKS) for name in names]
    results = {r.submission.id: r for r in grader.grade(submissions, workers=workers)}
    voided = {r.check.key for r in calibration.checks if r.status != "passed"}
    return grader, results, voided


def _run(tmp_path_factory, built, lessons, cases, limits) -> Run:
    grader, results, voided = _grade(tmp_path_factory, built, lessons, cases, limits)
    run = Run(grader, results, voided)
    run.expected = _in_process(tmp_path_factory, cases, grader, voided)
    return run


@pytest.fixture(scope="module")
def honest_run(tmp_path_factory, built):
    return _shared(tmp_path_factory, "honest", lambda: _run(
        tmp_path_factory, built, None, HONEST, Limits(call_seconds=10, lesson_seconds=120)))


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory, built):
    cases = HOSTILE + [c for c in corpus.CASES if c.name == "complete"]
    return _shared(tmp_path_factory, "hostile", lambda: _run(
        tmp_path_factory, built, corpus.ATTACK_LESSONS, cases, Limits(call_seconds=3, lesson_seconds=40)))


def _in_process(tmp_path_factory, cases, grader, voided) -> dict[tuple[str, str], float]:
    """(case, lesson) -> points the case's files earn in-process, each lesson on the reference."""
    root = tmp_path_factory.mktemp("in-process")
    wanted: dict[str, dict[str, Path]] = {}
    for case in cases:
        for lesson, kind in case.expected.items():
            if kind != "honest" or lesson not in grader.lessons:
                continue
            if case.twin is not None:
                files = case.twin
            else:
                source = root / "source" / case.name
                lessons = source / "lessons" if source.is_dir() else case.build(source, corpus.Context())
                files = {rel: (lessons / rel).read_text() for rel in corpus.module_files(lesson)}
            tree = corpus.write_tree(root / f"{case.name}-{lesson}", {k: v for k, v in files.items()
                                                                       if k.startswith(lesson + "/")})
            wanted.setdefault(lesson, {})[case.name] = tree.resolve()
    out = {}
    old = os.environ.get("COURSE_SEED")
    os.environ["COURSE_SEED"] = str(grader.seed)
    try:
        for lesson, trees in wanted.items():
            results = run_checks(list(trees.values()), [lesson])
            assert results["checks"], results["output"]
            by_tree: dict[str, float] = {}
            for check in results["checks"]:
                key = re.sub(r"\[tree\d+\]$", "", check["nodeid"].split("checks/", 1)[-1])
                key = re.sub(r"-tree\d+\]$", "]", key)
                if check["outcome"] == "passed" and key not in voided:
                    by_tree[check["tree"]] = by_tree.get(check["tree"], 0.0) + float(check["points"])
            for name, tree in trees.items():
                out[(name, lesson)] = by_tree.get(str(tree), 0.0)
    finally:
        if old is None:
            os.environ.pop("COURSE_SEED", None)
        else:
            os.environ["COURSE_SEED"] = old
    return out


def _check_case(case, run: Run):
    grader, results, voided, expected = run, run.results, run.voided, run.expected
    result = results[case.name]
    top = maxima(grader.catalog, voided)
    got, want = {}, {}
    for lesson in grader.lessons:
        kind = case.expected[lesson]
        got[lesson] = sum(r.score for r in result.checks if r.check.lesson == lesson and r.check.key not in voided)
        want[lesson] = {"full": top[lesson], "zero": 0.0}.get(kind, expected.get((case.name, lesson)))
    failing = "\n---\n".join(f"{r.check.key}: {r.message[:800]}" for r in result.checks
                             if r.status != "passed" and case.expected.get(r.check.lesson) == "full")
    assert got == want, f"{case.name} ({case.about}): scored {got}, truly earns {want}\n{failing}"
    if case.note:
        text = feedback(result, lesson_names([result], grader.catalog), top, voided, Redactor(paths.SOLUTIONS))
        assert case.note.lower() in text.lower(), f"{case.name}: the feedback does not say {case.note!r}:\n{text}"


@pytest.mark.parametrize("case", HONEST, ids=[c.name for c in HONEST])
def test_an_honest_submission_gets_what_it_earns_in_process(case, honest_run):
    _check_case(case, honest_run)


@pytest.mark.parametrize("case", HOSTILE, ids=[c.name for c in HOSTILE])
def test_a_hostile_submission_gets_only_what_it_truly_earned(case, hostile_run):
    if case.needs_network_isolation and LEVEL not in ("namespace", "userns"):
        pytest.skip(f"isolation level {LEVEL!r} has no network namespace")
    _check_case(case, hostile_run)


def test_the_complete_submission_keeps_full_marks_next_to_the_attacks(hostile_run):
    top = maxima(hostile_run.catalog, hostile_run.voided)
    complete = hostile_run.results["complete"]
    assert sum(r.score for r in complete.checks if r.check.key not in hostile_run.voided) == sum(top.values())


def test_the_reference_scores_full_marks_in_the_sandbox(honest_run):
    assert honest_run.calibration.checks and not honest_run.calibration.error
    assert len(honest_run.voided) <= 3, \
        f"the reference fails too many checks under seed {honest_run.seed}: {sorted(honest_run.voided)}"


def test_a_path_escaping_archive_writes_nothing_outside(built, hostile_run):
    root, _, marker = built
    escaped = [p for base in (Path("/tmp"), root, root.parent, Path.cwd())
               for p in base.glob(f"{marker}-*")]
    assert not escaped, f"archive members were written outside the submission: {escaped}"


def test_no_process_of_a_sandbox_survives_the_run(hostile_run):
    leftovers = [pid for pid in os.listdir("/proc") if pid.isdigit() and _uid_of(pid) in range(
        sandbox.UID_BASE, sandbox.UID_BASE + sandbox.UID_COUNT)]
    assert not leftovers, f"sandbox processes still running: {leftovers}"


def _uid_of(pid: str) -> int:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return -1


def test_results_do_not_depend_on_the_number_of_workers(tmp_path_factory, built, hostile_run):
    results = hostile_run.results
    names = ["complete", "always-equal", "crash"]
    cases = [c for c in corpus.CASES if c.name in names]
    _, again, _ = _grade(tmp_path_factory, built, corpus.ATTACK_LESSONS, cases,
                         Limits(call_seconds=3, lesson_seconds=40), workers=1)
    for name in names:
        first = [(r.check.key, r.score, r.status) for r in results[name].checks]
        second = [(r.check.key, r.score, r.status) for r in again[name].checks]
        assert first == second, f"{name}: a different result with 1 worker than with 2"
