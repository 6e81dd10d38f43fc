"""The grader's parts that need no sandbox: the wire format, reading submissions, the exports."""

from __future__ import annotations

import csv
import json
import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest

from course import paths
from course.grading import wire
from course.grading.export import Redactor, feedback, gradescope, write_all
from course.grading.grader import Check, CheckResult, Result, _clean_message
from course.grading.intake import MAX_TOTAL, read_submission, submission_id
from course.stubs import solution_lines

# --- wire: only plain data crosses, and nothing is believed unchecked -----------------------------


def _roundtrip(value):
    enc = wire.Encoder()
    node = enc.encode(value)
    r, w = os.pipe()
    chan = wire.Channel(r, w)
    chan.send({"v": node}, enc.buffers)
    header, buffers = chan.recv()
    os.close(r)
    os.close(w)
    return wire.Decoder(buffers).decode(header["v"])


def test_plain_values_cross_unchanged():
    value = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": (1, 2.5, "s", None, True, b"\x00"),
             "c": [np.int64(3), np.float64(np.nan), np.bool_(True)], 4: np.zeros((0, 5)), "t": np.float32}
    back = _roundtrip(value)
    assert back["a"].dtype == np.float32 and back["a"].tolist() == value["a"].tolist()
    assert back["b"] == value["b"] and type(back["c"][0]) is np.int64 and np.isnan(back["c"][1])
    assert back[4].shape == (0, 5) and back["t"] is np.float32


