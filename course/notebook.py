"""Set-up for the lesson notebooks: ``from course.notebook import setup; setup()``.

It makes ``lessons`` name the tree the notebook sits in, so ``from lessons.lesson_02.forward
import softmax`` imports *your* code when you open ``lessons/lesson_02/lesson_02.ipynb``, and the
reference when the website runs the same notebook from ``solutions/``. ``COURSE_TREE`` overrides it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from . import paths
from .target import load_tree


def find_tree(start: Path | None = None) -> Path:
    """The tree a notebook belongs to: $COURSE_TREE, else the nearest folder above holding lesson_01/."""
    env = os.environ.get("COURSE_TREE")
    if env:
        return paths.resolve_target(env)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "lesson_01").is_dir() and (folder / "lesson_02").is_dir():
            return folder
    return paths.LESSONS


def setup(tree: str | Path | None = None, quiet: bool = False) -> Path:
    """Register the notebook's tree as the package ``lessons`` and set plotting defaults."""
    root = paths.resolve_target(tree) if tree else find_tree()
    current = sys.modules.get("lessons")
    if current is None or Path(getattr(current, "__path__", [""])[0]).resolve() != root:
        for name in [m for m in sys.modules if m == "lessons" or m.startswith("lessons.")]:
            del sys.modules[name]
        load_tree(root, name="lessons")
    try:
        import matplotlib.pyplot as plt

        plt.rcParams.update({"figure.dpi": 96, "figure.figsize": (6, 3.5), "axes.grid": False,
                             "image.cmap": "gray_r", "savefig.bbox": "tight"})
    except ImportError:  # pragma: no cover
        pass
    if not quiet:
        shown = root.relative_to(paths.REPO) if root.is_relative_to(paths.REPO) else root
        print(f"lessons -> {shown}/")
    return root
