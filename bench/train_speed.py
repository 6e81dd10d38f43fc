"""How fast the reference trains, next to PyTorch and scikit-learn, in one run on the same machine.

    python bench/train_speed.py --data-dir ../shared/data/mnist            # 5 seeds, 10 epochs
    python bench/train_speed.py --data-dir ../shared/data/mnist --seeds 0  # quicker

For every seed, the three trainers run one after another (so a change in the machine's load hits
all three alike) on the full 60,000 training images, and are scored on the 10,000 test images:

* **numpy**: the reference, ``solutions/`` lesson 05's ``fit`` (784-128-10, float32, batch 128,
  SGD with momentum 0.9, learning rate cosine-decayed per step from 0.16 to 0).
* **torch**: the same network in PyTorch on the CPU, float32, from the *same* starting weights
  (lesson 02's ``init_params``), on the *same* batches in the same order (lesson 01's
  ``iterate_minibatches`` with the same generator), with the same update
  ``v = mu v - lr_t g; p = p + v`` and the same per-step learning rates: the arithmetic of the
  reference, step for step. As a check, the script prints how close the two sets of weights are
  after the first epoch (about 1e-3: float32 sums in another order; SGD then amplifies such
  differences, so later epochs drift apart while reaching the same accuracy).
* **sklearn**: ``MLPClassifier(hidden_layer_sizes=(128,), solver="sgd", momentum=0.9,
  nesterovs_momentum=False, batch_size=128, alpha=0)`` on float32, one ``partial_fit`` per epoch
  with the learning rate of the epoch's middle step of the same cosine schedule. Its own
  starting weights (Glorot) and shuffling: scikit-learn does not take them from outside.

Each epoch is timed alone (test accuracy is measured between epochs, outside the timer). The
script prints seconds per epoch (median over epochs and seeds), the ratios numpy/torch and
numpy/sklearn, test accuracy per seed, and the training time until the test accuracy first
reaches 98.0%. It also reports the BLAS libraries and threads (threadpoolctl, with OpenBLAS's
``architecture``: the kernel that ran), $OPENBLAS_CORETYPE, the machine's load average, and times
``course train --target solutions`` end to end, as a learner runs it. PyTorch is optional (``pip install
torch==2.13.0``); without it its column says so.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import import_module
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from course import paths  # noqa: E402
from course.datasets import resolve_data_dir  # noqa: E402
from course.target import load_tree  # noqa: E402

TARGET = 0.98


def reference():
    """The reference's lessons 01, 02, 03 and 05, imported from solutions/."""
    tree = load_tree(paths.SOLUTIONS)
    return tuple(import_module(f"{tree.__name__}.{m}") for m in
                 ("lesson_01.data", "lesson_02.forward", "lesson_03.loss", "lesson_05.sgd"))


def test_accuracy_of(params, x_test, y_test) -> float:
    h1 = np.maximum(x_test @ params["W1"] + params["b1"], 0)  # (N, 784) @ (784, 128) -> (N, 128)
    logits = h1 @ params["W2"] + params["b2"]  # (N, 128) @ (128, 10) -> (N, 10)
    return float(np.mean(logits.argmax(axis=1) == y_test))


# ---------------------------------------------------------------- the three trainers


def train_numpy(ref, seed, x, y, x_test, y_test, args) -> dict:
    data, forward, _, sgd = ref
    epoch_seconds, accuracies, first = [], [], {}
    clock = {"start": time.perf_counter()}

    def callback(epoch, params, history):
        epoch_seconds.append(time.perf_counter() - clock["start"])
        accuracies.append(test_accuracy_of(params, x_test, y_test))
        if epoch == 0:
            first.update(params)
        clock["start"] = time.perf_counter()  # the next epoch's timer starts after the evaluation

    params = forward.init_params((784, 128, 10), seed=seed)
    params, _ = sgd.fit(params, x, y, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                        momentum=args.momentum, seed=seed, callback=callback)
    return {"epoch_seconds": epoch_seconds, "accuracy": accuracies, "first_epoch": first}


