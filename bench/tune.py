"""Choose fit's defaults on validation splits of the training set, never on the test set.

    python bench/tune.py --data-dir ../shared/data/mnist --lr 0.08 0.16 0.24 --epochs 10 15

For every setting of the grid, and every split seed and weight seed, this holds 5,000 of the
60,000 training images out (lesson 01's ``train_val_split``), trains the reference (784-128-10,
He init, SGD with momentum, cosine learning rate) on the other 55,000, and measures the held-out
5,000. It prints the mean and the worst validation accuracy and the mean validation loss of each
setting. The test set is never loaded.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from importlib import import_module
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from course import paths  # noqa: E402
from course.datasets import resolve_data_dir  # noqa: E402
from course.target import load_tree  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="the full MNIST set (default: $MNIST_DIR or the cache)")
    parser.add_argument("--lr", type=float, nargs="+", default=[0.08, 0.16, 0.24])
    parser.add_argument("--epochs", type=int, nargs="+", default=[10])
    parser.add_argument("--batch-size", type=int, nargs="+", default=[128])
    parser.add_argument("--momentum", type=float, nargs="+", default=[0.9])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="weight and shuffling seeds")
    parser.add_argument("--split-seeds", type=int, nargs="+", default=[0], help="seeds of the 55k/5k split")
    args = parser.parse_args(argv)

    tree = load_tree(paths.SOLUTIONS)
    data = import_module(f"{tree.__name__}.lesson_01.data")
    forward = import_module(f"{tree.__name__}.lesson_02.forward")
    loss = import_module(f"{tree.__name__}.lesson_03.loss")
    sgd = import_module(f"{tree.__name__}.lesson_05.sgd")

    data_dir, is_full = resolve_data_dir(args.data_dir)
    if not is_full:
        print(f"warning: {data_dir} is not the full MNIST set", file=sys.stderr)
    (x_all, y_all), _ = data.load_mnist(data_dir)  # the test set is not even looked at
    x_all = data.preprocess_images(x_all)
    splits = {s: data.train_val_split(x_all, y_all, 5000, seed=s) for s in args.split_seeds}
    print(f"{len(splits)} split(s) of 55,000 / 5,000 training images; weight seeds {args.seeds}")
    print(f"{'lr':>6} {'epochs':>6} {'batch':>5} {'mom':>5}  {'val acc mean':>12} {'worst':>7} {'val loss':>8} {'s/run':>6}")
    for lr, epochs, batch, mom in itertools.product(args.lr, args.epochs, args.batch_size, args.momentum):
        accs, losses, times = [], [], []
        for (x_train, y_train, x_val, y_val), seed in itertools.product(splits.values(), args.seeds):
            params = forward.init_params(seed=seed)
            start = time.perf_counter()
            params, _ = sgd.fit(params, x_train, y_train, epochs=epochs, batch_size=batch, lr=lr,
                                momentum=mom, seed=seed)
            times.append(time.perf_counter() - start)
            probs, _ = forward.forward(params, x_val)
            accs.append(loss.accuracy(probs, y_val))
            losses.append(loss.cross_entropy(probs, data.one_hot(y_val)))
        print(f"{lr:6.3f} {epochs:6d} {batch:5d} {mom:5.2f}  {np.mean(accs):12.4%} {min(accs):7.2%} "
              f"{np.mean(losses):8.4f} {np.mean(times):6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
