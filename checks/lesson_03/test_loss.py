"""Checks for lesson 03: cross_entropy, log_softmax, cross_entropy_from_logits and accuracy.

Run them with ``pytest checks/lesson_03``. Each check tests one behaviour; its name says which.
"""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course.checklib import (expect_like, ATOL32, RTOL32, CheckError, expect, expect_array,
                             expect_close, expect_unchanged)

LN2 = float(np.log(2.0))
DEFAULT_EPS = 1e-12  # the default clip of cross_entropy, from the lesson's API

# --- the checks' own oracle: a few lines of NumPy, independent of any tree -----------------


def _one_hot(labels, num_classes, dtype=np.float64):
    return np.eye(num_classes, dtype=dtype)[np.asarray(labels)]


def _log_softmax(z):
    z = np.asarray(z, dtype=np.float64)
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _cross_entropy(probs, y, eps=DEFAULT_EPS):
    p = np.clip(np.asarray(probs, dtype=np.float64), eps, 1.0)
    return float(-np.sum(y * np.log(p)) / p.shape[0])


def _softmax(z):
    return np.exp(_log_softmax(z))


LABELS_AS_INDICES = ("labels not one-hot: y_onehot was used as class indices (e.g. probs[np.arange(N), y]), "
                     "but it is a one-hot (N, C) array")


def _call_with_one_hot(fn, *args):
    """Call ``fn``; if it fails on indexing with the one-hot labels, say which mistake that is."""
    try:
        return fn(*args)
    except CheckError as exc:
        if re.search(r"raised (IndexError|ValueError)", str(exc)):
            exc.add_note(f"  looks like: {LABELS_AS_INDICES}\n"
                         f"  hint: with one-hot targets, -np.sum(y_onehot * np.log(p)) / N needs no indexing")
        raise


# --- cross_entropy --------------------------------------------------------------------------


@pytest.mark.points(2)
def test_cross_entropy_of_a_hand_computed_example_is_log_2(lesson):
    # The true class (1) gets probability 1/2, so the loss is -ln(1/2) = ln 2 = 0.6931.
    probs = np.array([[0.25, 0.5, 0.25]])
    y = np.array([[0.0, 1.0, 0.0]])
    loss = _call_with_one_hot(lesson.cross_entropy, probs, y)
    expect_close(loss, LN2, lesson.cross_entropy.text(probs, y), mistakes={
        "missing minus sign: the log of a probability is negative, the loss must be positive": -LN2,
        "log10 instead of the natural log (np.log10)": float(np.log10(2.0)),
        "log2 instead of the natural log (np.log2)": 1.0,
        "mean over all N*C entries (np.mean of y * log p) instead of a sum over the classes": LN2 / 3,
        "the probability of the true class returned instead of minus its log": 0.5,
    }, hint="loss = -sum over classes of y * np.log(p), averaged over the examples; np.log is the natural log")


@pytest.mark.points(2)
def test_cross_entropy_averages_over_the_batch(lesson):
    probs = np.array([[0.25, 0.5, 0.25], [0.1, 0.1, 0.8], [0.5, 0.25, 0.25], [0.2, 0.6, 0.2]])
    y = _one_hot([1, 2, 0, 1], 3)
    per_example = -np.log([0.5, 0.8, 0.5, 0.6])  # minus the log of each true-class probability
    total = float(per_example.sum())
    loss = _call_with_one_hot(lesson.cross_entropy, probs, y)
    expect_close(loss, total / 4, lesson.cross_entropy.text(probs, y), mistakes={
        "forgetting the mean over the batch: the losses were summed, not averaged over the N examples": total,
        "mean over all N*C entries (np.mean of y * log p) instead of summing over classes, then / N": total / 12,
        "divided by the number of classes C instead of the number of examples N": total / 3,
        "missing minus sign": -total / 4,
    }, hint="sum y * log(p) over the classes of each row, then average over the N rows: "
            "-np.sum(y * np.log(p)) / N", what="the mean loss")


