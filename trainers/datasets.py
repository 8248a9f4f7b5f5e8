"""Datasets for training: synthetic, scikit-learn's bundled ones, a user's CSV file, MNIST-style IDX files.

Nothing here downloads: every dataset is generated, shipped inside scikit-learn, or read from a path
the user gives. ``load_dataset`` returns a ``Dataset`` ready to train on:

- a seeded train/validation split (stratified for classification where every class has at least two
  members and both parts can hold every class), or the IDX ``t10k`` files as the validation set;
- tabular features standardised with the TRAIN split's per-column mean and std (std 0 -> 1);
- images scaled to [0, 1] (÷255 for IDX bytes, ÷16 for ``digits``), then normalised by the train
  split's scalar mean and std;
- classification targets as int64 class indices, regression targets as float32 ``(N, 1)`` kept in
  their original units (so plots read in real units).

A CSV's task, unless ``task`` says it, is inferred from its target column: text labels are classes;
numbers are classes only when every one is an integer and there are few distinct values, at most
``MAX_INFERRED_CLASSES`` and at most half the rows (so every class has two samples on average); any
other numeric target is regression. ``y = 2x`` over four rows is regression (four distinct values),
iris's 0/1/2 over 150 rows classification. ``describe_task`` says which, for the CLI and the GUI.

Every number must fit float32, the dtype training runs in (a regression target also its squared
error, the loss); a CSV cell that does not, or is not finite, is refused naming its line and column.

The same arguments give bit-identical arrays. scikit-learn is imported on first use only, so that
reading ``DATASETS`` (the CLI's ``list``, the GUI's menus) stays cheap.
"""

import csv
import gzip
import io
import math
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trainers.collector import collector_paused
from trainers.errors import ConfigError

CLASSIFICATION, REGRESSION = "classification", "regression"

DEFAULT_SAMPLES = 1000
MAX_SYNTHETIC_SAMPLES = 1_000_000
# An integer-valued CSV target with at most this many distinct values, and at most half as many as
# it has rows, is a class label (the module docstring has the whole rule).
MAX_INFERRED_CLASSES = 20
FLOAT32_MAX = float(np.finfo(np.float32).max)  # training runs in float32: larger values become inf
# A regression target beyond this overflows its own squared error, MSELoss, in float32.
REGRESSION_TARGET_LIMIT = math.sqrt(FLOAT32_MAX)
LINEAR_SLOPE, LINEAR_INTERCEPT = 2.0, 1.0  # ``linear``: y = 2·x + 1 + noise, x uniform in [-3, 3]
SINE_PERIODS = 2  # ``sine``: x uniform over two periods, [-2π, 2π]
SPIRAL_TURNS = 2.0  # each ``spirals`` arm winds twice around the centre; radius at most 1

DEFAULT_NOISE: dict[str, float] = {
    "moons": 0.2,  # std of the Gaussian added to each coordinate (make_moons)
    "circles": 0.1,  # same (make_circles, inner circle at half the radius)
    "spirals": 0.05,  # same, in units of the outer radius (arms 0.25 apart)
    "blobs": 1.0,  # each cluster's std (make_blobs); the centres are fixed
    "linear": 0.5,  # std of the Gaussian added to y
    "sine": 0.1,  # same
}

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DIGIT_CLASSES = tuple(str(d) for d in range(10))
BLOB_CENTRES = ((-3.0, -2.0), (3.0, -2.0), (0.0, 3.0))

IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC = 0x00000803, 0x00000801
IDX_TRAIN = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
IDX_TEST = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@dataclass(frozen=True)
class DatasetInfo:
    """One registry entry: ``kind`` is synthetic / sklearn / file; ``task`` may be "inferred" (csv)."""

    name: str
    task: str
    kind: str
    help: str


