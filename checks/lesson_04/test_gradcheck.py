"""Checks for lesson 04: numerical_gradient and rel_error, the gradient checker.

Run them with ``pytest checks/lesson_04``. Each check tests one behaviour; its name says which.
The expected values are derivatives known in closed form.
"""

import numpy as np
import pytest

from course.checklib import expect_like, expect, expect_array, expect_close, expect_unchanged

# numerical_gradient against a known derivative, in float64. With h = 1e-5 centred differences
# of smooth functions of order 1 are good to about 1e-10 (truncation h**2, rounding 1e-16 / h).
NUM_RTOL = 1e-7
NUM_ATOL = 1e-8
# rel_error is a simple formula: its value is compared tightly.
REL_RTOL = 1e-9

FORWARD_DIFF = "forward difference instead of centred: (f(x + h) - f(x)) / h is only accurate to O(h)"
BACKWARD_DIFF = "one-sided (backward) difference instead of centred: (f(x) - f(x - h)) / h is only accurate to O(h)"
OVER_H = "divided by h instead of 2h: the centred difference spans from x - h to x + h"


def _cube(x):
    return float((x ** 3).sum())


# --- numerical_gradient ---------------------------------------------------------------------


@pytest.mark.points(2)
def test_numerical_gradient_of_a_cubic_is_three_x_squared(lesson, rng):
    x = rng.uniform(-2, 2, 6)
    call = lesson.numerical_gradient.text(_cube, x)
    grad = lesson.numerical_gradient(_cube, x.copy())
    h = 1e-5
    expect_close(grad, 3 * x ** 2, call, rtol=NUM_RTOL, atol=NUM_ATOL, mistakes={
        OVER_H: 6 * x ** 2,
        FORWARD_DIFF: 3 * x ** 2 + 3 * x * h + h ** 2,
        BACKWARD_DIFF: 3 * x ** 2 - 3 * x * h + h ** 2,
        "the function value f(x) returned instead of a slope": lambda a: np.allclose(a, _cube(x)),
    }, hint="grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h): d/dx sum(x**3) = 3 x**2")


@pytest.mark.points(2)
def test_numerical_gradient_uses_centred_differences(lesson, rng):
    # With h = 1e-3 the centred difference of x**3 is exactly 3 x**2 + h**2, off by 1e-6;
    # a forward difference is off by 3 x h + h**2, about 3e-3: a thousand times worse.
    x, h = rng.uniform(0.5, 2, 5), 1e-3
    call = lesson.numerical_gradient.text(_cube, x, h=h)
    grad = lesson.numerical_gradient(_cube, x.copy(), h=h)
    expect_close(grad, 3 * x ** 2 + h ** 2, call, rtol=1e-6, atol=1e-9, mistakes={
        FORWARD_DIFF: 3 * x ** 2 + 3 * x * h + h ** 2,
        BACKWARD_DIFF: 3 * x ** 2 - 3 * x * h + h ** 2,
        OVER_H: 2 * (3 * x ** 2 + h ** 2),
    }, hint="evaluate f on both sides: (f(x + h) - f(x - h)) / (2 h); its error shrinks like h**2, "
            "a one-sided difference's only like h")


@pytest.mark.points(1)
def test_numerical_gradient_uses_the_step_h(lesson, rng):
    # For a cubic the centred difference is exactly 3 x**2 + h**2, so h = 0.1 shows in the answer.
    x, h = rng.uniform(-1, 1, 4), 0.1
    call = lesson.numerical_gradient.text(_cube, x, h=h)
    grad = lesson.numerical_gradient(_cube, x.copy(), h=h)
    expect_close(grad, 3 * x ** 2 + h ** 2, call, rtol=1e-9, atol=1e-9, mistakes={
        "the argument h is ignored (a fixed step inside the function)": 3 * x ** 2,
        FORWARD_DIFF: 3 * x ** 2 + 3 * x * h + h ** 2,
    }, hint="use the h you are given, for both the steps and the division by 2 h")


@pytest.mark.points(2)
def test_numerical_gradient_of_a_quadratic_form_is_A_x(lesson, rng):
    A = rng.standard_normal((5, 5))
    A = A + A.T  # symmetric, so the gradient of x.A.x / 2 is A x
    x = rng.standard_normal(5)

    def f(v):
        return float(v @ A @ v / 2)

    call = lesson.numerical_gradient.text(f, x)
    grad = lesson.numerical_gradient(f, x.copy())
    expect_close(grad, A @ x, call, rtol=NUM_RTOL, atol=NUM_ATOL, mistakes={OVER_H: 2 * A @ x},
                 hint="perturb one entry at a time, in both directions, and divide by 2 h")


