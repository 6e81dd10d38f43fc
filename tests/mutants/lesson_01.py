"""Wrong implementations of lesson 01 that learners really write."""

from tests.mutants import Mutant

# parse_idx as the reference writes it, with one part left out or changed by each mutant below.
_GZIP = """
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as exc:
            raise ValueError(f"{path}: truncated or corrupt gzip stream ({exc})") from None"""
_MAGIC = """
    if len(data) < 4 or data[:2] != b"\\x00\\x00":
        raise ValueError(f"{path}: bad magic number")"""
_TYPE = """
    if type_byte not in IDX_DTYPES:
        raise ValueError(f"{path}: unknown data type byte {type_byte}")"""
_DIMS = """
    if ndim == 0 or len(data) < offset:
        raise ValueError(f"{path}: truncated header or 0 dimensions")"""
_SIZES = """
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))"""
_LENGTH = """
    if len(data) - offset != math.prod(shape) * dtype.itemsize:
        raise ValueError(f"{path}: truncated or trailing bytes")"""


def _parse(gzip=_GZIP, magic=_MAGIC, type_check=_TYPE, sizes=_SIZES, length=_LENGTH):
    return f"""
def parse_idx(path):
    path = Path(path)
    data = path.read_bytes(){gzip}{magic}
    type_byte, ndim = data[2], data[3]
    offset = 4 + 4 * ndim{type_check}{_DIMS}{sizes}
    dtype = IDX_DTYPES.get(type_byte, np.dtype(np.uint8)){length}
    return np.frombuffer(data, dtype=dtype, offset=offset).reshape(shape).astype(dtype.newbyteorder("="))
"""


_SPLIT = """
def train_val_split(x, y, val_size=5000, seed=0):
    rng = np.random.default_rng(seed)
{body}
"""

