"""Checks for lesson 04: softmax_cross_entropy_backward, dense_backward, relu_backward and backward.

Run them with ``pytest checks/lesson_04``. Each check tests one behaviour; its name says which.
Analytic gradients are compared with the checks' own centred differences in float64 on small
random networks, and with hand-computed cases.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course.checklib import (expect_like, GRAD_REL_TOL, RTOL, ATOL, describe, diagnose, expect, expect_array,
                             expect_close, expect_unchanged, fail, preview)

# Entries of a gradient smaller than this are compared in absolute terms (error / GRAD_FLOOR):
# centred differences in float64 carry about 1e-11 of rounding noise, which would dwarf a true
# gradient of 1e-12 in a relative comparison. Every mistake the checks look for is far larger.
GRAD_FLOOR = 1e-3
# The step of the checks' own centred differences (float64).
H = 1e-5
# Float32 gradients against the float64 oracle: float32 keeps about 7 significant digits.
RTOL_F32_GRAD = 1e-4
ATOL_F32_GRAD = 1e-6

# --- the checks' own oracle: a few lines of NumPy, independent of any tree -----------------


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _forward(params, x):
    """The cache of lesson 02's forward pass, computed in the dtype of the inputs."""
    z1 = x @ params["W1"] + params["b1"]
    h1 = np.maximum(z1, 0)
    z2 = h1 @ params["W2"] + params["b2"]
    return {"x": x, "z1": z1, "h1": h1, "z2": z2, "probs": _softmax(z2)}


def _loss(params, x, y):
    """Mean cross-entropy of the network's softmax outputs, via a stable log-softmax."""
    z2 = np.maximum(x @ params["W1"] + params["b1"], 0) @ params["W2"] + params["b2"]
    m = z2.max(axis=1, keepdims=True)
    log_p = z2 - m - np.log(np.exp(z2 - m).sum(axis=1, keepdims=True))
    return float(-(y * log_p).sum() / len(y))


def _numerical_gradient(f, x, h=H):
    """Centred differences in float64, on a copy of ``x``: the independent witness."""
    x = np.array(x, dtype=np.float64)
    slopes = np.empty(x.size)
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = h
        step = step.reshape(x.shape)
        slopes[i] = (f(x + step) - f(x - step)) / (2 * h)  # f evaluated on fresh arrays
    return slopes.reshape(x.shape)


def _numerical_grads(params, x, y):
    return {k: _numerical_gradient(lambda v, k=k: _loss({**params, k: v}, x, y), params[k]) for k in params}


def _analytic_grads(params, cache, y, scale=None, mask="z1"):
    """The right gradients, and with ``scale`` or ``mask`` changed, the ones classic mistakes give."""
    n = len(y)
    dz2 = (cache["probs"] - y) * (1 / n if scale is None else scale)
    dh1 = dz2 @ params["W2"].T
    masks = {"z1": cache["z1"] > 0, "x": cache["x"] > 0, "dout": dh1 > 0, "none": np.ones_like(dh1, bool)}
    dz1 = dh1 * masks[mask]
    return {"W1": cache["x"].T @ dz1, "b1": dz1.sum(axis=0), "W2": cache["h1"].T @ dz2, "b2": dz2.sum(axis=0)}


def _network(rng, sizes=(5, 4, 3), n=6, dtype=np.float64):
    """Random params, inputs and one-hot labels, with every pre-activation z1 away from ReLU's
    kink at 0 (so that the centred differences never step across it)."""
    while True:
        params = {}
        for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            params[f"W{k}"] = rng.standard_normal((a, b)) * 0.8
            params[f"b{k}"] = rng.standard_normal(b) * 0.3
        x = rng.standard_normal((n, sizes[0]))
        y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
        z1 = x @ params["W1"] + params["b1"]
        if np.abs(z1).min() > 1e-2 and 0 < (z1 > 0).mean() < 1:
            break
    params = {k: v.astype(dtype) for k, v in params.items()}
    return params, x.astype(dtype), y.astype(dtype)


def _rel_errors(a, b):
    return np.abs(a - b) / np.maximum(GRAD_FLOOR, np.abs(a) + np.abs(b))


