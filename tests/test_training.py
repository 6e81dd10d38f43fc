"""`course train`: outputs that load, clear messages for unfinished trees, a checkpoint on Ctrl-C.

Most tests train the reference on the embedded subset for a couple of epochs; one trains on the
full set (skipped where ../shared/data/mnist is absent) and asserts the 98% of the README.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from course import paths
from course.datasets import find_full_mnist

FULL_MNIST = paths.REPO.parent / "shared" / "data" / "mnist"


def _env(**extra: str) -> dict[str, str]:
    """The environment of a learner with no full MNIST configured (so the subset is used)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_") and k != "MNIST_DIR"}
    env["XDG_CACHE_HOME"] = str(Path(tempfile.gettempdir()) / "course-tests-empty-cache")  # no cached full set
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def _train(*args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "course", "train", *args], cwd=paths.REPO,
                          capture_output=True, text=True, timeout=timeout, env=_env(**env))


@pytest.fixture(scope="module")
def subset_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path_factory.mktemp("train") / "run"
    return _train("--target", "solutions", "--epochs", "2", "--out", str(out)), out


def test_training_on_the_subset_succeeds_and_says_it_uses_the_subset(subset_run):
    proc, _ = subset_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "EMBEDDED SUBSET" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_training_prints_each_epoch_the_test_accuracy_and_the_time(subset_run):
    proc, _ = subset_run
    assert "epoch   1/2" in proc.stdout and "epoch   2/2" in proc.stdout, proc.stdout
    assert "val accuracy" in proc.stdout
    assert "test accuracy:" in proc.stdout and "trained in" in proc.stdout and "total time" in proc.stdout


def test_training_writes_float32_weights_that_load_and_predict(subset_run):
    _, out = subset_run
    with np.load(out / "weights.npz") as f:
        params = {k: f[k] for k in f.files}
    assert {k: v.shape for k, v in params.items()} == {"W1": (784, 128), "b1": (128,), "W2": (128, 10), "b2": (10,)}
    assert all(v.dtype == np.float32 for v in params.values())
    metrics = json.loads((out / "metrics.json").read_text())
    # The saved weights give the reported test accuracy (checked with plain NumPy).
    from course.target import load_tree
    import importlib

    tree = load_tree(paths.SOLUTIONS)
    data = importlib.import_module(f"{tree.__name__}.lesson_01.data")
    _, (x_test, y_test) = data.load_mnist(paths.EMBEDDED_DATA)
    x = data.preprocess_images(x_test)
    logits = np.maximum(x @ params["W1"] + params["b1"], 0) @ params["W2"] + params["b2"]
    assert np.mean(logits.argmax(axis=1) == y_test) == pytest.approx(metrics["test_accuracy"], abs=1e-9)


def test_training_writes_metrics_and_the_three_figures(subset_run):
    _, out = subset_run
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["full_mnist"] is False and metrics["interrupted"] is False
    assert len(metrics["epoch_loss"]) == 2 and len(metrics["val_accuracy"]) == 2
    assert metrics["train_size"] == 5000 and metrics["val_size"] == 1000 and metrics["test_size"] == 1000
    assert 0.85 <= metrics["test_accuracy"] <= 1.0, metrics["test_accuracy"]
    assert np.array(metrics["confusion_matrix"]).sum() == 1000
    for name in ("confusion_matrix.png", "misclassified.png", "history.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def _tree_with_stub(tmp_path: Path, lesson: str, module: str) -> Path:
    """The reference with one lesson module replaced by its untouched stub."""
    tree = tmp_path / "submission"
    shutil.copytree(paths.SOLUTIONS, tree, ignore=shutil.ignore_patterns("__pycache__", "*.ipynb", "kernel-*"))
    shutil.copy(paths.LESSONS / lesson / f"{module}.py", tree / lesson / f"{module}.py")
    return tree


@pytest.mark.parametrize("lesson, module, function", [
    ("lesson_03", "loss", "cross_entropy"),
    ("lesson_05", "sgd", "fit"),
])
def test_an_unfinished_tree_names_the_lesson_to_finish_without_a_traceback(tmp_path, lesson, module, function):
    tree = _tree_with_stub(tmp_path, lesson, module)
    proc = _train("--target", str(tree), "--epochs", "1", "--out", str(tmp_path / "run"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    label = lesson.replace("_", " ")
    assert f"{label} is not finished yet" in proc.stderr and function in proc.stderr, proc.stderr
    assert f"pytest checks/{lesson}" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_stub_raising_during_training_names_its_lesson_without_a_traceback(tmp_path):
    # Not an untouched stub (the pre-flight reading of the files lets it through): it raises when called.
    tree = tmp_path / "submission"
    shutil.copytree(paths.SOLUTIONS, tree, ignore=shutil.ignore_patterns("__pycache__", "*.ipynb", "kernel-*"))
    path = tree / "lesson_04" / "backward.py"
    path.write_text(path.read_text() + textwrap.dedent("""

        def backward(params, cache, y_onehot):
            grads = {}  # started, not finished
            raise NotImplementedError("lesson 04: implement backward")
        """))
    proc = _train("--target", str(tree), "--epochs", "1", "--out", str(tmp_path / "run"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "lesson 04 is not finished yet: backward" in proc.stderr, proc.stderr
    assert "pytest checks/lesson_04" in proc.stderr and "Traceback" not in proc.stderr


def test_an_unfinished_lesson_06_still_trains_and_skips_only_the_figures(tmp_path):
    tree = _tree_with_stub(tmp_path, "lesson_06", "evaluate")
    out = tmp_path / "run"
    proc = _train("--target", str(tree), "--epochs", "1", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "figures skipped: lesson 06 is not finished yet" in proc.stdout, proc.stdout
    assert (out / "weights.npz").exists() and "test_accuracy" in json.loads((out / "metrics.json").read_text())


def test_ctrl_c_leaves_the_weights_of_the_last_finished_epoch(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "course", "train", "--target", "solutions", "--epochs", "500",
                             "--out", str(out)], cwd=paths.REPO, env=_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        seen = []
        for line in proc.stdout:  # wait until two epochs have finished
            seen.append(line)
            if line.startswith("epoch   2/500") or time.monotonic() > deadline:
                break
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, "".join(seen) + stdout + stderr
    assert "Traceback" not in stderr, stderr
    assert "Checkpoint" in stderr and "weights.npz" in stderr, stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["interrupted"] is True and 2 <= metrics["epochs_completed"] < 500
    with np.load(out / "weights.npz") as f:
        assert f["W1"].shape == (784, 128) and f["W1"].dtype == np.float32 and np.all(np.isfinite(f["W1"]))


@pytest.mark.slow
@pytest.mark.skipif(find_full_mnist(FULL_MNIST) is None,
                    reason=f"the full MNIST set is not at {FULL_MNIST} (run `course data --data-dir {FULL_MNIST}`)")
def test_the_reference_reaches_98_percent_on_full_mnist(tmp_path):
    out = tmp_path / "run"
    proc = _train("--target", "solutions", "--data-dir", str(FULL_MNIST), "--out", str(out), timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["full_mnist"] is True and metrics["test_size"] == 10000
    assert metrics["test_accuracy"] >= 0.98, f"test accuracy {metrics['test_accuracy']:.2%}\n{proc.stdout}"
