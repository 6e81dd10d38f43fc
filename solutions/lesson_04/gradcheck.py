"""Lesson 04: gradient checking, comparing analytic gradients with finite differences.

Backprop is easy to get almost right. A numerical gradient needs nothing but the loss itself, so
it is the independent witness: if the two agree to many digits, the backward pass is right.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    r"""The gradient of a scalar function by centred differences:
    :math:`\partial f / \partial x_i \approx (f(x + h e_i) - f(x - h e_i)) / 2h`.

    The error of centred differences shrinks like :math:`h^2`; one-sided (forward) differences
    :math:`(f(x + h e_i) - f(x)) / h` only like :math:`h`.

    Args:
        f: a function of ``x`` returning a float (e.g. the loss with every other input fixed).
        x: any shape, float64 for accurate results. It is changed one entry at a time while ``f``
            is evaluated, and every entry is restored exactly before returning.
        h: the step.

    Returns:
        grad: same shape and dtype as ``x``.
    """
    # BEGIN SOLUTION
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):  # every index of x, whatever its number of dimensions
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        x[i] = old  # restore exactly: f and the caller see x unchanged
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad
    # END SOLUTION


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    r"""The largest element-wise relative error between two arrays:
    :math:`\max_i |a_i - b_i| / \max(10^{-8}, |a_i| + |b_i|)`.

    Symmetric in ``a`` and ``b``; 0 for equal arrays; the floor :math:`10^{-8}` keeps two zeros
    from dividing by zero. For float64 gradients, below about 1e-7 means they agree.

    Args:
        a, b: arrays (or numbers) of the same shape.

    Returns:
        A Python float, 0 when the arrays are equal.
    """
    # BEGIN SOLUTION
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
    # END SOLUTION