@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(2, 10)),
              elements=st.floats(0.01, 1.0, allow_nan=False)))
@pytest.mark.points(1)
def test_cross_entropy_is_never_negative(lesson, weights):
    """Property: for any probabilities and one-hot targets, the loss is >= 0 and matches the oracle."""
    probs = weights / weights.sum(axis=1, keepdims=True)
    n, c = probs.shape
    y = _one_hot(np.arange(n) % c, c)
    loss = _call_with_one_hot(lesson.cross_entropy, probs, y)
    expected = _cross_entropy(probs, y)
    expect_close(loss, expected, lesson.cross_entropy.text(probs, y), mistakes={
        "missing minus sign: log p <= 0, so -log p >= 0": -expected,
        "forgetting the mean over the batch": expected * n,
    }, hint="every probability is at most 1, so log(p) <= 0 and the loss -log(p) is >= 0")


@pytest.mark.points(2)
def test_cross_entropy_uses_one_hot_labels_not_class_indices(lesson, rng):
    labels = np.array([3, 0, 2, 2, 1])
    y = _one_hot(labels, 4, dtype=np.float32)  # what lesson 01's one_hot gives: float32 rows of 0 and 1
    probs = _softmax(rng.standard_normal((5, 4)))
    loss = _call_with_one_hot(lesson.cross_entropy, probs, y)
    expect_close(loss, _cross_entropy(probs, y), lesson.cross_entropy.text(probs, y), hint="y_onehot has a 1 in the true class's column: -np.sum(y_onehot * np.log(p)) / N picks it out")


@pytest.mark.points(1)
def test_cross_entropy_weights_every_class_by_its_target(lesson):
    # A smoothed target: the sum over classes keeps every term, y_k * log(p_k).
    probs = np.array([[0.2, 0.5, 0.3]])
    y = np.array([[0.1, 0.8, 0.1]])
    expected = float(-(0.1 * np.log(0.2) + 0.8 * np.log(0.5) + 0.1 * np.log(0.3)))
    loss = _call_with_one_hot(lesson.cross_entropy, probs, y)
    expect_close(loss, expected, lesson.cross_entropy.text(probs, y), mistakes={
        "only the class with the largest target used (argmax of y) instead of the sum of y * log p": LN2,
    }, hint="the formula sums y_k * log(p_k) over all classes k; do not pick one class out")


@pytest.mark.points(2)
def test_cross_entropy_clips_a_zero_probability_to_a_large_finite_loss(lesson):
    # Row 0: the true class has probability exactly 0 -> -log(eps) = 27.63, not inf.
    # Row 1: a wrong class has probability 0; with y = 0 there it must cost nothing (0 * log 0 is nan).
    probs = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    with np.errstate(all="ignore"):
        loss = _call_with_one_hot(lesson.cross_entropy, probs, y)
    expected = (-np.log(DEFAULT_EPS) + LN2) / 2
    expect_close(loss, expected, lesson.cross_entropy.text(probs, y), mistakes={
        "no clip: log(0) = -inf makes the loss inf (and 0 * log(0) is nan)": lambda a: not np.isfinite(a),
        "clipped with a fixed value instead of the eps argument (default 1e-12)":
            lambda a: np.isfinite(a) and abs(a - expected) > 0.5,
    }, hint="clip first: np.log(np.clip(probs, eps, 1.0)); a probability of 0 then costs -log(eps)")


@pytest.mark.points(1)
def test_cross_entropy_uses_the_eps_argument(lesson):
    probs = np.array([[1.0, 0.0]])
    y = np.array([[0.0, 1.0]])
    with np.errstate(all="ignore"):
        loss = _call_with_one_hot(lesson.cross_entropy, probs, y, 1e-3)
    expect_close(loss, float(-np.log(1e-3)), lesson.cross_entropy.text(probs, y, eps=1e-3), mistakes={
        "no clip: log(0) = -inf": lambda a: not np.isfinite(a),
        "the eps argument ignored (a fixed clip value)": lambda a: a > 10,
    }, hint="clip to the eps you are given: np.clip(probs, eps, 1.0)")


