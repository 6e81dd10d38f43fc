# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Lesson 01: loading the data
#
# Over six lessons you will build a neural network from nothing but NumPy and teach it to read
# handwritten digits. Before a network can learn anything, the digits have to become numbers in
# the right shape, the right type and the right order. That is this lesson, and it is where many
# real projects go wrong: a label shuffled away from its image, pixels divided with integer
# division, a test set peeked at while tuning. None of these raise an error; they just make the
# network quietly worse.
#
# **You will write** (in `lesson_01/data.py`): `parse_idx`, `load_mnist`, `preprocess_images`,
# `one_hot`, `train_val_split`, `iterate_minibatches` and `read_kaggle_csv`.
# **Check your work** with `pytest checks/lesson_01`.
#
# ## MNIST
#
# MNIST is a set of 70,000 handwritten digits, each a $28 \times 28$ grayscale image with its
# label 0 to 9: 60,000 for training and 10,000 for testing, written by about 500 different
# people (Census Bureau employees and high-school students). It was assembled from NIST's Special
# Databases 1 and 3 by **Yann LeCun, Corinna Cortes and Christopher J.C. Burges**, and is shared
# under the Creative Commons Attribution-Share Alike 3.0 license (CC BY-SA 3.0): whenever you
# show or ship any part of it, credit them, as this course does.
#
# The course ships a small stratified subset (600 training and 100 test images of each digit) so
# that everything works offline. Run `course data` once to download the full set; the
# notebooks then use it automatically.

# %%
# Make `lessons` name the folder this notebook sits in (the website runs it on the reference).
# %load_ext autoreload
# %autoreload 2
from course.notebook import setup

setup()

import gzip
import struct
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from course.datasets import resolve_data_dir
from lessons.lesson_01.data import (iterate_minibatches, load_mnist, one_hot, parse_idx, preprocess_images,
                                    read_kaggle_csv, train_val_split)

data_dir, is_full = resolve_data_dir()
print(f"{'full MNIST' if is_full else 'the embedded subset'} in {data_dir}")
for path in sorted(data_dir.glob("*.gz")):
    print(f"  {path.name:<28} {path.stat().st_size:>11,} bytes")

# %% [markdown]
# ## The IDX format, byte by byte
#
# The four files use a tiny binary format called IDX, compressed with gzip. An IDX file is a
# header followed by the numbers of one array, in row-major order (the last index changes
# fastest). All integers in the header are **big-endian**: the most significant byte comes
# first, so the 4 bytes `00 00 17 70` mean $0x1770 = 6000$.
#
# | offset | bytes | meaning | MNIST images |
# | --- | --- | --- | --- |
# | 0 | 2 | magic: always `00 00` | `00 00` |
# | 2 | 1 | data type: `08` unsigned byte, `09` signed byte, `0B` short, `0C` int, `0D` float, `0E` double | `08` |
# | 3 | 1 | number of dimensions $d$ | `03` |
# | 4 | $4d$ | the size of each dimension, 4 bytes each | $N$, 28, 28 |
# | $4 + 4d$ | $s_1 s_2 \cdots s_d \times$ item size | the data | one byte per pixel, 0 (white) to 255 (black) |
#
# So a well-formed file is exactly $4 + 4d + \text{itemsize} \cdot \prod_i s_i$ bytes long. A file
# of any other length was cut short or has junk at its end, and a careful reader says so instead
# of returning an array of the wrong size. Here are the first 16 bytes of the training images,
# after decompression:

# %%
with gzip.open(data_dir / "train-images-idx3-ubyte.gz", "rb") as f:
    head = f.read(16)
print(head.hex(" "))
print(f"magic {head[:2].hex(' ')} | data type 0x{head[2]:02x} | {head[3]} dimensions | "
      f"sizes {struct.unpack('>III', head[4:16])}")

# %% [markdown]
# A gzip stream always starts with the two bytes `1f 8b`, so `parse_idx` looks at the first two
# bytes to decide whether to decompress, rather than trusting the file's name: browsers sometimes
# decompress a download and keep the `.gz` name.
#
# ### Your turn: `parse_idx`
# Fill in `parse_idx` in `data.py`: read the bytes, decompress them if they start with `1f 8b`,
# check the header, and turn the payload into an array with `np.frombuffer(data, dtype,
# offset=...)` and `.reshape(...)`. Whenever something does not match, raise a `ValueError` that
# names the file and says what is wrong.

