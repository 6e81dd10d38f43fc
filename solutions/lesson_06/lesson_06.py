# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Lesson 06: evaluation
#
# After lesson 05 your network trains, and one number says how well: the test accuracy. This
# lesson opens that number up. Which digits does the network get wrong, what does it take them
# for, and are some of its answers more trustworthy than others? At the end you will look at the
# very images your own network misreads, and write a file you could submit to Kaggle.
#
# **You will write** (in `lesson_06/evaluate.py`): `predict`, `confusion_matrix`,
# `precision_recall_f1`, `most_confused_pairs`, three figures (`plot_confusion_matrix`,
# `plot_misclassified`, `plot_history`) and `write_kaggle_submission`.
# **Check your work** with `pytest checks/lesson_06`.

# %%
# Make `lessons` name the folder this notebook sits in (the website runs it on the reference).
# %load_ext autoreload
# %autoreload 2
from course.notebook import setup

setup()

import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from course.datasets import resolve_data_dir
from lessons.lesson_01.data import load_mnist, preprocess_images, train_val_split
from lessons.lesson_02.forward import init_params
from lessons.lesson_05.sgd import fit
from lessons.lesson_06.evaluate import (confusion_matrix, most_confused_pairs, plot_confusion_matrix,
                                        plot_history, plot_misclassified, precision_recall_f1, predict,
                                        write_kaggle_submission)

data_dir, is_full = resolve_data_dir()
(x_train_raw, y_train_all), (x_test_raw, y_test) = load_mnist(data_dir)
x_train_all, x_test = preprocess_images(x_train_raw), preprocess_images(x_test_raw)
print(f"{'full MNIST' if is_full else 'embedded subset'} from {data_dir}: "
      f"{len(x_train_all)} training and {len(x_test)} test images")

# %% [markdown]
# ## Why accuracy alone hides things
#
# Accuracy is the fraction of right answers, $\frac{1}{N}\sum_n [\hat y_n = y_n]$. It treats every
# mistake alike and says nothing about *where* they are. Here is a made-up classifier that is
# perfect on every digit except one: it reads every 5 as a 3.

# %%
lazy_pred = np.where(y_test == 5, 3, y_test).astype(np.int64)
print(f"accuracy of the classifier that never says 5: {np.mean(lazy_pred == y_test):.1%}")

# %% [markdown]
# About 90%: a respectable number, for a classifier that is *useless* on one digit in ten. On
# real data the damage is rarely this tidy: a network may be 99.5% right on 1s and 95% right
# on 8s, and the single number averages that away. To see it we count, for every true digit,
# what the classifier said.
#
# ## The confusion matrix
#
# For $C$ classes, the confusion matrix $M$ is a $C \times C$ table of counts:
#
# $$ M_{ij} = \#\{\, n : y_n = i,\ \hat y_n = j \,\}, $$
#
# **row $i$ = the true digit, column $j$ = the prediction** (scikit-learn's convention, and ours).
# The diagonal $M_{ii}$ counts correct answers; everything off the diagonal is a mistake, and
# *where* it sits says which digit was taken for which. Row sums $\sum_j M_{ij}$ count how often
# each digit occurs; column sums $\sum_i M_{ij}$ how often each was predicted; the total is $N$.
# Accuracy is the trace over the total, $\sum_i M_{ii} / N$: the matrix holds it and much more.
#
# Counting is one line in NumPy: `np.add.at(cm, (y_true, y_pred), 1)` adds 1 at
# `cm[y_true[n], y_pred[n]]` for every `n`. (The tempting `cm[y_true, y_pred] += 1` counts a pair
# that occurs twice only *once*: fancy-index assignment does not accumulate.)
#
# ### Your turn: `confusion_matrix` and `plot_confusion_matrix`

# %%
cm_lazy = confusion_matrix(y_test, lazy_pred)
print(cm_lazy)
fig = plot_confusion_matrix(cm_lazy)
plt.show()

# %% [markdown]
# Row 5 is empty on the diagonal and all its images sit in column 3: the matrix names the
# mistake that the accuracy hid. Column 3 now also holds twice as many images as it should,
# which leads to two different questions about a class $k$:
#
# ## Precision, recall and F1
#
# * **Precision**: when the network *says* $k$, how often is it right? That is column $k$:
#   $$ P_k = \frac{M_{kk}}{\sum_i M_{ik}}. $$
# * **Recall**: of the images that *are* $k$, how many does it find? That is row $k$:
#   $$ R_k = \frac{M_{kk}}{\sum_j M_{kj}}. $$
# * **F1** sums both up in one number, their *harmonic* mean:
#   $$ F1_k = \frac{2 P_k R_k}{P_k + R_k} = \left(\frac{1}{2}\left(\frac{1}{P_k} + \frac{1}{R_k}\right)\right)^{-1}. $$
#
# Why harmonic? The arithmetic mean of $P = 1$ and $R = 0.1$ is $0.55$, which flatters a
# classifier that finds one image in ten; the harmonic mean is $0.18$, close to the worse of the
# two. F1 is high only when *both* are high.
#
# One edge case: a class that is never predicted has an empty column, and $0/0$ is undefined.
# We return 0 there (as scikit-learn does with `zero_division=0`), never `nan`: a `nan` would
# poison every average computed from the table. `np.divide(a, b, out=np.zeros_like(a), where=b > 0)`
# divides only where it can.
#
# ### Your turn: `precision_recall_f1`

# %%
precision, recall, f1 = precision_recall_f1(cm_lazy)
print("digit  precision  recall    F1")
for k in range(10):
    print(f"{k:>5}  {precision[k]:9.3f}  {recall[k]:6.3f}  {f1[k]:5.3f}")

