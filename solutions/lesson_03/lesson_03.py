# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Lesson 03: the loss
#
# In lesson 02 you built a network that turns an image into ten probabilities. With random
# weights its guesses are near-uniform and mostly wrong. Training (lessons 04 and 05) will nudge
# the weights, over and over, in the direction that makes the network *less wrong*. For that we
# need one number that says how wrong it is, and that changes smoothly when a weight changes:
# the **loss**.
#
# **You will write** (in `lesson_03/loss.py`): `cross_entropy`, `log_softmax`,
# `cross_entropy_from_logits` and `accuracy`. **Check your work** with `pytest checks/lesson_03`.
#
# ## Why not just use accuracy?
#
# Accuracy, the fraction of images whose most probable digit is the right one, is what we
# finally care about. But it is a poor guide for training. Move a weight a tiny bit and almost
# always no image changes its top guess: accuracy stays exactly the same, so its slope (its
# gradient) is 0 almost everywhere, and where it does change, it jumps. Gradient descent needs a
# slope that says which way is better, and how much better. Accuracy also ignores *confidence*:
# a right answer given with probability 0.11 counts as much as one given with probability 0.99.
#
# The loss fixes both: it looks at the probability the network gives to the true class, so every
# small change in a weight changes it a little. You will see both curves side by side at the end
# of this lesson.

# %%
# Make `lessons` name the folder this notebook sits in (the website runs it on the reference).
# %load_ext autoreload
# %autoreload 2
from course.notebook import setup

setup()

import matplotlib.pyplot as plt
import numpy as np

from course.datasets import resolve_data_dir
from lessons.lesson_01.data import load_mnist, one_hot, preprocess_images
from lessons.lesson_02.forward import forward, init_params, softmax
from lessons.lesson_03.loss import accuracy, cross_entropy, cross_entropy_from_logits, log_softmax

data_dir, is_full = resolve_data_dir()
(x_train_raw, y_train), (x_test_raw, y_test) = load_mnist(data_dir)
x_test = preprocess_images(x_test_raw)
y_test_onehot = one_hot(y_test)
print(f"{'full MNIST' if is_full else 'embedded subset'} from {data_dir}: "
      f"x_test {x_test.shape} {x_test.dtype}, y_test_onehot {y_test_onehot.shape}")

# %% [markdown]
# ## Cross-entropy, from the likelihood
#
# The network gives image $i$ a probability $p_{ik}$ for every class $k$. If $y_i$ is its true
# digit, the probability that the network assigns to *all* the right answers of a batch at once
# (treating the images as independent) is the **likelihood**
#
# $$ \mathcal{L} = \prod_{i=1}^{N} p_{i, y_i}. $$
#
# A good network makes it large. A product of thousands of numbers below 1 underflows to 0, so we
# take its log (which turns the product into a sum and keeps the same best weights), flip the
# sign so that smaller is better, and divide by $N$ so the number does not grow with the batch:
#
# $$ L = -\frac{1}{N} \sum_{i=1}^{N} \log p_{i, y_i}. $$
#
# With one-hot labels $y_{ik}$ (1 for the true class, 0 elsewhere, from lesson 01's `one_hot`),
# picking out $p_{i, y_i}$ is the same as a sum over classes in which only one term survives:
#
# $$ L = -\frac{1}{N} \sum_{i=1}^{N} \sum_{k=1}^{C} y_{ik} \log p_{ik}. $$
#
# This is the **categorical cross-entropy** between the labels and the predictions. The log is
# the natural log (`np.log`); with `np.log10` or `np.log2` the loss would be scaled by a constant
# and every gradient with it. Each example costs $-\log p$ of its true class:

# %%
p = np.linspace(1e-3, 1, 500)
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(p, -np.log(p))
for q in (1.0, 0.5, 0.1, 0.01):
    ax.plot(q, -np.log(q), "o", color="C3")
    ax.annotate(f"p = {q}: loss {abs(np.log(q)):.2f}", (q, -np.log(q)), textcoords="offset points",
                xytext=(8, 6), fontsize=8)
ax.set_xlabel("p, the probability given to the true class")
ax.set_ylabel("loss -log p")
ax.set_title("Sure and right costs 0; sure and wrong costs without bound", fontsize=10)
plt.show()

