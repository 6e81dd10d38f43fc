# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Lesson 02: the forward pass
#
# In lesson 01 you turned MNIST into numbers: every image is a row of 784 pixel values in
# $[0, 1]$. Now you will build the function that turns such a row into ten probabilities, one
# per digit. This function *is* the neural network; lessons 03 to 05 only teach it to give
# better answers.
#
# **You will write** (in `lesson_02/forward.py`): `init_params`, `dense`, `relu`, `softmax`
# and `forward`. **Check your work** with `pytest checks/lesson_02`.
#
# ## The network
#
# The network has two layers of weights. For a batch of $N$ images $x$ of shape $(N, 784)$:
#
# $$
# \begin{aligned}
# z_1 &= x W_1 + b_1 & (N, 784) \cdot (784, 128) &\to (N, 128) \\
# h_1 &= \mathrm{relu}(z_1) = \max(z_1, 0) & &\to (N, 128) \\
# z_2 &= h_1 W_2 + b_2 & (N, 128) \cdot (128, 10) &\to (N, 10) \\
# p &= \mathrm{softmax}(z_2) & &\to (N, 10)
# \end{aligned}
# $$
#
# $z_1$ and $z_2$ are *pre-activations* (the raw outputs of a layer), $h_1$ is the hidden
# layer's *activation*, and $z_2$ are the *logits*: ten scores, one per digit, that softmax turns
# into probabilities. Every row of the batch is one image, and every step works on the whole
# batch at once: no Python loop over images.

# %%
# Make `lessons` name the folder this notebook sits in (the website runs it on the reference).
# %load_ext autoreload
# %autoreload 2
from course.notebook import setup

setup()

import matplotlib.pyplot as plt
import numpy as np

from course.datasets import resolve_data_dir
from lessons.lesson_01.data import load_mnist, preprocess_images
from lessons.lesson_02.forward import dense, forward, init_params, relu, softmax

data_dir, is_full = resolve_data_dir()
(x_train_raw, y_train), (x_test_raw, y_test) = load_mnist(data_dir)
x_train = preprocess_images(x_train_raw)
print(f"{'full MNIST' if is_full else 'embedded subset'} from {data_dir}: x_train {x_train.shape} {x_train.dtype}")

# %% [markdown]
# ## Starting weights: He initialisation
#
# If every weight started at 0, every hidden unit would compute the same thing and receive the
# same update: they would never become different. So the weights start random. How large?
# Each hidden unit sums 784 products; if each weight had a standard deviation of 1, the sums
# would be about $\sqrt{784} = 28$ times larger than the inputs, and they would grow again at
# every layer. **He initialisation** draws
#
# $$ W_{ij} \sim \mathcal{N}\!\left(0, \tfrac{2}{n_{in}}\right), \qquad b = 0, $$
#
# which keeps the size of the signal about the same from layer to layer when ReLU zeroes half of
# it (hence the 2). Below, the hidden pre-activations $z_1$ of 256 images with three choices of scale.

# %%
x = x_train[:256]
fig, ax = plt.subplots(figsize=(7, 3))
rng = np.random.default_rng(0)
for label, std in [("std 1", 1.0), ("He: sqrt(2/784)", np.sqrt(2 / 784)), ("std 0.001", 1e-3)]:
    W = rng.standard_normal((784, 128)) * std
    ax.hist((x @ W).ravel(), bins=80, histtype="step", label=f"{label}: spread {np.std(x @ W):.2f}",
            range=(-40, 40) if std == 1.0 else None)
