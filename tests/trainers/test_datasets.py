"""Datasets: shapes, dtypes, seeded splits, train-only normalisation, CSV and IDX files, clear errors."""

import gzip
import math

import numpy as np
import pytest

from trainers.datasets import (
    DATASETS,
    DEFAULT_NOISE,
    FASHION_MNIST_CLASSES,
    IDX_IMAGES_MAGIC,
    IDX_LABELS_MAGIC,
    LINEAR_INTERCEPT,
    LINEAR_SLOPE,
    SPIRAL_TURNS,
    Dataset,
    describe_task,
    load_dataset,
)
from trainers.errors import ConfigError

ARRAYS = ("x_train", "y_train", "x_val", "y_val")

# name -> (task, per-sample input shape, num_classes, total samples with default arguments)
BUILT_IN = {
    "moons": ("classification", (2,), 2, 1000),
    "circles": ("classification", (2,), 2, 1000),
    "spirals": ("classification", (2,), 2, 1000),
    "blobs": ("classification", (2,), 3, 1000),
    "linear": ("regression", (1,), 0, 1000),
    "sine": ("regression", (1,), 0, 1000),
    "digits": ("classification", (1, 8, 8), 10, 1797),
    "breast_cancer": ("classification", (30,), 2, 569),
    "iris": ("classification", (4,), 3, 150),
}


def _real_units(data: Dataset, x: np.ndarray) -> np.ndarray:
    return x.astype(np.float64) * data.x_std + data.x_mean


# ---- the registry and the built-in datasets ----------------------------------------------------------


def test_registry_describes_every_dataset():
    assert set(DATASETS) == set(BUILT_IN) | {"csv", "mnist", "fashion_mnist"}
    for name, info in DATASETS.items():
        assert info.name == name and info.help
        assert info.kind in ("synthetic", "sklearn", "file")
        assert info.task in ("classification", "regression", "inferred")
    assert set(DEFAULT_NOISE) == {n for n, i in DATASETS.items() if i.kind == "synthetic"}
    assert all(v >= 0 for v in DEFAULT_NOISE.values())
    assert DATASETS["csv"].task == "inferred"


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_built_in_dataset_shapes_dtypes_and_classes(name):
    task, shape, classes, total = BUILT_IN[name]
    data = load_dataset(name)
    assert (data.name, data.task, data.num_classes, data.input_shape) == (name, task, classes, shape)
    assert data.is_image == (len(shape) == 3)
    assert len(data.x_train) + len(data.x_val) == total
    assert len(data.x_val) == math.ceil(0.2 * total)
    assert data.x_train.dtype == data.x_val.dtype == np.float32
    assert data.x_val.shape[1:] == shape
    assert np.isfinite(data.x_train).all() and np.isfinite(data.x_val).all()
    if task == "classification":
        assert data.y_train.dtype == data.y_val.dtype == np.int64
        assert data.y_train.shape == (len(data.x_train),)
        assert len(data.class_names) == classes == data.output_size
        assert set(np.unique(data.y_train)) == set(range(classes))  # every class reaches training
    else:
        assert data.y_train.dtype == data.y_val.dtype == np.float32
        assert data.y_train.shape == (len(data.x_train), 1)
        assert data.class_names == () and data.output_size == 1
    for array in (getattr(data, a) for a in ARRAYS):
        assert array.flags.c_contiguous


def test_names_are_case_insensitive_and_take_hyphens():
    assert load_dataset("  IRIS ").name == "iris"
    assert load_dataset("Breast-Cancer").name == "breast_cancer"


def test_class_names():
    assert load_dataset("digits").class_names == tuple("0123456789")
    assert load_dataset("iris").class_names == ("setosa", "versicolor", "virginica")
    assert load_dataset("blobs").class_names == ("0", "1", "2")


@pytest.mark.parametrize("name", ["moons", "spirals", "sine", "digits", "iris"])
def test_same_seed_same_bits_other_seed_other_data(name):
    a, b = load_dataset(name, seed=3), load_dataset(name, seed=3)
    for field in ARRAYS:
        assert getattr(a, field).tobytes() == getattr(b, field).tobytes(), field
    c = load_dataset(name, seed=4)
    assert a.x_train.tobytes() != c.x_train.tobytes()


