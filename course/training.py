"""`course train`: train the network built from a tree, then save its weights, figures and metrics.

    course train                                   # your lessons/ on the data found (or the subset)
    course train --target solutions                # the reference
    course train --data-dir ../shared/data/mnist   # the full set from a folder

The pipeline uses the tree's own code only: lesson 01 loads and splits the data, lesson 02 makes
the starting weights, lesson 05 trains (lessons 02-04 inside), lesson 06 evaluates and draws.
Data: ``--data-dir``, else $MNIST_DIR, else the cache of ``course data``; with none of them holding
the full set, the embedded 7,000-image subset (and a notice saying so).

Output folder (``--out``, default ``runs/<date>-<time>`` under the current folder, a new one for
every run so runs can be compared): ``weights.npz`` (float32 ``W1, b1, W2, b2``, load it with
``dict(np.load(path))``), ``metrics.json``, ``confusion_matrix.png``, ``misclassified.png`` and
``history.png``. Ctrl-C stops training cleanly: the weights after the last finished epoch are
written, with ``"interrupted": true`` in metrics.json, and the command exits with status 130.

NumPy's BLAS runs on one thread unless ``--threads`` says otherwise, as in the project's tests and
the grader: on these small matrices a second thread saves little on an idle machine, costs up to
ten times on a busy one, and makes the result depend on the number of cores (bench/README.md).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import math
import os
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from types import ModuleType

import numpy as np

from . import curriculum, paths
from .datasets import resolve_data_dir
from .target import _learner_traceback, _stub_info, load_tree

FULL_VAL_SIZE = 5000  # the 55k/5k split on which fit's defaults were chosen
SUBSET_VAL_SIZE = 1000  # the embedded subset has 6,000 training images: 5,000 / 1,000


class Unfinished(Exception):
    """The tree cannot train yet; the message says which lesson to finish."""


# ---------------------------------------------------------------- the tree's code

# The graded functions that training calls (directly or through the reference's own calls).
NEEDED = {
    1: ("parse_idx", "load_mnist", "preprocess_images", "one_hot", "train_val_split", "iterate_minibatches"),
    2: ("init_params", "dense", "relu", "softmax", "forward"),
    3: ("cross_entropy", "accuracy"),
    4: ("softmax_cross_entropy_backward", "dense_backward", "relu_backward", "backward"),
    5: ("sgd_update", "momentum_update", "cosine_lr", "train_step", "fit"),
}


def untouched_stubs(tree: Path, needed: dict[int, tuple[str, ...]] = NEEDED) -> dict[str, list[str]]:
    """Per lesson module ("lesson 01 (lessons/lesson_01/data.py)"), the needed functions whose body is still the untouched stub (found by reading
    the files, before running anything)."""
    found: dict[str, list[str]] = {}
    for number, names in needed.items():
        lesson = curriculum.lesson(number)
        for module in sorted({lesson.module_of(n) for n in names}):
            path = tree / lesson.name / f"{module}.py"
            try:
                defs = {n.name: n for n in ast.parse(path.read_text(encoding="utf-8")).body
                        if isinstance(n, ast.FunctionDef)}
            except (OSError, SyntaxError, ValueError):
                continue  # reported when the module is imported
            for name in names:
                fn = defs.get(name)
                body = [n for n in fn.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))] \
                    if fn else []
                if len(body) == 1 and isinstance(body[0], ast.Raise) and "NotImplementedError" in ast.unparse(body[0]):
                    found.setdefault(f"{lesson.label} ({tree.name}/{lesson.name}/{module}.py)", []).append(name)
    return found


def _preflight(tree: Path) -> None:
    """Stop before loading any data if lessons 01-05 still hold untouched stubs."""
    stubs = untouched_stubs(tree)
    if not stubs:
        return
    first = curriculum.lesson(int(next(iter(stubs)).split()[1]))  # "lesson 03 (...)" -> lesson 03
    lines = [f"{where}: {', '.join(names)}" for where, names in stubs.items()]
    raise Unfinished(
        f"{first.label} is not finished yet, so the network cannot train. These functions are still stubs:\n  "
        + "\n  ".join(lines)
        + f"\n`course train` runs lessons 01 to 05 (and 06 for the figures). Finish {first.label}: run "
          f"`pytest checks/{first.name}` until it passes (`course progress` shows where you are), "
          f"then `course train` again.")


def _load(tree: Path) -> dict[str, ModuleType]:
    """The tree's modules used for training (lessons 01, 02, 05) and evaluation (06, or None)."""
    package = load_tree(tree)
    wanted = {"data": ("lesson_01", "data"), "forward": ("lesson_02", "forward"),
              "sgd": ("lesson_05", "sgd"), "evaluate": ("lesson_06", "evaluate")}
    modules: dict[str, ModuleType] = {}
    for key, (lesson, module) in wanted.items():
        path = tree / lesson / f"{module}.py"
        if not path.exists():
            if key == "evaluate":
                modules[key] = None
                continue
            raise Unfinished(f"{path} does not exist: `course train` needs {lesson}/{module}.py")
        try:
            modules[key] = importlib.import_module(f"{package.__name__}.{lesson}.{module}")
        except NotImplementedError as exc:
            raise Unfinished(_unfinished(exc, tree)) from None
        except Exception as exc:  # SyntaxError, ImportError, an error at import time
            raise Unfinished(f"could not import {path}:\n{_learner_traceback(exc, tree)}"
                             f"fix this first (`pytest checks/{lesson}` shows what is wrong)") from None
    return modules


