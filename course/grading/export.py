"""What a grading run writes: the gradebook, the long table, feedback and Gradescope results.

    OUT/gradebook.csv                 one row per student: id, points per lesson, total, max, percent
    OUT/checks.csv                    one row per student and check: id, lesson, check, score, max,
                                      status, message, hidden
    OUT/feedback/<id>.md              what failed, with the checks' messages and hints
    OUT/gradescope/<id>/results.json  Gradescope's results format
    OUT/run.json                      the run itself: seed, isolation, maxima, voided checks, timings

The wide gradebook is derived from the long table; both are written with the ``csv`` module.
Every text that came from a submission (its output, its exception messages) is shortened, and
any line of it that reproduces a line of the reference solution is blanked out.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from .. import curriculum
from ..stubs import solution_lines
from .grader import CheckResult, Result

ISOLATION_NOTE = ("Each lesson is graded on its own: your files of that lesson run on top of the course's "
                  "reference solution for the earlier lessons, so a mistake in one lesson costs points in that "
                  "lesson only.")


class Redactor:
    """Blanks out lines of the reference solution (a submission could try to print it)."""

    def __init__(self, reference: Path, public: list[Path] = ()):
        secret = set(solution_lines(reference))
        seen = "\n".join(p.read_text(encoding="utf-8", errors="replace")
                         for root in public for p in sorted(Path(root).rglob("*.py")) if p.is_file())
        self.secret = {s for s in secret if s not in seen}  # a line printed in a check's hint is public

    def __call__(self, text: str, limit: int = 6000) -> str:
        if len(text) > limit:
            text = text[: limit // 2] + "\n[... shortened ...]\n" + text[-limit // 2:]
        if not self.secret:
            return text
        out = []
        for line in text.splitlines():
            clean = line.strip().strip("|").strip()
            if clean and any(s in clean for s in self.secret):
                out.append("[line removed: it reproduces the reference solution]")
            else:
                out.append(line)
        return "\n".join(out)


def lesson_names(results: list[Result], catalog) -> list[str]:
    names = {c.lesson for c in catalog}
    return [l.name for l in curriculum.LESSONS if l.name in names]


def maxima(catalog, voided: set[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for check in catalog:
        if check.key not in voided:
            out[check.lesson] = out.get(check.lesson, 0.0) + check.points
    return out


def _fmt(x: float) -> str:
    return f"{x:g}"


def write_all(out: Path, results: list[Result], catalog, voided: set[str], run: dict, redact: Redactor) -> None:
    out.mkdir(parents=True, exist_ok=True)
    lessons = lesson_names(results, catalog)
    top = maxima(catalog, voided)
    grand = sum(top.values())
    rows = long_rows(results, voided, redact)
    with open(out / "checks.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "lesson", "check", "score", "max", "status", "message", "hidden"])
        writer.writerows(rows)
    with open(out / "gradebook.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", *lessons, "total", "max", "percent"])
        for result in results:
            per = {l: 0.0 for l in lessons}
            for row in rows:
                if row[0] == result.submission.id:
                    per[row[1]] += float(row[3])
            total = sum(per.values())
            writer.writerow([result.submission.id, *[_fmt(per[l]) for l in lessons], _fmt(total), _fmt(grand),
                             f"{100 * total / grand:.1f}" if grand else "0.0"])
    (out / "feedback").mkdir(exist_ok=True)
    for result in results:
        (out / "feedback" / f"{result.submission.id}.md").write_text(
            feedback(result, lessons, top, voided, redact), encoding="utf-8")
        target = out / "gradescope" / result.submission.id
        target.mkdir(parents=True, exist_ok=True)
        (target / "results.json").write_text(json.dumps(gradescope(result, voided, redact), indent=1))
    run = dict(run, maxima=top, max=grand, voided=sorted(voided), lessons=lessons)
    (out / "run.json").write_text(json.dumps(run, indent=1))


def long_rows(results: list[Result], voided: set[str], redact: Redactor) -> list[list]:
    rows = []
    for result in results:
        for r in result.checks:
            void = r.check.key in voided
            rows.append([result.submission.id, r.check.lesson, r.check.key.split("/", 1)[-1],
                         _fmt(0.0 if void else r.score), _fmt(0.0 if void else r.check.points),
                         "voided" if void else r.status, "" if r.status == "passed" else redact(r.message, 4000),
                         "yes" if r.check.hidden else "no"])
    return rows


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def feedback(result: Result, lessons: list[str], top: dict, voided: set[str], redact: Redactor) -> str:
    sub = result.submission
    counted = [r for r in result.checks if r.check.key not in voided]
    total = sum(r.score for r in counted)
    grand = sum(top.values())
    lines = [f"# Feedback: {sub.id}", "",
             f"**Score: {_fmt(total)} / {_fmt(grand)}**" + (f" ({100 * total / grand:.1f}%)" if grand else ""), "",
             ISOLATION_NOTE, ""]
    lines += ["| lesson | points | checks passed |", "| --- | ---: | ---: |"]
    for name in lessons:
        mine = [r for r in counted if r.check.lesson == name]
        label = curriculum.BY_NAME[name]
        lines.append(f"| {label.label}: {label.title} | {_fmt(sum(r.score for r in mine))} / {_fmt(top.get(name, 0))}"
                     f" | {sum(r.status == 'passed' for r in mine)} / {len(mine)} |")
    lines.append("")
    notes = list(sub.notes)
    if sub.error:
        notes.insert(0, f"this submission could not be graded: {sub.error}")
    if result.error and result.error != sub.error:
        notes.append(result.error)
    notes += incident_lines(result.incidents)
    missing = [l for l in lessons if sub.modules and not any(rel.startswith(l + "/") for rel in sub.modules)]
    for name in missing:
        notes.append(f"{name}: no files of this lesson were found in the submission, so it scores 0")
    if notes:
        lines += ["## Notes from the grader", ""]
        lines += [f"- {redact(n, 600)}" for n in notes]
        lines.append("")
    for name in lessons:
        mine = [r for r in counted if r.check.lesson == name]
        failed = [r for r in mine if r.status != "passed"]
        label = curriculum.BY_NAME[name]
        lines.append(f"## {label.label}: {label.title} ({_fmt(sum(r.score for r in mine))} / {_fmt(top.get(name, 0))})")
        lines.append("")
        if not failed:
            lines += ["Every check passes.", ""]
            continue
        hidden_failed = [r for r in failed if r.check.hidden]
        if hidden_failed and len(hidden_failed) == len(failed):
            lines += ["Every visible check passes; some hidden checks (ones you did not see) fail:", ""]
        for r in failed:
            kind = " (hidden check)" if r.check.hidden else ""
            lines += [f"### {r.check.name}{kind}: 0 / {_fmt(r.check.points)}", "", _fence(redact(r.message)), ""]
    voided_here = [r for r in result.checks if r.check.key in voided]
    if voided_here:
        lines += ["## Checks that do not count", "",
                  "The course's own reference does not pass these with this run's inputs, so nobody is "
                  "graded on them: " + ", ".join(r.check.name for r in voided_here), ""]
    return "\n".join(lines)


def incident_lines(incidents: list[dict], limit: int = 20) -> list[str]:
    """What happened to the sandbox, one line per lesson, function and kind: ``... (3 times)``."""
    counts: dict[tuple, int] = {}
    for incident in incidents:
        key = (str(incident.get("lesson", "")), str(incident.get("function") or ""), str(incident.get("text", "")))
        counts[key] = counts.get(key, 0) + 1
    lines = []
    for (lesson, function, text), n in list(counts.items())[:limit]:
        where = f"{lesson}, {function}" if function else lesson
        lines.append(f"{where}: {text}" + (f" ({n} times)" if n > 1 else ""))
    return lines


def gradescope(result: Result, voided: set[str], redact: Redactor) -> dict:
    """Gradescope's results.json: top-level score and one test per check."""
    tests = []
    counters: dict[str, int] = {}
    for r in result.checks:
        if r.check.key in voided:
            continue
        lesson = curriculum.BY_NAME[r.check.lesson]
        counters[r.check.lesson] = counters.get(r.check.lesson, 0) + 1
        tests.append({
            "name": f"{lesson.label}: {r.check.name}" + (" (hidden)" if r.check.hidden else ""),
            "number": f"{lesson.number}.{counters[r.check.lesson]}",
            "score": r.score, "max_score": r.check.points,
            "status": "passed" if r.status == "passed" else "failed",
            "output": "" if r.status == "passed" else redact(r.message, 4000),
            "tags": [lesson.name] + (["hidden"] if r.check.hidden else []),
            "visibility": "after_published" if r.check.hidden else "visible",
        })
    visible = [t for t in tests if t["visibility"] == "visible"]
    passed_visible = sum(t["status"] == "passed" for t in visible)
    hidden = len(tests) - len(visible)
    summary = [f"{passed_visible} of {len(visible)} visible checks pass."]
    if hidden:
        summary.append(f"{hidden} hidden checks are scored too; their results appear when grades are published.")
    summary.append(ISOLATION_NOTE)
    sub = result.submission
    for note in ([sub.error] if sub.error else []) + sub.notes[:10] + incident_lines(result.incidents, 10):
        summary.append(f"- {redact(str(note), 600)}")
    return {
        "score": sum(t["score"] for t in tests),
        "max_score": sum(t["max_score"] for t in tests),
        "execution_time": round(result.seconds, 1),
        "output": "\n".join(summary),
        "output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
