"""`course data`: download, verify and cache the full MNIST set; find the data to load.

The learner never downloads anything: this module does it for them, once, into a per-user cache
(``course.paths.default_data_dir()``; ``$MNIST_DIR`` overrides it, ``--data-dir`` overrides both).
Without the full set, everything falls back to the small subset shipped in ``course/data/``.

A file is good when its .gz MD5 is the official one, or when its decompressed bytes have the
official SHA-256 and length (so a re-compressed copy is accepted too). Downloads go to a temp file
in the same folder and replace the cached file only once verified: never a half-written file.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shlex
import sys
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from course.paths import DATA_ENV, EMBEDDED_DATA, default_data_dir

# Sizes and checksums from ../shared/data/mnist/README.md (the MD5s are the ones torchvision checks).
FILES: dict[str, dict] = {
    "train-images-idx3-ubyte.gz": {
        "md5_gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "sha256_raw": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "raw_size": 47_040_016,
    },
    "train-labels-idx1-ubyte.gz": {
        "md5_gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "sha256_raw": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "raw_size": 60_008,
    },
    "t10k-images-idx3-ubyte.gz": {
        "md5_gz": "9fb629c4189551a2d022fa330f9573f3",
        "sha256_raw": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "raw_size": 7_840_016,
    },
    "t10k-labels-idx1-ubyte.gz": {
        "md5_gz": "ec29112dd5afa0611ce80d1b7f02629c",
        "sha256_raw": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        "raw_size": 10_008,
    },
}

MIRRORS_ENV = "MNIST_MIRRORS"
DEFAULT_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
SUBSET_METADATA = EMBEDDED_DATA / "subset.json"  # written by tools/make_subset.py
TIMEOUT = 30  # seconds without data before a mirror counts as dead
_CHUNK = 1 << 20


# ---------------------------------------------------------------- library functions


def verify_file(path: str | os.PathLike, files: dict[str, dict] | None = None) -> str | None:
    """None if ``path`` is a good copy of the MNIST file of that name, else why not (one line).

    ``files`` is the table to check against (default ``FILES``; the subset's is ``subset_files()``).
    """
    path = Path(path)
    files = FILES if files is None else files
    meta = files.get(path.name)
    if meta is None:
        return f"not an MNIST file name (expected one of {', '.join(files)})"
    return _verify_as(path, meta)


def find_full_mnist(data_dir: str | os.PathLike | None = None) -> Path | None:
    """The folder holding the full MNIST set: ``data_dir``, else $MNIST_DIR, else the cache; or None.

    A cheap check (all four files present, each gzip trailer giving the full decompressed size);
    ``course data --check`` does the full verification.
    """
    folder = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    for name, meta in FILES.items():
        if _gzip_trailer_size(folder / name) != meta["raw_size"] % 2**32:
            return None
    return folder


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> tuple[Path, bool]:
    """(folder to load MNIST from, is_full): the full set if configured, else the embedded subset.

    With ``data_dir`` given, it must hold the four files (full set or a subset laid out the same
    way), else FileNotFoundError; without it, $MNIST_DIR or the cache is used when it holds the
    full set, and the subset in ``course/data/mnist-subset`` otherwise.
    """
    full = find_full_mnist(data_dir)
    if full is not None:
        return full, True
    if data_dir is None:
        return EMBEDDED_DATA, False
    folder = Path(data_dir).expanduser()
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"data dir {folder}: missing {', '.join(missing)}; "
            f"run `course data --data-dir {folder}` to download MNIST there"
        )
    return folder, False


def subset_files() -> dict[str, dict]:
    """The embedded subset's checksum table (same keys as ``FILES``), read from its subset.json."""
    return json.loads(SUBSET_METADATA.read_text())["files"]


def mirrors() -> list[str]:
    """The base URLs to try in turn: $MNIST_MIRRORS (space or comma separated) or the defaults."""
    env = os.environ.get(MIRRORS_ENV, "")
    urls = [u for u in re.split(r"[\s,]+", env) if u] or list(DEFAULT_MIRRORS)
    return [u if u.endswith("/") else u + "/" for u in urls]


# ---------------------------------------------------------------- verification


def _verify_as(path: Path, meta: dict) -> str | None:
    """None if the file at ``path`` matches ``meta`` (md5_gz, or sha256_raw and raw_size)."""
    if not path.is_file():
        return "missing"
    md5 = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            md5.update(chunk)
    if md5.hexdigest() == meta["md5_gz"]:
        return None
    sha, size = hashlib.sha256(), 0
    try:
        with gzip.open(path, "rb") as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                sha.update(chunk)
                size += len(chunk)
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        return f"corrupt or truncated gzip ({exc})"
    if size != meta["raw_size"]:
        return f"decompresses to {size:,} bytes, expected {meta['raw_size']:,}"
    if sha.hexdigest() != meta["sha256_raw"]:
        return "checksum mismatch (right size, wrong content)"
    return None


def _gzip_trailer_size(path: Path) -> int | None:
    """The decompressed size mod 2**32 that a gzip file records in its last 4 bytes, or None."""
    try:
        with open(path, "rb") as f:
            if f.read(2) != b"\x1f\x8b":
                return None
            f.seek(-4, os.SEEK_END)
            return int.from_bytes(f.read(4), "little")
    except OSError:
        return None


# ---------------------------------------------------------------- download


def _download(url: str, folder: Path, name: str, meta: dict) -> tuple[str | None, bool]:
    """Fetch ``url`` into ``folder/name`` via a verified temp file.

    Returns (None if the file is now cached, else why not; whether the mirror is unreachable).
    """
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            expected = response.headers.get("Content-Length")
            received = 0
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
                received += len(chunk)
        if expected is not None and received != int(expected):
            return f"truncated download ({received:,} of {int(expected):,} bytes)", False
        reason = _verify_as(Path(tmp), meta)
        if reason:
            return f"downloaded file rejected: {reason}", False
        os.replace(tmp, folder / name)
        return None, False
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code} {exc.reason}", False
    except urllib.error.URLError as exc:  # refused, no DNS, no route: skip this mirror from now on
        return f"unreachable ({exc.reason})", True
    except (OSError, ValueError) as exc:  # timeouts, resets, IncompleteRead, bad URLs
        return f"failed ({type(exc).__name__}: {exc})", isinstance(exc, TimeoutError)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _fetch(folder: Path, name: str, meta: dict, urls: list[str]) -> bool:
    """Try each live mirror in turn for one file; print what happened; True once a good copy is cached.

    Mirrors found unreachable are removed from ``urls`` so the next files do not wait on them again.
    """
    for base in list(urls):
        reason, dead = _download(base + name, folder, name, meta)
        if reason is None:
            size = (folder / name).stat().st_size
            print(f"  {name:<28} {_size(size):>9}  OK (downloaded from {base})", flush=True)
            return True
        print(f"  {name:<28} {'':>9}  {base}: {reason}", flush=True)
        if dead:
            urls.remove(base)
    if not urls:
        print(f"  {name:<28} {'':>9}  no reachable mirror left", flush=True)
    return False


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB" if n >= 1e3 else f"{n} B"