@pytest.mark.parametrize("value", [np.array([object()]), np.zeros(2).view(np.recarray), lambda: 1,
                                   np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")])],
                         ids=["object-array", "array-subclass", "function", "structured-array"])
def test_objects_cross_only_as_inert_stand_ins(value):
    back = _roundtrip(value)
    assert isinstance(back, wire.Foreign) and back == back and not isinstance(back, np.ndarray)


@pytest.mark.parametrize("node, buffers", [
    ({"t": "a", "d": "|O8", "s": [1], "b": 0}, [bytearray(8)]),
    ({"t": "a", "d": "<f8", "s": [3], "b": 0}, [bytearray(16)]),
    ({"t": "a", "d": "<f8", "s": [-1], "b": 0}, [bytearray(8)]),
    ({"t": "a", "d": "<f8", "s": [1], "b": 5}, [bytearray(8)]),
    ({"t": "r", "v": 9}, []),
    ({"t": "pickle", "v": "gASV"}, []),
    ({"t": "T", "v": "object"}, []),
], ids=["object-dtype", "short-buffer", "negative-shape", "bad-buffer", "unknown-ref", "unknown-type", "bad-type"])
def test_malformed_values_are_refused(node, buffers):
    with pytest.raises(wire.WireError):
        wire.Decoder(buffers).decode(node)


def test_a_message_over_the_size_cap_is_refused():
    r, w = os.pipe()
    chan = wire.Channel(r, w)
    chan.send({"op": "x"}, [bytearray(4096)])
    with pytest.raises(wire.WireError):
        chan.recv(max_total=1024)
    os.close(r)
    os.close(w)


def test_deep_nesting_is_refused():
    node = {"t": "n"}
    for _ in range(wire.MAX_DEPTH + 5):
        node = {"t": "l", "v": [node]}
    with pytest.raises(wire.WireError):
        wire.Decoder([]).decode(node)


# --- intake: folders and archives, read without following anything --------------------------------


def _tree(root: Path, **files: str) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_lessons_are_found_in_a_clone_a_lessons_folder_or_a_top_folder(tmp_path):
    for layout in ("clone/lessons/", "bare/", "zipped/alice-main/lessons/"):
        _tree(tmp_path / layout, **{"lesson_02/forward.py": "x = 1\n", "lesson_03/loss.py": "y = 2\n"})
    assert read_submission(tmp_path / "clone", "a").root == "lessons/"
    assert read_submission(tmp_path / "bare", "b").root == ""
    sub = read_submission(tmp_path / "zipped", "c")
    assert sub.root == "alice-main/lessons/" and set(sub.modules) == {"lesson_02/forward.py", "lesson_03/loss.py"}


def test_an_archive_cannot_write_or_read_outside_the_submission(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("lessons/lesson_03/loss.py", "ok = 1\n")
        zf.writestr("../../escape.py", "x")
        zf.writestr("/etc/evil.py", "x")
        link = zipfile.ZipInfo("lessons/lesson_02/forward.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    sub = read_submission(archive, "evil")
    assert set(sub.modules) == {"lesson_03/loss.py"}
    assert sum("outside the submission" in n for n in sub.notes) == 2 and any("symbolic link" in n for n in sub.notes)
    assert not (tmp_path.parent / "escape.py").exists()


def test_an_archive_that_unpacks_too_large_is_refused(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("lessons/lesson_02/forward.py", "x = 1\n")
        info = zipfile.ZipInfo("lessons/big.bin")
        zf.writestr(info, b"\0" * (MAX_TOTAL + 1), compress_type=zipfile.ZIP_DEFLATED)
    assert archive.stat().st_size < MAX_TOTAL // 100
    sub = read_submission(archive, "bomb")
    assert sub.error and "MiB" in sub.error and not sub.modules


def test_links_in_a_folder_are_not_followed(tmp_path):
    root = _tree(tmp_path / "sub", **{"lessons/lesson_03/loss.py": "ok = 1\n"})
    (root / "lessons" / "lesson_02").mkdir()
    (root / "lessons" / "lesson_02" / "forward.py").symlink_to(paths.SOLUTIONS / "lesson_02" / "forward.py")
    sub = read_submission(root, "links")
    assert "lesson_02/forward.py" not in sub.modules and any("symbolic link" in n for n in sub.notes)


def test_configuration_files_and_edited_checks_are_noted_as_ignored(tmp_path):
    root = _tree(tmp_path / "sub", **{"lessons/lesson_02/forward.py": "x = 1\n", "conftest.py": "", "pytest.ini": "",
                                      "lessons/lesson_02/helpers.py": "", "checks/lesson_02/test_forward.py": "",
                                      "checks/conftest.py": (paths.CHECKS / "conftest.py").read_text()})
    notes = "\n".join(read_submission(root, "x", paths.CHECKS).notes)
    assert "ignored: conftest.py" in notes and "ignored: pytest.ini" in notes
    assert "not graded: lessons/lesson_02/helpers.py" in notes
    assert "checks differ" in notes and "checks/lesson_02/test_forward.py" in notes


def test_submission_ids_are_safe_and_unique():
    taken: set[str] = set()
    assert submission_id(Path("Anne Marie (2).zip"), taken) == "Anne_Marie__2"
    assert submission_id(Path("x/Anne Marie (2)"), taken) == "Anne_Marie__2-2"
    assert submission_id(Path("../.."), taken) == "submission"


# --- exports ---------------------------------------------------------------------------------------


def _result(sub_id: str, scores: dict[str, float], hidden=()) -> Result:
    from course.grading.intake import Submission

    result = Result(Submission(id=sub_id, source=Path(sub_id), modules={"lesson_02/forward.py": b""}))
    for i, (name, score) in enumerate(scores.items()):
        check = Check(key=f"lesson_02/test_forward.py::{name}", lesson="lesson_02", name=name, points=2.0,
                      hidden=name in hidden)
        result.checks.append(CheckResult(check, score, "passed" if score else "failed",
                                         "" if score else "graded: x\nrelu(z) returned ```junk``` \"quoted\", comma"))
    return result


def test_the_gradebook_and_the_long_table_are_proper_csv(tmp_path):
    results = [_result('O\'Brien, "Jo"', {"test_a": 2.0, "test_b": 0.0}), _result("amy", {"test_a": 2.0, "test_b": 2.0})]
    catalog = [r.check for r in results[0].checks]
    write_all(tmp_path, results, catalog, set(), {"seed": 1}, Redactor(paths.SOLUTIONS))
    with open(tmp_path / "gradebook.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0] == {"id": 'O\'Brien, "Jo"', "lesson_02": "2", "total": "2", "max": "4", "percent": "50.0"}
    with open(tmp_path / "checks.csv", newline="") as f:
        long = list(csv.reader(f))
    assert long[0] == ["id", "lesson", "check", "score", "max", "status", "message", "hidden"]
    assert long[2][5] == "failed" and "comma" in long[2][6] and len(long) == 5
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["max"] == 4 and run["maxima"] == {"lesson_02": 4}


def test_gradescope_results_follow_the_format_and_hide_hidden_checks():
    data = gradescope(_result("amy", {"test_a": 2.0, "test_b": 0.0}, hidden={"test_b"}), set(), Redactor(paths.SOLUTIONS))
    assert set(data) >= {"score", "execution_time", "output", "visibility", "stdout_visibility", "tests"}
    assert data["score"] == 2.0 and data["max_score"] == 4.0
    for test in data["tests"]:
        assert set(test) >= {"name", "number", "score", "max_score", "status", "output", "tags", "visibility"}
        assert test["status"] in ("passed", "failed")
    assert [t["visibility"] for t in data["tests"]] == ["visible", "after_published"]
    assert "1 of 1 visible checks pass" in data["output"] and "hidden" in data["output"]


def test_feedback_fences_messages_and_says_lessons_are_graded_apart():
    text = feedback(_result("amy", {"test_a": 0.0}), ["lesson_02"], {"lesson_02": 2.0}, set(), Redactor(paths.SOLUTIONS))
    assert "graded on its own" in text and "````text\n" in text and "0 / 2" in text


def test_lines_of_the_reference_are_removed_from_what_a_submission_prints():
    redact = Redactor(paths.SOLUTIONS, public=[paths.CHECKS, paths.LESSONS])
    line = sorted(redact.secret)[0]
    text = redact(f"my output:\n  | {line}\nthe end")
    assert line not in text and "reproduces the reference" in text and "the end" in text


def test_pytest_tracebacks_are_trimmed_to_the_error():
    assert _clean_message("a.py:3: in test\n    x()\nE   ValueError: bad\nE   more") == "ValueError: bad\nmore"
    assert _clean_message("graded: x\nmsg") == "graded: x\nmsg"
    assert solution_lines()  # the reference is there to redact against
