"""Grading many submissions: the trusted pytest runs, one per submission, and their results.

For each submission, one pytest process runs the instructor's pristine checks (copied into the
grader's own work folder, with an explicit configuration, no cache, no plugins of the
submission's, a cleaned environment). That process never imports submitted code: through the
seam in ``checks/conftest.py`` every call of a graded function goes to a sandboxed child
(``course.grading.remote``), one child per lesson, whose box holds the submission's modules of
that lesson on top of the reference of the earlier lessons. A check's verdict is reached in the
trusted process and written to a results file only it can write.

Before the class, the reference itself is graded the same way ("calibration"): it must score
full marks, and it gives the list of checks and their points, so that a check that did not run
for a student (a crash of the grader, a timeout of the whole run) still counts, as zero.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .. import curriculum, paths
from . import sandbox
from .intake import GRADED, Submission
from .sandbox import Limits, SandboxSpec

HIDDEN_PREFIX = "test_hidden_"
INI = """[pytest]
addopts =
markers =
    points(n): how many points a check is worth when graded
python_files = test_*.py
python_classes =
python_functions = test_*
console_output_style = classic
"""


@dataclass
class Check:
    key: str  # "lesson_02/test_forward.py::test_relu_..."
    lesson: str
    name: str
    points: float
    hidden: bool


@dataclass
class CheckResult:
    check: Check
    score: float
    status: str  # passed | failed | not run
    message: str


@dataclass
class Result:
    submission: Submission
    checks: list[CheckResult] = field(default_factory=list)
    incidents: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    def lesson_points(self, lesson: str) -> float:
        return sum(r.score for r in self.checks if r.check.lesson == lesson)

    @property
    def total(self) -> float:
        return sum(r.score for r in self.checks)


def default_seed(reference: Path, extra: Path | None) -> int:
    """A seed learners cannot know (it hashes the reference) that is the same on every run."""
    h = hashlib.sha256(b"course-grade-seed-1")
    for root in [reference] + ([extra] if extra else []):
        for path in sorted(root.rglob("*.py")):
            if "__pycache__" not in path.parts:
                h.update(path.relative_to(root).as_posix().encode())
                h.update(path.read_bytes())
    return int.from_bytes(h.digest()[:4], "big")


class Grader:
    """Grades submissions against the pristine checks; one work folder per grading run."""

    def __init__(self, work: Path, reference: Path = paths.SOLUTIONS, checks: Path = paths.CHECKS,
                 extra_checks: Path | None = None, lessons: list[str] | None = None,
                 limits: Limits | None = None, level: str | None = None, seed: int | None = None,
                 python: str | None = None, log=print):
        self.work = Path(work).resolve()
        self.reference = Path(reference).resolve()
        self.pristine = Path(checks).resolve()
        self.extra = Path(extra_checks).resolve() if extra_checks else None
        self.limits = limits or Limits()
        self.level = sandbox.detect(level)
        if self.level == "none" and level != "none":
            raise sandbox.SandboxError("no isolation is available on this machine (not root, no user namespaces); "
                                       "pass --isolation none only for code you trust")
        self.seed = default_seed(self.reference, self.extra) if seed is None else int(seed)
        self.python = python or os.environ.get(sandbox.PYTHON_ENV) or sys.executable
        self.log = log
        sandbox.prepare_work_dir(self.work, self.level)
        self.root = self.work / "checks-root"
        self.hidden_files: set[str] = set()
        self._copy_checks()
        os.chmod(self.root, 0o700)  # the pristine and hidden checks: the grader's eyes only
        self._subs = sandbox.lock_down(self.work / "subs", 0o711 if self.level == "uid" else 0o700)
        wanted = lessons or [l.name for l in curriculum.LESSONS]
        self.lessons = [name for name in wanted if any((self.root / "checks" / name).glob("test_*.py"))]
        self.mpl = sandbox.build_matplotlib_cache(self.work / "mpl")
        os.chmod(self.mpl, 0o700)
        self.catalog: list[Check] = []
        self.calibration: Result | None = None
        self._live: set[subprocess.Popen] = set()
        self._stopping = False

    # setup ---------------------------------------------------------------------------------------

    def _copy_checks(self) -> None:
        if self.root.exists():
            shutil.rmtree(self.root)
        target = self.root / "checks"
        shutil.copytree(self.pristine, target, symlinks=False,
                        ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", ".hypothesis"))
        if self.extra:
            for path in sorted(self.extra.glob("lesson_*/test_*.py")):
                name = HIDDEN_PREFIX + path.name[len("test_"):]
                dest = target / path.parent.name / name
                dest.parent.mkdir(exist_ok=True)
                shutil.copyfile(path, dest)
                self.hidden_files.add(f"{path.parent.name}/{name}")
            for path in sorted(self.extra.glob("lesson_*/*.py")):
                if not path.name.startswith("test_"):  # helpers the hidden checks import
                    shutil.copyfile(path, target / path.parent.name / path.name)
        (self.root / "pytest.ini").write_text(INI)

    def calibrate(self) -> Result:
        """Grade the reference: it must pass everything; its checks are the catalog."""
        ref = Submission(id="_reference", source=self.reference)
        for rel in GRADED:
            path = self.reference / rel
            if path.is_file():
                ref.modules[rel] = path.read_bytes()
        lease = sandbox.UidLease() if self.level in ("namespace", "uid") else None
        if lease and self.level == "uid":
            problem = sandbox.check_python_for(lease.uid, self.python)
            if problem:
                lease.release()
                raise sandbox.SandboxError(problem)
            try:
                self.protect([], lease.uid)
            except sandbox.SandboxError:
                lease.release()
                raise
        try:
            result = self._run(ref, lease.uid if lease else None, catalog=None)
        finally:
            if lease:
                lease.release()
        self.catalog = [r.check for r in result.checks]
        self.calibration = result
        return result

    def catalog_json(self) -> dict:
        """The calibration, to store with a bundle: the checks, their points, and those that do not count."""
        voided = sorted(r.check.key for r in self.calibration.checks if r.status != "passed")
        return {"seed": self.seed, "lessons": self.lessons, "voided": voided,
                "checks": [c.__dict__ for c in self.catalog]}

    def use_catalog(self, data: dict) -> set[str]:
        """Grade against a stored calibration instead of running one; return the voided checks."""
        self.catalog = [Check(**c) for c in data["checks"]]
        self.calibration = Result(Submission(id="_reference", source=self.reference),
                                  checks=[CheckResult(c, c.points, "passed", "") for c in self.catalog])
        voided = set(data.get("voided", []))
        for r in self.calibration.checks:
            if r.check.key in voided:
                r.status, r.score = "failed", 0.0
        return voided

    def voided(self) -> set[str]:
        return {r.check.key for r in self.calibration.checks if r.status != "passed"} if self.calibration else set()

    # grading -----------------------------------------------------------------------------------------

    def grade(self, submissions: list[Submission], workers: int = 1, progress=None) -> list[Result]:
        if self.calibration is None:
            self.calibrate()
        leases: queue.Queue = queue.Queue()
        held = []
        for _ in range(max(1, workers)):
            lease = sandbox.UidLease() if self.level in ("namespace", "uid") else None
            held.append(lease)
            leases.put(lease)
        if self.level == "uid":
            try:
                for lease in held:
                    self.protect(submissions, lease.uid)
            except sandbox.SandboxError:
                for lease in held:
                    lease.release()
                raise
        results: dict[str, Result] = {}
        lock = threading.Lock()

        def one(sub: Submission) -> None:
            lease = leases.get()
            try:
                result = self._run(sub, lease.uid if lease else None, catalog=self.catalog)
            except Exception as exc:  # noqa: BLE001 - never stop the class for one submission
                result = Result(sub, error=f"the grader failed on this submission: {type(exc).__name__}: {exc}")
                result.checks = [CheckResult(c, 0.0, "not run", result.error) for c in self.catalog]
            finally:
                leases.put(lease)
            with lock:
                results[sub.id] = result
                if progress:
                    progress(result, len(results), len(submissions))

        pool = ThreadPoolExecutor(max_workers=max(1, workers))
        try:
            list(pool.map(one, submissions))
        except KeyboardInterrupt:  # stop every grading run now, not when each one ends
            self._stopping = True
            pool.shutdown(wait=False, cancel_futures=True)
            for proc in list(self._live):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            raise
        finally:
            pool.shutdown(wait=not self._stopping)
            for lease in held:
                if lease:
                    lease.release()
        return [results[s.id] for s in sorted(submissions, key=lambda s: s.id)]

    def protect(self, submissions: list[Submission], uid: int) -> None:
        """At the uid level, refuse to grade while the sandbox uid could read what it must not."""
        roots = [self.reference] + ([self.extra] if self.extra else []) + [s.source for s in submissions]
        if paths.SOLUTIONS.is_dir() and paths.SOLUTIONS.resolve() != self.reference:
            roots.append(paths.SOLUTIONS)  # the course's own reference, wherever grading reads it from
        exposed = sandbox.readable_by(uid, [Path(r) for r in roots])
        if exposed:
            raise sandbox.SandboxError(
                "without namespaces, the sandboxed code runs as another user and could read these, "
                "which it must not: " + ", ".join(exposed) + "\nmake them readable by you only, e.g. "
                "`chmod -R go-rwx " + " ".join(exposed[:3]) + "`, or grade where namespaces work (as root, "
                "with unshare)")

    def _boxes(self, sub: Submission, folder: Path, uid: int | None = None) -> dict[str, str]:
        boxes = {}
        for lesson in self.lessons:
            number = curriculum.lesson(lesson).number
            files = {}
            for earlier in curriculum.LESSONS:
                if earlier.number > number:
                    continue
                init = self.reference / earlier.name / "__init__.py"
                if init.is_file():
                    files[f"{earlier.name}/__init__.py"] = init
                if earlier.number < number:
                    for module in earlier.modules:
                        src = self.reference / earlier.name / f"{module}.py"
                        if src.is_file():
                            files[f"{earlier.name}/{module}.py"] = src
            staged = sandbox.lock_down(folder / "modules")
            for rel, data in sub.modules.items():
                if rel.startswith(lesson + "/"):
                    dst = staged / rel
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    dst.write_bytes(data)
                    files[rel] = dst
            box = sandbox.build_box(folder / "boxes" / lesson, lesson, files, self.mpl)
            if uid is not None and self.level == "uid":  # readable by this submission's sandbox uid only
                os.chown(box.path, 0, uid)
                os.chmod(box.path, 0o750)
            else:
                os.chmod(box.path, 0o700 if self.level == "uid" else 0o755)
            boxes[lesson] = str(box.path)
        return boxes

    def _run(self, sub: Submission, uid: int | None, catalog: list[Check] | None) -> Result:
        started = time.monotonic()
        folder = self._subs / sub.id
        if folder.exists():
            shutil.rmtree(folder)
        sandbox.lock_down(folder, 0o711 if self.level == "uid" else 0o700)
        for name in ("run", "home", "tmp"):
            sandbox.lock_down(folder / name)
        sandbox.lock_down(folder / "boxes", 0o711 if self.level == "uid" else 0o700)
        result = Result(sub)
        if sub.error:
            result.error = sub.error
            result.checks = [CheckResult(c, 0.0, "failed", f"the submission could not be graded: {sub.error}")
                             for c in (catalog or [])]
            return result
        spec = SandboxSpec(boxes=self._boxes(sub, folder, uid), level=self.level, limits=self.limits.as_dict(),
                           uid=uid, incidents=str(folder / "incidents.jsonl"), writable=[str(folder / "tmp")],
                           readable=[str(paths.EMBEDDED_DATA), str(self.root / "checks")], python=self.python)
        spec_path = folder / "sandbox.json"
        spec.dump(spec_path)
        out = folder / "results.json"
        cmd = [sys.executable, "-I", "-m", "pytest", "-c", str(self.root / "pytest.ini"), "--rootdir", str(self.root),
               "-p", "no:cacheprovider", "-q", "--no-header", "-o", "console_output_style=classic", "--tb=line",
               "--basetemp", str(folder / "tmp"), "--target", str(self.reference), "--results-json", str(out),
               *[str(self.root / "checks" / lesson) for lesson in self.lessons]]
        env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(folder / "home"), "LANG": "C.UTF-8",
               "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(self.mpl), "OPENBLAS_NUM_THREADS": "1",
               "OMP_NUM_THREADS": "1", "COURSE_SANDBOX": str(spec_path), "COURSE_SEED": str(self.seed),
               "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
        budget = len(self.lessons) * (self.limits.lesson_seconds + self.limits.start_seconds + 60) + 120
        if self._stopping:
            raise KeyboardInterrupt
        proc = subprocess.Popen(cmd, cwd=folder / "run", env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self._live.add(proc)
        try:
            output, _ = proc.communicate(timeout=budget)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
            result.error = f"the grading run took longer than {budget:.0f} s and was stopped"
        finally:
            self._live.discard(proc)
            if uid is not None:
                sandbox.sweep_uid(uid)
        tail = output.decode("utf-8", "replace")[-4000:]
        found = json.loads(out.read_text())["checks"] if out.is_file() else []
        if not found and result.error is None:
            result.error = "the checks did not run:\n" + tail
        by_key = {}
        for item in found:
            check = self._check_of(item)
            by_key[check.key] = CheckResult(
                check, float(check.points) if item["outcome"] == "passed" else 0.0,
                "passed" if item["outcome"] == "passed" else "failed",
                _clean_message(item.get("message", "")).replace(str(self.root) + "/", ""))
        if catalog is None:
            result.checks = list(by_key.values())
        else:
            for check in catalog:
                got = by_key.get(check.key)
                if got is None:
                    got = CheckResult(check, 0.0, "not run",
                                      "this check did not run: " + (result.error or "the grading run ended early"))
                else:
                    got.check = check  # points from the calibration run
                result.checks.append(got)
        incidents = folder / "incidents.jsonl"
        if incidents.is_file():
            for line in incidents.read_text().splitlines():
                try:
                    result.incidents.append(json.loads(line))
                except ValueError:
                    pass
        result.seconds = time.monotonic() - started
        if os.environ.get("COURSE_GRADE_KEEP_WORK") != "1":
            shutil.rmtree(folder / "boxes", ignore_errors=True)
            shutil.rmtree(folder / "modules", ignore_errors=True)
            shutil.rmtree(folder / "tmp", ignore_errors=True)
        return result

    def _check_of(self, item: dict) -> Check:
        nodeid = item["nodeid"]
        rel = nodeid.split("checks/", 1)[-1]
        file = rel.split("::", 1)[0]
        return Check(key=rel, lesson=item["lesson"], name=item["check"], points=float(item["points"]),
                     hidden=file in self.hidden_files)


def _clean_message(message: str) -> str:
    """The part of a failure message meant for the learner (pytest's own traceback trimmed)."""
    message = message.strip()
    if message.startswith("graded"):
        return message
    lines = message.splitlines()
    errors = [l for l in lines if l.startswith("E ") or l == "E"]
    if errors:
        return "\n".join((l[4:] if l.startswith("E   ") else l[1:].strip()).rstrip() for l in errors[-30:])
    return "\n".join(lines[-30:])


def new_work_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="course-grade-"))