DATASETS: dict[str, DatasetInfo] = {info.name: info for info in (
    DatasetInfo("moons", CLASSIFICATION, "synthetic", "two interleaving half circles (2-D, 2 classes)"),
    DatasetInfo("circles", CLASSIFICATION, "synthetic",
                "a circle inside a circle of twice its radius (2-D, 2 classes)"),
    DatasetInfo("spirals", CLASSIFICATION, "synthetic",
                "two interleaved Archimedean spirals (2-D, 2 classes)"),
    DatasetInfo("blobs", CLASSIFICATION, "synthetic", "three Gaussian clusters (2-D, 3 classes)"),
    DatasetInfo("linear", REGRESSION, "synthetic",
                f"y = {LINEAR_SLOPE:g}·x + {LINEAR_INTERCEPT:g} + noise, x in [-3, 3] (1-D)"),
    DatasetInfo("sine", REGRESSION, "synthetic", "y = sin(x) + noise over two periods (1-D)"),
    DatasetInfo("digits", CLASSIFICATION, "sklearn", "1797 handwritten digits, 8×8 images (10 classes)"),
    DatasetInfo("breast_cancer", CLASSIFICATION, "sklearn", "569 tumours, 30 features (2 classes)"),
    DatasetInfo("iris", CLASSIFICATION, "sklearn", "150 flowers, 4 features (3 classes)"),
    DatasetInfo("csv", "inferred", "file",
                "a CSV file with a header row (data.path); target: data.target, default the last column"),
    DatasetInfo("mnist", CLASSIFICATION, "file",
                "MNIST from the IDX files in the folder data.path (28×28 images, 10 classes)"),
    DatasetInfo("fashion_mnist", CLASSIFICATION, "file",
                "Fashion-MNIST from the IDX files in the folder data.path (28×28 images, 10 classes)"),
)}


@dataclass(frozen=True, eq=False)  # eq=False: field-wise == on arrays is ambiguous; compare by identity
class Dataset:
    """Arrays ready to train on. Images are ``(N, 1, H, W)``; tabular data ``(N, F)``.

    ``x_mean`` and ``x_std`` are the statistics the features were normalised with (per column for
    tabular data, scalars for images, in [0, 1] units): ``x * x_std + x_mean`` gives back real units.
    """

    name: str
    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    num_classes: int
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    x_mean: np.ndarray | None = None
    x_std: np.ndarray | None = None
    target_name: str = ""  # the CSV column the targets come from ("" for the built-in datasets)
    task_inferred: bool = False  # the task was read off the CSV's target column, not given

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def is_image(self) -> bool:
        return self.x_train.ndim == 4

    @property
    def output_size(self) -> int:
        return self.num_classes if self.task == CLASSIFICATION else int(self.y_train.shape[1])


@dataclass
class _Raw:
    """A dataset before subsetting, splitting and scaling. Images hold integers and ``pixel_scale``."""

    x: np.ndarray
    y: np.ndarray
    task: str
    num_classes: int
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    pixel_scale: float | None = None
    x_val: np.ndarray | None = None  # a validation set that comes with the data (IDX t10k files)
    y_val: np.ndarray | None = None
    target_name: str = ""
    task_inferred: bool = False


# ---- the entry point ---------------------------------------------------------------------------------


