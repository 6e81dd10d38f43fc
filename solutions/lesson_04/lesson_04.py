# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Lesson 04: backpropagation
#
# Lesson 03 gave the network a score, the loss $L$: how wrong its probabilities are on a batch.
# Training (lesson 05) lowers it by nudging every weight a little against its gradient,
# $W \leftarrow W - \eta \, \partial L / \partial W$. That needs $\partial L / \partial W$ for all
# 101,770 weights and biases, on every batch. **Backpropagation** computes all of them in one
# pass backwards through the network, for about the cost of one forward pass. It is nothing but
# the chain rule, applied layer by layer, with the arrays kept as whole matrices.
#
# **You will write** (in `lesson_04/backward.py`): `softmax_cross_entropy_backward`,
# `dense_backward`, `relu_backward` and `backward`; (in `lesson_04/gradcheck.py`)
# `numerical_gradient` and `rel_error`, a gradient checker that tells you whether your
# backward pass is right. **Check your work** with `pytest checks/lesson_04`.
#
# **Notation.** For any array $A$ of the forward pass, $dA$ (`dA` in code) means
# $\partial L / \partial A$: how much the loss changes per unit change of each entry of $A$.
# Because $L$ is one number, **$dA$ always has exactly the shape of $A$**. That single fact
# catches most backprop bugs before you run anything.

# %%
# Make `lessons` name the folder this notebook sits in (the website runs it on the reference).
# %load_ext autoreload
# %autoreload 2
from course.notebook import setup

setup()

import timeit

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

from course.datasets import resolve_data_dir
from lessons.lesson_01.data import load_mnist, one_hot, preprocess_images
from lessons.lesson_02.forward import forward, init_params
from lessons.lesson_03.loss import cross_entropy
from lessons.lesson_04.backward import backward, dense_backward, relu_backward, softmax_cross_entropy_backward
from lessons.lesson_04.gradcheck import numerical_gradient, rel_error

data_dir, is_full = resolve_data_dir()
(x_train_raw, y_train), _ = load_mnist(data_dir)
x_batch = preprocess_images(x_train_raw[:128])  # (128, 784) float32
y_batch = one_hot(y_train[:128])  # (128, 10) float32
print(f"{'full MNIST' if is_full else 'embedded subset'} from {data_dir}: "
      f"a batch x {x_batch.shape} {x_batch.dtype}, y {y_batch.shape} {y_batch.dtype}")

