"""Checks for lesson 06: predict, the confusion matrix, precision/recall/F1, the most confused
pairs, the three figures and the Kaggle submission file.

Run them with ``pytest checks/lesson_06``. Each check tests one behaviour; its name says which.
The metrics are compared with scikit-learn's; the figures are inspected, never looked at.
"""

import re

import matplotlib

matplotlib.use("Agg")  # draw off-screen: the checks inspect figures, nobody looks at them

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.metrics import confusion_matrix as sk_confusion_matrix  # noqa: E402
from sklearn.metrics import precision_recall_fscore_support  # noqa: E402

from course.checklib import expect_like, expect, expect_array, expect_close, expect_unchanged  # noqa: E402

# Metrics are ratios of small counts computed in float64: tight.
METRIC_RTOL, METRIC_ATOL = 1e-9, 1e-12
SWAPPED = "rows and columns swapped (rows should be true labels)"
TRUE_IN_TITLE = re.compile(r"true\D*?(\d+)", re.IGNORECASE)  # "true 3 / pred 5" -> 3
PRED_IN_TITLE = re.compile(r"pred\w*\D*?(\d+)", re.IGNORECASE)  # "true 3 / pred 5" -> 5

# --- the checks' own oracle: a few lines of NumPy, independent of any tree -----------------


def _forward(params, x):
    h1 = np.maximum(x @ params["W1"] + params["b1"], 0)
    z2 = h1 @ params["W2"] + params["b2"]
    e = np.exp(z2 - z2.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _small_params(rng, sizes=(6, 5, 3)):
    params = {}
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{k}"] = rng.standard_normal((a, b))
        params[f"b{k}"] = rng.standard_normal(b)
    return params


def _confusion(y_true, y_pred, num_classes):
    flat = np.asarray(y_true, np.int64) * num_classes + np.asarray(y_pred, np.int64)
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def _random_labels(rng, n=300, num_classes=10, absent_true=(7,), never_predicted=(3,)):
    """Labels with some classes missing: 7 is never a true label, 3 is never predicted."""
    present = [c for c in range(num_classes) if c not in absent_true]
    y_true = rng.choice(present, size=n)
    # mostly right, sometimes wrong: a realistic, lopsided confusion matrix
    y_pred = np.where(rng.random(n) < 0.7, y_true, rng.integers(0, num_classes, n))
    for c in never_predicted:
        y_pred = np.where(y_pred == c, (c + 1) % num_classes, y_pred)
    return y_true.astype(np.int64), y_pred.astype(np.int64)


def _labels_of_panels(fig):
    """(true, pred) parsed from the title of every Axes of ``fig`` that shows an image, and the images."""
    panels = [ax for ax in fig.axes if ax.images]
    titles = [ax.get_title() for ax in panels]
    parsed = [(TRUE_IN_TITLE.search(t), PRED_IN_TITLE.search(t)) for t in titles]
    pairs = [(int(a.group(1)), int(b.group(1))) if a and b else None for a, b in parsed]
    return panels, titles, pairs


@pytest.fixture(autouse=True)
def _close_figures():
    """Every check starts and ends with no open figure."""
    plt.close("all")
    yield
    plt.close("all")


def _is_integer_array(a):
    return isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.integer)


# --- predict --------------------------------------------------------------------------------


@pytest.mark.points(1)
def test_predict_returns_one_integer_label_per_image(lesson, rng):
    params, x = _small_params(rng), rng.random((8, 6))
    call = lesson.predict.text(params, x)
    out = lesson.predict(params, x)
    shape = getattr(out, "shape", None)
    mistake = ("the probabilities returned instead of the predicted class (argmax left out)" if shape == (8, 3)
               else "argmax over axis 0 (the batch) instead of axis 1 (the classes of each image)" if shape == (3,)
               else None)
    expect(shape == (8,), call, got=out, expected="shape (8,): one predicted digit per image", mistake=mistake,
           hint="probs has shape (N, C); probs.argmax(axis=1) picks the best class of each row")
    expect_array(out, call, shape=(8,), what="the predicted classes")
    expect(_is_integer_array(out), call, got=f"dtype {out.dtype}", expected="an integer dtype (int64)",
           mistake="probabilities or rounded scores instead of class indices" if out.dtype.kind == "f" else None,
           hint="argmax already returns integers; .astype(np.int64) makes the dtype explicit")


