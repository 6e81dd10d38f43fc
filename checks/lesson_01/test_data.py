"""Checks for lesson 01: parse_idx, load_mnist, preprocess_images, one_hot, train_val_split,
iterate_minibatches and read_kaggle_csv.

Run them with ``pytest checks/lesson_01``. Each check tests one behaviour; its name says which.
The IDX and CSV files they read are written by the checks themselves (in pytest's ``tmp_path``),
byte by byte, so that each one holds exactly one problem; MNIST itself is the small subset that
ships with the course.
"""

import gzip
import shutil
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course.checklib import (expect_like, CheckError, expect, expect_array, expect_close, expect_raises,
                             expect_unchanged, fail)
from course.paths import EMBEDDED_DATA

MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
SUBSET = {"train": 6000, "test": 1000}  # images in the embedded subset: 600 and 100 per digit
NAME_THE_FILE = "raise ValueError(f\"{path}: ...\") so that the message names the file and the problem"

# --- the checks' own oracle: a few lines of NumPy and struct, independent of any tree ---------


def _idx(shape, payload, type_byte=0x08, magic=b"\x00\x00"):
    """The bytes of an IDX file: magic, type byte, number of dimensions, big-endian sizes, payload."""
    return magic + bytes([type_byte, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + payload


def _write(folder, name, data, compress=False):
    path = folder / name
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return path


def _read_idx(path):
    """The oracle's IDX reader: gzip, 4 header bytes, big-endian sizes, uint8 items."""
    data = gzip.decompress(path.read_bytes())
    ndim = data[3]
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _is_stub_message(exc):
    return "not written yet" in str(exc) or "not finished yet" in str(exc)


def _parse(lesson, path, about, mistake):
    """``lesson.parse_idx(path)`` on a good file; if it raises, the message names the likely mistake."""
    try:
        return lesson.parse_idx(path)
    except CheckError as exc:
        if not _is_stub_message(exc):
            exc.add_note(f"  {path.name} is a well-formed IDX file ({about}), so parse_idx should read it\n"
                         f"  looks like: {mistake}")
        raise


def _expect_rejected(lesson, path, about, words, hint):
    """``parse_idx(path)`` must raise ValueError naming the file and the problem (one of ``words``)."""
    call = f"{lesson.parse_idx.text(path.name)} on {about}"
    exc = expect_raises(lesson.parse_idx, ValueError, call, path, match=path.name,
                        hint=f"{hint}; {NAME_THE_FILE}")
    expect(any(word in str(exc).lower() for word in words), call, got=f"ValueError: {exc}",
           expected=f"a ValueError that says what is wrong, e.g. with the word {words[0]!r}", hint=hint)


def _ids(n, width=3):
    """``n`` examples whose first column is their id 0..n-1, and labels equal to their ids."""
    x = np.arange(n, dtype=np.float64)[:, None] * np.ones(width)  # (n, width)
    return x, np.arange(n)


def _batches(lesson, *args, **kwargs):
    """Run one pass of ``lesson.iterate_minibatches``; return the call's text and the list of batches."""
    call = lesson.iterate_minibatches.text(*args, **kwargs)
    result = lesson.iterate_minibatches(*args, **kwargs)
    try:
        batches = list(result)
    except Exception as exc:  # noqa: BLE001 - reported to the learner below
        fail(call, detail=f"looping over what it returned raised {type(exc).__name__}: {exc}",
             hint="iterate_minibatches should be a generator: `for ...: yield xb, yb`")
    for batch in batches:
        expect(isinstance(batch, tuple) and len(batch) == 2, call, got=batch,
               expected="each batch as a pair (xb, yb)", hint="yield x[batch], y[batch]")
        expect_array(batch[0], call, what="xb")
        expect_array(batch[1], call, what="yb")
    expect(len(batches) > 0, call, got="no batches", expected="at least one batch")
    return call, batches


def _order(batches):
    """The ids of the examples in the order one pass visited them (labels are the ids)."""
    return np.concatenate([yb for _, yb in batches])


def _kaggle_csv(folder, name, images, labels=None):
    header = ",".join(([] if labels is None else ["label"]) + [f"pixel{i}" for i in range(784)])
    rows = images if labels is None else np.column_stack([labels, images])
    path = folder / name
    path.write_text(header + "\n" + "\n".join(",".join(map(str, row)) for row in rows) + "\n")
    return path


def _read_kaggle(lesson, path):
    try:
        return lesson.read_kaggle_csv(path)
    except CheckError as exc:
        if not _is_stub_message(exc):
            exc.add_note("  hint: the first line is a header (label,pixel0,...,pixel783): skip it, e.g. "
                         "np.loadtxt(path, delimiter=',', skiprows=1, dtype=np.int64)")
        raise


# --- parse_idx ------------------------------------------------------------------------------


@pytest.mark.points(2)
def test_parse_idx_reads_a_raw_image_file_into_the_right_shape_and_values(lesson, rng, tmp_path):
    images = rng.integers(0, 256, size=(2, 3, 4), dtype=np.uint8)
    images[0, 0, 0], images[1, 2, 3] = 0, 255
    path = _write(tmp_path, "images.idx", _idx((2, 3, 4), images.tobytes()))
    about = "00 00 08 03 | 2 3 4 | 24 pixels"
    out = _parse(lesson, path, about, "the header was misread: 00 00 | 08 | 03 | three 4-byte big-endian sizes")
    expect_close(out, images, f"{lesson.parse_idx.text(path.name)} on {about}",
                 check_dtype=True, what="the images", mistakes={
                     "the first header bytes were kept as pixels (the data starts at 4 + 4 * d)":
                         lambda a: a.size == images.size and np.array_equal(a.ravel()[:4], [0, 0, 8, 3]),
                 }, hint="the pixels start right after the header; reshape them to the sizes in the header")


@pytest.mark.points(1)
def test_parse_idx_reads_a_label_file_as_a_one_dimensional_array(lesson, tmp_path):
    labels = np.array([7, 2, 1, 0, 4], dtype=np.uint8)
    path = _write(tmp_path, "labels.idx", _idx((5,), labels.tobytes()))
    about = "00 00 08 01 | 5 | 7 2 1 0 4"
    out = _parse(lesson, path, about, "a one-dimensional file (d = 1) was not read: 1 size, then the labels")
    expect_close(out, labels, f"{lesson.parse_idx.text(path.name)} on {about}",
                 check_dtype=True, what="the labels",
                 hint="a label file has one dimension: the result has shape (N,), dtype uint8")


@pytest.mark.points(1)
def test_parse_idx_reads_dimension_sizes_as_big_endian_integers(lesson, rng, tmp_path):
    images = rng.integers(0, 256, size=(3, 300), dtype=np.uint8)  # 300 = 00 00 01 2C: two bytes matter
    path = _write(tmp_path, "wide.idx", _idx((3, 300), images.tobytes()))
    about = "00 00 08 02 | 3 300 | 900 pixels"
    out = _parse(lesson, path, about, "the dimension sizes were not read as 4-byte big-endian integers "
                 "(np.frombuffer(data, '>u4', count=d, offset=4) or struct.unpack('>' + 'I' * d, ...))")
    expect_close(out, images, f"{lesson.parse_idx.text(path.name)} on {about}",
                 check_dtype=True, what="the array",
                 hint="each size is 4 bytes, most significant first (big-endian): 300 is 00 00 01 2C")


@pytest.mark.points(1)
def test_parse_idx_decompresses_a_gzipped_file(lesson, rng, tmp_path):
    images = rng.integers(0, 256, size=(4, 28, 28), dtype=np.uint8)
    path = _write(tmp_path, "images.idx.gz", _idx((4, 28, 28), images.tobytes()), compress=True)
    about = "gzip-compressed: 1f 8b ..., then 00 00 08 03 | 4 28 28 | 3136 pixels"
    out = _parse(lesson, path, about, "the file was not decompressed: it is gzip data (it starts with 1f 8b); "
                 "use gzip.decompress(data) when data[:2] == b'\\x1f\\x8b'")
    expect_close(out, images, f"{lesson.parse_idx.text(path.name)} on {about}",
                 check_dtype=True, what="the images", hint="decompress first, then parse the IDX bytes")


@pytest.mark.points(1)
def test_parse_idx_detects_gzip_by_its_magic_bytes_not_the_file_name(lesson, tmp_path):
    labels = np.array([3, 1, 4, 1, 5, 9], dtype=np.uint8)
    compressed = _write(tmp_path, "labels-compressed.idx", _idx((6,), labels.tobytes()), compress=True)
    raw = _write(tmp_path, "labels-raw.idx.gz", _idx((6,), labels.tobytes()))
    cases = [
        (compressed, "gzip detected by the file name's suffix: this file is gzip data (it starts with 1f 8b) "
                     "but its name does not end in .gz"),
        (raw, "gzip detected by the file name's suffix: this file is named .gz but is not compressed "
              "(browsers sometimes decompress a download and keep its name)"),
    ]
    for path, mistake in cases:
        about = ("gzip-compressed: 1f 8b ..." if path is compressed else "raw: 00 00 08 01 ...") + " | 6 | 3 1 4 1 5 9"
        out = _parse(lesson, path, about, mistake)
        expect_close(out, labels, f"{lesson.parse_idx.text(path.name)} on {about}", check_dtype=True, what="the labels",
                     hint="look at the first two bytes: b'\\x1f\\x8b' means gzip, b'\\x00\\x00' a raw IDX file")


@pytest.mark.points(1)
def test_parse_idx_rejects_a_wrong_magic_number(lesson, tmp_path):
    path = _write(tmp_path, "bad-magic.idx", _idx((2,), b"\x01\x02", magic=b"\x01\x02"))
    _expect_rejected(lesson, path, "01 02 08 01 | 2 | 2 bytes (the magic should be 00 00)", ["magic", "not an idx"],
                     "was the magic number checked? An IDX file starts with two zero bytes")


@pytest.mark.points(1)
def test_parse_idx_rejects_an_unknown_data_type_byte(lesson, tmp_path):
    for type_byte in (0x07, 0x0A):
        path = _write(tmp_path, f"type-{type_byte:02x}.idx", _idx((2,), b"\x01\x02", type_byte=type_byte))
        _expect_rejected(lesson, path, f"00 00 {type_byte:02X} 01 | 2 | 2 bytes (0x{type_byte:02X} is no IDX type)",
                         ["type"], "was the data type byte checked? The third byte must be one of 0x08 (unsigned "
                                   "byte), 0x09, 0x0B, 0x0C, 0x0D, 0x0E; anything else is an error")


@pytest.mark.points(1)
def test_parse_idx_rejects_a_header_with_zero_dimensions(lesson, tmp_path):
    path = _write(tmp_path, "zero-dims.idx", _idx((), b"\x05"))
    _expect_rejected(lesson, path, "00 00 08 00 | | 1 byte (0 dimensions)", ["dim"],
                     "the fourth byte is the number of dimensions; an IDX array has at least one")


@pytest.mark.points(1)
def test_parse_idx_rejects_a_file_cut_inside_its_header(lesson, tmp_path):
    path = _write(tmp_path, "cut-header.idx", _idx((2, 3, 4), b"")[:9])
    _expect_rejected(lesson, path, "00 00 08 03 | 2 + one byte (the header needs 16 bytes)",
                     ["header", "truncated", "short", "bytes"],
                     "check that the file holds the 4 + 4 * d header bytes before reading the sizes")


@pytest.mark.points(1)
def test_parse_idx_rejects_a_payload_shorter_than_the_header_says(lesson, tmp_path):
    path = _write(tmp_path, "short.idx", _idx((3, 2, 2), bytes(10)))
    _expect_rejected(lesson, path, "00 00 08 03 | 3 2 2 | 10 bytes (the header promises 12)",
                     ["truncated", "short", "bytes", "length", "size"],
                     "was the payload length checked? Compare len(data) - (4 + 4 * d) with "
                     "prod(sizes) * itemsize: here 10 bytes against 12")


@pytest.mark.points(1)
def test_parse_idx_rejects_trailing_bytes_after_the_payload(lesson, tmp_path):
    path = _write(tmp_path, "long.idx", _idx((3, 2, 2), bytes(14)))
    _expect_rejected(lesson, path, "00 00 08 03 | 3 2 2 | 14 bytes (the header promises 12)",
                     ["trailing", "long", "extra", "bytes", "length", "size"],
                     "was the payload length checked? Compare len(data) - (4 + 4 * d) with "
                     "prod(sizes) * itemsize: here 14 bytes against 12; extra bytes mean a damaged file")


@pytest.mark.points(1)
def test_parse_idx_rejects_a_truncated_gzip_stream(lesson, rng, tmp_path):
    data = gzip.compress(_idx((8, 28, 28), rng.integers(0, 256, 8 * 784, dtype=np.uint8).tobytes()), mtime=0)
    path = _write(tmp_path, "cut.idx.gz", data[: len(data) // 2])
    _expect_rejected(lesson, path, f"a gzip stream cut after {len(data) // 2} of its {len(data)} bytes",
                     ["gzip", "truncated", "corrupt", "compress"],
                     "gzip.decompress raises EOFError (truncated) or gzip.BadGzipFile (corrupt): catch them "
                     "and raise ValueError from them")


# --- load_mnist ------------------------------------------------------------------------------


@pytest.mark.points(1)
def test_load_mnist_returns_train_and_test_images_and_labels_with_the_right_shapes(lesson):
    call = lesson.load_mnist.text("mnist-subset") + " on the subset shipped with the course"
    result = lesson.load_mnist(EMBEDDED_DATA)
    expect(isinstance(result, tuple) and len(result) == 2 and all(len(part) == 2 for part in result), call,
           got=result, expected="((x_train, y_train), (x_test, y_test))")
    (x_train, y_train), (x_test, y_test) = result
    hint = "train-* files are the training set (6,000 images here), t10k-* the test set (1,000 here)"
    for what, value, shape in (("x_train", x_train, (6000, 28, 28)), ("y_train", y_train, (6000,)),
                               ("x_test", x_test, (1000, 28, 28)), ("y_test", y_test, (1000,))):
        expect_array(value, call, shape=shape, dtype=np.uint8, what=what, hint=hint)


@pytest.mark.points(1)
def test_load_mnist_returns_600_training_and_100_test_labels_per_digit(lesson):
    call = lesson.load_mnist.text("mnist-subset") + " on the subset shipped with the course"
    (_, y_train), (_, y_test) = lesson.load_mnist(EMBEDDED_DATA)
    for what, labels, per_digit in (("y_train", y_train, 600), ("y_test", y_test, 100)):
        expect_array(labels, call, what=what)
        counts = np.bincount(labels.astype(np.int64).ravel(), minlength=10)
        expect(np.array_equal(counts, np.full(10, per_digit)), call, got=f"{what} counts per digit {counts.tolist()}",
               expected=f"{per_digit} of each digit 0..9",
               hint="the labels come from the *-labels-idx1-ubyte.gz files, in the same order as the images")


@pytest.mark.points(1)
def test_load_mnist_matches_the_files_pixel_for_pixel(lesson):
    call = lesson.load_mnist.text("mnist-subset") + " on the subset shipped with the course"
    result = lesson.load_mnist(EMBEDDED_DATA)
    for (x, y), split in zip(result, ("train", "t10k")):
        want_x = _read_idx(EMBEDDED_DATA / f"{split}-images-idx3-ubyte.gz")
        want_y = _read_idx(EMBEDDED_DATA / f"{split}-labels-idx1-ubyte.gz")
        expect_close(x, want_x, call, what=f"the images of {split}-images-idx3-ubyte.gz",
                     hint="return the images in file order, exactly as parse_idx reads them")
        expect_close(y, want_y, call, what=f"the labels of {split}-labels-idx1-ubyte.gz")


@pytest.mark.points(1)
def test_load_mnist_names_the_missing_files_and_how_to_download_them(lesson, tmp_path):
    for name in MNIST_FILES[1::2]:  # only the two label files
        shutil.copy(EMBEDDED_DATA / name, tmp_path / name)
    call = lesson.load_mnist.text(tmp_path.name) + " on a folder holding only the two label files"
    hint = ("before reading, list which of the four files are missing, and say that `course data` "
            "downloads them: raise FileNotFoundError(f\"{data_dir}: missing ...; run `course data`\")")
    exc = expect_raises(lesson.load_mnist, FileNotFoundError, call, tmp_path, match="course data", hint=hint)
    missing = [name for name in MNIST_FILES[::2] if name not in str(exc)]
    expect(not missing, call, got=f"FileNotFoundError: {exc}", expected=f"a message naming {', '.join(missing)}",
           hint=hint)


# --- preprocess_images -----------------------------------------------------------------------


@pytest.mark.points(1)
def test_preprocess_images_flattens_to_784_float32_columns(lesson, rng):
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    out = lesson.preprocess_images(images)
    call = lesson.preprocess_images.text(images)
    expect_array(out, call, shape=(5, 784), what="x",
                 hint="one row per image: images.reshape(len(images), -1) turns (N, 28, 28) into (N, 784)")
    expect_array(out, call, dtype=np.float32, what="x",
                 hint="got float64? x / 255 on uint8 gives float64: convert with .astype(np.float32) first; "
                      "float32 is what the network trains in, half the memory of float64")


@pytest.mark.points(2)
def test_preprocess_images_scales_pixels_to_the_unit_interval(lesson):
    images = np.array([[[0, 51, 255], [128, 1, 254]]], dtype=np.uint8)  # (1, 2, 3)
    out = lesson.preprocess_images(images)
    flat = images.reshape(1, 6).astype(np.float64)
    expect_close(out, flat / 255, lesson.preprocess_images.text(images), rtol=1e-6, atol=1e-7, mistakes={
        "integer division (//): every pixel below 255 became 0": flat // 255,
        "pixels not scaled: still 0..255 (divide by 255)": flat,
        "divided by 256 instead of 255 (255 should become exactly 1.0)": flat / 256,
        "uint8 arithmetic wrapped around before dividing": lambda a: a.max() < 1 and a.min() < 0,
    }, hint="x = images / 255 in float: 0 -> 0.0, 51 -> 0.2, 255 -> 1.0")


@pytest.mark.points(1)
def test_preprocess_images_flattens_each_image_row_by_row(lesson):
    images = np.arange(3 * 28 * 28).reshape(3, 28, 28) % 251  # no symmetry: row and column order differ
    images = images.astype(np.uint8)
    out = lesson.preprocess_images(images)
    want = images.reshape(3, 784) / 255.0
    expect_close(out, want, lesson.preprocess_images.text(images), rtol=1e-6, atol=1e-7, mistakes={
        "images transposed before flattening (column by column): pixel (r, c) must go to r * 28 + c":
            images.transpose(0, 2, 1).reshape(3, 784) / 255.0,
        "flattened in Fortran order across the whole batch, which mixes pixels of different images":
            images.reshape(3, 784, order="F") / 255.0,
        "a reshape that mixes images (e.g. reshape(784, N).T)": images.reshape(784, 3).T / 255.0,
    }, hint="images.reshape(len(images), -1): row i is image i read row by row, as imshow shows it")


@pytest.mark.points(1)
def test_preprocess_images_accepts_already_flat_images(lesson, rng):
    images = rng.integers(0, 256, size=(4, 784), dtype=np.uint8)
    out = lesson.preprocess_images(images)
    expect_close(out, images / 255.0, lesson.preprocess_images.text(images), rtol=1e-6, atol=1e-7,
                 hint="an (N, 784) input is already flat: reshape(len(images), -1) leaves it as it is")


@pytest.mark.points(1)
def test_preprocess_images_does_not_modify_its_input(lesson, rng):
    images = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    before = images.copy()
    out = lesson.preprocess_images(images)
    expect_like(out, np.empty((3, 784)), lesson.preprocess_images.text(images))
    expect_unchanged(before, images, lesson.preprocess_images.text(images), "images")


# --- one_hot ---------------------------------------------------------------------------------


@pytest.mark.points(2)
def test_one_hot_matches_a_hand_written_example(lesson):
    labels = np.array([0, 3, 9, 3], dtype=np.uint8)
    out = lesson.one_hot(labels)
    call = lesson.one_hot.text(labels)
    expected = np.zeros((4, 10))
    expected[0, 0] = expected[1, 3] = expected[2, 9] = expected[3, 3] = 1
    expect(isinstance(out, np.ndarray) and out.shape == (4, 10), call, got=out, expected="shape (4, 10)",
           mistake="labels not one-hot: one row of 10 columns per label is needed"
           if isinstance(out, np.ndarray) and out.size == 4 else None,
           hint="np.eye(num_classes)[labels] picks row `label` of the identity for every label")
    columns = [np.flatnonzero(row).tolist() for row in out]
    shifted = [[(int(k) + step) % 10] for k in labels for step in (-1, 1)]
    off_by_one = columns in (shifted[0::2], shifted[1::2])
    expect(columns == [[0], [3], [9], [3]], call, got=f"rows whose nonzero entries are in columns {columns}",
           expected="columns [[0], [3], [9], [3]]: row i has a single 1, in column labels[i]",
           mistake="off by one column: the 1 for label k goes in column k (0-based), not k - 1 or k + 1"
           if off_by_one else None, hint="row i is all zeros except a 1 in column labels[i]")
    expect_close(out, expected, call, hint="the nonzero entry of each row is exactly 1")


@pytest.mark.points(1)
def test_one_hot_returns_float32(lesson):
    labels = np.array([1, 2, 0], dtype=np.uint8)
    out = lesson.one_hot(labels)
    expect_array(out, lesson.one_hot.text(labels), shape=(3, 10), what="Y",
                 hint="one row per label and one column per class: (N, num_classes)")
    expect_array(out, lesson.one_hot.text(labels), dtype=np.float32, what="Y",
                 hint="an integer one-hot (e.g. np.zeros(..., dtype=int)) or float64 would upcast the network's "
                      "float32 arithmetic: make it float32, e.g. np.eye(num_classes, dtype=np.float32)[labels]")


@pytest.mark.points(1)
@given(labels=st.lists(st.integers(0, 9), min_size=1, max_size=30))
def test_one_hot_puts_a_single_one_in_the_label_column_of_every_row(lesson, labels):
    """Property: for any labels, every row sums to 1 and its 1 sits in the label's column."""
    labels = np.array(labels, dtype=np.uint8)
    out = lesson.one_hot(labels)
    call = lesson.one_hot.text(labels)
    expect_array(out, call, shape=(len(labels), 10), what="Y")
    expect(np.allclose(out.sum(axis=1), 1) and np.array_equal(out.argmax(axis=1), labels)
           and np.all((out == 0) | (out == 1)), call, got=out,
           expected=f"one 1 per row, in column labels[i], for labels {labels.tolist()}",
           hint="row i is all zeros except a 1 in column labels[i]")


@pytest.mark.points(1)
def test_one_hot_makes_one_column_per_class(lesson):
    labels = np.array([2, 0, 1])
    out = lesson.one_hot(labels, num_classes=3)
    expect_close(out, np.eye(3)[labels], lesson.one_hot.text(labels, num_classes=3),
                 hint="use num_classes for the number of columns instead of a hard-coded 10")


# --- train_val_split -------------------------------------------------------------------------


@pytest.mark.points(1)
def test_train_val_split_returns_parts_of_the_requested_sizes(lesson):
    x, y = _ids(100)
    call = lesson.train_val_split.text(x, y, val_size=20, seed=0)
    result = lesson.train_val_split(x, y, val_size=20, seed=0)
    expect(isinstance(result, tuple) and len(result) == 4, call, got=result,
           expected="(x_train, y_train, x_val, y_val)")
    for what, value, shape in zip(("x_train", "y_train", "x_val", "y_val"), result,
                                  ((80, 3), (80,), (20, 3), (20,))):
        expect_array(value, call, shape=shape, what=what,
                     hint="val_size examples go to the validation part, the other N - val_size to training")


@pytest.mark.points(2)
def test_train_val_split_uses_every_example_exactly_once(lesson):
    x, y = _ids(100)
    call = lesson.train_val_split.text(x, y, val_size=20, seed=1)
    x_train, _, x_val, _ = lesson.train_val_split(x, y, val_size=20, seed=1)
    expect_array(x_train, call, what="x_train")
    expect_array(x_val, call, what="x_val")
    ids_train, ids_val = x_train[:, 0].astype(int), x_val[:, 0].astype(int)
    both = np.intersect1d(ids_train, ids_val)
    expect(both.size == 0, call, detail=f"{both.size} examples are in both x_train and x_val, e.g. ids {both[:5].tolist()}",
           mistake="the validation examples were left in the training part too",
           hint="cut one permutation in two: order[:val_size] for validation, order[val_size:] for training")
    seen = np.sort(np.concatenate([ids_train, ids_val]))
    expect(np.array_equal(seen, np.arange(100)), call,
           detail=f"together the parts hold {np.unique(seen).size} different examples out of 100",
           mistake="examples lost or repeated (e.g. drawn with replacement by rng.integers / rng.choice)",
           hint="rng.permutation(N) lists every index exactly once")


@pytest.mark.points(2)
def test_train_val_split_keeps_each_example_with_its_label(lesson):
    x, y = _ids(100)
    call = lesson.train_val_split.text(x, y, val_size=30, seed=2)
    x_train, y_train, x_val, y_val = lesson.train_val_split(x, y, val_size=30, seed=2)
    for xs, ys, part in ((x_train, y_train, "training"), (x_val, y_val, "validation")):
        expect_array(xs, call, what=f"x of the {part} part")
        expect_array(ys, call, shape=(len(xs),), what=f"y of the {part} part")
        wrong = int(np.sum(xs[:, 0] != ys))
        expect(wrong == 0, call, detail=f"in the {part} part, {wrong} of {len(ys)} labels no longer belong to their example",
               mistake="x and y shuffled with different permutations (two separate shuffles)",
               hint="draw one permutation `order` and index both arrays with it: x[order], y[order]")


@pytest.mark.points(1)
def test_train_val_split_draws_the_validation_set_at_random(lesson):
    x, y = _ids(100)
    call = lesson.train_val_split.text(x, y, val_size=20, seed=3)
    _, _, _, y_val = lesson.train_val_split(x, y, val_size=20, seed=3)
    expect_array(y_val, call, shape=(20,), what="y_val")
    ends = {"the last": np.arange(80, 100), "the first": np.arange(20)}
    for where, ids in ends.items():
        expect(not np.array_equal(np.sort(y_val), ids), call, got=f"validation ids {np.sort(y_val).tolist()}",
               expected="a random sample of the ids 0..99",
               mistake=f"not shuffled: the validation set is {where} val_size examples",
               hint="MNIST's files are not in random order by writer: shuffle with rng.permutation(N) first")


@pytest.mark.points(1)
def test_train_val_split_gives_the_same_split_for_the_same_seed(lesson):
    x, y = _ids(60)
    call = lesson.train_val_split.text(x, y, val_size=10, seed=4)
    a = lesson.train_val_split(x, y, val_size=10, seed=4)
    b = lesson.train_val_split(x, y, val_size=10, seed=4)
    c = lesson.train_val_split(x, y, val_size=10, seed=5)
    expect_array(a[3], call, what="y_val")
    expect(np.array_equal(a[3], b[3]) and np.array_equal(a[1], b[1]), call,
           detail="called twice with seed=4, it gave two different splits",
           mistake="the seed is ignored (np.random.permutation uses the global generator)",
           hint="rng = np.random.default_rng(seed), then rng.permutation(N)")
    expect(not np.array_equal(a[3], c[3]), call, detail="seed=4 and seed=5 gave the same validation set",
           mistake="the seed is ignored (a fixed seed is used instead of the argument)",
           hint="pass the `seed` argument to np.random.default_rng(seed)")


@pytest.mark.points(1)
def test_train_val_split_does_not_modify_its_inputs(lesson):
    x, y = _ids(50)
    before = {"x": x.copy(), "y": y.copy()}
    out = lesson.train_val_split(x, y, val_size=10, seed=0)
    expect_like(out, (np.empty((40, 3)), np.empty(40), np.empty((10, 3)), np.empty(10)),
                lesson.train_val_split.text(x, y, val_size=10, seed=0))
    expect_unchanged(before, {"x": x, "y": y}, lesson.train_val_split.text(x, y, val_size=10, seed=0), "arguments")


# --- iterate_minibatches ---------------------------------------------------------------------


@pytest.mark.points(2)
def test_iterate_minibatches_visits_every_example_exactly_once_per_pass(lesson):
    x, y = _ids(10)
    call, batches = _batches(lesson, x, y, batch_size=4, seed=0)
    order = _order(batches)
    expect(np.array_equal(np.sort(order), np.arange(10)), call, got=f"the examples visited: {order.tolist()}",
           expected="each of the 10 examples exactly once",
           mistake="examples drawn with replacement (rng.integers / rng.choice): some repeat, some are missed"
           if len(order) == 10 else None,
           hint="shuffle the indices once with rng.permutation(N), then cut that list into consecutive slices")


@pytest.mark.points(2)
def test_iterate_minibatches_keeps_the_last_partial_batch(lesson):
    x, y = _ids(10)
    call, batches = _batches(lesson, x, y, batch_size=4, shuffle=False)
    sizes = [len(yb) for _, yb in batches]
    expect(sizes == [4, 4, 2], call, got=f"batches of sizes {sizes}", expected="batches of sizes [4, 4, 2]",
           mistake="last partial batch dropped: 2 examples are never trained on" if sizes == [4, 4] else None,
           hint="for start in range(0, N, batch_size): the slice order[start:start + batch_size] may be shorter")
    x, y = _ids(300)
    call, batches = _batches(lesson, x, y)
    sizes = [len(yb) for _, yb in batches]
    expect(sizes == [128, 128, 44], call, got=f"batches of sizes {sizes}", expected="[128, 128, 44] with the default batch_size=128",
           mistake="last partial batch dropped" if sizes == [128, 128] else None)


@pytest.mark.points(1)
def test_iterate_minibatches_shuffles_by_default(lesson):
    x, y = _ids(50)
    call, batches = _batches(lesson, x, y, batch_size=10, seed=1)
    order = _order(batches)
    expect(not np.array_equal(order, np.arange(50)), call, got=f"the examples in their original order {order[:12].tolist()}...",
           expected="a shuffled order when shuffle=True (the default)",
           mistake="not shuffling: the batches follow the order of the data",
           hint="with shuffle=True, visit the examples in the order rng.permutation(N)")


@pytest.mark.points(1)
def test_iterate_minibatches_keeps_the_order_when_shuffle_is_false(lesson):
    x, y = _ids(25)
    call, batches = _batches(lesson, x, y, batch_size=10, shuffle=False)
    order = _order(batches)
    expect(np.array_equal(order, np.arange(25)), call, got=f"the examples in the order {order[:12].tolist()}...",
           expected="0, 1, 2, ..., 24: the data's own order", hint="with shuffle=False use np.arange(N) as the order")


@pytest.mark.points(2)
def test_iterate_minibatches_keeps_each_example_with_its_label(lesson):
    x, y = _ids(37)
    call, batches = _batches(lesson, x, y, batch_size=8, seed=2)
    wrong = sum(int(np.sum(xb[:, 0] != yb)) for xb, yb in batches)
    expect(wrong == 0, call, detail=f"{wrong} of 37 labels no longer belong to their example",
           mistake="x and y shuffled with different permutations",
           hint="index both with the same indices: batch = order[start:start + batch_size]; x[batch], y[batch]")


@pytest.mark.points(1)
def test_iterate_minibatches_gives_the_same_order_for_the_same_seed(lesson):
    x, y = _ids(40)
    call, first = _batches(lesson, x, y, batch_size=16, seed=7)
    _, second = _batches(lesson, x, y, batch_size=16, seed=7)
    expect(np.array_equal(_order(first), _order(second)), call, detail="two passes with seed=7 visited the examples in different orders",
           mistake="the seed is ignored (np.random.shuffle / np.random.permutation use the global generator)",
           hint="rng = np.random.default_rng(seed), then rng.permutation(N)")


@pytest.mark.points(1)
def test_iterate_minibatches_gives_different_orders_for_different_seeds(lesson):
    x, y = _ids(40)
    call, first = _batches(lesson, x, y, batch_size=16, seed=7)
    _, second = _batches(lesson, x, y, batch_size=16, seed=8)
    expect(not np.array_equal(_order(first), _order(second)), call, detail="seed=7 and seed=8 gave the same order",
           mistake="the seed is ignored (a fixed seed is used instead of the argument)",
           hint="pass the `seed` argument to np.random.default_rng(seed)")


@pytest.mark.points(1)
def test_iterate_minibatches_accepts_a_generator_and_reshuffles_with_it(lesson):
    x, y = _ids(40)
    call, first = _batches(lesson, x, y, batch_size=16, seed=np.random.default_rng(5))
    _, again = _batches(lesson, x, y, batch_size=16, seed=np.random.default_rng(5))
    expect(np.array_equal(_order(first), _order(again)), call,
           detail="two fresh generators made with np.random.default_rng(5) gave different orders",
           mistake="the seed is ignored when it is a Generator",
           hint="np.random.default_rng(seed) accepts an int, None or a Generator (which it returns as is)")
    rng = np.random.default_rng(6)
    _, epoch1 = _batches(lesson, x, y, batch_size=16, seed=rng)
    _, epoch2 = _batches(lesson, x, y, batch_size=16, seed=rng)
    expect(not np.array_equal(_order(epoch1), _order(epoch2)), call,
           detail="two passes with the same Generator visited the examples in the same order",
           mistake="the Generator is re-seeded or copied instead of used: every epoch gets the same order",
           hint="draw the permutation from the Generator itself, so it advances and the next epoch differs")


@pytest.mark.points(1)
def test_iterate_minibatches_does_not_modify_its_inputs(lesson):
    x, y = _ids(30)
    before = {"x": x.copy(), "y": y.copy()}
    call, _ = _batches(lesson, x, y, batch_size=8, seed=0)
    expect_unchanged(before, {"x": x, "y": y}, call, "arguments")


# --- read_kaggle_csv -------------------------------------------------------------------------


@pytest.mark.points(2)
def test_read_kaggle_csv_reads_labels_and_pixels_from_train_csv(lesson, rng, tmp_path):
    images = rng.integers(0, 256, size=(3, 784))
    images[0, :3] = [0, 255, 128]
    labels = np.array([5, 0, 9])
    path = _kaggle_csv(tmp_path, "train.csv", images, labels)
    call = lesson.read_kaggle_csv.text(path.name) + " on `label,pixel0,...,pixel783` and 3 rows"
    result = _read_kaggle(lesson, path)
    expect(isinstance(result, tuple) and len(result) == 2, call, got=result, expected="(images, labels)")
    got_images, got_labels = result
    expect_array(got_images, call, what="images")
    shape = got_images.shape
    expect(shape == (3, 784), call, got=f"images of shape {shape}", expected="images of shape (3, 784)",
           mistake={(4, 784): "the header line was read as data (a row of nan or 0)",
                    (4, 785): "the header line was read as data, and the label column kept as a pixel",
                    (3, 785): "the label column kept as a pixel: images should hold pixel0..pixel783 only"}.get(shape),
           hint="skip the header line, and split off column 0 (the label) from the 784 pixel columns")
    expect_close(got_images, images, call, what="images", hint="pixels are row by row, pixel0 first")
    expect_array(got_labels, call, shape=(3,), what="labels",
                 hint="the labels are column 0 of every row after the header")
    expect_close(got_labels, labels, call, what="labels")


@pytest.mark.points(1)
def test_read_kaggle_csv_returns_uint8_images_and_int64_labels(lesson, rng, tmp_path):
    path = _kaggle_csv(tmp_path, "train.csv", rng.integers(0, 256, size=(2, 784)), np.array([1, 7]))
    call = lesson.read_kaggle_csv.text(path.name)
    images, labels = _read_kaggle(lesson, path)
    expect_array(images, call, dtype=np.uint8, what="images",
                 hint="the same dtype as load_mnist's images, so the rest of the course treats both alike: .astype(np.uint8)")
    expect_array(labels, call, dtype=np.int64, what="labels", hint="integer class indices: .astype(np.int64)")


@pytest.mark.points(1)
def test_read_kaggle_csv_reads_test_csv_without_labels(lesson, rng, tmp_path):
    images = rng.integers(0, 256, size=(2, 784))
    path = _kaggle_csv(tmp_path, "test.csv", images)
    call = lesson.read_kaggle_csv.text(path.name) + " on `pixel0,...,pixel783` (no label column) and 2 rows"
    result = _read_kaggle(lesson, path)
    expect(isinstance(result, tuple) and len(result) == 2, call, got=result, expected="(images, None)")
    got_images, got_labels = result
    expect(got_labels is None, call, got=f"labels {got_labels!r}"[:200], expected="labels None: test.csv has no label column",
           mistake="the first pixel column taken as the label: test.csv starts with pixel0",
           hint="look at the header: only a file whose first column is `label` has labels")
    expect_array(got_images, call, what="images")
    shape = got_images.shape
    expect(shape == (2, 784), call, got=f"images of shape {shape}", expected="images of shape (2, 784)",
           mistake={(3, 784): "the header line was read as data (a row of nan or 0)",
                    (2, 783): "the first pixel column taken as the label: test.csv starts with pixel0"}.get(shape),
           hint="skip the header line; without a label column, all 784 columns are pixels")
    expect_array(got_images, call, dtype=np.uint8, what="images")
    expect_close(got_images, images, call, what="images")
