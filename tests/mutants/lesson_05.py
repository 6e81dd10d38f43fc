"""Wrong implementations of lesson 05 that learners really write."""

from tests.mutants import Mutant

# The reference fit with one line changed is the realistic shape of most training-loop mistakes;
# FIT builds it from a few substitutions.
_FIT = """
def fit(params, x_train, y_train, x_val=None, y_val=None, epochs=10, batch_size=128, lr=0.16,
        momentum=0.9, schedule="cosine", seed=0, callback=None):
    n = len(x_train)
    total_steps = epochs * math.ceil(n / batch_size)
    rng = np.random.default_rng(seed)
    velocity = None
    history = {"batch_loss": [], "epoch_loss": [], "val_accuracy": [], "lr": []}
    step = 0
    for epoch in range(epochs):
        epoch_loss_sum = 0.0
        for xb, yb in iterate_minibatches(x_train, y_train, batch_size, shuffle=True, seed=rng):
            step_lr = cosine_lr(step, total_steps, lr) if schedule == "cosine" else lr
            params, velocity, loss = train_step(params, xb, one_hot(yb), step_lr, velocity, momentum)
            history["batch_loss"].append(loss)
            history["lr"].append(step_lr)
            epoch_loss_sum += loss * len(xb)
            step += 1
        history["epoch_loss"].append(epoch_loss_sum / n)
        if x_val is not None:
            probs, _ = forward(params, x_val)
            history["val_accuracy"].append(accuracy(probs, y_val))
        if callback is not None:
            callback(epoch, params, history)
    return params, history
"""


def fit_with(*replacements: tuple[str, str], prefix: str = "") -> str:
    """The reference fit with each (old, new) text replaced (every old must be found)."""
    source = _FIT
    for old, new in replacements:
        assert old in source, f"mutant replacement not found: {old!r}"
        source = source.replace(old, new)
    return prefix + source


