"""Lesson 05: training the 784-128-10 network with mini-batch stochastic gradient descent.

    params, grads, lr           --sgd_update-->      new params          p - lr * g
    params, grads, velocity, lr --momentum_update--> new params, velocity
    step, total_steps, lr_max   --cosine_lr-->       the learning rate of this step
    params, one mini-batch      --train_step-->      new params, velocity, loss
    params, training set        --fit-->             trained params, history

One training step is lesson 02's forward pass, lesson 03's loss, lesson 04's backward pass and an
update. ``fit`` repeats it over shuffled mini-batches, epoch after epoch. Every function is pure:
it returns new arrays and never changes its inputs (``fit`` leaves the caller's ``params`` alone).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ..lesson_01.data import iterate_minibatches, one_hot
from ..lesson_02.forward import forward
from ..lesson_03.loss import accuracy, cross_entropy
from ..lesson_04.backward import backward

Params = dict[str, np.ndarray]
SCHEDULES = ("cosine", None)


def sgd_update(params: Params, grads: Params, lr: float) -> Params:
    r"""One step of gradient descent on every parameter: :math:`\theta \leftarrow \theta - \eta \nabla_\theta L`.

    The gradient points uphill (the direction in which the loss grows fastest), so we step the
    other way, by ``lr`` times the gradient.

    Args:
        params: ``{"W1": (784, 128), "b1": (128,), "W2": (128, 10), "b2": (10,)}``, float32 (or float64).
        grads: the gradients from lesson 04's ``backward``: same keys, shapes and dtypes as ``params``.
        lr: the learning rate :math:`\eta > 0`, a Python float.

    Returns:
        New params: a new dict with new arrays, same keys, shapes and dtypes. ``params`` and
        ``grads`` are left unchanged.
    """
    raise NotImplementedError("lesson 05: implement sgd_update")


def momentum_update(params: Params, grads: Params, velocity: Params | None, lr: float,
                    momentum: float = 0.9) -> tuple[Params, Params]:
    r"""One step of gradient descent with momentum: :math:`v \leftarrow \mu v - \eta \nabla_\theta L,\ \theta \leftarrow \theta + v`.

    The velocity :math:`v` is a running, decaying sum of past steps: directions in which the
    gradient keeps pointing build up speed, directions in which it flips sign cancel out. With
    :math:`\mu = 0` this is plain ``sgd_update``.

    Args:
        params: ``{"W1": (784, 128), "b1": (128,), "W2": (128, 10), "b2": (10,)}``, float32 (or float64).
        grads: same keys, shapes and dtypes as ``params``.
        velocity: the velocity returned by the previous step (same keys, shapes and dtypes as
            ``params``), or ``None`` / ``{}`` before the first step, meaning zeros.
        lr: the learning rate :math:`\eta > 0`.
        momentum: :math:`\mu` in [0, 1), how much of the previous velocity is kept.

    Returns:
        ``(params, velocity)``: new dicts of new arrays, same keys, shapes and dtypes as ``params``.
        None of the inputs is changed.
    """
    raise NotImplementedError("lesson 05: implement momentum_update")


def cosine_lr(step: int, total_steps: int, lr_max: float, lr_min: float = 0.0) -> float:
    r"""The learning rate of step ``step`` of a cosine schedule:
    :math:`\eta_t = \eta_{min} + (\eta_{max} - \eta_{min}) \frac{1 + \cos(\pi t / T)}{2}`.

    It starts at ``lr_max`` (t = 0), falls slowly, then fast around the middle (t = T/2 gives the
    average of the two), then slowly again, and reaches ``lr_min`` at t = T: big steps while the
    weights are far from good ones, small careful steps at the end.

    Args:
        step: t, the number of updates done so far, ``0 <= step <= total_steps``.
        total_steps: T, the number of updates in the whole training run (> 0).
        lr_max: the learning rate at the start.
        lr_min: the learning rate at the end.

    Returns:
        The learning rate, a Python float between ``lr_min`` and ``lr_max``.
    """
    raise NotImplementedError("lesson 05: implement cosine_lr")


def train_step(params: Params, xb: np.ndarray, yb_onehot: np.ndarray, lr: float,
               velocity: Params | None = None, momentum: float = 0.0) -> tuple[Params, Params | None, float]:
    r"""One step of training on one mini-batch: forward, loss, backward, update.

    :math:`L = \mathrm{CE}(\mathrm{forward}(\theta, x_b), y_b)`, then
    :math:`\theta \leftarrow \theta - \eta \nabla_\theta L` (or the momentum update when ``momentum > 0``).

    Args:
        params: ``{"W1": (784, 128), "b1": (128,), "W2": (128, 10), "b2": (10,)}``, float32.
        xb: (B, 784) float32 images of the batch.
        yb_onehot: (B, 10) float32 one-hot labels of the batch.
        lr: the learning rate of this step.
        velocity: the velocity of the previous step, or ``None`` before the first (see ``momentum_update``).
        momentum: :math:`\mu`; 0 means plain SGD (``sgd_update``) and the velocity is returned as it came.

    Returns:
        ``(params, velocity, loss)``: the updated parameters (a new dict), the new velocity, and
        the batch's mean cross-entropy *before* the update, a Python float.
    """
    raise NotImplementedError("lesson 05: implement train_step")


def fit(params: Params, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None, epochs: int = 10, batch_size: int = 128, lr: float = 0.16,
        momentum: float = 0.9, schedule: str | None = "cosine", seed: int = 0,
        callback: Callable[[int, Params, dict], None] | None = None) -> tuple[Params, dict[str, list[float]]]:
    r"""Train with mini-batch SGD: ``epochs`` passes over the training set in shuffled mini-batches.

    Every epoch visits the examples in a new random order, drawn from one generator made once
    from ``seed`` (the same seed gives the same run; a new epoch gives a new order). The learning
    rate of step :math:`t` of :math:`T = \text{epochs} \cdot \lceil N / B \rceil` is
    ``cosine_lr(t, T, lr)`` (``schedule="cosine"``) or ``lr`` (``schedule=None``). The velocity
    starts at zero on every call. The defaults reach about 98% test accuracy on full MNIST.

    Args:
        params: the starting weights, e.g. lesson 02's ``init_params()``, float32. Left unchanged.
        x_train: (N, 784) float32 images in [0, 1].
        y_train: (N,) int labels (digits 0..9); each batch is one-hot encoded as it is used.
        x_val, y_val: (M, 784) float32 and (M,) int, a validation set measured after every epoch, or None.
        epochs: passes over the training set.
        batch_size: B, examples per step; the last batch of an epoch may be smaller.
        lr: the (largest) learning rate.
        momentum: :math:`\mu` for ``momentum_update``; 0 for plain SGD.
        schedule: ``"cosine"`` to decay ``lr`` to 0 over the run, or None for a constant ``lr``.
        seed: seeds the generator that shuffles every epoch.
        callback: called as ``callback(epoch, params, history)`` after each epoch, with ``epoch``
            the index of the epoch just finished (0 .. epochs-1), e.g. to draw a live loss curve.

    Returns:
        ``(params, history)``: the trained parameters (new arrays) and a dict of lists of floats:
        ``"batch_loss"`` and ``"lr"`` (one entry per step, :math:`\lceil N / B \rceil` per epoch),
        ``"epoch_loss"`` (the mean loss over each epoch's examples, one per epoch) and
        ``"val_accuracy"`` (one per epoch; empty without a validation set).
    """
    raise NotImplementedError("lesson 05: implement fit")