@pytest.mark.points(2)
def test_numerical_gradient_works_on_a_2d_array(lesson, rng):
    A = rng.standard_normal((3, 3))
    A = A + A.T
    X = rng.standard_normal((3, 4))

    def f(M):  # sum over columns m of m.A.m / 2; its gradient is A @ X
        return float((M * (A @ M)).sum() / 2)

    call = lesson.numerical_gradient.text(f, X)
    grad = lesson.numerical_gradient(f, X.copy())
    expect_array(grad, call, shape=X.shape, what="grad",
                 hint="return an array shaped like x (np.zeros_like(x)), not a flat one")
    expect_close(grad, A @ X, call, rtol=NUM_RTOL, atol=NUM_ATOL, mistakes={
        "whole rows perturbed at once (a loop over range(len(x)) on a 2-D array)":
            lambda a: np.allclose(a, np.repeat((A @ X).sum(axis=1, keepdims=True), 4, axis=1)),
    }, hint="loop over every index of x, whatever its number of dimensions: for i in np.ndindex(x.shape)")


@pytest.mark.points(2)
def test_numerical_gradient_restores_x_exactly(lesson, rng):
    # Values whose last bits do not survive x + h - 2h + h: only putting the saved value back restores them.
    x = rng.standard_normal((3, 4)) * 0.37
    before = x.copy()
    call = lesson.numerical_gradient.text(_cube, x)
    expect_like(lesson.numerical_gradient(_cube, x), np.empty((3, 4)), call)
    changed = int(np.sum(before != x))
    expect(np.array_equal(before, x), call,
           detail=f"after the call, {changed} of the {x.size} entries of x differ from before (largest change "
                  f"{np.max(np.abs(before - x)):.3g})",
           mistake="x not restored" + (" exactly: adding and subtracting h leaves rounding errors in the last bits"
                                       if np.max(np.abs(before - x)) < 1e-9 else " after perturbing it"),
           hint="save old = x[i] before perturbing it and finish with x[i] = old; the caller's parameters "
                "must come back bit for bit")


@pytest.mark.points(1)
def test_numerical_gradient_sees_x_unchanged_between_entries(lesson, rng):
    # f records every x it is called with: each call differs from the original x in one entry only.
    x = rng.standard_normal(4)
    before, seen = x.copy(), []

    def f(v):
        seen.append(v.copy())
        return float((v ** 2).sum())

    call = lesson.numerical_gradient.text(f, x)
    lesson.numerical_gradient(f, x)
    moved = [int(np.sum(v != before)) for v in seen]
    expect(len(seen) >= 2 * x.size and max(moved, default=0) <= 1, call,
           got=f"{len(seen)} calls of f, which saw up to {max(moved, default=0)} entries of x perturbed at once",
           expected=f"2 calls per entry ({2 * x.size}), each with exactly one entry of x perturbed",
           mistake="x not restored between entries" if max(moved, default=0) > 1 else None,
           hint="for each entry: x[i] = old + h, f(x), x[i] = old - h, f(x), then x[i] = old before the next")
    expect_unchanged(before, x, call, "x")


@pytest.mark.points(1)
def test_numerical_gradient_returns_an_array_like_x(lesson, rng):
    x = rng.standard_normal((2, 3))
    grad = lesson.numerical_gradient(_cube, x)
    call = lesson.numerical_gradient.text(_cube, x)
    expect_array(grad, call, shape=(2, 3), dtype=np.float64, what="grad",
                 hint="start from grad = np.zeros_like(x) and fill one entry per perturbation")
    expect(grad is not x, call, detail="returned x itself",
           hint="the gradient is a new array; x is the point where it is taken")


# --- rel_error ------------------------------------------------------------------------------