# %% [markdown]
# ## The chain rule through the network, with shapes
#
# The forward pass of lesson 02 and the loss of lesson 03, for a batch of $N$ images:
#
# $$
# \begin{aligned}
# z_1 &= x W_1 + b_1 & (N, 784) \cdot (784, 128) &\to (N, 128) \\
# h_1 &= \mathrm{relu}(z_1) & &\to (N, 128) \\
# z_2 &= h_1 W_2 + b_2 & (N, 128) \cdot (128, 10) &\to (N, 10) \\
# p &= \mathrm{softmax}(z_2) & &\to (N, 10) \\
# L &= -\tfrac{1}{N} \textstyle\sum_{n} \sum_k y_{nk} \log p_{nk} & &\to \text{one number}
# \end{aligned}
# $$
#
# The loss depends on $W_1$ only through $z_1$, which it depends on only through $h_1$, and so on.
# The chain rule says to multiply the local derivatives along that path, so we walk it backwards,
# from $L$ to the first layer, and every step reuses the gradient that the step before produced:
#
# $$
# \begin{aligned}
# dz_2 &= (p - y) / N & &(N, 10) \\
# dW_2 &= h_1^\top dz_2 & (128, N) \cdot (N, 10) &\to (128, 10) \\
# db_2 &= \textstyle\sum_n dz_{2,n} & &(10,) \\
# dh_1 &= dz_2 W_2^\top & (N, 10) \cdot (10, 128) &\to (N, 128) \\
# dz_1 &= dh_1 \odot \mathbb{1}[z_1 > 0] & &(N, 128) \\
# dW_1 &= x^\top dz_1 & (784, N) \cdot (N, 128) &\to (784, 128) \\
# db_1 &= \textstyle\sum_n dz_{1,n} & &(128,)
# \end{aligned}
# $$
#
# ($\odot$ is the element-wise product.) Every line is derived below. As a table, for a batch of
# $N = 128$:
#
# | gradient | formula | shape | same shape as |
# | --- | --- | --- | --- |
# | $dz_2 = \partial L / \partial z_2$ | $(p - y) / N$ | $(128, 10)$ | the logits $z_2$ |
# | $dW_2 = \partial L / \partial W_2$ | $h_1^\top dz_2$ | $(128, 10)$ | $W_2$ |
# | $db_2 = \partial L / \partial b_2$ | $\sum_n dz_{2,n}$ | $(10,)$ | $b_2$ |
# | $dh_1 = \partial L / \partial h_1$ | $dz_2 W_2^\top$ | $(128, 128)$ | $h_1$ |
# | $dz_1 = \partial L / \partial z_1$ | $dh_1 \odot \mathbb{1}[z_1 > 0]$ | $(128, 128)$ | $z_1$ |
# | $dW_1 = \partial L / \partial W_1$ | $x^\top dz_1$ | $(784, 128)$ | $W_1$ |
# | $db_1 = \partial L / \partial b_1$ | $\sum_n dz_{1,n}$ | $(128,)$ | $b_1$ |
#
# Everything the backward pass needs ($x$, $z_1$, $h_1$, $p$) was computed by the forward pass:
# that is why lesson 02's `forward` returns a **cache**. The backward pass never recomputes the
# forward one.

# %%
def draw_graph():
    """The network as a computational graph: values in boxes, forward arrows above, gradients below."""
    fig, ax = plt.subplots(figsize=(11, 3.4))
    nodes = {"x": (0, "x\n(N, 784)"), "z1": (2, "z1\n(N, 128)"), "h1": (4, "h1\n(N, 128)"),
             "z2": (6, "z2\n(N, 10)"), "p": (8, "p\n(N, 10)"), "L": (10, "L\n()")}
    for x0, label in nodes.values():
        ax.text(x0, 0, label, ha="center", va="center", fontsize=10,
                bbox=dict(boxstyle="round,pad=0.4", fc="#eef3fb", ec="C0"))
    for x0, label in [(1, "W1 (784, 128)\nb1 (128,)"), (5, "W2 (128, 10)\nb2 (10,)"), (9, "y (N, 10)")]:
        ax.text(x0, 1.05, label, ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle="round,pad=0.3", fc="#fdf3e6", ec="C1"))
        ax.annotate("", (x0, 0.12), (x0, 0.8), arrowprops=dict(arrowstyle="->", color="C1"))
    ops = ["x W1 + b1", "relu", "h1 W2 + b2", "softmax", "cross-entropy"]
    grads = ["dW1 = xᵀ dz1\ndb1 = Σ dz1", "dz1 = dh1 ⊙ [z1 > 0]", "dh1 = dz2 W2ᵀ\ndW2 = h1ᵀ dz2",
             "dz2 = (p − y) / N", ""]
    for i, (op, grad) in enumerate(zip(ops, grads)):
        a, b = 2 * i, 2 * i + 2
        ax.annotate("", (b - 0.45, 0.18), (a + 0.45, 0.18), arrowprops=dict(arrowstyle="->", color="k"))
        ax.text((a + b) / 2, 0.32, op, ha="center", fontsize=8)
        if grad:
            ax.annotate("", (a + 0.45, -0.18), (b - 0.45, -0.18), arrowprops=dict(arrowstyle="->", color="C3"))
            ax.text((a + b) / 2, -0.55, grad, ha="center", va="center", fontsize=8, color="C3")
    ax.annotate("", (6.45, -0.18), (9.55, -0.18), arrowprops=dict(arrowstyle="->", color="C3", ls="--"))
    ax.text(8, -0.42, "softmax and cross-entropy, differentiated together", ha="center", fontsize=7, color="C3")
    ax.set_xlim(-0.8, 10.8)
    ax.set_ylim(-0.9, 1.4)
    ax.axis("off")
    ax.set_title("Forward (black): values left to right. Backward (red): gradients right to left.", fontsize=10)
    plt.show()