def train_torch(torch, ref, seed, x, y, x_test, y_test, args) -> dict:
    data, forward, _, sgd = ref
    F = torch.nn.functional
    start = forward.init_params((784, 128, 10), seed=seed)  # the same starting weights
    params = {k: torch.tensor(v, requires_grad=True) for k, v in start.items()}
    velocity = {k: torch.zeros_like(p) for k, p in params.items()}
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    index = np.arange(len(x))
    rng = np.random.default_rng(seed)  # the same generator as fit: the same batches in the same order
    total = args.epochs * math.ceil(len(x) / args.batch_size)
    step, epoch_seconds, accuracies, first = 0, [], [], {}
    for epoch in range(args.epochs):
        begin = time.perf_counter()
        for idx, _ in data.iterate_minibatches(index, index, args.batch_size, shuffle=True, seed=rng):
            b = torch.from_numpy(idx)
            xb, yb = xt[b], yt[b]
            h1 = torch.relu(xb @ params["W1"] + params["b1"])  # (B, 784) @ (784, 128) -> (B, 128)
            loss = F.cross_entropy(h1 @ params["W2"] + params["b2"], yb)  # mean over the batch
            for p in params.values():
                p.grad = None
            loss.backward()
            lr = sgd.cosine_lr(step, total, args.lr)
            with torch.no_grad():
                for k, p in params.items():
                    velocity[k].mul_(args.momentum).sub_(p.grad, alpha=lr)  # v = mu v - lr g
                    p.add_(velocity[k])  # p = p + v
            step += 1
        epoch_seconds.append(time.perf_counter() - begin)
        trained = {k: p.detach().numpy().copy() for k, p in params.items()}
        accuracies.append(test_accuracy_of(trained, x_test, y_test))
        if epoch == 0:
            first = trained
    return {"epoch_seconds": epoch_seconds, "accuracy": accuracies, "first_epoch": first}


def train_sklearn(seed, x, y, x_test, y_test, args, sgd) -> dict:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=(128,), solver="sgd", momentum=0.9, nesterovs_momentum=False,
                        batch_size=args.batch_size, learning_rate="constant", learning_rate_init=args.lr,
                        alpha=0.0, shuffle=True, random_state=np.random.RandomState(seed))
    per_epoch = math.ceil(len(x) / args.batch_size)
    classes = np.arange(10)
    epoch_seconds, accuracies = [], []
    for epoch in range(args.epochs):
        # the cosine schedule, once per epoch: the rate of the epoch's middle step
        lr = sgd.cosine_lr(epoch * per_epoch + per_epoch // 2, args.epochs * per_epoch, args.lr)
        clf.learning_rate_init = lr
        if hasattr(clf, "_optimizer"):
            clf._optimizer.learning_rate = lr  # partial_fit keeps its optimizer between calls
        begin = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.partial_fit(x, y, classes=classes)
        epoch_seconds.append(time.perf_counter() - begin)
        accuracies.append(float(np.mean(clf.predict(x_test) == y_test)))
    return {"epoch_seconds": epoch_seconds, "accuracy": accuracies, "dtype": str(clf.coefs_[0].dtype)}


# ---------------------------------------------------------------- reporting


def blas_report() -> list[str]:
    from threadpoolctl import threadpool_info

    lines = [f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(not set)')}  "
             f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '(not set)')}  "
             f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '(not set)')}"]
    for pool in threadpool_info():
        path = Path(pool.get("filepath", ""))
        owner = "numpy" if "numpy" in str(path) else "torch" if "torch" in str(path) else \
            "scipy/sklearn" if "scipy" in str(path) or "scikit_learn" in str(path) else path.parent.name
        lines.append(f"{owner:>13}: {pool.get('user_api')} {pool.get('internal_api')} {pool.get('version') or ''}, "
                     f"{pool.get('num_threads')} threads, architecture (kernel) {pool.get('architecture', '-')}  "
                     f"[{path.parent.name}/{path.name}]")
    return lines


def time_to_target(result: dict) -> str:
    elapsed = 0.0
    for epoch, (seconds, acc) in enumerate(zip(result["epoch_seconds"], result["accuracy"]), start=1):
        elapsed += seconds
        if acc >= TARGET:
            return f"{elapsed:5.2f}s (epoch {epoch})"
    return "not reached"


