"""The checks' seam, sandboxed: the same ``lesson.softmax(z)`` calls, computed in a child process.

``checks/conftest.py`` hands the checks a :class:`RemoteLessonAPI` instead of a
:class:`course.target.LessonAPI` when ``COURSE_SANDBOX`` names a sandbox spec (``course grade``
sets it). The checks stay exactly as learners run them; each call of a graded function of the
lesson under grading is sent to a sandboxed child, and what comes back is plain data: arrays,
numbers, strings, containers, and stand-ins the grader builds itself (a real matplotlib Figure
rebuilt from a description, a generator that asks the child for each item). Everything the checks
then conclude, they conclude in this process, with their own NumPy.

What a call does to its arguments is mirrored back: arrays changed in place, dicts and lists
rebound, a random generator advanced, files written to a folder the check gave, artists drawn
into a matplotlib Axes the check passed. Callables among the arguments (lesson 04's ``f``, lesson
05's ``callback``) stay here: the child calls back and this process runs them.

Earlier lessons (``lessons(2)`` inside lesson 03's checks) come from the trusted reference and run
in this process, so every lesson is graded on its own.
"""

from __future__ import annotations

import atexit
import builtins
import json
import os
import re
import shutil
import time
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from .. import curriculum
from ..describe import describe_call
from ..target import CheckError, LessonAPI
from . import wire
from .sandbox import Box, Limits, Sandbox, SandboxError, SandboxSpec, describe_exit, files_inside

SPEC_ENV = "COURSE_SANDBOX"
MAX_COPY_IN = 128 << 20
CRASHES = 3  # a function whose process died this many times is not called again in the lesson
_SESSIONS: dict[str, "Session"] = {}
_SPEC: SandboxSpec | None = None


def enabled() -> bool:
    return bool(os.environ.get(SPEC_ENV))


def _spec() -> SandboxSpec:
    global _SPEC
    if _SPEC is None:
        _SPEC = SandboxSpec.load(os.environ[SPEC_ENV])
    return _SPEC


def make_api(tree: Path, number: int, checking: int) -> LessonAPI:
    """The seam in sandbox mode: the lesson being checked runs sandboxed; earlier ones are the reference."""
    if number != checking:
        return LessonAPI(tree, number, checking=checking)
    return RemoteLessonAPI(session(curriculum.lesson(number).name), number, checking)


def session(lesson_name: str) -> "Session":
    found = _SESSIONS.get(lesson_name)
    if found is None:
        for other in _SESSIONS.values():  # one live child at a time: lessons run one after another
            other.stop()
        spec = _spec()
        box = spec.boxes.get(lesson_name)
        found = _SESSIONS[lesson_name] = Session(lesson_name, box, spec)
    return found


@atexit.register
def _stop_all() -> None:
    for s in _SESSIONS.values():
        s.stop()


# --- the API the checks see -----------------------------------------------------------------------


class RemoteLessonAPI(LessonAPI):
    """A lesson of a submission, each function running in the sandbox. Messages as in LessonAPI."""

    def __init__(self, sess: "Session", lesson: int, checking: int):
        self._session = sess
        self.tree = Path(sess.display)
        self.lesson = curriculum.lesson(lesson)
        self.checking = checking
        self.used: dict[str, str] = {}
        self._package = None

    def __repr__(self) -> str:
        return f"<{self.lesson.label} of the submission, sandboxed>"

    def __getattr__(self, function: str):
        if function.startswith("_"):
            raise AttributeError(function)
        module = self.lesson.module_of(function)
        if module is None:
            raise AttributeError(f"{function} is not a graded function of {self.lesson.label}")
        self.used[function] = f"{self.tree.name}/{self.lesson.name}/{module}.py::{function}"
        params, doc = self._session.resolve(self, module, function)
        return RemoteFunction(self, module, function, params, doc)


