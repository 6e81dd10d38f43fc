"""Lesson 04: backpropagation through the 784-128-10 network.

The forward pass (lesson 02) and its backward pass, step by step, gradients flowing right to left:

    x --dense--> z1 --relu--> h1 --dense--> z2 --softmax + cross-entropy--> L
      dW1, db1 <- dz1 <-------- dh1 <------ dz2 = (probs - y) / N

``dA`` is the gradient of the mean loss with respect to ``A`` and has the shape of ``A``. Every
function is pure: it returns new arrays, never changes its inputs, and gives the same answer
when called twice.
"""

from __future__ import annotations

import numpy as np


def softmax_cross_entropy_backward(probs: np.ndarray, y_onehot: np.ndarray) -> np.ndarray:
    r"""Gradient of the mean cross-entropy of softmax outputs with respect to the logits:
    :math:`\partial L / \partial z_2 = (p - y) / N`.

    Softmax and cross-entropy are differentiated together: the two Jacobians multiply out to
    this simple difference (see the lesson notebook). The :math:`1/N` comes from the mean
    over the batch.

    Args:
        probs: (N, C) softmax probabilities from the forward pass, float32 or float64.
        y_onehot: (N, C) one-hot labels (one 1 per row).

    Returns:
        dz2: (N, C), same dtype as ``probs``.
    """
    raise NotImplementedError("lesson 04: implement softmax_cross_entropy_backward")


def dense_backward(dout: np.ndarray, x: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Backward pass of a dense layer :math:`z = x W + b`:
    :math:`dx = dz\,W^\top,\ dW = x^\top dz,\ db = \sum_n dz_n`.

    Args:
        dout: (N, D_out) gradient of the loss with respect to the layer's output ``z``.
        x: (N, D_in) the layer's input, as in the forward pass.
        W: (D_in, D_out) the layer's weights.

    Returns:
        dx: (N, D_in), dW: (D_in, D_out) and db: (D_out,), the gradients with respect to ``x``,
        ``W`` and ``b`` (each with the shape of what it is the gradient of), dtype of ``dout``.
    """
    raise NotImplementedError("lesson 04: implement dense_backward")


def relu_backward(dout: np.ndarray, z: np.ndarray) -> np.ndarray:
    r"""Backward pass of ReLU :math:`h = \max(z, 0)`: :math:`dz = dh \odot \mathbb{1}[z > 0]`.

    The gradient flows through where the pre-activation was positive and stops elsewhere. At
    exactly :math:`z = 0` ReLU has no derivative; we use 0 (any value in [0, 1] would do).

    Args:
        dout: gradient of the loss with respect to the output ``h``, any shape, e.g. (N, 128).
        z: the pre-activation that went into ReLU, same shape as ``dout``.

    Returns:
        dz: same shape and dtype as ``dout``.
    """
    raise NotImplementedError("lesson 04: implement relu_backward")


def backward(params: dict[str, np.ndarray], cache: dict[str, np.ndarray],
             y_onehot: np.ndarray) -> dict[str, np.ndarray]:
    r"""Gradients of the mean cross-entropy with respect to every parameter, by the chain rule:
    :math:`\nabla_\theta L` for :math:`L = -\frac{1}{N}\sum_n \sum_k y_{nk} \log p_{nk}`.

    Args:
        params: ``{"W1": (784, 128), "b1": (128,), "W2": (128, 10), "b2": (10,)}``, float32 or float64.
        cache: from lesson 02's ``forward(params, x)``: ``{"x": (N, 784), "z1": (N, 128),
            "h1": (N, 128), "z2": (N, 10), "probs": (N, 10)}``.
        y_onehot: (N, 10) one-hot labels.

    Returns:
        grads: ``{"W1": (784, 128), "b1": (128,), "W2": (128, 10), "b2": (10,)}``, the same keys,
        shapes and dtypes as ``params``. Neither ``params`` nor ``cache`` is changed.
    """
    raise NotImplementedError("lesson 04: implement backward")