@pytest.mark.points(1)
def test_cross_entropy_accepts_float32_probabilities(lesson, rng):
    probs = _softmax(rng.standard_normal((64, 10)) * 3).astype(np.float32)
    y = _one_hot(rng.integers(0, 10, 64), 10, dtype=np.float32)
    loss = _call_with_one_hot(lesson.cross_entropy, probs, y)
    expect_close(loss, _cross_entropy(probs, y), lesson.cross_entropy.text(probs, y), rtol=RTOL32, atol=ATOL32,
                 hint="float32 inputs (the training dtype) should work unchanged; return float(loss)")


@pytest.mark.points(1)
def test_cross_entropy_does_not_modify_its_inputs(lesson, rng):
    probs = np.array([[0.0, 0.3, 0.7], [0.6, 0.4, 0.0]])
    y = _one_hot([1, 0], 3)
    before = {"probs": probs.copy(), "y_onehot": y.copy()}
    with np.errstate(all="ignore"):
        out = _call_with_one_hot(lesson.cross_entropy, probs, y)
    expect_like(out, 0.0, lesson.cross_entropy.text(probs, y))
    expect_unchanged(before, {"probs": probs, "y_onehot": y}, lesson.cross_entropy.text(probs, y), "arguments")


# --- log_softmax ----------------------------------------------------------------------------


@pytest.mark.points(1)
def test_log_softmax_matches_hand_computed_values(lesson):
    z = np.log(np.array([[1.0, 2.0, 5.0], [1.0, 1.0, 1.0]]))
    expected = np.log(np.array([[0.125, 0.25, 0.625], [1 / 3, 1 / 3, 1 / 3]]))
    out = lesson.log_softmax(z)
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z)
    expect_close(out, expected, lesson.log_softmax.text(z), mistakes={
        "softmax returned instead of its log": np.exp(expected),
        "the logits returned without subtracting the log-sum-exp": z,
        "the row maximum subtracted inside the exp but not added back to the log-sum-exp": expected + m,
        "log-sum-exp taken over the wrong axis (columns, axis=0, instead of each row)": z - np.log(e.sum(axis=0)),
        "log-sum-exp taken over the whole batch instead of each row": z - np.log(e.sum()),
    }, hint="log_softmax(z) = z - m - log(sum(exp(z - m))) with m = z.max(axis=1, keepdims=True)")


@pytest.mark.points(2)
def test_log_softmax_is_stable_for_logits_of_1000(lesson):
    z = np.array([[1000.0, -1000.0], [-1000.0, -1000.0], [1000.0, 999.0]])
    with np.errstate(all="ignore"):
        out = lesson.log_softmax(z)
    call = lesson.log_softmax.text(z)
    expect_array(out, call, shape=(3, 2))
    expect_close(out, _log_softmax(z), call, mistakes={
        "no max subtraction: log(sum(exp(z))) overflows (exp(1000) = inf) or underflows (exp(-1000) = 0)":
            lambda a: bool(np.isneginf(a[0, 0]) or np.any(np.isposinf(a)) or np.any(np.isnan(a))),
        "log of softmax: exp(-2000) underflows to a probability of 0 and log(0) = -inf":
            lambda a: bool(np.isfinite(a[0, 0]) and np.isneginf(a[0, 1])),
    }, hint="never form exp(z) itself: subtract each row's maximum m, then z - m - log(sum(exp(z - m)))")


@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(2, 12)),
              elements=st.floats(-100, 100, allow_nan=False)))