def course_train(data_dir: Path, threads: int | None) -> str:
    """``course train --target solutions`` end to end, in a fresh interpreter (loading, training,
    evaluating, figures)."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        threads = ["--threads", str(threads)] if threads else []  # else course train's own default (1)
        proc = subprocess.run([sys.executable, "-m", "course", "train", "--target", "solutions",
                               "--data-dir", str(data_dir), "--out", tmp, *threads], cwd=REPO,
                              capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            return f"failed ({proc.returncode}): {proc.stderr[-500:]}"
        metrics = json.loads((Path(tmp) / "metrics.json").read_text())
    return (f"{wall:.1f}s wall end to end, test accuracy {metrics['test_accuracy']:.2%} "
            f"(training {metrics['train_seconds']:.1f}s of it, on {metrics['train_size']:,} images)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="the full MNIST set (default: $MNIST_DIR or the cache)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.16)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--threads", type=int, default=None,
                        help="limit NumPy's BLAS, PyTorch and scikit-learn to this many threads "
                             "(default: as configured, usually one per core)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["torch", "sklearn", "course-train"])
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    for module in ("torch", "sklearn.neural_network"):  # load their thread pools before limiting them
        try:
            import_module(module)
        except ImportError:
            pass
    with threadpool_limits(limits=args.threads):
        return run(args)


def run(args: argparse.Namespace) -> int:

    data_dir, is_full = resolve_data_dir(args.data_dir)
    if not is_full:
        print(f"this benchmark needs the full MNIST set; {data_dir} is the embedded subset. "
              "Pass --data-dir or run `course data`.", file=sys.stderr)
        return 2
    ref = reference()
    data = ref[0]
    (x_raw, y), (x_test_raw, y_test) = data.load_mnist(data_dir)
    x, x_test = data.preprocess_images(x_raw), data.preprocess_images(x_test_raw)

    torch = None
    if "torch" not in args.skip:
        try:
            torch = import_module("torch")
        except ImportError:
            print("PyTorch is not installed: its column is skipped (pip install torch==2.13.0).")
        if torch is not None and args.threads:
            torch.set_num_threads(args.threads)
    if "sklearn" not in args.skip:
        import_module("sklearn.neural_network")  # imported before threadpoolctl looks

    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {' '.join(f'{v:.2f}' for v in load)} (before)")
    print(f"numpy {np.__version__}" + (f", torch {torch.__version__} ({torch.get_num_threads()} threads)" if torch else "")
          + f", scikit-learn {import_module('sklearn').__version__}")
    for line in blas_report():
        print("  " + line)
    if torch is not None:
        print(f"          torch: MKL {torch.backends.mkl.is_available()}, oneDNN {torch.backends.mkldnn.is_available()}, "
              f"{torch.get_num_threads()} intra-op threads (its BLAS is linked in, invisible to threadpoolctl)")
    print(f"full MNIST: {len(x):,} training, {len(x_test):,} test images; 784-128-10, {args.epochs} epochs, "
          f"batch {args.batch_size}, lr {args.lr} cosine, momentum {args.momentum}, float32\n")

    results: dict[str, dict[int, dict]] = {"numpy": {}, "torch": {}, "sklearn": {}}
    for seed in args.seeds:
        results["numpy"][seed] = train_numpy(ref, seed, x, y, x_test, y_test, args)
        line = f"seed {seed}: numpy {results['numpy'][seed]['accuracy'][-1]:.2%}"
        if torch is not None:
            results["torch"][seed] = r = train_torch(torch, ref, seed, x, y, x_test, y_test, args)
            mine = results["numpy"][seed]["first_epoch"]
            gap = max(float(np.max(np.abs(r["first_epoch"][k] - mine[k]))) for k in mine)
            line += f", torch {r['accuracy'][-1]:.2%} (weights after epoch 1 within {gap:.0e} of numpy's)"
        if "sklearn" not in args.skip:
            results["sklearn"][seed] = r = train_sklearn(seed, x, y, x_test, y_test, args, ref[3])
            line += f", sklearn {r['accuracy'][-1]:.2%} ({r['dtype']})"
        print(line, flush=True)

    print(f"\n{'trainer':<8} {'s/epoch':>8} {'min':>6} {'max':>6}  {'test accuracy per seed':<40} time to {TARGET:.1%}")
    median = {}
    for name, runs in results.items():
        if not runs:
            print(f"{name:<8} {'skipped':>8}")
            continue
        seconds = np.concatenate([r["epoch_seconds"] for r in runs.values()])
        median[name] = float(np.median(seconds))
        accs = " ".join(f"{r['accuracy'][-1]:.2%}" for r in runs.values())
        reach = ", ".join(time_to_target(r) for r in runs.values())
        print(f"{name:<8} {median[name]:8.3f} {seconds.min():6.3f} {seconds.max():6.3f}  {accs:<40} {reach}")
    if "torch" in median:
        print(f"\nnumpy / torch   = {median['numpy'] / median['torch']:.2f} (time per epoch; target <= 0.8)")
    if "sklearn" in median:
        print(f"numpy / sklearn = {median['numpy'] / median['sklearn']:.2f}")
    worst = min(r["accuracy"][-1] for r in results["numpy"].values())
    slowest = max(sum(r["epoch_seconds"]) for r in results["numpy"].values())
    print(f"numpy: worst test accuracy {worst:.2%} (target >= {TARGET:.1%}), longest training {slowest:.2f}s (target <= 3s)")
    if "course-train" not in args.skip:
        print(f"course train --target solutions --data-dir {args.data_dir or data_dir}"
              f"{f' --threads {args.threads}' if args.threads else ''}: {course_train(data_dir, args.threads)}")
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print(f"load average {' '.join(f'{v:.2f}' for v in load)} (after)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
