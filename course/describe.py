"""Short, readable descriptions of values for failure messages: ``(4, 10) float64``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np


def describe(value: Any) -> str:
    """What a value is, in a few words: shape and dtype for arrays, keys for dicts."""
    if isinstance(value, np.ndarray):
        return f"array {value.shape} {value.dtype}"
    if isinstance(value, np.generic):
        return f"{type(value).__name__} {value!r}"
    if isinstance(value, dict):
        inner = ", ".join(f"{k!r}: {describe(v)}" for k, v in list(value.items())[:8])
        return "{" + inner + (", ..." if len(value) > 8 else "") + "}"
    if isinstance(value, (tuple, list)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        if len(value) > 6:
            return f"{kind} of {len(value)} items"
        return f"{kind}(" + ", ".join(describe(v) for v in value) + ")"
    if isinstance(value, os.PathLike):
        return repr(Path(value).name)
    if isinstance(value, (int, float, bool, str)) or value is None:
        text = repr(value)
        return text if len(text) < 60 else text[:57] + "..."
    return type(value).__name__


def _arg(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.shape} {value.dtype}"
    return describe(value)


def describe_call(name: str, args: tuple = (), kwargs: dict | None = None, names: tuple = ()) -> str:
    """``softmax(z: (4, 10) float64)``; ``names`` gives names to positional arguments."""
    parts = []
    for i, value in enumerate(args):
        label = f"{names[i]}: " if i < len(names) else ""
        parts.append(label + _arg(value))
    parts += [f"{k}={_arg(v)}" for k, v in (kwargs or {}).items()]
    return f"{name}({', '.join(parts)})"


def preview(value: Any, precision: int = 4) -> str:
    """A compact look at the numbers themselves."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fc":
            text = np.array2string(value, precision=precision, threshold=24, edgeitems=3,
                                   suppress_small=True, max_line_width=100)
        else:
            text = np.array2string(value, threshold=24, edgeitems=3, max_line_width=100)
        return text.replace("\n", "\n    ")
    return repr(value)
