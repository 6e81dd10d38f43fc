# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Lesson 05: training with mini-batch SGD
#
# Lessons 02 to 04 gave you a network, a number that says how wrong it is (the loss) and the
# direction in which every weight should move to make it less wrong (the gradient). Training is
# nothing more than taking that step, over and over, on small random batches of images. At the
# end of this lesson your own code trains the network to about 98% on the full MNIST set.
#
# **You will write** (in `lesson_05/sgd.py`): `sgd_update`, `momentum_update`, `cosine_lr`,
# `train_step` and `fit`. **Check your work** with `pytest checks/lesson_05`.

# %%
# Make `lessons` name the folder this notebook sits in (the website runs it on the reference).
# %load_ext autoreload
# %autoreload 2
from course.notebook import setup

setup()

import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import clear_output, display
from threadpoolctl import threadpool_limits

from course.datasets import resolve_data_dir
from lessons.lesson_01.data import iterate_minibatches, load_mnist, one_hot, preprocess_images, train_val_split
from lessons.lesson_02.forward import forward, init_params
from lessons.lesson_03.loss import accuracy, cross_entropy
from lessons.lesson_04.backward import backward
from lessons.lesson_05.sgd import cosine_lr, fit, momentum_update, sgd_update, train_step

data_dir, is_full = resolve_data_dir()
(x_raw, y_all), _ = load_mnist(data_dir)
x_train, y_train, x_val, y_val = train_val_split(preprocess_images(x_raw), y_all,
                                                 val_size=5000 if is_full else 1000, seed=0)
print(f"{'full MNIST' if is_full else 'embedded subset'}: {len(x_train):,} training and "
      f"{len(x_val):,} validation images")

# %% [markdown]
# ## Gradient descent
#
# The gradient $\nabla_\theta L$ points in the direction in which the loss grows fastest. To make
# the loss smaller, step the other way, by a small multiple $\eta$ of it, the **learning rate**:
#
# $$ \theta \leftarrow \theta - \eta \, \nabla_\theta L \qquad \text{for every parameter } \theta \in \{W_1, b_1, W_2, b_2\}. $$
#
# `sgd_update(params, grads, lr)` does this for every entry of the dict and returns a *new* dict
# (the caller's weights are left alone, like every function of the course). The sign matters:
# `p + lr * g` climbs the loss instead, the most common bug in a first training loop.

# %%
params = {"W": np.array([[1.0, 2.0], [3.0, 4.0]]), "b": np.array([0.5, -0.5])}
grads = {"W": np.array([[10.0, -10.0], [0.0, 5.0]]), "b": np.array([1.0, 2.0])}
print(sgd_update(params, grads, lr=0.1))

# %% [markdown]
# ## Why mini-batches
#
# The loss is a mean over all $N$ training images, so its exact gradient needs a forward and a
# backward pass over all of them for a single step. A **mini-batch** of $B$ random images gives
# an *estimate* of that gradient, for $B/N$ of the cost. The estimate is noisy, but it is
# unbiased (right on average), and its error shrinks like $1/\sqrt{B}$. Below, on the starting
# weights: how far a batch's gradient is from the full one, and what one gradient costs.

# %%
params = init_params(seed=0)
x_big, y_big = x_train[:4096], one_hot(y_train[:4096])


def gradient_vector(p, x, y_onehot):
    _, cache = forward(p, x)
    g = backward(p, cache, y_onehot)
    return np.concatenate([g[k].ravel() for k in sorted(g)])


full = gradient_vector(params, x_big, y_big)
rng = np.random.default_rng(0)
sizes = [1, 4, 16, 64, 128, 512, 2048]
errors, costs = [], []
with threadpool_limits(limits=1):  # time on one core, so other programs disturb the timings less
    gradient_vector(params, x_big[:8], y_big[:8])  # a first call to warm up, not timed
    for b in sizes:
        errs, seconds = [], []
        for _ in range(20):
            idx = rng.choice(len(x_big), size=b, replace=False)
            start = time.perf_counter()
            g = gradient_vector(params, x_big[idx], y_big[idx])
            seconds.append(time.perf_counter() - start)
            errs.append(np.linalg.norm(g - full) / np.linalg.norm(full))
        costs.append(np.median(seconds))  # the median: robust to a busy machine
        errors.append(np.mean(errs))

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained")
ax1.loglog(sizes, errors, "o-", label="measured")
ax1.loglog(sizes, errors[0] / np.sqrt(sizes), "--", color="gray", label=r"$\propto 1/\sqrt{B}$")
ax1.set(xlabel="batch size B", ylabel="relative error of the gradient", title="noise falls like 1/sqrt(B)")
ax1.legend()
ax2.loglog(sizes, np.array(costs) * 1e3, "o-", label="one gradient")
ax2.loglog(sizes, np.array(costs) * 1e3 / np.array(sizes), "s-", label="per image")
ax2.set(xlabel="batch size B", ylabel="milliseconds", title="cost: grows slower than B")
ax2.legend()
plt.show()
for b, e, c in zip(sizes, errors, costs):
    print(f"B = {b:>4}: relative error {e:5.2f}, {c * 1e3:6.2f} ms per gradient")

