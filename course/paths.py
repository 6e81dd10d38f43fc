"""Where things are: the repository, its three trees, and the MNIST data directory."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LESSONS = REPO / "lessons"
SOLUTIONS = REPO / "solutions"
CHECKS = REPO / "checks"
EMBEDDED_DATA = Path(__file__).resolve().parent / "data" / "mnist-subset"
DATA_ENV = "MNIST_DIR"


def resolve_target(target: str | os.PathLike | None) -> Path:
    """The tree to grade or train: ``None``/"lessons" -> lessons/, "solutions" -> solutions/, else a path."""
    if target in (None, "", "lessons"):
        return LESSONS
    if target == "solutions":
        return SOLUTIONS
    path = Path(target).expanduser()
    if not path.is_dir():
        raise SystemExit(f"--target {target}: no such folder (expected a folder laid out like lessons/)")
    return path.resolve()


def default_data_dir() -> Path:
    """The per-user cache for the full MNIST set: $MNIST_DIR, else $XDG_CACHE_HOME/mnist-from-scratch."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mnist-from-scratch" / "mnist"
