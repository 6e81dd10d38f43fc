"""The course map: the six lessons, their modules and the functions each one grades.

One table that every tool reads: the checks' seam (which module a function lives in), `course
stubs`, `course progress`, the grader (which files of a submission count) and the site.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Lesson:
    number: int
    title: str
    minutes: int  # how long it takes a learner, roughly
    modules: dict[str, tuple[str, ...]]  # module name -> graded functions, in lesson order

    @property
    def name(self) -> str:
        return f"lesson_{self.number:02d}"

    @property
    def label(self) -> str:
        return f"lesson {self.number:02d}"

    def module_of(self, function: str) -> str | None:
        for module, functions in self.modules.items():
            if function in functions:
                return module
        return None

    @property
    def functions(self) -> tuple[str, ...]:
        return tuple(f for fs in self.modules.values() for f in fs)


LESSONS: tuple[Lesson, ...] = (
    Lesson(1, "data loading", 60, {
        "data": ("parse_idx", "load_mnist", "preprocess_images", "one_hot",
                 "train_val_split", "iterate_minibatches", "read_kaggle_csv"),
    }),
    Lesson(2, "forward pass", 45, {
        "forward": ("init_params", "dense", "relu", "softmax", "forward"),
    }),
    Lesson(3, "loss", 40, {
        "loss": ("cross_entropy", "log_softmax", "cross_entropy_from_logits", "accuracy"),
    }),
    Lesson(4, "backprop", 90, {
        "backward": ("softmax_cross_entropy_backward", "dense_backward", "relu_backward", "backward"),
        "gradcheck": ("numerical_gradient", "rel_error"),
    }),
    Lesson(5, "SGD training", 60, {
        "sgd": ("sgd_update", "momentum_update", "cosine_lr", "train_step", "fit"),
    }),
    Lesson(6, "evaluation", 45, {
        "evaluate": ("predict", "confusion_matrix", "precision_recall_f1", "most_confused_pairs",
                     "plot_confusion_matrix", "plot_misclassified", "plot_history",
                     "write_kaggle_submission"),
    }),
)

BY_NAME = {lesson.name: lesson for lesson in LESSONS}


def lesson(key: int | str) -> Lesson:
    """Look a lesson up by number (2), short name ("02") or folder name ("lesson_02")."""
    if isinstance(key, int):
        key = f"lesson_{key:02d}"
    key = str(key)
    if not key.startswith("lesson_"):
        key = f"lesson_{int(key):02d}"
    try:
        return BY_NAME[key]
    except KeyError:
        raise ValueError(f"no such lesson {key!r}; the lessons are {', '.join(BY_NAME)}") from None