def test_samples_and_noise_change_synthetic_data():
    assert len(load_dataset("moons", samples=50, val_fraction=0.2).x_train) == 40
    quiet, noisy = load_dataset("moons", noise=0.0), load_dataset("moons", noise=0.5)
    assert not np.array_equal(quiet.x_train, noisy.x_train)


def test_samples_takes_a_seeded_subset_of_a_bundled_dataset():
    data = load_dataset("digits", samples=200, val_fraction=0.25)
    assert (len(data.x_train), len(data.x_val)) == (150, 50)
    assert load_dataset("digits", samples=200, seed=1).x_train.tobytes() != \
        load_dataset("digits", samples=200, seed=2).x_train.tobytes()


def test_tabular_features_are_standardised_with_train_statistics_only():
    data = load_dataset("breast_cancer", val_fraction=0.4)
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(data.x_train.std(axis=0), 1, atol=1e-4)
    # the validation part, scaled with the train statistics, is not itself centred exactly
    assert np.abs(data.x_val.mean(axis=0)).max() > 1e-3
    raw = np.concatenate([_real_units(data, data.x_train), _real_units(data, data.x_val)])
    from sklearn.datasets import load_breast_cancer

    original = load_breast_cancer().data
    assert np.allclose(np.sort(raw, axis=0), np.sort(original, axis=0), rtol=1e-5, atol=1e-5)


def test_images_are_scaled_then_normalised_by_train_scalars():
    data = load_dataset("digits")
    assert data.x_mean.shape == data.x_std.shape == ()
    assert abs(float(data.x_train.mean())) < 1e-5
    assert abs(float(data.x_train.std()) - 1) < 1e-4
    pixels = _real_units(data, data.x_val)
    assert pixels.min() == pytest.approx(0, abs=1e-5) and pixels.max() == pytest.approx(1, abs=1e-5)
    np.testing.assert_allclose(pixels * 16, np.round(pixels * 16), atol=1e-4)  # the original 0..16 levels


def test_stratified_split_keeps_class_proportions():
    iris = load_dataset("iris", val_fraction=0.2)
    assert np.bincount(iris.y_val).tolist() == [10, 10, 10]
    assert np.bincount(iris.y_train).tolist() == [40, 40, 40]
    cancer = load_dataset("breast_cancer", val_fraction=0.3, seed=5)
    whole = np.bincount(np.concatenate([cancer.y_train, cancer.y_val])) / 569
    np.testing.assert_allclose(np.bincount(cancer.y_val) / len(cancer.y_val), whole, atol=0.01)


@pytest.mark.parametrize("name, shape", [("moons", (0, 2)), ("digits", (0, 1, 8, 8)), ("linear", (0, 1))])
def test_zero_val_fraction_gives_empty_validation_arrays(name, shape):
    data = load_dataset(name, val_fraction=0)
    assert data.x_val.shape == shape and data.x_val.dtype == np.float32
    assert len(data.y_val) == 0 and data.y_val.shape[1:] == data.y_train.shape[1:]
    assert len(data.x_train) == BUILT_IN[name][3]


def test_regression_targets_stay_in_real_units():
    linear = load_dataset("linear", noise=0.0)
    x = _real_units(linear, linear.x_train)
    np.testing.assert_allclose(linear.y_train, LINEAR_SLOPE * x + LINEAR_INTERCEPT, atol=1e-4)
    assert x.min() >= -3 - 1e-5 and x.max() <= 3 + 1e-5
    sine = load_dataset("sine", noise=0.0)
    x = _real_units(sine, sine.x_val)
    np.testing.assert_allclose(sine.y_val, np.sin(x), atol=1e-4)
    assert x.max() - x.min() > 3 * np.pi  # about two periods


def test_spirals_are_two_archimedean_arms_half_a_turn_apart():
    data = load_dataset("spirals", noise=0.0, val_fraction=0)
    xy = _real_units(data, data.x_train)
    radius, angle = np.hypot(xy[:, 0], xy[:, 1]), np.arctan2(xy[:, 1], xy[:, 0])
    expected = radius * SPIRAL_TURNS * 2 * np.pi + np.pi * data.y_train
    gap = np.angle(np.exp(1j * (angle - expected)))  # wrapped to (-π, π]
    keep = radius > 0.05  # the centre's angle is ill-conditioned
    assert np.abs(gap[keep]).max() < 1e-3
    assert radius.max() <= 1 + 1e-5
    assert np.bincount(data.y_train).tolist() == [500, 500]


