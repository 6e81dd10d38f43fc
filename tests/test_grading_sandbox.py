"""The sandboxed seam: faithful to what a call does in-process, and a cage for what it must not do.

Each test writes a small module into a box (as a lesson of a submission would be), starts the
sandbox the grader uses, and calls it through ``RemoteLessonAPI``, exactly as the checks do.
"""

from __future__ import annotations

import os
import socket
import textwrap
from pathlib import Path

import numpy as np
import pytest

from course import paths
from course.grading import remote, sandbox
from course.grading.remote import RemoteLessonAPI, Session
from course.grading.sandbox import Limits, SandboxSpec
from course.target import CheckError

LEVEL = sandbox.detect()
pytestmark = pytest.mark.skipif(LEVEL == "none", reason="no sandbox isolation on this machine")


@pytest.fixture(scope="module")
def lease():
    held = sandbox.UidLease() if LEVEL in ("namespace", "uid") else None
    yield held
    if held:
        held.release()


@pytest.fixture
def make_api(tmp_path, lease):
    sessions = []

    def make(lesson: str, module: str, source: str, **limits) -> RemoteLessonAPI:
        work = tmp_path / "work"
        sandbox.prepare_work_dir(work, LEVEL)
        files = {}
        number = int(lesson.split("_")[1])
        for k in range(1, number):
            earlier = f"lesson_{k:02d}"
            for path in (paths.SOLUTIONS / earlier).glob("*.py"):
                if path.stem != earlier:  # not the lesson's notebook
                    files[f"{earlier}/{path.name}"] = path
        staged = tmp_path / "staged" / lesson / f"{module}.py"
        staged.parent.mkdir(parents=True, exist_ok=True)
        staged.write_text(textwrap.dedent(source))
        files[f"{lesson}/{module}.py"] = staged
        files[f"{lesson}/__init__.py"] = paths.SOLUTIONS / lesson / "__init__.py"
        box = sandbox.build_box(work / "box", lesson, files)
        spec = SandboxSpec(boxes={lesson: str(box.path)}, level=LEVEL,
                           limits=Limits(call_seconds=limits.get("call_seconds", 5), lesson_seconds=30).as_dict(),
                           uid=lease.uid if lease else None, writable=[str(tmp_path)])
        sess = Session(lesson, str(box.path), spec)
        sessions.append(sess)
        return RemoteLessonAPI(sess, number, number)

    yield make
    for sess in sessions:
        sess.stop()


# --- faithful: what a call does to its arguments comes back --------------------------------------


def test_arrays_and_scalars_come_back_with_their_dtype_and_shape(make_api):
    api = make_api("lesson_02", "forward", """
        import numpy as np
        def relu(z):
            return np.maximum(z, 0).astype(np.float32)
        def softmax(z):
            return np.float64(1.5), 3, 2.5, "text", None, [1, 2], {"k": (np.int64(4),)}
    """)
    z = np.array([[-1.0, 2.0]])
    out = api.relu(z)
    assert type(out) is np.ndarray and out.dtype == np.float32 and out.shape == (1, 2)
    assert out.tolist() == [[0.0, 2.0]]
    got = api.softmax(z)
    assert got[0] == 1.5 and type(got[0]) is np.float64 and got[1:5] == (3, 2.5, "text", None)
    assert got[5] == [1, 2] and type(got[6]["k"][0]) is np.int64


def test_an_input_modified_in_place_is_modified_for_the_caller_too(make_api):
    api = make_api("lesson_02", "forward", """
        def relu(z):
            z[z < 0] = 0
            return z
        def softmax(z):
            z -= z.max()
            return z.copy()
        def forward(params, x):
            params["W1"] = params["W1"] * 2
            params["new"] = x
            return None, {"x": x}
    """)
    z = np.array([[-1.0, 2.0]])
    out = api.relu(z)
    assert out is z and z.tolist() == [[0.0, 2.0]]  # the same object, as in-process
    w = np.array([[3.0, 5.0]])
    api.softmax(w)
    assert w.tolist() == [[-2.0, 0.0]]
    params, x = {"W1": np.ones(2)}, np.zeros(3)
    _, cache = api.forward(params, x)
    assert params["W1"].tolist() == [2.0, 2.0] and params["new"] is x and cache["x"] is x


