"""Tests for aekit.data.io: tables, IDX and image folders, written into tmp_path."""
import gzip
import struct
import sys

import numpy as np
import pytest

from aekit.data.idx import decode_idx, read_idx
from aekit.data.images import list_images, read_images, write_images
from aekit.data.io import read_table
from aekit.exceptions import DataError


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------------------------- csv
def test_csv_with_header_keeps_names(tmp_path):
    ds = read_table(write(tmp_path / "points.csv", 'a,"b c",d\n1,2,3\n4,5.5,-6e1\n'))
    assert ds.name == "points"
    assert ds.feature_names == ["a", "b c", "d"]
    assert ds.X.dtype == np.float32
    np.testing.assert_array_equal(ds.X, [[1, 2, 3], [4, 5.5, -60]])
    assert ds.y is None and ds.image_shape is None


def test_csv_without_header(tmp_path):
    ds = read_table(write(tmp_path / "raw.csv", "1,2\n3,4\n\n5,6\n"))
    assert ds.feature_names is None
    np.testing.assert_array_equal(ds.X, [[1, 2], [3, 4], [5, 6]])


def test_csv_one_column_and_semicolons(tmp_path):
    assert read_table(write(tmp_path / "one.csv", "x\n1\n2\n")).X.shape == (2, 1)
    ds = read_table(write(tmp_path / "semi.csv", "a;b\n1;2\n"))
    assert ds.feature_names == ["a", "b"] and ds.X.shape == (1, 2)


