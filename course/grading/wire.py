"""Values across the sandbox boundary: a JSON tree plus raw array buffers. Never pickle.

Both sides use this module: the trusted grader (as ``course.grading.wire``) and the sandboxed
child, which gets a copy of this file and imports nothing of the course. A message is

    u32 length of the JSON header | u32 number of buffers | JSON | (u64 length | bytes) per buffer

and a value is a node of the JSON tree: ``{"t": "a", "d": "<f8", "s": [4, 10], "b": 0}`` is a
float64 array whose bytes are buffer 0. Only plain data crosses: None, bools, numbers, strings,
bytes, NumPy arrays and scalars of numeric dtypes, lists, tuples, dicts and paths. Anything else
is described (class name and a short repr) and arrives on the other side as an inert stand-in,
so an object that claims to equal anything stays on the side that made it.

The receiving side checks every size, dtype and shape before it believes a byte.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import select
import struct
import time
from pathlib import PurePath

import numpy as np

MAX_JSON = 64 << 20  # bytes of one JSON header
MAX_BUFFERS = 100_000
MAX_TOTAL = 512 << 20  # bytes of one message
MAX_DEPTH = 64
MAX_NDIM = 32
_DTYPE = re.compile(r"^[<>|=]?(b1|[iu][1248]|f[248]|c(8|16)|[US]\d{1,6})$")


class WireError(Exception):
    """A message that breaks the protocol: too big, malformed, or holding a forbidden type."""


class Timeout(Exception):
    """The other side did not answer in time."""


class Closed(Exception):
    """The other side closed the channel (it ended or was killed)."""


# --- framing -----------------------------------------------------------------------------------


class Channel:
    """One direction in, one direction out, over two pipe file descriptors."""

    def __init__(self, read_fd: int, write_fd: int):
        self.read_fd, self.write_fd = read_fd, write_fd

    def send(self, header: dict, buffers: list) -> None:
        data = json.dumps(header, allow_nan=True, separators=(",", ":")).encode()
        parts = [struct.pack("<II", len(data), len(buffers)), data]
        for buf in buffers:
            view = memoryview(buf).cast("B")
            parts.append(struct.pack("<Q", view.nbytes))
            parts.append(view)
        for part in parts:
            view = memoryview(part).cast("B") if not isinstance(part, bytes) else memoryview(part)
            while view:
                written = os.write(self.write_fd, view)
                view = view[written:]

    def _read(self, n: int, deadline: float | None, on_idle=None) -> bytearray:
        out = bytearray(n)
        view, got = memoryview(out), 0
        while got < n:
            if deadline is not None or on_idle is not None:
                wait = None if deadline is None else deadline - time.monotonic()
                if wait is not None and wait <= 0:
                    raise Timeout()
                ready = select.select([self.read_fd], [], [], min(wait, 0.5) if wait is not None else 0.5)[0]
                if not ready:
                    if on_idle is not None:
                        on_idle()
                    continue
            chunk = os.readv(self.read_fd, [view[got:got + min(n - got, 1 << 20)]])
            if chunk == 0:
                raise Closed()
            got += chunk
        return out

    def recv(self, deadline: float | None = None, on_idle=None, max_total: int = MAX_TOTAL) -> tuple[dict, list]:
        head = self._read(8, deadline, on_idle)
        size, count = struct.unpack("<II", head)
        if size > MAX_JSON or count > MAX_BUFFERS:
            raise WireError(f"message header too large ({size} bytes, {count} buffers)")
        try:
            header = json.loads(bytes(self._read(size, deadline, on_idle)))
        except (ValueError, RecursionError) as exc:
            raise WireError(f"malformed message: {exc}") from None
        if not isinstance(header, dict):
            raise WireError("malformed message: not an object")
        buffers, total = [], size
        for _ in range(count):
            (length,) = struct.unpack("<Q", self._read(8, deadline, on_idle))
            total += length
            if total > max_total:
                raise WireError(f"message larger than {max_total >> 20} MiB")
            buffers.append(self._read(length, deadline, on_idle))
        return header, buffers


# --- values ------------------------------------------------------------------------------------


def _safe_name(text: str) -> str:
    name = re.sub(r"\W", "_", str(text))[:60] or "object"
    return name if not name[0].isdigit() else "_" + name


class Encoder:
    """Turns a value into a JSON tree, appending array bytes to ``buffers``.

    ``refs`` maps ``id(obj)`` to a reference number: such objects are sent as ``{"t": "r"}``
    (the other side already holds them). ``track`` numbers every array, dict and list met so
    that the other side can refer back to it. ``special(value)`` may return a node for types
    the caller handles itself (paths, callables, generators, figures).
    """

    def __init__(self, refs: dict | None = None, special=None, track: dict | None = None, next_id=None):
        self.buffers: list = []
        self.refs = refs if refs is not None else {}
        self.special = special
        self.track = track
        self._next = next_id or _counter()

    def encode(self, value, depth: int = 0):
        if depth > MAX_DEPTH:
            raise WireError("value nested too deeply")
        ref = self.refs.get(id(value))
        if ref is not None:
            return {"t": "r", "v": ref}
        if self.special is not None:
            node = self.special(value, self, depth)
            if node is not None:
                return node
        if value is None:
            return {"t": "n"}
        if isinstance(value, np.generic):
            if value.dtype.kind not in "biufc":
                return _opaque(value)
            arr = np.asarray(value)
            self.buffers.append(arr.tobytes())
            return {"t": "g", "d": arr.dtype.str, "b": len(self.buffers) - 1}
        if isinstance(value, bool):
            return {"t": "b", "v": bool(value)}
        if isinstance(value, int):
            return {"t": "i", "v": int(value)}
        if isinstance(value, float):
            return {"t": "f", "v": float(value)}
        if isinstance(value, complex):
            return {"t": "c", "v": [value.real, value.imag]}
        if isinstance(value, str):
            return {"t": "s", "v": str.__str__(value)}
        if isinstance(value, (bytes, bytearray)):
            return {"t": "y", "v": base64.b64encode(bytes(value)).decode()}
        if isinstance(value, np.ndarray):
            if type(value) is not np.ndarray or value.dtype.kind not in "biufcUS" or value.dtype.fields:
                return _opaque(value)
            return self._array(value)
        if isinstance(value, PurePath):
            return {"t": "p", "v": str(value)}
        if isinstance(value, (np.dtype,)):
            return {"t": "D", "v": value.str} if value.kind in "biufcUS" else _opaque(value)
        if isinstance(value, type):
            if issubclass(value, np.generic) and np.dtype(value).kind in "biufc":
                return {"t": "T", "v": np.dtype(value).name}
            if value in (int, float, bool, complex, str):
                return {"t": "P", "v": value.__name__}
            return _opaque(value)
        if isinstance(value, (list, tuple, dict)):
            node = self._container(value, depth)
            if self.track is not None and isinstance(value, (list, dict)):
                number = next(self._next)
                self.track[number] = value
                self.refs[id(value)] = number
                node["id"] = number
            return node
        return _opaque(value)

    def _array(self, value: np.ndarray) -> dict:
        arr = np.ascontiguousarray(value)
        self.buffers.append(arr.tobytes())
        node = {"t": "a", "d": arr.dtype.str, "s": list(arr.shape), "b": len(self.buffers) - 1}
        if self.track is not None:
            number = next(self._next)
            self.track[number] = value
            self.refs[id(value)] = number
            node["id"] = number
        return node

    def _container(self, value, depth: int) -> dict:
        if isinstance(value, dict):
            items = list(dict.items(value))
            return {"t": "d", "k": [self.encode(k, depth + 1) for k, _ in items],
                    "v": [self.encode(v, depth + 1) for _, v in items]}
        kind = "u" if isinstance(value, tuple) else "l"
        items = list(tuple.__iter__(value) if kind == "u" else list.__iter__(value))
        return {"t": kind, "v": [self.encode(v, depth + 1) for v in items]}


def _counter():
    n = 0
    while True:
        n += 1
        yield n


def _opaque(value) -> dict:
    cls = type(value)
    try:
        text = object.__repr__(value)
    except Exception:  # noqa: BLE001
        text = f"<{cls.__name__}>"
    return {"t": "o", "c": _safe_name(cls.__name__), "m": [_safe_name(c.__name__) for c in cls.__mro__][:12],
            "r": text[:200]}


class Foreign:
    """Stands in for an object of a type that cannot cross the boundary. Equal only to itself."""

    kind = "object"
    mro: tuple = ()
    text = ""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object from the sandbox>"

    __eq__ = object.__eq__
    __hash__ = object.__hash__


_FOREIGN: dict[str, type] = {}


def foreign(name: str, mro=(), text: str = "") -> Foreign:
    name = _safe_name(name)
    cls = _FOREIGN.get(name)
    if cls is None:
        cls = _FOREIGN[name] = type(name, (Foreign,), {})
    obj = cls()
    obj.mro, obj.text = tuple(mro), text
    return obj


def check_dtype(text) -> np.dtype:
    if not isinstance(text, str) or not _DTYPE.match(text):
        raise WireError(f"forbidden dtype {text!r}")
    return np.dtype(text)


class Decoder:
    """Turns a JSON tree and its buffers back into values, trusting nothing."""

    def __init__(self, buffers: list, refs: dict | None = None, special=None, keep: dict | None = None):
        self.buffers = buffers
        self.refs = refs if refs is not None else {}
        self.special = special
        self.keep = keep  # number -> object, for arrays/dicts/lists that carry an "id"

    def decode(self, node, depth: int = 0):
        if depth > MAX_DEPTH:
            raise WireError("value nested too deeply")
        if not isinstance(node, dict) or not isinstance(node.get("t"), str):
            raise WireError("malformed value")
        t = node["t"]
        if t == "n":
            return None
        if t == "b":
            return bool(_typed(node.get("v"), bool))
        if t == "i":
            return int(_typed(node.get("v"), int))
        if t == "f":
            v = node.get("v")
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise WireError("malformed float")
            return float(v)
        if t == "c":
            v = node.get("v")
            if not (isinstance(v, list) and len(v) == 2 and all(isinstance(p, (int, float)) for p in v)):
                raise WireError("malformed complex")
            return complex(v[0], v[1])
        if t == "s":
            return str(_typed(node.get("v"), str))
        if t == "y":
            return base64.b64decode(_typed(node.get("v"), str), validate=True)
        if t == "a":
            value = self._array(node)
            self._remember(node, value)
            return value
        if t == "g":
            dtype = check_dtype(node.get("d"))
            if dtype.kind not in "biufc":
                raise WireError("forbidden scalar dtype")
            buf = self._buffer(node.get("b"))
            if len(buf) != dtype.itemsize:
                raise WireError("scalar of the wrong size")
            return np.frombuffer(bytes(buf), dtype=dtype)[0]
        if t == "r":
            ref = node.get("v")
            if ref not in self.refs:
                raise WireError(f"unknown reference {ref!r}")
            return self.refs[ref]
        if t in ("l", "u"):
            items = _typed(node.get("v"), list)
            value = [None] * len(items)
            if t == "l":
                self._remember(node, value)
            for i, item in enumerate(items):
                value[i] = self.decode(item, depth + 1)
            return value if t == "l" else tuple(value)
        if t == "d":
            keys, values = _typed(node.get("k"), list), _typed(node.get("v"), list)
            if len(keys) != len(values):
                raise WireError("malformed dict")
            value = {}
            self._remember(node, value)
            for k, v in zip(keys, values):
                key = self.decode(k, depth + 1)
                try:
                    hash(key)
                except TypeError:
                    raise WireError("unhashable dict key") from None
                value[key] = self.decode(v, depth + 1)
            return value
        if t == "D":
            return check_dtype(_typed(node.get("v"), str))
        if t == "T":
            name = _typed(node.get("v"), str)
            if not re.fullmatch(r"(bool|u?int(8|16|32|64)|float(16|32|64)|complex(64|128))", name):
                raise WireError(f"forbidden type {name!r}")
            return getattr(np, "bool_" if name == "bool" else name)
        if t == "P":
            return {"int": int, "float": float, "bool": bool, "complex": complex, "str": str}[
                _typed(node.get("v"), str)]
        if t == "o":
            return foreign(_typed(node.get("c"), str), [str(m) for m in _typed(node.get("m", []), list)][:12],
                           str(node.get("r", ""))[:200])
        if self.special is not None:
            return self.special(node, self, depth)
        raise WireError(f"unknown value type {t!r}")

    def _remember(self, node: dict, value) -> None:
        if self.keep is not None and "id" in node:
            number = node["id"]
            if not isinstance(number, int):
                raise WireError("malformed id")
            self.keep[number] = value

    def _buffer(self, index) -> bytearray:
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(self.buffers):
            raise WireError("bad buffer index")
        return self.buffers[index]

    def _array(self, node: dict) -> np.ndarray:
        dtype = check_dtype(node.get("d"))
        shape = _typed(node.get("s"), list)
        if len(shape) > MAX_NDIM or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
            raise WireError("bad array shape")
        buf = self._buffer(node.get("b"))
        count = math.prod(shape)
        if count * dtype.itemsize != len(buf):
            raise WireError(f"array of shape {tuple(shape)} {dtype} does not match its {len(buf)} bytes")
        return np.frombuffer(buf, dtype=dtype, count=count).reshape(shape)


def _typed(value, kind):
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise WireError(f"malformed value: expected {kind.__name__}")
    return value


def fingerprint(value) -> bytes:
    """A cheap digest of an array's contents, to tell whether a call changed it."""
    import hashlib

    arr = np.ascontiguousarray(value)
    h = hashlib.blake2b(digest_size=16)
    h.update(str((arr.dtype.str, arr.shape)).encode())
    h.update(arr.view(np.uint8).reshape(-1) if arr.size else b"")
    return h.digest()