class RemoteFunction:
    """Like ``course.target._Checked``: call it, ``.text(...)`` it, ``.raw(...)`` it."""

    def __init__(self, api: RemoteLessonAPI, module: str, name: str, params: tuple, doc: str | None):
        self.api, self.module, self.name, self.params = api, module, name, params
        self.__doc__ = doc

    def text(self, *args: Any, **kwargs: Any) -> str:
        return describe_call(self.name, args, kwargs, self.params)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return self.api._session.call(self, args, kwargs)
        except NotImplementedError as exc:
            raise CheckError(self.api._not_implemented(exc, self.text(*args, **kwargs))) from None
        except CheckError:
            raise
        except Exception as exc:  # noqa: BLE001 - an exception the submission raised (rebuilt here)
            raise CheckError(f"{self.text(*args, **kwargs)} raised {type(exc).__name__}:\n"
                             f"{getattr(exc, 'learner_traceback', '') or f'{type(exc).__name__}: {exc}'}") from None

    def raw(self, *args: Any, **kwargs: Any) -> Any:
        """Call without translating exceptions (for checks that expect an error)."""
        return self.api._session.call(self, args, kwargs)


# --- exceptions from the child -------------------------------------------------------------------


_EXC_CLASSES: dict[tuple, type] = {}


def rebuild_exception(info: dict, paths: "PathMap") -> Exception:
    """An exception of the same name whose class derives from the same builtin exception."""
    name = wire._safe_name(str(info.get("type", "Exception")))
    base: type = Exception
    for candidate in info.get("bases", []) or []:
        found = getattr(builtins, str(candidate), None)
        if isinstance(found, type) and issubclass(found, Exception):
            base = found
            break
    key = (name, base)
    cls = _EXC_CLASSES.get(key)
    if cls is None:
        def __init__(self, message=""):  # noqa: N807
            Exception.__init__(self, message)
            self.message_text = message

        try:
            cls = type(name, (base,), {"__init__": __init__, "__str__": lambda self: self.message_text,
                                       "__module__": "submission"})
        except TypeError:
            cls = type(name, (Exception,), {"__init__": __init__, "__str__": lambda self: self.message_text,
                                            "__module__": "submission"})
        _EXC_CLASSES[key] = cls
    exc = cls(paths.back(str(info.get("msg", ""))))
    exc.learner_traceback = paths.back(str(info.get("tb", "")))
    return exc


# --- paths: the check's files, copied into the sandbox and back ----------------------------------


class PathMap:
    """Paths among a call's arguments, and where their copies live inside the child."""

    def __init__(self, sess: "Session | None", writable_roots: list[Path], readable_roots: list[Path] = ()):
        self.session = sess
        self.writable_roots = [Path(r).resolve() for r in writable_roots]
        self.readable_roots = [Path(r).resolve() for r in readable_roots]
        self.mappings: dict[int, tuple[Path, bool]] = {}  # k -> (host anchor folder, write back?)

    def encode(self, value, enc: "ParentEncoder") -> dict | None:
        if isinstance(value, str):
            if "\0" in value or len(value) > 4096 or not (value.startswith("/") or os.path.exists(value)):
                return None
            kind = "str"
        elif isinstance(value, os.PathLike):
            kind = "path"
        else:
            return None
        path = Path(os.path.abspath(os.fspath(value)))
        anchor = path.parent if path.exists() else _existing_ancestor(path)
        if anchor is None or anchor == Path("/"):
            return None
        writable = any(anchor == r or anchor.is_relative_to(r) for r in self.writable_roots)
        readable = any(path.resolve().is_relative_to(r) for r in self.readable_roots)
        if not writable and not (readable and path.exists()):
            return None  # not the check's own files: the child sees the path, and nothing behind it
        self.session.mapped += 1
        k = self.session.mapped
        self.mappings[k] = (anchor, writable)
        rel = path.relative_to(anchor).as_posix()
        files, dirs, total = [], [], 0
        if path.is_file():
            total += path.stat().st_size
            files.append((rel, path))
        elif path.is_dir():
            dirs.append(rel)
            for sub in sorted(path.rglob("*")):
                if sub.is_symlink():
                    continue
                if sub.is_dir():
                    dirs.append(sub.relative_to(anchor).as_posix())
                elif sub.is_file():
                    total += sub.stat().st_size
                    files.append((sub.relative_to(anchor).as_posix(), sub))
        if total > MAX_COPY_IN:
            return None
        node_files = []
        for rel_file, src in files:
            enc.buffers.append(src.read_bytes())
            node_files.append([rel_file, len(enc.buffers) - 1])
        return {"t": "path", "kind": kind, "k": k, "rel": rel, "files": node_files, "dirs": dirs,
                "host": str(path)}

    def write_back(self, entries: list, buffers: list) -> None:
        for entry in entries or []:
            if not (isinstance(entry, list) and len(entry) == 3):
                raise wire.WireError("malformed file entry")
            k, rel, index = entry
            anchor, writable = self.mappings.get(k, (None, False))
            if anchor is None or not writable:
                continue
            rel_path = PurePath(str(rel))
            if rel_path.is_absolute() or ".." in rel_path.parts or not rel_path.parts:
                raise wire.WireError(f"bad file path {rel!r}")
            if not isinstance(index, int) or not 0 <= index < len(buffers):
                raise wire.WireError("bad buffer index")
            target = anchor.joinpath(*rel_path.parts)
            _mkdirs_no_links(anchor, target.parent)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "wb") as f:
                f.write(buffers[index])

    def back(self, text: str) -> str:
        """Child paths in a message, turned back into the check's own paths."""
        if self.session is None:
            return text
        root = self.session.files_inside
        for k, (anchor, _) in sorted(self.mappings.items(), reverse=True):
            text = re.sub(rf"{re.escape(f'{root}/{k}')}(?![0-9])", str(anchor).replace("\\", "/"), text)
        return text


