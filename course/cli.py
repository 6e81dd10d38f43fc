"""The `course` command. Each subcommand lives in its own module with `configure(parser)` and `run(args)`."""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    # name: (module, one-line help)
    "data": ("course.datasets", "download and verify the full MNIST set (or check a copy you have)"),
    "progress": ("course.progress", "which lessons pass their checks, and what to do next"),
    "train": ("course.training", "train the network built from a tree and save weights and figures"),
    "stubs": ("course.stubs", "regenerate lessons/ from solutions/ (maintainers)"),
    "grade": ("course.grading.cli", "grade submissions: scores, feedback and exports (instructors)"),
    "release": ("course.release", "write the student edition of the course (instructors)"),
    "autograder": ("course.grading.autograder", "build a Gradescope autograder bundle (instructors)"),
    "export-web": ("course.webexport", "export trained weights as JSON for the draw-a-digit page"),
}


def _parser(with_commands: bool = True) -> tuple[argparse.ArgumentParser, dict]:
    parser = argparse.ArgumentParser(
        prog="course",
        description="A neural network from scratch with NumPy: tools for learners and instructors.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = {}
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("course"):
                continue  # a command not built yet
            raise
        module.configure(p)
        modules[name] = module
    return parser, modules


def main(argv: list[str] | None = None) -> int:
    parser, modules = _parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    if args.command not in modules:
        print(f"course {args.command}: not available in this version", file=sys.stderr)
        return 2
    try:
        return int(modules[args.command].run(args) or 0)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