@pytest.mark.points(2)
def test_predict_picks_the_most_likely_class_of_each_image(lesson, rng):
    params, x = _small_params(rng, sizes=(6, 5, 4)), rng.random((20, 6))
    call = lesson.predict.text(params, x)
    out = lesson.predict(params, x)
    probs = _forward(params, x)
    expected = probs.argmax(axis=1)
    expect_array(out, call, shape=(20,), what="the predicted classes")
    expect_close(out, expected, call, rtol=0, atol=0, mistakes={
        "argmin instead of argmax: the least likely class": probs.argmin(axis=1),
        "classes counted from 1 instead of 0": expected + 1,
    }, hint="probs, _ = forward(params, x); return probs.argmax(axis=1): class k is column k")


@pytest.mark.points(1)
def test_predict_leaves_params_and_images_unchanged(lesson, rng):
    params, x = _small_params(rng), rng.random((5, 6)) - 0.5
    before_params = {k: v.copy() for k, v in params.items()}
    before_x = x.copy()
    out = lesson.predict(params, x)
    call = lesson.predict.text(params, x)
    expect_like(out, np.empty(5), call)
    expect_unchanged(before_params, params, call, "params")
    expect_unchanged(before_x, x, call, "x")


# --- confusion_matrix -----------------------------------------------------------------------


@pytest.mark.points(2)
def test_confusion_matrix_matches_a_hand_computed_example(lesson):
    y_true = np.array([0, 0, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 0, 2])
    # row = true label, column = predicted: one 0 read as 1, one 2 read as 0
    expected = np.array([[1, 1, 0],
                         [0, 1, 0],
                         [1, 0, 2]])
    call = lesson.confusion_matrix.text(y_true, y_pred, num_classes=3)
    out = lesson.confusion_matrix(y_true, y_pred, num_classes=3)
    expect_close(out, expected, call, rtol=0, atol=0, mistakes={
        SWAPPED: expected.T,
        "only the diagonal (correct predictions) counted": np.diag(np.diag(expected)),
        "a repeated (true, predicted) pair counted once: cm[y_true, y_pred] += 1 does not add up "
        "repeats (use np.add.at)": (expected > 0).astype(int),
    }, hint="cm[i, j] counts the images whose true label is i and whose prediction is j")


@pytest.mark.points(1)
def test_confusion_matrix_puts_true_labels_in_rows_and_predictions_in_columns(lesson):
    y_true = np.array([1, 1, 1, 1])
    y_pred = np.array([2, 2, 2, 2])
    expected = np.zeros((3, 3), dtype=np.int64)
    expected[1, 2] = 4
    call = lesson.confusion_matrix.text(y_true, y_pred, num_classes=3)
    out = lesson.confusion_matrix(y_true, y_pred, num_classes=3)
    expect_close(out, expected, call, rtol=0, atol=0, mistakes={SWAPPED: expected.T},
                 hint="four images of a 1 all predicted as 2 belong in row 1, column 2: cm[1, 2] == 4")


@pytest.mark.points(1)
def test_confusion_matrix_is_an_integer_c_by_c_matrix_even_for_absent_classes(lesson):
    y_true = np.array([0, 1, 2, 1, 0])
    y_pred = np.array([0, 2, 2, 1, 1])
    call = lesson.confusion_matrix.text(y_true, y_pred, num_classes=10)
    out = lesson.confusion_matrix(y_true, y_pred, num_classes=10)
    shape = getattr(out, "shape", None)
    expect(shape == (10, 10), call, got=out if isinstance(out, np.ndarray) else repr(out),
           expected="shape (10, 10): one row and one column per class, even classes that never occur",
           mistake="the size taken from the labels present (max + 1 or np.unique) instead of num_classes"
           if shape == (3, 3) else None,
           hint="np.zeros((num_classes, num_classes), dtype=np.int64), then count into it")
    expect_array(out, call, shape=(10, 10))
    expect(_is_integer_array(out), call, got=f"dtype {out.dtype}", expected="an integer dtype (int64): counts",
           hint="create the matrix with dtype=np.int64; np.zeros defaults to float64")