@pytest.mark.points(1)
def test_log_softmax_rows_logsumexp_to_zero(lesson, z):
    """Property: every entry is <= 0 and exp of each row sums to 1 (its log-sum-exp is 0)."""
    out = lesson.log_softmax(z)
    call = lesson.log_softmax.text(z)
    expect_array(out, call, shape=z.shape)
    lse = np.log(np.exp(out).sum(axis=1))  # stable here: out <= 0 with a 0 in every row
    expect(bool(np.all(out <= 1e-12)), call, got=out, expected="every entry <= 0 (a log of a probability)")
    expect(np.allclose(lse, 0.0, atol=1e-9), call, got=f"log-sum-exp of each row {lse}",
           expected="0 for every row (exp of a row of log-probabilities sums to 1)",
           mistake="log-sum-exp taken over the wrong axis" if np.allclose(np.exp(out).sum(axis=0), 1.0) else None,
           hint="reduce over each row: axis=1, keepdims=True")
    expect_close(out, _log_softmax(z), call, rtol=1e-9, atol=1e-9)


@pytest.mark.points(1)
def test_log_softmax_subtracts_the_maximum_of_each_row_not_of_the_batch(lesson):
    # One row of very large and one of very small logits: a single maximum for the whole batch
    # sends every exp of the second row to 0, and log(0) is -inf.
    z = np.array([[800.0, 799.0], [-800.0, -801.0]])
    with np.errstate(all="ignore"):
        out = lesson.log_softmax(z)
    expect_close(out, _log_softmax(z), lesson.log_softmax.text(z), mistakes={
        "the maximum of the whole batch subtracted (z.max()) instead of each row's maximum":
            lambda a: bool(np.all(np.isfinite(a[0])) and np.any(~np.isfinite(a[1]))),
        "no max subtraction: exp(800) overflows": lambda a: bool(np.any(~np.isfinite(a[0]))),
    }, hint="z.max(axis=1, keepdims=True) is one maximum per row; z.max() is one for the whole batch")


@pytest.mark.points(1)
def test_log_softmax_keeps_shape_and_float32(lesson, rng):
    z = (rng.standard_normal((8, 10)) * 5).astype(np.float32)
    out = lesson.log_softmax(z)
    call = lesson.log_softmax.text(z)
    expect_array(out, call, shape=(8, 10), dtype=np.float32,
                 hint="float32 logits should give float32 log-probabilities (training runs in float32)")
    expect_close(out, _log_softmax(z), call, rtol=RTOL32, atol=1e-5)


@pytest.mark.points(1)
def test_log_softmax_does_not_modify_its_input(lesson, rng):
    z = rng.standard_normal((4, 3)) * 5
    before = z.copy()
    expect_like(lesson.log_softmax(z), np.empty((4, 3)), lesson.log_softmax.text(z))
    expect_unchanged(before, z, lesson.log_softmax.text(z), "logits")


# --- cross_entropy_from_logits --------------------------------------------------------------


@pytest.mark.points(2)
def test_cross_entropy_from_logits_equals_cross_entropy_of_softmax(lesson, rng):
    z = rng.standard_normal((6, 4)) * 2
    y = _one_hot([0, 3, 1, 1, 2, 0], 4)
    loss = _call_with_one_hot(lesson.cross_entropy_from_logits, z, y)
    expected = _cross_entropy(_softmax(z), y)
    expect_close(loss, expected, lesson.cross_entropy_from_logits.text(z, y), rtol=1e-9, atol=1e-12, mistakes={
        "forgetting the mean over the batch: summed over the N examples instead of averaged": expected * 6,
        "missing minus sign": -expected,
        "mean over all N*C entries (np.mean of y * log_softmax) instead of a sum over classes, then / N":
            expected / 4,
        "log10 instead of the natural log": expected / np.log(10),
        "the logits used as log-probabilities (log_softmax left out)": float(-np.sum(y * z) / 6),
    }, hint="-np.sum(y_onehot * log_softmax(logits)) / N: the same number as cross_entropy(softmax(logits), y)")


