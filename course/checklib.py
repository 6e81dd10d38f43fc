"""Assertions for the checks, written to teach.

Every failure says what was called (with shapes), what came back, what was expected and a hint,
and, where the wrong answer matches a known mistake, which mistake. Checks use these helpers
instead of bare ``assert`` so a learner never reads a traceback of the course's own code.

The tolerances are named here, once:
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from .describe import describe, describe_call, preview
from .target import CheckError

# Forward values computed in float64: tight.
RTOL = 1e-7
ATOL = 1e-9
# Values computed in float32 (the training dtype): about 6 significant digits.
RTOL32 = 1e-5
ATOL32 = 1e-6
# Analytic against numerical gradients (centred differences, float64, h = 1e-5).
GRAD_REL_TOL = 1e-6

__all__ = [
    "RTOL", "ATOL", "RTOL32", "ATOL32", "GRAD_REL_TOL", "CheckError", "call_text", "fail", "diagnose",
    "expect", "expect_array", "expect_close", "expect_unchanged", "expect_raises", "expect_like", "describe",
    "preview",
]


def call_text(name: str, *args: Any, names: tuple = (), **kwargs: Any) -> str:
    """How a call is shown in a message: ``softmax(z: (4, 10) float64)``."""
    return describe_call(name, args, kwargs, names)


def fail(call: str, *, got: str | None = None, expected: str | None = None,
         mistake: str | None = None, hint: str | None = None, detail: str | None = None) -> None:
    """Fail the running check with a message in the course's shape."""
    lines = [call]
    if detail:
        lines.append(f"  {detail}")
    if got is not None:
        lines.append(f"  returned: {got}")
    if expected is not None:
        lines.append(f"  expected: {expected}")
    if mistake:
        lines.append(f"  looks like: {mistake}")
    if hint:
        lines.append(f"  hint: {hint}")
    raise CheckError("\n".join(lines))


def expect(condition: bool, call: str, *, got: Any = None, expected: str | None = None,
           mistake: str | None = None, hint: str | None = None, detail: str | None = None) -> None:
    """Fail with the given words unless ``condition`` holds."""
    if not condition:
        fail(call, got=None if got is None else (got if isinstance(got, str) else _show(got)),
             expected=expected, mistake=mistake, hint=hint, detail=detail)