# %% [markdown]
# Two lessons from the plot. A single batch's gradient is far from the exact one (at $B = 128$ its
# error is more than half the length of the gradient itself), but the errors of successive batches point in
# different, random directions and mostly cancel over many steps, while what they share, the true
# gradient, adds up. So in the time of one exact step we take dozens of noisy steps that get much
# further. And the cost *per image* falls as the batch grows (NumPy multiplies one big matrix
# faster than many small ones), until the matrices are big enough to keep the processor busy.
# Batches of 64 to 256 are the usual compromise; we use 128. The noise is not even all bad: it
# shakes the weights out of narrow minima that generalise poorly.
#
# ## One training step
#
# `train_step(params, xb, yb_onehot, lr)` chains the lessons: forward (02), cross-entropy (03),
# backward (04), update. It returns the new weights and the batch's loss *before* the update.
# An **epoch** is one pass over the training set in shuffled mini-batches (lesson 01's
# `iterate_minibatches`): every image once, in a new order every epoch.
#
# ## What the learning rate does
#
# Here are two epochs of plain SGD with a constant learning rate on the same data, for four
# learning rates. Each curve is the loss of every mini-batch.

# %%
def train_plain(lr, epochs=2, seed=0):
    p, losses = init_params(seed=seed), []
    shuffler = np.random.default_rng(seed)  # one generator: a new order every epoch
    for _ in range(epochs):
        for xb, yb in iterate_minibatches(x_train, y_train, 128, shuffle=True, seed=shuffler):
            with np.errstate(all="ignore"):
                p, _, loss = train_step(p, xb, one_hot(yb), lr)
            losses.append(loss)
    return losses


fig, ax = plt.subplots(figsize=(8, 4))
for lr, label in [(0.003, "0.003: too small"), (0.05, "0.05: slow but steady"),
                  (0.5, "0.5: good"), (8.0, "8.0: too large")]:
    losses = np.array(train_plain(lr))
    ax.plot(np.clip(losses, 0, 5), label=f"lr = {label} (last {losses[-1]:.3g})", linewidth=1)
ax.set(xlabel="step (mini-batch)", ylabel="batch loss (clipped at 5)", ylim=(0, 5),
       title="the same network and batches, four learning rates")
ax.legend()
plt.show()

# %% [markdown]
# Too small, and the loss creeps down: the steps are safe but tiny. Too large, and each step
# overshoots the valley it was meant to descend, so the loss jumps around or explodes (the
# softmax saturates and the loss sticks at $-\log \epsilon$ or becomes `nan`). The good learning
# rate is close to the largest that does not diverge. There is no formula for it: it is found by
# trying a few values on a **validation set**, never on the test set.
#
# ## Momentum
#
# The loss surface of a network is full of long, narrow valleys: steep across, almost flat
# along. Plain gradient descent zig-zags across such a valley (a learning rate large enough to
# move along it overshoots across it) and crawls along its floor. **Momentum** keeps a velocity,
# a decaying sum of the previous steps:
#
# $$ v \leftarrow \mu v - \eta \nabla_\theta L, \qquad \theta \leftarrow \theta + v, \qquad \mu = 0.9. $$
#
# Where the gradient keeps its direction (along the valley) the steps add up, up to
# $1/(1 - \mu) = 10$ times a plain step; where it flips sign (across the valley) they cancel. The
# velocity starts at zero: `momentum_update(params, grads, None, lr)` treats `None` as zeros.
# Here is a 2-D valley $L(w) = \frac{1}{2}(w_1^2 + 100\, w_2^2)$, 100 times steeper across than
# along: 40 steps of each method, with the same learning rate.

# %%
def valley_path(lr, momentum, steps=40):
    p, v, path = {"w": np.array([-9.0, 1.5])}, None, []
    for _ in range(steps):
        path.append(p["w"])
        g = {"w": p["w"] * np.array([1.0, 100.0])}  # the gradient of L: (w1, 100 w2)
        if momentum:
            p, v = momentum_update(p, g, v, lr, momentum)
        else:
            p = sgd_update(p, g, lr)
    path.append(p["w"])
    return np.array(path)


w1, w2 = np.meshgrid(np.linspace(-10, 4, 200), np.linspace(-1.8, 1.8, 200))
fig, ax = plt.subplots(figsize=(9, 3.6))
ax.contour(w1, w2, 0.5 * (w1**2 + 100 * w2**2), levels=np.geomspace(0.05, 300, 14), cmap="Greys", linewidths=0.6)
for mu, label in [(0.0, "plain gradient descent"), (0.9, "momentum 0.9")]:
    path = valley_path(0.018, mu)
    loss = 0.5 * (path[-1] ** 2 * [1, 100]).sum()
    ax.plot(path[:, 0], path[:, 1], "o-", markersize=3, label=f"{label}: L = {loss:.3g} after 40 steps")
