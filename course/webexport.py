"""`course export-web`: the trained network's weights as JSON, for the site's draw-a-digit page.

    course export-web                          # train the reference on the data found, write the JSON
    course export-web --weights runs/w.npz     # export weights saved by `course train` instead
    course export-web --tree lessons           # train *your* network (lessons 01, 02, 05) and export it

The page runs the forward pass of lesson 02 in plain JavaScript, so it needs the four arrays W1,
b1, W2, b2. Each is stored as little-endian float32 bytes in base64 (exactly the float32 values
NumPy holds, about a third of the size of decimal text), with its shape:

    {"format": "mnist-from-scratch/weights", "version": 1, "layer_sizes": [784, 128, 10],
     "arrays": {"W1": {"shape": [784, 128], "dtype": "<f4", "data": "<base64>"}, ...},
     "trained": {how the weights were made, and their accuracy on the test images}}

The site's build (tools/website/hooks.py) calls :func:`export` on the embedded subset, so the page
always shows a network that the current code trains.
"""

from __future__ import annotations

import argparse
import base64
import importlib
import json
import os
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from . import paths
from .datasets import resolve_data_dir
from .target import load_tree

FORMAT = "mnist-from-scratch/weights"
VERSION = 1
KEYS = ("W1", "b1", "W2", "b2")
SHAPES = {"W1": (784, 128), "b1": (128,), "W2": (128, 10), "b2": (10,)}
EPOCHS = 10  # the embedded subset (6,000 images) reaches about 95% test accuracy in about 5 s
DEFAULT_OUT = Path("site-weights.json")


# ---------------------------------------------------------------- library functions


def _lesson(tree: Path, dotted: str) -> ModuleType:
    package = load_tree(tree)
    return importlib.import_module(f"{package.__name__}.{dotted}")


def train(tree: str | os.PathLike | None = "solutions", data_dir: str | os.PathLike | None = None,
          epochs: int = EPOCHS, seed: int = 0) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Train the network of ``tree`` (lessons 01, 02, 05) with lesson 05's ``fit`` defaults.

    Returns ``(params, info)``: the float32 weights and a description of the run, including the
    accuracy on the test images of the same data folder.
    """
    root = paths.resolve_target(tree)
    data = _lesson(root, "lesson_01.data")
    forward = _lesson(root, "lesson_02.forward")
    sgd = _lesson(root, "lesson_05.sgd")
    folder, is_full = resolve_data_dir(data_dir)
    (x_train, y_train), (x_test, y_test) = data.load_mnist(folder)
    x_train, x_test = data.preprocess_images(x_train), data.preprocess_images(x_test)
    start = time.perf_counter()
    # Mini-batches of 128 make small matrix products: one BLAS thread is fastest, and several
    # threads on a busy machine are up to 15 times slower (measured on 2 cores).
    with threadpool_limits(1):
        params, history = sgd.fit(forward.init_params(seed=seed), x_train, y_train.astype(np.int64),
                                  epochs=epochs, seed=seed)
    seconds = time.perf_counter() - start
    probs, _ = forward.forward(params, x_test)  # (N, 784) -> (N, 10)
    info = {
        "by": "course export-web",
        "tree": root.name,
        "data": "full MNIST" if is_full else "the embedded subset",
        "train_images": int(len(x_train)),
        "test_images": int(len(x_test)),
        "epochs": int(epochs),
        "seed": int(seed),
        "final_epoch_loss": round(float(history["epoch_loss"][-1]), 4),
        "test_accuracy": round(float(np.mean(probs.argmax(axis=1) == y_test)), 4),
        "train_seconds": round(seconds, 1),
    }
    return {k: np.asarray(params[k], dtype=np.float32) for k in KEYS}, info


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The weights saved by ``course train`` (an .npz with W1, b1, W2, b2) as float32 arrays."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such weights file (make one with `course train`)")
    with np.load(path) as npz:
        missing = [k for k in KEYS if k not in npz.files]
        if missing:
            raise ValueError(f"{path}: missing {', '.join(missing)}; expected the keys {', '.join(KEYS)}")
        return {k: np.asarray(npz[k], dtype=np.float32) for k in KEYS}


def to_json(params: dict[str, np.ndarray], info: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON document of the draw page (see the module docstring)."""
    for key, shape in SHAPES.items():
        if key not in params or np.shape(params[key]) != shape:
            got = np.shape(params[key]) if key in params else "missing"
            raise ValueError(f"weights {key}: shape {got}, the draw page needs {shape} (a 784-128-10 network)")
    arrays = {}
    for key in KEYS:
        value = np.ascontiguousarray(params[key], dtype="<f4")
        arrays[key] = {"shape": list(value.shape), "dtype": "<f4",
                       "data": base64.b64encode(value.tobytes()).decode("ascii")}
    return {"format": FORMAT, "version": VERSION, "layer_sizes": [784, 128, 10], "arrays": arrays,
            "trained": info or {}}


def from_json(doc: dict[str, Any]) -> dict[str, np.ndarray]:
    """The float32 arrays of a document written by :func:`to_json` (the inverse)."""
    if doc.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} document (format={doc.get('format')!r})")
    return {key: np.frombuffer(base64.b64decode(a["data"]), dtype=a["dtype"]).reshape(a["shape"]).copy()
            for key, a in doc["arrays"].items()}


def export(out: str | os.PathLike, weights: str | os.PathLike | None = None, **train_kwargs: Any) -> dict[str, Any]:
    """Write the JSON for ``weights`` (an .npz), or for a freshly trained network; return its info."""
    if weights is not None:
        params, info = load_npz(weights), {"by": "course export-web", "weights": str(weights)}
    else:
        params, info = train(**train_kwargs)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(to_json(params, info), separators=(",", ":")), encoding="utf-8")
    tmp.replace(out)
    return info


# ---------------------------------------------------------------- the command


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=str(DEFAULT_OUT),
                        help=f"the JSON file to write (default: {DEFAULT_OUT}; the site's build writes its own)")
    parser.add_argument("--weights", default=None, help="an .npz saved by `course train` to export instead of training")
    parser.add_argument("--tree", default="solutions",
                        help="the tree to train: solutions (default), lessons, or a folder laid out like lessons/")
    parser.add_argument("--data-dir", default=None, help="the MNIST folder (default: full MNIST if found, else the subset)")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help=f"training epochs (default {EPOCHS})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the shuffling (default 0)")


def run(args: argparse.Namespace) -> int:
    try:
        if args.weights:
            info = export(args.out, weights=args.weights)
        else:
            print(f"training the network of {args.tree} for {args.epochs} epochs ...", file=sys.stderr)
            info = export(args.out, tree=args.tree, data_dir=args.data_dir, epochs=args.epochs, seed=args.seed)
    except (FileNotFoundError, ValueError) as exc:
        print(f"course export-web: {exc}", file=sys.stderr)
        return 1
    except NotImplementedError as exc:
        print(f"course export-web: {exc}: training needs lessons 01, 02 and 05 of {args.tree}; "
              f"finish them first (`pytest checks/lesson_05`)", file=sys.stderr)
        return 1
    size = Path(args.out).stat().st_size
    accuracy = f", test accuracy {info['test_accuracy']:.2%} on {info['test_images']:,} images" \
        if "test_accuracy" in info else ""
    print(f"wrote {args.out} ({size / 1e6:.2f} MB{accuracy})")
    return 0