@pytest.mark.points(2)
def test_confusion_matrix_matches_sklearn_on_random_labels(lesson, rng):
    y_true, y_pred = _random_labels(rng)
    expected = sk_confusion_matrix(y_true, y_pred, labels=range(10))
    call = lesson.confusion_matrix.text(y_true, y_pred, num_classes=10)
    out = lesson.confusion_matrix(y_true, y_pred, num_classes=10)
    expect_close(out, expected, call, rtol=0, atol=0, mistakes={
        SWAPPED: expected.T,
        "a repeated (true, predicted) pair counted once: cm[y_true, y_pred] += 1 does not add up "
        "repeats (use np.add.at)": (expected > 0).astype(int),
    }, hint="compare with sklearn.metrics.confusion_matrix(y_true, y_pred, labels=range(10))")


@given(st.integers(1, 60), st.integers(2, 6), st.integers(0, 2**31 - 1))
@pytest.mark.points(1)
def test_confusion_matrix_rows_count_true_labels_and_columns_count_predictions(lesson, n, num_classes, seed):
    """Property: row sums count each true label, column sums each prediction, and the total is N."""
    g = np.random.default_rng(seed)
    y_true, y_pred = g.integers(0, num_classes, n), g.integers(0, num_classes, n)
    call = lesson.confusion_matrix.text(y_true, y_pred, num_classes=num_classes)
    out = lesson.confusion_matrix(y_true, y_pred, num_classes=num_classes)
    expect_array(out, call, shape=(num_classes, num_classes))
    expect(int(out.sum()) == n, call, got=out, expected=f"entries adding up to N = {n}: every image counted once",
           mistake="a repeated (true, predicted) pair counted once: cm[y_true, y_pred] += 1 does not add up "
                   "repeats (use np.add.at)" if out.sum() < n else None,
           hint="np.add.at(cm, (y_true, y_pred), 1) adds 1 for every image, repeats included")
    rows, cols = np.bincount(y_true, minlength=num_classes), np.bincount(y_pred, minlength=num_classes)
    expect(np.array_equal(out.sum(axis=1), rows), call, got=f"row sums {out.sum(axis=1)}",
           expected=f"row sums {rows} (how often each class is the true label)",
           mistake=SWAPPED if np.array_equal(out.sum(axis=1), cols) else None,
           hint="row i holds the images whose true label is i")


@pytest.mark.points(1)
def test_confusion_matrix_leaves_the_labels_unchanged(lesson, rng):
    y_true, y_pred = _random_labels(rng, n=50)
    before = {"y_true": y_true.copy(), "y_pred": y_pred.copy()}
    expect_like(lesson.confusion_matrix(y_true, y_pred, num_classes=10), np.empty((10, 10)),
                lesson.confusion_matrix.text(y_true, y_pred, num_classes=10))
    expect_unchanged(before, {"y_true": y_true, "y_pred": y_pred},
                     lesson.confusion_matrix.text(y_true, y_pred, num_classes=10), "labels")


# --- precision_recall_f1 --------------------------------------------------------------------


def _check_metrics(lesson, cm, precision, recall, f1, hint):
    call = lesson.precision_recall_f1.text(cm)
    result = lesson.precision_recall_f1(cm)
    expect(isinstance(result, tuple) and len(result) == 3, call, got=result,
           expected="a tuple (precision, recall, f1)", hint="return precision, recall, f1")
    c = cm.shape[0]
    with np.errstate(all="ignore"):
        arithmetic = (precision + recall) / 2
    one_if_undefined = "1 instead of 0 where a ratio is 0 / 0 (zero_division=0 means 0)"
    for name, got, want, mistakes in (
        ("precision", result[0], precision, {"precision and recall swapped": recall,
                                             one_if_undefined: np.where(cm.sum(axis=0) > 0, precision, 1.0),
                                             "nan where a class is never predicted":
                                                 lambda a: bool(np.any(np.isnan(a)))}),
        ("recall", result[1], recall, {"precision and recall swapped": precision,
                                       one_if_undefined: np.where(cm.sum(axis=1) > 0, recall, 1.0),
                                       "nan where a class never occurs": lambda a: bool(np.any(np.isnan(a)))}),
        ("f1", result[2], f1, {"F1 as the arithmetic mean instead of the harmonic mean": arithmetic,
                               "nan where a class is never predicted": lambda a: bool(np.any(np.isnan(a)))}),
    ):
        expect_array(got, call, shape=(c,), dtype=np.float64, what=name)
        expect_close(got, want, call, rtol=METRIC_RTOL, atol=METRIC_ATOL, what=name, mistakes=mistakes, hint=hint)