def _by_hand(folder: Path, urls: list[str], failed: int) -> str:
    names = "\n".join(f"    {name}" for name in FILES)
    return (
        f"Could not download {failed} of the 4 MNIST files from any mirror (offline?).\n"
        "To place the files by hand:\n"
        f"  1. get these four files (from any MNIST mirror, or a colleague's copy):\n{names}\n"
        f"  2. put them in this folder:\n    {folder}\n"
        f"     (or in any folder, and set {DATA_ENV}=/that/folder or pass --data-dir /that/folder)\n"
        f"  3. verify them:\n    course data --check --data-dir {shlex.quote(str(folder))}\n"
        f"Mirrors tried: {', '.join(urls)} (set {MIRRORS_ENV} to try others)."
    )


# ---------------------------------------------------------------- the command


def configure(parser) -> None:
    parser.add_argument("--data-dir", metavar="DIR",
                        help=f"where the four MNIST files live (default: ${DATA_ENV}, else {default_data_dir()})")
    parser.add_argument("--check", action="store_true",
                        help="only verify the files already there; never download")
    parser.add_argument("--mirror", action="append", metavar="URL",
                        help=f"a base URL to download from (repeatable; default: ${MIRRORS_ENV} or the public mirrors)")


def run(args) -> int:
    folder = (Path(args.data_dir).expanduser() if args.data_dir else default_data_dir()).absolute()
    urls = [u if u.endswith("/") else u + "/" for u in (args.mirror or [])] or mirrors()
    print(f"MNIST in {folder}")
    todo = []
    for name in FILES:
        path = folder / name
        reason = verify_file(path)
        size = _size(path.stat().st_size) if path.is_file() else "-"
        print(f"  {name:<28} {size:>9}  {reason or 'OK'}", flush=True)
        if reason:
            todo.append((name, reason != "missing"))
    if not todo:
        print("all four files verified")
        return 0
    if args.check:
        print(f"{len(todo)} file(s) not OK; run `course data"
              f"{' --data-dir ' + shlex.quote(str(folder)) if args.data_dir else ''}` to download them", file=sys.stderr)
        return 1
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()  # can we write here?
    except OSError as exc:
        print(f"cannot write to {folder}: {exc.strerror or exc}; "
              f"pick a writable folder with --data-dir or ${DATA_ENV}", file=sys.stderr)
        return 1
    print(f"downloading {len(todo)} file(s)...", flush=True)
    live = list(urls)  # _fetch drops the unreachable ones
    failed = [(n, existed) for n, existed in todo if not _fetch(folder, n, FILES[n], live)]
    if not failed:
        print("all four files verified")
        return 0
    for name, existed in failed:
        if existed:
            print(f"  {name}: the bad copy in the cache was left untouched", file=sys.stderr)
    print(_by_hand(folder, urls, len(failed)), file=sys.stderr)
    return 1
