"""Reading a submission: a folder or a ``.zip``, a ``lessons/`` tree or a whole clone.

Nothing is executed and nothing is followed: folders are walked without following links, archive
members are read one by one with caps on their number and size, and any name that would land
outside the submission (``../``, an absolute path) or any link is refused with a note. Only the
graded modules (``lesson_0N/<module>.py``, as ``course.curriculum`` lists them) are kept; the rest
is listed in the notes when it looks like an attempt to change how grading runs (a
``conftest.py``, a ``pytest.ini``, edited checks, a ``.pth`` file).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .. import curriculum

MAX_MEMBERS = 20_000
MAX_TOTAL = 256 << 20  # uncompressed bytes read from one submission
MAX_MODULE = 2 << 20  # one graded module
CONFIG_NAMES = {"conftest.py", "pytest.ini", "tox.ini", "setup.cfg", "pyproject.toml", "sitecustomize.py",
                "usercustomize.py", "setup.py", ".pytest.ini"}
GRADED = {f"{lesson.name}/{module}.py": lesson.name for lesson in curriculum.LESSONS for module in lesson.modules}


class SubmissionError(Exception):
    """A submission that cannot be read at all (it scores 0, with this message as the reason)."""


@dataclass
class Submission:
    id: str
    source: Path
    modules: dict[str, bytes] = field(default_factory=dict)  # "lesson_02/forward.py" -> its bytes
    notes: list[str] = field(default_factory=list)
    root: str = ""  # where the lessons were found inside the submission ("lessons/", "" ...)
    error: str | None = None

    def lessons_present(self) -> set[str]:
        return {GRADED[rel] for rel in self.modules}


def submission_id(path: Path, taken: set[str]) -> str:
    if path.name == "lessons" and path.is_dir():  # a learner's lessons/ folder: named after the folder above
        path = path.resolve().parent
    base = path.name[:-4] if path.suffix.lower() == ".zip" else path.name
    base = re.sub(r"[^A-Za-z0-9._-]", "_", base).strip("._") or "submission"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def _safe_name(name: str) -> PurePosixPath | None:
    """A member name as a relative path inside the submission, or None if it would escape."""
    name = name.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts) or any("\0" in p for p in parts):
        return None
    return PurePosixPath(*parts) if parts else None


def _listing_of_folder(folder: Path, notes: list[str]) -> dict[str, callable]:
    files: dict[str, callable] = {}
    count = 0
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in list(dirnames):
            full = Path(dirpath) / name
            if full.is_symlink():
                notes.append(f"ignored: {full.relative_to(folder)} is a symbolic link (links are not followed)")
                dirnames.remove(name)
            elif name in ("__pycache__", ".git", ".ipynb_checkpoints", "node_modules", ".venv", "venv"):
                dirnames.remove(name)
        for name in filenames:
            full = Path(dirpath) / name
            rel = full.relative_to(folder).as_posix()
            info = os.lstat(full)
            if stat.S_ISLNK(info.st_mode):
                notes.append(f"ignored: {rel} is a symbolic link (links are not followed)")
                continue
            if not stat.S_ISREG(info.st_mode):
                notes.append(f"ignored: {rel} is not a regular file")
                continue
            count += 1
            if count > MAX_MEMBERS:
                raise SubmissionError(f"more than {MAX_MEMBERS} files")
            files[rel] = (lambda p=full, size=info.st_size: _read_file(p, size))
    return files


def _read_file(path: Path, size: int) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as f:
        return f.read(min(size, MAX_MODULE) + 1)


def _listing_of_zip(archive: Path, notes: list[str]) -> tuple[dict[str, callable], zipfile.ZipFile]:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"not a readable zip archive: {exc}") from None
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise SubmissionError(f"the archive holds {len(infos)} members (more than {MAX_MEMBERS})")
    declared = sum(i.file_size for i in infos)
    if declared > MAX_TOTAL:
        raise SubmissionError(f"the archive unpacks to {declared >> 20} MiB (more than {MAX_TOTAL >> 20} MiB)")
    files: dict[str, callable] = {}
    for info in infos:
        mode = info.external_attr >> 16
        if info.is_dir():
            continue
        safe = _safe_name(info.filename)
        if safe is None:
            notes.append(f"rejected archive member {info.filename!r}: its path leads outside the submission")
            continue
        if stat.S_ISLNK(mode):
            notes.append(f"rejected archive member {info.filename!r}: it is a symbolic link")
            continue
        if mode and not stat.S_ISREG(mode) and stat.S_IFMT(mode):
            notes.append(f"rejected archive member {info.filename!r}: not a regular file")
            continue
        if info.flag_bits & 0x1:
            notes.append(f"rejected archive member {info.filename!r}: it is encrypted")
            continue
        if safe.parts[0] == "__MACOSX" or "__pycache__" in safe.parts:
            continue
        files[safe.as_posix()] = (lambda i=info: _read_member(zf, i))
    return files, zf


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with zf.open(info) as f:
        return f.read(MAX_MODULE + 1)


def _find_root(names: list[str]) -> str | None:
    """The folder (``""``, ``"lessons/"``, ``"alice-main/lessons/"`` ...) holding the lesson folders."""
    found: dict[str, int] = {}
    for name in names:
        for rel in GRADED:
            if name == rel or name.endswith("/" + rel):
                prefix = name[: len(name) - len(rel)]
                found[prefix] = found.get(prefix, 0) + 1
    if not found:
        return None
    return min(found, key=lambda p: (not p.rstrip("/").endswith("lessons") and p != "", -found[p], len(p), p))


def read_submission(source: Path, sub_id: str, pristine_checks: Path | None = None) -> Submission:
    """The graded modules of one submission, and notes on everything else worth telling."""
    sub = Submission(id=sub_id, source=source)
    zf = None
    try:
        if source.is_dir() and not source.is_symlink():
            files = _listing_of_folder(source, sub.notes)
        elif source.is_file() and source.suffix.lower() == ".zip":
            files, zf = _listing_of_zip(source, sub.notes)
        else:
            raise SubmissionError("not a folder or a .zip file")
        root = _find_root(sorted(files))
        if root is None:
            raise SubmissionError("no lesson files found (expected lesson_0N/<module>.py, e.g. "
                                  "lessons/lesson_02/forward.py)")
        sub.root = root
        total = 0
        for rel in GRADED:
            reader = files.get(root + rel)
            if reader is None:
                continue
            data = reader()
            total += len(data)
            if len(data) > MAX_MODULE:
                sub.notes.append(f"ignored: {root}{rel} is larger than {MAX_MODULE >> 20} MiB")
                continue
            if total > MAX_TOTAL:
                raise SubmissionError("the graded files are too large")
            sub.modules[rel] = data
        _notes_on_the_rest(sub, files, root, pristine_checks)
    except SubmissionError as exc:
        sub.error = str(exc)
        sub.modules = {}
    except (OSError, zipfile.BadZipFile, RuntimeError, ValueError, EOFError) as exc:
        sub.error = f"could not be read: {type(exc).__name__}: {exc}"
        sub.modules = {}
    finally:
        if zf is not None:
            zf.close()
    return sub


def _notes_on_the_rest(sub: Submission, files: dict, root: str, pristine_checks: Path | None) -> None:
    ignored_config = sorted(n for n in files if PurePosixPath(n).name in CONFIG_NAMES or n.endswith(".pth"))
    for name in ignored_config[:20]:
        sub.notes.append(f"ignored: {name} (the grader runs the course's own checks with its own configuration; "
                         f"no file of a submission can change how it is graded)")
    extra = sorted(n for n in files if n.startswith(root) and n.endswith(".py")
                   and re.match(r"lesson_\d\d/", n[len(root):]) and n[len(root):] not in GRADED
                   and PurePosixPath(n).name != "__init__.py")
    for name in extra[:20]:
        sub.notes.append(f"not graded: {name} (only the graded modules of each lesson are used; "
                         f"code in other files is not imported)")
    if pristine_checks is not None:
        prefix = _checks_prefix(files, root)
        if prefix is not None:
            changed = []
            for name in sorted(files):
                if name.startswith(prefix) and name.endswith(".py"):
                    original = pristine_checks / name[len(prefix):]
                    data = files[name]()
                    if not original.is_file() or _digest(original.read_bytes()) != _digest(data):
                        changed.append(name)
            if changed:
                shown = ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")
                sub.notes.append(f"ignored: the submission's checks differ from the course's ({shown}); "
                                 f"grading used the course's own checks")


def _checks_prefix(files: dict, root: str) -> str | None:
    base = root[: -len("lessons/")] if root.endswith("lessons/") else root
    prefix = base + "checks/"
    return prefix if any(n.startswith(prefix) for n in files) else None


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