def load_dataset(name: str, *, path: str | None = None, samples: int | None = None,
                 noise: float | None = None, target: str | int | None = None, task: str | None = None,
                 val_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """Load, split and normalise the dataset ``name``; every user mistake is a ``ConfigError``.

    ``samples``: how many points a synthetic dataset draws (default 1000), else a seeded random
    subset of the rows (for IDX files with ``t10k`` files: of the training files, the ``t10k`` ones
    shrunk in proportion). ``noise``: synthetic datasets only (``DEFAULT_NOISE``). ``path``, ``target``
    and ``task``: file datasets (``task`` for csv; "auto"/"inferred"/"" mean infer it).
    """
    key = _check_name(name)
    info = DATASETS[key]
    val_fraction = _check_val_fraction(val_fraction)
    seed = _check_seed(seed)
    samples = _check_samples_type(samples)
    task = _check_task(task, info)
    path = None if path is None or (isinstance(path, str) and not path.strip()) else path
    target = None if isinstance(target, str) and not target.strip() else target
    if noise is not None and info.kind != "synthetic":
        synthetic = ", ".join(n for n, i in DATASETS.items() if i.kind == "synthetic")
        raise ConfigError(f"data.noise: only the synthetic datasets ({synthetic}) take noise, not '{key}'")
    if path is not None and info.kind != "file":
        raise ConfigError(f"data.path: '{key}' is built in and reads no file "
                          "(only csv, mnist and fashion_mnist do)")
    if target is not None and key != "csv":
        raise ConfigError(f"data.target: only the csv dataset takes a target column, not '{key}'")
    if path is None and info.kind == "file":
        what = "CSV file" if key == "csv" else "folder holding the IDX files"
        raise ConfigError(f"data.path: the '{key}' dataset needs a path (the {what})")

    # Independent streams: drawing the data, choosing a subset and splitting do not share numbers.
    draw_seed, subset_seed, split_seed = (int(s) for s in np.random.SeedSequence(seed).generate_state(3))
    if info.kind == "synthetic":
        noise = DEFAULT_NOISE[key] if noise is None else _check_noise(noise)
        count = DEFAULT_SAMPLES if samples is None else samples
        minimum = 2 if info.task == REGRESSION else 2 * _SYNTHETIC_CLASSES[key]
        if count > MAX_SYNTHETIC_SAMPLES:
            raise ConfigError(f"data.samples: {count} is too many; synthetic datasets draw at most "
                              f"{MAX_SYNTHETIC_SAMPLES}")
        _check_samples_range(count, minimum, MAX_SYNTHETIC_SAMPLES, f"the synthetic '{key}' dataset")
        raw = _SYNTHETIC[key](count, noise, draw_seed)
    else:
        if key == "csv":
            raw = _read_csv(path, target, task)
        elif info.kind == "sklearn":
            raw = _load_sklearn(key)
        else:
            raw = _read_idx_folder(path, key)
        if samples is not None:
            raw = _subset(raw, samples, subset_seed, key)
    return _finish(key, raw, val_fraction, split_seed, samples is not None)


def describe_task(dataset: Dataset) -> str:
    """What the model learns, in words: ``regression on column y``, ``classification, 3 classes from
    column species``; an inferred task adds `` (inferred; set data.task to override)``."""
    column = f" column {dataset.target_name}" if dataset.target_name else ""
    if dataset.task == CLASSIFICATION:
        text = f"classification, {dataset.num_classes} classes" + (f" from{column}" if column else "")
    else:
        text = "regression" + (f" on{column}" if column else "")
    return text + (" (inferred; set data.task to override)" if dataset.task_inferred else "")


# ---- argument checks ---------------------------------------------------------------------------------


def _check_name(name: Any) -> str:
    if not isinstance(name, str):
        raise ConfigError(f"data.name: expected a dataset name, got {name!r}")
    key = name.strip().lower().replace("-", "_")
    if key not in DATASETS:
        raise ConfigError(f"data.name: unknown dataset '{name}' (choose from: {', '.join(DATASETS)})")
    return key


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _is_real(value: Any) -> bool:
    numeric = isinstance(value, int | float | np.integer | np.floating)
    return numeric and not isinstance(value, bool | np.bool_)


def _check_val_fraction(value: Any) -> float:
    if not _is_real(value) or not 0.0 <= float(value) < 1.0:
        raise ConfigError(f"data.val_fraction: must be a number in [0, 1), got {value!r}")
    return float(value)


def _check_seed(value: Any) -> int:
    if not _is_int(value) or value < 0:
        raise ConfigError(f"train.seed: must be a non-negative integer, got {value!r}")
    return int(value)


def _check_noise(value: Any) -> float:
    if not _is_real(value) or not math.isfinite(float(value)) or float(value) < 0:
        raise ConfigError(f"data.noise: must be a finite number >= 0, got {value!r}")
    return float(value)


def _check_samples_type(value: Any) -> int | None:
    if value is None:
        return None
    if not _is_int(value) or value < 1:
        raise ConfigError(f"data.samples: must be a positive integer, got {value!r}")
    return int(value)


def _check_samples_range(samples: int, minimum: int, maximum: int, source: str) -> None:
    if samples < minimum:
        raise ConfigError(f"data.samples: {samples} is too few for {source}; use at least {minimum}")
    if samples > maximum:
        raise ConfigError(f"data.samples: {samples} is more than the {maximum} available in {source}")


def _check_task(value: Any, info: DatasetInfo) -> str | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "auto", "inferred")):
        return None
    task = value.strip().lower() if isinstance(value, str) else value
    if task not in (CLASSIFICATION, REGRESSION):
        raise ConfigError(f"data.task: must be '{CLASSIFICATION}' or '{REGRESSION}' (or 'auto'), "
                          f"got {value!r}")
    if info.task != "inferred" and task != info.task:
        raise ConfigError(f"data.task: '{info.name}' is a {info.task} dataset, not {task}")
    return task


# ---- synthetic ---------------------------------------------------------------------------------------


def _moons(n: int, noise: float, seed: int) -> _Raw:
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=n, noise=noise, random_state=seed)
    return _two_d(x, y, 2)


def _circles(n: int, noise: float, seed: int) -> _Raw:
    from sklearn.datasets import make_circles

    x, y = make_circles(n_samples=n, noise=noise, factor=0.5, random_state=seed)
    return _two_d(x, y, 2)


def _blobs(n: int, noise: float, seed: int) -> _Raw:
    from sklearn.datasets import make_blobs

    x, y = make_blobs(n_samples=n, centers=np.array(BLOB_CENTRES), cluster_std=noise, random_state=seed)
    return _two_d(x, y, 3)