def test_csv_with_byte_order_mark(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffa,b\n1,2\n".encode("utf-8"))
    assert read_table(path).feature_names == ["a", "b"]


@pytest.mark.parametrize("text, message", [
    ("name,city\n1,2\n3,Paris\n",
     r"column 'city' \(line 3 of .*\) holds 'Paris', which is not a number; aekit takes numeric columns only: "
     r"drop or encode it"),
    ("1,2\n3,x\n", r"column 2 \(line 2 of .*\) holds 'x', which is not a number"),
    ("a,b\n1,2\n3,\n", r"column 'b' \(line 3 of .*\) is empty; .*fill in or drop missing values"),
    ("a,b\n1,2\n3,4,5\n", r"line 3 of .* has 3 values, but the header has 2"),
])
def test_csv_bad_cells_are_named(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        read_table(write(tmp_path / "bad.csv", text))


@pytest.mark.parametrize("text", ["", "\n\n", "a,b,c\n"])
def test_csv_without_rows(tmp_path, text):
    with pytest.raises(DataError, match="no rows of data"):
        read_table(write(tmp_path / "empty.csv", text))


# ----------------------------------------------------------------------------------------- npy / npz
def test_npy_table_round_trip(tmp_path):
    X = np.random.default_rng(0).normal(size=(5, 3))
    np.save(tmp_path / "t.npy", X)
    ds = read_table(tmp_path / "t.npy")
    assert ds.X.dtype == np.float32 and ds.image_shape is None
    np.testing.assert_allclose(ds.X, X, rtol=1e-6)


@pytest.mark.parametrize("shape", [(4, 6, 5), (4, 6, 5, 3)])
def test_npy_images_are_flattened_and_scaled(tmp_path, shape):
    images = np.full(shape, 255, dtype=np.uint8)
    np.save(tmp_path / "img.npy", images)
    ds = read_table(tmp_path / "img.npy")
    assert ds.X.shape == (4, int(np.prod(shape[1:]))) and ds.X.dtype == np.float32
    assert ds.image_shape == shape[1:]
    assert ds.X.max() == 1.0
    assert ds.images().shape == shape


@pytest.mark.parametrize("array, message", [
    (np.arange(5.0), r"has shape \(5,\); expected \(n_samples, n_features\).*reshape"),
    (np.array([["a", "b"]]), "has dtype <U1; aekit takes numeric arrays only"),
    (np.array([{"a": 1}], dtype=object), "holds Python objects"),
])
def test_npy_refuses(tmp_path, array, message):
    np.save(tmp_path / "bad.npy", array, allow_pickle=True)
    with pytest.raises(DataError, match=message):
        read_table(tmp_path / "bad.npy")


def test_npz_with_labels_and_test_split(tmp_path):
    X, y = np.ones((6, 2)), np.array([0, 1, 0, 1, 2, 2])
    np.savez(tmp_path / "d.npz", X=X, y=y, X_test=np.zeros((2, 2)), y_test=np.array([1.0, 0.0]))
    ds = read_table(tmp_path / "d.npz")
    np.testing.assert_array_equal(ds.X, X)
    np.testing.assert_array_equal(ds.y, y)
    assert ds.X_test.shape == (2, 2) and ds.y_test.dtype == np.int64


def test_npz_takes_the_only_array(tmp_path):
    np.savez(tmp_path / "d.npz", np.ones((3, 4)))
    assert read_table(tmp_path / "d.npz").X.shape == (3, 4)


def test_npz_label_count_must_match(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.ones((3, 2)), y=np.arange(4))
    with pytest.raises(DataError, match=r"array 'y' .* has shape \(4,\); expected \(3,\)"):
        read_table(tmp_path / "d.npz")


# --------------------------------------------------------------------------------------------- parquet
def test_parquet_round_trip(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table({"x": [1.0, 2.0], "n": [3, 4], "flag": [True, False]}), tmp_path / "t.parquet")
    ds = read_table(tmp_path / "t.parquet")
    assert ds.feature_names == ["x", "n", "flag"]
    np.testing.assert_array_equal(ds.X, [[1, 3, 1], [2, 4, 0]])
    assert ds.X.dtype == np.float32


@pytest.mark.parametrize("columns, message", [
    ({"x": [1.0, 2.0], "city": ["Paris", "Rome"]}, "column 'city' holds string values, which are not numbers"),
    ({"x": [1.0, None, 3.0]}, r"column 'x' has 1 missing values \(the first in row 2\)"),
])
def test_parquet_refuses(tmp_path, columns, message):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table(columns), tmp_path / "t.parquet")
    with pytest.raises(DataError, match=message):
        read_table(tmp_path / "t.parquet")


def test_parquet_without_pyarrow(tmp_path, monkeypatch):
    (tmp_path / "t.parquet").write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # makes `import pyarrow...` raise ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(DataError, match=r"reading \.parquet needs pyarrow: pip install 'aekit\[parquet\]'"):
        read_table(tmp_path / "t.parquet")


# ------------------------------------------------------------------------------------- path errors
def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file: '.*nope.csv'"):
        read_table(tmp_path / "nope.csv")


def test_unknown_extension(tmp_path):
    with pytest.raises(DataError, match=r"unknown file type '\.xlsx'; supported: \.csv, \.npy, \.npz, \.parquet"):
        read_table(write(tmp_path / "sheet.xlsx", "x"))


# ------------------------------------------------------------------------------------------------- IDX
def idx_bytes(array, magic):
    return struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def test_idx_round_trip(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "x.gz").write_bytes(gzip.compress(idx_bytes(images, 0x803)))
    np.testing.assert_array_equal(read_idx(tmp_path / "x.gz", magic=0x803), images)


@pytest.mark.parametrize("buf, message", [
    (idx_bytes(np.zeros(3, np.uint8), 0x801), "magic number is 0x00000801, expected 0x00000803"),
    (idx_bytes(np.zeros((2, 2, 2), np.uint8), 0x803)[:-1], r"header gives shape \(2, 2, 2\).*truncated"),
    (b"GIF89a", "is not an IDX file"),
])
def test_idx_header_is_checked(buf, message):
    with pytest.raises(DataError, match=message):
        decode_idx(buf, "x", magic=0x803)


# ---------------------------------------------------------------------------------------------- images
def test_png_folder_read_sorted_and_gray(tmp_path):
    from PIL import Image

    gray = np.full((6, 5), 51, np.uint8)
    rgb = np.zeros((6, 5, 3), np.uint8)
    rgb[..., 0] = 255  # average of (255, 0, 0) is 85
    Image.fromarray(rgb).save(tmp_path / "b.png")
    Image.fromarray(gray).save(tmp_path / "a.png")
    write(tmp_path / "notes.txt", "not an image")
    images = read_images(tmp_path)
    assert images.shape == (2, 6, 5) and images.dtype == np.float32
    np.testing.assert_allclose(images[0], 0.2)
    np.testing.assert_allclose(images[1], 85 / 255)
    assert [p.name for p in list_images(tmp_path)] == ["a.png", "b.png"]


def test_png_folder_of_mixed_sizes(tmp_path):
    write_images(tmp_path, np.zeros((1, 4, 4)), names=["small.png"])
    write_images(tmp_path, np.zeros((1, 5, 4)), names=["tall.png"])
    with pytest.raises(DataError, match=r"'small.png' is 4x4 but 'tall.png' is 5x4 \(height x width\)"):
        read_images(tmp_path)


def test_empty_folder(tmp_path):
    with pytest.raises(DataError, match="no images in"):
        read_images(tmp_path)


def test_write_images_round_trip_and_overwrite(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(3, 7, 9)) / 255.0
    paths = write_images(tmp_path / "out", images)
    assert [p.name for p in paths] == ["image_00000.png", "image_00001.png", "image_00002.png"]
    np.testing.assert_allclose(read_images(tmp_path / "out"), images, atol=1e-6)
    with pytest.raises(DataError, match="exists; pass overwrite=True"):
        write_images(tmp_path / "out", images)
    write_images(tmp_path / "out", images[::-1], overwrite=True)
    np.testing.assert_allclose(read_images(tmp_path / "out"), images[::-1], atol=1e-6)