draw_graph()

# %% [markdown]
# ## Step 1: softmax and cross-entropy together, $dz_2 = (p - y) / N$
#
# Take one example with logits $z$, probabilities $p = \mathrm{softmax}(z)$ and one-hot label $y$.
# Its loss is $\ell = -\sum_k y_k \log p_k$, and by lesson 03,
# $\log p_k = z_k - \log \sum_m e^{z_m}$. Differentiate with respect to one logit $z_j$:
#
# $$ \frac{\partial \log p_k}{\partial z_j} = \delta_{kj} - \frac{e^{z_j}}{\sum_m e^{z_m}} = \delta_{kj} - p_j, $$
#
# where $\delta_{kj}$ is 1 if $k = j$ and 0 otherwise. So
#
# $$ \frac{\partial \ell}{\partial z_j} = -\sum_k y_k (\delta_{kj} - p_j) = -y_j + p_j \sum_k y_k = p_j - y_j, $$
#
# because the one-hot labels sum to 1. The batch loss is the *mean* $L = \frac{1}{N} \sum_n \ell_n$,
# and example $n$'s logits only appear in $\ell_n$, so
#
# $$ \frac{\partial L}{\partial z_{2, nj}} = \frac{p_{nj} - y_{nj}}{N}, \qquad dz_2 = \frac{p - y}{N}. $$
#
# Two things to notice. The $1/N$ is there because the loss is a mean; forget it and every
# gradient is $N = 128$ times too large (the classic "missing 1/N"). And differentiating softmax
# and cross-entropy *together* skips softmax's own $C \times C$ Jacobian entirely: the
# result is simply "predicted minus true", negative for the true class (raise its logit) and
# positive for every other class (lower theirs).
#
# ### Your turn: `softmax_cross_entropy_backward`
# With $N = 2$: the first example gives its true class (0) probability 0.7, so its row is
# $[0.7 - 1, 0.2, 0.1] / 2 = [-0.15, 0.1, 0.05]$. Each row of the result sums to 0.

# %%
probs_demo = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
y_demo = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
dz2_demo = softmax_cross_entropy_backward(probs_demo, y_demo)
print("dz2 =\n", dz2_demo)
print("expected [[-0.15, 0.1, 0.05], [0.05, 0.15, -0.2]]; row sums:", dz2_demo.sum(axis=1))