# %%
labels = parse_idx(data_dir / "train-labels-idx1-ubyte.gz")
print(labels.shape, labels.dtype, labels[:12])

# A file of our own: two 2 x 3 "images", then the same file with its last byte missing.
tiny = Path(tempfile.mkdtemp()) / "tiny.idx"
tiny.write_bytes(b"\x00\x00\x08\x03" + struct.pack(">III", 2, 2, 3) + bytes(range(12)))
print(parse_idx(tiny))
tiny.write_bytes(tiny.read_bytes()[:-1])
try:
    parse_idx(tiny)
except ValueError as exc:
    print("ValueError:", exc)

# %% [markdown]
# ### Your turn: `load_mnist`
# `load_mnist(data_dir)` reads the four files and returns `((x_train, y_train), (x_test, y_test))`.
# If a file is missing, the learner (you, next month, on a new laptop) should read which one and
# how to get it (`course data`), not a bare `No such file or directory`.

# %%
(x_train_raw, y_train), (x_test_raw, y_test) = load_mnist(data_dir)
print("train:", x_train_raw.shape, x_train_raw.dtype, y_train.shape, y_train.dtype)
print("test: ", x_test_raw.shape, x_test_raw.dtype, y_test.shape, y_test.dtype)

# %% [markdown]
# ## A first look
#
# Always look at the data before training on it. The first 24 training images with their labels:

# %%
fig, axes = plt.subplots(3, 8, figsize=(10, 4))
for ax, image, label in zip(axes.flat, x_train_raw, y_train):
    ax.imshow(image)
    ax.set_title(str(label), fontsize=10)
    ax.axis("off")
fig.suptitle("The first 24 training images and their labels")
plt.show()

# %% [markdown]
# Most pixels are pure background (0); the strokes are a thin band of values near 255 with
# anti-aliased edges in between. A log scale shows both ends of the histogram:

# %%
fig, ax = plt.subplots(figsize=(7, 3))
ax.hist(x_train_raw.ravel(), bins=64, range=(0, 256), color="C0")
ax.set_yscale("log")
ax.set_xlabel("pixel value (0 = background, 255 = ink)")
ax.set_ylabel("number of pixels")
ax.set_title(f"{np.mean(x_train_raw == 0):.0%} of the pixels are exactly 0; mean {x_train_raw.mean():.1f}")
plt.show()

# %% [markdown]
# Are the classes balanced? A classifier trained on data with nine times as many 1s as 5s learns
# to guess "1" when unsure. The full MNIST set is nearly balanced (each digit is between about 9%
# and 11% of the training set); the embedded subset is exactly balanced by construction.

# %%
digits = np.arange(10)
fig, ax = plt.subplots(figsize=(7, 3))
ax.bar(digits - 0.2, np.bincount(y_train, minlength=10) / len(y_train), width=0.4, label="train")
ax.bar(digits + 0.2, np.bincount(y_test, minlength=10) / len(y_test), width=0.4, label="test")
ax.set_xticks(digits)
ax.set_xlabel("digit")
ax.set_ylabel("fraction of the set")
ax.set_ylim(0, 0.14)
ax.legend(ncols=2, loc="upper center")
plt.show()

# %% [markdown]
# The mean image of each digit already says a lot about what the network will have to learn: a
# blurry but recognisable template per class. A first classifier needs nothing else: give each
# test image the digit whose mean image is closest (in squared pixel distance). The network of
# lessons 02 to 05 has to beat this baseline by a wide margin.

# %%
means = np.stack([x_train_raw[y_train == digit].mean(axis=0) for digit in digits])  # (10, 28, 28)
fig, axes = plt.subplots(1, 10, figsize=(12, 1.8))
for digit, ax in zip(digits, axes):
    ax.imshow(means[digit])
    ax.set_title(str(digit))
    ax.axis("off")
fig.suptitle("The mean image of each digit", y=1.05)
plt.show()

