"""`course data` and course.datasets: mirrors, checksums, the cache, and the embedded subset.

Never touches the internet: downloads come from a fake mirror on 127.0.0.1 serving tiny fake IDX
files (``FILES`` is monkeypatched to their checksums), and every test starts with $MNIST_MIRRORS
pointing at a dead port, so a test that forgets to set a mirror fails instead of going online.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.util
import os
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from course import datasets
from course.paths import EMBEDDED_DATA, REPO

SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
NAMES = list(datasets.FILES)


def _load_tool():
    spec = importlib.util.spec_from_file_location("make_subset", REPO / "tools" / "make_subset.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_subset = _load_tool()


# ---------------------------------------------------------------- fixtures


def _dead_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


@pytest.fixture(autouse=True)
def offline_env(tmp_path, monkeypatch):
    """No $MNIST_DIR, a cache under tmp_path, no proxies, and only a dead mirror by default."""
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "*")
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv(datasets.MIRRORS_ENV, _dead_url())


@pytest.fixture
def fake(monkeypatch) -> dict[str, bytes]:
    """Tiny fake MNIST files, name -> the "official" .gz bytes; FILES patched to their checksums."""
    rng = np.random.default_rng(0)
    table, official = {}, {}
    for name in NAMES:
        n = 20 if name.startswith("train") else 10
        if "images" in name:
            raw = make_subset.idx_bytes(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        else:
            raw = make_subset.idx_bytes(rng.integers(0, 10, n, dtype=np.uint8))
        official[name] = gzip.compress(raw, compresslevel=9, mtime=0)
        table[name] = {
            "md5_gz": hashlib.md5(official[name]).hexdigest(),
            "sha256_raw": hashlib.sha256(raw).hexdigest(),
            "raw_size": len(raw),
        }
    monkeypatch.setattr(datasets, "FILES", table)
    return official


class _Mirror(ThreadingHTTPServer):
    files: dict[str, bytes]
    truncate: bool
    hits: list[str]


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        name = self.path.rsplit("/", 1)[-1]
        self.server.hits.append(name)
        body = self.server.files.get(name)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # truncate: announce the full length, send half, hang up (a dropped connection)
        self.wfile.write(body[: len(body) // 2] if self.server.truncate else body)

    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture
def mirror():
    """mirror(files, truncate=False) -> (base URL, server); serves on 127.0.0.1 from a thread."""
    servers = []

    def start(files: dict[str, bytes], truncate: bool = False) -> tuple[str, _Mirror]:
        server = _Mirror(("127.0.0.1", 0), _Handler)
        server.files, server.truncate, server.hits = dict(files), truncate, []
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/mnist/", server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def course_data(capsys, *argv: str) -> tuple[int, str, str]:
    """Run `course data ARGV` in-process; return (exit code, stdout, stderr)."""
    parser = argparse.ArgumentParser(prog="course data")
    datasets.configure(parser)
    code = datasets.run(parser.parse_args(list(argv)))
    out, err = capsys.readouterr()
    return code, out, err


def _wrong_content(gz: bytes) -> bytes:
    """A valid gzip file of the same length whose decompressed bytes differ in one byte."""
    raw = bytearray(gzip.decompress(gz))
    raw[-1] ^= 0xFF
    return gzip.compress(bytes(raw), mtime=0)


def _corrupt(gz: bytes) -> bytes:
    """The same .gz with one byte flipped in its deflate stream."""
    data = bytearray(gz)
    data[len(data) // 2] ^= 0xFF
    return bytes(data)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in NAMES)


# ---------------------------------------------------------------- verify_file


def test_verify_file_accepts_the_official_gz_and_a_recompressed_copy(fake, tmp_path):
    for name, gz in fake.items():
        (tmp_path / "official").mkdir(exist_ok=True)
        (tmp_path / "official" / name).write_bytes(gz)
        recompressed = gzip.compress(gzip.decompress(gz), compresslevel=1, mtime=12345)
        assert hashlib.md5(recompressed).hexdigest() != datasets.FILES[name]["md5_gz"]
        (tmp_path / name).write_bytes(recompressed)
        assert datasets.verify_file(tmp_path / "official" / name) is None, "official .gz (MD5 match) rejected"
        assert datasets.verify_file(tmp_path / name) is None, "recompressed .gz (SHA-256 match) rejected"


@pytest.mark.parametrize("damage, expected", [
    (lambda gz: gz[: len(gz) // 2], "truncated"),
    (_corrupt, "corrupt"),
    (_wrong_content, "checksum mismatch"),
    (lambda gz: gzip.compress(gzip.decompress(gz)[:-1], mtime=0), "expected"),
])
def test_verify_file_says_what_is_wrong(fake, tmp_path, damage, expected):
    path = tmp_path / NAMES[0]
    path.write_bytes(damage(fake[NAMES[0]]))
    reason = datasets.verify_file(path)
    assert reason and expected in reason, f"verify_file({path.name}) -> {reason!r}, expected a reason with {expected!r}"
    assert datasets.verify_file(tmp_path / NAMES[1]) == "missing"


# ---------------------------------------------------------------- downloads


def test_download_from_a_good_mirror_caches_all_four_files(fake, mirror, tmp_path, capsys):
    url, server = mirror(fake)
    code, out, err = course_data(capsys, "--data-dir", str(tmp_path / "cache"), "--mirror", url)
    assert code == 0, err
    assert all((tmp_path / "cache" / n).read_bytes() == fake[n] for n in NAMES)
    assert _leftovers(tmp_path / "cache") == [], "temp files left behind"
    assert out.count("OK (downloaded from") == 4
    code, out, _ = course_data(capsys, "--data-dir", str(tmp_path / "cache"), "--mirror", url)
    assert code == 0 and len(server.hits) == 4, "a second run downloaded again instead of using the cache"


@pytest.mark.parametrize("damage", [_wrong_content, _corrupt], ids=["wrong-content", "corrupt-gzip"])
def test_a_mirror_serving_altered_bytes_is_rejected_and_the_next_one_tried(fake, mirror, tmp_path, capsys, monkeypatch, damage):
    bad_url, _ = mirror({n: damage(gz) for n, gz in fake.items()})
    good_url, _ = mirror(fake)
    monkeypatch.setenv(datasets.MIRRORS_ENV, f"{bad_url}, {good_url}")
    code, out, _ = course_data(capsys, "--data-dir", str(tmp_path))
    assert code == 0
    assert out.count(f"{bad_url}: downloaded file rejected") == 4 and out.count(f"OK (downloaded from {good_url})") == 4
    assert all(datasets.verify_file(tmp_path / n) is None for n in NAMES)
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("dropped", [True, False], ids=["connection-dropped", "short-file"])
def test_a_truncated_download_is_rejected_and_the_next_mirror_tried(fake, mirror, tmp_path, capsys, dropped):
    short = fake if dropped else {n: gz[: len(gz) // 2] for n, gz in fake.items()}
    bad_url, _ = mirror(short, truncate=dropped)
    good_url, _ = mirror(fake)
    code, out, _ = course_data(capsys, "--data-dir", str(tmp_path), "--mirror", bad_url, "--mirror", good_url)
    assert code == 0
    assert out.count(f"{bad_url}: truncated download" if dropped else f"{bad_url}: downloaded file rejected") == 4, out
    assert all((tmp_path / n).read_bytes() == fake[n] for n in NAMES)
    assert _leftovers(tmp_path) == []


def test_a_dead_mirror_is_skipped_for_the_next_good_one(fake, mirror, tmp_path, capsys, monkeypatch):
    dead = _dead_url()
    good_url, _ = mirror(fake)
    monkeypatch.setenv(datasets.MIRRORS_ENV, f"{dead} {good_url}")
    code, out, _ = course_data(capsys, "--data-dir", str(tmp_path))
    assert code == 0
    assert out.count("unreachable") == 1, "an unreachable mirror should be tried once, not once per file"
    assert out.count("OK (downloaded") == 4


def test_all_mirrors_dead_exits_nonzero_with_instructions_and_no_temp_file(fake, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(datasets.MIRRORS_ENV, f"{_dead_url()},{_dead_url()}")
    cache = tmp_path / "cache"
    code, _, err = course_data(capsys, "--data-dir", str(cache))
    assert code != 0
    for needed in [*NAMES, str(cache.absolute()), f"course data --check --data-dir {cache.absolute()}", "MNIST_DIR"]:
        assert needed in err, f"the offline message should mention {needed!r}; it was:\n{err}"
    assert "Traceback" not in err
    assert _leftovers(cache) == [] and not any(cache.iterdir())


def test_a_corrupt_cached_file_is_replaced_after_a_good_download(fake, mirror, tmp_path, capsys):
    for name, gz in fake.items():
        (tmp_path / name).write_bytes(gz)
    (tmp_path / NAMES[0]).write_bytes(fake[NAMES[0]][:50])
    url, server = mirror(fake)
    code, out, _ = course_data(capsys, "--data-dir", str(tmp_path), "--mirror", url)
    assert code == 0 and server.hits == [NAMES[0]], "only the corrupt file should be downloaded"
    assert (tmp_path / NAMES[0]).read_bytes() == fake[NAMES[0]]


@pytest.mark.parametrize("offline", [True, False], ids=["offline", "mirror-serves-bad-bytes"])
def test_a_corrupt_cached_file_is_left_untouched_when_no_good_copy_arrives(fake, mirror, tmp_path, capsys, offline):
    corrupt = fake[NAMES[0]][:50]
    (tmp_path / NAMES[0]).write_bytes(corrupt)
    url = _dead_url() if offline else mirror({n: _wrong_content(gz) for n, gz in fake.items()})[0]
    code, _, err = course_data(capsys, "--data-dir", str(tmp_path), "--mirror", url)
    assert code != 0
    assert (tmp_path / NAMES[0]).read_bytes() == corrupt, "the cached file changed although no good copy was found"
    assert "left untouched" in err
    assert _leftovers(tmp_path) == []


def test_check_verifies_only_and_never_downloads(fake, mirror, tmp_path, capsys):
    url, server = mirror(fake)
    code, out, err = course_data(capsys, "--check", "--data-dir", str(tmp_path), "--mirror", url)
    assert code != 0 and server.hits == [] and out.count("missing") == 4
    assert "course data --data-dir" in err, "should say how to download"


# ---------------------------------------------------------------- where the data lives


def test_data_dir_flag_beats_mnist_dir_which_beats_the_default_cache(fake, mirror, tmp_path, capsys, monkeypatch):
    url, _ = mirror(fake)
    monkeypatch.setenv(datasets.MIRRORS_ENV, url)
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "env"))
    course_data(capsys, "--data-dir", str(tmp_path / "flag"))
    assert sorted(os.listdir(tmp_path / "flag")) == sorted(NAMES) and not (tmp_path / "env").exists()
    course_data(capsys)
    assert sorted(os.listdir(tmp_path / "env")) == sorted(NAMES)
    assert not (tmp_path / "xdg").exists(), "the default cache was used although MNIST_DIR was set"
    monkeypatch.delenv("MNIST_DIR")
    course_data(capsys)
    assert sorted(os.listdir(tmp_path / "xdg" / "mnist-from-scratch" / "mnist")) == sorted(NAMES)


def test_find_full_mnist_and_resolve_data_dir_follow_the_same_precedence(fake, tmp_path, monkeypatch):
    assert datasets.find_full_mnist() is None
    assert datasets.resolve_data_dir() == (EMBEDDED_DATA, False), "no full set: should fall back to the subset"
    for folder in (tmp_path / "a", tmp_path / "b"):
        folder.mkdir()
        for name, gz in fake.items():
            (folder / name).write_bytes(gz)
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "a"))
    assert datasets.find_full_mnist() == tmp_path / "a"
    assert datasets.find_full_mnist(tmp_path / "b") == tmp_path / "b"
    assert datasets.resolve_data_dir(tmp_path / "b") == (tmp_path / "b", True)
    (tmp_path / "a" / NAMES[0]).write_bytes(fake[NAMES[0]][:-10])  # truncated: trailer size is wrong
    assert datasets.find_full_mnist() is None
    assert datasets.resolve_data_dir() == (EMBEDDED_DATA, False)


def test_resolve_data_dir_accepts_a_subset_folder_and_explains_a_missing_one(tmp_path):
    assert datasets.resolve_data_dir(EMBEDDED_DATA) == (EMBEDDED_DATA, False)
    with pytest.raises(FileNotFoundError, match="course data --data-dir"):
        datasets.resolve_data_dir(tmp_path / "nowhere")


def test_mirrors_come_from_the_env_var_split_on_spaces_and_commas(monkeypatch):
    monkeypatch.setenv(datasets.MIRRORS_ENV, "http://a/x, http://b/y/ http://c")
    assert datasets.mirrors() == ["http://a/x/", "http://b/y/", "http://c/"]
    monkeypatch.delenv(datasets.MIRRORS_ENV)
    assert datasets.mirrors() == list(datasets.DEFAULT_MIRRORS)


# ---------------------------------------------------------------- the real files


def _need_shared() -> None:
    missing = [n for n in NAMES if not (SHARED_MNIST / n).is_file()]
    if missing:
        pytest.skip(f"full MNIST not found at {SHARED_MNIST}: missing {', '.join(missing)}")


def test_course_data_check_on_the_shared_full_copy_reports_ok_and_writes_nothing(capsys):
    _need_shared()
    from course.cli import main

    before = sorted(os.listdir(SHARED_MNIST))
    code = main(["data", "--data-dir", str(SHARED_MNIST)])  # no --check: must still not download
    out, err = capsys.readouterr()
    assert code == 0, f"course data --data-dir {SHARED_MNIST} -> {code}\n{out}{err}"
    assert out.count(" OK") == 4 and sorted(os.listdir(SHARED_MNIST)) == before
    assert main(["data", "--check", "--data-dir", str(SHARED_MNIST)]) == 0
    assert datasets.resolve_data_dir(SHARED_MNIST) == (SHARED_MNIST, True)


def _readme_checksums() -> dict[str, tuple[str, str]]:
    text = (EMBEDDED_DATA.parent / "README.md").read_text()
    rows = re.findall(r"^\| (\S+\.gz) \| [\d,]+ \| ([0-9a-f]{64}) \| ([0-9a-f]{64}) \|$", text, flags=re.M)
    return {name: (gz, raw) for name, gz, raw in rows}


def test_the_embedded_subset_matches_the_checksums_in_its_readme_and_metadata():
    table, readme = datasets.subset_files(), _readme_checksums()
    assert sorted(readme) == sorted(table) == sorted(NAMES), "README table or subset.json lists the wrong files"
    for name in NAMES:
        path = EMBEDDED_DATA / name
        assert datasets.verify_file(path, table) is None, f"{path}: {datasets.verify_file(path, table)}"
        sha_gz = hashlib.sha256(path.read_bytes()).hexdigest()
        assert (sha_gz, table[name]["sha256_raw"]) == readme[name], f"{name}: README checksums are stale"


def test_the_embedded_subset_is_stratified_600_and_100_per_digit():
    for split, per_digit in (("train", 600), ("test", 100)):
        images_name, labels_name = make_subset.SPLITS[split]
        labels = make_subset.read_idx(EMBEDDED_DATA / labels_name)
        images = make_subset.read_idx(EMBEDDED_DATA / images_name)
        assert images.shape == (10 * per_digit, 28, 28)
        counts = np.bincount(labels, minlength=10).tolist()
        assert counts == [per_digit] * 10, f"{split} labels per digit: {counts}, expected {per_digit} each"


def test_the_subset_draw_reproduces_the_shipped_files():
    _need_shared()
    table = datasets.subset_files()
    for split, per_digit in (("train", 600), ("test", 100)):
        images_name, labels_name = make_subset.SPLITS[split]
        labels = make_subset.read_idx(SHARED_MNIST / labels_name)
        keep = make_subset.draw(labels, per_digit, split)
        images = make_subset.read_idx(SHARED_MNIST / images_name)[keep]
        for name, array in ((images_name, images), (labels_name, labels[keep])):
            sha = hashlib.sha256(make_subset.idx_bytes(array)).hexdigest()
            assert sha == table[name]["sha256_raw"], f"rerunning the draw for {name} gives other bytes"
