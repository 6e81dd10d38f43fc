"""Checks for lesson 05: sgd_update, momentum_update, cosine_lr, train_step and fit.

Run them with ``pytest checks/lesson_05``. Each check tests one behaviour; its name says which.

Training is random (shuffled batches), so most checks of ``fit`` use one of two problems whose
answer does not depend on the batch order, and so can be computed here, independently:

* a *frozen* network (``lr=0``): the weights never change, so each batch's loss depends only on
  which examples it holds, which shows the batch order, repeated batches and the epoch's mean;
* *identical examples*: every mini-batch then has the same mean gradient, whatever the order,
  so ``fit`` must follow the same path as a few lines of gradient descent written here, which
  shows the learning rate used at every step and the momentum.

The remaining checks train a real network on the embedded MNIST subset for one to three epochs.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course.checklib import expect_like, RTOL32, ATOL32, CheckError, expect, expect_array, expect_close, expect_unchanged
from course.paths import EMBEDDED_DATA

# fit in float32 against the checks' float64 gradient descent: about 6 significant digits.
RTOL_PATH = 1e-4
ATOL_PATH = 1e-5

# --- the checks' own oracle: a few lines of NumPy, independent of any tree -----------------


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _one_hot(labels, num_classes=10):
    return np.eye(num_classes)[np.asarray(labels)]


def _probs(params, x):
    h1 = np.maximum(x @ params["W1"] + params["b1"], 0)
    return _softmax(h1 @ params["W2"] + params["b2"])


def _loss(params, x, y_onehot):
    return float(-np.sum(y_onehot * np.log(np.clip(_probs(params, x), 1e-12, 1.0))) / len(x))


def _grads(params, x, y_onehot):
    """The gradient of the mean cross-entropy, by the chain rule (lesson 04), in float64."""
    z1 = x @ params["W1"] + params["b1"]
    h1 = np.maximum(z1, 0)
    dz2 = (_softmax(h1 @ params["W2"] + params["b2"]) - y_onehot) / len(x)
    dz1 = (dz2 @ params["W2"].T) * (z1 > 0)
    return {"W1": x.T @ dz1, "b1": dz1.sum(axis=0), "W2": h1.T @ dz2, "b2": dz2.sum(axis=0)}


def _cosine(step, total, lr_max, lr_min=0.0):
    return lr_min + (lr_max - lr_min) * (1 + math.cos(math.pi * step / total)) / 2


def _params(rng, sizes=(12, 8, 10), dtype=np.float32, scale=1.0):
    params = {}
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{k}"] = (rng.standard_normal((a, b)) * scale * np.sqrt(2 / a)).astype(dtype)
        params[f"b{k}"] = (rng.standard_normal(b) * 0.1).astype(dtype)
    return params


def _f64(params):
    return {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}


def _copy(params):
    return {k: v.copy() for k, v in params.items()}


def _flat(params):
    return np.concatenate([np.asarray(params[k], dtype=np.float64).ravel() for k in sorted(params)])


def _descend(params, x1, label, steps, lr_at, momentum, sign=1.0):
    """Gradient descent on one example (what fit does on a set of identical examples)."""
    p = _f64(params)
    y = _one_hot([label])
    v = {k: np.zeros_like(a) for k, a in p.items()}
    for t in range(steps):
        g = _grads(p, x1[None, :], y)
        v = {k: momentum * v[k] - sign * lr_at(t) * g[k] for k in p}
        p = {k: p[k] + v[k] for k in p}
    return _flat(p)


_DIGITS = {}


def _digits(lessons):
    """The embedded MNIST subset's 6,000 training digits, loaded with lesson 01 of the graded tree."""
    data = lessons(1)
    key = str(data.tree)
    if key not in _DIGITS:
        (images, labels), _ = data.load_mnist(EMBEDDED_DATA)
        _DIGITS[key] = (np.asarray(data.preprocess_images(images), dtype=np.float32), np.asarray(labels))
    return _DIGITS[key]


def _history(result, call):
    expect(isinstance(result, tuple) and len(result) == 2, call, got=result,
           expected="a pair (params, history)", hint="return params, history")
    params, history = result
    expect(isinstance(history, dict), call, got=history, expected="history as a dict of lists",
           hint='history = {"batch_loss": [], "epoch_loss": [], "val_accuracy": [], "lr": []}')
    keys = {"batch_loss", "epoch_loss", "val_accuracy", "lr"}
    expect(keys <= set(history), call, got=f"history keys {sorted(history)}", expected=f"keys {sorted(keys)}",
           hint="lesson 06's plot_history and `course train` read these four lists by name")
    return params, {k: np.asarray(history[k], dtype=np.float64) for k in keys}


def _batches(history_list, per_epoch, epoch):
    return history_list[epoch * per_epoch:(epoch + 1) * per_epoch]


# --- sgd_update -----------------------------------------------------------------------------