def _expect_gradient(actual, numerical, call, *, what, mistakes=None, hint=None):
    """Fail unless ``actual`` has the shape of ``numerical`` and agrees with it within GRAD_REL_TOL."""
    if not isinstance(actual, np.ndarray) or actual.shape != numerical.shape:
        fail(call, got=f"{what}: {describe(actual)}",
             expected=f"{what} of shape {numerical.shape}, the shape of what it is the gradient of",
             mistake=diagnose(actual, mistakes), hint=hint)
    err = _rel_errors(actual.astype(np.float64), numerical)
    worst = np.unravel_index(np.argmax(err), err.shape) if np.all(np.isfinite(err)) else ()
    expect(bool(np.all(err <= GRAD_REL_TOL)), call,
           got=f"{what}, relative error {np.max(err):.2e} against the numerical gradient"
               + (f" (worst at index {tuple(int(i) for i in worst)})" if worst else "")
               + f":\n    {preview(actual)}",
           expected=f"{what} equal to the numerical gradient within {GRAD_REL_TOL:g}:\n    {preview(numerical)}",
           mistake=diagnose(actual, mistakes), hint=hint)


def _grads_dict(grads, call, params):
    expect(isinstance(grads, dict), call, got=grads, expected="a dict of gradients {'W1', 'b1', 'W2', 'b2'}",
           hint="return {'W1': dW1, 'b1': db1, 'W2': dW2, 'b2': db2}")
    expect(set(grads) == set(params), call, got=f"keys {sorted(grads)}", expected=f"keys {sorted(params)}",
           hint="name each gradient after its parameter: grads['W1'] is dL/dW1, so that lesson 05 can "
                "update params[k] with grads[k]")
    return grads


def _copy(d):
    return {k: np.array(v, copy=True) for k, v in d.items()}


def _call_backward(lesson, params, cache, y):
    """Call the learner's backward on copies, so that the oracle's arrays stay intact whatever it does."""
    call = lesson.backward.text(params, cache, y)
    grads = lesson.backward(_copy(params), _copy(cache), y.copy())
    return call, _grads_dict(grads, call, params)


MISSING_1_N = "missing 1/N: the loss is the mean over the batch, so every gradient carries a factor 1/N"
TWICE_1_N = "1/N applied twice (dz2 already holds the 1/N; a later .mean or / N divides again)"
WRONG_SIGN = "the gradient has the wrong sign (y - probs instead of probs - y)"
TRANSPOSED_W = "transposed weight gradient (dW = dout.T @ x instead of x.T @ dout)"
DB_WRONG_AXIS = "db summed over the wrong axis (axis=1, over the units, instead of axis=0, over the batch)"
DB_NOT_SUMMED = "db not summed over the batch (db = dout has one row per example)"
MASK_FROM_DOUT = "ReLU mask taken from the wrong tensor (the incoming gradient, dout > 0, instead of z > 0)"
MASK_FROM_X = "ReLU mask taken from the wrong tensor (the input x > 0 instead of the pre-activation z1 > 0)"
NO_MASK = "the ReLU step was skipped (dz1 = dh1 with no mask)"
DB_KEEPDIMS = "db kept as a (1, D_out) row (keepdims=True), but b has shape (D_out,)"
DW_OVER_N = "dW divided by N: 1/N applied twice (dout already holds the 1/N of the mean loss)"

# --- softmax_cross_entropy_backward ---------------------------------------------------------


@pytest.mark.points(2)
def test_softmax_cross_entropy_backward_matches_a_hand_computed_example(lesson):
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    # (probs - y) / N with N = 2: [[-0.3, 0.2, 0.1], [0.1, 0.3, -0.4]] / 2
    expected = np.array([[-0.15, 0.1, 0.05], [0.05, 0.15, -0.2]])
    out = lesson.softmax_cross_entropy_backward(probs, y)
    expect_close(out, expected, lesson.softmax_cross_entropy_backward.text(probs, y), mistakes={
        MISSING_1_N: probs - y,
        WRONG_SIGN: (y - probs) / 2,
        "divided by the number of classes C instead of the batch size N": (probs - y) / 3,
        "divided by N * C (a mean over every entry instead of over the examples)": (probs - y) / 6,
        "probs / N: the one-hot labels were not subtracted": probs / 2,
    }, hint="dz2 = (probs - y_onehot) / N, with N = probs.shape[0] the number of examples")