ax.plot(0, 0, "k*", markersize=10)
ax.set(xlabel="$w_1$ (flat direction)", ylabel="$w_2$ (steep direction)", title="a narrow valley, lr = 0.018")
ax.legend(loc="lower right", fontsize=8)
plt.show()

# %% [markdown]
# Plain gradient descent bounces across the steep direction (a larger learning rate would make
# it diverge there) and crawls along the flat one: each step shrinks $w_1$ by only 1.8%. Momentum
# builds up speed along the floor, overshoots the minimum (the star), swings back, and after 40
# steps its loss is about a hundred times smaller. On MNIST, momentum 0.9 lets the
# network reach in a few epochs what plain SGD needs many more for.
#
# ## A learning-rate schedule
#
# Large steps are right at the start, far from any minimum; near the end they only make the
# weights rattle around the bottom. A **schedule** lowers the learning rate as training goes on.
# The cosine schedule starts at $\eta_{max}$, stays high for a while, falls fastest in the
# middle and lands softly on $\eta_{min}$ after $T$ steps:
#
# $$ \eta_t = \eta_{min} + (\eta_{max} - \eta_{min}) \, \frac{1 + \cos(\pi t / T)}{2}. $$
#
# `fit` calls `cosine_lr` at *every step* $t$, with $T$ the number of steps of the whole run:
# 10 epochs of $\lceil 55{,}000 / 128 \rceil = 430$ batches are $T = 4{,}300$ steps.

# %%
T = 10 * 430
steps = np.arange(T + 1)
fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(steps, [cosine_lr(t, T, 0.16) for t in steps], label="cosine_lr(t, T, 0.16)")
ax.plot(steps, [cosine_lr(t, T, 0.16, lr_min=0.02) for t in steps], label="with lr_min = 0.02")
ax.axhline(0.16, color="gray", linestyle=":", label="constant (schedule=None)")
for epoch in range(1, 10):
    ax.axvline(epoch * 430, color="gray", linewidth=0.3)
ax.set(xlabel="step t (thin lines: epochs)", ylabel="learning rate", title="the cosine schedule")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Your turn: `fit`
#
# `fit` is the whole training loop: make one generator from the seed, then for every epoch draw
# shuffled mini-batches from it, one-hot encode each batch's labels, take a `train_step` with the
# scheduled learning rate and the velocity of the previous step, and record the history. After
# each epoch it measures the validation accuracy and calls `callback(epoch, params, history)`.
# The callback below redraws the loss curve live. Its defaults (batch 128, momentum 0.9,
# learning rate cosine-decayed from 0.16 over 10 epochs) were chosen on a validation split.

# %%
def live_plot(epoch, params, history):
    clear_output(wait=True)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
    per_epoch = len(history["batch_loss"]) / (epoch + 1)
    ax1.plot(np.arange(len(history["batch_loss"])) / per_epoch, history["batch_loss"], alpha=0.4, linewidth=0.7)
    ax1.plot(np.arange(1, epoch + 2), history["epoch_loss"], "o-")
    ax1.set(xlabel="epoch", ylabel="loss", yscale="log", title=f"training loss, epoch {epoch + 1}")
    ax2.plot(np.arange(1, epoch + 2), history["val_accuracy"], "o-", color="C1")
    ax2.set(xlabel="epoch", ylabel="accuracy", title=f"validation accuracy {history['val_accuracy'][-1]:.2%}")
    display(fig)
    plt.close(fig)


start = time.perf_counter()
params, history = fit(init_params(seed=0), x_train, y_train, x_val, y_val, epochs=10, seed=0, callback=live_plot)
print(f"trained in {time.perf_counter() - start:.1f}s")

# %% [markdown]
# Your network, trained by your code, on images it has never seen during training:

# %%
probs, _ = forward(params, x_val)
print(f"validation accuracy: {accuracy(probs, y_val):.2%} on {len(x_val):,} images "
      f"({'full MNIST' if is_full else 'embedded subset: about 95% is expected; the full set gives about 98%'})")
print(f"validation loss: {cross_entropy(probs, one_hot(y_val)):.4f}")

# %% [markdown]
# The training loss keeps falling long after the validation accuracy has levelled off: the network
# starts to memorise its training images. That is why we judge it on images it never trained on.
# Lesson 06 looks at *which* digits it gets wrong. To train on the full set from the command line,
# with a progress bar, the figures and the saved weights:
#
# ```bash
# course data           # once: downloads the full MNIST set
# course train          # trains your lessons/ and writes runs/<date>-<time>/
# ```
#
# ## Check your work
#
# ```bash
# pytest checks/lesson_05
# ```