@pytest.mark.points(2)
def test_sgd_update_matches_hand_computed_values(lesson):
    params = {"W": np.array([[1.0, 2.0], [3.0, 4.0]]), "b": np.array([0.5, -0.5])}
    grads = {"W": np.array([[10.0, -10.0], [0.0, 5.0]]), "b": np.array([1.0, 2.0])}
    call = lesson.sgd_update.text(params, grads, 0.1)
    new = lesson.sgd_update(params, grads, 0.1)
    expect(isinstance(new, dict) and set(new) == {"W", "b"}, call, got=new,
           expected="a new dict with the same keys as params ('W', 'b')")
    # W - 0.1 * dW = [[1 - 1, 2 + 1], [3 - 0, 4 - 0.5]], b - 0.1 * db = [0.5 - 0.1, -0.5 - 0.2]
    expected = {"W": np.array([[0.0, 3.0], [3.0, 3.5]]), "b": np.array([0.4, -0.7])}
    for key in ("W", "b"):
        p, g = params[key], grads[key]
        expect_close(new[key], expected[key], call, what=f"params[{key!r}]", mistakes={
            "updating with the wrong sign (p + lr * g): that climbs the loss instead of descending": p + 0.1 * g,
            "the learning rate left out (p - g)": p - g,
            "the gradient divided by the learning rate (p - g / lr)": p - g / 0.1,
            "the gradient returned instead of the new parameters": -0.1 * g,
        }, hint="step against the gradient, scaled by the learning rate: p - lr * g")


@pytest.mark.points(1)
def test_sgd_update_does_not_modify_params_or_grads(lesson, rng):
    params, grads = _params(rng, dtype=np.float64), _params(rng, dtype=np.float64)
    before_params, before_grads = _copy(params), _copy(grads)
    call = lesson.sgd_update.text(params, grads, 0.5)
    expect_like(lesson.sgd_update(params, grads, 0.5), {k: np.empty(v.shape) for k, v in params.items()}, call)
    expect_unchanged(before_params, params, call, "params")
    expect_unchanged(before_grads, grads, call, "grads")


@pytest.mark.points(1)
def test_sgd_update_keeps_keys_shapes_and_float32(lesson, rng):
    params, grads = _params(rng, sizes=(784, 128, 10)), _params(rng, sizes=(784, 128, 10))
    call = lesson.sgd_update.text(params, grads, 0.16)
    new = lesson.sgd_update(params, grads, 0.16)
    expect(isinstance(new, dict) and set(new) == set(params), call,
           got=f"keys {sorted(new) if isinstance(new, dict) else new}", expected=f"keys {sorted(params)}",
           hint="build the result with one entry per parameter: {name: ... for name, p in params.items()}")
    for key, p in params.items():
        expect_array(new[key], call, shape=p.shape, dtype=np.float32, what=f"params[{key!r}]",
                     hint="a Python float learning rate keeps float32; np.float64(lr) or a float64 array "
                          "upcasts every weight to float64")
        expect_close(new[key], p.astype(np.float64) - 0.16 * grads[key].astype(np.float64), call,
                     rtol=RTOL32, atol=ATOL32, what=f"params[{key!r}]")


# --- momentum_update ------------------------------------------------------------------------


@pytest.mark.points(2)
def test_momentum_update_matches_hand_computed_values_over_two_steps(lesson):
    p0 = {"w": np.array([1.0, 2.0])}
    g1, g2 = {"w": np.array([0.5, -1.0])}, {"w": np.array([1.0, 1.0])}
    lr, mu = 0.1, 0.9
    call1 = lesson.momentum_update.text(p0, g1, None, lr, momentum=mu)
    result = lesson.momentum_update(p0, g1, None, lr, momentum=mu)
    expect(isinstance(result, tuple) and len(result) == 2, call1, got=result,
           expected="a pair (params, velocity)", hint="return new_params, new_velocity")
    p1, v1 = result
    # step 1 from rest: v1 = -0.1 * [0.5, -1] = [-0.05, 0.1]; p1 = [0.95, 2.1]
    expect_close(p1["w"], np.array([0.95, 2.1]), call1, what="params after step 1", mistakes={
        "updating with the wrong sign (v = mu * v + lr * g, then p + v)": np.array([1.05, 1.9]),
        "the learning rate left out (v = mu * v - g)": np.array([0.5, 3.0]),
    }, hint="from rest (velocity None means zeros): v = -lr * g, then p = p + v")
    expect_close(v1["w"], np.array([-0.05, 0.1]), call1, what="velocity after step 1", mistakes={
        "the velocity kept with the opposite sign (v = mu * v + lr * g, p = p - v); the course's "
        "velocity is v = mu * v - lr * g and p = p + v": np.array([0.05, -0.1]),
        "PyTorch's convention (v = mu * v + g, p = p - lr * v): the course's velocity includes the "
        "learning rate, v = mu * v - lr * g": np.array([0.5, -1.0]),
    }, hint="v = momentum * v - lr * g, with v = 0 before the first step")
    # step 2: v2 = 0.9 * [-0.05, 0.1] - 0.1 * [1, 1] = [-0.145, -0.01]; p2 = [0.805, 2.09]
    call2 = lesson.momentum_update.text(p1, g2, v1, lr, momentum=mu)
    p2, v2 = lesson.momentum_update(p1, g2, v1, lr, momentum=mu)
    expect_close(v2["w"], np.array([-0.145, -0.01]), call2, what="velocity after step 2", mistakes={
        "the previous velocity ignored (momentum never builds up)": np.array([-0.1, -0.1]),
        "the previous velocity not decayed (momentum used as 1)": np.array([-0.15, 0.0]),
        "momentum multiplies the gradient instead of the previous velocity": np.array([-0.09, -0.09]),
    }, hint="v = momentum * v - lr * g: keep 0.9 of the previous velocity and add the new step")
    expect_close(p2["w"], np.array([0.805, 2.09]), call2, what="params after step 2", mistakes={
        "the previous velocity ignored (momentum never builds up)": np.array([0.85, 2.0]),
    }, hint="p = p + v with the new velocity")


