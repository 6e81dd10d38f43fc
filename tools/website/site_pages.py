"""Pages of the course website generated from the code, so that they cannot drift from it.

- ``lesson_table()``: the course map on the home page, from ``course/curriculum.py``.
- ``api_page(lesson)``: each graded function's signature and docstring, read from the reference
  (``solutions/``) with ``ast``, without importing it. The stubs carry the same docstrings.
- ``troubleshooting()``: what the checks say when they fail: the seam's own messages (produced by
  calling ``course.target``) and, per check, the mistakes it recognises and the hints it gives,
  read from ``checks/lesson_0N/test_*.py``.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import numpy as np

from course import curriculum, paths
from course.describe import describe_call
from course.target import LessonAPI

SECTIONS = {"Args", "Arguments", "Returns", "Yields", "Raises", "Example", "Examples", "Note", "Notes"}
_ITEM = re.compile(r"^(\*{0,2}\w+(?:\s*\([^)]*\))?(?:,\s*\w+)*):\s+(.*)$")


def notebook_source(lesson: curriculum.Lesson) -> Path:
    """The one source of a lesson's notebook: the learner's .ipynb and the site both come from it."""
    return paths.SOLUTIONS / lesson.name / f"{lesson.name}.py"


def lesson_page(lesson: curriculum.Lesson) -> str:
    """Where the lesson page sits in the site (a docs-relative path)."""
    return f"lessons/{lesson.name}.ipynb"


def api_path(lesson: curriculum.Lesson) -> str:
    return f"api/{lesson.name}.md"


def title(lesson: curriculum.Lesson) -> str:
    return f"Lesson {lesson.number:02d}: {lesson.title}"


# ------------------------------------------------------------------ the course map


def lesson_table(from_page: str = "index.md") -> str:
    """A Markdown table of the six lessons with their time and links, relative to ``from_page``."""
    up = "../" * from_page.count("/")
    rows = ["| Lesson | You write | Time | Reference |", "| --- | --- | --- | --- |"]
    for lesson in curriculum.LESSONS:
        functions = ", ".join(f"`{f}`" for f in lesson.functions)
        rows.append(f"| [{title(lesson)}]({up}{lesson_page(lesson)}) | {functions} | "
                    f"{_duration(lesson.minutes)} | [API]({up}{api_path(lesson)}) |")
    total = sum(lesson.minutes for lesson in curriculum.LESSONS)
    rows.append(f"| **All six** | {sum(len(l.functions) for l in curriculum.LESSONS)} functions | "
                f"**{_duration(total)}** | |")
    return "\n".join(rows)


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h" + (f" {rest:02d} min" if rest else "")


# ------------------------------------------------------------------ API pages


def api_page(lesson: curriculum.Lesson) -> str:
    """The Markdown of one lesson's API page."""
    out = [f"# Lesson {lesson.number:02d} API: {lesson.title}", "",
           f"The graded functions of {lesson.label}: what each one takes and returns. You write them in "
           f"`lessons/{lesson.name}/`, one module at a time; the stubs there carry these very signatures "
           f"and docstrings. Read the [lesson](../{lesson_page(lesson)}) first, then check your work with "
           f"`pytest checks/{lesson.name}`.", ""]
    for module, functions in lesson.modules.items():
        source_path = paths.SOLUTIONS / lesson.name / f"{module}.py"
        tree = ast.parse(source_path.read_text(encoding="utf-8"))
        defs = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
        out += [f"## `{module}.py`", ""]
        module_doc = ast.get_docstring(tree)
        if module_doc:
            out += [docstring_markdown(module_doc), ""]
        for name in functions:
            node = defs.get(name)
            if node is None:
                raise ValueError(f"{source_path}: no function {name!r}, which course/curriculum.py grades")
            out += [f"### `{name}`", "", "```python", signature(node), "```", ""]
            out += [docstring_markdown(ast.get_docstring(node) or "(no docstring)"), ""]
    return "\n".join(out)


def signature(node: ast.FunctionDef) -> str:
    """``def name(arg: type = default, ...) -> returns`` as written in the source."""
    a = node.args

    def one(arg: ast.arg, default: ast.expr | None) -> str:
        text = arg.arg + (f": {ast.unparse(arg.annotation)}" if arg.annotation else "")
        if default is not None:
            text += (" = " if arg.annotation else "=") + ast.unparse(default)
        return text

    positional = a.posonlyargs + a.args
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    parts = [one(arg, d) for arg, d in zip(positional, defaults)]
    if a.posonlyargs:
        parts.insert(len(a.posonlyargs), "/")
    if a.vararg:
        parts.append("*" + one(a.vararg, None))
    elif a.kwonlyargs:
        parts.append("*")
    parts += [one(arg, d) for arg, d in zip(a.kwonlyargs, a.kw_defaults)]
    if a.kwarg:
        parts.append("**" + one(a.kwarg, None))
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    flat = f"def {node.name}({', '.join(parts)}){returns}"
    if len(flat) <= 90:
        return flat
    return f"def {node.name}(\n" + "".join(f"    {p},\n" for p in parts) + f"){returns}"