MUTANTS = [
    # --- parse_idx
    Mutant("parse_idx ignores gzip", "data", _parse(gzip=""), expect="not decompressed"),
    Mutant("parse_idx detects gzip by the file name", "data", _parse(gzip="""
    if str(path).endswith(".gz"):
        data = gzip.decompress(data)"""), expect="file name's suffix"),
    Mutant("parse_idx lets gzip errors escape", "data", _parse(gzip="""
    if data[:2] == GZIP_MAGIC:
        data = gzip.decompress(data)"""), expect="EOFError"),
    Mutant("parse_idx without the magic check", "data", _parse(magic=""), expect="magic"),
    Mutant("parse_idx without the data type check", "data", _parse(type_check=""), expect="data type byte"),
    Mutant("parse_idx without the payload length check", "data", _parse(length=""), expect="payload length"),
    Mutant("parse_idx reads the sizes little-endian", "data", _parse(sizes="""
    shape = tuple(int(s) for s in np.frombuffer(data, dtype="<u4", count=ndim, offset=4))"""), expect="big-endian"),
    Mutant("parse_idx reads each size from one byte", "data", _parse(sizes="""
    shape = tuple(data[4 + 4 * i + 3] for i in range(ndim))"""), expect="big-endian"),
    # --- load_mnist
    Mutant("load_mnist without a missing-file message", "data", """
        def load_mnist(data_dir):
            x_train, y_train, x_test, y_test = (parse_idx(Path(data_dir) / name) for name in MNIST_FILES)
            return (x_train, y_train), (x_test, y_test)
        """, expect="course data"),
    Mutant("load_mnist swaps train and test", "data", """
        def load_mnist(data_dir):
            x_test, y_test, x_train, y_train = (parse_idx(Path(data_dir) / name) for name in MNIST_FILES)
            return (x_train, y_train), (x_test, y_test)
        """, expect="t10k"),
    # --- preprocess_images
    Mutant("preprocess with integer division", "data", """
        def preprocess_images(images):
            return (images.reshape(len(images), -1) // 255).astype(np.float32)
        """, expect="integer division"),
    Mutant("preprocess without scaling", "data", """
        def preprocess_images(images):
            return images.reshape(len(images), -1).astype(np.float32)
        """, expect="not scaled"),
    Mutant("preprocess returns float64", "data", """
        def preprocess_images(images):
            return images.reshape(len(images), -1) / 255
        """, expect="float64"),
    Mutant("preprocess flattens transposed images", "data", """
        def preprocess_images(images):
            if images.ndim == 3:
                images = images.transpose(0, 2, 1)
            return images.reshape(len(images), -1).astype(np.float32) / 255
        """, expect="transposed"),
    # --- one_hot
    Mutant("one_hot off by one column", "data", """
        def one_hot(labels, num_classes=10):
            return np.eye(num_classes, dtype=np.float32)[np.asarray(labels, dtype=np.int64) - 1]
        """, expect="off by one"),
    Mutant("one_hot with an integer dtype", "data", """
        def one_hot(labels, num_classes=10):
            out = np.zeros((len(labels), num_classes), dtype=int)
            out[np.arange(len(labels)), labels] = 1
            return out
        """, expect="integer one-hot"),
    Mutant("one_hot returns the labels unchanged", "data", """
        def one_hot(labels, num_classes=10):
            return np.asarray(labels, dtype=np.float32)
        """, expect="not one-hot"),
    # --- train_val_split
    Mutant("split shuffles x and y with different permutations", "data", _SPLIT.replace("{body}", """
    xs, ys = x[rng.permutation(len(x))], y[rng.permutation(len(y))]
    return xs[val_size:], ys[val_size:], xs[:val_size], ys[:val_size]"""), expect="different permutations"),
    Mutant("split takes the last examples for validation", "data", _SPLIT.replace("{body}", """
    return x[:-val_size], y[:-val_size], x[-val_size:], y[-val_size:]"""), expect="not shuffled"),
    Mutant("split ignores the seed", "data", _SPLIT.replace("{body}", """
    order = np.random.permutation(len(x))
    return x[order[val_size:]], y[order[val_size:]], x[order[:val_size]], y[order[:val_size]]"""),
           expect="seed is ignored"),
    Mutant("split keeps the validation examples in training", "data", _SPLIT.replace("{body}", """
    val = rng.permutation(len(x))[:val_size]
    return x.copy(), y.copy(), x[val], y[val]"""),
           expect="left in the training part"),
    Mutant("split shuffles in place", "data", _SPLIT.replace("{body}", """
    order = rng.permutation(len(x))
    x[:], y[:] = x[order], y[order]
    return x[val_size:].copy(), y[val_size:].copy(), x[:val_size].copy(), y[:val_size].copy()"""),
           expect="modified in place"),
    # --- iterate_minibatches
    Mutant("minibatches drop the last partial batch", "data", """
        def iterate_minibatches(x, y, batch_size=128, shuffle=True, seed=None):
            order = np.random.default_rng(seed).permutation(len(x)) if shuffle else np.arange(len(x))
            for start in range(0, len(x) - batch_size + 1, batch_size):
                batch = order[start:start + batch_size]
                yield x[batch], y[batch]
        """, expect="last partial batch dropped"),
    Mutant("minibatches never shuffle", "data", """
        def iterate_minibatches(x, y, batch_size=128, shuffle=True, seed=None):
            for start in range(0, len(x), batch_size):
                yield x[start:start + batch_size], y[start:start + batch_size]
        """, expect="not shuffling"),
    Mutant("minibatches ignore the seed", "data", """
        def iterate_minibatches(x, y, batch_size=128, shuffle=True, seed=None):
            order = np.random.permutation(len(x)) if shuffle else np.arange(len(x))
            for start in range(0, len(x), batch_size):
                batch = order[start:start + batch_size]
                yield x[batch], y[batch]
        """, expect="seed is ignored"),
    Mutant("minibatches shuffle x and y separately", "data", """
        def iterate_minibatches(x, y, batch_size=128, shuffle=True, seed=None):
            rng = np.random.default_rng(seed)
            if shuffle:
                x, y = x[rng.permutation(len(x))], y[rng.permutation(len(y))]
            for start in range(0, len(x), batch_size):
                yield x[start:start + batch_size], y[start:start + batch_size]
        """, expect="different permutations"),
    Mutant("minibatches re-seed a Generator", "data", """
        def iterate_minibatches(x, y, batch_size=128, shuffle=True, seed=None):
            if isinstance(seed, np.random.Generator):
                seed = 0
            order = np.random.default_rng(seed).permutation(len(x)) if shuffle else np.arange(len(x))
            for start in range(0, len(x), batch_size):
                batch = order[start:start + batch_size]
                yield x[batch], y[batch]
        """, expect="re-seeded or copied"),
    # --- read_kaggle_csv
    Mutant("kaggle header parsed as a row", "data", """
        def read_kaggle_csv(path):
            with open(path) as f:
                has_label = f.readline().startswith("label")
            with np.errstate(invalid="ignore"):
                table = np.nan_to_num(np.genfromtxt(path, delimiter=",")).astype(np.int64)
            return (table[:, 1:] if has_label else table).astype(np.uint8), (table[:, 0] if has_label else None)
        """, expect="header line was read as data"),
    Mutant("kaggle label column kept as a pixel", "data", """
        def read_kaggle_csv(path):
            with open(path) as f:
                has_label = f.readline().startswith("label")
            table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
            return table.astype(np.uint8), (table[:, 0].copy() if has_label else None)
        """, expect="label column kept as a pixel"),
    Mutant("kaggle test.csv first pixel taken as the label", "data", """
        def read_kaggle_csv(path):
            table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
            return table[:, 1:].astype(np.uint8), table[:, 0].copy()
        """, expect="first pixel column taken as the label"),
]
