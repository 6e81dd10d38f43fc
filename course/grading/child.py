"""The sandboxed child: imports the submission's lesson and computes what the grader asks for.

Started by the grader (inside the jail, as an unprivileged user) as ``python -I child.py CONFIG``.
It imports nothing of the course: only NumPy, the standard library and ``wire.py`` next to it.
It answers requests on file descriptors given in CONFIG:

    resolve  import a module of the submission and find a graded function (its parameters, doc)
    call     call a function on arguments the grader sends; reply with the result, what the call
             changed in its arguments, and any files it wrote; callables among the arguments
             (lesson 04's ``f``, lesson 05's ``callback``) call back into the grader
    next     the next item of a generator returned earlier (lesson 01's minibatches)

It never decides a score: the grader compares what comes back with its own answers.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import os
import shutil
import signal
import sys
import traceback
import types
from pathlib import Path, PurePath

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I leaves the script's folder out
import numpy as np  # noqa: E402

import wire  # noqa: E402  (the copy next to this file)

MAX_FILES_OUT = 64 << 20


class CallbackError(Exception):
    """The grader's own function, called back from the submission, failed."""


class Runner:
    def __init__(self, cfg: dict):
        self.cfg = cfg
        self.chan = wire.Channel(cfg["fd_in"], cfg["fd_out"])
        self.pid = os.getpid()
        self.package = None
        self.tree = Path(cfg["tree"])
        self.files = Path(cfg["files"])
        self.handles: dict[int, tuple] = {}
        self._next_handle = 0

    # --- the loop ------------------------------------------------------------------------------

    def serve(self) -> None:
        self.reply({"op": "ready", "pid": os.getpid()})
        while True:
            try:
                msg, buffers = self.chan.recv()
            except wire.Closed:
                os._exit(0)
            op = msg.get("op")
            if op == "resolve":
                self.resolve(msg)
            elif op == "call":
                self.call(msg, buffers)
            elif op == "next":
                self.next(msg)
            elif op == "close":
                self.handles.pop(msg.get("h"), None)
                self.reply({"op": "closed"})
            elif op == "exit":
                os._exit(0)
            else:
                self.reply({"op": "error", "msg": f"unknown op {op!r}"})

    def reply(self, header: dict, buffers: list | None = None) -> None:
        if os.getpid() != self.pid:  # a fork of the submission's: it must not speak for us
            os._exit(0)
        self.chan.send(header, buffers or [])

    def _after_user_code(self) -> None:
        if os.getpid() != self.pid:
            os._exit(0)
        if self.cfg.get("kill_strays"):
            try:  # every other process of this sandbox (forks the submission left behind)
                os.kill(-1, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    # --- importing -----------------------------------------------------------------------------

    def _module(self, module: str):
        if self.package is None:
            spec = importlib.util.spec_from_file_location(
                self.cfg["package"], self.tree / "__init__.py", submodule_search_locations=[str(self.tree)])
            self.package = importlib.util.module_from_spec(spec)
            sys.modules[self.cfg["package"]] = self.package
            spec.loader.exec_module(self.package)
        return importlib.import_module(f"{self.cfg['package']}.{self.cfg['lesson']}.{module}")

    def resolve(self, msg: dict) -> None:
        module, name = str(msg.get("module")), str(msg.get("function"))
        path = self.tree / self.cfg["lesson"] / f"{module}.py"
        if not path.exists():
            self.reply({"op": "resolved", "ok": False, "why": "missing_file"})
            return
        try:
            mod = self._module(module)
        except BaseException as exc:  # noqa: BLE001 - SystemExit at import is the submission's too
            self._after_user_code()
            self.reply({"op": "resolved", "ok": False, "why": "import", "exc": self.exc_info(exc)})
            return
        self._after_user_code()
        fn = getattr(mod, name, None)
        if not callable(fn):
            self.reply({"op": "resolved", "ok": False, "why": "missing_function"})
            return
        try:
            params = [str(p) for p in inspect.signature(fn).parameters]
        except (TypeError, ValueError):
            params = []
        doc = fn.__doc__ if isinstance(getattr(fn, "__doc__", None), str) else None
        self.reply({"op": "resolved", "ok": True, "params": params[:64], "doc": (doc or "")[:20000]})

    def exc_info(self, exc: BaseException) -> dict:
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if Path(f.filename).is_relative_to(self.tree)]
        try:
            text = "".join(traceback.format_list(frames)) + "".join(traceback.format_exception_only(type(exc), exc))
        except Exception:  # noqa: BLE001
            text = f"{type(exc).__name__}\n"
        try:
            message = str(exc)
        except Exception:  # noqa: BLE001
            message = "(the exception's message could not be shown)"
        builtin = [c.__name__ for c in type(exc).__mro__ if c.__module__ == "builtins"]
        text = text.replace(str(self.tree), self.cfg["display"])
        return {"type": wire._safe_name(type(exc).__name__), "bases": builtin[:12], "msg": message[:20000],
                "tb": text[-20000:]}

    # --- calling -------------------------------------------------------------------------------

    def call(self, msg: dict, buffers: list) -> None:
        call = Call(self, buffers)
        try:
            args = call.decode(msg.get("args"))
            kwargs = call.decode(msg.get("kwargs"))
            fn = getattr(self._module(str(msg["module"])), str(msg["function"]))
        except BaseException as exc:  # noqa: BLE001
            self._after_user_code()
            self.reply({"op": "raise", "exc": self.exc_info(exc), "sync": {}})
            return
        call.snapshot()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - everything the submission raises is reported
            self._after_user_code()
            self.finish(call, {"op": "raise", "exc": self.exc_info(exc)})
            return
        self._after_user_code()
        if _is_iterator(result):
            self._next_handle += 1
            self.handles[self._next_handle] = (iter(result), call)
            self.finish(call, {"op": "return"}, {"t": "G", "h": self._next_handle})
            return
        self.finish(call, {"op": "return"}, result=result)

    def next(self, msg: dict) -> None:
        entry = self.handles.get(msg.get("h"))
        if entry is None:
            self.reply({"op": "stop", "sync": {}})
            return
        iterator, call = entry
        try:
            item = next(iterator)
        except StopIteration:
            self._after_user_code()
            self.handles.pop(msg.get("h"), None)
            self.finish(call, {"op": "stop"})
            return
        except BaseException as exc:  # noqa: BLE001
            self._after_user_code()
            self.handles.pop(msg.get("h"), None)
            self.finish(call, {"op": "raise", "exc": self.exc_info(exc)})
            return
        self._after_user_code()
        self.finish(call, {"op": "yield"}, result=item)

    def finish(self, call: Call, header: dict, node: dict | None = None, result=None) -> None:
        try:
            enc = call.encoder()
            if node is None and header["op"] in ("return", "yield"):
                node = enc.encode(result)
            if node is not None:
                header["value"] = node
            header["sync"] = call.sync(enc)
            header["files"] = call.files_out(enc)
        except BaseException as exc:  # noqa: BLE001 - e.g. a result whose __iter__ raises
            self._after_user_code()
            header = {"op": "raise", "exc": self.exc_info(exc), "encoding": True, "sync": {}}
            enc = wire.Encoder()
        self.reply(header, enc.buffers)