@pytest.mark.points(2)
def test_cross_entropy_from_logits_is_exact_for_extreme_logits(lesson):
    # softmax([1000, 0]) = [1, exp(-1000)] = [1, 0] in floating point: the true class 1 seems to
    # have probability 0. log_softmax keeps it exact: 0 - (1000 + log(1 + e^-1000)) = -1000.
    z = np.array([[1000.0, 0.0]])
    y = np.array([[0.0, 1.0]])
    with np.errstate(all="ignore"):
        loss = _call_with_one_hot(lesson.cross_entropy_from_logits, z, y)
    expect_close(loss, 1000.0, lesson.cross_entropy_from_logits.text(z, y), mistakes={
        "computed through softmax then log (unstable): exp(-1000) underflows to a probability of 0, "
        "so the loss is inf, or -log(eps) with a clip, instead of 1000":
            lambda a: bool(np.isposinf(a) or 0 < a < 100),
        "no max subtraction: log(sum(exp(z))) overflows (exp(1000) = inf) and the loss is nan":
            lambda a: bool(np.isnan(a)),
    }, hint="use log_softmax (log-sum-exp with the max trick); never take the log of a probability here")


@pytest.mark.points(1)
def test_cross_entropy_from_logits_stays_exact_for_large_float32_logits(lesson):
    # In float32, exp(89) already overflows and exp(-104) underflows to 0.
    z = np.array([[100.0, 0.0, -100.0], [0.0, 100.0, 0.0]], dtype=np.float32)
    y = _one_hot([0, 0], 3, dtype=np.float32)  # losses: about 0 and exactly 100
    with np.errstate(all="ignore"):
        loss = _call_with_one_hot(lesson.cross_entropy_from_logits, z, y)
    expect_close(loss, 50.0, lesson.cross_entropy_from_logits.text(z, y), rtol=RTOL32, atol=ATOL32, mistakes={
        "no max subtraction: exp(100) overflows float32": lambda a: bool(np.isnan(a)),
        "computed through softmax then log: exp(-100) underflows in float32": lambda a: bool(np.isposinf(a) or a < 45),
    }, hint="subtract each row's maximum before exp; float32 overflows at exp(89)")


@pytest.mark.points(1)
def test_cross_entropy_from_logits_does_not_modify_its_inputs(lesson, rng):
    z = rng.standard_normal((5, 3)) * 4
    y = _one_hot([0, 1, 2, 1, 0], 3)
    before = {"logits": z.copy(), "y_onehot": y.copy()}
    out = _call_with_one_hot(lesson.cross_entropy_from_logits, z, y)
    expect_like(out, 0.0, lesson.cross_entropy_from_logits.text(z, y))
    expect_unchanged(before, {"logits": z, "y_onehot": y}, lesson.cross_entropy_from_logits.text(z, y), "arguments")


# --- accuracy -------------------------------------------------------------------------------

# Four examples, four classes: the predicted classes (argmax of each row) are [1, 0, 2, 1] and the
# labels are [1, 0, 2, 3], so three of four are right.
SCORES = np.array([[0.1, 0.6, 0.2, 0.1],
                   [0.7, 0.1, 0.1, 0.1],
                   [0.2, 0.2, 0.5, 0.1],
                   [0.3, 0.4, 0.1, 0.2]])
LABELS = np.array([1, 0, 2, 3])


@pytest.mark.points(2)
def test_accuracy_of_a_hand_computed_example_is_three_quarters(lesson):
    scores, labels = SCORES.copy(), LABELS.copy()
    acc = lesson.accuracy(scores, labels)
    expect_close(acc, 0.75, lesson.accuracy.text(scores, labels), mistakes={
        "integer division (//): 3 // 4 is 0; divide with / or use np.mean": 0.0,
        "count instead of fraction: the number of correct predictions, not divided by N": 3.0,
        "a percentage instead of a fraction in [0, 1]": 75.0,
        "the error rate (fraction wrong) instead of the fraction correct": 0.25,
        "argmax over the wrong axis (axis=0, down the columns, instead of each row)":
            float(np.mean(scores.argmax(axis=0) == labels)),
        "a threshold on the true class's probability (p > 0.5) instead of the argmax": 0.5,
    }, hint="np.mean(scores.argmax(axis=1) == labels): the predicted class is the largest score of each row")