@pytest.mark.points(2)
def test_softmax_cross_entropy_backward_matches_the_numerical_gradient_of_the_loss(lesson, rng):
    z = rng.standard_normal((6, 4)) * 2
    y = np.eye(4)[rng.integers(0, 4, 6)]
    probs = _softmax(z)

    def mean_cross_entropy(logits):
        return float(-(y * np.log(_softmax(logits))).sum() / len(y))

    numerical = _numerical_gradient(mean_cross_entropy, z)
    call = lesson.softmax_cross_entropy_backward.text(probs, y)
    out = lesson.softmax_cross_entropy_backward(probs, y)
    _expect_gradient(out, numerical, call, what="dz2", mistakes={
        MISSING_1_N: probs - y, WRONG_SIGN: (y - probs) / 6,
        "divided by the number of classes C instead of the batch size N": (probs - y) / 4,
    }, hint="the derivative of the mean cross-entropy of softmax(z) with respect to z is (probs - y) / N")


@given(st.integers(1, 8), st.integers(2, 10), st.integers(0, 2**32 - 1))
@pytest.mark.points(1)
def test_softmax_cross_entropy_backward_rows_sum_to_zero(lesson, n, c, seed):
    """Property: probs and y_onehot both sum to 1 in each row, so each row of dz2 sums to 0 and
    only the true class gets a negative gradient (raising its logit lowers the loss)."""
    gen = np.random.default_rng(seed)
    probs = _softmax(gen.standard_normal((n, c)) * 3)
    labels = gen.integers(0, c, n)
    y = np.eye(c)[labels]
    out = lesson.softmax_cross_entropy_backward(probs, y)
    call = lesson.softmax_cross_entropy_backward.text(probs, y)
    expect_array(out, call, shape=(n, c), what="dz2")
    expect(np.allclose(out.sum(axis=1), 0, atol=1e-12), call, got=f"row sums {out.sum(axis=1)}",
           expected="every row of dz2 summing to 0", hint="dz2 = (probs - y_onehot) / N")
    expect(bool(np.all(out[np.arange(n), labels] < 0)), call, got=out,
           expected="a negative entry at each example's true class",
           mistake=WRONG_SIGN if np.all(out[np.arange(n), labels] > 0) else None)


@pytest.mark.points(1)
def test_softmax_cross_entropy_backward_keeps_float32(lesson, rng):
    probs = _softmax(rng.standard_normal((8, 10))).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 8)]
    out = lesson.softmax_cross_entropy_backward(probs, y)
    call = lesson.softmax_cross_entropy_backward.text(probs, y)
    expect_array(out, call, shape=(8, 10), dtype=np.float32, what="dz2",
                 hint="float32 in, float32 out: divide by the Python int N, and avoid np.float64 constants")
    expect_close(out, (probs.astype(np.float64) - y) / 8, call, rtol=1e-5, atol=1e-7)


@pytest.mark.points(1)
def test_softmax_cross_entropy_backward_does_not_modify_its_inputs(lesson, rng):
    probs = _softmax(rng.standard_normal((5, 4)))
    y = np.eye(4)[rng.integers(0, 4, 5)]
    before = {"probs": probs.copy(), "y_onehot": y.copy()}
    expect_like(lesson.softmax_cross_entropy_backward(probs, y), np.empty((5, 4)),
                lesson.softmax_cross_entropy_backward.text(probs, y))
    expect_unchanged(before, {"probs": probs, "y_onehot": y},
                     lesson.softmax_cross_entropy_backward.text(probs, y), "arguments")


# --- dense_backward -------------------------------------------------------------------------


