"""Where submitted code runs: a child process with its own files, limits and (where possible) namespaces.

Isolation levels, strongest first (``detect()`` picks the best this machine allows):

``namespace``  root, and ``unshare`` works: new mount, pid and network namespaces; a private root
               filesystem holding only the system, the interpreter and the box; a dedicated uid
               per worker (so ``RLIMIT_NPROC`` holds and nothing else is readable or killable).
``userns``     not root, unprivileged user namespaces: the same namespaces, the invoking uid.
``uid``        root without namespaces (e.g. a container without CAP_SYS_ADMIN): the dedicated uid,
               ``chmod`` on the grader's folders; the reference and other submissions stay
               unreadable only if their own folders are not world-readable (the grader warns).
``none``       nothing: for trusted code only (refused unless asked for by name).

Every level adds the resource limits (wall clock per call, CPU, address space, processes, file
size, open files), a cleaned environment, a bounded tail of the child's output and, at the end,
a kill of the whole process group, the pid namespace and every process of the sandbox uid.
"""

from __future__ import annotations

import collections
import fcntl
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from . import wire

HERE = Path(__file__).resolve().parent
UID_BASE, UID_COUNT = 61000, 1000
LEVELS = ("namespace", "userns", "uid", "none")
ISOLATION_ENV = "COURSE_SANDBOX_ISOLATION"
PYTHON_ENV = "COURSE_SANDBOX_PYTHON"  # the interpreter the child runs (default: the grader's own)


class SandboxError(RuntimeError):
    """The sandbox could not be started (a problem of the machine, not of the submission)."""


@dataclass
class Limits:
    call_seconds: float = 20.0  # wall clock of one call (or one import, or one generator step)
    lesson_seconds: float = 180.0  # wall clock of all calls of one lesson's checks together
    memory_bytes: int = 2 << 30
    processes: int = 64
    file_bytes: int = 64 << 20
    open_files: int = 256
    tmp_mb: int = 256
    start_seconds: float = 30.0
    output_bytes: int = 8192

    def as_dict(self) -> dict:
        return dict(self.__dict__)


# --- what this machine allows ------------------------------------------------------------------