def inline(text: str) -> str:
    """reST inline markup of the docstrings -> Markdown: :math:`x` -> $x$, ``x`` -> `x`."""
    text = re.sub(r":math:`([^`]+)`", lambda m: f"${m.group(1)}$", text)
    return re.sub(r"``([^`]+)``", r"`\1`", text)


def docstring_markdown(doc: str) -> str:
    """A Google-style docstring as Markdown: prose, indented blocks as code, sections as lists."""
    lines = doc.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        head = line.strip().rstrip(":")
        if line.strip().endswith(":") and head in SECTIONS and not line.startswith(" "):
            body = []
            i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
                body.append(lines[i])
                i += 1
            out += [f"**{head}**", "", _section(textwrap.dedent("\n".join(body)).strip("\n")), ""]
            continue
        if line.startswith("    ") and line.strip():
            block = []
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                block.append(lines[i][4:])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            out += ["```text", *block, "```", ""]
            continue
        out.append(inline(line))
        i += 1
    return "\n".join(out).strip()


def _section(body: str) -> str:
    """Items ``name: text`` (with indented continuation lines) as a list, anything else as prose."""
    items: list[list[str]] = []
    prose: list[str] = []
    for line in body.splitlines():
        match = _ITEM.match(line)
        if match and not line.startswith(" "):
            items.append([f"`{match.group(1)}`", match.group(2).strip()])
        elif line.startswith(" ") and items:
            items[-1].append(line.strip())
        elif items:
            items[-1].append(line.strip())
        else:
            prose.append(line.strip())
    text = " ".join(p for p in prose if p)
    listed = "\n".join(f"- {name}: {inline(' '.join(p for p in rest if p))}" for name, *rest in items)
    return "\n\n".join(part for part in (inline(text), listed) if part)


# ------------------------------------------------------------------ troubleshooting


def seam_messages() -> list[tuple[str, str]]:
    """(situation, message) pairs, each produced by the code the checks really run (course.target)."""
    z = np.zeros((4, 10))
    call = describe_call("softmax", (z,), {}, ("z",))
    lessons = Path("lessons")
    api = LessonAPI(lessons, 2, checking=2)
    later = LessonAPI(lessons, 3, checking=2)
    return [
        ("You have not written the function yet",
         api._not_implemented(NotImplementedError("lesson 02: implement softmax"), call)),
        ("A check of lesson 03 needs a function of lesson 02 that you have not written",
         LessonAPI(lessons, 2, checking=3)._not_implemented(
             NotImplementedError("lesson 02: implement softmax"), call)),
        ("Your lesson 02 code calls a function of a later lesson",
         later._not_implemented(NotImplementedError("lesson 03: implement cross_entropy"), call)),
    ]


