"""Hostile data files through ``train``: every one is refused with exit status 2 and one line that
names the file, before anything is written; the odd-but-valid ones train.

Each case writes its data file(s) and a run configuration pointing at them into ``tmp_path``, runs
``train`` in-process as ``main.py`` would, and checks the folder afterwards: a refused run must not
create its metrics CSV or checkpoint, nor touch the data.
"""

import gzip
import hashlib
import json

import numpy as np
import pytest

from tests.test_cli import assert_refused, run_cli
from trainers.datasets import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC

IMAGES, LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
TEST_IMAGES, TEST_LABELS = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
GOOD_ROWS = "".join(f"{i},{i % 3},{i % 2}\n" for i in range(10))  # a,b,y: 10 rows, 2 classes


def idx_bytes(magic: int, dims: tuple[int, ...], payload: bytes | None = None) -> bytes:
    """An IDX file: big-endian magic, one uint32 per dimension, then (by default) the right payload."""
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    if payload is None:
        payload = bytes(i % 251 for i in range(int(np.prod(dims, dtype=np.int64))))
    return header + payload


def images(count: int, height: int = 4, width: int = 4, **kwargs) -> bytes:
    return idx_bytes(IDX_IMAGES_MAGIC, (count, height, width), **kwargs)


def labels(count: int) -> bytes:
    return idx_bytes(IDX_LABELS_MAGIC, (count,), bytes(i % 10 for i in range(count)))


# name -> (files to write, extra data keys, fragments the one error line must hold). A CSV case
# writes data.csv; an IDX case writes the files named into the folder idx/.
CSV_CASES = {
    "empty file": (b"", {}, ["data.csv", "is empty"]),
    "blank lines only": (b"\n  \n\n", {}, ["data.csv", "is empty"]),
    "header only": (b"a,b,y\n", {}, ["data.csv", "no data rows"]),
    "ragged row": (b"a,b,y\n1,2,0\n1,2\n3,4,1\n", {}, ["data.csv", "line 3 has 2 fields"]),
    "non-numeric feature": (b"a,b,y\n1,2,0\n1,x7,1\n", {}, ["data.csv", "line 3", "'b'", "'x7'"]),
    "empty feature cell": (b"a,b,y\n1,2,0\n1,,1\n", {}, ["data.csv", "line 3", "empty cell in column 'b'"]),
    "1e308 feature": (b"a,b,y\n1,2,0\n1,1e308,1\n" + GOOD_ROWS.encode(), {},
                      ["data.csv", "line 3", "column 'b'", "1e308", "float32"]),
    "-1e39 feature (float32 overflow only)": (b"a,b,y\n1,2,0\n-1e39,1,1\n" + GOOD_ROWS.encode(), {},
                                              ["data.csv", "line 3", "column 'a'", "-1e39", "float32"]),
    "inf feature": (b"a,b,y\n1,2,0\n1,inf,1\n", {}, ["data.csv", "line 3", "column 'b'", "'inf'"]),
    "nan feature": (b"a,b,y\n1,nan,0\n1,2,1\n", {}, ["data.csv", "line 2", "column 'b'", "'nan'"]),
    "1e308 regression target": (b"x,y\n1,2.5\n2,1e308\n3,6.5\n4,8.5\n", {"task": "regression"},
                                ["data.csv", "line 3", "target column 'y'", "1e308", "float32"]),
    "1e30 regression target (its squared error overflows)":
        (b"x,y\n1,2.5\n2,1e30\n3,6.5\n4,8.5\n", {"task": "regression"},
         ["data.csv", "line 3", "target column 'y'", "1e30"]),
    "nan target": (b"a,b,y\n1,2,0\n1,2,nan\n", {}, ["data.csv", "line 3", "target column 'y'", "'nan'"]),
    "not UTF-8": (b"a,b,y\n\xff\xfe\x00,1,0\n", {}, ["data.csv", "not UTF-8"]),
    "NUL byte": (b"a,b,y\n1,2,0\n1,\x00,1\n", {}, ["data.csv"]),
    "unterminated quote": (b'a,y\n1,"unclosed\n2,3\n', {}, ["data.csv"]),
    "field over the csv module's limit": (b"a,y\n" + b"1" * 200_000 + b",0\n2,1\n", {}, ["data.csv"]),
    "only the target column": (b"y\n0\n1\n", {}, ["data.csv", "only the target column"]),
    "a single class": (b"a,y\n1,0\n2,0\n3,0\n4,0\n", {"task": "classification"}, ["data.csv", "single class"]),
    "one data row": (b"a,y\n1,0.5\n", {"val_fraction": 0.2}, ["too few samples"]),
}