@pytest.mark.points(2)
def test_precision_recall_f1_match_a_hand_computed_example(lesson):
    cm = np.array([[5, 1, 0],
                   [2, 3, 1],
                   [0, 0, 4]])
    precision = np.array([5 / 7, 3 / 4, 4 / 5])  # diagonal / column sums (predicted as k)
    recall = np.array([5 / 6, 3 / 6, 4 / 4])  # diagonal / row sums (really k)
    f1 = 2 * precision * recall / (precision + recall)
    _check_metrics(lesson, cm, precision, recall, f1,
                   hint="precision_k = cm[k, k] / cm[:, k].sum() (column: predicted as k); "
                        "recall_k = cm[k, k] / cm[k, :].sum() (row: really k); F1 = 2PR / (P + R)")


@pytest.mark.points(2)
def test_precision_recall_f1_match_sklearn_on_random_labels(lesson, rng):
    y_true, y_pred = _random_labels(rng, absent_true=(), never_predicted=())
    cm = _confusion(y_true, y_pred, 10)
    precision, recall, f1, _ = precision_recall_fscore_support(y_true, y_pred, labels=range(10), zero_division=0)
    _check_metrics(lesson, cm, precision, recall, f1,
                   hint="compare with sklearn.metrics.precision_recall_fscore_support(y_true, y_pred, zero_division=0)")


@pytest.mark.points(2)
def test_precision_recall_f1_are_zero_not_nan_for_classes_never_predicted_or_present(lesson, rng):
    y_true, y_pred = _random_labels(rng, absent_true=(7,), never_predicted=(3,))
    cm = _confusion(y_true, y_pred, 10)
    precision, recall, f1, _ = precision_recall_fscore_support(y_true, y_pred, labels=range(10), zero_division=0)
    with np.errstate(all="ignore"):
        _check_metrics(lesson, cm, precision, recall, f1,
                       hint="class 3 is never predicted (column sum 0) and class 7 never occurs (row sum 0): "
                            "0 / 0 must give 0, e.g. np.divide(tp, predicted, out=np.zeros(C), where=predicted > 0)")


@pytest.mark.points(1)
def test_precision_recall_f1_leaves_the_confusion_matrix_unchanged(lesson, rng):
    cm = _confusion(*_random_labels(rng), 10)
    before = cm.copy()
    with np.errstate(all="ignore"):
        out = lesson.precision_recall_f1(cm)
    expect_like(out, (np.empty(10), np.empty(10), np.empty(10)), lesson.precision_recall_f1.text(cm))
    expect_unchanged(before, cm, lesson.precision_recall_f1.text(cm), "cm")


# --- most_confused_pairs --------------------------------------------------------------------


def _off_diagonal(cm):
    off = cm.copy()
    np.fill_diagonal(off, 0)
    return off


def _as_triples(result, call):
    expect(isinstance(result, (list, tuple)), call, got=result, expected="a list of (true, predicted, count) tuples")
    expect(all(isinstance(t, (tuple, list)) and len(t) == 3 for t in result), call, got=result,
           expected="each item a tuple (true, predicted, count)")
    return [(int(t), int(p), int(c)) for t, p, c in result]


@pytest.mark.points(2)
def test_most_confused_pairs_leaves_out_the_diagonal(lesson):
    cm = np.array([[50, 0, 3],
                   [7, 40, 0],
                   [0, 1, 60]])
    call = lesson.most_confused_pairs.text(cm, k=2)
    pairs = _as_triples(lesson.most_confused_pairs(cm, k=2), call)
    expect(all(t != p for t, p, _ in pairs), call, got=repr(pairs), expected="[(1, 0, 7), (0, 2, 3)]",
           mistake="diagonal included: correct predictions counted as confusions",
           hint="zero the diagonal of a copy first (np.fill_diagonal(off, 0)); a digit is not confused with itself")
    expect(pairs == [(1, 0, 7), (0, 2, 3)], call, got=repr(pairs), expected="[(1, 0, 7), (0, 2, 3)]",
           mistake=SWAPPED if pairs == [(0, 1, 7), (2, 0, 3)] else
           "sorted smallest first" if pairs and pairs[0][2] < pairs[-1][2] else None,
           hint="(true, predicted, count) with true = row and predicted = column, largest count first")