def _works(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@lru_cache(maxsize=None)
def detect(forced: str | None = None) -> str:
    """The strongest isolation level available here (or the one named by ``forced``/the env)."""
    forced = forced or os.environ.get(ISOLATION_ENV) or None
    if forced:
        if forced not in LEVELS:
            raise SandboxError(f"unknown isolation level {forced!r}; choose from {', '.join(LEVELS)}")
        return forced
    unshare = shutil.which("unshare")
    root = os.geteuid() == 0
    base = [unshare, "--mount", "--pid", "--fork", "--kill-child", "--net"] if unshare else None
    if root and base and _works(base + ["true"]):
        return "namespace"
    if not root and base and _works([unshare, "--user", "--map-root-user", *base[1:], "true"]):
        return "userns"
    if root:
        return "uid"
    return "none"


def describe_level(level: str) -> str:
    return {
        "namespace": "private mount, pid and network namespaces, a dedicated uid, resource limits",
        "userns": "user, mount, pid and network namespaces (no dedicated uid), resource limits",
        "uid": "a dedicated uid and resource limits (no namespaces: no network isolation)",
        "none": "NO ISOLATION: submitted code runs with the grader's rights",
    }[level]


# --- a uid of one's own ------------------------------------------------------------------------


class UidLease:
    """A sandbox uid held (with a lock file) for as long as this object lives."""

    def __init__(self):
        taken = {p.pw_uid for p in pwd.getpwall()}
        lock_dir = Path(tempfile.gettempdir()) / "course-sandbox-uids"
        lock_dir.mkdir(mode=0o700, exist_ok=True)
        for uid in range(UID_BASE, UID_BASE + UID_COUNT):
            if uid in taken:
                continue
            handle = open(lock_dir / f"{uid}.lock", "w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            self.uid, self._handle = uid, handle
            sweep_uid(uid)  # leftovers of an earlier run that died
            return
        raise SandboxError("no free sandbox uid")

    def release(self) -> None:
        sweep_uid(self.uid)
        self._handle.close()


def check_python_for(uid: int, python: str) -> str | None:
    """Why ``uid`` cannot run ``python`` (with NumPy), or None if it can (uid level only)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the forked helper
        os.close(r)
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            os.dup2(w, 1)
            os.dup2(w, 2)
            os.execv(python, [python, "-I", "-c", "import numpy"])
        except BaseException as exc:  # noqa: BLE001
            os.write(w, f"{type(exc).__name__}: {exc}".encode())
        os._exit(1)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        out = f.read(4000).decode("utf-8", "replace")
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return None
    return (f"the sandbox user (uid {uid}) cannot run {python} with NumPy: {out.strip()[-500:]}\n"
            f"Install Python where every user can read it, or name one with --sandbox-python "
            f"(or {PYTHON_ENV}).")


def readable_by(uid: int, roots: list[Path], limit: int = 5000) -> list[str]:
    """Which of ``roots`` (files, or folders and the files in them) ``uid`` could read."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the forked helper
        os.close(r)
        found = []
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            for root in roots:
                seen = 0
                for dirpath, _, filenames in os.walk(root) if os.path.isdir(root) else [(os.path.dirname(root), [], [os.path.basename(root)])]:
                    for name in filenames:
                        seen += 1
                        path = os.path.join(dirpath, name)
                        if seen <= limit and os.access(path, os.R_OK):
                            found.append(str(root))
                            break
                    if found and found[-1] == str(root):
                        break
            os.write(w, json.dumps(found).encode())
        except BaseException:  # noqa: BLE001
            os.write(w, json.dumps([str(r) for r in roots]).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    return json.loads(data or b"[]")


def lock_down(path: Path, mode: int = 0o700) -> Path:
    """A folder of the grader's that no sandbox uid may list or read."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, mode)
    return path


_SUBREAPER = False


def become_subreaper() -> None:
    """Orphans of a sandbox (its forks, once it is killed) become our children, so we can reap them.

    Without a pid namespace, they would go to the machine's init, which in a container may never
    reap them. Linux only; harmless elsewhere.
    """
    global _SUBREAPER
    if not _SUBREAPER:
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
        except (OSError, AttributeError):
            pass
        _SUBREAPER = True


def reap_orphans() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def sweep_uid(uid: int) -> None:
    """Kill every process running as ``uid`` (a forked helper that becomes ``uid`` and kills -1)."""
    if os.geteuid() != 0:
        return
    for _ in range(3):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the forked helper
            try:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)
            except BaseException:  # noqa: BLE001
                pass
            os._exit(0)
        os.waitpid(pid, 0)


def _count_processes(uid: int) -> int:
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count


# --- the box: the only files the child may see --------------------------------------------------


def _copy_file(src: Path, dst: Path, mode: int = 0o644) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst, follow_symlinks=False)
    os.chmod(dst, mode)


@dataclass
class Box:
    """A folder holding the child runner and the tree it may import, nothing else."""

    path: Path
    lesson: str  # "lesson_02"
    display: str = "lessons"  # how the learner's tree is named in messages

    @property
    def tree(self) -> Path:
        return self.path / "tree"


def build_box(path: Path, lesson_name: str, files: dict[str, Path], mpl_cache: Path | None = None,
              display: str = "lessons") -> Box:
    """Write a box: ``files`` maps a path inside the tree (``lesson_02/forward.py``) to a host file."""
    if path.exists():
        shutil.rmtree(path)
    (path / "runner").mkdir(parents=True)
    for name in ("child.py", "wire.py"):
        _copy_file(HERE / name, path / "runner" / name)
    (path / "tree").mkdir()
    (path / "tree" / "__init__.py").write_text("")
    for rel, src in sorted(files.items()):
        _copy_file(src, path / "tree" / rel)
    if mpl_cache is not None and mpl_cache.is_dir():
        for item in mpl_cache.glob("*.json"):
            _copy_file(item, path / "mpl" / item.name)
    for dirpath, dirnames, filenames in os.walk(path):
        os.chmod(dirpath, 0o755)
    return Box(path=path, lesson=lesson_name, display=display)


def prepare_work_dir(work: Path, level: str) -> None:
    """The grader's work folder: only root may list it; a sandbox uid may pass through (uid level)."""
    work.mkdir(parents=True, exist_ok=True)
    os.chmod(work, 0o711 if level == "uid" else 0o700)


def build_matplotlib_cache(folder: Path) -> Path:
    """Matplotlib's font list, built once by the grader so that each child need not rebuild it."""
    folder.mkdir(parents=True, exist_ok=True)
    if not any(folder.glob("fontlist-*.json")):
        try:  # the grader's own matplotlib cache, if it has one
            import matplotlib

            for found in Path(matplotlib.get_cachedir()).glob("fontlist-*.json"):
                shutil.copyfile(found, folder / found.name)
        except (ImportError, OSError):
            pass
    if not any(folder.glob("fontlist-*.json")):
        env = {"PATH": os.environ.get("PATH", os.defpath), "MPLCONFIGDIR": str(folder), "MPLBACKEND": "Agg",
               "HOME": str(folder)}
        subprocess.run([sys.executable, "-I", "-c", "import matplotlib.font_manager"], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=False)
    return folder


# --- the child process ----------------------------------------------------------------------------


def _system_paths() -> list[str]:
    paths = ["/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]
    return [p for p in paths if os.path.lexists(p)]


def _python_paths(python: str = sys.executable) -> list[str]:
    """What the interpreter needs: its virtual environment and its base installation."""
    out = []
    extra = {str(Path(python).parent.parent), str(Path(os.path.realpath(python)).parent.parent)}
    for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(sys.executable).parent)} | extra:
        real = os.path.realpath(p)
        for q in {p, real}:
            if not any(q == s or q.startswith(s.rstrip("/") + "/") for s in ("/usr", "/etc")):
                out.append(q)
    exe = os.path.realpath(sys.executable)
    out.append(os.path.dirname(exe))
    from .. import paths  # other folders the interpreter imports from (a .pth), never the course's own

    repo = os.path.realpath(paths.REPO)
    prefixes = [os.path.realpath(p) for p in (sys.prefix, sys.base_prefix)]
    for entry in sys.path:
        real = os.path.realpath(entry) if entry else ""
        if not real or not os.path.isdir(real) or real in ("/", repo):
            continue
        inside_repo = real.startswith(repo + "/")
        inside_prefix = any(real == p or real.startswith(p + "/") for p in prefixes)
        if not inside_repo and not inside_prefix and not real.startswith(("/usr/", "/etc/")):
            out.append(real)
    return sorted(set(out))


def files_inside(box: Box, level: str) -> Path:
    """Where the child keeps the files of a call (the check's tmp files, copied), as the child sees it."""
    if level in ("namespace", "userns"):
        return Path("/tmp/files")
    return box.path.parent / (box.path.name + ".scratch") / "files"


class Sandbox:
    """One running child for one box. ``request`` sends a message and waits for its answer."""

    def __init__(self, box: Box, level: str, limits: Limits, uid: int | None = None, scratch: Path | None = None,
                 python: str | None = None):
        self.box, self.level, self.limits, self.uid = box, level, limits, uid
        self.python = python or os.environ.get(PYTHON_ENV) or sys.executable
        self.scratch = scratch or box.path.parent / (box.path.name + ".scratch")
        self.proc: subprocess.Popen | None = None
        self.output: collections.deque = collections.deque()
        self._output_size = 0
        self._lock = threading.Lock()
        self.started = 0.0

    # starting ------------------------------------------------------------------------------------

    def start(self) -> None:
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        out_r, out_w = os.pipe()
        namespaced = self.level in ("namespace", "userns")
        inside = Path("/box") if namespaced else self.box.path
        files = files_inside(self.box, self.level)
        work = files.parent / "work"
        runner_cfg = {
            "fd_in": req_r, "fd_out": resp_w, "tree": str(inside / "tree"), "files": str(files),
            "package": "submission", "lesson": self.box.lesson, "display": self.box.display,
            "kill_strays": namespaced or (self.level == "uid" and self.uid is not None),
            "mpl_seed": str(inside / "mpl"),
        }
        cfg_path = self.box.path / "runner" / "config.json"
        cfg_path.write_text(json.dumps(runner_cfg))
        os.chmod(cfg_path, 0o644)
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(work), "TMPDIR": str(work), "LANG": "C.UTF-8",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": str(work / "mpl"), "PYTHONDONTWRITEBYTECODE": "1",
        }
        argv = [self.python, "-I", "-B", str(inside / "runner" / "child.py"), str(inside / "runner" / "config.json")]
        rlimits = {
            "RLIMIT_AS": self.limits.memory_bytes, "RLIMIT_FSIZE": self.limits.file_bytes,
            "RLIMIT_NOFILE": self.limits.open_files, "RLIMIT_CORE": 0,
            "RLIMIT_CPU": int(self.limits.lesson_seconds) + 30,
        }
        if self.uid is not None:
            rlimits["RLIMIT_NPROC"] = self.limits.processes
        elif self.level == "userns":
            rlimits["RLIMIT_NPROC"] = _count_processes(os.getuid()) + self.limits.processes
        if not namespaced:
            become_subreaper()
        if namespaced:
            mountpoint = self.box.path.parent / (self.box.path.name + ".root")
            mountpoint.mkdir(exist_ok=True)
            jail_cfg = {
                "mountpoint": str(mountpoint), "system": _system_paths(), "readonly": _python_paths(self.python),
                "box": str(self.box.path), "tmp_mb": self.limits.tmp_mb, "uid": self.uid,
                "gid": self.uid, "rlimits": rlimits, "argv": argv, "env": env, "cwd": str(work),
            }
            jail_path = self.box.path.parent / (self.box.path.name + ".jail.json")
            jail_path.write_text(json.dumps(jail_cfg))
            os.chmod(jail_path, 0o600)
            prefix = ["unshare", "--mount", "--pid", "--fork", "--kill-child", "--net"]
            if self.level == "userns":
                prefix[1:1] = ["--user", "--map-root-user"]
            cmd = [*prefix, "--", sys.executable, "-I", "-S", str(HERE / "jail.py"), str(jail_path)]
            preexec = None
        else:
            for sub in (files, work):
                sub.mkdir(parents=True, exist_ok=True)
                os.chmod(sub, 0o700)
            os.chmod(self.scratch, 0o711)
            if self.uid is not None:
                for sub in (self.scratch, files, work):
                    os.chown(sub, self.uid, self.uid)
                os.chown(self.box.path, 0, self.uid)
                os.chmod(self.box.path, 0o750)
            cmd = argv
            preexec = _drop(self.uid, rlimits)
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w, pass_fds=(req_r, resp_w),
            env=env, cwd=str(work) if not namespaced else "/", start_new_session=True, preexec_fn=preexec,
            close_fds=True)
        for fd in (req_r, resp_w, out_w):
            os.close(fd)
        self.chan = wire.Channel(resp_r, req_w)
        self._fds = (resp_r, req_w)
        self._drain = threading.Thread(target=self._read_output, args=(out_r,), daemon=True)
        self._drain.start()
        self.started = time.monotonic()
        try:
            msg, _ = self.chan.recv(deadline=time.monotonic() + self.limits.start_seconds)
        except (wire.Timeout, wire.Closed, wire.WireError) as exc:
            self.kill()
            raise SandboxError(f"the sandbox did not start ({type(exc).__name__}): {self.exit_text()}\n"
                               f"{self.output_tail()}") from None
        if msg.get("op") != "ready":
            self.kill()
            raise SandboxError("the sandbox did not start: unexpected first message")

    def _read_output(self, fd: int) -> None:
        keep = self.limits.output_bytes
        try:
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                with self._lock:
                    self.output.append(chunk)
                    self._output_size += len(chunk)
                    while self._output_size - len(self.output[0]) >= keep and len(self.output) > 1:
                        self._output_size -= len(self.output.popleft())
        finally:
            os.close(fd)

    def output_tail(self, limit: int | None = None) -> str:
        with self._lock:
            data = b"".join(self.output)
        data = data[-(limit or self.limits.output_bytes):]
        return data.decode("utf-8", "replace")

    # talking ---------------------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def request(self, header: dict, buffers: list, seconds: float, on_callback=None) -> tuple[dict, list]:
        """Send one request; answer callbacks; return the final reply. Raises wire.Timeout/Closed/WireError."""
        deadline = time.monotonic() + seconds
        try:
            self.chan.send(header, buffers)
        except (BrokenPipeError, OSError):
            raise wire.Closed() from None
        while True:
            msg, bufs = self.chan.recv(deadline=deadline)
            if msg.get("op") == "callback" and on_callback is not None:
                reply, reply_bufs = on_callback(msg, bufs)
                try:
                    self.chan.send(reply, reply_bufs)
                except (BrokenPipeError, OSError):
                    raise wire.Closed() from None
                continue
            return msg, bufs

    # stopping --------------------------------------------------------------------------------------

    def kill(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if self.uid is not None:
            sweep_uid(self.uid)
        if self.level not in ("namespace", "userns"):
            reap_orphans()
        for fd in getattr(self, "_fds", ()):
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = ()
        if getattr(self, "_drain", None) is not None:
            self._drain.join(timeout=2)

    def wait_exit(self, seconds: float = 2.0) -> int | None:
        try:
            return self.proc.wait(timeout=seconds) if self.proc else None
        except subprocess.TimeoutExpired:
            return None

    def exit_text(self) -> str:
        code = self.proc.poll() if self.proc else None
        if code is None:
            return "still running"
        return describe_exit(code)


def describe_exit(code: int) -> str:
    """What an exit status means, for a learner: ``killed by signal 9 (SIGKILL)``."""
    if code < 0 or code > 128:
        number = -code if code < 0 else code - 128
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        why = {"SIGKILL": "killed: often the memory limit, or the process was stopped from outside",
               "SIGXCPU": "the CPU-time limit", "SIGXFSZ": "the file-size limit",
               "SIGSEGV": "a crash (segmentation fault)", "SIGABRT": "an abort"}.get(name, "")
        return f"killed by {name}" + (f" ({why})" if why else "")
    if code == 0:
        return "exited with code 0 (does the code call sys.exit() or os._exit()?)"
    if code in (70, 71):
        return f"the sandbox could not start (code {code})"
    return f"exited with code {code}"


def _drop(uid: int | None, rlimits: dict):
    import resource

    def preexec() -> None:  # pragma: no cover - runs in the child between fork and exec
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        for name, value in rlimits.items():
            resource.setrlimit(getattr(resource, name), (value, value))

    return preexec


@dataclass
class SandboxSpec:
    """Everything a trusted process needs to start sandboxes for one submission (JSON-able)."""

    boxes: dict[str, str]  # lesson name -> box folder
    level: str
    limits: dict = field(default_factory=dict)
    uid: int | None = None
    display: str = "lessons"
    incidents: str | None = None  # a JSON-lines file the sandbox sessions append incidents to
    writable: list = field(default_factory=list)  # folders whose files a call may write (pytest's basetemp)
    python: str | None = None  # the child's interpreter (it must be able to import NumPy)
    readable: list = field(default_factory=list)  # folders whose files a call may be given (the course's data)

    def dump(self, path: Path) -> None:
        path.write_text(json.dumps(self.__dict__, indent=1))

    @classmethod
    def load(cls, path: str | Path) -> "SandboxSpec":
        return cls(**json.loads(Path(path).read_text()))
