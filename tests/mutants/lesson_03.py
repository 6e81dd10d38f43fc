"""Wrong implementations of lesson 03 that learners really write."""

from tests.mutants import Mutant

MUTANTS = [
    Mutant("cross_entropy sums instead of averaging", "loss", """
        def cross_entropy(probs, y_onehot, eps=1e-12):
            return float(-np.sum(y_onehot * np.log(np.clip(probs, eps, 1.0))))
        """, expect="mean over the batch"),
    Mutant("cross_entropy without the minus sign", "loss", """
        def cross_entropy(probs, y_onehot, eps=1e-12):
            return float(np.sum(y_onehot * np.log(np.clip(probs, eps, 1.0))) / probs.shape[0])
        """, expect="missing minus sign"),
    Mutant("cross_entropy without a clip", "loss", """
        def cross_entropy(probs, y_onehot, eps=1e-12):
            return float(-np.sum(y_onehot * np.log(probs)) / probs.shape[0])
        """, expect="no clip"),
    Mutant("cross_entropy with log10", "loss", """
        def cross_entropy(probs, y_onehot, eps=1e-12):
            return float(-np.sum(y_onehot * np.log10(np.clip(probs, eps, 1.0))) / probs.shape[0])
        """, expect="log10"),
    Mutant("cross_entropy with np.mean over every entry", "loss", """
        def cross_entropy(probs, y_onehot, eps=1e-12):
            return float(-np.mean(y_onehot * np.log(np.clip(probs, eps, 1.0))))
        """, expect="mean over all N*C entries"),
    Mutant("cross_entropy treats the one-hot labels as class indices", "loss", """
        def cross_entropy(probs, y_onehot, eps=1e-12):
            n = probs.shape[0]
            return float(-np.mean(np.log(np.clip(probs[np.arange(n), y_onehot], eps, 1.0))))
        """, expect="labels not one-hot"),
    Mutant("cross_entropy casts the one-hot labels to indices", "loss", """
        def cross_entropy(probs, y_onehot, eps=1e-12):
            n = probs.shape[0]
            return float(-np.mean(np.log(np.clip(probs[range(n), y_onehot.astype(int)], eps, 1.0))))
        """, expect="labels not one-hot"),
    Mutant("cross_entropy with a hard-coded clip", "loss", """
        def cross_entropy(probs, y_onehot, eps=1e-12):
            return float(-np.sum(y_onehot * np.log(np.clip(probs, 1e-7, 1.0))) / probs.shape[0])
        """, expect="eps argument"),
    Mutant("cross_entropy clips in place", "loss", """
        def cross_entropy(probs, y_onehot, eps=1e-12):
            np.clip(probs, eps, 1.0, out=probs)
            return float(-np.sum(y_onehot * np.log(probs)) / probs.shape[0])
        """, expect="modified in place"),
    Mutant("log_softmax without max subtraction", "loss", """
        def log_softmax(logits):
            return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        """, expect="no max subtraction"),
    Mutant("log_softmax as the log of softmax", "loss", """
        def log_softmax(logits):
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            return np.log(e / e.sum(axis=1, keepdims=True))
        """, expect="log of softmax"),
    Mutant("log_softmax forgets to add the maximum back", "loss", """
        def log_softmax(logits):
            m = logits.max(axis=1, keepdims=True)
            return logits - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
        """, expect="not added back"),
    Mutant("log_softmax with the batch maximum", "loss", """
        def log_softmax(logits):
            shifted = logits - logits.max()
            return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        """, expect="maximum of the whole batch"),
    Mutant("log_softmax shifts its input in place", "loss", """
        def log_softmax(logits):
            logits -= logits.max(axis=1, keepdims=True)
            return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        """, expect="modified in place"),
    Mutant("cross_entropy_from_logits through softmax then log", "loss", """
        def cross_entropy_from_logits(logits, y_onehot):
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs = e / e.sum(axis=1, keepdims=True)
            return float(-np.sum(y_onehot * np.log(probs)) / logits.shape[0])
        """, expect="through softmax then log"),
    Mutant("cross_entropy_from_logits through softmax and the clipped cross_entropy", "loss", """
        def cross_entropy_from_logits(logits, y_onehot):
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            return cross_entropy(e / e.sum(axis=1, keepdims=True), y_onehot)
        """, expect="through softmax then log"),
    Mutant("cross_entropy_from_logits sums instead of averaging", "loss", """
        def cross_entropy_from_logits(logits, y_onehot):
            return float(-np.sum(y_onehot * log_softmax(logits)))
        """, expect="mean over the batch"),
    Mutant("accuracy counts instead of a fraction", "loss", """
        def accuracy(scores, labels):
            labels = np.asarray(labels)
            if labels.ndim == 2:
                labels = labels.argmax(axis=1)
            return int(np.sum(scores.argmax(axis=1) == labels))
        """, expect="count instead of fraction"),
    Mutant("accuracy with integer division", "loss", """
        def accuracy(scores, labels):
            labels = np.asarray(labels)
            if labels.ndim == 2:
                labels = labels.argmax(axis=1)
            return np.sum(scores.argmax(axis=1) == labels) // len(labels)
        """, expect="integer division"),
    Mutant("accuracy with argmax over axis 0", "loss", """
        def accuracy(scores, labels):
            labels = np.asarray(labels)
            if labels.ndim == 2:
                labels = labels.argmax(axis=0)
            return float(np.mean(scores.argmax(axis=0) == labels))
        """, expect="wrong axis"),
    Mutant("accuracy ignores one-hot labels", "loss", """
        def accuracy(scores, labels):
            return float(np.mean(scores.argmax(axis=1) == labels))
        """, expect="labels not one-hot"),
    Mutant("accuracy counts ties as correct", "loss", """
        def accuracy(scores, labels):
            labels = np.asarray(labels)
            if labels.ndim == 2:
                labels = labels.argmax(axis=1)
            true_score = scores[np.arange(len(labels)), labels]
            return float(np.mean(true_score == scores.max(axis=1)))
        """, expect="tie"),
]
