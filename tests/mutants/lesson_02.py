"""Wrong implementations of lesson 02 that learners really write."""

from tests.mutants import Mutant

MUTANTS = [
    Mutant("softmax over the wrong axis", "forward", """
        def softmax(z):
            e = np.exp(z - z.max(axis=0, keepdims=True))
            return e / e.sum(axis=0, keepdims=True)
        """, expect="wrong axis"),
    Mutant("softmax without max subtraction", "forward", """
        def softmax(z):
            e = np.exp(z)
            return e / e.sum(axis=1, keepdims=True)
        """, expect="no max subtraction"),
    Mutant("softmax with the batch maximum", "forward", """
        def softmax(z):
            e = np.exp(z - z.max())
            return e / e.sum(axis=1, keepdims=True)
        """, expect="maximum of the whole batch"),
    Mutant("softmax modifies its input", "forward", """
        def softmax(z):
            z -= z.max(axis=1, keepdims=True)
            e = np.exp(z)
            return e / e.sum(axis=1, keepdims=True)
        """, expect="modified in place"),
    Mutant("relu in place", "forward", """
        def relu(z):
            z[z < 0] = 0
            return z
        """, expect="modified in place"),
    Mutant("relu as absolute value", "forward", """
        def relu(z):
            return np.abs(z)
        """, expect="absolute value"),
    Mutant("dense without bias", "forward", """
        def dense(x, W, b):
            return x @ W
        """, expect="bias was left out"),
    Mutant("init with unscaled weights", "forward", """
        def init_params(layer_sizes=(784, 128, 10), seed=0, dtype=np.float32):
            rng = np.random.default_rng(seed)
            params = {}
            for k, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
                params[f"W{k}"] = rng.standard_normal((n_in, n_out)).astype(dtype)
                params[f"b{k}"] = np.zeros(n_out, dtype=dtype)
            return params
        """, expect="not scaled"),
    Mutant("init with Xavier scale", "forward", """
        def init_params(layer_sizes=(784, 128, 10), seed=0, dtype=np.float32):
            rng = np.random.default_rng(seed)
            params = {}
            for k, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
                params[f"W{k}"] = (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(dtype)
                params[f"b{k}"] = np.zeros(n_out, dtype=dtype)
            return params
        """, expect="xavier"),
    Mutant("init ignores the seed", "forward", """
        def init_params(layer_sizes=(784, 128, 10), seed=0, dtype=np.float32):
            params = {}
            for k, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
                params[f"W{k}"] = (np.random.randn(n_in, n_out) * np.sqrt(2 / n_in)).astype(dtype)
                params[f"b{k}"] = np.zeros(n_out, dtype=dtype)
            return params
        """, expect="not seeded"),
    Mutant("forward returns logits", "forward", """
        def forward(params, x):
            z1 = dense(x, params["W1"], params["b1"])
            h1 = relu(z1)
            z2 = dense(h1, params["W2"], params["b2"])
            return z2, {"x": x, "z1": z1, "h1": h1, "z2": z2, "probs": softmax(z2)}
        """, expect="softmax left out"),
    Mutant("forward caches the activation as z1", "forward", """
        def forward(params, x):
            h1 = relu(dense(x, params["W1"], params["b1"]))
            z2 = dense(h1, params["W2"], params["b2"])
            probs = softmax(z2)
            return probs, {"x": x, "z1": h1, "h1": h1, "z2": z2, "probs": probs}
        """, expect="pre-activation"),
    Mutant("forward upcasts to float64", "forward", """
        def forward(params, x):
            x = x.astype(np.float64)
            z1 = dense(x, params["W1"], params["b1"])
            h1 = relu(z1)
            z2 = dense(h1, params["W2"], params["b2"])
            probs = softmax(z2)
            return probs, {"x": x, "z1": z1, "h1": h1, "z2": z2, "probs": probs}
        """, expect="float32"),
]