def _existing_ancestor(path: Path) -> Path | None:
    for parent in path.parents:
        if parent.is_dir():
            return parent
    return None


def _mkdirs_no_links(anchor: Path, folder: Path) -> None:
    current = anchor
    for part in folder.relative_to(anchor).parts:
        current = current / part
        if current.is_symlink():
            raise wire.WireError(f"refusing to write through a link: {current}")
        current.mkdir(exist_ok=True)


# --- encoding a call's arguments ------------------------------------------------------------------


class ParentEncoder(wire.Encoder):
    """Arguments for the child: every array, dict, list, generator and Axes numbered, so that
    the child's reply can say what changed and refer back to them."""

    def __init__(self, paths: PathMap):
        self.objects: dict[int, object] = {}
        super().__init__(refs={}, special=self._special, track=self.objects)
        self.paths = paths
        self.callbacks: dict[int, Any] = {}

    def _special(self, value, enc, depth):
        if isinstance(value, np.random.Generator):
            number = next(self._next)
            self.objects[number] = value
            self.refs[id(value)] = number
            return {"t": "rng", "id": number, "state": self.encode(value.bit_generator.state, depth + 1)}
        axes_mod = _matplotlib_module("axes")
        if axes_mod is not None and isinstance(value, axes_mod.Axes) and value.figure is not None:
            return self._axes(value)
        if isinstance(value, (str, os.PathLike)):
            return self.paths.encode(value, self)
        if callable(value) and not isinstance(value, type) and not isinstance(value, np.ndarray):
            number = next(self._next)
            self.callbacks[number] = value
            return {"t": "fn", "id": number, "name": getattr(value, "__name__", "f")}
        return None

    def _axes(self, ax) -> dict:
        fig = ax.figure
        fig_number = self.refs.get(id(fig))
        if fig_number is None:
            fig_number = next(self._next)
            self.objects[fig_number] = fig
            self.refs[id(fig)] = fig_number
            for other in fig.axes:
                number = next(self._next)
                self.objects[number] = other
                self.refs[id(other)] = number
        return {"t": "ax", "fig": fig_number, "i": fig.axes.index(ax),
                "axes": [self.refs[id(a)] for a in fig.axes],
                "pos": [[float(v) for v in a.get_position().bounds] for a in fig.axes],
                "size": [float(v) for v in fig.get_size_inches()]}


def _matplotlib_module(name: str):
    import sys

    return sys.modules.get(f"matplotlib.{name}")


# --- one lesson's sandbox, across all its checks ---------------------------------------------------