@pytest.mark.points(2)
def test_dense_backward_returns_dx_dW_db_with_the_shapes_of_x_W_and_b(lesson, rng):
    x, W, dout = rng.standard_normal((6, 5)), rng.standard_normal((5, 3)), rng.standard_normal((6, 3))
    call = lesson.dense_backward.text(dout, x, W)
    result = lesson.dense_backward(dout, x, W)
    expect(isinstance(result, tuple) and len(result) == 3, call, got=result,
           expected="a tuple (dx, dW, db)", hint="return dx, dW, db")
    shapes = [np.shape(g) for g in result]
    expect(not (sorted(shapes) == sorted([x.shape, W.shape, (3,)]) and shapes != [x.shape, W.shape, (3,)]), call,
           got=f"arrays of shapes {shapes}", expected=f"(dx, dW, db) of shapes {[x.shape, W.shape, (3,)]}",
           mistake="the three gradients returned in the wrong order", hint="return dx, dW, db, in this order")
    dx, dW, db = result
    hint_shapes = "each gradient has the shape of what it is the gradient of: dx like x, dW like W, db like b"
    _expect_gradient(dx, dout @ W.T, call, what="dx", hint=hint_shapes + "; dx = dout @ W.T")
    _expect_gradient(dW, x.T @ dout, call, what="dW", mistakes={TRANSPOSED_W: dout.T @ x},
                     hint="dW = x.T @ dout: (D_in, N) @ (N, D_out) -> (D_in, D_out), the shape of W")
    _expect_gradient(db, dout.sum(axis=0), call, what="db", mistakes={
        DB_WRONG_AXIS: dout.sum(axis=1), DB_NOT_SUMMED: dout,
        "db summed over everything (dout.sum() is one number)": lambda a: a.size == 1,
        DB_KEEPDIMS: lambda a: a.shape == (1, 3),
    }, hint="b was added to every row, so its gradient sums dout over the batch: dout.sum(axis=0)")


@pytest.mark.points(2)
def test_dense_backward_matches_a_hand_computed_example(lesson):
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    W = np.array([[1.0, -1.0], [2.0, 0.0]])
    dout = np.array([[1.0, 0.0], [-1.0, 2.0]])
    # dx = dout @ W.T; dW = x.T @ dout = [[1, 3], [2, 4]] @ dout; db = column sums of dout
    want = {"dx": np.array([[1.0, 2.0], [-3.0, -2.0]]),
            "dW": np.array([[-2.0, 6.0], [-2.0, 8.0]]),
            "db": np.array([0.0, 2.0])}
    wrong = {"dx": {"dx = dout @ W instead of dout @ W.T": np.array([[1.0, -1.0], [3.0, 1.0]])},
             "dW": {TRANSPOSED_W: np.array([[-2.0, -2.0], [6.0, 8.0]]),
                    "dW = x @ dout instead of x.T @ dout": np.array([[-1.0, 4.0], [-1.0, 8.0]]),
                    DW_OVER_N: np.array([[-1.0, 3.0], [-1.0, 4.0]])},
             "db": {DB_WRONG_AXIS: np.array([1.0, 1.0]),
                    "db averaged over the batch instead of summed (the 1/N is already in dout)": np.array([0.0, 1.0])}}
    call = lesson.dense_backward.text(dout, x, W)
    result = lesson.dense_backward(dout, x, W)
    expect(isinstance(result, tuple) and len(result) == 3, call, got=result, expected="a tuple (dx, dW, db)")
    for name, got in zip(("dx", "dW", "db"), result):
        expect_close(got, want[name], call, what=name, mistakes=wrong[name],
                     hint="dx = dout @ W.T, dW = x.T @ dout, db = dout.sum(axis=0)")