def _spirals(n: int, noise: float, seed: int) -> _Raw:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    # sqrt spreads the points evenly along the arm (arc length grows with the square of the angle)
    t = np.sqrt(rng.random(n)) * SPIRAL_TURNS * 2 * np.pi
    radius = t / (SPIRAL_TURNS * 2 * np.pi)
    angle = t + np.pi * y  # the second arm is the first turned by half a turn
    x = np.column_stack((radius * np.cos(angle), radius * np.sin(angle)))
    x += noise * rng.standard_normal(x.shape)
    order = rng.permutation(n)
    return _two_d(x[order], y[order], 2)


def _two_d(x: np.ndarray, y: np.ndarray, classes: int) -> _Raw:
    return _Raw(np.asarray(x, np.float64), np.asarray(y, np.int64), CLASSIFICATION, classes,
                ("x1", "x2"), tuple(str(c) for c in range(classes)))


def _linear(n: int, noise: float, seed: int) -> _Raw:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3.0, 3.0, n)
    return _one_d(x, LINEAR_SLOPE * x + LINEAR_INTERCEPT + noise * rng.standard_normal(n))


def _sine(n: int, noise: float, seed: int) -> _Raw:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-SINE_PERIODS * np.pi, SINE_PERIODS * np.pi, n)
    return _one_d(x, np.sin(x) + noise * rng.standard_normal(n))


def _one_d(x: np.ndarray, y: np.ndarray) -> _Raw:
    return _Raw(x[:, None], y[:, None], REGRESSION, 0, ("x",), ())


_SYNTHETIC = {"moons": _moons, "circles": _circles, "spirals": _spirals, "blobs": _blobs,
              "linear": _linear, "sine": _sine}
_SYNTHETIC_CLASSES = {"moons": 2, "circles": 2, "spirals": 2, "blobs": 3}


# ---- scikit-learn's bundled datasets -------------------------------------------------------------------


def _load_sklearn(key: str) -> _Raw:
    from sklearn import datasets

    if key == "digits":
        bunch = datasets.load_digits()
        images = np.asarray(bunch.images, np.uint8)[:, None]  # values 0..16
        return _Raw(images, np.asarray(bunch.target, np.int64), CLASSIFICATION, 10, ("pixels",),
                    DIGIT_CLASSES, pixel_scale=16.0)
    bunch = datasets.load_iris() if key == "iris" else datasets.load_breast_cancer()
    return _Raw(np.asarray(bunch.data, np.float64), np.asarray(bunch.target, np.int64), CLASSIFICATION,
                len(bunch.target_names), tuple(str(f) for f in bunch.feature_names),
                tuple(str(c) for c in bunch.target_names))


# ---- CSV files -------------------------------------------------------------------------------------------


def _existing(path: Any, *, folder: bool) -> Path:
    if not isinstance(path, str | Path):
        raise ConfigError(f"data.path: expected a path, got {path!r}")
    location = Path(path).expanduser()
    if folder:
        if not location.exists():
            raise ConfigError(f"data.path: no folder '{location}'")
        if not location.is_dir():
            raise ConfigError(f"data.path: '{location}' is a file; give the folder that holds the IDX files")
    else:
        if not location.exists():
            raise ConfigError(f"data.path: no file '{location}'")
        if not location.is_file():
            raise ConfigError(f"data.path: '{location}' is not a file")
    return location