@pytest.mark.points(2)
def test_most_confused_pairs_are_the_largest_mistakes_largest_first(lesson, rng):
    cm = _confusion(*_random_labels(rng, n=2000), 10)
    off = _off_diagonal(cm)
    call = lesson.most_confused_pairs.text(cm, k=6)
    pairs = _as_triples(lesson.most_confused_pairs(cm, k=6), call)
    counts = [c for _, _, c in pairs]
    top = sorted(off.ravel().tolist(), reverse=True)[:6]
    expect(all(t != p for t, p, _ in pairs), call, got=repr(pairs), expected="only pairs with true != predicted",
           mistake="diagonal included: correct predictions counted as confusions",
           hint="zero the diagonal of a copy first (np.fill_diagonal(off, 0))")
    wrong_count = [(t, p, c) for t, p, c in pairs if c != cm[t, p]]
    expect(not wrong_count, call, got=repr(pairs), expected="each count equal to cm[true, predicted]",
           mistake=SWAPPED if all(c == cm[p, t] for t, p, c in pairs) else None,
           hint=f"{wrong_count[:1]}: true is the row index and predicted the column index of the count")
    expect(counts == top, call, got=f"counts {counts}", expected=f"counts {top}: the 6 largest off-diagonal cells",
           mistake="sorted smallest first" if counts == sorted(counts) and counts != top else None,
           hint="sort the off-diagonal cells by count, largest first: np.argsort(-off, axis=None)")


@pytest.mark.points(1)
def test_most_confused_pairs_returns_at_most_k_pairs_with_nonzero_counts(lesson):
    cm = np.array([[9, 2, 0],
                   [0, 8, 0],
                   [1, 0, 7]])
    for k, expected in ((1, [(0, 1, 2)]), (5, [(0, 1, 2), (2, 0, 1)])):
        call = lesson.most_confused_pairs.text(cm, k=k)
        pairs = _as_triples(lesson.most_confused_pairs(cm, k=k), call)
        expect(pairs == expected, call, got=repr(pairs), expected=repr(expected),
               mistake="k ignored" if len(pairs) > k else "pairs with count 0 returned (they are not confusions)"
               if any(c == 0 for _, _, c in pairs) else None,
               hint="keep the first k pairs, and only those that happened at least once")


@pytest.mark.points(1)
def test_most_confused_pairs_leaves_the_confusion_matrix_unchanged(lesson, rng):
    cm = _confusion(*_random_labels(rng), 10)
    before = cm.copy()
    expect_like(lesson.most_confused_pairs(cm, k=3), list, lesson.most_confused_pairs.text(cm, k=3))
    expect_unchanged(before, cm, lesson.most_confused_pairs.text(cm, k=3), "cm")


# --- plot_confusion_matrix ------------------------------------------------------------------


def _figure(fig, call):
    expect(isinstance(fig, Figure), call, got=fig, expected="a matplotlib Figure",
           hint="fig, ax = plt.subplots(); ...; return fig (not ax, not None, and no plt.show())")
    return fig


@pytest.mark.points(1)
def test_plot_confusion_matrix_returns_a_figure_with_a_c_by_c_image(lesson, rng):
    cm = _confusion(*_random_labels(rng, num_classes=4, absent_true=(), never_predicted=()), 4)
    call = lesson.plot_confusion_matrix.text(cm)
    fig = _figure(lesson.plot_confusion_matrix(cm), call)
    images = [im for ax in fig.axes for im in ax.images]
    expect(len(images) > 0, call, got=f"a figure whose axes hold {len(images)} images",
           expected="the matrix drawn as an image", hint="ax.imshow(cm) (or ax.matshow) draws the matrix")
    shape = np.asarray(images[0].get_array()).shape
    expect(shape == (4, 4), call, got=f"an image of shape {shape}", expected="an image of shape (4, 4)",
           hint="draw the confusion matrix itself, one pixel per (true, predicted) cell")