def _is_iterator(value) -> bool:
    if isinstance(value, (types.GeneratorType, map, filter, zip, enumerate, reversed)):
        return True
    if isinstance(value, (list, tuple, dict, str, bytes, np.ndarray)):
        return False
    return hasattr(type(value), "__next__") and hasattr(type(value), "__iter__")


class Call:
    """One call's arguments: decoded from the grader's message, watched for changes."""

    def __init__(self, runner: Runner, buffers: list):
        self.runner = runner
        self.buffers = buffers
        self.objects: dict[int, object] = {}  # number -> argument object (arrays, dicts, lists, ...)
        self.before: dict[int, object] = {}
        self.figures: dict[int, object] = {}
        self.paths: dict[int, tuple[Path, dict]] = {}  # mapping -> (folder, {rel: (size, mtime)})

    # arguments in --------------------------------------------------------------------------------

    def decode(self, node):
        return wire.Decoder(self.buffers, refs=self.objects, special=self._special, keep=self.objects).decode(node)

    def _special(self, node, dec, depth):
        t = node["t"]
        if t == "fn":
            return self._callback(int(node["id"]), str(node.get("name", "f")))
        if t == "rng":
            state = dec.decode(node["state"], depth + 1)
            kind = state.get("bit_generator") if isinstance(state, dict) else None
            if kind not in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"):
                raise wire.WireError(f"unknown bit generator {kind!r}")
            bg = getattr(np.random, kind)()
            bg.state = state
            gen = np.random.Generator(bg)
            self.objects[int(node["id"])] = gen
            return gen
        if t == "path":
            return self._path(node, dec)
        if t == "ax":
            return self._axes(node, dec, depth)
        raise wire.WireError(f"unknown argument type {t!r}")

    def _callback(self, number: int, name: str):
        runner = self.runner

        def proxy(*args, **kwargs):
            enc = self.encoder()
            header = {"op": "callback", "fn": number, "args": enc.encode(list(args)),
                      "kwargs": enc.encode(dict(kwargs))}
            header["sync"] = self.sync(enc, final=False)
            runner.reply(header, enc.buffers)
            msg, buffers = runner.chan.recv()
            if msg.get("op") == "callback_return":
                return wire.Decoder(buffers).decode(msg.get("value"))
            raise CallbackError(str(msg.get("msg", "the grader's function failed"))[:2000])

        proxy.__name__ = proxy.__qualname__ = wire._safe_name(name)
        return proxy

    def _path(self, node, dec):
        folder = self.runner.files / str(int(node["k"]))
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for rel in node.get("dirs", []):
            (folder / _safe_rel(rel)).mkdir(parents=True, exist_ok=True)
        for rel, index in node.get("files", []):
            target = folder / _safe_rel(rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(dec._buffer(index))
        self.paths[int(node["k"])] = (folder, _listing(folder))
        inside = folder / _safe_rel(node["rel"]) if node.get("rel") else folder
        return Path(inside) if node.get("kind") == "path" else str(inside)

    def _axes(self, node, dec, depth):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        number = int(node["fig"])
        fig = self.objects.get(number)
        if fig is None:
            w, h = (float(v) for v in node["size"])
            fig = plt.figure(figsize=(w, h))
            for pos in node["pos"]:
                fig.add_axes([float(v) for v in pos])
            self.objects[number] = fig
            self.figures[number] = fig
            for i, ax in enumerate(fig.axes):
                self.objects[int(node["axes"][i])] = ax
        return fig.axes[int(node["i"])]

    def snapshot(self) -> None:
        for number, obj in self.objects.items():
            if isinstance(obj, np.ndarray):
                self.before[number] = wire.fingerprint(obj)
            elif isinstance(obj, dict):
                self.before[number] = [(k, id(v)) for k, v in obj.items()]
            elif isinstance(obj, list):
                self.before[number] = [id(v) for v in obj]

    # results out --------------------------------------------------------------------------------

    def encoder(self) -> wire.Encoder:
        refs = {id(obj): number for number, obj in self.objects.items()}
        return wire.Encoder(refs=refs, special=_describe_special)

    def sync(self, enc: wire.Encoder, final: bool = True) -> dict:
        """What the call changed in its arguments, by argument number."""
        out = {}
        for number, obj in self.objects.items():
            key = str(number)
            if isinstance(obj, np.ndarray) and number in self.before:
                if wire.fingerprint(obj) != self.before[number]:
                    out[key] = enc._array(obj)
            elif isinstance(obj, dict) and number in self.before:
                if [(k, id(v)) for k, v in obj.items()] != self.before[number]:
                    out[key] = enc._container(obj, 1)
            elif isinstance(obj, list) and number in self.before:
                if [id(v) for v in obj] != self.before[number]:
                    out[key] = enc._container(obj, 1)
            elif isinstance(obj, np.random.Generator):
                out[key] = {"t": "rng", "state": enc.encode(obj.bit_generator.state)}
        if final:  # artists drawn into the caller's Axes: described once, when the call is over
            for number, fig in self.figures.items():
                out[str(number)] = {"t": "F", "desc": enc.encode(describe_figure(fig))}
            self.figures = {}
        self.snapshot()
        return out

    def files_out(self, enc: wire.Encoder) -> list:
        """Files the call wrote or changed in folders it was given: [mapping, relative path, buffer]."""
        out, total = [], 0
        for number, (folder, before) in self.paths.items():
            now = _listing(folder)
            for rel, stamp in now.items():
                if before.get(rel) == stamp:
                    continue
                path = folder / rel
                size = stamp[0]
                total += size
                if total > MAX_FILES_OUT:
                    break
                try:
                    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
                    with os.fdopen(fd, "rb") as f:
                        data = f.read(MAX_FILES_OUT)
                except OSError:
                    continue
                enc.buffers.append(data)
                out.append([number, rel, len(enc.buffers) - 1])
            self.paths[number] = (folder, now)
        return out


def _safe_rel(rel) -> str:
    rel = str(rel)
    parts = PurePath(rel).parts
    if not parts or PurePath(rel).is_absolute() or ".." in parts:
        raise wire.WireError(f"bad relative path {rel!r}")
    return rel


def _listing(folder: Path) -> dict:
    """Regular files under ``folder`` (never following links): relative path -> (size, mtime)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if os.path.isfile(path) and not os.path.islink(path):
                out[os.path.relpath(path, folder)] = (st.st_size, st.st_mtime_ns)
    return out


# --- figures as data -----------------------------------------------------------------------------


def _describe_special(value, enc, depth):
    figure_mod = sys.modules.get("matplotlib.figure")
    axes_mod = sys.modules.get("matplotlib.axes")
    if figure_mod is not None and isinstance(value, figure_mod.Figure):
        return {"t": "F", "desc": enc.encode(describe_figure(value), depth + 1)}
    if axes_mod is not None and isinstance(value, axes_mod.Axes) and value.figure is not None:
        fig = value.figure
        return {"t": "A", "desc": enc.encode(describe_figure(fig), depth + 1), "i": fig.axes.index(value)}
    return None


def _floats(values):
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return arr if arr.size <= 1_000_000 else None


def describe_figure(fig) -> dict:
    """What a check can ask of a figure, as plain data: axes, images, lines, texts, titles, labels."""
    axes = []
    for ax in fig.axes[:200]:
        images = []
        for im in ax.images[:200]:
            arr = im.get_array()
            arr = np.ma.getdata(arr) if arr is not None else None
            if arr is not None and np.asarray(arr).dtype.kind in "biuf" and np.asarray(arr).size <= 4_000_000:
                images.append({"array": np.array(arr), "cmap": str(getattr(im.get_cmap(), "name", ""))})
        lines = []
        for line in ax.get_lines()[:1000]:
            x, y = _floats(line.get_xdata()), _floats(line.get_ydata())
            if x is not None and y is not None:
                lines.append({"x": x, "y": y, "label": str(line.get_label())[:200],
                              "color": str(line.get_color())[:40], "marker": str(line.get_marker())[:10],
                              "linestyle": str(line.get_linestyle())[:10]})
        texts = []
        for t in ax.texts[:10000]:
            x, y = t.get_position()
            try:
                x, y = float(x), float(y)
            except (TypeError, ValueError):
                continue
            texts.append({"x": x, "y": y, "s": str(t.get_text())[:1000], "ha": str(t.get_ha()),
                          "va": str(t.get_va())})
        legend = ax.get_legend()
        axes.append({
            "pos": [float(v) for v in ax.get_position().bounds],
            "title": str(ax.get_title())[:1000], "title_left": str(ax.get_title(loc="left"))[:1000],
            "title_right": str(ax.get_title(loc="right"))[:1000],
            "xlabel": str(ax.get_xlabel())[:1000], "ylabel": str(ax.get_ylabel())[:1000],
            "xlim": [float(v) for v in ax.get_xlim()], "ylim": [float(v) for v in ax.get_ylim()],
            "xscale": str(ax.get_xscale()), "yscale": str(ax.get_yscale()), "axis_on": bool(ax.axison),
            "images": images, "lines": lines, "texts": texts,
            "legend": [str(t.get_text())[:200] for t in legend.get_texts()][:100] if legend is not None else None,
            "patches": len(ax.patches), "collections": len(ax.collections),
        })
    suptitle = getattr(fig, "_suptitle", None)
    w, h = fig.get_size_inches()
    return {"size": [float(w), float(h)], "suptitle": str(suptitle.get_text())[:1000] if suptitle else "",
            "axes": axes}


def main() -> None:
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    sys.path[:] = [p for p in sys.path if p and Path(p).resolve() != Path(cfg["tree"]).resolve()]
    os.environ.pop("PYTHONPATH", None)
    seed, target = cfg.get("mpl_seed"), os.environ.get("MPLCONFIGDIR")
    if seed and target and os.path.isdir(seed):  # matplotlib's font list, built once by the grader
        shutil.copytree(seed, target, dirs_exist_ok=True)
    Runner(cfg).serve()


if __name__ == "__main__":
    main()
