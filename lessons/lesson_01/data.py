"""Lesson 01: MNIST from bytes on disk to mini-batches a network can learn from.

    IDX file --parse_idx--> images (N, 28, 28) uint8 --preprocess_images--> x (N, 784) float32 in [0, 1]
    IDX file --parse_idx--> labels (N,) uint8        --one_hot-->           y (N, 10) float32

then a seeded train/validation split and shuffled mini-batches. Every function is pure: it
returns new arrays and never changes its inputs.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import Iterator

import numpy as np

# The third byte of an IDX header says what each item is. Multi-byte items are big-endian (">").
IDX_DTYPES = {
    0x08: np.dtype(np.uint8),  # unsigned byte: MNIST's pixels and labels
    0x09: np.dtype(np.int8),  # signed byte
    0x0B: np.dtype(">i2"),  # short, 2 bytes
    0x0C: np.dtype(">i4"),  # int, 4 bytes
    0x0D: np.dtype(">f4"),  # float, 4 bytes
    0x0E: np.dtype(">f8"),  # double, 8 bytes
}
GZIP_MAGIC = b"\x1f\x8b"  # the first two bytes of every gzip stream
# The four files of MNIST, in the order load_mnist returns them.
MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def parse_idx(path: str | os.PathLike) -> np.ndarray:
    r"""Read one IDX file, raw or gzip-compressed, into a NumPy array.

    The format, byte by byte (integers are big-endian)::

        offset   bytes   meaning
        0        2       magic: two zero bytes 00 00
        2        1       data type: a key of IDX_DTYPES (0x08 = unsigned byte)
        3        1       number of dimensions d >= 1
        4        4 * d   the size of each dimension, a 32-bit unsigned integer each
        4 + 4d   ...     the items in row-major order: exactly prod(sizes) * item size bytes

    A file whose first two bytes are the gzip magic ``1f 8b`` is decompressed first, whatever its name.
    The payload length must match the header: :math:`\text{len} = 4 + 4d + \text{itemsize} \prod_i s_i`.

    Args:
        path: the file, e.g. ``train-images-idx3-ubyte.gz``.

    Returns:
        A new array of shape ``(s_1, ..., s_d)`` in native byte order: ``(N, 28, 28) uint8`` for
        MNIST images, ``(N,) uint8`` for labels.

    Raises:
        ValueError: whose message names the file and says what is wrong: a truncated or corrupt gzip
        stream, a bad magic number, an unknown data type byte, zero dimensions, a truncated header,
        or a payload shorter (truncated) or longer (trailing bytes) than the header promises.
    """
    raise NotImplementedError("lesson 01: implement parse_idx")


def load_mnist(data_dir: str | os.PathLike) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    r"""Load the four MNIST files (``MNIST_FILES``) from one folder.

    Args:
        data_dir: the folder holding ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
            ``t10k-images-idx3-ubyte.gz`` and ``t10k-labels-idx1-ubyte.gz``.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: images ``(N, 28, 28) uint8`` with pixels 0..255
        and labels ``(N,) uint8`` with digits 0..9 (N = 60,000 and 10,000 for the full set).

    Raises:
        FileNotFoundError: naming every missing file and saying that ``course data`` downloads them.
        ValueError: from ``parse_idx`` for a damaged file, or when images and labels do not pair up.
    """
    raise NotImplementedError("lesson 01: implement load_mnist")


def preprocess_images(images: np.ndarray) -> np.ndarray:
    r"""Flatten images to rows and scale their pixels to [0, 1]: :math:`x = \mathrm{pixels} / 255`.

    Args:
        images: ``(N, 28, 28)`` or ``(N, 784)`` uint8, pixels 0..255. Left unchanged.

    Returns:
        x: ``(N, 784)`` float32 in [0, 1] (255 becomes exactly 1.0); row i holds image i read row
        by row, as ``images[i].reshape(784)`` does.
    """
    raise NotImplementedError("lesson 01: implement preprocess_images")


def one_hot(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    r"""One-hot encode integer labels: :math:`Y_{ik} = 1` if :math:`y_i = k`, else 0.

    Args:
        labels: ``(N,)`` integers in ``0 .. num_classes - 1`` (e.g. uint8 digits).
        num_classes: C, the number of columns.

    Returns:
        Y: ``(N, C)`` float32; row i is all zeros except a 1 in column ``labels[i]``.
    """
    raise NotImplementedError("lesson 01: implement one_hot")


def train_val_split(x: np.ndarray, y: np.ndarray, val_size: int = 5000,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Hold out a random validation set: shuffle with one seeded permutation, cut it in two.

    The validation set is for choosing settings (learning rate, epochs); the test set stays
    untouched until the very end. The same seed always gives the same split.

    Args:
        x: ``(N, ...)`` examples, e.g. ``(N, 784) float32``.
        y: ``(N, ...)`` their labels, e.g. ``(N,) uint8``; ``y[i]`` belongs to ``x[i]``.
        val_size: how many examples go to the validation set, ``0 <= val_size <= N``.
        seed: seed for ``np.random.default_rng``.

    Returns:
        ``(x_train, y_train, x_val, y_val)``: ``N - val_size`` and ``val_size`` examples, new arrays.
        Every example lands in exactly one part, and ``y_*[i]`` still belongs to ``x_*[i]``.
    """
    raise NotImplementedError("lesson 01: implement train_val_split")


def iterate_minibatches(x: np.ndarray, y: np.ndarray, batch_size: int = 128, shuffle: bool = True,
                        seed: int | np.random.Generator | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    r"""One pass (epoch) over the data in mini-batches of ``batch_size`` examples.

    Every example appears exactly once per pass; the last batch is smaller when ``batch_size``
    does not divide N (nothing is dropped): there are :math:`\lceil N / B \rceil` batches.

    Args:
        x: ``(N, ...)`` examples, e.g. ``(N, 784) float32``.
        y: ``(N, ...)`` their labels; the pairs ``(x[i], y[i])`` stay together.
        batch_size: B, examples per batch.
        shuffle: visit the examples in a random order (True) or in their order (False).
        seed: an int (the same int gives the same order), a ``np.random.Generator`` (which advances,
            so each pass with it gets a new order), or None (fresh randomness), exactly as
            ``np.random.default_rng(seed)`` accepts.

    Yields:
        ``(xb, yb)``: ``(B, ...)`` examples and ``(B, ...)`` labels, new arrays.
    """
    raise NotImplementedError("lesson 01: implement iterate_minibatches")


def read_kaggle_csv(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray | None]:
    r"""Read a Kaggle digit-recognizer CSV: ``train.csv`` (``label,pixel0,...,pixel783``) or
    ``test.csv`` (``pixel0,...,pixel783``, no label column). The first line is the header.

    Args:
        path: the CSV file.

    Returns:
        ``(images, labels)``: images ``(N, 784) uint8`` (pixels 0..255, row by row) and labels
        ``(N,) int64``, or ``None`` for a file without a label column.

    Raises:
        ValueError: naming the file when the header is neither ``label,...`` nor ``pixel0,...``, or
        when there are not 784 pixel columns.
    """
    raise NotImplementedError("lesson 01: implement read_kaggle_csv")