def test_circles_inner_at_half_the_radius():
    data = load_dataset("circles", noise=0.0, val_fraction=0)
    radius = np.hypot(*_real_units(data, data.x_train).T)
    np.testing.assert_allclose(radius[data.y_train == 0], 1.0, atol=1e-4)
    np.testing.assert_allclose(radius[data.y_train == 1], 0.5, atol=1e-4)


def test_blobs_sit_at_three_fixed_centres():
    data = load_dataset("blobs", noise=0.1, val_fraction=0)
    xy = _real_units(data, data.x_train)
    centres = np.array([xy[data.y_train == k].mean(axis=0) for k in range(3)])
    np.testing.assert_allclose(centres, [(-3, -2), (3, -2), (0, 3)], atol=0.05)


# ---- argument errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, key", [
    ({"name": "foo"}, "data.name"),
    ({"name": 3}, "data.name"),
    ({"name": "moons", "samples": 0}, "data.samples"),
    ({"name": "moons", "samples": 3}, "data.samples"),  # fewer than 2 per class
    ({"name": "moons", "samples": 2.5}, "data.samples"),
    ({"name": "moons", "samples": True}, "data.samples"),
    ({"name": "moons", "samples": 10**9}, "data.samples"),
    ({"name": "linear", "samples": 2}, "data.samples"),  # one left for training after the split
    ({"name": "digits", "samples": 5000}, "data.samples"),
    ({"name": "moons", "noise": -0.1}, "data.noise"),
    ({"name": "moons", "noise": float("nan")}, "data.noise"),
    ({"name": "iris", "noise": 0.1}, "data.noise"),
    ({"name": "moons", "val_fraction": 1.0}, "data.val_fraction"),
    ({"name": "moons", "val_fraction": -0.1}, "data.val_fraction"),
    ({"name": "moons", "val_fraction": "0.2"}, "data.val_fraction"),
    ({"name": "moons", "seed": -1}, "train.seed"),
    ({"name": "moons", "seed": 1.5}, "train.seed"),
    ({"name": "moons", "path": "data.csv"}, "data.path"),
    ({"name": "iris", "target": "species"}, "data.target"),
    ({"name": "moons", "task": "regression"}, "data.task"),
    ({"name": "moons", "task": "clustering"}, "data.task"),
    ({"name": "csv"}, "data.path"),
    ({"name": "mnist"}, "data.path"),
])
def test_bad_arguments_name_their_key(kwargs, key):
    with pytest.raises(ConfigError) as error:
        load_dataset(**kwargs)
    assert str(error.value).startswith(key + ":")


def test_unknown_dataset_lists_the_choices():
    with pytest.raises(ConfigError, match="unknown dataset 'foo'") as error:
        load_dataset("foo")
    for name in DATASETS:
        assert name in str(error.value)


def test_own_task_is_accepted():
    assert load_dataset("moons", task="classification").task == "classification"


# ---- CSV files -----------------------------------------------------------------------------------------