def _read_csv(path: Any, target: Any, task: str | None) -> _Raw:
    file = _existing(path, folder=False)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(f"data.path: '{file}' is not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise ConfigError(f"data.path: cannot read '{file}': {error.strerror or error}") from None
    plain = _plain_numbers(text, target, task, file)
    if plain is not None:
        return plain
    # a list per row: tens of thousands of new objects, enough to set off full collections that
    # stall every thread (the GUI's included) for 100-200 ms each
    with collector_paused():
        return _parse_csv_rows(text, target, task, file)


def _plain_numbers(text: str, target: Any, task: str | None, file: Path) -> _Raw | None:
    """A file of plain numbers under its header, as most are, parsed by numpy in C: 33 ms for 60,000
    rows where the row reader takes 184 ms of Python, which a GUI worker shares with the window
    (each of the window's calls into Qt then waits for the GIL: 200-330 ms frozen while a config
    loaded). The same numbers come out (numpy and ``float`` parse alike). None for anything else
    (text labels, quotes, blank cells, a value out of range): the row reader then parses the file
    and names whatever is wrong."""
    first = _header_line(text)
    if not first:
        return None
    delimiter = _delimiter(first)
    header = _header_names(next(csv.reader([first], delimiter=delimiter)))
    body = text[text.index(first) + len(first):]  # lines before the header are blank
    try:
        t = _target_column(target, header, file)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # numpy only warns of a file without data rows
            table = np.concatenate([_numbers_of(piece, delimiter, len(header)) for piece in _pieces(body)])
    except (ValueError, ConfigError, UserWarning):
        return None
    features = [i for i in range(len(header)) if i != t]
    if (not features or table.shape[0] == 0  # _numbers_of saw to the width
            or not np.isfinite(table).all() or np.abs(table[:, features]).max() > FLOAT32_MAX):
        return None
    try:
        y, found_task, classes = _numeric_targets(table[:, t], task, header[t], file,
                                                  cell_at=lambda row: (0, ""))  # refused: re-read
    except ConfigError:
        return None
    return _Raw(np.ascontiguousarray(table[:, features]), y, found_task, len(classes),
                tuple(header[i] for i in features), classes, target_name=header[t],
                task_inferred=task is None)


PARSE_PIECE_CHARS = 1 << 17  # whole lines of about this many characters go to numpy per call


def _pieces(body: str) -> list[str]:
    """``body`` cut after a line end every PARSE_PIECE_CHARS or so: each numpy call holds the GIL
    for 1-2 ms, so the window's thread gets it back between two (one 60,000-row call held it 30 ms)."""
    pieces, start = [], 0
    while start < len(body):
        end = body.find("\n", start + PARSE_PIECE_CHARS)
        end = len(body) if end < 0 else end + 1
        pieces.append(body[start:end])
        start = end
    return pieces or [body]


def _numbers_of(piece: str, delimiter: str, columns: int) -> np.ndarray:
    table = np.loadtxt(io.StringIO(piece), delimiter=delimiter, dtype=np.float64, ndmin=2, comments=None)
    if table.shape[1] != columns:
        raise ValueError(f"{table.shape[1]} columns, the header has {columns}")
    return table


def _parse_csv_rows(text: str, target: Any, task: str | None, file: Path) -> _Raw:
    header, rows, lines = _csv_rows(text, file)
    t = _target_column(target, header, file)
    features = [i for i in range(len(header)) if i != t]
    if not features:
        raise ConfigError(f"data.path: '{file}' has only the target column '{header[t]}'; "
                          "it needs at least one feature column")
    x = _numeric_columns(rows, lines, features, header, file)
    y, found_task, classes = _target_values([row[t] for row in rows], lines, header[t], task, file)
    return _Raw(x, y, found_task, len(classes), tuple(header[i] for i in features), classes,
                target_name=header[t], task_inferred=task is None)


def _csv_rows(text: str, file: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, data rows and each row's line number; blank lines are skipped."""
    first = _header_line(text)
    if not first:
        raise ConfigError(f"data.path: '{file}' is empty (expected a header row, then one row per sample)")
    delimiter = _delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows, lines = [], []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append(row)
                lines.append(reader.line_num)
    except csv.Error as error:
        raise ConfigError(f"data.path: '{file}' line {reader.line_num}: malformed CSV ({error})") from None
    header = _header_names(rows[0])
    if len(rows) < 2:
        raise ConfigError(f"data.path: '{file}' has a header row but no data rows")
    for row, line in zip(rows[1:], lines[1:], strict=True):
        if len(row) != len(header):
            raise ConfigError(f"data.path: '{file}' line {line} has {len(row)} fields, "
                              f"the header has {len(header)}")
    return header, rows[1:], lines[1:]


def _header_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip()), "")


def _delimiter(header_line: str) -> str:
    """Whichever of , ; tab the header uses most (a one-column file: comma)."""
    return max(",;\t", key=header_line.count) if any(c in header_line for c in ",;\t") else ","


def _header_names(cells: list[str]) -> list[str]:
    return [cell.strip() or f"column {i + 1}" for i, cell in enumerate(cells)]