@pytest.mark.points(1)
def test_plot_confusion_matrix_labels_the_axes_true_and_predicted(lesson, rng):
    cm = _confusion(*_random_labels(rng), 10)
    call = lesson.plot_confusion_matrix.text(cm)
    fig = _figure(lesson.plot_confusion_matrix(cm), call)
    ax = next((a for a in fig.axes if a.images), fig.axes[0] if fig.axes else None)
    expect(ax is not None, call, got="a figure without axes", expected="one Axes with the matrix")
    xlabel, ylabel = ax.get_xlabel().lower(), ax.get_ylabel().lower()
    expect("true" in ylabel and "pred" in xlabel, call, got=f"x label {xlabel!r}, y label {ylabel!r}",
           expected="the y axis (rows) labelled with 'true' and the x axis (columns) with 'predicted'",
           mistake=SWAPPED if "true" in xlabel and "pred" in ylabel else None,
           hint='ax.set_ylabel("true label"); ax.set_xlabel("predicted label")')


@pytest.mark.points(1)
def test_plot_confusion_matrix_writes_each_count_in_its_cell(lesson):
    cm = np.array([[11, 2, 0],
                   [5, 13, 1],
                   [0, 7, 17]])
    call = lesson.plot_confusion_matrix.text(cm)
    fig = _figure(lesson.plot_confusion_matrix(cm), call)
    texts = {}
    for ax in fig.axes:
        for t in ax.texts:
            x, y = t.get_position()
            texts[(round(float(y)), round(float(x)))] = t.get_text().strip()
    wrong = [(i, j) for i in range(3) for j in range(3) if texts.get((i, j)) != str(cm[i, j])]
    transposed = all(texts.get((j, i)) == str(cm[i, j]) for i in range(3) for j in range(3))
    expect(not wrong, call, got=f"texts at (row, column): {texts}",
           expected="the count cm[i, j] written at x = j, y = i in every cell",
           mistake="counts written at x = row, y = column: " + SWAPPED if transposed else None,
           hint="for i in rows, for j in columns: ax.text(j, i, str(cm[i, j]), ha='center', va='center')")


@pytest.mark.points(1)
def test_plot_confusion_matrix_draws_into_the_axes_it_is_given(lesson):
    cm = np.array([[3, 1], [0, 4]])
    fig, axes = plt.subplots(1, 2)
    call = lesson.plot_confusion_matrix.text(cm, ax="<Axes>")
    out = lesson.plot_confusion_matrix(cm, ax=axes[1])
    expect(out is fig, call, got=out, expected="the Figure that holds the given Axes (ax.figure)",
           hint="if ax is None: fig, ax = plt.subplots(); else: fig = ax.figure")
    expect(len(axes[1].images) == 1 and not axes[0].images, call,
           got=f"images in the two axes: {len(axes[0].images)}, {len(axes[1].images)}",
           expected="the matrix drawn in the given Axes only", hint="draw with ax.imshow(...), not plt.imshow(...)")


# --- plot_misclassified ---------------------------------------------------------------------


def _gallery_data(rng, n_images=30, wrong=(2, 5, 11, 17, 23)):
    images = rng.random((n_images, 784))
    y_true = np.arange(n_images) % 10
    y_pred = y_true.copy()
    for i, idx in enumerate(wrong):
        y_pred[idx] = (y_true[idx] + 1 + i) % 10  # every mistake a different (true, pred) pair
    return images, y_true, y_pred


@pytest.mark.points(2)
def test_plot_misclassified_shows_only_wrong_predictions_titled_true_and_pred(lesson, rng):
    images, y_true, y_pred = _gallery_data(rng)
    wrong = np.flatnonzero(y_true != y_pred)
    call = lesson.plot_misclassified.text(images, y_true, y_pred, n=16)
    fig = _figure(lesson.plot_misclassified(images, y_true, y_pred, n=16), call)
    panels, titles, pairs = _labels_of_panels(fig)
    expect(None not in pairs and panels, call, got=f"panel titles {titles}",
           expected='each panel titled with its true and predicted label, e.g. "true 3 / pred 5"',
           hint='ax.set_title(f"true {y_true[i]} / pred {y_pred[i]}")')
    expect(all(t != p for t, p in pairs), call, got=f"panel titles {titles}",
           expected="only images whose prediction is wrong",
           mistake="correct predictions shown", hint="select the mistakes first: wrong = np.flatnonzero(y_true != y_pred)")
    want = sorted((int(y_true[i]), int(y_pred[i])) for i in wrong)
    expect(sorted(pairs) == want, call, got=f"panels titled {titles}",
           expected=f"{len(wrong)} panels, one per mistake: (true, pred) = {want}",
           mistake="true and predicted labels swapped in the titles"
           if sorted((p, t) for t, p in pairs) == want else None,
           hint="one panel per wrong prediction (there are fewer than n here), titled with its own labels")