# %% [markdown]
# A confident right answer ($p = 1$) costs nothing. Halving the probability of the true class
# always adds the same $\log 2 \approx 0.69$, and a probability near 0 costs a lot: the loss
# punishes confident mistakes much more than hesitant ones.
#
# ## Why the clip
#
# A probability can be exactly 0 in floating point (softmax of logits 1000 apart gives
# $e^{-1000}$, which is 0 in float64). Then $\log 0 = -\infty$, the loss is `inf`, and a zero
# probability of a *wrong* class gives $0 \cdot \log 0 = 0 \cdot (-\infty)$ = `nan`, which spreads
# into every number it touches. So `cross_entropy` clips the probabilities into
# $[\epsilon, 1]$ before the log, with $\epsilon = 10^{-12}$: a probability of 0 then costs
# $-\log \epsilon \approx 27.6$, large but finite.
#
# $$ L = -\frac{1}{N} \sum_{i=1}^{N} \sum_{k=1}^{C} y_{ik} \log \mathrm{clip}(p_{ik}, \epsilon, 1) $$

# %%
probs_demo = np.array([[0.25, 0.5, 0.25], [1.0, 0.0, 0.0]])
y_demo = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
with np.errstate(divide="ignore", invalid="ignore"):
    unclipped = -(y_demo * np.log(probs_demo)).sum(axis=1)
print("per example, without a clip:", unclipped)
print("-log(1e-12) =", -np.log(1e-12))

# %% [markdown]
# ### Your turn: `cross_entropy`
# Fill in `cross_entropy` in `loss.py`. The first example gives the true class probability 1/2,
# so its loss is $\log 2 = 0.693$; the second gives it probability 0, so its loss is
# $-\log \epsilon = 27.6$; the batch's loss is their mean. Work on whole arrays: no Python loop.

# %%
print("first example alone:", cross_entropy(probs_demo[:1], y_demo[:1]), " log 2 =", np.log(2))
print("the batch of two:   ", cross_entropy(probs_demo, y_demo), " expected", (np.log(2) - np.log(1e-12)) / 2)

# %% [markdown]
# ## The log-sum-exp trick: computing the loss from the logits
#
# The clip keeps the loss finite but makes it *wrong*: every probability below $10^{-12}$ costs
# the same 27.6, no matter how confidently wrong the network is, and the loss stops saying "you
# are more wrong here". The fix is to never form the probability at all. Take the log of softmax
# directly, with the logits $z$:
#
# $$ \log p_{ij} = \log \frac{e^{z_{ij}}}{\sum_k e^{z_{ik}}} = z_{ij} - \log \sum_k e^{z_{ik}}. $$
#
# The second term, the **log-sum-exp**, still overflows for $z = 1000$. But for any constant
# $m$, $\sum_k e^{z_k} = e^m \sum_k e^{z_k - m}$, so with $m_i = \max_k z_{ik}$
#
# $$ \log p_{ij} = z_{ij} - m_i - \log \sum_k e^{z_{ik} - m_i}. $$
#
# Every exponent $z_{ik} - m_i$ is at most 0, so nothing overflows; and the largest one is
# exactly 0, so the sum is at least 1 and its log never meets $\log 0$. That is `log_softmax`,
# and the loss from the logits is
#
# $$ L = -\frac{1}{N} \sum_{i=1}^{N} \sum_{k=1}^{C} y_{ik} \, \mathrm{log\_softmax}(z)_{ik}. $$
#
# A worked example: logits $[1000, 0]$, true class 1. Exactly,
# $\log p_1 = 0 - 1000 - \log(1 + e^{-1000}) = -1000$ (to 400 digits), so the loss is 1000.

# %%
z_demo = np.array([[1000.0, 0.0]])
y_one = np.array([[0.0, 1.0]])
p_demo = softmax(z_demo)  # lesson 02's stable softmax: [1, exp(-1000)] = [1, 0]
with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
    print("probabilities:            ", p_demo)
    print("-log p, no clip:          ", -np.log(p_demo[0, 1]))
    print("cross_entropy with a clip:", cross_entropy(p_demo, y_one))
    print("log(sum(exp(z))), no max: ", np.log(np.exp(z_demo).sum()))

# %% [markdown]
# The probability route gives `inf` without the clip and 27.6 with it; the naive log-sum-exp
# overflows to `inf`. Only the max trick gives 1000.
#
# ### Your turn: `log_softmax` and `cross_entropy_from_logits`
# Fill in both. `log_softmax` must give log-probabilities whose exponentials sum to 1 in every
# row, and the loss of the example above must be exactly 1000.

# %%
print("log_softmax([1000, 0]):        ", log_softmax(z_demo))
print("exp of it sums to:             ", np.exp(log_softmax(z_demo)).sum())
print("cross_entropy_from_logits:     ", cross_entropy_from_logits(z_demo, y_one))
z_moderate = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, 1.0]])
y_moderate = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
print("moderate logits, both routes:  ", cross_entropy_from_logits(z_moderate, y_moderate),
      cross_entropy(softmax(z_moderate), y_moderate))