ax.set_yscale("log")
ax.set_xlabel("z1 = x W1 (one value per image and hidden unit)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# With a standard deviation of 1 the pre-activations spread over tens of units; with 0.001 they
# are all near zero; He's scale keeps them of order 1, like the pixels themselves.
#
# ### Your turn: `init_params`
# Open `forward.py` and fill in `init_params`. Use one generator made from the seed,
# `rng = np.random.default_rng(seed)`, so the same seed always gives the same network.

# %%
params = init_params((784, 128, 10), seed=0)
for name, value in params.items():
    print(f"{name}: {value.shape} {value.dtype}  mean {value.mean():+.4f}  std {value.std():.4f}")

# %% [markdown]
# ## The dense layer and ReLU
#
# A dense layer multiplies by a weight matrix and adds a bias: $z = xW + b$. With $x$ of shape
# $(N, D_{in})$ and $W$ of shape $(D_{in}, D_{out})$, `x @ W` has shape $(N, D_{out})$, and the bias
# of shape $(D_{out},)$ is *broadcast*: NumPy adds it to every row.
#
# ReLU keeps positive values and replaces negative ones with zero. Without it, two dense layers
# in a row would collapse into one linear map, $x W_1 W_2$, no matter how wide the hidden layer:
# the non-linearity is what lets the network draw curved boundaries between digits.

# %%
z = np.linspace(-3, 3, 7)
print("z      ", z)
print("relu(z)", relu(z))
x_small = np.array([[1.0, 2.0], [0.0, -1.0]])
W_small = np.array([[1.0, 0.0, 2.0], [3.0, 1.0, -1.0]])
b_small = np.array([0.5, 0.0, -1.0])
print("dense:\n", dense(x_small, W_small, b_small))

# %% [markdown]
# ## Softmax, and why we subtract the maximum
#
# Softmax turns a row of logits into probabilities: exponentiate, then divide by the row's sum,
#
# $$ p_{ij} = \frac{e^{z_{ij}}}{\sum_k e^{z_{ik}}}. $$
#
# Mathematically, adding the same constant $c$ to every logit of a row changes nothing, because
# $e^{z + c} = e^z e^c$ and the $e^c$ cancels. Numerically it matters a lot: `np.exp(1000.0)` is
# `inf` in float64 (and `np.exp(89.0)` already overflows float32), and `inf / inf` is `nan`.
# Subtracting each row's maximum makes the largest exponent $e^0 = 1$, so nothing overflows:
#
# $$ p_{ij} = \frac{e^{z_{ij} - m_i}}{\sum_k e^{z_{ik} - m_i}}, \qquad m_i = \max_k z_{ik}. $$

# %%
z = np.array([[1000.0, 1000.0, 990.0]])
with np.errstate(all="ignore"):
    naive = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
print("naive softmax: ", naive)
print("your softmax:  ", softmax(z))

# %% [markdown]
# Each row is one image, so the sum runs over `axis=1`, and `keepdims=True` keeps it as a column
# $(N, 1)$ that broadcasts against $(N, 10)$. Summing over `axis=0` would normalise each *class*
# over the batch: a classic mistake that the checks recognise.
#
# ## The whole forward pass
#
# `forward(params, x)` chains the four steps and returns the probabilities together with a
# **cache**: the intermediate arrays that lesson 04's backpropagation will need. Here is what an
# untrained network (random weights) thinks of the first eight training images.

# %%
probs, cache = forward(params, x_train[:8])
print({k: v.shape for k, v in cache.items()})

fig, axes = plt.subplots(2, 8, figsize=(12, 3.2), gridspec_kw={"height_ratios": [1.4, 1]})
for i in range(8):
    axes[0, i].imshow(x_train[i].reshape(28, 28))
    axes[0, i].set_title(f"label {y_train[i]}", fontsize=9)
    axes[0, i].axis("off")
    axes[1, i].bar(range(10), probs[i], color=["C3" if d == y_train[i] else "C0" for d in range(10)])
    axes[1, i].set_ylim(0, 1)
    axes[1, i].set_xticks(range(10))
    axes[1, i].tick_params(labelsize=6)
    if i:
        axes[1, i].set_yticks([])
fig.suptitle("An untrained network: probabilities close to 1/10 everywhere (true digit in red)", fontsize=10)
plt.show()

# %% [markdown]
# The guesses are near-uniform and mostly wrong: the weights are random. To improve them we
# first need a number that says *how* wrong they are. That is the loss, in lesson 03.
#
# ## Check your work
#
# ```bash
# pytest checks/lesson_02
# ```
#
# Every check is named as a sentence; a failing one tells you what was called, what came back,
# what was expected and what mistake it looks like.