@pytest.mark.points(1)
def test_plot_misclassified_shows_the_image_of_each_mistake(lesson, rng):
    images, y_true, y_pred = _gallery_data(rng)
    call = lesson.plot_misclassified.text(images, y_true, y_pred, n=16)
    fig = _figure(lesson.plot_misclassified(images, y_true, y_pred, n=16), call)
    panels, titles, pairs = _labels_of_panels(fig)
    by_pair = {(int(y_true[i]), int(y_pred[i])): i for i in np.flatnonzero(y_true != y_pred)}
    for ax, title, pair in zip(panels, titles, pairs):
        idx = by_pair.get(pair)
        expect(idx is not None, call, got=f"a panel titled {title!r}", expected=f"only the mistakes {sorted(by_pair)}",
               mistake="correct predictions shown", hint="wrong = np.flatnonzero(y_true != y_pred)")
        shown = np.asarray(ax.images[0].get_array(), dtype=np.float64)
        expect(shown.size == 784 and np.allclose(shown.reshape(-1), images[idx]), call,
               got=f"the panel titled {title!r} shows an image of shape {shown.shape} that is not images[{idx}]",
               expected=f"images[{idx}] reshaped to (28, 28)",
               hint="show images[i].reshape(28, 28) for the index i of the mistake, not the panel's position")


@pytest.mark.points(1)
def test_plot_misclassified_shows_at_most_n_mistakes(lesson, rng):
    images = rng.random((60, 784))
    y_true = rng.integers(0, 10, 60)
    y_pred = np.where(np.arange(60) % 3 == 0, y_true, (y_true + 1) % 10)  # 40 mistakes
    call = lesson.plot_misclassified.text(images, y_true, y_pred, n=6)
    fig = _figure(lesson.plot_misclassified(images, y_true, y_pred, n=6), call)
    panels, titles, pairs = _labels_of_panels(fig)
    expect(len(panels) == 6, call, got=f"{len(panels)} panels showing an image",
           expected="6 panels: n=6 of the 40 mistakes", mistake="n ignored" if len(panels) > 6 else None,
           hint="show wrong[:n], one Axes per mistake")
    expect(all(pair is not None and pair[0] != pair[1] for pair in pairs), call, got=f"titles {titles}",
           expected='mistakes only, titled "true 3 / pred 5"', mistake="correct predictions shown")


# --- plot_history ---------------------------------------------------------------------------


@pytest.mark.points(2)
def test_plot_history_draws_the_batch_loss_epoch_loss_and_validation_accuracy(lesson, rng):
    history = {
        "batch_loss": (2.3 * np.exp(-np.arange(12) / 4) + 0.05 * rng.random(12)).tolist(),
        "epoch_loss": [1.6, 0.7, 0.35],
        "val_accuracy": [0.81, 0.9, 0.93],
        "lr": [0.1, 0.05, 0.0],
    }
    call = lesson.plot_history.text(history)
    fig = _figure(lesson.plot_history(history), call)
    curves = [np.asarray(line.get_ydata(), dtype=np.float64) for ax in fig.axes for line in ax.get_lines()]

    def drawn(values):
        v = np.asarray(values)
        return any(c.shape == v.shape and (np.allclose(c, v) or np.allclose(c, 100 * v)) for c in curves)

    for key, what in (("batch_loss", "the loss of every batch"), ("epoch_loss", "the loss of every epoch"),
                      ("val_accuracy", "the validation accuracy of every epoch")):
        expect(drawn(history[key]), call, got=f"{len(curves)} lines with lengths {[c.size for c in curves]}",
               expected=f"a line whose values are history[{key!r}] ({what}, {len(history[key])} points)",
               hint=f"ax.plot(x, history[{key!r}]); loss and accuracy have different scales, "
                    "so give accuracy its own Axes (plt.subplots(1, 2) or ax.twinx())")