MUTANTS = [
    Mutant("sgd with the wrong sign", "sgd", """
        def sgd_update(params, grads, lr):
            return {name: p + lr * grads[name] for name, p in params.items()}
        """, expect="wrong sign"),
    Mutant("sgd updates the parameters in place", "sgd", """
        def sgd_update(params, grads, lr):
            for name in params:
                params[name] -= lr * grads[name]
            return params
        """, expect="modified in place"),
    Mutant("sgd without the learning rate", "sgd", """
        def sgd_update(params, grads, lr):
            return {name: p - grads[name] for name, p in params.items()}
        """, expect="learning rate left out"),
    Mutant("momentum ignores the previous velocity", "sgd", """
        def momentum_update(params, grads, velocity, lr, momentum=0.9):
            new_velocity = {name: -lr * grads[name] for name in params}
            return {name: p + new_velocity[name] for name, p in params.items()}, new_velocity
        """, expect="previous velocity ignored"),
    Mutant("momentum in PyTorch's convention", "sgd", """
        def momentum_update(params, grads, velocity, lr, momentum=0.9):
            velocity = velocity or {name: np.zeros_like(p) for name, p in params.items()}
            new_velocity = {name: momentum * velocity[name] + grads[name] for name in params}
            return {name: p - lr * new_velocity[name] for name, p in params.items()}, new_velocity
        """, expect="pytorch's convention"),
    Mutant("momentum updates the velocity in place", "sgd", """
        def momentum_update(params, grads, velocity, lr, momentum=0.9):
            if not velocity:
                velocity = {name: np.zeros_like(p) for name, p in params.items()}
            for name in params:
                velocity[name] *= momentum
                velocity[name] -= lr * grads[name]
            return {name: p + velocity[name] for name, p in params.items()}, velocity
        """, expect="modified in place"),
    Mutant("momentum with a float64 velocity", "sgd", """
        def momentum_update(params, grads, velocity, lr, momentum=0.9):
            new_params, new_velocity = {}, {}
            for name, p in params.items():
                v = velocity[name] if velocity else np.zeros(p.shape)
                new_velocity[name] = momentum * v - lr * grads[name]
                new_params[name] = p + new_velocity[name]
            return new_params, new_velocity
        """, expect="float32"),
    Mutant("cosine without the shift", "sgd", """
        def cosine_lr(step, total_steps, lr_max, lr_min=0.0):
            return lr_max * math.cos(math.pi * step / total_steps)
        """, expect="not shifted"),
    Mutant("linear decay instead of cosine", "sgd", """
        def cosine_lr(step, total_steps, lr_max, lr_min=0.0):
            return lr_max - (lr_max - lr_min) * step / total_steps
        """, expect="linear decay"),
    Mutant("cosine ignores lr_min", "sgd", """
        def cosine_lr(step, total_steps, lr_max, lr_min=0.0):
            return lr_max * (1 + math.cos(math.pi * step / total_steps)) / 2
        """, expect="lr_min ignored"),
    Mutant("train_step with the wrong sign", "sgd", """
        def train_step(params, xb, yb_onehot, lr, velocity=None, momentum=0.0):
            probs, cache = forward(params, xb)
            loss = cross_entropy(probs, yb_onehot)
            grads = backward(params, cache, yb_onehot)
            return {k: p + lr * grads[k] for k, p in params.items()}, velocity, loss
        """, expect="wrong sign"),
    Mutant("train_step ignores momentum", "sgd", """
        def train_step(params, xb, yb_onehot, lr, velocity=None, momentum=0.0):
            probs, cache = forward(params, xb)
            loss = cross_entropy(probs, yb_onehot)
            grads = backward(params, cache, yb_onehot)
            return sgd_update(params, grads, lr), velocity, loss
        """, expect="momentum ignored"),
    Mutant("train_step returns the loss after the update", "sgd", """
        def train_step(params, xb, yb_onehot, lr, velocity=None, momentum=0.0):
            probs, cache = forward(params, xb)
            grads = backward(params, cache, yb_onehot)
            if momentum:
                params, velocity = momentum_update(params, grads, velocity, lr, momentum)
            else:
                params = sgd_update(params, grads, lr)
            return params, velocity, cross_entropy(forward(params, xb)[0], yb_onehot)
        """, expect="after the update"),
    Mutant("fit not shuffling", "sgd", fit_with(("shuffle=True", "shuffle=False")), expect="not shuffling"),
    Mutant("fit reshuffles with the same int seed each epoch", "sgd",
           fit_with(("shuffle=True, seed=rng", "shuffle=True, seed=seed")), expect="same batch order every epoch"),
    Mutant("fit re-makes the generator every epoch", "sgd",
           fit_with(("        epoch_loss_sum = 0.0\n",
                     "        epoch_loss_sum = 0.0\n        rng = np.random.default_rng(seed)\n")),
           expect="not shuffling anew"),
    Mutant("fit with an unseeded generator", "sgd",
           fit_with(("rng = np.random.default_rng(seed)", "rng = np.random.default_rng()")), expect="not seeded"),
    Mutant("fit reusing one batch", "sgd", fit_with(
        ("        for xb, yb in iterate_minibatches(x_train, y_train, batch_size, shuffle=True, seed=rng):\n",
         "        first = next(iterate_minibatches(x_train, y_train, batch_size, shuffle=True, seed=rng))\n"
         "        for _ in range(math.ceil(n / batch_size)):\n"
         "            xb, yb = first\n")), expect="reusing one batch"),
    Mutant("fit makes the batch iterator once", "sgd", fit_with(
        ("    step = 0\n", "    step = 0\n    batches = iterate_minibatches(x_train, y_train, batch_size, shuffle=True, seed=rng)\n"),
        ("for xb, yb in iterate_minibatches(x_train, y_train, batch_size, shuffle=True, seed=rng):",
         "for xb, yb in batches:")), expect="used up after the first epoch"),
    Mutant("fit drops the last partial batch", "sgd", fit_with(
        ("for xb, yb in iterate_minibatches(x_train, y_train, batch_size, shuffle=True, seed=rng):\n",
         "for xb, yb in iterate_minibatches(x_train, y_train, batch_size, shuffle=True, seed=rng):\n"
         "            if len(xb) < batch_size:\n"
         "                continue\n")), expect="last partial batch dropped"),
    Mutant("fit forgetting to reset momentum", "sgd", fit_with(
        ("    velocity = None\n", "    global _velocity\n"),
        ("params, velocity, loss = train_step(params, xb, one_hot(yb), step_lr, velocity, momentum)",
         "params, _velocity, loss = train_step(params, xb, one_hot(yb), step_lr, _velocity, momentum)"),
        prefix="_velocity = None\n"), expect="forgetting to reset momentum"),
    Mutant("fit ignores the lr schedule", "sgd",
           fit_with(("cosine_lr(step, total_steps, lr) if schedule == \"cosine\" else lr", "lr")),
           expect="lr schedule ignored"),
    Mutant("fit changes the lr once per epoch", "sgd",
           fit_with(("cosine_lr(step, total_steps, lr)", "cosine_lr(epoch, epochs, lr)")),
           expect="once per epoch instead of at every step"),
    Mutant("fit restarts the step counter every epoch", "sgd",
           fit_with(("        epoch_loss_sum = 0.0\n", "        epoch_loss_sum = 0.0\n        step = 0\n")),
           expect="step counter restarted"),
    Mutant("fit counts total steps without the partial batch", "sgd",
           fit_with(("total_steps = epochs * math.ceil(n / batch_size)", "total_steps = epochs * (n // batch_size)")),
           expect="last partial batch left out"),
    Mutant("fit records the last batch loss as the epoch loss", "sgd",
           fit_with(('history["epoch_loss"].append(epoch_loss_sum / n)', 'history["epoch_loss"].append(loss)')),
           expect="last batch's loss"),
    Mutant("fit measures accuracy on the training set", "sgd",
           fit_with(("probs, _ = forward(params, x_val)", "probs, _ = forward(params, x_train)"),
                    ("accuracy(probs, y_val)", "accuracy(probs, y_train)")),
           expect="training set instead of the validation set"),
    Mutant("fit calls the callback after every batch", "sgd", fit_with(
        ("            step += 1\n", "            step += 1\n            if callback is not None:\n"
                                     "                callback(epoch, params, history)\n"),
        ("        if callback is not None:\n            callback(epoch, params, history)\n", "")),
           expect="after every batch"),
    Mutant("fit numbers epochs from 1 in the callback", "sgd",
           fit_with(("callback(epoch, params, history)", "callback(epoch + 1, params, history)")),
           expect="counted from 1"),
]