@pytest.mark.points(3)
def test_dense_backward_matches_numerical_gradients(lesson, rng):
    x, W, b = rng.standard_normal((6, 5)), rng.standard_normal((5, 4)), rng.standard_normal(4)
    dout = rng.standard_normal((6, 4))

    def f(x_, W_, b_):  # a scalar whose gradient with respect to z = x W + b is dout
        return float(((x_ @ W_ + b_) * dout).sum())

    numerical = {"dx": _numerical_gradient(lambda v: f(v, W, b), x),
                 "dW": _numerical_gradient(lambda v: f(x, v, b), W),
                 "db": _numerical_gradient(lambda v: f(x, W, v), b)}
    call = lesson.dense_backward.text(dout, x, W)
    result = lesson.dense_backward(dout, x, W)
    expect(isinstance(result, tuple) and len(result) == 3, call, got=result, expected="a tuple (dx, dW, db)")
    mistakes = {"dx": {}, "dW": {TRANSPOSED_W: dout.T @ x, DW_OVER_N: x.T @ dout / 6},
                "db": {DB_WRONG_AXIS: dout.sum(axis=1), DB_NOT_SUMMED: dout,
                       "db averaged over the batch instead of summed": dout.mean(axis=0)}}
    for name, got in zip(("dx", "dW", "db"), result):
        _expect_gradient(got, numerical[name], call, what=name, mistakes=mistakes[name],
                         hint="z = x W + b, so dL/dx = dout W^T, dL/dW = x^T dout, dL/db = sum of dout over rows")


@pytest.mark.points(1)
def test_dense_backward_keeps_float32(lesson, rng):
    x = rng.random((8, 6), dtype=np.float32)
    W = rng.standard_normal((6, 4)).astype(np.float32)
    dout = rng.standard_normal((8, 4)).astype(np.float32)
    call = lesson.dense_backward.text(dout, x, W)
    result = lesson.dense_backward(dout, x, W)
    expect(isinstance(result, tuple) and len(result) == 3, call, got=result, expected="a tuple (dx, dW, db)")
    for name, got, shape in zip(("dx", "dW", "db"), result, ((8, 6), (6, 4), (4,))):
        expect_array(got, call, shape=shape, dtype=np.float32, what=name,
                     hint="float32 in, float32 out: training computes this 4,690 times in float32")


@pytest.mark.points(1)
def test_dense_backward_does_not_modify_its_inputs(lesson, rng):
    x, W, dout = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal((4, 2))
    before = {"dout": dout.copy(), "x": x.copy(), "W": W.copy()}
    expect_like(lesson.dense_backward(dout, x, W), (np.empty((4, 3)), np.empty((3, 2)), np.empty(2)),
                lesson.dense_backward.text(dout, x, W))
    expect_unchanged(before, {"dout": dout, "x": x, "W": W}, lesson.dense_backward.text(dout, x, W), "arguments")


# --- relu_backward --------------------------------------------------------------------------


@pytest.mark.points(2)
def test_relu_backward_passes_the_gradient_only_where_z_is_positive(lesson):
    z = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]])
    dout = np.array([[1.0, -2.0, 3.0, -4.0, 5.0]])
    out = lesson.relu_backward(dout, z)
    expect_close(out, np.array([[0.0, 0.0, 0.0, -4.0, 5.0]]), lesson.relu_backward.text(dout, z), mistakes={
        MASK_FROM_DOUT: dout * (dout > 0),
        "the mask itself returned instead of dout * mask": (z > 0).astype(float),
        "relu(z) returned instead of its gradient": np.maximum(z, 0),
        "dout * relu(z) instead of dout * (z > 0)": dout * np.maximum(z, 0),
        "the mask z >= 0 lets the gradient through at exactly z = 0 (use z > 0)": dout * (z >= 0),
    }, hint="relu_backward(dout, z) = dout * (z > 0): the gradient flows where the input of ReLU was positive")


@pytest.mark.points(1)
def test_relu_backward_gives_zero_gradient_at_exactly_zero(lesson):
    z = np.array([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
    dout = np.array([[2.0, -3.0, 1.0], [4.0, 5.0, 1.0]])
    out = lesson.relu_backward(dout, z)
    expect_close(out, np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]), lesson.relu_backward.text(dout, z), mistakes={
        "the mask z >= 0 lets the gradient through at exactly z = 0 (use z > 0)": dout * (z >= 0),
    }, hint="ReLU has no derivative at 0; by convention the gradient there is 0, so the mask is z > 0 "
            "(it almost never matters: see the lesson)")


