"""Tooling for the course "A neural network from scratch with NumPy": the `course` command.

The learner's code lives in ``lessons/``, the reference in ``solutions/`` and the graded checks in
``checks/``. This package finds those trees, fetches MNIST, regenerates the stubs, shows progress,
trains the network built from a tree and grades submissions.
"""

__version__ = "0.1.0"
