"""Lesson 03: the loss, one number that says how wrong the network's probabilities are.

    probs (N, C), y_onehot (N, C)   --cross_entropy-->             loss (float)
    logits (N, C)                   --log_softmax-->               log-probabilities (N, C)
    logits (N, C), y_onehot (N, C)  --cross_entropy_from_logits--> loss (float)
    scores (N, C), labels (N,)      --accuracy-->                  fraction correct (float)

Every function is pure: it returns new values and never changes its inputs.
"""

from __future__ import annotations

import numpy as np


def cross_entropy(probs: np.ndarray, y_onehot: np.ndarray, eps: float = 1e-12) -> float:
    r"""Mean categorical cross-entropy of predicted probabilities:
    :math:`L = -\frac{1}{N} \sum_{i=1}^{N} \sum_{k=1}^{C} y_{ik} \log \mathrm{clip}(p_{ik}, \epsilon, 1)`.

    For one-hot targets the inner sum keeps a single term: minus the natural log of the
    probability given to the true class. Probabilities are clipped to at least ``eps`` first, so
    a probability of exactly 0 costs :math:`-\log \epsilon` (about 27.6 for 1e-12), not ``inf``.

    Args:
        probs: (N, C) predicted probabilities (rows sum to 1), float32 or float64.
        y_onehot: (N, C) targets, one row per example: 1 for the true class and 0 elsewhere
            (any distribution over the classes works, e.g. smoothed labels).
        eps: the smallest probability the log ever sees.

    Returns:
        The loss averaged over the N examples, as a Python float (natural log, so in nats).
    """
    raise NotImplementedError("lesson 03: implement cross_entropy")


def log_softmax(logits: np.ndarray) -> np.ndarray:
    r"""Row-wise log of the softmax, computed stably with the log-sum-exp trick:
    :math:`\log p_{ij} = z_{ij} - m_i - \log \sum_k e^{z_{ik} - m_i}` with :math:`m_i = \max_k z_{ik}`.

    Never forms the probabilities: ``np.log(softmax(z))`` gives ``-inf`` as soon as a
    probability underflows to 0 (``exp(-1000)`` is 0), and ``np.log(np.exp(z).sum())`` overflows
    for logits of 1000. Subtracting each row's maximum first keeps every exponent at most 0.

    Args:
        logits: (N, C) scores, one row per example.

    Returns:
        (N, C), same dtype as ``logits``: every entry at most 0, and ``exp`` of each row sums to 1.
    """
    raise NotImplementedError("lesson 03: implement log_softmax")


def cross_entropy_from_logits(logits: np.ndarray, y_onehot: np.ndarray) -> float:
    r"""Mean categorical cross-entropy straight from the logits, stable for any logits:
    :math:`L = -\frac{1}{N} \sum_{i=1}^{N} \sum_{k=1}^{C} y_{ik} \, \mathrm{log\_softmax}(z)_{ik}`.

    The same number as ``cross_entropy(softmax(logits), y_onehot)`` for moderate logits, but exact
    where probabilities underflow: logits ``[1000, 0]`` with true class 1 give exactly 1000, where
    the probability route gives ``inf`` (or :math:`-\log \epsilon` with a clip). No clip needed.

    Args:
        logits: (N, C) scores before softmax, float32 or float64.
        y_onehot: (N, C) targets, 1 for the true class and 0 elsewhere.

    Returns:
        The loss averaged over the N examples, as a Python float.
    """
    raise NotImplementedError("lesson 03: implement cross_entropy_from_logits")


def accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    r"""The fraction of examples whose highest score is the true class:
    :math:`\mathrm{acc} = \frac{1}{N} \sum_{i=1}^{N} [\arg\max_k s_{ik} = y_i]`.

    Softmax never changes which score is the largest, so probabilities and logits give the same
    accuracy. A tie goes to the lowest class index, as with ``np.argmax``.

    Args:
        scores: (N, C) probabilities or logits, one row per example.
        labels: (N,) integer class indices in [0, C); a one-hot (N, C) array is accepted too.

    Returns:
        The fraction correct, a Python float in [0, 1] (not a count).
    """
    raise NotImplementedError("lesson 03: implement accuracy")