# %% [markdown]
# ## Step 2: the dense layer, $dW = x^\top dz$
#
# A dense layer computes $z = x W + b$, entry by entry $z_{nj} = \sum_i x_{ni} W_{ij} + b_j$.
# Suppose we already know $dz$, the gradient with respect to its output. The weight $W_{ij}$
# appears in $z_{nj}$ for *every* example $n$, each time multiplied by $x_{ni}$, so by the chain
# rule its gradient collects one term per example:
#
# $$ \frac{\partial L}{\partial W_{ij}} = \sum_n \frac{\partial L}{\partial z_{nj}} \frac{\partial z_{nj}}{\partial W_{ij}}
#    = \sum_n x_{ni} \, dz_{nj} = (x^\top dz)_{ij}. $$
#
# Likewise $x_{ni}$ feeds every output $z_{nj}$ of its row through $W_{ij}$, and $b_j$ is added to
# every row:
#
# $$ \frac{\partial L}{\partial x_{ni}} = \sum_j dz_{nj} W_{ij} = (dz \, W^\top)_{ni}, \qquad
#    \frac{\partial L}{\partial b_j} = \sum_n dz_{nj}. $$
#
# **The shape argument** gets the same answers without indices. $dW$ must have the shape of $W$,
# $(D_{in}, D_{out})$. The only arrays around are $x$, $(N, D_{in})$, and $dz$, $(N, D_{out})$; the
# only product of the two with that shape is $x^\top dz$: $(D_{in}, N) \cdot (N, D_{out})$. The
# batch dimension $N$ is summed away by the matrix product, which is right: a weight is shared by
# all examples, so its gradient adds up their contributions. In the same way $dx$ must be
# $(N, D_{in})$, and only $dz \, W^\top$ gives that; and $db$ must be $(D_{out},)$, so
# $dz$ is summed over the batch axis, `dz.sum(axis=0)`. Writing `dz.T @ x` gives a
# $(D_{out}, D_{in})$ array, the transposed weight gradient, and `dz.sum(axis=1)` one number per
# example: both have the wrong shape, and the checks tell you so.
#
# ### Your turn: `dense_backward`
# A hand-computed case with $N = 2$ and a square $W$ (so the shapes alone cannot catch a
# transposition): $dx = [[1, 2], [-3, -2]]$, $dW = [[-2, 6], [-2, 8]]$, $db = [0, 2]$.

# %%
x_demo = np.array([[1.0, 2.0], [3.0, 4.0]])
W_demo = np.array([[1.0, -1.0], [2.0, 0.0]])
dout_demo = np.array([[1.0, 0.0], [-1.0, 2.0]])
dx_demo, dW_demo, db_demo = dense_backward(dout_demo, x_demo, W_demo)
print("dx =\n", dx_demo, "\ndW =\n", dW_demo, "\ndb =", db_demo)

# %% [markdown]
# ## Step 3: ReLU, and what happens at 0
#
# ReLU is $h = \max(z, 0)$ element-wise, so each $h_{nj}$ depends only on $z_{nj}$, with slope
#
# $$ \frac{\partial h}{\partial z} = \begin{cases} 1 & z > 0 \\ 0 & z < 0 \end{cases}
#    \qquad\Longrightarrow\qquad dz = dh \odot \mathbb{1}[z > 0]. $$
#
# The gradient passes unchanged through the units that were active and stops at the others. The
# mask comes from $z$, the *input* of ReLU, saved in the cache; not from $dh$ (whose sign has
# nothing to do with whether the unit was active) and not from the network's input $x$.
#
# At exactly $z = 0$ ReLU has a corner and no derivative. Any value in $[0, 1]$ is a valid
# *subgradient* there (a slope of a line touching the graph from below), and the convention,
# used here and in PyTorch, is 0. It does not matter which you pick: $z_1$ is a sum of hundreds of
# products of real-valued weights and pixels, so hitting exactly 0.0 is an event of probability
# zero (a measure-zero set); and if it happened, it would change one entry of one example's
# gradient in one step out of thousands, far less than the noise of a random mini-batch. Let's
# count the exact zeros on a real batch:

# %%
params = init_params((784, 128, 10), seed=0)  # float32, as in training
probs, cache = forward(params, x_batch)
print(f"z1 has {cache['z1'].size:,} entries; {np.count_nonzero(cache['z1'] == 0)} are exactly 0, "
      f"{np.mean(cache['z1'] > 0):.0%} are positive (active units)")

fig, (ax_relu, ax_grad) = plt.subplots(1, 2, figsize=(9, 2.8))
z_line = np.linspace(-2, 2, 401)
ax_relu.plot(z_line, np.maximum(z_line, 0))
ax_relu.set_title("relu(z) = max(z, 0)", fontsize=10)
ax_grad.plot(z_line[z_line < 0], np.zeros(np.sum(z_line < 0)), color="C3")
ax_grad.plot(z_line[z_line > 0], np.ones(np.sum(z_line > 0)), color="C3")
ax_grad.plot([0, 0], [0, 1], color="C3", ls=":", lw=1)
ax_grad.plot([0], [0], "o", color="C3")
ax_grad.annotate("at z = 0: any value in [0, 1];\nwe use 0", (0, 0), xytext=(0.3, 0.35), fontsize=8)
ax_grad.set_title("its derivative: the mask [z > 0]", fontsize=10)
for ax in (ax_relu, ax_grad):
    ax.set_xlabel("z")