flat_test = x_test_raw.reshape(len(x_test_raw), 784).astype(np.float32)  # (M, 784)
flat_means = means.reshape(10, 784).astype(np.float32)  # (10, 784)
# |x - m|^2 = |x|^2 - 2 x.m + |m|^2: (M, 1) - (M, 784) @ (784, 10) + (10,) -> (M, 10)
distances = (flat_test ** 2).sum(1, keepdims=True) - 2 * flat_test @ flat_means.T + (flat_means ** 2).sum(1)
print(f"nearest mean image: {np.mean(distances.argmin(axis=1) == y_test):.1%} of the test digits right")

# %% [markdown]
# ## From pixels to network inputs: flatten, scale, float32
#
# The network of lesson 02 takes each image as one row of 784 numbers, $x \in \mathbb{R}^{784}$,
# so a batch is a matrix of shape $(N, 784)$. Flattening reads each image row by row, exactly as
# `image.reshape(784)` does: pixel $(r, c)$ becomes entry $28r + c$.
#
# Then we scale: $x = \text{pixel} / 255 \in [0, 1]$. Why?
#
# * The starting weights of lesson 02 are chosen so that a layer's outputs are about as large as
#   its inputs, *if* the inputs are of order 1. Raw pixels up to 255 would make the first layer's
#   outputs hundreds of times larger, the softmax saturate, and the gradients explode.
# * The learning rate then means the same thing for every input feature.
#
# And why `float32` rather than NumPy's default `float64`? Training is matrix products, and
# float32 halves the memory and roughly doubles the speed of every one of them, while its seven
# significant digits are far more than the pixel values (256 levels) or the gradients' noise
# ever need.
#
# Two classic mistakes give no error at all: integer division (`images // 255` makes every pixel
# but pure ink 0) and forgetting to scale (values up to 255).
#
# ### Your turn: `preprocess_images`

# %%
x_train_all = preprocess_images(x_train_raw)
x_test = preprocess_images(x_test_raw)
print(x_train_all.shape, x_train_all.dtype, f"min {x_train_all.min()} max {x_train_all.max()}")
print(f"memory: {x_train_all.nbytes / 1e6:.1f} MB in float32, {x_train_all.nbytes * 2 / 1e6:.1f} MB in float64; "
      f"the full training set takes {60000 * 784 * 4 / 1e6:.0f} MB in float32")
print("row 0 read back as an image equals the original:",
      np.array_equal((x_train_all[0] * 255).round().reshape(28, 28), x_train_raw[0]))

# %% [markdown]
# ## Labels as one-hot vectors
#
# The network outputs ten probabilities $p_{i0}, \dots, p_{i9}$ for image $i$. To compare them with
# the true label $y_i$ we write the label as a probability distribution too: all its mass on the
# true class. This is **one-hot encoding**:
#
# $$ Y_{ik} = \begin{cases} 1 & \text{if } y_i = k \\ 0 & \text{otherwise} \end{cases}
#    \qquad \text{e.g. } y_i = 3 \;\mapsto\; Y_i = (0, 0, 0, 1, 0, 0, 0, 0, 0, 0). $$
#
# Lesson 03's cross-entropy is then a sum over classes, $-\sum_k Y_{ik} \log p_{ik}$, in which only
# the true class survives: $-\log p_{i, y_i}$. Columns are numbered from 0, so digit $k$ goes in
# column $k$. Row $k$ of the $10 \times 10$ identity matrix is exactly the one-hot vector of $k$.
#
# ### Your turn: `one_hot`

# %%
print("labels:", y_train[:5])
print(one_hot(y_train[:5]))

# %% [markdown]
# ## A validation set: never tune on the test set
#
# You will make choices: the learning rate, the number of epochs, the width of the hidden layer.
# Each choice is made by looking at how well the network does on data it was not trained on. If
# that data is the test set, the test set has quietly become part of training, and the final test
# accuracy is an optimistic guess rather than a measurement. So we hold out a **validation set**
# from the training data for all tuning, and touch the test set once, at the very end (lesson 06).
#
# The split must be random (the files are not in random order) and reproducible: one permutation
# of the indices drawn from `np.random.default_rng(seed)`, cut in two, applied to **both** `x`
# and `y` so every image keeps its label.
#
# ### Your turn: `train_val_split`