@pytest.mark.points(2)
def test_rel_error_matches_hand_computed_values(lesson):
    a, b = np.array([1.0, 2.0, -1.0]), np.array([3.0, 2.0, -1.5])
    # entry-wise |a - b| / (|a| + |b|) = [2/4, 0, 0.5/2.5]; the largest is 0.5
    call = lesson.rel_error.text(a, b)
    expect_close(lesson.rel_error(a, b), 0.5, call, rtol=REL_RTOL, mistakes={
        "relative to |a| only (|a - b| / |a|), which is not symmetric": 2.0,
        "relative to max(|a|, |b|) instead of |a| + |b|": 2 / 3,
        "the absolute error |a - b|, not divided by |a| + |b|": 2.0,
        "the mean of the relative errors instead of the largest": (0.5 + 0 + 0.2) / 3,
        "the total |a - b| divided by the total |a| + |b| instead of the largest entry-wise ratio": 2.5 / 11.5,
    }, hint="max over entries of |a - b| / max(1e-8, |a| + |b|)")


@pytest.mark.points(1)
def test_rel_error_takes_the_largest_entry_not_the_mean(lesson):
    a, b = np.ones((2, 3)), np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 3.0]])
    call = lesson.rel_error.text(a, b)
    expect_close(lesson.rel_error(a, b), 0.5, call, rtol=REL_RTOL, mistakes={
        "the mean of the relative errors instead of the largest": 0.5 / 6,
    }, hint="one wrong entry is a bug: rel_error reports the worst one, with np.max")


@pytest.mark.points(1)
def test_rel_error_compares_entries_one_by_one(lesson):
    # A small entry that is off by 100% next to a large one that is right: the error is 1/3.
    a, b = np.array([1e-3, 100.0]), np.array([2e-3, 100.0])
    expect_close(lesson.rel_error(a, b), 1 / 3, lesson.rel_error.text(a, b), rtol=REL_RTOL, mistakes={
        "the largest difference divided by the largest |a| + |b| (whole arrays, not entry by entry)": 1e-3 / 200,
        "the total |a - b| divided by the total |a| + |b| instead of the largest entry-wise ratio": 1e-3 / 200.003,
    }, hint="divide entry by entry, then take the max: np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))")


@pytest.mark.points(1)
def test_rel_error_is_symmetric(lesson, rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    ab, ba = lesson.rel_error(a, b), lesson.rel_error(b, a)
    expect_close(ab, float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))),
                 lesson.rel_error.text(a, b), rtol=REL_RTOL)
    expect_close(ba, ab, lesson.rel_error.text(b, a), rtol=REL_RTOL,
                 hint="rel_error(a, b) must equal rel_error(b, a): divide by |a| + |b|, not by |a|")


@pytest.mark.points(1)
def test_rel_error_is_zero_for_equal_arrays(lesson, rng):
    a = rng.standard_normal((4, 3))
    expect_close(lesson.rel_error(a, a.copy()), 0.0, lesson.rel_error.text(a, a), rtol=0, atol=0,
                 hint="equal arrays have |a - b| = 0 everywhere")


@pytest.mark.points(2)
def test_rel_error_of_two_zero_arrays_is_zero_not_nan(lesson):
    a, b = np.zeros(3), np.zeros(3)
    with np.errstate(all="ignore"):
        err = lesson.rel_error(a, b)
    expect_close(err, 0.0, lesson.rel_error.text(a, b), rtol=0, atol=0, mistakes={
        "division by zero: 0 / (|0| + |0|) is nan; the floor max(1e-8, |a| + |b|) prevents it":
            lambda e: not np.isfinite(e),
    }, hint="divide by np.maximum(1e-8, np.abs(a) + np.abs(b)): gradients that are both exactly 0 agree")


@pytest.mark.points(1)
def test_rel_error_floors_the_denominator_at_1e_minus_8(lesson):
    # Two tiny numbers: 1e-10 apart, both far below the floor, so the error is 1e-10 / 1e-8 = 0.01.
    a, b = np.array([1e-10]), np.array([2e-10])
    with np.errstate(all="ignore"):
        err = lesson.rel_error(a, b)
    expect_close(err, 0.01, lesson.rel_error.text(a, b), rtol=1e-6, mistakes={
        "no floor on the denominator: 1e-10 and 2e-10 count as 33% apart": 1 / 3,
        "a floor added to the denominator (|a| + |b| + 1e-8) instead of max(1e-8, |a| + |b|)": 1e-10 / (1e-8 + 3e-10),
    }, hint="max(1e-8, |a| + |b|): differences between numbers far smaller than 1e-8 are rounding noise")