plt.show()

# %% [markdown]
# ### Your turn: `relu_backward`
# Expected: $[0, 0, 0, -4, 5]$. The gradient is blocked where $z \le 0$, including at exactly 0.
# (NumPy may print `-0.` for $-2 \times 0$; it is a zero like any other.)

# %%
z_demo = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]])
dh_demo = np.array([[1.0, -2.0, 3.0, -4.0, 5.0]])
print("relu_backward:", relu_backward(dh_demo, z_demo))

# %% [markdown]
# ## Step 4: the whole backward pass
#
# `backward(params, cache, y_onehot)` chains the three pieces in the order of the table above and
# returns a dict with the same keys, shapes and dtypes as `params`, so that lesson 05 can update
# every parameter with `params[k] - lr * grads[k]`. Two details:
#
# * For the first layer you need $dW_1$ and $db_1$ but not $dx$: the pixels are data, not
#   parameters, and computing $dz_1 W_1^\top$ would be a $(N, 128) \cdot (128, 784)$ product thrown
#   away on every batch (as much work as all the rest of the backward pass).
# * The function must be **pure**: never write into `cache` or `params`, and give the same answer
#   when called twice. Gradients that are accumulated with `+=` into something that outlives the
#   call double on the second call; even micrograd had this bug once (its PR #102).
#
# ### Your turn: `backward`
# On the batch of 128 real images: every gradient should have its parameter's shape and float32.

# %%
grads = backward(params, cache, y_batch)
for name in params:
    print(f"{name}: params {params[name].shape} {params[name].dtype}  ->  grads {grads[name].shape} "
          f"{grads[name].dtype}   largest |gradient| {np.abs(grads[name]).max():.2e}")
per_call = min(timeit.repeat(lambda: backward(params, cache, y_batch), number=20, repeat=5)) / 20
print(f"backward on a batch of 128: {per_call * 1e3:.2f} ms; a 10-epoch training run calls it 4,690 times "
      f"({4690 * per_call:.1f} s)")

# %% [markdown]
# ### How large are the gradients, layer by layer?
#
# The size of every entry of each gradient, on a log scale. Many entries of $dW_1$ are exactly
# zero: a pixel that is 0 in every image of the batch (around the border of the digits) puts
# $x_{ni} = 0$ into every term of $(x^\top dz_1)_{ij}$, so its weights get no gradient at all.
# Those zeros are counted on the left and left out of the boxes. The biases' gradients are
# sums over the batch and so tend to be larger than a single weight's.

# %%
names = ["W1", "b1", "W2", "b2"]
sizes = [np.abs(grads[name]).ravel() for name in names]
fig, ax = plt.subplots(figsize=(8, 3.0))
ax.boxplot([np.log10(g[g > 0]) for g in sizes], vert=False, whis=(0, 100), widths=0.5)
ax.set_yticks(range(1, 5), [f"{name}: {g.size:,} entries\n{np.mean(g == 0):.0%} exactly 0"
                            for name, g in zip(names, sizes)], fontsize=8)
ax.invert_yaxis()
ax.set_xlabel("log10 |gradient entry|  (box: middle half; whiskers: smallest to largest non-zero)")
ax.set_title("Gradient magnitudes of an untrained network on one batch of 128", fontsize=10)
plt.show()