@pytest.mark.points(1)
def test_momentum_update_starts_from_zero_velocity_given_none_or_empty(lesson, rng):
    params, grads = _params(rng, dtype=np.float64), _params(rng, dtype=np.float64)
    for velocity in (None, {}):
        call = lesson.momentum_update.text(params, grads, velocity, 0.2, momentum=0.9)
        new, v = lesson.momentum_update(params, grads, velocity, 0.2, momentum=0.9)
        expect(isinstance(v, dict) and set(v) == set(params), call, got=v,
               expected=f"a velocity dict with keys {sorted(params)}",
               hint="create zeros like each parameter when velocity is None or {}: np.zeros_like(p)")
        for key in params:
            expect_close(v[key], -0.2 * grads[key], call, what=f"velocity[{key!r}]",
                         hint="from rest, the first velocity is just -lr * g")
            expect_close(new[key], params[key] - 0.2 * grads[key], call, what=f"params[{key!r}]",
                         hint="from rest, the first momentum step is a plain SGD step")


@pytest.mark.points(1)
def test_momentum_update_does_not_modify_params_grads_or_velocity(lesson, rng):
    params, grads, velocity = (_params(rng, dtype=np.float64) for _ in range(3))
    before = {"params": _copy(params), "grads": _copy(grads), "velocity": _copy(velocity)}
    call = lesson.momentum_update.text(params, grads, velocity, 0.1, momentum=0.9)
    shapes = {k: np.empty(v.shape) for k, v in params.items()}
    expect_like(lesson.momentum_update(params, grads, velocity, 0.1, momentum=0.9), (shapes, shapes), call)
    for name, now in (("params", params), ("grads", grads), ("velocity", velocity)):
        expect_unchanged(before[name], now, call, name)


@pytest.mark.points(1)
def test_momentum_update_keeps_keys_shapes_and_float32(lesson, rng):
    params, grads = _params(rng, sizes=(784, 128, 10)), _params(rng, sizes=(784, 128, 10))
    call = lesson.momentum_update.text(params, grads, None, 0.16, momentum=0.9)
    new, v = lesson.momentum_update(params, grads, None, 0.16, momentum=0.9)
    for what, result in (("params", new), ("velocity", v)):
        expect(isinstance(result, dict) and set(result) == set(params), call,
               got=f"{what} keys {sorted(result) if isinstance(result, dict) else result}",
               expected=f"keys {sorted(params)}")
        for key, p in params.items():
            expect_array(result[key], call, shape=p.shape, dtype=np.float32, what=f"{what}[{key!r}]",
                         hint="np.zeros_like(p) keeps the parameter's dtype; np.zeros(p.shape) is float64")


# --- cosine_lr ------------------------------------------------------------------------------