class Session:
    """The sandboxed child for one lesson of one submission, restarted after a crash or timeout."""

    def __init__(self, lesson_name: str, box_path: str | None, spec: SandboxSpec):
        self.lesson = lesson_name
        self.spec = spec
        self.limits = Limits(**spec.limits) if spec.limits else Limits()
        self.display = spec.display
        self.box = Box(Path(box_path), lesson_name, spec.display) if box_path else None
        self.files_inside = str(files_inside(self.box, spec.level)) if self.box else "/tmp/files"
        self.sandbox: Sandbox | None = None
        self.resolved: dict[tuple, tuple] = {}
        self.timed_out: set[str] = set()
        self.crashes: dict[str, int] = {}
        self.spent = 0.0
        self.import_failure: str | None = None
        self.mapped = 0  # folders handed to the child so far (each gets its own number)

    # lifecycle -------------------------------------------------------------------------------------

    def stop(self) -> None:
        if self.sandbox is not None:
            self.sandbox.kill()
            self.sandbox = None

    def _ensure(self) -> Sandbox:
        if self.sandbox is not None and self.sandbox.alive:
            return self.sandbox
        self.stop()
        if self.box is None:
            raise CheckError(f"{self.lesson}: the grader has no files of this lesson to run")
        sandbox = Sandbox(self.box, self.spec.level, self.limits, uid=self.spec.uid, python=self.spec.python)
        try:
            sandbox.start()
        except SandboxError as exc:
            self.incident(f"the sandbox did not start: {exc}")
            raise CheckError(f"the grader could not start a sandbox to run your code: {exc}") from None
        self.sandbox = sandbox
        return sandbox

    def incident(self, text: str, function: str | None = None) -> None:
        """Record for the feedback what happened to the sandbox (a timeout, a crash), once per kind."""
        if self.spec.incidents:
            with open(self.spec.incidents, "a") as f:
                f.write(json.dumps({"lesson": self.lesson, "function": function, "text": text}) + "\n")

    def _budget(self, what: str) -> float:
        left = self.limits.lesson_seconds - self.spent
        if left <= 0:
            raise CheckError(f"{what} was not run: your code has used up the {self.limits.lesson_seconds:.0f} s "
                             f"this lesson's checks may take in total (look for slow or endless loops).")
        return min(self.limits.call_seconds, left)

    def _request(self, header: dict, buffers: list, what: str, on_callback=None, timeout_name: str | None = None):
        seconds = self._budget(what)
        sandbox = self._ensure()
        start = time.monotonic()
        try:
            return sandbox.request(header, buffers, seconds, on_callback=on_callback)
        except wire.Timeout:
            if timeout_name:
                self.timed_out.add(timeout_name)
            tail = sandbox.output_tail(1500)
            self.stop()
            self.incident(f"stopped after {seconds:.0f} s (wall clock)", timeout_name or what)
            raise CheckError(f"{what} did not finish within {seconds:.0f} s and was stopped.\n"
                             f"  hint: look for an endless loop (a `while` whose condition never changes) or "
                             f"work that grows far faster than the input" + _output_note(tail)) from None
        except wire.Closed:
            if timeout_name:
                self.crashes[timeout_name] = self.crashes.get(timeout_name, 0) + 1
            code = sandbox.wait_exit()
            tail = sandbox.output_tail(1500)
            self.stop()
            why = describe_exit(code) if code is not None else "it closed its end of the pipe"
            self.incident(f"the process running it ended: {why}", timeout_name or what)
            raise CheckError(f"{what}: the process running your code ended during the call: {why}."
                             + _output_note(tail)) from None
        except wire.WireError as exc:
            self.stop()
            self.incident(f"unreadable reply ({exc})", timeout_name or what)
            raise CheckError(f"{what}: the grader could not read what your code sent back: {exc}") from None
        finally:
            self.spent += time.monotonic() - start

    # resolving a function ------------------------------------------------------------------------------

    def resolve(self, api: RemoteLessonAPI, module: str, function: str) -> tuple[tuple, str | None]:
        key = (module, function)
        if key in self.resolved:
            outcome = self.resolved[key]
        else:
            outcome = self._resolve(api, module, function)
            self.resolved[key] = outcome
        if isinstance(outcome, str):
            raise CheckError(outcome)
        return outcome

    def _resolve(self, api: RemoteLessonAPI, module: str, function: str):
        relative = f"{api.lesson.name}/{module}.py"
        shown = f"{api.tree / relative}"
        if self.import_failure and self.import_failure.startswith(f"{module}:"):
            return self.import_failure.split(":", 1)[1]
        try:
            msg, _ = self._request({"op": "resolve", "module": module, "function": function}, [],
                                   f"importing {relative}")
        except CheckError as exc:
            text = (f"could not import {shown}: {exc}\n"
                    f"hint: fix this first; no check of {api.lesson.label} can run until the file imports.")
            self.import_failure = f"{module}:{text}"
            return text
        if msg.get("ok"):
            params = tuple(str(p) for p in (msg.get("params") or [])[:64])
            doc = msg.get("doc")
            return params, doc if isinstance(doc, str) else None
        why = msg.get("why")
        if why == "missing_file":
            return (f"{shown} does not exist: the checks of {api.lesson.label} grade the functions in "
                    f"{relative}. Was it moved or renamed?")
        if why == "missing_function":
            return (f"{shown} has no function `{function}`: the checks call it by that name. "
                    f"Did you rename or delete it? (The stub's signature is the contract.)")
        exc = rebuild_exception(msg.get("exc") or {}, PathMap(None, []))
        if isinstance(exc, NotImplementedError):
            text = api._not_implemented(exc, f"importing {relative}")
        else:
            text = (f"could not import {shown}:\n{exc.learner_traceback}"
                    f"hint: fix this first; no check of {api.lesson.label} can run until the file imports.")
        self.import_failure = f"{module}:{text}"
        return text

    # calling ---------------------------------------------------------------------------------------------

    def call(self, fn: RemoteFunction, args: tuple, kwargs: dict) -> Any:
        text = fn.text(*args, **kwargs)
        if fn.name in self.timed_out:
            raise CheckError(f"{text} was not run: {fn.name} did not finish in time earlier in these checks, "
                             f"so the grader does not call it again.")
        if self.crashes.get(fn.name, 0) >= CRASHES:
            raise CheckError(f"{text} was not run: the process running {fn.name} ended abruptly {CRASHES} times "
                             f"earlier in these checks, so the grader does not call it again.")
        paths = PathMap(self, [Path(p) for p in self.spec.writable], [Path(p) for p in self.spec.readable])
        enc = ParentEncoder(paths)
        header = {"op": "call", "module": fn.module, "function": fn.name,
                  "args": enc.encode(list(args)), "kwargs": enc.encode(dict(kwargs))}
        state = CallState(self, enc, paths, text)
        msg, bufs = self._request(header, enc.buffers, text, on_callback=state.callback, timeout_name=fn.name)
        return state.finish(msg, bufs, fn)

    def next_item(self, handle: int, state: "CallState", fn_name: str):
        msg, bufs = self._request({"op": "next", "h": handle}, [], f"the next item of {state.text}",
                                  on_callback=state.callback, timeout_name=fn_name)
        return msg, bufs