def test_a_generator_is_lazy_and_advances_the_callers_random_generator(make_api):
    api = make_api("lesson_01", "data", """
        import numpy as np
        def iterate_minibatches(x, y, batch_size=128, shuffle=True, seed=None):
            rng = np.random.default_rng(seed)
            order = rng.permutation(len(x))
            for start in range(0, len(x), batch_size):
                yield x[order[start:start + batch_size]], y[order[start:start + batch_size]]
    """)
    x, y = np.arange(10.0)[:, None], np.arange(10)
    rng = np.random.default_rng(5)
    gen = api.iterate_minibatches(x, y, batch_size=4, seed=rng)
    assert hasattr(gen, "__next__")
    first = list(gen)
    second = list(api.iterate_minibatches(x, y, batch_size=4, seed=rng))
    expected_rng = np.random.default_rng(5)
    assert [len(b[1]) for b in first] == [4, 4, 2]
    assert np.concatenate([b[1] for b in first]).tolist() == expected_rng.permutation(10).tolist()
    assert np.concatenate([b[1] for b in second]).tolist() == expected_rng.permutation(10).tolist()


def test_a_callable_argument_runs_in_the_grader_and_sees_the_perturbed_array(make_api):
    api = make_api("lesson_04", "gradcheck", """
        import numpy as np
        def numerical_gradient(f, x, h=1e-5):
            grad = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                old = x[i]
                x[i] = old + h
                plus = f(x)
                x[i] = old - h
                minus = f(x)
                x[i] = old
                grad[i] = (plus - minus) / (2 * h)
            return grad
    """)
    x = np.array([1.0, -2.0, 0.5])
    before, seen = x.copy(), []

    def f(v):
        seen.append((v is x, v.copy()))
        return float((v ** 3).sum())

    grad = api.numerical_gradient(f, x)
    assert np.allclose(grad, 3 * before ** 2, rtol=1e-6) and np.array_equal(x, before)
    assert len(seen) == 6 and all(same for same, _ in seen)
    assert all(int(np.sum(v != before)) == 1 for _, v in seen)


def test_a_figure_comes_back_as_a_real_figure_and_draws_into_a_given_axes(make_api):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    api = make_api("lesson_06", "evaluate", """
        import numpy as np
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        def plot_confusion_matrix(cm, ax=None):
            if ax is None:
                fig, ax = plt.subplots()
            fig = ax.figure
            ax.imshow(cm)
            ax.text(1, 0, "7")
            ax.plot([0, 1], [2.0, 3.0])
            ax.set_title("confusion")
            ax.set_xlabel("predicted label")
            return fig
    """)
    cm = np.array([[1, 7], [0, 2]])
    fig = api.plot_confusion_matrix(cm)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert np.asarray(ax.images[0].get_array()).tolist() == cm.tolist()
    assert [t.get_text() for t in ax.texts] == ["7"] and ax.texts[0].get_position() == (1, 0)
    assert ax.get_lines()[0].get_ydata().tolist() == [2.0, 3.0]
    assert ax.get_title() == "confusion" and ax.get_xlabel() == "predicted label"
    own, axes = plt.subplots(1, 2)
    out = api.plot_confusion_matrix(cm, ax=axes[1])
    assert out is own and len(axes[1].images) == 1 and not axes[0].images
    plt.close("all")


def test_files_go_in_and_what_the_call_writes_comes_back(make_api, tmp_path):
    api = make_api("lesson_06", "evaluate", """
        from pathlib import Path
        def write_kaggle_submission(path, predictions):
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("ImageId,Label\\n" + "".join(f"{i + 1},{p}\\n" for i, p in enumerate(predictions)))
            return path
        def confusion_matrix(y_true, y_pred, num_classes=10):
            raise FileNotFoundError(f"{y_true}: missing train-images-idx3-ubyte.gz")
    """)
    target = tmp_path / "runs" / "kaggle" / "submission.csv"
    out = api.write_kaggle_submission(target, np.array([3, 1]))
    assert out == target and target.read_text() == "ImageId,Label\n1,3\n2,1\n"
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "data")):
        api.confusion_matrix.raw(tmp_path / "data", None)


def test_exceptions_keep_their_builtin_type_and_stubs_read_as_stubs(make_api):
    api = make_api("lesson_02", "forward", """
        class BadShape(ValueError):
            pass
        def relu(z):
            raise BadShape("z must be 2-D")
        def softmax(z):
            raise NotImplementedError("lesson 02: implement softmax")
        def dense(x, W, b):
            raise SystemExit(0)
    """)
    with pytest.raises(ValueError, match="z must be 2-D") as info:
        api.relu.raw(np.zeros(3))
    assert type(info.value).__name__ == "BadShape"
    with pytest.raises(CheckError, match=r"(?s)softmax is not written yet.*lessons/lesson_02/forward.py"):
        api.softmax(np.zeros((1, 2)))
    with pytest.raises(CheckError, match="raised SystemExit"):
        api.dense(np.zeros((1, 2)), np.zeros((2, 2)), np.zeros(2))