# %% [markdown]
# ## float32 makes it worse
#
# The network trains in float32 (half the memory, about twice the speed), where $e^{x}$ overflows
# already at $x \approx 88.7$ and underflows to 0 below $x \approx -103$. Below, one example with
# logits $[d, 0]$ whose true class is 1 (so the exact loss is $\log(1 + e^d) \approx d$) as the
# gap $d$ grows. The probability route is stuck at $-\log \epsilon$ as soon as
# $p = 1 / (1 + e^d)$ falls under $\epsilon$; in float32 without a clip it turns into `inf`.

# %%
gaps = np.linspace(0, 150, 301)
routes = {"from logits (log_softmax), float32": [], "probabilities + clip 1e-12, float32": [],
          "probabilities, no clip, float32": []}
with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
    for d in gaps:
        z = np.array([[d, 0.0]], dtype=np.float32)
        routes["from logits (log_softmax), float32"].append(cross_entropy_from_logits(z, y_one.astype(np.float32)))
        p32 = softmax(z)
        routes["probabilities + clip 1e-12, float32"].append(cross_entropy(p32, y_one.astype(np.float32)))
        routes["probabilities, no clip, float32"].append(float(-np.log(p32[0, 1])))
fig, ax = plt.subplots(figsize=(7, 3.4))
for (label, values), (style, width) in zip(routes.items(), [("-", 5), ("--", 2), (":", 2)]):
    values = np.array(values)
    ax.plot(gaps, np.where(np.isfinite(values), values, np.nan), style, lw=width, label=label,
            alpha=0.5 if width > 2 else 1.0)
no_clip = np.array(routes["probabilities, no clip, float32"])
first_inf = gaps[np.argmax(~np.isfinite(no_clip))]
ax.axvline(first_inf, color="C2", lw=0.8)
ax.annotate(f"no clip: inf from d = {first_inf:.1f}", (first_inf, 60), xytext=(4, 0),
            textcoords="offset points", fontsize=8)
ax.annotate("clip: stuck at -log(1e-12) = 27.6", (60, 27.6), xytext=(0, 6), textcoords="offset points", fontsize=8)
ax.set_xlabel("gap d between the wrong logit and the true class's logit")
ax.set_ylabel("loss")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# From the logits the loss keeps growing with the mistake and never breaks; from the
# probabilities it flattens (a flat loss has no gradient, so training would stop correcting that
# example) and then breaks. This is why deep-learning libraries fuse softmax and cross-entropy
# into one function that takes logits (`torch.nn.functional.cross_entropy`, for example). Lesson 04
# will show a second reward: the gradient of the fused pair is simply $(p - y) / N$.
#
# ## The loss of an untrained network
#
# Before any training, what loss should we expect? He initialisation keeps the logits small
# (their spread is a fraction of 1), so softmax gives every digit a probability close to
# $1/10$, and each example costs about
#
# $$ -\log \tfrac{1}{10} = \log 10 \approx 2.303. $$
#
# The measured value is a little higher: the probabilities are not exactly uniform, and random
# deviations from uniform that do not know the true digit cost more on average than they save
# (the uniform guess is the best guess for a network that knows nothing). A first loss far from
# $\log 10$, say 10 or 50, means that something is off: weights that are too large, or a bug.
#
# ### Your turn: the loss of your untrained network
# This calls your `forward` from lesson 02 and your loss functions on the test images.

# %%
params = init_params((784, 128, 10), seed=0)
probs, cache = forward(params, x_test)
logits = cache["z2"]
loss_probs = cross_entropy(probs, y_test_onehot)
loss_logits = cross_entropy_from_logits(logits, y_test_onehot)
print(f"spread of the logits: {logits.std():.3f}")
print(f"cross_entropy(probs, y)              = {loss_probs:.4f}")
print(f"cross_entropy_from_logits(logits, y) = {loss_logits:.4f}")
print(f"log 10                               = {np.log(10):.4f}")

# %% [markdown]
# ## Accuracy
#
# The network's answer for an image is the class with the largest score: $\hat y_i = \arg\max_k
# s_{ik}$. Softmax never changes which score is largest, so the scores can be probabilities or
# logits. Accuracy is the fraction of right answers:
#
# $$ \mathrm{acc} = \frac{1}{N} \sum_{i=1}^{N} [\hat y_i = y_i]. $$
#
# It is a *fraction* in $[0, 1]$, not a count; and beware of integer division, where
# `3 // 4` is 0. `np.mean` of an array of booleans does the division for you.
#
# ### Your turn: `accuracy`
# An untrained network should be right about one time in ten, by chance.