class _Texts:
    """The message strings an expression of a check file can produce, found statically.

    Follows names to their assignments (in the check, then at module level), calls of the
    module's helper functions to their return values, and dicts to their keys and values, so
    that ``mistakes={MISSING_1_N: ...}`` or ``mistake=next(n for n, s in guesses.items() ...)``
    give the words the learner reads.
    """

    def __init__(self, module: ast.Module):
        self.constants: dict[str, list[ast.expr]] = {}
        self.functions: dict[str, ast.FunctionDef] = {}
        for node in module.body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.constants.setdefault(target.id, []).append(node.value)
            elif isinstance(node, ast.FunctionDef):
                self.functions[node.name] = node

    def local_assignments(self, function: ast.FunctionDef) -> dict[str, list[ast.expr]]:
        """Local name -> the expressions assigned to it, loop variables included."""
        names: dict[str, list[ast.expr]] = {}
        for node in ast.walk(function):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                    self._bind(target, node.value, names)
            elif isinstance(node, (ast.For, ast.comprehension)):
                for item in self._elements(node.iter, names):
                    self._bind(node.target, item, names)
        return names

    def _elements(self, node: ast.expr, names: dict, depth: int = 3) -> list[ast.expr]:
        """The items of a literal list/tuple (possibly behind a name) a loop runs over."""
        if isinstance(node, (ast.List, ast.Tuple)):
            return list(node.elts)
        if isinstance(node, ast.Name) and depth:
            values = names.get(node.id) or self.constants.get(node.id) or []
            return [e for v in values for e in self._elements(v, names, depth - 1)]
        return []

    @staticmethod
    def _bind(target: ast.expr, value: ast.expr, names: dict) -> None:
        if isinstance(target, ast.Name):
            names.setdefault(target.id, []).append(value)
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            names.setdefault(target.value.id, []).append(target.slice)  # mistakes[NAME] = ...: the key
        elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)):
            for t, v in zip(target.elts, value.elts):
                _Texts._bind(t, v, names)

    def __call__(self, node: ast.AST | None, scope: dict[str, list[ast.expr]], depth: int = 8) -> list[str]:
        if node is None or depth < 0:
            return []
        if isinstance(node, ast.Constant):
            return [node.value] if isinstance(node.value, str) else []
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                if isinstance(value, ast.Constant):
                    parts.append(str(value.value))
                else:
                    inner = self(value.value, scope, depth - 1)
                    parts.append(inner[0] if len(inner) == 1 else "…")
            return ["".join(parts)]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self(node.left, scope, depth), self(node.right, scope, depth)
            return [left[0] + right[0]] if left and right else left + right
        if isinstance(node, ast.IfExp):
            return self(node.body, scope, depth) + self(node.orelse, scope, depth)
        if isinstance(node, (ast.BoolOp, ast.Tuple, ast.List, ast.Set)):
            items = node.values if isinstance(node, ast.BoolOp) else node.elts
            return [t for item in items for t in self(item, scope, depth)]
        if isinstance(node, ast.Dict):
            return [t for item in (*node.keys, *node.values) for t in self(item, scope, depth - 1)]
        if isinstance(node, ast.Name):
            values = scope.get(node.id) or self.constants.get(node.id) or []
            return [t for value in values for t in self(value, scope, depth - 1)]
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            return self(node.value, scope, depth - 1)
        if isinstance(node, (ast.GeneratorExp, ast.ListComp, ast.SetComp)):
            return [t for gen in node.generators for t in self(gen.iter, scope, depth - 1)]
        if isinstance(node, ast.Call):
            found = [t for arg in node.args for t in self(arg, scope, depth - 1)]
            if isinstance(node.func, ast.Attribute):  # {...}.get(key), guesses.items()
                found += self(node.func.value, scope, depth - 1)
            helper = self.functions.get(node.func.id) if isinstance(node.func, ast.Name) else None
            if helper is not None:
                inner = self.local_assignments(helper)
                found += [t for ret in ast.walk(helper) if isinstance(ret, ast.Return)
                          for t in self(ret.value, inner, depth - 1)]
            return found
        return []


_MISTAKE_WORDS = ("mistake",)
_HINT_WORDS = ("hint",)


def _helper_params(helper: ast.FunctionDef, call: ast.Call) -> dict[str, ast.expr]:
    """The arguments of a call of a helper function, by parameter name."""
    params = [a.arg for a in helper.args.posonlyargs + helper.args.args]
    bound = {name: arg for name, arg in zip(params, call.args)}
    bound.update({kw.arg: kw.value for kw in call.keywords if kw.arg})
    return bound


def check_catalogue(lesson: curriculum.Lesson) -> list[dict]:
    """Every check of a lesson with the mistakes it names and the hints it gives, in file order."""
    found = []
    for path in sorted((paths.CHECKS / lesson.name).glob("test_*.py")):
        module = ast.parse(path.read_text(encoding="utf-8"))
        texts = _Texts(module)
        for node in module.body:
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
                continue
            scope = texts.local_assignments(node)
            mistakes, hints, uses = [], [], []
            seen_helpers: set[str] = set()
            calls = [(sub, scope) for sub in ast.walk(node) if isinstance(sub, ast.Call)]
            for sub in ast.walk(node):
                if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) \
                        and sub.value.id == "lesson" and sub.attr in lesson.functions:
                    uses.append(sub.attr)
            while calls:
                call, where = calls.pop(0)
                for kw in call.keywords:
                    if kw.arg and any(w in kw.arg for w in _MISTAKE_WORDS):
                        mistakes += texts(kw.value, where)
                    elif kw.arg and any(w in kw.arg for w in _HINT_WORDS):
                        hints += texts(kw.value, where)
                helper = texts.functions.get(call.func.id) if isinstance(call.func, ast.Name) else None
                if helper is None:
                    continue
                for name, arg in _helper_params(helper, call).items():
                    if any(w in name for w in _MISTAKE_WORDS):
                        mistakes += texts(arg, where)
                    elif any(w in name for w in _HINT_WORDS):
                        hints += texts(arg, where)
                if helper.name not in seen_helpers:  # the helper's own fixed words count too
                    seen_helpers.add(helper.name)
                    inner = texts.local_assignments(helper)
                    calls += [(sub, inner) for sub in ast.walk(helper) if isinstance(sub, ast.Call)]
                    for sub in ast.walk(helper):
                        if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) \
                                and sub.value.id == "lesson" and sub.attr in lesson.functions:
                            uses.append(sub.attr)
            points = next((d.args[0].value for d in node.decorator_list
                           if isinstance(d, ast.Call) and ast.unparse(d.func).endswith("points")
                           and d.args and isinstance(d.args[0], ast.Constant)), None)
            # The function a check is about: the one its name starts with, else the first it calls.
            named_after = [f for f in lesson.functions if node.name.startswith(f"test_{f}_")]
            function = max(named_after, key=len) if named_after else (uses[0] if uses else None)
            found.append({"check": node.name, "file": path.name, "points": points, "function": function,
                          "mistakes": _clean(mistakes), "hints": _clean(hints)})
    return found