def _target_column(target: Any, header: list[str], file: Path) -> int:
    if target is None:
        return len(header) - 1
    if isinstance(target, str):
        wanted = target.strip()
        for same in (lambda name: name == wanted, lambda name: name.casefold() == wanted.casefold()):
            matches = [i for i, name in enumerate(header) if same(name)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise ConfigError(f"data.target: '{file}' has {len(matches)} columns named '{wanted}'; "
                                  "give the column's index instead")
        try:
            target = int(wanted)
        except ValueError:
            raise ConfigError(f"data.target: no column '{wanted}' in '{file}' "
                              f"(columns: {', '.join(header)})") from None
    if not _is_int(target):
        raise ConfigError(f"data.target: expected a column name or index, got {target!r}")
    if not -len(header) <= target < len(header):
        raise ConfigError(f"data.target: column index {target} is out of range; '{file}' has "
                          f"{len(header)} columns (0..{len(header) - 1}, or -{len(header)}..-1)")
    return int(target) % len(header)


CONVERT_ROWS = 4096  # rows converted to numbers per call


def _numeric_columns(rows: list[list[str]], lines: list[int], columns: list[int], header: list[str],
                     file: Path) -> np.ndarray:
    cells = [[row[i] for i in columns] for row in rows]
    try:  # fast path; on any failure, find the first bad cell for the message
        # in chunks: the GUI loads files in a worker thread, and one conversion of 60,000 rows held
        # the GIL (so the window) for 40 ms
        x = np.concatenate([np.array(cells[i:i + CONVERT_ROWS], dtype=np.float64).reshape(-1, len(columns))
                            for i in range(0, len(cells), CONVERT_ROWS)])
        if x.size == 0 or np.abs(x).max() <= FLOAT32_MAX:  # NaN compares False: the slow path names it
            return x
    except ValueError:
        pass
    x = np.empty((len(rows), len(columns)))
    for r, (row, line) in enumerate(zip(cells, lines, strict=True)):
        for c, cell in enumerate(row):
            x[r, c] = _number(cell, f"column '{header[columns[c]]}'", line, file)
    return x


def _number(cell: str, where: str, line: int, file: Path) -> float:
    if not cell.strip():
        raise ConfigError(f"data.path: '{file}' line {line}: empty cell in {where}")
    try:
        value = float(cell)
    except ValueError:
        raise ConfigError(f"data.path: '{file}' line {line}: {where} is not a number: {cell.strip()!r} "
                          "(features must be numeric)") from None
    if not math.isfinite(value):
        raise ConfigError(f"data.path: '{file}' line {line}: {where} holds {cell.strip()!r}; "
                          "every cell must be a finite number")
    if abs(value) > FLOAT32_MAX:
        raise ConfigError(f"data.path: '{file}' line {line}: {where} holds {cell.strip()}, beyond "
                          f"float32's range (±{FLOAT32_MAX:.3g}) that training computes in")
    return value


def _target_values(cells: list[str], lines: list[int], name: str, task: str | None,
                   file: Path) -> tuple[np.ndarray, str, tuple[str, ...]]:
    """Targets, the task, and the class names (sorted; numeric labels in numeric order)."""
    labels = [cell.strip() for cell in cells]
    numbers = []
    for label, line in zip(labels, lines, strict=True):
        if not label:
            raise ConfigError(f"data.path: '{file}' line {line}: empty cell in target column '{name}'")
        try:
            value = float(label)
        except ValueError:
            if task == REGRESSION:
                raise ConfigError(f"data.task: regression needs a numeric target, but column '{name}' "
                                  f"holds {label!r} on line {line} of '{file}'") from None
            numbers = None
            continue
        if not math.isfinite(value):
            raise ConfigError(f"data.path: '{file}' line {line}: target column '{name}' holds {label!r}; "
                              "remove rows with a missing target")
        if numbers is not None:
            numbers.append(value)
    if numbers is not None:
        return _numeric_targets(np.array(numbers, np.float64), task, name, file,
                                cell_at=lambda row: (lines[row], labels[row]))
    if task is None:
        task = CLASSIFICATION
    keys, y = np.unique(np.array(labels), return_inverse=True)
    return _classes(y, tuple(str(k) for k in keys), name, file)


def _numeric_targets(values: np.ndarray, task: str | None, name: str, file: Path,
                     cell_at) -> tuple[np.ndarray, str, tuple[str, ...]]:
    """Finite numeric targets: regression values, or classes in numeric order. ``cell_at(row)``
    gives the line and text of a row's target, for the message that refuses it."""
    if task is None:
        task = CLASSIFICATION if _look_like_classes(values) else REGRESSION
    if task == REGRESSION:
        _check_regression_targets(values, name, file, cell_at)
        return values[:, None], REGRESSION, ()
    keys, y = np.unique(values, return_inverse=True)
    return _classes(y, tuple(str(int(k)) if k == round(k) else repr(float(k)) for k in keys), name, file)


def _classes(y: np.ndarray, classes: tuple[str, ...], name: str,
             file: Path) -> tuple[np.ndarray, str, tuple[str, ...]]:
    if len(classes) < 2:
        raise ConfigError(f"data.target: column '{name}' of '{file}' holds a single class ({classes[0]!r}); "
                          "classification needs at least 2")
    return y.astype(np.int64), CLASSIFICATION, classes


def _look_like_classes(values: np.ndarray) -> bool:
    """The inference rule of the module docstring: integers, few distinct values, two rows per value."""
    if not np.all(values == np.round(values)):
        return False
    return len(np.unique(values)) <= min(MAX_INFERRED_CLASSES, len(values) // 2)


def _check_regression_targets(values: np.ndarray, name: str, file: Path, cell_at) -> None:
    values = np.abs(values)
    if len(values) and values.max() > REGRESSION_TARGET_LIMIT:
        line, label = cell_at(int(np.argmax(values)))
        raise ConfigError(f"data.path: '{file}' line {line}: target column '{name}' holds "
                          f"{label}; a regression target beyond ±{REGRESSION_TARGET_LIMIT:.3g} "
                          "overflows its squared error in float32 (rescale the column)")


# ---- IDX files (MNIST, Fashion-MNIST) -------------------------------------------------------------------


def _read_idx_folder(path: Any, key: str) -> _Raw:
    folder = _existing(path, folder=True).resolve()  # messages show where exactly the files go
    train = [_find_idx(folder, stem) for stem in IDX_TRAIN]
    test = [_find_idx(folder, stem) for stem in IDX_TEST]
    if None in train:
        missing = [stem for stem, found in zip(IDX_TRAIN, train, strict=True) if found is None]
        raise ConfigError(
            f"data.path: {' and '.join(missing)} not found in '{folder}'. Put {IDX_TRAIN[0]} and "
            f"{IDX_TRAIN[1]} (each may end in .gz) in that folder, and {IDX_TEST[0]} and {IDX_TEST[1]} "
            "too to validate on the test set")
    if (test[0] is None) != (test[1] is None):
        have, lack = (IDX_TEST[0], IDX_TEST[1]) if test[1] is None else (IDX_TEST[1], IDX_TEST[0])
        raise ConfigError(f"data.path: '{folder}' has {have} but not {lack}; put both (or neither) there")
    x, y = _idx_pair(train[0], train[1])
    classes = FASHION_MNIST_CLASSES if key == "fashion_mnist" else DIGIT_CLASSES
    raw = _Raw(x[:, None], y, CLASSIFICATION, 10, ("pixels",), classes, pixel_scale=255.0)
    if test[0] is not None:
        x_val, y_val = _idx_pair(test[0], test[1])
        if x_val.shape[1:] != x.shape[1:]:
            raise ConfigError(f"data.path: {test[0].name} holds {x_val.shape[1]}×{x_val.shape[2]} images, "
                              f"{train[0].name} {x.shape[1]}×{x.shape[2]}; they must match")
        raw.x_val, raw.y_val = x_val[:, None], y_val
    return raw


def _find_idx(folder: Path, stem: str) -> Path | None:
    # Some mirrors spell the names with a dot (train-images.idx3-ubyte); accept both.
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def _idx_pair(images_file: Path, labels_file: Path) -> tuple[np.ndarray, np.ndarray]:
    images = _read_idx(images_file, IDX_IMAGES_MAGIC, "images")
    labels = _read_idx(labels_file, IDX_LABELS_MAGIC, "labels")
    if len(images) != len(labels):
        raise ConfigError(f"data.path: {images_file.name} has {len(images)} images but {labels_file.name} "
                          f"has {len(labels)} labels")
    if len(labels) and labels.max() > 9:
        raise ConfigError(f"data.path: {labels_file.name} holds label {int(labels.max())}; expected 0..9")
    return images, labels.astype(np.int64)


def _read_idx(file: Path, magic: int, what: str) -> np.ndarray:
    """An IDX file of unsigned bytes: big-endian magic, one uint32 per dimension, then the data."""
    try:
        data = file.read_bytes()
        if file.suffix == ".gz":
            data = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
        raise ConfigError(f"data.path: cannot read '{file}': {error}") from None
    ndim = magic & 0xFF
    if len(data) < 4 + 4 * ndim:
        raise ConfigError(f"data.path: '{file}' is truncated ({len(data)} bytes; an IDX {what} header "
                          f"alone takes {4 + 4 * ndim})")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise ConfigError(f"data.path: '{file}' is not an IDX {what} file (magic number 0x{found:08X}, "
                          f"expected 0x{magic:08X})")
    dims = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, 4))
    if 0 in dims:  # nothing to train on (no samples, or 0-pixel images), however consistent
        raise ConfigError(f"data.path: '{file}' declares {'×'.join(map(str, dims))} {what}; "
                          "every dimension must be at least 1")
    size = math.prod(dims)  # compared with the bytes present before anything of that size is made
    body = len(data) - 4 - 4 * ndim
    if body != size:
        shape = "×".join(map(str, dims))
        problem = "is truncated" if body < size else "has extra bytes"
        raise ConfigError(f"data.path: '{file}' {problem}: its header declares {shape} = {size} bytes of "
                          f"{what}, the file holds {body}")
    return np.frombuffer(data, np.uint8, size, 4 + 4 * ndim).reshape(dims)


