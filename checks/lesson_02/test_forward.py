"""Checks for lesson 02: init_params, dense, relu, softmax and forward.

Run them with ``pytest checks/lesson_02``. Each check tests one behaviour; its name says which.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course.checklib import (expect_like, ATOL, ATOL32, RTOL, RTOL32, expect, expect_array, expect_close,
                             expect_unchanged)

# --- the checks' own oracle: a few lines of NumPy, independent of any tree -----------------


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _forward(params, x):
    h1 = np.maximum(x @ params["W1"] + params["b1"], 0)
    return _softmax(h1 @ params["W2"] + params["b2"])


def _small_params(rng, sizes=(6, 5, 3), dtype=np.float64):
    params = {}
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{k}"] = rng.standard_normal((a, b)).astype(dtype)
        params[f"b{k}"] = rng.standard_normal(b).astype(dtype)
    return params


def _copy(params):
    return {k: v.copy() for k, v in params.items()}


# --- init_params ----------------------------------------------------------------------------


@pytest.mark.points(1)
def test_init_params_returns_weights_and_biases_with_the_right_shapes(lesson):
    call = lesson.init_params.text((784, 128, 10), seed=0)
    params = lesson.init_params((784, 128, 10), seed=0)
    expect(isinstance(params, dict), call, got=params, expected="a dict {'W1', 'b1', 'W2', 'b2'}")
    expect(set(params) == {"W1", "b1", "W2", "b2"}, call, got=f"keys {sorted(params)}",
           expected="keys ['W1', 'W2', 'b1', 'b2']",
           hint="name the weights W1, W2 and the biases b1, b2: lesson 04 looks them up by these names")
    for key, shape in {"W1": (784, 128), "b1": (128,), "W2": (128, 10), "b2": (10,)}.items():
        expect_array(params[key], call, shape=shape, what=key,
                     hint="W{k} is (inputs, outputs) so that x @ W works for x of shape (N, inputs); "
                          "a bias has one entry per output" if key.startswith("W") else
                     "a bias is a 1-D array with one entry per output unit, e.g. np.zeros(128)")


@pytest.mark.points(1)
def test_init_params_starts_biases_at_zero(lesson):
    call = lesson.init_params.text((784, 128, 10), seed=1)
    params = lesson.init_params((784, 128, 10), seed=1)
    for key in ("b1", "b2"):
        expect_array(params[key], call, what=key)
        expect(not np.any(params[key]), call, got=params[key], expected=f"{key} all zeros",
               mistake="random biases", hint="He initialisation draws the weights only; biases start at 0")


@pytest.mark.points(2)
def test_init_params_draws_weights_with_he_scale(lesson):
    sizes = (784, 128, 10)
    call = lesson.init_params.text(sizes, seed=2)
    params = lesson.init_params(sizes, seed=2)
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        W = expect_array(params[f"W{k}"], call, shape=(n_in, n_out), what=f"W{k}")
        std, want = float(W.std()), np.sqrt(2.0 / n_in)
        guesses = {
            "standard deviation 1: the weights were not scaled by sqrt(2 / n_in)": 1.0,
            "Xavier/LeCun scale sqrt(1 / n_in) instead of He's sqrt(2 / n_in)": np.sqrt(1.0 / n_in),
            "scaled by the number of outputs, sqrt(2 / n_out), instead of the inputs": np.sqrt(2.0 / n_out),
            "a variance of 2 / n_in used as the standard deviation (missing square root)": 2.0 / n_in,
            "uniform weights in [0, 1) (np.random.rand) instead of a normal distribution": 0.2887,
        }
        mistake = next((name for name, s in guesses.items() if abs(std - s) < 0.06 * s), None)
        expect(abs(std - want) < 0.06 * want and abs(float(W.mean())) < 0.2 * want, call,
               got=f"W{k} with mean {W.mean():.4f} and standard deviation {std:.4f}",
               expected=f"mean about 0 and standard deviation sqrt(2 / {n_in}) = {want:.4f}",
               mistake=mistake, hint="rng.standard_normal((n_in, n_out)) * np.sqrt(2 / n_in)")


@pytest.mark.points(1)
def test_init_params_gives_the_same_weights_for_the_same_seed(lesson):
    call = lesson.init_params.text((20, 8, 3), seed=7)
    a, b = lesson.init_params((20, 8, 3), seed=7), lesson.init_params((20, 8, 3), seed=7)
    c = lesson.init_params((20, 8, 3), seed=8)
    expect_array(a["W1"], call, shape=(20, 8), what="W1")
    expect(np.array_equal(a["W1"], b["W1"]) and np.array_equal(a["W2"], b["W2"]), call,
           detail="called twice with seed=7, it gave different weights",
           mistake="the generator is not seeded (np.random.randn or a global generator)",
           hint="make a generator from the seed: rng = np.random.default_rng(seed)")
    expect(not np.array_equal(a["W1"], c["W1"]), call, detail="seed=7 and seed=8 gave the same weights",
           mistake="the seed argument is ignored", hint="pass `seed` to np.random.default_rng(seed)")


@pytest.mark.points(1)
def test_init_params_uses_the_requested_dtype(lesson):
    for dtype in (np.float32, np.float64):
        call = lesson.init_params.text((10, 4, 3), seed=0, dtype=dtype)
        params = lesson.init_params((10, 4, 3), seed=0, dtype=dtype)
        for key in ("W1", "b1", "W2", "b2"):
            expect_array(params[key], call, dtype=dtype, what=key,
                         hint="cast with .astype(dtype) and create biases with np.zeros(n, dtype=dtype); "
                              "float32 halves memory and makes training about twice as fast")


@pytest.mark.points(1)
def test_init_params_builds_any_number_of_layers(lesson):
    call = lesson.init_params.text((12, 9, 7, 4), seed=0)
    params = lesson.init_params((12, 9, 7, 4), seed=0)
    expect(isinstance(params, dict) and set(params) == {"W1", "b1", "W2", "b2", "W3", "b3"}, call,
           got=f"keys {sorted(params) if isinstance(params, dict) else params}",
           expected="keys W1, b1, W2, b2, W3, b3 (one pair per layer)",
           hint="loop over consecutive pairs of layer_sizes instead of writing two layers by hand")
    expect_array(params["W3"], call, shape=(7, 4), what="W3")


# --- dense ----------------------------------------------------------------------------------


@pytest.mark.points(1)
def test_dense_matches_a_hand_computed_example(lesson):
    x = np.array([[1.0, 2.0], [0.0, -1.0]])
    W = np.array([[1.0, 0.0, 2.0], [3.0, 1.0, -1.0]])
    b = np.array([0.5, 0.0, -1.0])
    # row 0: [1*1 + 2*3, 1*0 + 2*1, 1*2 + 2*-1] + b = [7.5, 2, -1]; row 1: [-3, -1, 1] + b
    expected = np.array([[7.5, 2.0, -1.0], [-2.5, -1.0, 0.0]])
    out = lesson.dense(x, W, b)
    expect_close(out, expected, lesson.dense.text(x, W, b), rtol=RTOL, atol=ATOL, mistakes={
        "the bias was left out": x @ W,
        "the bias was subtracted": x @ W - b,
    }, hint="z = x @ W + b: a matrix product, then the bias added to every row")


@pytest.mark.points(1)
def test_dense_maps_a_batch_to_one_row_per_example(lesson, rng):
    x, W, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    call = lesson.dense.text(x, W, b)
    out = lesson.dense(x, W, b)
    expect_array(out, call, shape=(5, 3), hint="(N, D_in) @ (D_in, D_out) -> (N, D_out): use x @ W, not W @ x or x @ W.T")
    expect_close(out, x @ W + b, call, mistakes={"the bias was left out": x @ W})


@pytest.mark.points(1)
def test_dense_keeps_float32(lesson, rng):
    x = rng.random((4, 6), dtype=np.float32)
    W, b = rng.standard_normal((6, 2)).astype(np.float32), np.zeros(2, np.float32)
    out = lesson.dense(x, W, b)
    expect_array(out, lesson.dense.text(x, W, b), shape=(4, 2), dtype=np.float32,
                 hint="all-float32 inputs should give float32; something mixed in float64 (np.float64 "
                      "constants or arrays made without dtype=)")


@pytest.mark.points(1)
def test_dense_does_not_modify_its_inputs(lesson, rng):
    x, W, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(2)
    before = {"x": x.copy(), "W": W.copy(), "b": b.copy()}
    expect_like(lesson.dense(x, W, b), np.empty((3, 2)), lesson.dense.text(x, W, b))
    expect_unchanged(before, {"x": x, "W": W, "b": b}, lesson.dense.text(x, W, b), "arguments")


# --- relu -----------------------------------------------------------------------------------


@pytest.mark.points(1)
def test_relu_zeroes_negatives_and_keeps_positives(lesson):
    z = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]])
    out = lesson.relu(z)
    expect_close(out, np.array([[0.0, 0.0, 0.0, 0.5, 3.0]]), lesson.relu.text(z), mistakes={
        "absolute value instead of max(z, 0)": np.abs(z),
        "the sign of z (a step function) instead of max(z, 0)": (z > 0).astype(float),
        "min(z, 0) instead of max(z, 0)": np.minimum(z, 0),
    }, hint="np.maximum(z, 0) keeps positive values and replaces negative ones with 0")


@pytest.mark.points(1)
def test_relu_keeps_shape_and_dtype(lesson, rng):
    z = rng.standard_normal((3, 4, 2)).astype(np.float32)
    out = lesson.relu(z)
    call = lesson.relu.text(z)
    expect_array(out, call, shape=z.shape, dtype=np.float32,
                 hint="np.maximum(z, 0) keeps float32; np.maximum(z, 0.0) may too, but avoid np.float64 constants")
    expect_close(out, np.maximum(z, 0), call, rtol=RTOL32, atol=ATOL32)


@pytest.mark.points(1)
def test_relu_does_not_modify_its_input(lesson, rng):
    z = rng.standard_normal((4, 5))
    before = z.copy()
    expect_like(lesson.relu(z), np.empty((4, 5)), lesson.relu.text(z))
    expect_unchanged(before, z, lesson.relu.text(z), "z")


# --- softmax --------------------------------------------------------------------------------


@pytest.mark.points(1)
def test_softmax_matches_hand_computed_values(lesson):
    z = np.log(np.array([[1.0, 2.0, 5.0], [1.0, 1.0, 1.0]]))
    expected = np.array([[0.125, 0.25, 0.625], [1 / 3, 1 / 3, 1 / 3]])
    out = lesson.softmax(z)
    with np.errstate(all="ignore"):
        mistakes = {
            "the exponentials were not normalised (missing the division by their sum)": np.exp(z),
            "the logits were normalised without exponentiating first": z / z.sum(axis=1, keepdims=True),
            "softmax taken over the wrong axis (columns, axis=0, instead of each row)": np.exp(z) / np.exp(z).sum(axis=0),
            "softmax taken over the whole batch instead of each row": np.exp(z) / np.exp(z).sum(),
            }
    expect_close(out, expected, lesson.softmax.text(z), mistakes=mistakes,
                 hint="exp each logit, then divide by the sum of its row: e / e.sum(axis=1, keepdims=True)")


@pytest.mark.points(2)
def test_softmax_normalises_each_row_not_each_column(lesson, rng):
    z = rng.standard_normal((4, 3)) * 2
    out = lesson.softmax(z)
    call = lesson.softmax.text(z)
    e = np.exp(z)
    expect_close(out, _softmax(z), call, mistakes={
        "softmax over the wrong axis (columns, axis=0, instead of each row)": e / e.sum(axis=0, keepdims=True),
        "softmax over the whole batch instead of each row": e / e.sum(),
        "a sum without keepdims=True broadcast against the wrong axis": lambda a: a.shape == z.shape
        and np.allclose(a.sum(axis=0), 1.0) and not np.allclose(a.sum(axis=1), 1.0),
    }, hint="every row is one example: reduce with axis=1 and keepdims=True so (N, C) / (N, 1) broadcasts")


@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(2, 12)),
              elements=st.floats(-50, 50, allow_nan=False)))
@pytest.mark.points(1)
def test_softmax_rows_are_positive_and_sum_to_one(lesson, z):
    """Property: for any logits, every probability is in [0, 1] and every row sums to 1."""
    out = lesson.softmax(z)
    call = lesson.softmax.text(z)
    expect_array(out, call, shape=z.shape)
    sums = out.sum(axis=1)
    expect(bool(np.all(out >= 0) and np.all(out <= 1)), call, got=out, expected="every entry in [0, 1]")
    expect(np.allclose(sums, 1.0, rtol=1e-9, atol=1e-9), call, got=f"row sums {sums}",
           expected="every row summing to 1",
           mistake="softmax normalised over the wrong axis" if np.allclose(out.sum(axis=0), 1.0) else None,
           hint="divide by each row's sum: e.sum(axis=1, keepdims=True)")


@pytest.mark.points(2)
def test_softmax_is_stable_for_logits_of_1000(lesson):
    z = np.array([[1000.0, 1000.0, 990.0], [-1000.0, 0.0, 1000.0]])
    with np.errstate(all="ignore"):
        out = lesson.softmax(z)
    call = lesson.softmax.text(z)
    expect_array(out, call, shape=(2, 3))
    nan = bool(np.any(~np.isfinite(out)))
    expect_close(out, _softmax(z), call, mistakes={
        "no max subtraction: exp(1000) overflows to inf and inf / inf is nan": lambda a: nan,
    }, hint="subtract each row's maximum before exp: z - z.max(axis=1, keepdims=True); the answer is unchanged")


@pytest.mark.points(1)
def test_softmax_subtracts_the_maximum_of_each_row_not_of_the_batch(lesson):
    # One row of very large and one of very small logits: a single max for the whole batch
    # sends every exp of the second row to 0, and 0 / 0 is nan.
    z = np.array([[800.0, 799.0], [-800.0, -801.0]])
    with np.errstate(all="ignore"):
        out = lesson.softmax(z)
    expect_close(out, _softmax(z), lesson.softmax.text(z), mistakes={
        "the maximum of the whole batch subtracted (z.max()) instead of each row's maximum":
            lambda a: bool(np.any(~np.isfinite(a[1]))) and np.all(np.isfinite(a[0])),
        "no max subtraction: exp(800) overflows": lambda a: bool(np.any(~np.isfinite(a[0]))),
    }, hint="z.max(axis=1, keepdims=True) is one maximum per row; z.max() is one for the whole batch")


@pytest.mark.points(1)
def test_softmax_is_unchanged_by_adding_a_constant_to_a_row(lesson, rng):
    z = rng.standard_normal((3, 5))
    shifted = z + np.array([[100.0], [-30.0], [0.5]])
    a, b = lesson.softmax(z), lesson.softmax(shifted)
    expect_close(a, _softmax(z), lesson.softmax.text(z), hint="softmax(z) itself must be right first")
    expect_close(b, a, lesson.softmax.text(shifted), rtol=1e-9, atol=1e-12,
                 hint="softmax(z + c) = softmax(z) for any constant c per row: the exps share a factor e^c")


@pytest.mark.points(1)
def test_softmax_does_not_modify_its_input(lesson, rng):
    z = rng.standard_normal((4, 3)) * 5
    before = z.copy()
    expect_like(lesson.softmax(z), np.empty((4, 3)), lesson.softmax.text(z))
    expect_unchanged(before, z, lesson.softmax.text(z), "z")


@pytest.mark.points(1)
def test_softmax_keeps_float32(lesson, rng):
    z = rng.standard_normal((8, 10)).astype(np.float32)
    out = lesson.softmax(z)
    call = lesson.softmax.text(z)
    expect_array(out, call, shape=(8, 10), dtype=np.float32,
                 hint="float32 logits should give float32 probabilities (training runs in float32)")
    expect_close(out, _softmax(z.astype(np.float64)), call, rtol=RTOL32, atol=ATOL32)


# --- forward --------------------------------------------------------------------------------


@pytest.mark.points(2)
def test_forward_gives_softmax_of_relu_network(lesson, rng):
    params, x = _small_params(rng), rng.random((4, 6))
    call = lesson.forward.text(params, x)
    result = lesson.forward(params, x)
    expect(isinstance(result, tuple) and len(result) == 2, call, got=result,
           expected="a pair (probs, cache)", hint="return probs, cache")
    probs = result[0]
    z1 = x @ params["W1"] + params["b1"]
    z2 = np.maximum(z1, 0) @ params["W2"] + params["b2"]
    expect_close(probs, _forward(params, x), call, mistakes={
        "the logits z2 returned instead of the probabilities (softmax left out)": z2,
        "the ReLU was left out of the hidden layer": _softmax(z1 @ params["W2"] + params["b2"]),
        "softmax applied to the hidden layer instead of ReLU":
            _softmax(_softmax(z1) @ params["W2"] + params["b2"]),
        "ReLU applied to the output logits before softmax": _softmax(np.maximum(z2, 0)),
    }, hint="z1 = dense(x, W1, b1); h1 = relu(z1); z2 = dense(h1, W2, b2); probs = softmax(z2)")


@pytest.mark.points(2)
def test_forward_caches_what_backprop_needs(lesson, rng):
    params, x = _small_params(rng), rng.random((3, 6))
    call = lesson.forward.text(params, x)
    probs, cache = lesson.forward(params, x)
    expect(isinstance(cache, dict), call, got=cache, expected="cache as a dict")
    wanted = {"x": (3, 6), "z1": (3, 5), "h1": (3, 5), "z2": (3, 3), "probs": (3, 3)}
    missing = sorted(set(wanted) - set(cache))
    expect(not missing, call, got=f"cache keys {sorted(cache)}", expected=f"keys {sorted(wanted)}",
           hint=f"add {missing} to the cache: lesson 04's backward reads them by these names")
    z1 = x @ params["W1"] + params["b1"]
    h1 = np.maximum(z1, 0)
    for key, value in {"x": x, "z1": z1, "h1": h1, "z2": h1 @ params["W2"] + params["b2"]}.items():
        expect_close(cache[key], value, call, what=f"cache[{key!r}]", mistakes={
            "cache['z1'] holds the activation h1 (after ReLU) instead of the pre-activation":
                lambda a, k=key: k == "z1" and np.allclose(a, h1),
        }, hint=f"cache[{key!r}] should be exactly the value computed in the forward pass")


@pytest.mark.points(1)
def test_forward_on_all_zero_images_gives_softmax_of_the_biases(lesson, rng):
    params = _small_params(rng)
    x = np.zeros((2, 6))
    probs, _ = lesson.forward(params, x)
    expected = _softmax(np.tile(np.maximum(params["b1"], 0) @ params["W2"] + params["b2"], (2, 1)))
    expect_close(probs, expected, lesson.forward.text(params, x),
                 hint="a blank image has x = 0, so z1 = b1: every blank image gets the same probabilities")


@pytest.mark.points(1)
def test_forward_does_not_modify_params_or_images(lesson, rng):
    params, x = _small_params(rng), rng.random((3, 6)) - 0.5
    before_params, before_x = _copy(params), x.copy()
    out = lesson.forward(params, x)
    call = lesson.forward.text(params, x)
    expect_like(out, (np.empty((3, 3)), dict), call)
    expect_unchanged(before_params, params, call, "params")
    expect_unchanged(before_x, x, call, "x")


@pytest.mark.points(1)
def test_forward_keeps_float32_end_to_end(lesson, rng):
    params = _small_params(rng, sizes=(784, 128, 10), dtype=np.float32)
    x = rng.random((16, 784), dtype=np.float32)
    probs, cache = lesson.forward(params, x)
    call = lesson.forward.text(params, x)
    expect_array(probs, call, shape=(16, 10), dtype=np.float32, what="probs",
                 hint="a float64 constant or array somewhere upcasts everything; float32 is twice as fast to train")
    expect_close(probs, _forward({k: v.astype(np.float64) for k, v in params.items()}, x.astype(np.float64)),
                 call, rtol=1e-4, atol=1e-5)