def _csv(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _rows(count, label):
    return "".join(f"{i},{(i * 7) % 5 - 1.5},{label(i)}\n" for i in range(count))


def test_csv_infers_classification_from_string_labels(tmp_path):
    path = _csv(tmp_path, "a,b,species\n" + _rows(30, lambda i: ("dog", "cat", "emu")[i % 3]))
    data = load_dataset("csv", path=path, val_fraction=0)
    assert data.task == "classification" and data.num_classes == 3
    assert data.class_names == ("cat", "dog", "emu")  # sorted
    assert data.feature_names == ("a", "b")
    a = _real_units(data, data.x_train)[:, 0].round().astype(int)  # column a holds the row number
    expected = np.array([(1, 0, 2)[i % 3] for i in a])  # dog -> 1, cat -> 0, emu -> 2
    np.testing.assert_array_equal(data.y_train, expected)


def test_csv_infers_classification_from_few_integer_labels_in_numeric_order(tmp_path):
    path = _csv(tmp_path, "a,b,digit\n" + _rows(30, lambda i: (2, 10, 1)[i % 3]))
    data = load_dataset("csv", path=path)
    assert data.task == "classification" and data.class_names == ("1", "2", "10")


def test_csv_infers_regression_from_a_float_target(tmp_path):
    path = _csv(tmp_path, "a,b,price\n" + _rows(20, lambda i: i * 0.5 + 100))
    data = load_dataset("csv", path=path, val_fraction=0)
    assert data.task == "regression" and data.num_classes == 0 and data.class_names == ()
    assert data.y_train.shape == (20, 1) and data.y_train.dtype == np.float32
    a = _real_units(data, data.x_train)[:, 0]
    np.testing.assert_allclose(data.y_train[:, 0], a * 0.5 + 100, atol=1e-4)  # original units


def test_csv_many_integer_values_are_regression_unless_told(tmp_path):
    path = _csv(tmp_path, "a,b,count\n" + _rows(40, lambda i: i))
    assert load_dataset("csv", path=path).task == "regression"
    assert load_dataset("csv", path=path, task="classification").num_classes == 40
    twenty = _csv(tmp_path, "a,b,c\n" + _rows(40, lambda i: i % 20), name="twenty.csv")
    assert load_dataset("csv", path=twenty).num_classes == 20
    twenty_one = _csv(tmp_path, "a,b,c\n" + _rows(42, lambda i: i % 21), name="twenty_one.csv")
    assert load_dataset("csv", path=twenty_one).task == "regression"
    few = _csv(tmp_path, "a,b,c\n" + _rows(20, lambda i: i % 2), name="few.csv")
    assert load_dataset("csv", path=few, task="regression").task == "regression"
    assert load_dataset("csv", path=few, task="auto").task == "classification"


def test_csv_integer_targets_are_classes_only_with_two_rows_per_value(tmp_path):
    tutorial = _csv(tmp_path, "x,y\n1,2\n2,4\n3,6\n4,8\n")  # y = 2x: every value distinct
    data = load_dataset("csv", path=tutorial, val_fraction=0)
    assert (data.task, data.target_name, data.task_inferred) == ("regression", "y", True)
    assert describe_task(data) == "regression on column y (inferred; set data.task to override)"
    told = load_dataset("csv", path=tutorial, task="classification", val_fraction=0)
    assert describe_task(told) == "classification, 4 classes from column y"
    pairs = _csv(tmp_path, "x,label\n1,0\n2,1\n3,0\n4,1\n", name="pairs.csv")
    assert describe_task(load_dataset("csv", path=pairs, val_fraction=0)) == \
        "classification, 2 classes from column label (inferred; set data.task to override)"
    halves = _csv(tmp_path, "x,y\n" + "".join(f"{i},{i // 2}\n" for i in range(12)), name="halves.csv")
    assert load_dataset("csv", path=halves).num_classes == 6  # 6 values over 12 rows: classes
    thirds = _csv(tmp_path, "x,y\n" + "".join(f"{i},{i // 2}\n" for i in range(11)), name="thirds.csv")
    assert load_dataset("csv", path=thirds).task == "regression"  # 6 values over 11 rows: fewer than 2 each
    assert describe_task(load_dataset("iris")) == "classification, 3 classes"
    assert describe_task(load_dataset("sine", samples=10)) == "regression"


@pytest.mark.parametrize("target", ["a", "A", 0, -3, "0"])
def test_csv_target_by_name_or_index(tmp_path, target):
    path = _csv(tmp_path, "a,b,c\n" + _rows(25, lambda i: i % 2))
    data = load_dataset("csv", path=path, target=target, val_fraction=0)
    assert data.feature_names == ("b", "c")
    assert data.task == "regression"  # column a holds 25 distinct integers: more than 20
    np.testing.assert_array_equal(np.sort(data.y_train[:, 0]), np.arange(25))


def test_csv_features_standardised_with_train_statistics(tmp_path):
    path = _csv(tmp_path, "a,b,y\n" + _rows(40, lambda i: i % 2))
    data = load_dataset("csv", path=path, val_fraction=0.25)
    train_a = _real_units(data, data.x_train)[:, 0]
    np.testing.assert_allclose(train_a, np.round(train_a), atol=1e-4)  # recovers the raw rows
    assert data.x_mean[0] == pytest.approx(train_a.mean(), abs=1e-4)  # not the mean of all 40 rows
    assert data.x_mean[0] != pytest.approx(19.5, abs=1e-3)


def test_csv_constant_column_is_not_blown_up(tmp_path):
    path = _csv(tmp_path, "k,b,y\n" + "".join(f"0.1,{i},{i % 2}\n" for i in range(20)))
    data = load_dataset("csv", path=path)
    np.testing.assert_allclose(data.x_train[:, 0], 0, atol=1e-6)


def test_csv_semicolons_quotes_blank_lines_and_bom(tmp_path):
    text = "\ufeffx;\"y label\"\n\n1;a\n2;b\n\n3;a\n4;b\n"
    data = load_dataset("csv", path=_csv(tmp_path, text), val_fraction=0)
    assert data.feature_names == ("x",) and data.class_names == ("a", "b")


def test_csv_class_with_one_member_falls_back_to_an_unstratified_split(tmp_path):
    path = _csv(tmp_path, "a,b,y\n" + _rows(20, lambda i: "rare" if i == 0 else ("p", "q")[i % 2]))
    data = load_dataset("csv", path=path)
    assert len(data.x_train) + len(data.x_val) == 20 and data.num_classes == 3


@pytest.mark.parametrize("text, kwargs, expected", [
    ("", {}, r"data\.path: .* is empty"),
    ("\n  \n", {}, r"data\.path: .* is empty"),
    ("a,b,y\n", {}, "no data rows"),
    ("a,b,y\n1,2,0\n1,x7,1\n", {}, r"line 3: column 'b' is not a number: 'x7'"),
    ("a,b,y\n1,2,0\n\n1,,1\n", {}, r"line 4: empty cell in column 'b'"),
    ("a,b,y\n1,nan,0\n1,2,1\n", {}, r"line 2: column 'b' holds 'nan'"),
    ("a,b,y\n1,2,0\n1,2\n", {}, "line 3 has 2 fields, the header has 3"),
    ("a,b,y\n1,2,0\n1,2,\n", {}, "line 3: empty cell in target column 'y'"),
    ("a,b,y\n1,2,0\n1,2,nan\n", {}, "line 3: target column 'y' holds 'nan'"),
    ("a,b,y\n1,2,0\n1,3,0\n", {}, r"data\.target: .* single class"),
    ("a,b,y\n1,2,0\n1,3,1\n", {"target": "zeta"}, r"data\.target: no column 'zeta' .*columns: a, b, y"),
    ("a,b,y\n1,2,0\n1,3,1\n", {"target": 3}, r"data\.target: column index 3 is out of range"),
    ("a,b,y\n1,2,0\n1,3,1\n", {"target": 1.5}, r"data\.target: expected a column name or index"),
    ("a,a,y\n1,2,0\n1,3,1\n", {"target": "a"}, r"data\.target: .* 2 columns named 'a'"),
    ("y\n0\n1\n", {}, "only the target column"),
    ("a,y\n1,cat\n2,dog\n", {"task": "regression"}, r"data\.task: regression needs a numeric target.*'cat' on line 2"),
    ('a,y\n1,"unclosed\n', {}, r"data\.path: .*(malformed|fields)"),
    # finite in float64, but training computes in float32
    ("a,b,y\n1,2,0\n1,1e308,1\n", {}, r"line 3: column 'b' holds 1e308, beyond float32's range"),
    ("a,b,y\n1,2,0\n-1e39,2,1\n", {}, r"line 3: column 'a' holds -1e39, beyond float32's range"),
    ("a,y\n1,2.5\n2,-1e30\n3,4.5\n", {}, r"line 3: target column 'y' holds -1e30; .* overflows its squared"),
])
def test_csv_errors_name_the_problem(tmp_path, text, kwargs, expected):
    with pytest.raises(ConfigError, match=expected):
        load_dataset("csv", path=_csv(tmp_path, text), **kwargs)


def test_csv_missing_file_directory_and_binary_file(tmp_path):
    with pytest.raises(ConfigError, match=r"data\.path: no file '.*nope\.csv'"):
        load_dataset("csv", path=str(tmp_path / "nope.csv"))
    with pytest.raises(ConfigError, match=r"data\.path: .* is not a file"):
        load_dataset("csv", path=str(tmp_path))
    (tmp_path / "bin.csv").write_bytes(b"a,b\n\xff\xfe\x00\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_dataset("csv", path=str(tmp_path / "bin.csv"))


def test_csv_too_few_rows_for_a_split(tmp_path):
    path = _csv(tmp_path, "a,y\n1,0.5\n2,0.7\n")
    with pytest.raises(ConfigError, match=r"data\.val_fraction: too few samples"):
        load_dataset("csv", path=path, val_fraction=0.5)
    assert len(load_dataset("csv", path=path, val_fraction=0).x_train) == 2


# ---- IDX files -----------------------------------------------------------------------------------------


def _idx(folder, name, magic, array, *, gz=False, cut=0, extra=b""):
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + np.ascontiguousarray(array, np.uint8).tobytes() + extra
    data = data[:len(data) - cut]
    path = folder / (name + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def _idx_set(folder, prefix, count, *, seed=0, gz=False, size=28):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, size, size), dtype=np.uint8)
    labels = (np.arange(count) % 10).astype(np.uint8)
    _idx(folder, f"{prefix}-images-idx3-ubyte", IDX_IMAGES_MAGIC, images, gz=gz)
    _idx(folder, f"{prefix}-labels-idx1-ubyte", IDX_LABELS_MAGIC, labels, gz=gz)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_without_test_files_splits_the_training_files(tmp_path, gz):
    _idx_set(tmp_path, "train", 40, gz=gz)
    data = load_dataset("mnist", path=str(tmp_path), val_fraction=0.25)
    assert data.is_image and data.input_shape == (1, 28, 28)
    assert (len(data.x_train), len(data.x_val)) == (30, 10)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert data.num_classes == 10 and data.class_names == tuple("0123456789")
    assert np.bincount(data.y_val, minlength=10).tolist() == [1] * 10  # stratified
    assert abs(float(data.x_train.mean())) < 1e-5 and abs(float(data.x_train.std()) - 1) < 1e-4


@pytest.mark.parametrize("gz", [False, True])
def test_fashion_mnist_with_test_files_validates_on_them(tmp_path, gz):
    images, labels = _idx_set(tmp_path, "train", 20, gz=gz)
    test_images, test_labels = _idx_set(tmp_path, "t10k", 10, seed=1, gz=not gz)  # mixed plain and .gz
    data = load_dataset("Fashion-MNIST", path=str(tmp_path), val_fraction=0.5)
    assert data.name == "fashion_mnist" and data.class_names == FASHION_MNIST_CLASSES
    assert data.class_names[0] == "T-shirt/top" and data.class_names[9] == "Ankle boot"
    assert (len(data.x_train), len(data.x_val)) == (20, 10)  # val_fraction unused
    np.testing.assert_array_equal(data.y_train, labels)
    np.testing.assert_array_equal(data.y_val, test_labels)
    np.testing.assert_allclose(_real_units(data, data.x_train)[:, 0], images / 255, atol=1e-5)
    np.testing.assert_allclose(_real_units(data, data.x_val)[:, 0], test_images / 255, atol=1e-5)
    pixels = images / 255  # normalised with the train files' statistics only
    assert float(data.x_mean) == pytest.approx(pixels.mean(), rel=1e-6)
    assert float(data.x_std) == pytest.approx(pixels.std(), rel=1e-6)


def test_idx_samples_shrink_the_test_files_in_proportion(tmp_path):
    _idx_set(tmp_path, "train", 40)
    _idx_set(tmp_path, "t10k", 20, seed=1)
    data = load_dataset("mnist", path=str(tmp_path), samples=20)
    assert (len(data.x_train), len(data.x_val)) == (20, 10)


def test_idx_dotted_names_and_other_image_sizes(tmp_path):
    rng = np.random.default_rng(0)
    _idx(tmp_path, "train-images.idx3-ubyte", IDX_IMAGES_MAGIC, rng.integers(0, 256, (20, 5, 7)))
    _idx(tmp_path, "train-labels.idx1-ubyte", IDX_LABELS_MAGIC, np.arange(20) % 10)
    assert load_dataset("mnist", path=str(tmp_path)).input_shape == (1, 5, 7)


def test_idx_missing_training_files_say_what_to_put_where(tmp_path):
    with pytest.raises(ConfigError) as error:
        load_dataset("mnist", path=str(tmp_path))
    message = str(error.value)
    assert message.startswith("data.path:") and str(tmp_path.resolve()) in message
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"):
        assert name in message
    _idx_set(tmp_path, "train", 20)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(ConfigError, match=r"train-labels-idx1-ubyte not found"):
        load_dataset("mnist", path=str(tmp_path))


def test_idx_path_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"data\.path: no folder"):
        load_dataset("mnist", path=str(tmp_path / "missing"))
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(ConfigError, match=r"data\.path: .* is a file"):
        load_dataset("mnist", path=str(tmp_path / "file"))


