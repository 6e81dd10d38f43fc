"""Wrong implementations of lesson 04 that learners really write."""

from tests.mutants import Mutant

MUTANTS = [
    Mutant("softmax-cross-entropy gradient without 1/N", "backward", """
        def softmax_cross_entropy_backward(probs, y_onehot):
            return probs - y_onehot
        """, expect="missing 1/N"),
    Mutant("softmax-cross-entropy gradient with the wrong sign", "backward", """
        def softmax_cross_entropy_backward(probs, y_onehot):
            return (y_onehot - probs) / probs.shape[0]
        """, expect="wrong sign"),
    Mutant("softmax-cross-entropy gradient divided by the number of classes", "backward", """
        def softmax_cross_entropy_backward(probs, y_onehot):
            return (probs - y_onehot) / probs.shape[1]
        """, expect="number of classes"),
    Mutant("softmax-cross-entropy gradient computed in place", "backward", """
        def softmax_cross_entropy_backward(probs, y_onehot):
            probs -= y_onehot
            probs /= probs.shape[0]
            return probs
        """, expect="modified in place"),
    Mutant("dW transposed", "backward", """
        def dense_backward(dout, x, W):
            return dout @ W.T, dout.T @ x, dout.sum(axis=0)
        """, expect="transposed weight gradient"),
    Mutant("db summed over axis 1", "backward", """
        def dense_backward(dout, x, W):
            return dout @ W.T, x.T @ dout, dout.sum(axis=1)
        """, expect="db summed over the wrong axis"),
    Mutant("db not summed", "backward", """
        def dense_backward(dout, x, W):
            return dout @ W.T, x.T @ dout, dout
        """, expect="db not summed"),
    Mutant("db averaged instead of summed", "backward", """
        def dense_backward(dout, x, W):
            return dout @ W.T, x.T @ dout, dout.mean(axis=0)
        """, expect="averaged"),
    Mutant("dx without transposing W", "backward", """
        def dense_backward(dout, x, W):
            return dout @ W, x.T @ dout, dout.sum(axis=0)
        """, expect="dout @ W instead of dout @ W.T"),
    Mutant("dW divided by N again", "backward", """
        def dense_backward(dout, x, W):
            return dout @ W.T, x.T @ dout / x.shape[0], dout.sum(axis=0)
        """, expect="1/N applied twice"),
    Mutant("db with keepdims", "backward", """
        def dense_backward(dout, x, W):
            return dout @ W.T, x.T @ dout, dout.sum(axis=0, keepdims=True)
        """, expect="keepdims"),
    Mutant("dense gradients in the wrong order", "backward", """
        def dense_backward(dout, x, W):
            return x.T @ dout, dout.sum(axis=0), dout @ W.T
        """, expect="wrong order"),
    Mutant("relu mask from dout", "backward", """
        def relu_backward(dout, z):
            return dout * (dout > 0)
        """, expect="ReLU mask taken from the wrong tensor"),
    Mutant("relu mask z >= 0", "backward", """
        def relu_backward(dout, z):
            return dout * (z >= 0)
        """, expect="exactly z = 0"),
    Mutant("relu backward in place", "backward", """
        def relu_backward(dout, z):
            dout[z <= 0] = 0
            return dout
        """, expect="modified in place"),
    Mutant("relu backward with a float64 mask", "backward", """
        def relu_backward(dout, z):
            return dout * np.where(z > 0, 1.0, 0.0)
        """, expect="float32"),
    Mutant("relu mask from x instead of z1 in the full backward", "backward", """
        def backward(params, cache, y_onehot):
            dz2 = softmax_cross_entropy_backward(cache["probs"], y_onehot)
            dh1, dW2, db2 = dense_backward(dz2, cache["h1"], params["W2"])
            dz1 = relu_backward(dh1, cache["x"])
            _, dW1, db1 = dense_backward(dz1, cache["x"], params["W1"])
            return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
        """, expect="ReLU mask taken from the wrong tensor"),
    Mutant("relu step skipped in the full backward", "backward", """
        def backward(params, cache, y_onehot):
            dz2 = softmax_cross_entropy_backward(cache["probs"], y_onehot)
            dh1, dW2, db2 = dense_backward(dz2, cache["h1"], params["W2"])
            _, dW1, db1 = dense_backward(dh1, cache["x"], params["W1"])
            return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
        """, expect="ReLU step was skipped"),
    Mutant("dz2 = probs - y without /N in backward", "backward", """
        def backward(params, cache, y_onehot):
            dz2 = cache["probs"] - y_onehot
            dh1, dW2, db2 = dense_backward(dz2, cache["h1"], params["W2"])
            dz1 = relu_backward(dh1, cache["z1"])
            _, dW1, db1 = dense_backward(dz1, cache["x"], params["W1"])
            return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
        """, expect="missing 1/N"),
    Mutant("1/N applied twice in backward", "backward", """
        def backward(params, cache, y_onehot):
            n = y_onehot.shape[0]
            dz2 = softmax_cross_entropy_backward(cache["probs"], y_onehot)
            dh1, dW2, db2 = dense_backward(dz2, cache["h1"], params["W2"])
            dz1 = relu_backward(dh1, cache["z1"])
            _, dW1, db1 = dense_backward(dz1, cache["x"], params["W1"])
            return {"W1": dW1 / n, "b1": db1 / n, "W2": dW2 / n, "b2": db2 / n}
        """, expect="1/N applied twice"),
    Mutant("backward modifies the cache in place", "backward", """
        def backward(params, cache, y_onehot):
            dz2 = cache["probs"]
            dz2 -= y_onehot
            dz2 /= y_onehot.shape[0]
            dh1, dW2, db2 = dense_backward(dz2, cache["h1"], params["W2"])
            dz1 = relu_backward(dh1, cache["z1"])
            _, dW1, db1 = dense_backward(dz1, cache["x"], params["W1"])
            return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
        """, expect="modified in place"),
    Mutant("backward stores its gradients in the cache", "backward", """
        def backward(params, cache, y_onehot):
            dz2 = softmax_cross_entropy_backward(cache["probs"], y_onehot)
            dh1, dW2, db2 = dense_backward(dz2, cache["h1"], params["W2"])
            dz1 = relu_backward(dh1, cache["z1"])
            _, dW1, db1 = dense_backward(dz1, cache["x"], params["W1"])
            cache["grads"] = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
            return cache["grads"]
        """, expect="modified in place"),
    Mutant("backward accumulates gradients across calls", "backward", """
        _GRADS = {}

        def backward(params, cache, y_onehot):
            dz2 = softmax_cross_entropy_backward(cache["probs"], y_onehot)
            dh1, dW2, db2 = dense_backward(dz2, cache["h1"], params["W2"])
            dz1 = relu_backward(dh1, cache["z1"])
            _, dW1, db1 = dense_backward(dz1, cache["x"], params["W1"])
            for key, grad in {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}.items():
                _GRADS[key] = _GRADS.get(key, 0) + grad
            return _GRADS
        """, expect="different answer when called twice"),
    Mutant("backward returns grads in float64", "backward", """
        def backward(params, cache, y_onehot):
            dz2 = softmax_cross_entropy_backward(cache["probs"].astype(np.float64), y_onehot)
            dh1, dW2, db2 = dense_backward(dz2, cache["h1"], params["W2"])
            dz1 = relu_backward(dh1, cache["z1"])
            _, dW1, db1 = dense_backward(dz1, cache["x"], params["W1"])
            return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
        """, expect="float32"),
    Mutant("forward differences", "gradcheck", """
        def numerical_gradient(f, x, h=1e-5):
            grad = np.zeros_like(x)
            fx = f(x)
            for i in np.ndindex(x.shape):
                old = x[i]
                x[i] = old + h
                grad[i] = (f(x) - fx) / h
                x[i] = old
            return grad
        """, expect="forward difference instead of centred"),
    Mutant("centred difference divided by h", "gradcheck", """
        def numerical_gradient(f, x, h=1e-5):
            grad = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                old = x[i]
                x[i] = old + h
                f_plus = f(x)
                x[i] = old - h
                f_minus = f(x)
                x[i] = old
                grad[i] = (f_plus - f_minus) / h
            return grad
        """, expect="divided by h instead of 2h"),
    Mutant("x not restored", "gradcheck", """
        def numerical_gradient(f, x, h=1e-5):
            grad = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                old = x[i]
                x[i] = old + h
                f_plus = f(x)
                x[i] = old - h
                f_minus = f(x)
                grad[i] = (f_plus - f_minus) / (2 * h)
            return grad
        """, expect="x not restored"),
    Mutant("x restored by adding and subtracting h", "gradcheck", """
        def numerical_gradient(f, x, h=1e-5):
            grad = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                x[i] += h
                f_plus = f(x)
                x[i] -= 2 * h
                f_minus = f(x)
                x[i] += h
                grad[i] = (f_plus - f_minus) / (2 * h)
            return grad
        """, expect="x not restored exactly"),
    Mutant("h ignored", "gradcheck", """
        def numerical_gradient(f, x, h=1e-5):
            step = 1e-5
            grad = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                old = x[i]
                x[i] = old + step
                f_plus = f(x)
                x[i] = old - step
                f_minus = f(x)
                x[i] = old
                grad[i] = (f_plus - f_minus) / (2 * step)
            return grad
        """, expect="h is ignored"),
    Mutant("only rows perturbed on 2-D arrays", "gradcheck", """
        def numerical_gradient(f, x, h=1e-5):
            grad = np.zeros_like(x)
            for i in range(len(x)):
                old = x[i].copy()
                x[i] = old + h
                f_plus = f(x)
                x[i] = old - h
                f_minus = f(x)
                x[i] = old
                grad[i] = (f_plus - f_minus) / (2 * h)
            return grad
        """, expect="whole rows perturbed"),
    Mutant("rel_error divides by zero", "gradcheck", """
        def rel_error(a, b):
            return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))
        """, expect="division by zero"),
    Mutant("rel_error relative to a only", "gradcheck", """
        def rel_error(a, b):
            return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a))))
        """, expect="not symmetric"),
    Mutant("rel_error normalised by the whole arrays", "gradcheck", """
        def rel_error(a, b):
            return float(np.max(np.abs(a - b)) / max(1e-8, float(np.max(np.abs(a) + np.abs(b)))))
        """, expect="not entry by entry"),
    Mutant("rel_error takes the mean", "gradcheck", """
        def rel_error(a, b):
            return float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
        """, expect="mean of the relative errors"),
]