def _show(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"{describe(value)}\n    {preview(value)}"
    return describe(value) if not isinstance(value, (int, float, np.generic)) else repr(value)


def _matches(actual: np.ndarray, candidate: Any, rtol: float, atol: float) -> bool:
    try:
        candidate = np.asarray(candidate)
        return actual.shape == candidate.shape and bool(
            np.allclose(actual, candidate, rtol=rtol, atol=atol, equal_nan=True))
    except (TypeError, ValueError):
        return False


def diagnose(actual: Any, mistakes: Mapping[str, Any] | None, rtol: float = 1e-5, atol: float = 1e-7) -> str | None:
    """The name of the first known mistake whose answer ``actual`` matches.

    ``mistakes`` maps a description to either the wrong answer that mistake produces or a
    predicate ``f(actual) -> bool``.
    """
    for name, wrong in (mistakes or {}).items():
        if callable(wrong):
            try:
                if wrong(actual):
                    return name
            except Exception:
                continue
        elif isinstance(actual, np.ndarray) and _matches(actual, wrong, rtol, atol):
            return name
        elif np.isscalar(actual) and np.isscalar(wrong):
            if np.isclose(float(actual), float(wrong), rtol=rtol, atol=atol):
                return name
    return None


def expect_array(actual: Any, call: str, *, shape: tuple | None = None, dtype: Any = None,
                 hint: str | None = None, what: str = "the result") -> np.ndarray:
    """Check that ``actual`` is a NumPy array of the given shape and dtype; return it."""
    if not isinstance(actual, np.ndarray) or type(actual) is not np.ndarray:
        fail(call, got=describe(actual), expected=f"{what} as a NumPy array"
             + (f" of shape {shape}" if shape else ""),
             hint=hint or "return an np.ndarray (np.asarray(...)), not a list, a number or None")
    if shape is not None and actual.shape != tuple(shape):
        fail(call, got=f"shape {actual.shape}", expected=f"shape {tuple(shape)} for {what}",
             hint=hint or "check which axis you reduced or concatenated over")
    if dtype is not None and actual.dtype != np.dtype(dtype):
        fail(call, got=f"dtype {actual.dtype}", expected=f"dtype {np.dtype(dtype)} for {what}",
             hint=hint or f"use .astype(np.{np.dtype(dtype)}) or keep the input's dtype")
    return actual


def expect_close(actual: Any, expected: Any, call: str, *, rtol: float = RTOL, atol: float = ATOL,
                 mistakes: Mapping[str, Any] | None = None, hint: str | None = None,
                 what: str = "the result", check_dtype: bool = False) -> None:
    """Check ``actual`` against ``expected`` (arrays or numbers), naming a known mistake if one matches."""
    expected_arr = np.asarray(expected)
    if isinstance(expected, np.ndarray):
        expect_array(actual, call, shape=expected.shape,
                     dtype=expected.dtype if check_dtype else None, what=what)
    else:
        if isinstance(actual, np.ndarray) and actual.ndim == 0:
            actual = actual[()]
        if not isinstance(actual, (int, float, np.integer, np.floating)) or isinstance(actual, bool):
            fail(call, got=describe(actual), expected=f"{what} as a single number ({expected!r})",
                 hint=hint or "return a Python float or a NumPy scalar (e.g. float(x.mean()))")
    actual_arr = np.asarray(actual)
    if not np.all(np.isfinite(actual_arr)) and np.all(np.isfinite(expected_arr)):
        mistake = diagnose(actual, mistakes, rtol=max(rtol, 1e-5), atol=max(atol, 1e-7))
        fail(call, got=_show(actual), expected=f"{what} finite everywhere:\n    {preview(expected_arr)}",
             mistake=mistake, hint=hint or "a nan or inf came back: look for overflow in exp or log(0)")
    if np.allclose(actual_arr, expected_arr, rtol=rtol, atol=atol):
        return
    mistake = diagnose(actual, mistakes, rtol=max(rtol, 1e-5), atol=max(atol, 1e-7))
    worst = ""
    if actual_arr.shape == expected_arr.shape and actual_arr.size > 1:
        err = np.abs(actual_arr.astype(np.float64) - expected_arr)
        idx = np.unravel_index(np.argmax(err), err.shape)
        worst = f" (largest difference {err[idx]:.3g} at index {tuple(int(i) for i in idx)})"
    fail(call, got=_show(actual) + worst, expected=_show(expected) if isinstance(expected, np.ndarray)
         else repr(expected), mistake=mistake, hint=hint)


def _unlike(actual: Any, template: Any, where: str) -> str | None:
    """Why ``actual`` does not have the form of ``template`` (None when it does)."""
    if isinstance(template, type):
        ok = isinstance(actual, template)
        return None if ok else f"{where} is {describe(actual)}, expected a {template.__name__}"
    if isinstance(template, np.ndarray):
        if type(actual) is not np.ndarray:
            return f"{where} is {describe(actual)}, expected an array of shape {template.shape}"
        return None if actual.shape == template.shape else \
            f"{where} has shape {actual.shape}, expected {template.shape}"
    if isinstance(template, float):
        ok = isinstance(actual, (float, np.floating)) or (type(actual) is np.ndarray and actual.shape == ())
        return None if ok else f"{where} is {describe(actual)}, expected a number"
    if isinstance(template, dict):
        if not isinstance(actual, dict):
            return f"{where} is {describe(actual)}, expected a dict with keys {sorted(template)}"
        missing = sorted(set(template) - set(actual))
        if missing:
            return f"{where} has keys {sorted(actual)}, expected {sorted(template)}"
        return next((r for k in template if (r := _unlike(actual[k], template[k], f"{where}[{k!r}]"))), None)
    if isinstance(template, (tuple, list)):
        if not isinstance(actual, (tuple, list)) or len(actual) != len(template):
            return f"{where} is {describe(actual)}, expected {len(template)} values"
        return next((r for i, t in enumerate(template) if (r := _unlike(actual[i], t, f"{where}[{i}]"))), None)
    return None


def expect_like(actual: Any, template: Any, call: str, what: str = "the result") -> None:
    """Check that ``actual`` has the documented form of ``template``: the same types, keys and shapes.

    In a template, an array stands for an array of its shape, ``0.0`` for any number, a type for any
    instance of it, and dicts, tuples and lists for containers of the same keys or length.
    A check of another property (purity, say) calls this first, so that it counts only for a
    function that really returns something.
    """
    problem = _unlike(actual, template, what)
    if problem:
        fail(call, detail=problem,
             hint="return what the docstring promises; this check counts only for a function that does its job")


def expect_unchanged(before: Any, after: Any, call: str, name: str) -> None:
    """Check that the call left its input ``name`` as it was."""
    if isinstance(before, dict):
        for key in before:
            expect_unchanged(before[key], after[key], call, f"{name}[{key!r}]")
        return
    if not np.array_equal(np.asarray(before), np.asarray(after), equal_nan=True):
        fail(call, detail=f"the input `{name}` was modified by the call",
             mistake="an input modified in place (e.g. `z -= z.max(...)`, `x[x < 0] = 0` or `+=` on an argument)",
             hint="compute into a new array (`z = z - ...`, `np.maximum(x, 0)`) and leave the caller's arrays alone")


def expect_raises(fn: Callable[..., Any], exc_type: type[BaseException], call: str, *args: Any,
                  match: str | None = None, hint: str | None = None, mistake: str | None = None,
                  **kwargs: Any) -> BaseException:
    """Check that ``fn(*args, **kwargs)`` raises ``exc_type`` (and its message mentions ``match``)."""
    raw = getattr(fn, "raw", fn)
    try:
        raw(*args, **kwargs)
    except exc_type as exc:
        if match and match.lower() not in str(exc).lower():
            fail(call, got=f"{type(exc).__name__}: {exc}",
                 expected=f"{exc_type.__name__} whose message mentions {match!r}", hint=hint)
        return exc
    except NotImplementedError as exc:
        api = getattr(fn, "api", None)
        raise CheckError(api._not_implemented(exc, call) if api else
                         f"{call} raised NotImplementedError ({exc}): fill in the stub first") from None
    except Exception as exc:
        fail(call, got=f"{type(exc).__name__}: {exc}", expected=f"{exc_type.__name__}", mistake=mistake, hint=hint)
    fail(call, got="no error", expected=f"{exc_type.__name__}" + (f" mentioning {match!r}" if match else ""),
         mistake=mistake, hint=hint)
    raise AssertionError("unreachable")