@pytest.mark.points(2)
def test_relu_backward_matches_numerical_gradients(lesson, rng):
    z = rng.standard_normal((5, 4))
    z = np.where(np.abs(z) < 0.05, 0.5, z)  # stay away from the kink at 0
    dout = rng.standard_normal((5, 4))
    numerical = _numerical_gradient(lambda v: float((np.maximum(v, 0) * dout).sum()), z)
    call = lesson.relu_backward.text(dout, z)
    _expect_gradient(lesson.relu_backward(dout, z), numerical, call, what="dz",
                     mistakes={MASK_FROM_DOUT: dout * (dout > 0)},
                     hint="dz = dout * (z > 0)")


@pytest.mark.points(1)
def test_relu_backward_keeps_shape_and_float32(lesson, rng):
    z = rng.standard_normal((8, 16)).astype(np.float32)
    dout = rng.standard_normal((8, 16)).astype(np.float32)
    out = lesson.relu_backward(dout, z)
    call = lesson.relu_backward.text(dout, z)
    expect_array(out, call, shape=(8, 16), dtype=np.float32, what="dz",
                 hint="dout * (z > 0) keeps float32; np.where(z > 0, 1.0, 0.0) makes a float64 mask")
    expect_close(out, dout * (z > 0), call, rtol=RTOL, atol=ATOL)


@pytest.mark.points(1)
def test_relu_backward_does_not_modify_its_inputs(lesson, rng):
    z, dout = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    before = {"dout": dout.copy(), "z": z.copy()}
    expect_like(lesson.relu_backward(dout, z), np.empty((4, 5)), lesson.relu_backward.text(dout, z))
    expect_unchanged(before, {"dout": dout, "z": z}, lesson.relu_backward.text(dout, z), "arguments")


# --- backward -------------------------------------------------------------------------------


def _backward_mistakes(key, params, cache, y):
    """Known wrong answers for grads[key], computed with the oracle."""
    n = len(y)
    right = _analytic_grads(params, cache, y)[key]
    mistakes = {MISSING_1_N: right * n, TWICE_1_N: right / n, WRONG_SIGN: -right}
    if key.startswith("W"):
        mistakes[TRANSPOSED_W] = lambda a: a.shape == right.T.shape != right.shape
    else:
        mistakes[DB_WRONG_AXIS] = lambda a: a.shape == (n,) != right.shape
        mistakes[DB_NOT_SUMMED] = lambda a: a.shape == (n, right.shape[0])
    if key in ("W1", "b1"):
        mistakes[MASK_FROM_DOUT] = _analytic_grads(params, cache, y, mask="dout")[key]
        if cache["x"].shape == cache["z1"].shape:
            mistakes[MASK_FROM_X] = _analytic_grads(params, cache, y, mask="x")[key]
        mistakes[NO_MASK] = _analytic_grads(params, cache, y, mask="none")[key]
    return mistakes


@pytest.mark.points(1)
def test_backward_returns_a_gradient_for_every_parameter_with_its_shape(lesson, rng):
    params, x, y = _network(rng)
    cache = _forward(params, x)
    call, grads = _call_backward(lesson, params, cache, y)
    for key in params:
        expect_array(grads[key], call, what=f"grads[{key!r}]", hint="grads[k] has the shape of params[k]")
        if grads[key].shape != params[key].shape:
            fail(call, got=f"grads[{key!r}] of shape {grads[key].shape}",
                 expected=f"shape {params[key].shape}, the shape of params[{key!r}]",
                 mistake=diagnose(grads[key], _backward_mistakes(key, params, cache, y)),
                 hint="dW = x.T @ dz (inputs, outputs) and db = dz.sum(axis=0) (one per unit)")


@pytest.mark.points(4)
def test_backward_matches_numerical_gradients_on_a_small_network(lesson, rng):
    params, x, y = _network(rng, sizes=(5, 4, 3), n=6)
    cache = _forward(params, x)
    numerical = _numerical_grads(params, x, y)
    call, grads = _call_backward(lesson, params, cache, y)
    for key in ("W2", "b2", "W1", "b1"):  # the order backprop computes them in
        _expect_gradient(grads[key], numerical[key], call, what=f"grads[{key!r}]",
                         mistakes=_backward_mistakes(key, params, cache, y),
                         hint="dz2 = (probs - y) / N; dW2 = h1.T @ dz2; dh1 = dz2 @ W2.T; "
                              "dz1 = dh1 * (z1 > 0); dW1 = x.T @ dz1; each db sums its dz over the batch")