def _output_note(tail: str) -> str:
    tail = tail.strip()
    if not tail:
        return ""
    lines = tail.splitlines()[-12:]
    return "\n  the last lines your code printed:\n" + "\n".join(f"    | {line[:200]}" for line in lines)


class CallState:
    """One call in flight: its numbered arguments, its callbacks, its files."""

    def __init__(self, sess: Session, enc: ParentEncoder, paths: PathMap, text: str):
        self.session, self.enc, self.paths, self.text = sess, enc, paths, text
        self.callback_error: BaseException | None = None

    def _decoder(self, buffers: list) -> wire.Decoder:
        return wire.Decoder(buffers, refs=self.enc.objects, special=self._special)

    def _special(self, node, dec, depth):
        t = node["t"]
        if t == "p":
            return Path(self.paths.back(str(wire._typed(node.get("v"), str))))
        if t == "F":
            return build_figure(dec.decode(node.get("desc"), depth + 1))
        if t == "A":
            fig = build_figure(dec.decode(node.get("desc"), depth + 1))
            index = node.get("i")
            if not isinstance(index, int) or not 0 <= index < len(fig.axes):
                raise wire.WireError("bad axes index")
            return fig.axes[index]
        if t == "G":
            return None  # handled by finish()
        raise wire.WireError(f"unknown value type {t!r}")

    def apply(self, msg: dict, buffers: list) -> None:
        """Mirror what the child's call did to its arguments onto the caller's objects."""
        sync = msg.get("sync") or {}
        if not isinstance(sync, dict):
            raise wire.WireError("malformed sync")
        dec = self._decoder(buffers)
        order = sorted(sync.items(), key=lambda kv: {"a": 0, "d": 1, "l": 1}.get(kv[1].get("t"), 2)
                       if isinstance(kv[1], dict) else 3)
        for key, node in order:
            try:
                number = int(key)
            except ValueError:
                raise wire.WireError("malformed sync key") from None
            obj = self.enc.objects.get(number)
            if obj is None or not isinstance(node, dict):
                raise wire.WireError("sync of an unknown argument")
            t = node.get("t")
            if isinstance(obj, np.ndarray) and t == "a":
                new = dec._array(node)
                if new.shape == obj.shape and new.dtype == obj.dtype and obj.flags.writeable:
                    obj[...] = new
            elif isinstance(obj, dict) and t == "d":
                value = dec.decode(node)
                obj.clear()
                obj.update(value)
            elif isinstance(obj, list) and t == "l":
                obj[:] = dec.decode(node)
            elif isinstance(obj, np.random.Generator) and t == "rng":
                state = dec.decode(node.get("state"))
                try:
                    obj.bit_generator.state = state
                except (TypeError, ValueError, KeyError) as exc:
                    raise wire.WireError(f"bad generator state: {exc}") from None
            elif t == "F":
                replay_figure(obj, dec.decode(node.get("desc")))
        self.paths.write_back(msg.get("files"), buffers)

    def callback(self, msg: dict, buffers: list) -> tuple[dict, list]:
        try:
            self.apply(msg, buffers)
            dec = self._decoder(buffers)
            fn = self.enc.callbacks.get(msg.get("fn"))
            args, kwargs = dec.decode(msg.get("args")), dec.decode(msg.get("kwargs"))
            if fn is None or not isinstance(args, list) or not isinstance(kwargs, dict):
                raise wire.WireError("malformed callback")
        except wire.WireError:
            raise
        try:
            value = fn(*args, **{str(k): v for k, v in kwargs.items()})
        except BaseException as exc:  # noqa: BLE001 - the check's own function failed: tell the child
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            self.callback_error = exc
            return {"op": "callback_raise", "msg": f"{type(exc).__name__}: {exc}"[:2000]}, []
        out = wire.Encoder()
        try:
            node = out.encode(value)
        except wire.WireError as exc:
            self.callback_error = exc
            return {"op": "callback_raise", "msg": str(exc)}, []
        return {"op": "callback_return", "value": node}, out.buffers

    def finish(self, msg: dict, buffers: list, fn: RemoteFunction):
        try:
            self.apply(msg, buffers)
            op = msg.get("op")
            if op == "raise":
                if self.callback_error is not None:
                    raise self.callback_error
                raise rebuild_exception(msg.get("exc") or {}, self.paths)
            if op != "return" or "value" not in msg:
                raise wire.WireError(f"unexpected reply {op!r}")
            node = msg["value"]
            if isinstance(node, dict) and node.get("t") == "G":
                handle = node.get("h")
                if not isinstance(handle, int):
                    raise wire.WireError("bad generator handle")
                return _remote_generator(self, handle, fn.name)
            return self._decoder(buffers).decode(node)
        except wire.WireError as exc:
            self.session.stop()
            self.session.incident(f"unreadable reply ({exc})", fn.name)
            raise CheckError(f"{self.text}: the grader could not read what your code sent back: {exc}") from None