# %% [markdown]
# Digit 5 has recall 0 (none found) and precision 0 (never predicted: $0/0 \to 0$); digit 3 keeps
# recall 1 but its precision halves, because half of what the classifier calls "3" is really a 5.
#
# ## The most confused pairs
#
# On a real network the off-diagonal cells are spread thin, and a sorted list reads faster than
# a picture: zero the diagonal of a *copy* (the caller's matrix stays as it was), then take the
# largest cells.
#
# ### Your turn: `most_confused_pairs`

# %%
print(most_confused_pairs(cm_lazy, k=3))

# %% [markdown]
# ## Your turn: train your own network and evaluate it
#
# Now the real thing. Below, your `fit` from lesson 05 trains your network from lesson 02 on the
# training images (the embedded subset of 6,000 images by default: a few seconds; on full MNIST,
# after `course data`, it takes a little longer and reaches about 98%). A validation split is
# held out for the learning curve; the test set is used only at the very end.
#
# `predict` runs your `forward` and keeps, for every image, the class with the largest
# probability: $\hat y_n = \arg\max_k p_{nk}$, an `argmax` over `axis=1` (each row is one image).

# %%
val_size = 5000 if is_full else len(x_train_all) // 10
x_train, y_train, x_val, y_val = train_val_split(x_train_all, y_train_all, val_size=val_size, seed=0)
params = init_params((784, 128, 10), seed=0)
start = time.perf_counter()
params, history = fit(params, x_train, y_train, x_val, y_val, epochs=10, batch_size=128, lr=0.16,
                      momentum=0.9, schedule="cosine", seed=0)
print(f"trained on {len(x_train)} images in {time.perf_counter() - start:.1f} s; "
      f"validation accuracy per epoch: {np.round(history['val_accuracy'], 3)}")

y_pred = predict(params, x_test)
print(f"test accuracy: {np.mean(y_pred == y_test):.2%} on {len(y_test)} test images")

# %% [markdown]
# ### The learning curves: `plot_history`
#
# The loss of every mini-batch is noisy (each batch is a different sample of 128 images), so it is
# drawn light; the mean loss of every epoch sits on top of it. The validation accuracy, measured
# on images the network never trained on, says whether the falling loss is real learning or
# memorisation: if it stopped rising while the loss kept falling, the network would be overfitting.

# %%
fig = plot_history(history)
plt.show()

# %% [markdown]
# ### What the confusion matrix of your network reveals

# %%
cm = confusion_matrix(y_test, y_pred)
fig = plot_confusion_matrix(cm)
plt.show()

precision, recall, f1 = precision_recall_f1(cm)
support = cm.sum(axis=1)
print("digit  precision  recall     F1  images")
for k in range(10):
    print(f"{k:>5}  {precision[k]:9.3f}  {recall[k]:6.3f}  {f1[k]:5.3f}  {support[k]:>6}")
print(f"  all  {precision.mean():9.3f}  {recall.mean():6.3f}  {f1.mean():5.3f}  {support.sum():>6}  (macro average)")

print("\nmost confused (true, predicted, count):")
for true, pred, count in most_confused_pairs(cm, k=5):
    print(f"  a {true} read as {pred}: {count} times")

# %% [markdown]
# The diagonal dominates, but the off-diagonal cells are not random. Networks of this kind (and
# people) typically mix up the same pairs:
#
# * **4 and 9**: a 4 whose top is closed is a 9 with a straight stem; only the gap at the top
#   tells them apart, a handful of pixels.
# * **3 and 5**: both end in the same lower bowl; the difference is the top stroke, curved for a
#   3 and square for a 5.
# * **7 and 2**, **7 and 1**: a 7 with a curly stem looks like a 2 without its base, a 7 with a
#   short bar like a 1.
# * **8** gets confused with almost everything (3, 5, 9): its loops contain their strokes.
#
# The network sees no strokes, only 784 pixel intensities: two digits that light up mostly the
# same pixels are close for it. The matrix is not symmetric either: "a 4 read as 9" and "a 9
# read as 4" are different cells and rarely equal. Your pairs may differ a little from this list
# (and from one seed to another): the subset's test set has 100 images per digit, so a cell of 3
# is a 3% error rate for that digit.
#
# ## A Kaggle submission: `write_kaggle_submission`
#
# Kaggle's *Digit Recognizer* competition gives 28,000 unlabelled images in `test.csv` and expects
# a CSV file with a header `ImageId,Label` and one row per image, **numbered from 1**. Lesson 01's
# `read_kaggle_csv` reads their files; here we write our MNIST test predictions the same way (to a
# temporary folder: with Kaggle's `test.csv` you would predict on its images instead).

# %%
with tempfile.TemporaryDirectory() as out_dir:
    path = write_kaggle_submission(Path(out_dir) / "kaggle" / "submission.csv", y_pred)
    lines = path.read_text().splitlines()
print(f"{path.name}: {len(lines) - 1} predictions")
print("\n".join(lines[:4] + ["..."]))

# %% [markdown]
# ## Your network's mistakes: `plot_misclassified`
#
# Numbers summarise; the images explain. Here are test digits that *your* network got wrong, each
# titled with the true label and what the network said. Some are honest mistakes; some you
# would get wrong too (and a few MNIST labels are arguably wrong themselves).

# %%
fig = plot_misclassified(x_test, y_test, y_pred, n=24)
plt.show()

# %% [markdown]
# ## Check your work
#
# ```bash
# pytest checks/lesson_06
# ```
#
# That was the last lesson: `course train` now trains your network from `lessons/` on the full
# set, and `course progress` shows every lesson you have finished.