@pytest.mark.points(2)
def test_backward_takes_the_relu_mask_from_the_pre_activation_z1(lesson, rng):
    # Input and hidden layer of the same width, so that a mask taken from x has the right shape.
    params, x, y = _network(rng, sizes=(4, 4, 3), n=6)
    cache = _forward(params, x)
    numerical = _numerical_grads(params, x, y)
    call, grads = _call_backward(lesson, params, cache, y)
    for key in ("W1", "b1"):
        _expect_gradient(grads[key], numerical[key], call, what=f"grads[{key!r}]",
                         mistakes=_backward_mistakes(key, params, cache, y),
                         hint="the hidden layer's gradient passes through ReLU where its input was positive: "
                              "dz1 = relu_backward(dh1, cache['z1'])")


@pytest.mark.points(2)
def test_backward_keeps_the_dtype_of_params_in_float32(lesson, rng):
    params, x, y = _network(rng, sizes=(20, 8, 4), n=16, dtype=np.float32)
    cache = _forward(params, x)
    call, grads = _call_backward(lesson, params, cache, y)
    oracle = _analytic_grads({k: v.astype(np.float64) for k, v in params.items()},
                             {k: v.astype(np.float64) for k, v in cache.items()}, y.astype(np.float64))
    for key in params:
        expect_array(grads[key], call, shape=params[key].shape, dtype=np.float32, what=f"grads[{key!r}]",
                     hint="float32 params and cache should give float32 gradients: a float64 constant or "
                          "array somewhere upcasts them, and lesson 05 would then train in float64")
        expect_close(grads[key], oracle[key], call, rtol=RTOL_F32_GRAD, atol=ATOL_F32_GRAD, what=f"grads[{key!r}]",
                     mistakes=_backward_mistakes(key, params, cache, y))


@pytest.mark.points(2)
def test_backward_does_not_modify_params_cache_or_labels(lesson, rng):
    params, x, y = _network(rng)
    cache = _forward(params, x)
    before = {"params": _copy(params), "cache": _copy(cache), "y_onehot": y.copy()}
    call = lesson.backward.text(params, cache, y)
    grads = lesson.backward(params, cache, y)
    expect_like(grads, {k: np.empty(v.shape) for k, v in params.items()}, call)
    expect(set(cache) == set(before["cache"]), call, got=f"cache keys {sorted(cache)} after the call",
           expected=f"cache keys {sorted(before['cache'])}, as before the call",
           detail="the input `cache` was modified by the call: keys were added or removed",
           mistake="gradients stored into the cache (an input modified in place)",
           hint="keep the gradients in local variables and return them in a new dict")
    expect_unchanged(before["params"], params, call, "params")
    expect_unchanged(before["cache"], cache, call, "cache")
    expect_unchanged(before["y_onehot"], y, call, "y_onehot")


@pytest.mark.points(2)
def test_backward_gives_the_same_answer_when_called_twice(lesson, rng):
    params, x, y = _network(rng)
    cache = _forward(params, x)
    call = lesson.backward.text(params, cache, y)
    first = _grads_dict(lesson.backward(params, cache, y), call, params)
    first = _copy(first)  # in case the second call reuses or changes the first one's arrays
    second = _grads_dict(lesson.backward(params, cache, y), call, params)
    changed = [k for k in params if not np.array_equal(np.asarray(first[k]), np.asarray(second[k]))]
    doubled = [k for k in changed if np.allclose(np.asarray(second[k]), 2 * first[k])]
    expect(not changed, call, detail=f"called twice with the same arguments, it gave a different answer the "
                                     f"second time for {changed}" + (" (twice the first)" if doubled else ""),
           mistake="different answer when called twice: gradients accumulated across calls (into a global, "
                   "a default argument or the cache), the bug of micrograd's PR #102",
           hint="compute every gradient fresh from the cache in each call and return new arrays; "
                "never += into something that outlives the call")