# --- write_kaggle_submission ----------------------------------------------------------------


def _write(lesson, tmp_path, predictions, name="submission.csv"):
    path = tmp_path / name
    call = lesson.write_kaggle_submission.text(str(path), predictions)
    lesson.write_kaggle_submission(path, predictions)
    expect(path.exists(), call, got=f"no file at {path}", expected="a CSV file written at the given path",
           hint="open(path, 'w', newline='') and write to it with the csv module")
    return call, path.read_text().splitlines()


@pytest.mark.points(1)
def test_write_kaggle_submission_starts_with_the_header_image_id_label(lesson, tmp_path):
    call, lines = _write(lesson, tmp_path, np.array([7, 2, 1, 0]))
    first = lines[0] if lines else ""
    expect(first.strip() == "ImageId,Label", call, got=f"first line {first!r}", expected="'ImageId,Label'",
           mistake="no header" if re.fullmatch(r"[\d,.\s]*", first) else "header wrong",
           hint="Kaggle reads the columns by name: write the header row 'ImageId,Label' first, exactly so")


@pytest.mark.points(1)
def test_write_kaggle_submission_numbers_images_from_one(lesson, tmp_path):
    call, lines = _write(lesson, tmp_path, np.array([7, 2, 1, 0, 4]))
    ids = [line.split(",")[0].strip() for line in lines[1:]]
    expect(ids == ["1", "2", "3", "4", "5"], call, got=f"ImageId column {ids}", expected="['1', '2', '3', '4', '5']",
           mistake="ImageId from 0" if ids[:1] == ["0"] else None,
           hint="Kaggle numbers the test images from 1: ImageId = i + 1 (or range(1, N + 1))")


@pytest.mark.points(2)
def test_write_kaggle_submission_writes_one_integer_row_per_prediction(lesson, tmp_path):
    predictions = np.array([3, 0, 9, 9, 1, 4], dtype=np.int64)
    call, lines = _write(lesson, tmp_path, predictions)
    rows = [line.split(",") for line in lines[1:] if line.strip()]
    expect(len(rows) == len(predictions), call, got=f"{len(rows)} rows after the header",
           expected=f"{len(predictions)} rows, one per prediction", hint="write one row per prediction, in order")
    expect(all(len(r) == 2 for r in rows), call, got=f"rows {lines[1:3]} ...", expected="two columns: ImageId,Label",
           mistake="an index column added (pandas' to_csv without index=False)" if rows and len(rows[0]) == 3 else None,
           hint="exactly two values per row: the ImageId and the predicted digit")
    labels = [r[1].strip() for r in rows]
    expect(labels == [str(int(p)) for p in predictions], call, got=f"Label column {labels}",
           expected=f"{[str(int(p)) for p in predictions]}",
           mistake="labels written as floats ('3.0')" if any("." in s for s in labels) else None,
           hint="write integers: predictions.astype(np.int64), or fmt='%d' with np.savetxt")


@pytest.mark.points(1)
def test_write_kaggle_submission_creates_missing_folders_and_returns_the_path(lesson, tmp_path):
    path = tmp_path / "runs" / "kaggle" / "submission.csv"
    predictions = np.array([1, 2])
    call = lesson.write_kaggle_submission.text(str(path), predictions)
    out = lesson.write_kaggle_submission(path, predictions)
    expect(path.exists(), call, got=f"no file at {path}", expected="the file written, its folders created",
           hint="path.parent.mkdir(parents=True, exist_ok=True) before opening the file")
    expect(hasattr(out, "resolve") and out.resolve() == path.resolve(), call, got=out,
           expected=f"the pathlib.Path of the file written ({path})", hint="return Path(path)")


@pytest.mark.points(1)
def test_write_kaggle_submission_leaves_the_predictions_unchanged(lesson, tmp_path):
    predictions = np.array([5, 3, 8])
    before = predictions.copy()
    call, _ = _write(lesson, tmp_path, predictions)
    expect_unchanged(before, predictions, call, "predictions")