@pytest.mark.points(2)
def test_cosine_lr_gives_lr_max_at_the_start_the_midpoint_halfway_and_lr_min_at_the_end(lesson):
    for step, want in ((0, 0.1), (50, 0.055), (100, 0.01), (25, 0.01 + 0.09 * (1 + math.cos(math.pi / 4)) / 2)):
        call = lesson.cosine_lr.text(step, 100, 0.1, lr_min=0.01)
        got = lesson.cosine_lr(step, 100, 0.1, lr_min=0.01)
        expect_close(got, want, call, mistakes={
            "the cosine not shifted and halved: lr_max * cos(pi t / T) instead of (1 + cos) / 2":
                0.1 * math.cos(math.pi * step / 100),
            "lr_min ignored": 0.1 * (1 + math.cos(math.pi * step / 100)) / 2,
            "a linear decay instead of a cosine": 0.1 - 0.09 * step / 100,
            "integer division step // total_steps (the progress stays 0 until the very end)":
                0.01 + 0.09 * (1 + math.cos(math.pi * (step // 100))) / 2,
            "cos(t / T) without pi": 0.01 + 0.09 * (1 + math.cos(step / 100)) / 2,
        }, hint="lr_min + (lr_max - lr_min) * (1 + cos(pi * step / total_steps)) / 2")


@given(st.integers(1, 200), st.floats(1e-3, 1.0), st.floats(0.0, 1.0))
@pytest.mark.points(1)
def test_cosine_lr_falls_steadily_from_lr_max_to_lr_min(lesson, total, lr_max, fraction):
    """Property: for any run length, the rate never rises and stays between lr_min and lr_max."""
    lr_min = lr_max * fraction * 0.5
    rates = [lesson.cosine_lr(t, total, lr_max, lr_min) for t in range(total + 1)]
    call = lesson.cosine_lr.text(0, total, lr_max, lr_min)
    expect(all(isinstance(r, (float, np.floating)) for r in rates), call, got=rates[0],
           expected="a float", hint="return float(...)")
    rates = np.array(rates, dtype=np.float64)
    expect(np.isclose(rates[0], lr_max) and np.isclose(rates[-1], lr_min, atol=1e-12), call,
           got=f"{rates[0]!r} at step 0 and {rates[-1]!r} at step {total}",
           expected=f"lr_max = {lr_max!r} at step 0 and lr_min = {lr_min!r} at step {total}")
    expect(bool(np.all(np.diff(rates) <= 1e-12)), call, got=f"rates {rates[:6]} ...",
           expected="a rate that never increases from step 0 to total_steps",
           hint="the progress step / total_steps goes from 0 to 1, so cos(pi * progress) goes from 1 to -1")


# --- train_step -----------------------------------------------------------------------------


@pytest.mark.points(2)
def test_train_step_takes_one_gradient_step_and_returns_the_loss_before_it(lesson, rng):
    params = _params(rng, sizes=(6, 5, 10), dtype=np.float64)
    x, y = rng.random((8, 6)), _one_hot(rng.integers(0, 10, 8))
    call = lesson.train_step.text(params, x, y, 0.5)
    result = lesson.train_step(params, x, y, 0.5)
    expect(isinstance(result, tuple) and len(result) == 3, call, got=result,
           expected="a triple (params, velocity, loss)", hint="return params, velocity, loss")
    new, _, loss = result
    g = _grads(params, x, y)
    stepped = {k: params[k] - 0.5 * g[k] for k in params}
    expect(isinstance(new, dict) and set(new) == set(params), call, got=new, expected=f"params with keys {sorted(params)}")
    expect_close(_flat(new), _flat(stepped), call, what="the new parameters (all, flattened)", mistakes={
        "updating with the wrong sign (p + lr * g)": _flat({k: params[k] + 0.5 * g[k] for k in params}),
        "the parameters returned unchanged (no update)": _flat(params),
    }, hint="forward, cross-entropy, backward (lesson 04), then sgd_update(params, grads, lr)")
    expect_close(loss, _loss(params, x, y), call, what="the loss", mistakes={
        "the loss measured after the update instead of before it": _loss(stepped, x, y),
        "the summed loss instead of the mean over the batch": _loss(params, x, y) * len(x),
    }, hint="the loss of the forward pass that gave the gradient: cross_entropy(probs, yb_onehot)")


@pytest.mark.points(2)
def test_train_step_lowers_the_loss_on_a_fixed_batch(lesson, rng):
    params = _params(rng, sizes=(20, 16, 10), dtype=np.float64)
    x, y = rng.random((32, 20)), _one_hot(rng.integers(0, 10, 32))
    call = lesson.train_step.text(params, x, y, 0.5)
    losses, p = [], params
    for _ in range(60):  # worst ratio over 300 seeds on the reference: 0.52
        p, _, loss = lesson.train_step(p, x, y, 0.5)
        losses.append(float(loss))
    final = _loss(p, x, y)
    expect(final < 0.7 * losses[0], call + " repeated 60 times on the same batch",
           got=f"losses {losses[0]:.3f} (first step), {losses[-1]:.3f} (last step), {final:.3f} (after)",
           expected=f"the loss to fall below 70% of {losses[0]:.3f}",
           mistake="updating with the wrong sign (p + lr * g)" if final > losses[0] else None,
           hint="each step should move the parameters downhill: p - lr * g")


@pytest.mark.points(2)
def test_train_step_uses_momentum_when_asked(lesson, rng):
    params = _params(rng, sizes=(6, 5, 10), dtype=np.float64)
    x, y = rng.random((8, 6)), _one_hot(rng.integers(0, 10, 8))
    lr, mu = 0.3, 0.9
    call1 = lesson.train_step.text(params, x, y, lr, velocity=None, momentum=mu)
    p1, v1, _ = lesson.train_step(params, x, y, lr, velocity=None, momentum=mu)
    expect(isinstance(v1, dict) and set(v1) == set(params), call1, got=v1,
           expected=f"a velocity dict with keys {sorted(params)} (momentum > 0)",
           mistake="momentum ignored: a plain SGD step that returns no velocity" if v1 is None else None,
           hint="with momentum > 0 use momentum_update(params, grads, velocity, lr, momentum)")
    call2 = lesson.train_step.text(p1, x, y, lr, velocity=v1, momentum=mu)
    p2, _, _ = lesson.train_step(p1, x, y, lr, velocity=v1, momentum=mu)
    g0 = _grads(params, x, y)
    w1 = {k: params[k] - lr * g0[k] for k in params}
    g1 = _grads(w1, x, y)
    want = {k: w1[k] + mu * (-lr * g0[k]) - lr * g1[k] for k in params}
    expect_close(_flat(p2), _flat(want), call2, what="the parameters after two steps (flattened)", mistakes={
        "momentum ignored (two plain SGD steps)": _flat({k: w1[k] - lr * g1[k] for k in params}),
    }, hint="pass velocity and momentum on to momentum_update, and return its velocity")


@pytest.mark.points(1)
def test_train_step_does_not_modify_params_or_the_batch(lesson, rng):
    params = _params(rng, sizes=(6, 5, 10), dtype=np.float64)
    x, y = rng.random((8, 6)), _one_hot(rng.integers(0, 10, 8))
    velocity = {k: np.full_like(v, 0.01) for k, v in params.items()}
    before = {"params": _copy(params), "velocity": _copy(velocity), "xb": x.copy(), "yb_onehot": y.copy()}
    call = lesson.train_step.text(params, x, y, 0.1, velocity=velocity, momentum=0.9)
    shapes = {k: np.empty(v.shape) for k, v in params.items()}
    expect_like(lesson.train_step(params, x, y, 0.1, velocity=velocity, momentum=0.9), (shapes, shapes, 0.0), call)
    for name, now in (("params", params), ("velocity", velocity), ("xb", x), ("yb_onehot", y)):
        expect_unchanged(before[name], now, call, name)


# --- fit: a real network on real digits ----------------------------------------------------


@pytest.mark.points(2)
def test_fit_lowers_the_training_loss_on_real_digits(lesson, lessons, rng):
    x_all, y_all = _digits(lessons)
    x, y = x_all[:1000], y_all[:1000]
    params = _params(rng, sizes=(784, 32, 10))
    call = lesson.fit.text(params, x, y, epochs=3, batch_size=64, seed=0)
    _, history = _history(lesson.fit(params, x, y, epochs=3, batch_size=64, seed=0), call)
    losses = history["epoch_loss"]
    expect(losses.shape == (3,) and bool(np.all(np.isfinite(losses))), call, got=f"epoch_loss {losses}",
           expected="three finite numbers, one per epoch",
           hint="append the epoch's mean loss to history['epoch_loss'] after every epoch")
    expect(losses[-1] < 0.6 * losses[0] and losses[1] < losses[0], call,
           got=f"epoch_loss {np.round(losses, 3)}", expected="a loss that falls from epoch to epoch (by 40% over three)",
           mistake="updating with the wrong sign (the loss climbs)" if losses[-1] > losses[0] else None,
           hint="each train_step should move the weights downhill; print history['batch_loss'] to see where it goes wrong")


@pytest.mark.points(3)
def test_fit_reaches_85_percent_validation_accuracy_in_two_epochs_on_5000_digits(lesson, lessons):
    x_all, y_all = _digits(lessons)
    x, y, x_val, y_val = x_all[:5000], y_all[:5000], x_all[5000:], y_all[5000:]
    params = lessons(2).init_params((784, 128, 10), seed=0)
    call = lesson.fit.text(params, x, y, x_val, y_val, epochs=2, seed=0)
    trained, history = _history(lesson.fit(params, x, y, x_val, y_val, epochs=2, seed=0), call)
    accuracy = float(np.mean(_probs(_f64(trained), x_val).argmax(axis=1) == y_val))
    expect(accuracy >= 0.85, call + "  (80 steps of 128 images, lr 0.16, momentum 0.9, cosine)",
           got=f"{accuracy:.1%} of the 1,000 validation digits right (history says {history['val_accuracy']})",
           expected="at least 85% (the reference gets about 93%)",
           mistake="updating with the wrong sign" if history["epoch_loss"].size and
           history["epoch_loss"][-1] > history["epoch_loss"][0] else None,
           hint="check the update rule, the schedule and that every batch is a new one; the other checks "
                "of fit say which part is off")


# --- fit: the history ------------------------------------------------------------------------


@pytest.mark.points(2)
def test_fit_history_has_one_entry_per_step_and_per_epoch(lesson, rng):
    params = _params(rng)
    x, y = rng.random((300, 12), dtype=np.float32), rng.integers(0, 10, 300)
    x_val, y_val = rng.random((40, 12), dtype=np.float32), rng.integers(0, 10, 40)
    call = lesson.fit.text(params, x, y, x_val, y_val, epochs=2, batch_size=64)
    _, history = _history(lesson.fit(params, x, y, x_val, y_val, epochs=2, batch_size=64), call)
    # ceil(300 / 64) = 5 steps per epoch (four of 64, one of 44): 10 steps in 2 epochs
    steps = len(history["batch_loss"])
    expect(steps == 10, call, got=f"{steps} entries in history['batch_loss']",
           expected="10: ceil(300 / 64) = 5 steps per epoch, for 2 epochs", mistake={
               8: "the last partial batch dropped (300 // 64 = 4 steps per epoch)",
               5: "the mini-batch iterator made once, outside the epoch loop: it is used up after the first epoch",
               2: "one loss per epoch recorded in batch_loss instead of one per step",
           }.get(steps), hint="iterate_minibatches keeps the last, smaller batch; call it anew every epoch")
    expect(len(history["lr"]) == 10, call, got=f"{len(history['lr'])} entries in history['lr']",
           expected="10: the learning rate of every step", hint="append the step's lr next to its batch loss")
    for key in ("epoch_loss", "val_accuracy"):
        expect(len(history[key]) == 2, call, got=f"{len(history[key])} entries in history[{key!r}]",
               expected="2: one per epoch", hint=f"append to history[{key!r}] once, after each epoch")
    expect(bool(np.all((history["val_accuracy"] >= 0) & (history["val_accuracy"] <= 1))), call,
           got=f"val_accuracy {history['val_accuracy']}", expected="fractions in [0, 1]",
           mistake="a percentage instead of a fraction" if np.any(history["val_accuracy"] > 1) else None)


@pytest.mark.points(1)
def test_fit_without_validation_data_leaves_val_accuracy_empty(lesson, rng):
    params = _params(rng)
    x, y = rng.random((50, 12), dtype=np.float32), rng.integers(0, 10, 50)
    call = lesson.fit.text(params, x, y, epochs=2, batch_size=25)
    _, history = _history(lesson.fit(params, x, y, epochs=2, batch_size=25), call)
    expect(len(history["val_accuracy"]) == 0 and len(history["epoch_loss"]) == 2, call,
           got=f"val_accuracy {history['val_accuracy']}, epoch_loss {history['epoch_loss']}",
           expected="no validation accuracy (x_val is None) and two epoch losses",
           hint="measure validation accuracy only when x_val is not None")


@pytest.mark.points(2)
def test_fit_records_the_mean_loss_of_each_epoch_and_the_validation_accuracy(lesson, rng):
    # lr = 0 freezes the network: the epoch's mean loss is the loss of the whole set, in any order.
    params = _params(rng, scale=3.0)
    x, y = rng.random((120, 12), dtype=np.float32), rng.integers(0, 10, 120)
    x_val, y_val = rng.random((50, 12), dtype=np.float32), rng.integers(0, 10, 50)
    kwargs = dict(epochs=2, batch_size=40, lr=0.0, momentum=0.0, schedule=None, seed=3)
    call = lesson.fit.text(params, x, y, x_val, y_val, **kwargs)
    _, history = _history(lesson.fit(params, x, y, x_val, y_val, **kwargs), call)
    p = _f64(params)
    full = _loss(p, x.astype(np.float64), _one_hot(y))
    expect(len(history["epoch_loss"]) == 2, call, got=history["epoch_loss"], expected="two epoch losses")
    expect_close(history["epoch_loss"], np.array([full, full]), call, rtol=1e-4, atol=1e-6,
                 what="history['epoch_loss'] of a network frozen by lr=0", mistakes={
                     "the sum of the batch losses instead of their mean": np.array([3 * full, 3 * full]),
                     "the last batch's loss instead of the epoch's mean": lambda a: np.allclose(
                         a, history["batch_loss"][[2, 5]], rtol=1e-6) if len(history["batch_loss"]) == 6 else False,
                 }, hint="the epoch loss is the mean of the batch losses, weighted by batch size")
    val = float(np.mean(_probs(p, x_val.astype(np.float64)).argmax(axis=1) == y_val))
    train = float(np.mean(_probs(p, x.astype(np.float64)).argmax(axis=1) == y))
    expect_close(history["val_accuracy"], np.array([val, val]), call, rtol=1e-6, atol=1e-9,
                 what="history['val_accuracy']", mistakes={
                     "accuracy measured on the training set instead of the validation set": np.array([train, train]),
                     "a percentage instead of a fraction": np.array([100 * val, 100 * val]),
                 }, hint="after each epoch: accuracy(forward(params, x_val)[0], y_val), a fraction")


# --- fit: batches and randomness -------------------------------------------------------------


@pytest.mark.points(2)
def test_fit_uses_a_new_mini_batch_at_every_step(lesson, lessons, rng):
    # Frozen network (lr = 0): every batch loss is the mean loss of the examples in that batch.
    x_all, y_all = _digits(lessons)
    x, y = x_all[:256], y_all[:256]
    params = _params(rng, sizes=(784, 16, 10), scale=2.0)
    kwargs = dict(epochs=1, batch_size=32, lr=0.0, momentum=0.0, schedule=None, seed=0)
    call = lesson.fit.text(params, x, y, **kwargs)
    _, history = _history(lesson.fit(params, x, y, **kwargs), call)
    losses = history["batch_loss"]
    expect(losses.shape == (8,), call, got=f"{losses.size} batch losses", expected="8 (256 images / 32)")
    distinct = np.unique(np.round(losses, 6)).size
    expect(distinct > 1, call, got=f"the same batch loss {losses[0]:.6f} at all 8 steps of a frozen network",
           expected="8 different batches, so 8 different losses",
           mistake="reusing one batch: the same mini-batch at every step",
           hint="take each step's batch from `for xb, yb in iterate_minibatches(...)`, not the first batch again")
    full = _loss(_f64(params), x.astype(np.float64), _one_hot(y))
    expect_close(float(losses.mean()), full, call, rtol=1e-4, atol=1e-6,
                 what="the mean of the 8 batch losses (lr = 0)",
                 hint="over one epoch every example must be used exactly once: loop over iterate_minibatches")


@pytest.mark.points(3)
def test_fit_shuffles_the_batches_anew_every_epoch(lesson, lessons, rng):
    # Frozen network (lr = 0): the sequence of batch losses shows the order of the batches.
    x_all, y_all = _digits(lessons)
    x, y = x_all[:256], y_all[:256]
    params = _params(rng, sizes=(784, 16, 10), scale=2.0)
    kwargs = dict(epochs=2, batch_size=32, lr=0.0, momentum=0.0, schedule=None, seed=1)
    call = lesson.fit.text(params, x, y, **kwargs)
    _, history = _history(lesson.fit(params, x, y, **kwargs), call)
    losses = history["batch_loss"]
    expect(losses.shape == (16,), call, got=f"{losses.size} batch losses", expected="16 (8 per epoch, 2 epochs)")
    p, y1 = _f64(params), _one_hot(y)
    in_order = np.array([_loss(p, x[i:i + 32].astype(np.float64), y1[i:i + 32]) for i in range(0, 256, 32)])
    first, second = losses[:8], losses[8:]
    expect(not np.allclose(first, in_order, rtol=1e-5), call,
           got="batches in the data's order: image 0-31, 32-63, ...", expected="a shuffled order",
           mistake="not shuffling: iterate_minibatches(..., shuffle=False) or slices x[i:i + B] in order",
           hint="shuffle every epoch: iterate_minibatches(x, y, batch_size, shuffle=True, seed=rng)")
    expect(not np.allclose(first, second, rtol=1e-5), call,
           got="the same batches in the same order in epoch 1 and epoch 2",
           expected="a new order every epoch",
           mistake="not shuffling anew: the same batch order every epoch (an int seed passed to "
                   "iterate_minibatches each epoch, or the generator re-made inside the epoch loop)",
           hint="make ONE generator before the loop, rng = np.random.default_rng(seed), and pass rng "
                "(not seed) to iterate_minibatches: each epoch then draws a new order from it")


@pytest.mark.points(2)
def test_fit_gives_the_same_history_for_the_same_seed_and_another_for_another_seed(lesson, lessons, rng):
    x_all, y_all = _digits(lessons)
    x, y = x_all[:300], y_all[:300]
    params = _params(rng, sizes=(784, 16, 10))
    kwargs = dict(epochs=2, batch_size=50, momentum=0.0)
    call = lesson.fit.text(params, x, y, seed=5, **kwargs)
    _, a = _history(lesson.fit(params, x, y, seed=5, **kwargs), call)
    _, b = _history(lesson.fit(params, x, y, seed=5, **kwargs), call)
    _, c = _history(lesson.fit(params, x, y, seed=6, **kwargs), call)
    expect(a["batch_loss"].shape == b["batch_loss"].shape and np.array_equal(a["batch_loss"], b["batch_loss"]),
           call, detail="called twice with seed=5, it gave two different histories",
           got=f"batch_loss {np.round(a['batch_loss'][:4], 4)}... then {np.round(b['batch_loss'][:4], 4)}...",
           mistake="the shuffling generator is not seeded (np.random.default_rng() or np.random.shuffle)",
           hint="rng = np.random.default_rng(seed), once, before the epoch loop")
    expect(not np.array_equal(a["batch_loss"], c["batch_loss"]), call,
           detail="seed=5 and seed=6 gave the same history", mistake="the seed argument is ignored",
           hint="make the shuffling generator from `seed`: np.random.default_rng(seed)")


# --- fit: the learning rate and the momentum, step by step ----------------------------------


def _identical_problem(rng):
    """Ten copies of one example: every mini-batch has the same mean gradient, in any order."""
    params = _params(rng)
    x1 = rng.random(12).astype(np.float32)
    return params, x1, 4, np.tile(x1, (10, 1)), np.full(10, 4)


@pytest.mark.points(3)
def test_fit_follows_the_cosine_schedule_at_every_step(lesson, rng):
    params, x1, label, x, y = _identical_problem(rng)
    epochs, batch, lr, mu, per_epoch = 3, 4, 0.3, 0.9, 3  # ceil(10 / 4) = 3 steps per epoch
    total = epochs * per_epoch
    call = lesson.fit.text(params, x, y, epochs=epochs, batch_size=batch, lr=lr, momentum=mu, schedule="cosine")
    trained, history = _history(lesson.fit(params, x, y, epochs=epochs, batch_size=batch, lr=lr,
                                           momentum=mu, schedule="cosine"), call)
    want_lr = np.array([_cosine(t, total, lr) for t in range(total)])
    expect(history["lr"].shape == (total,), call, got=f"{history['lr'].size} learning rates in history['lr']",
           expected=f"{total}, one per step", hint="append the learning rate of every step to history['lr']")
    expect_close(history["lr"], want_lr, call, rtol=1e-6, atol=1e-9, what="history['lr']", mistakes={
        "lr schedule ignored: a constant learning rate": np.full(total, lr),
        "the learning rate changed once per epoch instead of at every step":
            np.repeat([_cosine(e, epochs, lr) for e in range(epochs)], per_epoch),
        "the total number of steps counted as N // B per epoch (the last partial batch left out)":
            np.array([_cosine(t, epochs * (10 // batch), lr) for t in range(total)]),
        "the step counter restarted every epoch": np.tile([_cosine(t, total, lr) for t in range(per_epoch)], epochs),
    }, hint="lr_t = cosine_lr(step, epochs * ceil(N / batch_size), lr), with step counting every update of the run")
    path = {
        "lr schedule ignored: the run used a constant learning rate": _descend(params, x1, label, total, lambda t: lr, mu),
        "the learning rate changed once per epoch instead of at every step": _descend(
            params, x1, label, total, lambda t: _cosine(t // per_epoch, epochs, lr), mu),
        "momentum ignored (plain SGD)": _descend(params, x1, label, total, lambda t: want_lr[t], 0.0),
        "updating with the wrong sign": _descend(params, x1, label, total, lambda t: want_lr[t], mu, sign=-1.0),
    }
    expect_close(_flat(trained), _descend(params, x1, label, total, lambda t: want_lr[t], mu), call,
                 rtol=RTOL_PATH, atol=ATOL_PATH, what="the trained parameters (all, flattened)", mistakes=path,
                 hint="every step: lr_t from cosine_lr, then train_step(params, xb, one_hot(yb), lr_t, velocity, momentum)")


@pytest.mark.points(2)
def test_fit_with_no_schedule_keeps_the_learning_rate_constant(lesson, rng):
    params, x1, label, x, y = _identical_problem(rng)
    call = lesson.fit.text(params, x, y, epochs=2, batch_size=5, lr=0.2, momentum=0.5, schedule=None)
    trained, history = _history(lesson.fit(params, x, y, epochs=2, batch_size=5, lr=0.2, momentum=0.5,
                                           schedule=None), call)
    expect_close(history["lr"], np.full(4, 0.2), call, rtol=1e-9, atol=1e-12, what="history['lr']",
                 hint="schedule=None means the same lr at every step")
    expect_close(_flat(trained), _descend(params, x1, label, 4, lambda t: 0.2, 0.5), call,
                 rtol=RTOL_PATH, atol=ATOL_PATH, what="the trained parameters (all, flattened)", mistakes={
                     "the cosine schedule used although schedule=None": _descend(
                         params, x1, label, 4, lambda t: _cosine(t, 4, 0.2), 0.5),
                     "momentum ignored (plain SGD)": _descend(params, x1, label, 4, lambda t: 0.2, 0.0),
                 }, hint="4 steps of momentum_update with lr = 0.2 and momentum = 0.5")


@pytest.mark.points(3)
def test_fit_starts_momentum_at_rest_on_every_call(lesson, rng):
    params, x1, label, x, y = _identical_problem(rng)
    kwargs = dict(epochs=1, batch_size=5, lr=0.2, momentum=0.9, schedule=None)
    call = lesson.fit.text(params, x, y, **kwargs)
    try:
        first, _ = _history(lesson.fit(params, x, y, **kwargs), call)
    except CheckError as exc:  # a velocity of another check's network shapes, left over
        expect("broadcast" not in str(exc), call, detail=str(exc).splitlines()[-1],
               mistake="forgetting to reset momentum: a velocity from an earlier call (another network) carried over",
               hint="set velocity = None at the start of fit, inside the function")
        raise
    second, _ = _history(lesson.fit(params, x, y, **kwargs), call)
    # On identical examples the batch order cannot matter, so two identical calls must agree.
    expect_close(_flat(second), _flat(first), call + " called twice", rtol=1e-6, atol=1e-7,
                 what="the parameters trained by the second, identical call", mistakes={
                     "forgetting to reset momentum: the velocity of the previous call carried over "
                     "(kept at module level or in a default argument)": lambda a: True,
                 }, hint="set velocity = None at the start of fit, inside the function")
    expect_close(_flat(first), _descend(params, x1, label, 2, lambda t: 0.2, 0.9), call, rtol=RTOL_PATH,
                 atol=ATOL_PATH, what="the trained parameters", mistakes={
                     "momentum ignored (plain SGD)": _descend(params, x1, label, 2, lambda t: 0.2, 0.0),
                 }, hint="two momentum steps starting from a zero velocity")


# --- fit: the callback and purity ----------------------------------------------------------


@pytest.mark.points(2)
def test_fit_calls_the_callback_once_per_epoch_with_epoch_params_and_history(lesson, rng):
    params = _params(rng)
    x, y = rng.random((100, 12), dtype=np.float32), rng.integers(0, 10, 100)
    x_val, y_val = rng.random((20, 12), dtype=np.float32), rng.integers(0, 10, 20)
    calls = []

    def callback(epoch, p, history):
        calls.append((epoch, {k: np.array(v) for k, v in p.items()},
                      {k: len(history[k]) for k in ("batch_loss", "epoch_loss", "val_accuracy")}))

    call = lesson.fit.text(params, x, y, x_val, y_val, epochs=3, batch_size=50, callback=callback)
    trained, _ = _history(lesson.fit(params, x, y, x_val, y_val, epochs=3, batch_size=50, callback=callback), call)
    epochs = [c[0] for c in calls]
    expect(len(calls) == 3, call, got=f"{len(calls)} calls of the callback", expected="3, one after each epoch",
           mistake={6: "the callback called after every batch instead of every epoch",
                    0: "the callback never called"}.get(len(calls)),
           hint="call callback(epoch, params, history) once, at the end of each epoch, when it is not None")
    expect(epochs == [0, 1, 2], call, got=f"epochs {epochs}", expected="epochs [0, 1, 2] (the index of the epoch just finished)",
           mistake="epochs counted from 1" if epochs == [1, 2, 3] else None,
           hint="pass the loop variable of `for epoch in range(epochs)`")
    lengths = [c[2] for c in calls]
    want = [{"batch_loss": 2 * e, "epoch_loss": e, "val_accuracy": e} for e in (1, 2, 3)]
    expect(lengths == want, call, got=f"history lengths at each call {lengths}", expected=f"{want}",
           mistake="the callback called before the epoch's loss and accuracy were recorded"
           if lengths and lengths[0]["epoch_loss"] == 0 else None,
           hint="record the epoch's loss and validation accuracy first, then call the callback")
    last = calls[-1][1]
    expect(all(np.array_equal(last[k], trained[k]) for k in trained), call,
           detail="the params passed to the last callback are not the trained params that fit returned",
           mistake="the starting params passed to the callback instead of the current ones"
           if all(np.array_equal(last[k], params[k]) for k in params) else None,
           hint="pass the current params: callback(epoch, params, history)")


@pytest.mark.points(1)
def test_fit_does_not_modify_the_starting_params_or_the_data(lesson, rng):
    params = _params(rng)
    x, y = rng.random((60, 12), dtype=np.float32), rng.integers(0, 10, 60)
    x_val, y_val = rng.random((20, 12), dtype=np.float32), rng.integers(0, 10, 20)
    before = {"params": _copy(params), "x_train": x.copy(), "y_train": y.copy(), "x_val": x_val.copy(),
              "y_val": y_val.copy()}
    call = lesson.fit.text(params, x, y, x_val, y_val, epochs=2, batch_size=16)
    shapes = {k: np.empty(v.shape) for k, v in params.items()}
    expect_like(lesson.fit(params, x, y, x_val, y_val, epochs=2, batch_size=16), (shapes, dict), call)
    for name, now in (("params", params), ("x_train", x), ("y_train", y), ("x_val", x_val), ("y_val", y_val)):
        expect_unchanged(before[name], now, call, name)


@pytest.mark.points(1)
def test_fit_keeps_the_parameters_float32(lesson, rng):
    params = _params(rng)
    x, y = rng.random((40, 12), dtype=np.float32), rng.integers(0, 10, 40)
    call = lesson.fit.text(params, x, y, epochs=1, batch_size=16)
    trained, _ = _history(lesson.fit(params, x, y, epochs=1, batch_size=16), call)
    for key, p in params.items():
        expect_array(trained[key], call, shape=p.shape, dtype=np.float32, what=f"params[{key!r}]",
                     hint="float32 in, float32 out: one_hot gives float32; a float64 array or np.float64 "
                          "learning rate somewhere upcasts the weights (and halves the speed)")