def _unfinished(exc: BaseException, tree: Path) -> str:
    """The message for a stub still raising NotImplementedError: which lesson to finish, and how."""
    info = _stub_info(exc)
    if info is None:
        return f"NotImplementedError: {exc}\n{_learner_traceback(exc, tree)}"
    number, name = info
    lesson = curriculum.lesson(number)
    where = f"{tree.name}/{lesson.name}/{lesson.module_of(name) or '?'}.py"
    return (f"{lesson.label} is not finished yet: {name} in {where} raises NotImplementedError "
            f"(\"{lesson.label}: implement {name}\").\n"
            f"`course train` runs lessons 01 to 05 (and 06 for the figures). Finish {lesson.label}: "
            f"run `pytest checks/{lesson.name}` until it passes, then `course train` again.")


def _calling(what: str, tree: Path, fn, *args, **kwargs):
    """Call the tree's ``fn``; turn a stub or a bug in the tree into an Unfinished message."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as exc:
        raise Unfinished(_unfinished(exc, tree)) from None
    except Unfinished:
        raise
    except Exception as exc:
        raise Unfinished(f"{what} raised {type(exc).__name__}:\n{_learner_traceback(exc, tree)}"
                         f"the checks of that lesson should show what is wrong (`course progress`)") from None


# ---------------------------------------------------------------- progress on stderr


class Progress:
    """A one-line progress bar on stderr, redrawn by a small thread while an epoch runs.

    Within an epoch it moves by the time the previous epoch took (``fit`` reports per epoch only);
    on a terminal it is redrawn in place, elsewhere (a log, a test) nothing is drawn.
    """

    def __init__(self, epochs: int, width: int = 28, stream=sys.stderr):
        self.epochs, self.width, self.stream = epochs, width, stream
        self.enabled = stream.isatty()
        self.done, self.status = 0, ""
        self.start = self.epoch_start = time.perf_counter()
        self.epoch_seconds: float | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Progress":
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self.enabled:
            self._thread.join()
            self.clear()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.draw()

    def draw(self) -> None:
        now = time.perf_counter()
        within = min((now - self.epoch_start) / self.epoch_seconds, 0.99) if self.epoch_seconds else 0.0
        fraction = min((self.done + within) / self.epochs, 1.0)
        filled = int(self.width * fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        with self._lock:
            self.stream.write(f"\r[{bar}] epoch {min(self.done + 1, self.epochs)}/{self.epochs} "
                              f"{now - self.start:5.1f}s {self.status}\033[K")
            self.stream.flush()

    def clear(self) -> None:
        with self._lock:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def print(self, line: str) -> None:
        """Print a line to stdout above the bar."""
        if self.enabled:
            self.clear()
        print(line, flush=True)

    def epoch_finished(self, status: str) -> None:
        now = time.perf_counter()
        self.epoch_seconds, self.epoch_start = now - self.epoch_start, now
        self.done += 1
        self.status = status


# ---------------------------------------------------------------- outputs


def default_out_dir(root: Path | None = None) -> Path:
    """``runs/<YYYYmmdd-HHMMSS>`` under the current folder, with a suffix if that one exists."""
    base = (root or Path.cwd()) / "runs" / datetime.now().strftime("%Y%m%d-%H%M%S")
    out, n = base, 1
    while out.exists():
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    return out


def save_weights(path: Path, params: dict[str, np.ndarray]) -> Path:
    """Write ``params`` as float32 arrays to an .npz file (via a temporary file, so never half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part.npz")
    np.savez(tmp, **{name: np.asarray(value, dtype=np.float32) for name, value in params.items()})
    os.replace(tmp, path)
    return path


def _floats(values) -> list[float]:
    return [float(v) for v in values]


def write_metrics(path: Path, metrics: dict) -> None:
    path.write_text(json.dumps(metrics, indent=2) + "\n")


# ---------------------------------------------------------------- the command


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", default=None,
                        help="the tree to train: lessons (default, your code), solutions (the reference), "
                             "or a folder laid out like lessons/")
    parser.add_argument("--data-dir", metavar="DIR", default=None,
                        help="the folder with the four MNIST files (default: $MNIST_DIR, else the cache "
                             "of `course data`, else the embedded subset)")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="where to write weights, figures and metrics (default: runs/<date>-<time>)")
    parser.add_argument("--epochs", type=int, default=10, help="passes over the training set (default 10)")
    parser.add_argument("--batch-size", type=int, default=128, help="images per step (default 128)")
    parser.add_argument("--lr", type=float, default=0.16,
                        help="the largest learning rate, decayed to 0 by a cosine schedule (default 0.16)")
    parser.add_argument("--momentum", type=float, default=0.9, help="momentum, 0 for plain SGD (default 0.9)")
    parser.add_argument("--constant-lr", action="store_true", help="no schedule: keep --lr at every step")
    parser.add_argument("--seed", type=int, default=0, help="seeds the starting weights and the shuffling (default 0)")
    parser.add_argument("--hidden", type=int, default=128, help="hidden units (default 128: 784-128-10)")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads for NumPy (default 1; 0 = as configured, usually one per core). "
                             "On matrices this small more threads gain little on an idle machine, lose a lot "
                             "on a busy one, and make the result depend on the number of cores")
    parser.add_argument("--val-size", type=int, default=None,
                        help=f"validation images held out of the training set (default {FULL_VAL_SIZE:,} "
                             f"on the full set, {SUBSET_VAL_SIZE:,} on the subset)")


