"""Lesson 06: evaluating a trained 784-128-10 network.

    params, x (N, 784) --predict--> y_pred (N,) int64
    y_true (N,), y_pred (N,) --confusion_matrix--> cm (C, C) int64, rows true, columns predicted
    cm --precision_recall_f1--> precision, recall, f1: (C,) float64 each
    cm --most_confused_pairs--> [(true, predicted, count), ...]

plus three figures (confusion matrix, a gallery of mistakes, training curves) and a Kaggle
digit-recognizer submission file. Every function is pure: it never changes its inputs.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..lesson_02.forward import forward


def predict(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    r"""The digit the network finds most likely for each image: :math:`\hat y_i = \arg\max_k p_{ik}`.

    Args:
        params: ``{"W1": (784, 128), "b1": (128,), "W2": (128, 10), "b2": (10,)}``.
        x: (N, 784) images, float32 in [0, 1].

    Returns:
        y_pred: (N,) int64, one class index in ``0 .. C-1`` per image (the column of the largest
        probability in its row).
    """
    raise NotImplementedError("lesson 06: implement predict")


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 10) -> np.ndarray:
    r"""Count every (true, predicted) pair: :math:`M_{ij} = \#\{n : y_n = i,\ \hat y_n = j\}`.

    Row ``i`` holds the images whose true label is ``i``; column ``j`` those predicted as ``j``.
    The diagonal counts correct predictions; everything off it is a mistake.

    Args:
        y_true: (N,) int true labels in ``0 .. num_classes-1`` (uint8 from lesson 01 is fine).
        y_pred: (N,) int predicted labels, same range.
        num_classes: C, the number of classes (rows and columns), even if some never occur.

    Returns:
        cm: (C, C) int64; ``cm.sum() == N``, ``cm.sum(axis=1)`` counts each true class.

    Raises:
        ValueError: if the arrays differ in length or hold a label outside ``0 .. C-1``.
    """
    raise NotImplementedError("lesson 06: implement confusion_matrix")


def precision_recall_f1(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Per-class precision :math:`P_k = M_{kk} / \sum_i M_{ik}`, recall :math:`R_k = M_{kk} / \sum_j M_{kj}`
    and :math:`F1_k = 2 P_k R_k / (P_k + R_k)`.

    Precision: of the images *predicted* as k (column k), the fraction that really are k.
    Recall: of the images that really *are* k (row k), the fraction predicted as k.
    F1 is their harmonic mean. A ratio whose denominator is 0 (a class never predicted, or
    never present) is 0, like scikit-learn's ``zero_division=0``; nothing is ever nan.

    Args:
        cm: (C, C) int confusion matrix, rows true, columns predicted.

    Returns:
        precision, recall, f1: (C,) float64 each, values in [0, 1].
    """
    raise NotImplementedError("lesson 06: implement precision_recall_f1")


def most_confused_pairs(cm: np.ndarray, k: int = 5) -> list[tuple[int, int, int]]:
    r"""The ``k`` largest off-diagonal cells of the confusion matrix: :math:`M_{ij}` with :math:`i \ne j`.

    Args:
        cm: (C, C) int confusion matrix, rows true, columns predicted.
        k: how many pairs to return at most.

    Returns:
        A list of at most ``k`` tuples ``(true, predicted, count)`` of Python ints with
        ``true != predicted`` and ``count > 0``, largest count first (ties in row-major order).
    """
    raise NotImplementedError("lesson 06: implement most_confused_pairs")


def plot_confusion_matrix(cm: np.ndarray, ax=None) -> Figure:
    r"""Draw the confusion matrix as an image with every count written in its cell.

    Rows are true labels (y axis, labelled "true label"), columns predicted labels (x axis,
    labelled "predicted label"). The colour scale is logarithmic-ish (:math:`\log(1 + M_{ij})`)
    so that the few mistakes stay visible next to the large diagonal.

    Args:
        cm: (C, C) int confusion matrix.
        ax: a matplotlib Axes to draw into; a new figure is made when None.

    Returns:
        The matplotlib Figure holding the plot (``ax.figure`` when ``ax`` was given); the
        function never calls ``plt.show()``.
    """
    raise NotImplementedError("lesson 06: implement plot_confusion_matrix")


def plot_misclassified(images: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, n: int = 16) -> Figure:
    r"""A gallery of the first ``n`` wrong predictions (:math:`\hat y_i \ne y_i`), one digit per panel.

    Each panel shows one misclassified image titled ``"true 3 / pred 5"``. Correct predictions
    are never shown. The figure has exactly one Axes per mistake shown (at most ``n``); with no
    mistakes at all it has one empty Axes that says so.

    Args:
        images: (N, 784) float or uint8 images, or (N, 28, 28).
        y_true: (N,) int true labels.
        y_pred: (N,) int predicted labels.
        n: the largest number of mistakes to show.

    Returns:
        The matplotlib Figure; the function never calls ``plt.show()``.
    """
    raise NotImplementedError("lesson 06: implement plot_misclassified")


def plot_history(history: dict[str, list[float]]) -> Figure:
    r"""Training curves from lesson 05's ``fit``: the loss on the left, validation accuracy on the right.

    The loss of every mini-batch is drawn thin and light, the mean loss of every epoch as a
    line with markers on top; both share an x axis measured in epochs (batch :math:`b` of
    :math:`B` per epoch sits at :math:`(b + 1) / B`). Validation accuracy (a fraction in [0, 1])
    is drawn per epoch when ``history["val_accuracy"]`` is not empty.

    Args:
        history: ``{"batch_loss": [...], "epoch_loss": [...], "val_accuracy": [...], ...}``.

    Returns:
        The matplotlib Figure with two Axes; the function never calls ``plt.show()``.
    """
    raise NotImplementedError("lesson 06: implement plot_history")


def write_kaggle_submission(path: str | os.PathLike, predictions: np.ndarray) -> Path:
    r"""Write predictions as a Kaggle digit-recognizer submission: ``ImageId,Label``, ImageId from 1.

    The file looks like::

        ImageId,Label
        1,2
        2,0
        3,9

    one row per prediction, in order, with no index column. Missing parent folders are created.

    Args:
        path: where to write the CSV file.
        predictions: (N,) int predicted digits, in the order of Kaggle's ``test.csv``.

    Returns:
        The ``Path`` of the file written.
    """
    raise NotImplementedError("lesson 06: implement write_kaggle_submission")