@pytest.mark.points(1)
def test_accuracy_accepts_one_hot_labels(lesson):
    scores, y = SCORES.copy(), _one_hot(LABELS, 4, dtype=np.float32)
    acc = lesson.accuracy(scores, y)
    pred = scores.argmax(axis=1)
    expect_close(acc, 0.75, lesson.accuracy.text(scores, y), mistakes={
        "labels not one-hot: one-hot labels compared with the predicted classes as if they were class indices":
            float(np.mean(pred == y)),
        "integer division (//)": 0.0,
        "count instead of fraction": 3.0,
    }, hint="if labels is 2-D (one-hot, (N, C)), turn it into class indices first: labels.argmax(axis=1)")


@pytest.mark.points(1)
def test_accuracy_breaks_ties_like_argmax(lesson):
    # Row 0 is a tie between classes 0 and 1: np.argmax picks the first, class 0, so label 1 is wrong.
    scores = np.array([[0.4, 0.4, 0.2], [0.3, 0.3, 0.4], [0.5, 0.25, 0.25]])
    labels = np.array([1, 2, 0])
    acc = lesson.accuracy(scores, labels)
    expect_close(acc, 2 / 3, lesson.accuracy.text(scores, labels), mistakes={
        "a tie counted as correct for every tied class (true-class score == row maximum) instead of argmax": 1.0,
        "integer division (//)": 0.0,
        "count instead of fraction": 2.0,
    }, hint="the predicted class is np.argmax of the row; a tie goes to the lowest class index")


@pytest.mark.points(1)
def test_accuracy_is_the_same_for_logits_and_probabilities(lesson, rng):
    logits = rng.standard_normal((50, 10)) * 3
    labels = rng.integers(0, 10, 50).astype(np.uint8)  # lesson 01 loads labels as uint8
    expected = float(np.mean(logits.argmax(axis=1) == labels))
    call = lesson.accuracy.text(logits, labels)
    acc = lesson.accuracy(logits, labels)
    expect_close(acc, expected, call, mistakes={
        "count instead of fraction: the number of correct predictions, not divided by N": expected * 50,
        "a threshold on the true class's score (> 0.5) instead of the argmax":
            float(np.mean(logits[np.arange(50), labels] > 0.5)),
    }, hint="softmax keeps the order of the scores, so the argmax of the logits is the predicted class")
    acc_probs = lesson.accuracy(_softmax(logits), labels)
    expect_close(acc_probs, expected, lesson.accuracy.text(_softmax(logits), labels))


@pytest.mark.points(1)
def test_accuracy_returns_a_fraction_not_a_count(lesson):
    scores = np.eye(8)[[3, 1, 4, 1, 5, 0, 2, 6]]  # every prediction right
    labels = np.array([3, 1, 4, 1, 5, 0, 2, 6])
    acc = lesson.accuracy(scores, labels)
    expect_close(acc, 1.0, lesson.accuracy.text(scores, labels), mistakes={
        "count instead of fraction: the number of correct predictions, not divided by N": 8.0,
        "a percentage instead of a fraction in [0, 1]": 100.0,
    }, hint="accuracy is a fraction in [0, 1]: divide the number correct by N (or use np.mean of the booleans)")


@pytest.mark.points(1)
def test_accuracy_does_not_modify_its_inputs(lesson):
    scores, labels = SCORES.copy(), _one_hot(LABELS, 4)
    before = {"scores": scores.copy(), "labels": labels.copy()}
    expect_like(lesson.accuracy(scores, labels), 0.0, lesson.accuracy.text(scores, labels))
    expect_unchanged(before, {"scores": scores, "labels": labels}, lesson.accuracy.text(scores, labels), "arguments")