def _remote_generator(state: CallState, handle: int, fn_name: str):
    """A real generator whose items the child computes one ``next`` at a time."""
    sess = state.session
    while True:
        msg, bufs = sess.next_item(handle, state, fn_name)
        try:
            state.apply(msg, bufs)
            op = msg.get("op")
            if op == "stop":
                return
            if op == "raise":
                raise rebuild_exception(msg.get("exc") or {}, state.paths)
            if op != "yield":
                raise wire.WireError(f"unexpected reply {op!r}")
            item = state._decoder(bufs).decode(msg.get("value"))
        except wire.WireError as exc:
            sess.stop()
            raise CheckError(f"{state.text}: the grader could not read what your code sent back: {exc}") from None
        yield item


# --- figures: described by the child, rebuilt here --------------------------------------------------


def _text(value, limit: int = 1000) -> str:
    return str(value)[:limit] if isinstance(value, str) else ""


def _numbers(value, count: int) -> list[float]:
    if not (isinstance(value, (list, tuple)) and len(value) == count):
        raise wire.WireError("malformed figure description")
    out = [float(v) for v in value]
    if not all(np.isfinite(out)):
        raise wire.WireError("malformed figure description")
    return out


def build_figure(desc):
    """A real matplotlib Figure holding what the child's figure held (images, lines, texts, labels)."""
    import matplotlib.pyplot as plt

    if not isinstance(desc, dict) or not isinstance(desc.get("axes"), list):
        raise wire.WireError("malformed figure description")
    w, h = _numbers(desc.get("size"), 2)
    fig = plt.figure(figsize=(min(max(w, 0.1), 100), min(max(h, 0.1), 100)))
    replay_figure(fig, desc, fresh=True)
    return fig