def test_objects_that_claim_to_equal_anything_arrive_as_inert_stand_ins(make_api):
    api = make_api("lesson_02", "forward", """
        import numpy as np
        class AlwaysEqual:
            def __eq__(self, other): return True
        class EqualArray(np.ndarray):
            def __eq__(self, other): return np.ones(self.shape, bool)
        def relu(z):
            return AlwaysEqual()
        def softmax(z):
            return np.zeros_like(z).view(EqualArray)
    """)
    a, b = api.relu(np.zeros(2)), api.softmax(np.zeros(2))
    assert type(a).__name__ == "AlwaysEqual" and a != 1 and a == a and not np.any(a == np.zeros(2))
    assert type(b).__name__ == "EqualArray" and not isinstance(b, np.ndarray) and b != b.__class__()


# --- the cage --------------------------------------------------------------------------------------


PROBE = """
import os, socket
import numpy as np

def relu(z, paths=(), port=0):
    facts = {"uid": os.getuid(), "readable": [p.decode() for p in paths if os.path.exists(p)],
             "environ": sorted(os.environ)}
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        facts["network"] = "connected"
    except OSError as exc:
        facts["network"] = type(exc).__name__
    return facts

def softmax(z):
    n = 0
    try:
        while n < 500:
            if os.fork() == 0:
                import time
                time.sleep(60)
                os._exit(0)
            n += 1
    except OSError:
        pass
    return n

def dense(x, W, b):
    try:
        np.ones(3 << 30, dtype=np.uint8)
        return "allocated"
    except MemoryError:
        return "MemoryError"

def forward(params, x):
    try:
        with open("big.bin", "wb") as f:
            f.write(b"\\0" * (100 << 20))
        return "written"
    except OSError as exc:
        return type(exc).__name__

def init_params(*args, **kwargs):
    while True:
        pass
"""


@pytest.mark.skipif(LEVEL not in ("namespace", "uid"), reason="needs a dedicated uid (root)")
def test_the_child_is_unprivileged_and_sees_neither_the_reference_nor_the_grader(make_api, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_SECRET_TOKEN", "do-not-leak")
    api = make_api("lesson_02", "forward", PROBE)
    secret = [str(p).encode() for p in (  # as bytes, so that the grader does not copy them in as a check's files
        paths.SOLUTIONS / "lesson_02" / "forward.py", paths.REPO / "checks" / "conftest.py",
        tmp_path / "work" / "box" / "runner" / "config.json")]
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        facts = api.relu(np.zeros(1), paths=secret, port=server.getsockname()[1])
    finally:
        server.close()
    assert facts["uid"] != 0
    assert "COURSE_SECRET_TOKEN" not in facts["environ"] and not any(k.startswith("PYTEST") for k in facts["environ"])
    if LEVEL == "namespace":
        assert facts["readable"] == [], f"the sandbox can see {facts['readable']}"
        assert facts["network"] != "connected"


@pytest.mark.skipif(LEVEL not in ("namespace", "uid"), reason="needs a dedicated uid (root)")
def test_processes_memory_and_file_size_are_limited_and_nothing_survives(make_api, lease):
    api = make_api("lesson_02", "forward", PROBE, call_seconds=2)
    assert api.softmax(np.zeros(1)) < 100
    assert api.dense(np.zeros(1), None, None) == "MemoryError"
    assert api.forward({}, np.zeros(1)) in ("OSError", "EFBIG")
    with pytest.raises(CheckError, match="did not finish within 2 s"):
        api.init_params()
    api._session.stop()
    alive = [p for p in os.listdir("/proc") if p.isdigit() and _uid(p) == lease.uid]
    assert not alive, f"processes of the sandbox uid still alive: {alive}"


def _uid(pid: str) -> int:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return -1


def test_the_seam_switches_only_when_the_grader_asks(monkeypatch, tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("_checks_conftest", paths.CHECKS / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    monkeypatch.delenv("COURSE_SANDBOX", raising=False)
    local = conftest.make_api(paths.SOLUTIONS, 2, 2)
    assert type(local).__name__ == "LessonAPI"
    spec_path = tmp_path / "spec.json"
    SandboxSpec(boxes={}, level=LEVEL).dump(spec_path)
    monkeypatch.setenv("COURSE_SANDBOX", str(spec_path))
    monkeypatch.setattr(remote, "_SPEC", None)
    assert type(conftest.make_api(paths.SOLUTIONS, 2, 2)).__name__ == "RemoteLessonAPI"
    assert type(conftest.make_api(paths.SOLUTIONS, 2, 3)).__name__ == "LessonAPI"  # earlier lessons: the reference
    monkeypatch.setattr(remote, "_SPEC", None)
    remote._SESSIONS.clear()
