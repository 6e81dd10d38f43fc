"""Wrong implementations of lesson 06 that learners really write."""

from tests.mutants import Mutant

MUTANTS = [
    Mutant("predict returns the probabilities", "evaluate", """
        def predict(params, x):
            probs, _ = forward(params, x)
            return probs
        """, expect="argmax left out"),
    Mutant("predict takes the argmax over axis 0", "evaluate", """
        def predict(params, x):
            probs, _ = forward(params, x)
            return probs.argmax(axis=0)
        """, expect="axis 0"),
    Mutant("predict counts classes from 1", "evaluate", """
        def predict(params, x):
            probs, _ = forward(params, x)
            return probs.argmax(axis=1) + 1
        """, expect="counted from 1"),
    Mutant("confusion matrix with rows and columns swapped", "evaluate", """
        def confusion_matrix(y_true, y_pred, num_classes=10):
            cm = np.zeros((num_classes, num_classes), dtype=np.int64)
            np.add.at(cm, (y_pred, y_true), 1)
            return cm
        """, expect="rows and columns swapped"),
    Mutant("confusion matrix by fancy-index += (repeats counted once)", "evaluate", """
        def confusion_matrix(y_true, y_pred, num_classes=10):
            cm = np.zeros((num_classes, num_classes), dtype=np.int64)
            cm[y_true, y_pred] += 1
            return cm
        """, expect="np.add.at"),
    Mutant("confusion matrix sized from the labels present", "evaluate", """
        def confusion_matrix(y_true, y_pred, num_classes=10):
            c = int(max(y_true.max(), y_pred.max())) + 1
            cm = np.zeros((c, c), dtype=np.int64)
            np.add.at(cm, (y_true, y_pred), 1)
            return cm
        """, expect="labels present"),
    Mutant("confusion matrix of floats (np.zeros without dtype)", "evaluate", """
        def confusion_matrix(y_true, y_pred, num_classes=10):
            cm = np.zeros((num_classes, num_classes))
            np.add.at(cm, (y_true, y_pred), 1)
            return cm
        """, expect="an integer dtype"),
    Mutant("metrics give 1 where undefined (zero_division=1)", "evaluate", """
        def precision_recall_f1(cm):
            cm = np.asarray(cm, dtype=np.float64)
            tp = np.diag(cm)
            cols, rows = cm.sum(axis=0), cm.sum(axis=1)
            precision = np.divide(tp, cols, out=np.ones_like(tp), where=cols > 0)
            recall = np.divide(tp, rows, out=np.ones_like(tp), where=rows > 0)
            total = precision + recall
            f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(tp), where=total > 0)
            return precision, recall, f1
        """, expect="1 instead of 0"),
    Mutant("precision and recall swapped", "evaluate", """
        def precision_recall_f1(cm):
            cm = np.asarray(cm, dtype=np.float64)
            tp = np.diag(cm)
            rows, cols = cm.sum(axis=1), cm.sum(axis=0)
            precision = np.divide(tp, rows, out=np.zeros_like(tp), where=rows > 0)
            recall = np.divide(tp, cols, out=np.zeros_like(tp), where=cols > 0)
            total = precision + recall
            f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(tp), where=total > 0)
            return precision, recall, f1
        """, expect="precision and recall swapped"),
    Mutant("F1 as the arithmetic mean", "evaluate", """
        def precision_recall_f1(cm):
            cm = np.asarray(cm, dtype=np.float64)
            tp = np.diag(cm)
            cols, rows = cm.sum(axis=0), cm.sum(axis=1)
            precision = np.divide(tp, cols, out=np.zeros_like(tp), where=cols > 0)
            recall = np.divide(tp, rows, out=np.zeros_like(tp), where=rows > 0)
            return precision, recall, (precision + recall) / 2
        """, expect="arithmetic mean"),
    Mutant("metrics divide by zero (nan)", "evaluate", """
        def precision_recall_f1(cm):
            cm = np.asarray(cm, dtype=np.float64)
            tp = np.diag(cm)
            precision = tp / cm.sum(axis=0)
            recall = tp / cm.sum(axis=1)
            return precision, recall, 2 * precision * recall / (precision + recall)
        """, expect="nan where a class"),
    Mutant("most confused pairs include the diagonal", "evaluate", """
        def most_confused_pairs(cm, k=5):
            order = np.argsort(-cm, axis=None, kind="stable")[:k]
            rows, cols = np.unravel_index(order, cm.shape)
            return [(int(i), int(j), int(cm[i, j])) for i, j in zip(rows, cols) if cm[i, j] > 0]
        """, expect="diagonal included"),
    Mutant("most confused pairs zero the caller's diagonal", "evaluate", """
        def most_confused_pairs(cm, k=5):
            np.fill_diagonal(cm, 0)
            order = np.argsort(-cm, axis=None, kind="stable")[:k]
            rows, cols = np.unravel_index(order, cm.shape)
            return [(int(i), int(j), int(cm[i, j])) for i, j in zip(rows, cols) if cm[i, j] > 0]
        """, expect="modified in place"),
    Mutant("most confused pairs sorted smallest first", "evaluate", """
        def most_confused_pairs(cm, k=5):
            off = np.array(cm)
            np.fill_diagonal(off, 0)
            pairs = [(i, j, int(off[i, j])) for i in range(len(off)) for j in range(len(off)) if off[i, j] > 0]
            return sorted(pairs, key=lambda t: t[2])[:k]
        """, expect="smallest first"),
    Mutant("most confused pairs as (predicted, true)", "evaluate", """
        def most_confused_pairs(cm, k=5):
            off = np.array(cm)
            np.fill_diagonal(off, 0)
            order = np.argsort(-off, axis=None, kind="stable")[:k]
            rows, cols = np.unravel_index(order, off.shape)
            return [(int(j), int(i), int(off[i, j])) for i, j in zip(rows, cols) if off[i, j] > 0]
        """, expect="rows and columns swapped"),
    Mutant("confusion-matrix plot with the axis labels swapped", "evaluate", """
        def plot_confusion_matrix(cm, ax=None):
            fig, ax = plt.subplots() if ax is None else (ax.figure, ax)
            ax.imshow(cm)
            for i in range(cm.shape[0]):
                for j in range(cm.shape[1]):
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center")
            ax.set_xlabel("true")
            ax.set_ylabel("predicted")
            return fig
        """, expect="rows and columns swapped"),
    Mutant("confusion-matrix plot with the counts transposed", "evaluate", """
        def plot_confusion_matrix(cm, ax=None):
            fig, ax = plt.subplots() if ax is None else (ax.figure, ax)
            ax.imshow(cm)
            for i in range(cm.shape[0]):
                for j in range(cm.shape[1]):
                    ax.text(i, j, str(cm[i, j]), ha="center", va="center")
            ax.set_xlabel("predicted")
            ax.set_ylabel("true")
            return fig
        """, expect="counts written at x = row"),
    Mutant("confusion-matrix plot ignores the given axes", "evaluate", """
        def plot_confusion_matrix(cm, ax=None):
            fig, ax = plt.subplots()
            ax.imshow(cm)
            for i in range(cm.shape[0]):
                for j in range(cm.shape[1]):
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center")
            ax.set_xlabel("predicted")
            ax.set_ylabel("true")
            return fig
        """, expect="ax.figure"),
    Mutant("gallery shows correct predictions too", "evaluate", """
        def plot_misclassified(images, y_true, y_pred, n=16):
            fig, axes = plt.subplots(2, 8)
            for i, ax in enumerate(axes.ravel()[:n]):
                ax.imshow(images[i].reshape(28, 28))
                ax.set_title(f"true {y_true[i]} / pred {y_pred[i]}")
            return fig
        """, expect="correct predictions shown"),
    Mutant("gallery shows the image at the panel's position", "evaluate", """
        def plot_misclassified(images, y_true, y_pred, n=16):
            wrong = np.flatnonzero(y_true != y_pred)[:n]
            fig, axes = plt.subplots(1, len(wrong), squeeze=False)
            for k, (ax, i) in enumerate(zip(axes.ravel(), wrong)):
                ax.imshow(images[k].reshape(28, 28))
                ax.set_title(f"true {y_true[i]} / pred {y_pred[i]}")
            return fig
        """, expect="the index i of the mistake"),
    Mutant("gallery ignores n", "evaluate", """
        def plot_misclassified(images, y_true, y_pred, n=16):
            wrong = np.flatnonzero(y_true != y_pred)
            fig, axes = plt.subplots(1, len(wrong), squeeze=False)
            for ax, i in zip(axes.ravel(), wrong):
                ax.imshow(images[i].reshape(28, 28))
                ax.set_title(f"true {y_true[i]} / pred {y_pred[i]}")
            return fig
        """, expect="n ignored"),
    Mutant("history plot without validation accuracy", "evaluate", """
        def plot_history(history):
            fig, ax = plt.subplots()
            ax.plot(history["batch_loss"])
            ax.plot(history["epoch_loss"])
            return fig
        """, expect="val_accuracy"),
    Mutant("Kaggle ImageId from 0", "evaluate", """
        def write_kaggle_submission(path, predictions):
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "w", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(["ImageId", "Label"])
                writer.writerows(enumerate(np.asarray(predictions).tolist()))
            return path
        """, expect="ImageId from 0"),
    Mutant("Kaggle file without a header", "evaluate", """
        def write_kaggle_submission(path, predictions):
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            ids = np.arange(1, len(predictions) + 1)
            np.savetxt(path, np.column_stack([ids, predictions]), fmt="%d", delimiter=",")
            return path
        """, expect="no header"),
    Mutant("Kaggle header with a comment sign (np.savetxt default)", "evaluate", """
        def write_kaggle_submission(path, predictions):
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            ids = np.arange(1, len(predictions) + 1)
            np.savetxt(path, np.column_stack([ids, predictions]), fmt="%d", delimiter=",", header="ImageId,Label")
            return path
        """, expect="header wrong"),
    Mutant("Kaggle file with an index column", "evaluate", """
        def write_kaggle_submission(path, predictions):
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "w") as f:
                f.write(",ImageId,Label\\n")
                for i, p in enumerate(predictions):
                    f.write(f"{i},{i + 1},{p}\\n")
            return path
        """, expect="index column"),
    Mutant("Kaggle labels written as floats", "evaluate", """
        def write_kaggle_submission(path, predictions):
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            ids = np.arange(1, len(predictions) + 1)
            np.savetxt(path, np.column_stack([ids, predictions]).astype(float), delimiter=",",
                       header="ImageId,Label", comments="", fmt=["%d", "%.1f"])
            return path
        """, expect="floats"),
]