# %% [markdown]
# ## Gradient checking: is the backward pass right?
#
# A backward pass with a bug still returns arrays of the right shapes, and training with it may
# even lower the loss a little. To know it is right, compare it with a **numerical gradient** that
# uses nothing but the loss itself. Nudge one parameter $\theta_i$ by a small $h$ both ways:
#
# $$ \frac{\partial f}{\partial \theta_i} \approx \frac{f(\theta + h e_i) - f(\theta - h e_i)}{2h}, $$
#
# where $e_i$ is 1 at entry $i$ and 0 elsewhere. Why both ways? Taylor's theorem gives
#
# $$ f(\theta \pm h e_i) = f \pm h f' + \tfrac{h^2}{2} f'' \pm \tfrac{h^3}{6} f''' + \dots $$
#
# so the one-sided **forward difference** $\frac{f(\theta + h e_i) - f(\theta)}{h} = f' + \frac{h}{2} f'' + \dots$
# is off by a term proportional to $h$, while in the **centred difference** the $f''$ terms cancel
# and the error is $\frac{h^2}{6} f''' + \dots$, proportional to $h^2$. Making $h$ tiny is not the
# answer either: $f$ is computed with a relative rounding error of about $10^{-16}$ (float64),
# and dividing a difference of nearly equal numbers by $h$ amplifies it to about $10^{-16} / h$.
# The best $h$ balances the two: about $10^{-5}$ for centred differences, error around
# $10^{-10}$. (In float32 the rounding error is $10^{-7}$ and the best achievable is about
# $10^{-5}$: that is why gradient checks run in float64.)
#
# The plot measures this on $f(\theta) = \sum_i e^{\theta_i}$, whose gradient $e^{\theta}$ we know
# exactly; the centred differences are *your* `numerical_gradient`.
#
# To compare two gradients we need a **relative** error, since a gradient of size $10^{-4}$ and one
# of size $10$ cannot share an absolute tolerance:
#
# $$ \mathrm{rel\_error}(a, b) = \max_i \frac{|a_i - b_i|}{\max(10^{-8}, |a_i| + |b_i|)}. $$
#
# It is symmetric in $a$ and $b$, and the floor $10^{-8}$ keeps two gradients that are both exactly
# 0 (a dead ReLU unit) from dividing $0 / 0$.
#
# ### Your turn: `numerical_gradient` and `rel_error`
# `numerical_gradient(f, x, h)` changes `x` in place, one entry at a time, and must put every
# entry back *exactly* (save `old = x[i]` and restore it; `x[i] += h` then `x[i] -= h` leaves
# rounding errors), because in a gradient check `x` is the network's real weights.

# %%
theta = np.array([0.3, -1.2, 2.0])
print("numerical gradient of sum(exp):", numerical_gradient(lambda t: float(np.exp(t).sum()), theta.copy()))
print("exact gradient exp(theta):     ", np.exp(theta))
print("rel_error([1, 2], [1, 2.2]) =", rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.2])), "(expected 0.2 / 4.2 = 0.0476)")

steps = np.logspace(-13, -1, 49)
centred_err, forward_err = [], []
for h in steps:
    centred = numerical_gradient(lambda t: float(np.exp(t).sum()), theta.copy(), h=h)
    one_sided = np.array([(np.exp(theta + h * e).sum() - np.exp(theta).sum()) / h for e in np.eye(3)])
    centred_err.append(rel_error(centred, np.exp(theta)))
    forward_err.append(rel_error(one_sided, np.exp(theta)))
fig, ax = plt.subplots(figsize=(9, 3.6))
ax.loglog(steps, forward_err, "o-", ms=3, label="forward difference (f(x+h) - f(x)) / h")
ax.loglog(steps, centred_err, "o-", ms=3, label="centred difference, your numerical_gradient")
ax.loglog(steps, 0.5 * steps, "k:", lw=1, label="slope 1: error ∝ h")
ax.loglog(steps, 0.2 * steps ** 2, "k--", lw=1, label="slope 2: error ∝ h²")
ax.loglog(steps, 1e-16 / steps, "C7-.", lw=1, label="rounding: ∝ 1e-16 / h")
ax.axvline(1e-5, color="gray", lw=0.8)
ax.set_ylim(1e-13, 1)
ax.set_xlabel("step h")
ax.set_ylabel("relative error")
ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
ax.set_title("Centred differences are far more accurate; h = 1e-5 is near their best", fontsize=10)
plt.show()