def test_idx_half_a_test_set_is_an_error(tmp_path):
    _idx_set(tmp_path, "train", 20)
    _idx(tmp_path, "t10k-images-idx3-ubyte", IDX_IMAGES_MAGIC, np.zeros((5, 28, 28)))
    with pytest.raises(ConfigError, match="t10k-images-idx3-ubyte but not t10k-labels-idx1-ubyte"):
        load_dataset("mnist", path=str(tmp_path))


@pytest.mark.parametrize("damage, expected", [
    ({"magic": 0x00000801}, r"not an IDX images file \(magic number 0x00000801, expected 0x00000803\)"),
    ({"cut": 100}, r"is truncated: its header declares 20×28×28 = 15680 bytes of images, the file holds 15580"),
    ({"cut": 15690}, "is truncated"),  # not even a whole header
    ({"extra": b"\0"}, "has extra bytes"),
    ({"count": 19}, "has 20 images but train-labels-idx1-ubyte has 19 labels"),
    ({"label": 12}, "holds label 12"),
    ({"gz": b"not gzip"}, "cannot read"),
    ({"shape": (20, 0, 0)}, r"declares 20×0×0 images; every dimension must be at least 1"),
    ({"shape": (0, 28, 28)}, r"declares 0×28×28 images"),
])
def test_idx_damaged_files_are_refused(tmp_path, damage, expected):
    rng = np.random.default_rng(0)
    labels = np.arange(damage.get("count", 20)) % 10
    labels[0] = damage.get("label", labels[0])
    _idx(tmp_path, "train-images-idx3-ubyte", damage.get("magic", IDX_IMAGES_MAGIC),
         rng.integers(0, 256, damage.get("shape", (20, 28, 28))), cut=damage.get("cut", 0),
         extra=damage.get("extra", b""))
    if "gz" in damage:
        (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(damage["gz"])
    else:
        _idx(tmp_path, "train-labels-idx1-ubyte", IDX_LABELS_MAGIC, labels)
    with pytest.raises(ConfigError, match=expected) as error:
        load_dataset("mnist", path=str(tmp_path))
    assert str(error.value).startswith("data.path:")


def test_idx_test_images_must_match_the_training_size(tmp_path):
    _idx_set(tmp_path, "train", 20)
    _idx_set(tmp_path, "t10k", 10, size=14)
    with pytest.raises(ConfigError, match="14×14 images"):
        load_dataset("mnist", path=str(tmp_path))


# A file of plain numbers is parsed by numpy (a tenth of the row reader's time, which a GUI worker
# shares with the window through the GIL); anything else goes row by row, which names the problem.
PLAIN_NUMBER_FILES = {
    "comma": "a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n",
    "crlf": "a,b,y\r\n1,2,0\r\n3,4,1\r\n5,6,0\r\n7,8,1\r\n",
    "spaces": "a , b ,y\n 1 , 2 ,0\n3,4 , 1\n5,6,0\n7,8,1",
    "semicolon": "a;b;y\n1.5;2e3;0\n3;4;1\n5;6;0\n7;8;1\n",
    "tab, regression": "a\tb\ty\n1\t2\t0.5\n3\t4\t1.25\n5\t6\t0.1\n7\t8\t3\n",
    "regression": "a,b,y\n" + "".join(f"{i},{i * 0.1},{i * 1.37}\n" for i in range(40)),
    "float classes": "a,y\n1,0.5\n2,1.5\n3,0.5\n4,1.5\n5,0.5\n",
    "unnamed column": "a,,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n",
}
ROW_BY_ROW_FILES = {
    "blank cell": "a,b,y\n1,,0\n3,4,1\n",
    "blank row": "a,b,y\n1,2,0\n,,\n3,4,1\n5,6,0\n",
    "nan": "a,b,y\n1,nan,0\n3,4,1\n",
    "infinite target": "a,b,y\n1,2,inf\n3,4,1\n",
    "text labels": "a,b,y\n1,2,cat\n3,4,dog\n5,6,cat\n7,8,dog\n",
    "quoted": 'a,b,y\n"1",2,0\n3,4,1\n5,6,0\n7,8,1\n',
    "underscore": "a,b,y\n1_0,2,0\n3,4,1\n5,6,0\n7,8,1\n",
    "beyond float32": "a,b,y\n1e39,2,0\n3,4,1\n",
    "huge regression target": "a,y\n1,1e30\n2,2.5\n",
    "one class": "a,y\n1,3\n2,3\n",
    "no data rows": "a,b,y\n",
    "ragged": "a,b,y\n1,2,0\n3,4\n",
    "target only": "y\n1\n2\n",
}


def _same_raw(one, other):
    for name in ("task", "num_classes", "feature_names", "class_names", "target_name", "task_inferred"):
        assert getattr(one, name) == getattr(other, name), name
    for name in ("x", "y"):
        a, b = getattr(one, name), getattr(other, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name


@pytest.mark.parametrize("text", PLAIN_NUMBER_FILES.values(), ids=PLAIN_NUMBER_FILES.keys())
@pytest.mark.parametrize("target, task", [(None, None), (0, None), (None, "classification"), (None, "regression")])
def test_a_file_of_plain_numbers_is_parsed_by_numpy_into_what_the_row_reader_gives(text, target, task):
    from pathlib import Path

    from trainers import datasets

    file = Path("plain.csv")
    fast = datasets._plain_numbers(text, target, task, file)
    assert fast is not None
    _same_raw(fast, datasets._parse_csv_rows(text, target, task, file))


@pytest.mark.parametrize("text", ROW_BY_ROW_FILES.values(), ids=ROW_BY_ROW_FILES.keys())
def test_anything_but_plain_numbers_is_left_to_the_row_reader(tmp_path, text):
    from trainers import datasets

    assert datasets._plain_numbers(text, None, None, tmp_path / "other.csv") is None


def test_a_large_numeric_csv_loads_as_the_row_reader_reads_it(tmp_path, monkeypatch):
    from trainers import datasets

    rows = np.random.default_rng(0).normal(size=(5000, 4))
    path = tmp_path / "big.csv"
    with open(path, "w") as out:
        out.write("a,b,c,y\n")
        np.savetxt(out, np.column_stack([rows[:, :3], rows[:, 3] > 0]), fmt="%.6f", delimiter=",")
    fast = load_dataset("csv", path=str(path), seed=3)
    monkeypatch.setattr(datasets, "_plain_numbers", lambda *args: None)
    slow = load_dataset("csv", path=str(path), seed=3)
    for name in ("x_train", "y_train", "x_val", "y_val"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
    assert fast.class_names == slow.class_names == ("0", "1")


def test_a_file_parsed_in_pieces_gives_the_same_table_and_a_ragged_piece_is_refused(monkeypatch):
    from pathlib import Path

    from trainers import datasets

    monkeypatch.setattr(datasets, "PARSE_PIECE_CHARS", 8)  # a piece every line or two
    file = Path("pieces.csv")
    for text in PLAIN_NUMBER_FILES.values():
        _same_raw(datasets._plain_numbers(text, None, None, file), datasets._parse_csv_rows(text, None, None, file))
    for text in ROW_BY_ROW_FILES.values():
        assert datasets._plain_numbers(text, None, None, file) is None
    # rows of four under a header of two: one piece of 2 x 4 values must not pass as 4 x 2
    assert datasets._plain_numbers("a,b\n1,2,3,4\n5,6,7,8\n", None, None, file) is None