def _clean(texts: list[str]) -> list[str]:
    """Distinct, readable texts: placeholders-only and very short fragments dropped."""
    out = []
    for text in texts:
        text = " ".join(text.split())
        if len(text.replace("…", "").strip(" ;:,.")) >= 8 and text not in out:
            out.append(text)
    return out


def checklib_messages() -> list[tuple[str, str]]:
    """(kind, text) of the mistakes and hints that course/checklib.py gives in every lesson."""
    module = ast.parse((paths.REPO / "course" / "checklib.py").read_text(encoding="utf-8"))
    texts, out = _Texts(module), []
    for node in ast.walk(module):
        if isinstance(node, ast.keyword) and node.arg in ("mistake", "hint"):
            for text in _clean([t for t in texts(node.value, {}) if "…" not in t]):
                if (node.arg, text) not in out:
                    out.append((node.arg, text))
    return out


def troubleshooting() -> str:
    """The generated part of the troubleshooting page."""
    out = ["## Messages from the course itself", "",
           "These come before any check of your code: the checks could not call it. "
           "Each message below is produced by the same code that runs when you type `pytest`.", ""]
    for situation, message in seam_messages():
        out += [f"### {situation}", "", "```text", message, "```", ""]
    out += ["## In every lesson", "",
            "Some messages come from the helpers that all the checks share (`course/checklib.py`):", ""]
    for kind, text in checklib_messages():
        out.append(f"- {'looks like' if kind == 'mistake' else 'hint'}: {_escape(text)}")
    out += ["", "## What each check recognises", "",
            "When a check fails on a wrong answer it knows, its message has a line "
            "`looks like: <mistake>`; every failure ends with a `hint:`. Here they are for every "
            "check, grouped by lesson and by the function the check calls. Search this page "
            "(press ++slash++ or use the search box) for the words of your message.", ""]
    for lesson in curriculum.LESSONS:
        catalogue = check_catalogue(lesson)
        out += [f"### {title(lesson)}", ""]
        if not catalogue:
            out += [f"No checks yet in `checks/{lesson.name}/`.", ""]
            continue
        groups: dict[str, list[dict]] = {}
        for entry in catalogue:
            groups.setdefault(entry["function"] or "other", []).append(entry)
        for function, entries in groups.items():
            out += [f"#### `{function}`" if function != "other" else "#### other checks", ""]
            for entry in entries:
                name = entry["check"].removeprefix("test_")
                fn = entry["function"]
                if fn and name.startswith(fn + "_"):
                    sentence = f"`{fn}` " + name[len(fn) + 1:].replace("_", " ")
                else:
                    sentence = name.replace("_", " ")
                out += [f"- **{sentence}** <small>`{entry['file']}::{entry['check']}`</small>"]
                for mistake in entry["mistakes"]:
                    out.append(f"    - looks like: {_escape(mistake)}")
                for hint in entry["hints"]:
                    out.append(f"    - hint: {_escape(hint)}")
            out.append("")
    return "\n".join(out)


def _escape(text: str) -> str:
    """Message text inside Markdown: `code` spans kept as they are; elsewhere no emphasis or math."""
    parts = re.split(r"(`[^`]*`)", text.replace("\n", " "))
    for i in range(0, len(parts), 2):  # the even parts are outside backticks
        part = parts[i].replace("\\", "\\\\")
        for char in "*_$[]":
            part = part.replace(char, "\\" + char)
        parts[i] = part.replace("<", "&lt;").replace(">", "&gt;")
    return "".join(parts)
