"""Grading submissions safely: the sandbox, the trusted runs of the pristine checks, the exports.

    course grade SUBMISSION... --out DIR      grade folders or .zip files (cli.py, grader.py)
    course autograder --out DIR               a Gradescope bundle; --github for a Classroom workflow

Submitted code never runs in a process that decides a score. The instructor's checks run in a
trusted pytest process (grader.py) whose seam (checks/conftest.py -> remote.py) sends each call
of a graded function to a sandboxed child (sandbox.py, jail.py, child.py); values cross as plain
data (wire.py) and the checks compare them with their own NumPy oracle.
"""