def run(args: argparse.Namespace) -> int:
    from threadpoolctl import threadpool_limits

    try:
        with threadpool_limits(limits=args.threads or None, user_api="blas"):  # 0: leave BLAS as configured
            return _train(args)
    except Unfinished as exc:
        print(f"\ncourse train: {exc}", file=sys.stderr)
        return 1


def blas_summary() -> str:
    """NumPy's BLAS in a few words: library, version, threads and kernel (OpenBLAS's architecture)."""
    from threadpoolctl import threadpool_info

    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    if not pools:
        return "no BLAS library found by threadpoolctl"
    p = pools[0]
    kernel = f", {p['architecture']} kernel" if p.get("architecture") else ""
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    return (f"{p.get('internal_api')} {p.get('version') or ''}, {p.get('num_threads')} thread(s){kernel}"
            + (f" (OPENBLAS_CORETYPE={coretype})" if coretype else ""))


def _train(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    tree = paths.resolve_target(args.target)
    _preflight(tree)
    try:
        data_dir, is_full = resolve_data_dir(args.data_dir)
    except FileNotFoundError as exc:
        print(f"course train: {exc}", file=sys.stderr)
        return 2
    import matplotlib

    matplotlib.use("Agg")  # files only: no window, works without a display
    code = _load(tree)
    out = Path(args.out) if args.out else default_out_dir()

    print(f"course train: {tree}")
    print(f"BLAS: {blas_summary()}")
    busy = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if busy > (os.cpu_count() or 1) and args.threads != 1:
        print(f"  (the machine is busy: load {busy:.1f} on {os.cpu_count()} CPUs. Multi-threaded BLAS can then be "
              f"many times slower on these small matrices; if training crawls, try --threads 1)")
    if not is_full:
        what = ("no full MNIST set configured, so this trains on the EMBEDDED SUBSET\n"
                f"  ({data_dir}: 6,000 training and 1,000 test images).\n "
                if data_dir == paths.EMBEDDED_DATA else f"{data_dir} does not hold the full MNIST set.")
        print(f"\n  NOTE: {what} Expect a lower accuracy than the 98% of the full set.\n"
              "  For the full 70,000 images run `course data` once, or pass --data-dir DIR (or set $MNIST_DIR).\n",
              file=sys.stderr, flush=True)

    data = code["data"]
    (x_train_raw, y_train_all), (x_test_raw, y_test) = _calling(
        "load_mnist", tree, data.load_mnist, data_dir)
    x_all = _calling("preprocess_images", tree, data.preprocess_images, x_train_raw)
    x_test = _calling("preprocess_images", tree, data.preprocess_images, x_test_raw)
    val_size = args.val_size if args.val_size is not None else FULL_VAL_SIZE if is_full else SUBSET_VAL_SIZE
    x_train, y_train, x_val, y_val = _calling("train_val_split", tree, data.train_val_split,
                                              x_all, y_train_all, val_size, seed=0)
    loaded = time.perf_counter()
    print(f"data: {'full MNIST' if is_full else 'embedded subset' if data_dir == paths.EMBEDDED_DATA else 'a subset'} "
          f"from {data_dir}\n"
          f"      {len(x_train):,} training, {len(x_val):,} validation, {len(x_test):,} test images "
          f"({loaded - started:.1f}s to load)")

    params = _calling("init_params", tree, code["forward"].init_params, (784, args.hidden, 10), seed=args.seed)
    schedule = None if args.constant_lr else "cosine"
    print(f"network 784-{args.hidden}-10, {args.epochs} epochs of batches of {args.batch_size}, "
          f"lr {args.lr}{' (constant)' if schedule is None else ' cosine-decayed to 0'}, "
          f"momentum {args.momentum}, seed {args.seed}", flush=True)

    last = {"epoch": 0, "params": None}  # the weights after the last finished epoch: the checkpoint
    with Progress(args.epochs) as progress:
        def callback(epoch, current, history):
            last["epoch"], last["params"] = epoch + 1, {k: np.array(v) for k, v in current.items()}
            loss = float(history["epoch_loss"][-1])
            val = float(history["val_accuracy"][-1]) if len(history["val_accuracy"]) else float("nan")
            elapsed = time.perf_counter() - loaded
            status = f"loss {loss:.4f}  val {val:.2%}"
            progress.epoch_finished(status)
            progress.print(f"epoch {epoch + 1:>3}/{args.epochs}  loss {loss:.4f}  val accuracy {val:7.2%}  "
                           f"({elapsed:5.1f}s)")
            if not math.isfinite(loss):
                progress.print("  warning: the loss is not finite: the learning rate may be too large, "
                               "or the update goes the wrong way")

        try:
            params, history = _calling("fit", tree, code["sgd"].fit, params, x_train, y_train, x_val, y_val,
                                       epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                                       momentum=args.momentum, schedule=schedule, seed=args.seed,
                                       callback=callback)
        except KeyboardInterrupt:
            history = None
    if history is None:
        return _interrupted(out, last, args, tree, data_dir, is_full, started)
    trained = time.perf_counter()
    train_seconds = trained - loaded
    print(f"trained in {train_seconds:.1f}s ({train_seconds / max(args.epochs, 1):.2f}s per epoch)")

    save_weights(out / "weights.npz", params)
    metrics = _metrics(args, tree, data_dir, is_full, x_train, x_val, x_test, history)
    metrics["train_seconds"] = round(train_seconds, 3)
    metrics.update(_evaluate(code, tree, params, x_test, y_test, history, out))
    metrics["total_seconds"] = round(time.perf_counter() - started, 3)
    write_metrics(out / "metrics.json", metrics)
    print(f"test accuracy: {metrics['test_accuracy']:.2%} on {len(x_test):,} test images"
          f"{'' if is_full else ' (embedded subset)'}")
    print(f"wrote {out}/: " + ", ".join(sorted(p.name for p in out.iterdir())))
    print(f"total time {metrics['total_seconds']:.1f}s")
    return 0


def _metrics(args, tree, data_dir, is_full, x_train, x_val, x_test, history) -> dict:
    return {
        "tree": str(tree), "data_dir": str(data_dir), "full_mnist": bool(is_full),
        "architecture": [784, args.hidden, 10], "epochs": args.epochs, "batch_size": args.batch_size,
        "lr": args.lr, "schedule": None if args.constant_lr else "cosine", "momentum": args.momentum,
        "seed": args.seed, "train_size": len(x_train), "val_size": len(x_val), "test_size": len(x_test),
        "epoch_loss": _floats(history.get("epoch_loss", [])),
        "val_accuracy": _floats(history.get("val_accuracy", [])),
        "interrupted": False,
    }


def _evaluate(code, tree, params, x_test, y_test, history, out: Path) -> dict:
    """Test accuracy, and lesson 06's figures when lesson 06 is finished."""
    import matplotlib.pyplot as plt

    evaluate = code["evaluate"]
    probs, _ = _calling("forward", tree, code["forward"].forward, params, x_test)
    y_pred = np.asarray(probs).argmax(axis=1)
    result = {"test_accuracy": float(np.mean(y_pred == np.asarray(y_test)))}
    if evaluate is None:
        print("figures skipped: this tree has no lesson_06/evaluate.py")
        return result
    try:
        y_pred = evaluate.predict(params, x_test)
        cm = evaluate.confusion_matrix(y_test, y_pred)
        figures = {
            "confusion_matrix.png": evaluate.plot_confusion_matrix(cm),
            "misclassified.png": evaluate.plot_misclassified(x_test, y_test, y_pred, n=32),
            "history.png": evaluate.plot_history(history),
        }
    except NotImplementedError as exc:
        print(f"figures skipped: {_unfinished(exc, tree)}")
        return result
    except Exception as exc:
        print(f"figures skipped: lesson 06 raised {type(exc).__name__}:\n{_learner_traceback(exc, tree)}")
        return result
    for name, fig in figures.items():
        fig.savefig(out / name, dpi=100)
        plt.close(fig)
    result["confusion_matrix"] = np.asarray(cm).astype(int).tolist()
    return result


def _interrupted(out: Path, last: dict, args, tree, data_dir, is_full, started) -> int:
    print("\ninterrupted (Ctrl-C).", file=sys.stderr)
    if last["params"] is None:
        print("No epoch had finished, so there are no trained weights to save.", file=sys.stderr)
        return 130
    save_weights(out / "weights.npz", last["params"])
    write_metrics(out / "metrics.json", {
        "tree": str(tree), "data_dir": str(data_dir), "full_mnist": bool(is_full),
        "architecture": [784, args.hidden, 10], "epochs": args.epochs, "epochs_completed": last["epoch"],
        "batch_size": args.batch_size, "lr": args.lr, "momentum": args.momentum, "seed": args.seed,
        "interrupted": True, "total_seconds": round(time.perf_counter() - started, 3),
    })
    print(f"Checkpoint: the weights after epoch {last['epoch']} of {args.epochs} are in {out / 'weights.npz'}\n"
          f"(load them with dict(np.load(path))); metrics.json says \"interrupted\": true.", file=sys.stderr)
    return 130