# ---- subset, split, normalise --------------------------------------------------------------------------


def _subset(raw: _Raw, samples: int, seed: int, key: str) -> _Raw:
    minimum = 2 * raw.num_classes if raw.task == CLASSIFICATION else 2
    full = len(raw.x)
    _check_samples_range(samples, minimum, full, f"'{key}'")
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(full, samples, replace=False))
    raw.x, raw.y = raw.x[keep], raw.y[keep]
    if raw.x_val is not None and len(raw.x_val):  # shrink the given validation set in proportion
        count = min(len(raw.x_val), max(1, round(len(raw.x_val) * samples / full)))
        keep = np.sort(rng.choice(len(raw.x_val), count, replace=False))
        raw.x_val, raw.y_val = raw.x_val[keep], raw.y_val[keep]
    return raw


def _finish(key: str, raw: _Raw, val_fraction: float, seed: int, subsetted: bool) -> Dataset:
    if raw.x_val is None:
        x_train, x_val, y_train, y_val = _split(raw, val_fraction, seed, subsetted)
    else:
        x_train, x_val, y_train, y_val = raw.x, raw.x_val, raw.y, raw.y_val
    if raw.pixel_scale is None:
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    else:
        mean, std = _pixel_stats(x_train, raw.pixel_scale)
    # A constant column has std 0, or a rounding speck of it (its mean is not exactly representable)
    std = np.where(std > 1e-10 * np.abs(mean), std, 1.0)
    if raw.task == CLASSIFICATION:
        y_train, y_val = y_train.astype(np.int64), y_val.astype(np.int64)
    else:
        y_train, y_val = y_train.astype(np.float32), y_val.astype(np.float32)
    return Dataset(name=key, task=raw.task,
                   x_train=_normalise(x_train, mean, std, raw.pixel_scale),
                   y_train=np.ascontiguousarray(y_train),
                   x_val=_normalise(x_val, mean, std, raw.pixel_scale),
                   y_val=np.ascontiguousarray(y_val),
                   num_classes=raw.num_classes if raw.task == CLASSIFICATION else 0,
                   feature_names=raw.feature_names, class_names=raw.class_names,
                   x_mean=np.asarray(mean, np.float32), x_std=np.asarray(std, np.float32),
                   target_name=raw.target_name, task_inferred=raw.task_inferred)


