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
    # BEGIN SOLUTION
    probs, _ = forward(params, x)  # (N, 784) -> (N, C)
    return probs.argmax(axis=1).astype(np.int64)  # (N, C) -> (N,): the best class of each row
    # END SOLUTION


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
    # BEGIN SOLUTION
    y_true = np.asarray(y_true).astype(np.int64).ravel()
    y_pred = np.asarray(y_pred).astype(np.int64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} labels but y_pred has {y_pred.size}")
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f"{name} holds labels outside 0..{num_classes - 1}: "
                             f"min {labels.min()}, max {labels.max()} (is num_classes right?)")
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)  # cm[y_true[n], y_pred[n]] += 1 for every n, repeats counted
    return cm
    # END SOLUTION


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
    # BEGIN SOLUTION
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)  # (C,) correct predictions of each class
    predicted = cm.sum(axis=0)  # (C,) column sums: how often each class was predicted
    actual = cm.sum(axis=1)  # (C,) row sums: how often each class really occurs
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(tp), where=total > 0)
    return precision, recall, f1
    # END SOLUTION


def most_confused_pairs(cm: np.ndarray, k: int = 5) -> list[tuple[int, int, int]]:
    r"""The ``k`` largest off-diagonal cells of the confusion matrix: :math:`M_{ij}` with :math:`i \ne j`.

    Args:
        cm: (C, C) int confusion matrix, rows true, columns predicted.
        k: how many pairs to return at most.

    Returns:
        A list of at most ``k`` tuples ``(true, predicted, count)`` of Python ints with
        ``true != predicted`` and ``count > 0``, largest count first (ties in row-major order).
    """
    # BEGIN SOLUTION
    mistakes = np.array(cm, dtype=np.int64)  # a copy: the caller's matrix stays as it was
    np.fill_diagonal(mistakes, 0)  # correct predictions are not confusions
    order = np.argsort(-mistakes, axis=None, kind="stable")[:k]  # flat indices, largest first
    rows, cols = np.unravel_index(order, mistakes.shape)
    return [(int(i), int(j), int(mistakes[i, j])) for i, j in zip(rows, cols) if mistakes[i, j] > 0]
    # END SOLUTION


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
    # BEGIN SOLUTION
    cm = np.asarray(cm)
    num_classes = cm.shape[0]
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 5.4))
    else:
        fig = ax.figure
    shade = np.log1p(cm)  # (C, C): mistakes of 1-10 stay visible next to diagonals of 1,000
    ax.imshow(shade, cmap="Blues")
    darkest = shade.max() if shade.size else 0
    for i in range(num_classes):
        for j in range(num_classes):
            ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=8,
                    color="white" if shade[i, j] > 0.6 * darkest else "black")
    ax.set_xticks(range(num_classes))
    ax.set_yticks(range(num_classes))
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    ax.set_title(f"confusion matrix ({int(cm.sum())} images, {int(np.trace(cm))} correct)")
    return fig
    # END SOLUTION


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
    # BEGIN SOLUTION
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    wrong = np.flatnonzero(y_true != y_pred)[:n]  # indices of the first n mistakes
    if wrong.size == 0:
        fig, ax = plt.subplots(figsize=(3, 1))
        ax.text(0.5, 0.5, "no mistakes", ha="center", va="center")
        ax.axis("off")
        return fig
    cols = min(8, wrong.size)
    rows = math.ceil(wrong.size / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.3 * cols, 1.5 * rows), squeeze=False)
    for ax in axes.ravel()[wrong.size:]:
        ax.remove()  # one Axes per mistake, no empty panels
    for ax, i in zip(axes.ravel(), wrong):
        ax.imshow(np.asarray(images[i]).reshape(28, 28), cmap="gray_r")  # (784,) -> (28, 28)
        ax.set_title(f"true {int(y_true[i])} / pred {int(y_pred[i])}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
    # END SOLUTION


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
    # BEGIN SOLUTION
    batch_loss = np.asarray(history.get("batch_loss", []), dtype=np.float64)
    epoch_loss = np.asarray(history.get("epoch_loss", []), dtype=np.float64)
    val_accuracy = np.asarray(history.get("val_accuracy", []), dtype=np.float64)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.5))
    per_epoch = batch_loss.size / epoch_loss.size if epoch_loss.size else 1.0  # batches per epoch
    ax_loss.plot(np.arange(1, batch_loss.size + 1) / per_epoch, batch_loss,
                 color="C0", alpha=0.3, linewidth=0.8, label="per batch")
    ax_loss.plot(np.arange(1, epoch_loss.size + 1), epoch_loss, "o-", color="C0", label="per epoch")
    ax_loss.set_ylabel("cross-entropy loss")
    ax_loss.set_title("training loss")
    ax_loss.legend()
    if val_accuracy.size:
        ax_acc.plot(np.arange(1, val_accuracy.size + 1), val_accuracy, "o-", color="C1",
                    label="validation accuracy")
        ax_acc.set_title(f"validation accuracy (last {val_accuracy[-1]:.2%})")
    else:
        ax_acc.set_title("validation accuracy (no validation set)")
    for ax in (ax_loss, ax_acc):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    ax_acc.set_ylabel("accuracy")
    fig.tight_layout()
    return fig
    # END SOLUTION


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
    # BEGIN SOLUTION
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    labels = np.asarray(predictions).astype(np.int64).ravel()  # (N,) ints, never "3.0"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["ImageId", "Label"])
        writer.writerows(zip(range(1, labels.size + 1), labels.tolist()))  # Kaggle counts from 1
    return path
    # END SOLUTION