IDX_CASES = {
    "0x0 images": ({IMAGES: images(20, 0, 0), LABELS: labels(20)}, [IMAGES, "0×0"]),
    "28x0 images": ({IMAGES: images(20, 28, 0), LABELS: labels(20)}, [IMAGES, "28×0"]),
    "no images at all": ({IMAGES: images(0), LABELS: labels(0)}, [IMAGES, "0×4×4"]),
    "truncated payload": ({IMAGES: images(20)[:-7], LABELS: labels(20)}, [IMAGES, "is truncated"]),
    "header cut short": ({IMAGES: images(20)[:9], LABELS: labels(20)}, [IMAGES, "is truncated"]),
    "empty images file": ({IMAGES: b"", LABELS: labels(20)}, [IMAGES, "is truncated"]),
    "extra bytes": ({IMAGES: images(20) + b"\0", LABELS: labels(20)}, [IMAGES, "extra bytes"]),
    "label/image count mismatch": ({IMAGES: images(20), LABELS: labels(19)},
                                   [IMAGES, "20 images", LABELS, "19 labels"]),
    "wrong magic": ({IMAGES: images(20), LABELS: images(20)}, [LABELS, "magic number 0x00000803"]),
    "float IDX (type 0x0D)": ({IMAGES: idx_bytes(0x00000D03, (20, 4, 4)), LABELS: labels(20)},
                              [IMAGES, "magic number 0x00000D03"]),
    # 2^32-1 cubed: allocating what the header declares would take ~7·10^28 bytes
    "terabytes declared in the header": ({IMAGES: images(0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, payload=b"\1" * 64),
                                          LABELS: labels(20)}, [IMAGES, "is truncated"]),
    "label 12": ({IMAGES: images(20), LABELS: idx_bytes(IDX_LABELS_MAGIC, (20,), bytes([12] * 20))},
                 [LABELS, "label 12"]),
    "corrupt gzip": ({IMAGES: images(20), LABELS + ".gz": b"not gzip at all"}, [LABELS, "cannot read"]),
    "test images of another size": ({IMAGES: images(20), LABELS: labels(20), TEST_IMAGES: images(10, 3, 3),
                                     TEST_LABELS: labels(10)}, [TEST_IMAGES, "3×3"]),
    "test labels missing": ({IMAGES: images(20), LABELS: labels(20), TEST_IMAGES: images(10)},
                            [TEST_IMAGES, TEST_LABELS]),
}

# Odd but valid: these train, and the first line says what they train as.
ACCEPTED_CSV = {
    "BOM": ("\ufeffx,y\n" + "".join(f"{i},{i % 2}\n" for i in range(10)), "classification, 2 classes"),
    "CRLF, semicolons and quotes": ('"x";"y"\r\n' + "".join(f"{i};{2 * i}\r\n" for i in range(1, 9)),
                                    "regression on column y"),
    "the tutorial's y = 2x": ("x,y\n1,2\n2,4\n3,6\n4,8\n", "regression on column y"),
}


def snapshot(folder) -> dict[str, str]:
    """Every file under ``folder`` with a digest of its bytes and its modification time."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() + f"@{p.stat().st_mtime_ns}"
            for p in sorted(folder.rglob("*")) if p.is_file()}


def train_refused(capsys, tmp_path, data: dict, culprits: list[str]) -> None:
    config = tmp_path / "run.json"
    config.write_text(json.dumps({"data": data, "model": {"name": "linear"},
                                  "train": {"epochs": 1, "device": "cpu"}}))
    before = snapshot(tmp_path)
    result = run_cli(capsys, "train", "--config", config, "--metrics-out", tmp_path / "metrics.csv",
                     "--checkpoint", tmp_path / "run.pt")
    assert_refused(*result, *culprits)
    assert snapshot(tmp_path) == before  # nothing written, nothing changed


@pytest.mark.parametrize("case", list(CSV_CASES))
def test_hostile_csv_is_refused_in_one_line(capsys, tmp_path, case):
    content, data, culprits = CSV_CASES[case]
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    train_refused(capsys, tmp_path, {"name": "csv", "path": str(path), "val_fraction": 0, **data}, culprits)


@pytest.mark.parametrize("case", list(IDX_CASES))
def test_hostile_idx_is_refused_in_one_line(capsys, tmp_path, case):
    files, culprits = IDX_CASES[case]
    folder = tmp_path / "idx"
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(content)
    train_refused(capsys, tmp_path, {"name": "mnist", "path": str(folder)}, culprits)


@pytest.mark.parametrize("case", list(ACCEPTED_CSV))
def test_odd_but_valid_csv_trains_and_says_its_task(capsys, tmp_path, case):
    text, task = ACCEPTED_CSV[case]
    path = tmp_path / "data.csv"
    path.write_bytes(text.encode("utf-8"))
    code, out, err = run_cli(capsys, "train", "--dataset", "csv", "--data-path", path, "--model", "linear",
                             "--set", "data.val_fraction=0", "--epochs", "1", "--device", "cpu")
    assert code == 0 and err == "", err
    assert task in out.splitlines()[0]


def test_a_gzipped_idx_set_trains(capsys, tmp_path):
    for name, content in ((IMAGES, images(20)), (LABELS, labels(20))):
        (tmp_path / (name + ".gz")).write_bytes(gzip.compress(content, mtime=0))
    code, out, err = run_cli(capsys, "train", "--dataset", "mnist", "--data-path", tmp_path, "--model", "linear",
                             "--epochs", "1", "--device", "cpu")
    assert code == 0 and err == "", err
    assert "16 training / 4 validation samples" in out.splitlines()[0]
