"""Make the MNIST subset shipped in course/data/mnist-subset (maintainers; anyone can rerun it).

    python tools/make_subset.py                      # from ../shared/data/mnist, the defaults
    python tools/make_subset.py --source DIR --out DIR --per-digit-train 600 --per-digit-test 100

Stratified: for each digit, the images with the smallest SHA-256("mnist-subset:{seed}:{split}:{i}")
(i = the image's index in the official file) are kept, then put back in their official order. The
draw depends only on the seed, not on NumPy's or Python's random generators, so it never changes.
Writes the four IDX files gzipped with mtime=0, ``subset.json`` (checksums, counts, how it was
drawn) and the checksum table in course/data/README.md.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import struct
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from course.datasets import FILES, verify_file  # noqa: E402

SEED = 0
SPLITS = {  # split -> (images file, labels file)
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
README = REPO / "course" / "data" / "README.md"
TABLE_START, TABLE_END = "<!-- checksums:start -->", "<!-- checksums:end -->"


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzipped) as a uint8 array: labels (N,), images (N, 28, 28)."""
    raw = gzip.decompress(path.read_bytes())
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    assert zero == 0 and dtype == 0x08, f"{path}: not an unsigned-byte IDX file"
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array (magic 0x0000 08 ndim, then big-endian sizes)."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def draw(labels: np.ndarray, per_digit: int, split: str, seed: int = SEED) -> np.ndarray:
    """Indices (per_digit * 10,) int64: per digit, the smallest hash keys; in official order."""
    def key(i: int) -> bytes:
        return hashlib.sha256(f"mnist-subset:{seed}:{split}:{i}".encode()).digest()

    chosen = []
    for digit in range(10):
        candidates = np.flatnonzero(labels == digit)
        chosen += sorted(candidates.tolist(), key=key)[:per_digit]
    return np.array(sorted(chosen), dtype=np.int64)


def make_subset(source: Path, out: Path, per_digit: dict[str, int], seed: int = SEED) -> dict:
    """Write the subset's four files and subset.json into ``out``; return the metadata."""
    for name in FILES:
        reason = verify_file(source / name)
        if reason:
            raise SystemExit(f"{source / name}: {reason} (the source must be the full, official MNIST)")
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for split, (images_name, labels_name) in SPLITS.items():
        labels = read_idx(source / labels_name)
        keep = draw(labels, per_digit[split], split, seed)
        for name, array in ((images_name, read_idx(source / images_name)[keep]), (labels_name, labels[keep])):
            raw = idx_bytes(array)
            gz = gzip.compress(raw, compresslevel=9, mtime=0)
            (out / name).write_bytes(gz)
            files[name] = {
                "md5_gz": hashlib.md5(gz).hexdigest(),
                "sha256_gz": hashlib.sha256(gz).hexdigest(),
                "sha256_raw": hashlib.sha256(raw).hexdigest(),
                "raw_size": len(raw),
                "count": int(array.shape[0]),
            }
    meta = {
        "source": "MNIST (Yann LeCun, Corinna Cortes, Christopher J.C. Burges), CC BY-SA 3.0",
        "method": "per digit, the images with the smallest sha256('mnist-subset:{seed}:{split}:{index}'), "
                  "kept in official order",
        "seed": seed,
        "per_digit": per_digit,
        "command": "python tools/make_subset.py",
        "files": files,
    }
    (out / "subset.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def checksum_table(files: dict) -> str:
    rows = [f"| {n} | {m['count']:,} | {m['sha256_gz']} | {m['sha256_raw']} |" for n, m in files.items()]
    head = "| file | items | SHA-256 of the .gz file | SHA-256 of the decompressed bytes |\n| --- | --- | --- | --- |"
    return "\n".join([TABLE_START, head, *rows, TABLE_END])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=REPO.parent / "shared" / "data" / "mnist")
    parser.add_argument("--out", type=Path, default=REPO / "course" / "data" / "mnist-subset")
    parser.add_argument("--per-digit-train", type=int, default=600)
    parser.add_argument("--per-digit-test", type=int, default=100)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    per_digit = {"train": args.per_digit_train, "test": args.per_digit_test}
    meta = make_subset(args.source, args.out, per_digit, args.seed)
    table = checksum_table(meta["files"])
    print(table)
    shipped = args.out.resolve() == (REPO / "course" / "data" / "mnist-subset").resolve()
    if shipped and README.is_file() and TABLE_START in README.read_text():
        text = re.sub(f"{TABLE_START}.*?{TABLE_END}", lambda _: table, README.read_text(), flags=re.S)
        README.write_text(text)
        print(f"updated the checksum table in {README.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