def replay_figure(fig, desc, fresh: bool = False) -> None:
    """Draw the described artists into ``fig``: its existing axes in order, new axes after them."""
    if not isinstance(desc, dict) or not isinstance(desc.get("axes"), list) or len(desc["axes"]) > 200:
        raise wire.WireError("malformed figure description")
    existing = [] if fresh else list(fig.axes)
    if desc.get("suptitle"):
        fig.suptitle(_text(desc["suptitle"]))
    for i, a in enumerate(desc["axes"]):
        if not isinstance(a, dict):
            raise wire.WireError("malformed figure description")
        ax = existing[i] if i < len(existing) else fig.add_axes(_numbers(a.get("pos"), 4))
        _replay_axes(ax, a)


def _replay_axes(ax, a: dict) -> None:
    for im in (a.get("images") or [])[:200]:
        arr = im.get("array") if isinstance(im, dict) else None
        if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf" or arr.ndim not in (2, 3):
            continue
        cmap = _text(im.get("cmap"), 60) or None
        try:
            ax.imshow(arr, cmap=cmap)
        except (ValueError, TypeError):
            ax.imshow(arr)
    for line in (a.get("lines") or [])[:1000]:
        if not isinstance(line, dict):
            continue
        x, y = line.get("x"), line.get("y")
        if isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and x.shape == y.shape and x.ndim == 1:
            ax.plot(x, y, label=_text(line.get("label"), 200))
    for t in (a.get("texts") or [])[:10000]:
        if isinstance(t, dict):
            try:
                x, y = float(t.get("x")), float(t.get("y"))
            except (TypeError, ValueError):
                continue
            ha = t.get("ha") if t.get("ha") in ("center", "left", "right") else "left"
            va = t.get("va") if t.get("va") in ("center", "top", "bottom", "baseline", "center_baseline") else "baseline"
            ax.text(x, y, _text(t.get("s")), ha=ha, va=va)
    for loc in ("center", "left", "right"):
        title = _text(a.get("title" if loc == "center" else f"title_{loc}"))
        if title:
            ax.set_title(title, loc=loc)
    if _text(a.get("xlabel")):
        ax.set_xlabel(_text(a["xlabel"]))
    if _text(a.get("ylabel")):
        ax.set_ylabel(_text(a["ylabel"]))
    for axis in ("x", "y"):
        scale = a.get(f"{axis}scale")
        if scale in ("linear", "log", "symlog", "logit"):
            try:
                getattr(ax, f"set_{axis}scale")(scale)
            except ValueError:
                pass
        lim = a.get(f"{axis}lim")
        if isinstance(lim, list) and len(lim) == 2:
            try:
                getattr(ax, f"set_{axis}lim")(*_numbers(lim, 2))
            except (ValueError, wire.WireError):
                pass
    if a.get("axis_on") is False:
        ax.set_axis_off()
    legend = a.get("legend")
    if isinstance(legend, list) and legend and ax.get_lines():
        ax.legend()
