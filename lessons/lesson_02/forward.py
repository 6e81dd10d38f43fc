"""Lesson 02: the forward pass of a 784-128-10 network.

    x (N, 784) --dense--> z1 (N, 128) --relu--> h1 (N, 128) --dense--> z2 (N, 10) --softmax--> probs (N, 10)

Every function is pure: it returns new arrays and never changes its inputs.
"""

from __future__ import annotations

import numpy as np


def init_params(layer_sizes: tuple[int, ...] = (784, 128, 10), seed: int = 0,
                dtype: type = np.float32) -> dict[str, np.ndarray]:
    r"""Random starting weights for a fully connected network.

    He initialisation for layers followed by a ReLU: every weight is drawn from a normal
    distribution with mean 0 and standard deviation :math:`\sqrt{2 / n_{in}}`; biases start at 0.

    Args:
        layer_sizes: the width of every layer, input first: ``(784, 128, 10)``.
        seed: seed for ``np.random.default_rng``; the same seed gives the same weights.
        dtype: the floating-point type of every array (float32 for training).

    Returns:
        ``{"W1": (784, 128), "b1": (128,), "W2": (128, 10), "b2": (10,)}``, all of ``dtype``:
        ``W{k}`` has shape ``(layer_sizes[k-1], layer_sizes[k])`` and ``b{k}`` shape ``(layer_sizes[k],)``.
    """
    raise NotImplementedError("lesson 02: implement init_params")


def dense(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    r"""A fully connected (dense) layer: :math:`z = x W + b`.

    Args:
        x: (N, D_in) inputs, one row per example.
        W: (D_in, D_out) weights.
        b: (D_out,) biases, added to every row.

    Returns:
        z: (N, D_out), same dtype as ``x``.
    """
    raise NotImplementedError("lesson 02: implement dense")


def relu(z: np.ndarray) -> np.ndarray:
    r"""The rectified linear unit, element-wise: :math:`\mathrm{relu}(z) = \max(z, 0)`.

    Args:
        z: any shape, float.

    Returns:
        An array of the same shape and dtype; ``z`` itself is left unchanged.
    """
    raise NotImplementedError("lesson 02: implement relu")


def softmax(z: np.ndarray) -> np.ndarray:
    r"""Row-wise softmax, numerically stable: :math:`p_{ij} = e^{z_{ij} - m_i} / \sum_k e^{z_{ik} - m_i}`
    with :math:`m_i = \max_k z_{ik}`.

    Subtracting each row's maximum does not change the result, but keeps ``exp`` from
    overflowing on large logits (``exp(1000)`` is ``inf`` in float64).

    Args:
        z: (N, C) logits, one row per example.

    Returns:
        probs: (N, C), same dtype as ``z``; every row is positive and sums to 1.
    """
    raise NotImplementedError("lesson 02: implement softmax")


def forward(params: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    r"""The whole network: :math:`p = \mathrm{softmax}(\mathrm{relu}(x W_1 + b_1) W_2 + b_2)`.

    Args:
        params: ``{"W1": (784, 128), "b1": (128,), "W2": (128, 10), "b2": (10,)}``.
        x: (N, 784) images, float32 in [0, 1].

    Returns:
        probs: (N, 10) class probabilities, rows sum to 1.
        cache: what backprop (lesson 04) needs: ``{"x": (N, 784), "z1": (N, 128), "h1": (N, 128),
        "z2": (N, 10), "probs": (N, 10)}``.
    """
    raise NotImplementedError("lesson 02: implement forward")