def _split(raw: _Raw, val_fraction: float, seed: int, subsetted: bool):
    n = len(raw.x)
    n_val = math.ceil(val_fraction * n)  # as train_test_split rounds a fractional test_size
    if n - n_val < 2:
        key = "data.samples" if subsetted else "data.val_fraction"
        raise ConfigError(f"{key}: too few samples for a split: {n} samples with val_fraction "
                          f"{val_fraction:g} leave {n - n_val} for training (need at least 2)")
    if n_val == 0:
        order = np.random.default_rng(seed).permutation(n)
        return raw.x[order], raw.x[:0], raw.y[order], raw.y[:0]
    from sklearn.model_selection import train_test_split

    stratify = None
    if raw.task == CLASSIFICATION:
        counts = np.bincount(raw.y)
        present = int(np.count_nonzero(counts))
        # train_test_split refuses to stratify when a part cannot hold one member of every class
        if counts[counts > 0].min() >= 2 and min(n_val, n - n_val) >= present:
            stratify = raw.y
    return train_test_split(raw.x, raw.y, test_size=n_val, random_state=seed, stratify=stratify)


def _pixel_stats(images: np.ndarray, scale: float) -> tuple[float, float]:
    """Exact mean and std of the scaled pixels, from a histogram of the integer values."""
    counts = np.bincount(images.ravel(), minlength=256).astype(np.float64)
    values = np.arange(len(counts)) / scale
    total = counts.sum()
    mean = float(counts @ values / total)
    return mean, math.sqrt(max(float(counts @ (values - mean) ** 2 / total), 0.0))


def _normalise(x: np.ndarray, mean, std, pixel_scale: float | None) -> np.ndarray:
    if pixel_scale is None:
        return np.ascontiguousarray((x - mean) / std, dtype=np.float32)
    out = x.astype(np.float32)  # (x / scale - mean) / std, in place on a float32 copy
    out *= np.float32(1.0 / (pixel_scale * float(std)))
    out -= np.float32(float(mean) / float(std))
    return np.ascontiguousarray(out)
