"""Catalogs of realistic wrong implementations, one module per lesson (``lesson_02.py`` ...).

Each :class:`Mutant` replaces one function of the reference with a plausible mistake. The test
``tests/test_mutants.py`` copies ``solutions/``, appends the mutant to the module (a later ``def``
rebinds the name, so every caller in that module uses the mutant), runs the lesson's checks on
the copy and asserts that a check fails with a message that names the mistake.
"""

from __future__ import annotations

import importlib
import textwrap
from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    name: str  # the mistake, in a few words (also the test id)
    module: str  # module of the lesson, e.g. "forward"
    source: str  # the wrong function(s), as Python source
    expect: str  # words that the failing check's message must contain (case-insensitive)

    def apply(self, text: str) -> str:
        return text.rstrip("\n") + "\n\n\n# --- mutant: " + self.name + "\n" + textwrap.dedent(self.source).strip() + "\n"


def catalog(lesson: str) -> list[Mutant]:
    try:
        return list(importlib.import_module(f"tests.mutants.{lesson}").MUTANTS)
    except ModuleNotFoundError:
        return []