# %%
print(f"accuracy from probabilities: {accuracy(probs, y_test):.3f}")
print(f"accuracy from logits:        {accuracy(logits, y_test):.3f}")
print(f"accuracy with one-hot labels: {accuracy(probs, y_test_onehot):.3f}")

# %% [markdown]
# ## Loss and accuracy along a line through weight space
#
# Now the promise of the start of this lesson. Take the untrained network and move its output
# weights along one direction, $W_2 + t\,D$, for a range of steps $t$, and measure both numbers
# on 100 test images at every step. $D$ is a direction in which the loss goes down at $t = 0$;
# computing such a direction for every weight is lesson 04's job, so here it is given.

# %%
x_line, y_line = x_test[:100], y_test[:100]
_, c0 = forward(params, x_line)
y_line_onehot = one_hot(y_line)
D = c0["h1"].T @ (y_line_onehot - c0["probs"])  # (128, 100) @ (100, 10) -> (128, 10)
D = D / np.abs(D).max()  # largest entry 1
steps = np.linspace(-0.25, 0.6, 171)
losses_line, accs_line = [], []
for t in steps:
    moved = dict(params, W2=params["W2"] + np.float32(t) * D)
    _, c = forward(moved, x_line)
    losses_line.append(cross_entropy_from_logits(c["z2"], y_line_onehot))
    accs_line.append(accuracy(c["z2"], y_line))
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.plot(steps, losses_line, color="C0")
ax.set_xlabel("step t along the direction D (t = 0: the untrained network)")
ax.set_ylabel("cross-entropy", color="C0")
ax.axvline(0, color="gray", lw=0.8)
ax2 = ax.twinx()
ax2.step(steps, accs_line, where="mid", color="C1")
ax2.set_ylabel("accuracy", color="C1")
ax.set_title("The loss changes smoothly; accuracy moves in flat steps", fontsize=10)
plt.show()

# %% [markdown]
# Between its jumps the accuracy curve is flat, with a slope of 0: standing at $t = 0$, it cannot
# tell which way is better. The loss has a slope everywhere, and it points the way. Notice also
# that the loss has a lowest point while accuracy keeps creeping up after it: past the bottom the
# network grows more *confident* faster than it grows right, and the loss, unlike accuracy,
# charges for confident mistakes. Training follows the loss and watches the accuracy.
#
# ## Something to see: where the loss of the untrained network comes from
#
# Each example's loss is $-\log p$ of its true class. On the left, the loss of every test image
# under your untrained network; on the right, the same losses against the probability the network
# gave to the true digit, on top of the curve $-\log p$ from the start of the lesson.

# %%
per_example = -log_softmax(logits)[np.arange(len(y_test)), y_test]  # (N,): -log p of the true class
p_true = probs[np.arange(len(y_test)), y_test]
fig, (ax_hist, ax_curve) = plt.subplots(1, 2, figsize=(10, 3.4))
ax_hist.hist(per_example, bins=40, color="C0")
ax_hist.axvline(np.log(10), color="C3", label=f"log 10 = {np.log(10):.2f}")
ax_hist.axvline(per_example.mean(), color="k", ls="--", label=f"mean = your loss, {per_example.mean():.2f}")
ax_hist.set_xlabel("loss of one test image")
ax_hist.legend(fontsize=8)
grid = np.linspace(0.03, 0.4, 200)
ax_curve.plot(grid, -np.log(grid), color="C3", label="-log p")
ax_curve.scatter(p_true, per_example, s=6, alpha=0.5, label="your test images")
ax_curve.axvline(0.1, color="gray", lw=0.8)
ax_curve.set_xlabel("probability given to the true digit")
ax_curve.set_ylabel("loss")
ax_curve.legend(fontsize=8)
fig.suptitle("An untrained network: probabilities near 1/10, losses near log 10", fontsize=10)
plt.show()

# %% [markdown]
# Every point sits on the curve: the loss *is* $-\log p$ of the true class, nothing more. The
# probabilities cluster around $1/10$, so the losses cluster around $\log 10$. Training will push
# the points to the left end of the curve, towards $p = 1$ and a loss of 0. To do that it needs
# to know how the loss changes when each weight changes: its gradient, in lesson 04.
#
# ## Check your work
#
# ```bash
# pytest checks/lesson_03
# ```
#
# Every check is named as a sentence; a failing one tells you what was called, what came back,
# what was expected and what mistake it looks like.