# %% [markdown]
# Right of the minimum, truncation dominates: the forward difference falls with slope 1, the
# centred one with slope 2. Left of it, rounding dominates and both rise with slope $-1$. At
# $h = 10^{-5}$ the centred difference is good to about $10^{-10}$; the forward difference is
# never better than about $10^{-8}$, at $h \approx 10^{-8}$.
#
# ## Something to see: your gradient check
#
# Now the real thing: your `backward` against your `numerical_gradient`, on a network small enough
# that numerical differentiation is quick. Eight real digits, shrunk to $7 \times 7$ thumbnails
# (the mean of each $4 \times 4$ block of pixels), go through a 49-16-10 network in float64. For
# every one of its 970 parameters, the numerical gradient perturbs it, runs your `forward` and
# your `cross_entropy` twice, and puts it back.
#
# What counts as agreement? In float64 a correct backward pass typically shows relative errors of
# $10^{-7}$ or less. Not $10^{-16}$: the numerical gradient carries about $10^{-11}$ of rounding
# noise in absolute terms (the plot above), and for a gradient entry that is itself tiny, say
# $10^{-6}$, that is already a relative error of $10^{-5}$. A bug, on the other hand, shows up as
# $10^{-2}$ or more. So the table passes a parameter below $10^{-5}$.

# %%
x_small = x_batch[:8].reshape(8, 7, 4, 7, 4).mean(axis=(2, 4)).reshape(8, 49).astype(np.float64)  # (8, 49)
y_small = y_batch[:8].astype(np.float64)  # (8, 10)
params_small = init_params((49, 16, 10), seed=5, dtype=np.float64)

fig, axes = plt.subplots(1, 8, figsize=(8, 1.3))
for ax, image, label in zip(axes, x_small, y_train[:8]):
    ax.imshow(image.reshape(7, 7))
    ax.set_title(f"{label}", fontsize=8)
    ax.axis("off")
plt.show()


def loss_with(name):
    """The loss as a function of one parameter array, every other parameter fixed."""
    def f(value):
        probs, _ = forward({**params_small, name: value}, x_small)
        return cross_entropy(probs, y_small)
    return f


TOLERANCE = 1e-5
_, cache_small = forward(params_small, x_small)
analytic = backward(params_small, cache_small, y_small)
numerical = {name: numerical_gradient(loss_with(name), params_small[name]) for name in params_small}
rows = ["| parameter | shape | max relative error | result |", "| --- | --- | --- | --- |"]
for name in params_small:
    err = rel_error(analytic[name], numerical[name])
    rows.append(f"| {name} | {params_small[name].shape} | {err:.1e} | {'pass' if err < TOLERANCE else '**FAIL**'} |")
wrong = rel_error(analytic["W2"] * len(y_small), numerical["W2"])
rows.append(f"| W2 with a missing 1/N (for comparison) | {params_small['W2'].shape} | {wrong:.1e} | "
            f"{'pass' if wrong < TOLERANCE else '**FAIL**'} |")
display(Markdown("\n".join(rows)))

# %% [markdown]
# If every real parameter passes, your backward pass computes the true gradient of your loss, and
# lesson 05 can use it to train. The last row shows what a bug looks like: forgetting the $1/N$
# makes every gradient $N = 8$ times too large, a relative error of $(8 - 1)/(8 + 1) \approx 0.78$.
#
# ## Check your work
#
# ```bash
# pytest checks/lesson_04
# ```
#
# Every check is named as a sentence; a failing one tells you what was called, what came back,
# what was expected and what mistake it looks like (a missing 1/N, a transposed weight gradient,
# db summed over the wrong axis, a ReLU mask from the wrong tensor, ...).