# %%
val_size = 5000 if is_full else 1000
x_train, y_train_part, x_val, y_val = train_val_split(x_train_all, y_train, val_size=val_size, seed=0)
print(f"train {x_train.shape}, validation {x_val.shape}")
print("validation examples per digit:", np.bincount(y_val, minlength=10))

# %% [markdown]
# ## Mini-batches
#
# Training (lesson 05) updates the weights after looking at a small batch of $B$ examples at a
# time: the gradient of the mean loss over a batch is a noisy but cheap estimate of the gradient
# over the whole training set. One pass over the data, an **epoch**, is
# $\lceil N / B \rceil$ batches. Each epoch visits the examples in a new random order (otherwise
# the network sees the same batches in the same order every time), and the last batch is simply
# smaller when $B$ does not divide $N$: dropping it would mean some examples are never learned from.
#
# `iterate_minibatches` is a *generator*: it `yield`s one batch at a time, so no copy of the whole
# shuffled data set is ever made. Pass it an int seed for a reproducible order, or a
# `np.random.Generator` that advances from epoch to epoch.
#
# ### Your turn: `iterate_minibatches`

# %%
sizes = [len(yb) for _, yb in iterate_minibatches(x_train, y_train_part, batch_size=128, seed=0)]
print(f"{len(sizes)} batches; the first {sizes[:3]}, the last {sizes[-1]}; {sum(sizes)} examples in all")
rng = np.random.default_rng(0)
for epoch in range(2):
    _, yb = next(iterate_minibatches(x_train, y_train_part, batch_size=10, seed=rng))
    print(f"epoch {epoch}: first batch's labels {yb}")

# %% [markdown]
# ## The same digits from Kaggle
#
# Kaggle's *Digit Recognizer* competition serves MNIST as CSV text: `train.csv` has a header line
# `label,pixel0,...,pixel783` and one image per line; `test.csv` has the same without the label
# column. `read_kaggle_csv` reads both into the same arrays as `load_mnist`, with `labels=None`
# when there is no label column. Below we write five images in Kaggle's format and read them back.
#
# ### Your turn: `read_kaggle_csv`

# %%
folder = Path(tempfile.mkdtemp())
header = ",".join(["label"] + [f"pixel{i}" for i in range(784)])
rows = np.column_stack([y_test[:5], x_test_raw[:5].reshape(5, 784)])
np.savetxt(folder / "train.csv", rows, fmt="%d", delimiter=",", header=header, comments="")
np.savetxt(folder / "test.csv", rows[:, 1:], fmt="%d", delimiter=",", header=header[len("label,"):], comments="")

images, kaggle_labels = read_kaggle_csv(folder / "train.csv")
print(images.shape, images.dtype, kaggle_labels)
print("same pixels as the IDX file:", np.array_equal(images.reshape(5, 28, 28), x_test_raw[:5]))
print("test.csv labels:", read_kaggle_csv(folder / "test.csv")[1])

# %% [markdown]
# ## What the network will see first
#
# Everything together: the first shuffled mini-batch of 16 training examples, exactly as lesson 05
# will feed it to the network, drawn back as images from the float32 rows with their labels.

# %%
xb, yb = next(iterate_minibatches(x_train, y_train_part, batch_size=16, seed=0))
fig, axes = plt.subplots(2, 8, figsize=(10, 3))
for ax, row, label in zip(axes.flat, xb, yb):
    ax.imshow(row.reshape(28, 28), vmin=0, vmax=1)
    ax.set_title(f"label {label}", fontsize=9)
    ax.axis("off")
fig.suptitle(f"Your first mini-batch: xb {xb.shape} {xb.dtype}, yb {yb.shape}")
plt.show()

# %% [markdown]
# ## Check your work
#
# ```bash
# pytest checks/lesson_01
# ```
#
# Every check is named as a sentence; a failing one tells you what was called, what came back,
# what was expected and what mistake it looks like. Next, in lesson 02, these rows of 784 numbers
# go through the network for the first time.
