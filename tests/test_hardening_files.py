"""Issue 13, files: every damaged model file, data file or .aez ends in one aekit error naming the file."""
import io
import json
import struct
import warnings
import zipfile

import numpy as np
import pytest
import torch

import aekit
from aekit import AutoEncoder, DataError, ModelFileError, TrainingError
from aekit.applications.compression import CompressedFileError, compress, decompress
from aekit.data.idx import read_idx
from aekit.data.images import read_images
from aekit.data.io import read_table
from aekit.persistence import HEADER_KEY, load_bundle

from hardening_helpers import FAST_AE, digits_X, reseal_aez, reseal_model


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.safetensors"
    AutoEncoder(**FAST_AE).fit(digits_X()).save(path)
    return path


# ------------------------------------------------------------------------------ model files: the header
def _with_header(model, tmp_path, change):
    tensors, config = load_bundle(model)
    change(config)
    path = tmp_path / "forged.safetensors"
    reseal_model(path, config, tensors)
    return path


@pytest.mark.parametrize("change, match", [
    (lambda c: c.update(params=[1, 2]), "'params' is list, expected dict"),
    (lambda c: c.update(params=None), "'params' is NoneType, expected dict"),
    (lambda c: c.update({"class": 7}), "holds a 7, which this aekit cannot load"),
    (lambda c: c.update(model="dense"), "'model' is str, expected an object"),
    (lambda c: c["model"].update(config=None), "'config' is NoneType, expected dict"),
    (lambda c: c.update(input_shape=[0]), r"'input_shape' is \[0\], expected a list of positive integers"),
    (lambda c: c.update(input_shape="64"), "'input_shape' is str, expected list"),
    (lambda c: c["params"].update(noise_factor=-1), "The 'noise_factor' parameter of AutoEncoder must be a float"),
    (lambda c: c["params"].update(latent_dim="2"), "The 'latent_dim' parameter"),
    (lambda c: c["model"]["config"].update(latent_dim=10**9), "the weights do not fit the model its header describes"),
    (lambda c: c["model"]["config"].update(hidden=[10**12]), "the weights do not fit the model its header describes"),
    (lambda c: c["model"].update(kind="nope"), "could not be rebuilt as a AutoEncoder"),
    (lambda c: c.update(feature_names=5), "'feature_names' is int"),
])
def test_a_header_of_the_wrong_type_or_shape_is_one_model_file_error(model, tmp_path, change, match):
    path = _with_header(model, tmp_path, change)
    with pytest.raises(ModelFileError, match=match) as info:
        aekit.load(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("text", ["[1, 2]", "null", '"a string"', "3", '{"format_version": NaN}'])
def test_a_header_that_parses_but_is_not_an_object_is_refused(model, tmp_path, text):
    from safetensors.torch import save_file

    path = tmp_path / "odd.safetensors"
    save_file({"w": torch.zeros(2)}, str(path), metadata={HEADER_KEY: text})
    with pytest.raises(ModelFileError, match="corrupt aekit header|no valid format_version"):
        aekit.load(path)


def test_nan_where_a_number_belongs_is_refused(model, tmp_path):
    path = _with_header(model, tmp_path, lambda c: c["params"].update(learning_rate=float("nan")))
    with pytest.raises(ModelFileError, match="NaN where a number belongs"):
        aekit.load(path)


# ------------------------------------------------------------------------------ model files: the weights
def test_every_changed_weight_byte_is_caught_by_the_checksum(model, tmp_path):
    data = model.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])  # safetensors: header length, header, then the tensor bytes
    rng = np.random.default_rng(0)
    for offset in rng.choice(np.arange(8 + n, len(data)), size=40, replace=False):
        broken = bytearray(data)
        broken[offset] ^= 1 << int(rng.integers(8))
        path = tmp_path / "flipped.safetensors"
        path.write_bytes(bytes(broken))
        with pytest.raises(ModelFileError, match="fails its checksum"):
            aekit.load(path)


def test_a_file_of_format_1_without_a_checksum_still_loads(model, tmp_path):
    from safetensors.torch import save_file

    tensors, config = load_bundle(model)
    path = tmp_path / "old.safetensors"
    save_file(tensors, str(path), metadata={HEADER_KEY: json.dumps({**config, "format_version": 1})})
    X = digits_X(5)
    np.testing.assert_array_equal(aekit.load(path).transform(X), aekit.load(model).transform(X))
    save_file(tensors, str(path), metadata={HEADER_KEY: json.dumps(config)})  # format 2 that lost its checksum
    with pytest.raises(ModelFileError, match="has lost its checksum"):
        aekit.load(path)


def test_weights_that_diverged_are_never_saved(tmp_path):
    X = digits_X(100)
    est = AutoEncoder(**{**FAST_AE, "learning_rate": 1e38, "batch_size": 1000, "hidden": (4,)}).fit(X)
    assert not all(bool(torch.isfinite(p).all()) for p in est.model_.parameters())  # the last step blew up
    with pytest.raises(TrainingError, match="holds NaN or infinity .* lower learning_rate"):
        est.save(tmp_path / "m.safetensors")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------ data readers
def test_an_npz_that_is_not_a_zip(tmp_path):
    path = tmp_path / "x.npz"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 60)
    with pytest.raises(DataError, match="x.npz.* is not a readable .npy/.npz file"):
        read_table(path)


def test_an_npy_header_with_an_impossible_shape_allocates_nothing(tmp_path):
    path = tmp_path / "big.npy"
    buf = io.BytesIO()
    np.save(buf, np.zeros((2, 3), np.float32))
    data = buf.getvalue().replace(b"(2, 3)", b"(2000000000000, 3)".ljust(6))
    header_len = struct.unpack("<H", data[8:10])[0]
    text = b"{'descr': '<f4', 'fortran_order': False, 'shape': (2000000000000, 3), }"
    data = data[:10] + text.ljust(header_len - 1) + b"\n" + data[10 + header_len:]
    path.write_bytes(data)
    with pytest.raises(DataError, match=r"declares an array of shape \(2000000000000, 3\)"):
        read_table(path)


def test_an_npz_member_that_claims_more_than_deflate_can_hold(tmp_path):
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, X=np.zeros((100, 10), np.float32))
    with zipfile.ZipFile(path) as z:
        info = z.infolist()[0]
    data = bytearray(path.read_bytes())
    # the central directory's uncompressed size of the member, set to 64 GiB - 1
    central = data.rindex(b"PK\x01\x02")
    data[central + 24:central + 28] = struct.pack("<I", 0xFFFFFFF0)
    path.write_bytes(bytes(data))
    assert info.file_size == 4128
    with pytest.raises(DataError, match="bomb.npz"):
        read_table(path)


def test_csv_errors_of_the_csv_module_are_data_errors(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"a,b\n1,\x002\n")
    with pytest.raises(DataError, match="nul.csv"):
        read_table(path)
    path = tmp_path / "long.csv"
    path.write_text("a\n" + "1" * 200_000 + "\n")  # beyond the csv module's field limit
    with pytest.raises(DataError, match="long.csv.* is not a readable CSV file"):
        read_table(path)


def test_a_png_decompression_bomb_is_refused_before_decoding(tmp_path, monkeypatch):
    from PIL import Image

    Image.fromarray(np.zeros((64, 64), np.uint8)).save(tmp_path / "a.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 4096 pixels is then a bomb (> 2x the limit)
    with pytest.raises(DataError, match="a.png.* too large to read safely"):
        read_images(tmp_path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 3000)  # between 1x and 2x: Pillow only warns; aekit refuses
    with pytest.raises(DataError, match="too large to read safely"):
        read_images(tmp_path)


def test_an_idx_header_of_huge_sizes_and_a_gzip_bomb(tmp_path):
    path = tmp_path / "x.idx"
    path.write_bytes(b"\x00\x00\x08\x03" + struct.pack(">3I", 2**32 - 1, 2**32 - 1, 2**32 - 1) + b"\x00" * 10)
    with pytest.raises(DataError, match="the header gives shape"):
        read_idx(path)
    import gzip

    bomb = tmp_path / "bomb.idx.gz"
    bomb.write_bytes(gzip.compress(b"\x00" * (4 << 20), compresslevel=1))  # 4 MiB of zeros: not IDX data
    with pytest.raises(DataError, match="bomb.idx.gz.*: unknown IDX type byte"):
        read_idx(bomb)
    bomb.write_bytes(b"\x1f\x8b" + b"\x00" * 30)
    with pytest.raises(DataError, match="bomb.idx.gz.* is not a readable gzip file"):
        read_idx(bomb)


def test_values_beyond_float32_are_refused_and_near_its_limit_train_quietly(tmp_path):
    np.save(tmp_path / "huge.npy", np.full((10, 3), 1e300))
    with pytest.raises(DataError, match=r"huge.npy.* holds values up to 1e\+300, beyond the float32 range"):
        read_table(tmp_path / "huge.npy")
    X = np.random.default_rng(0).uniform(-3e38, 3e38, (60, 4)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning may come before (or instead of) the one message
        AutoEncoder(**FAST_AE).fit(X)  # min-max scaling in float64: the range of +-3e38 fits
        with pytest.raises(TrainingError, match="the loss became"):
            AutoEncoder(**{**FAST_AE, "scaling": None}).fit(X)


# --------------------------------------------------------------------------------------------- .aez files
@pytest.fixture(scope="module")
def aez(model):
    est = aekit.load(model)
    return est, compress(est, digits_X(50), bits=4)


@pytest.mark.parametrize("payload", [b"not lzma at all", b"\xfd7zXZ\x00\x00" + b"\x00" * 20, b""])
def test_a_payload_that_passes_its_checksums_but_does_not_decode(aez, payload):
    est, blob = aez
    from aekit.applications.compression import _HEADER

    k = _HEADER.unpack_from(blob)[5]
    forged = reseal_aez(blob[:_HEADER.size + 8 * k] + payload)
    with pytest.raises(CompressedFileError, match="x.aez"):
        decompress(est, forged, source="'x.aez'")


@pytest.mark.parametrize("n", [51, 49, 10**9, 2**63])
def test_a_declared_sample_count_that_the_payload_does_not_hold(aez, n):
    est, blob = aez
    from aekit.applications.compression import _HEADER

    fields = list(_HEADER.unpack_from(blob))
    fields[4] = n
    forged = reseal_aez(_HEADER.pack(*fields) + blob[_HEADER.size:])
    with pytest.raises(CompressedFileError, match="declares|decodes to"):
        decompress(est, forged)


def test_zlib_payloads_too(model):
    est = aekit.load(model)
    blob = compress(est, digits_X(20), codec="zlib")
    from aekit.applications.compression import _HEADER

    k = _HEADER.unpack_from(blob)[5]
    with pytest.raises(CompressedFileError, match="does not decode"):
        decompress(est, reseal_aez(blob[:_HEADER.size + 8 * k] + b"\x78\x9c garbage"))
    assert decompress(est, blob).shape == (20, 64)


def test_a_writers_own_temporary_files_stay_inside_aekits_temporary_folder(tmp_path):
    """safetensors writes through its own .tmpXXXXXX beside the file it is given: killed then, that file used
    to be left in the user's folder, outside aekit's sweep. It now lies inside aekit's temporary folder."""
    import os
    import subprocess
    import sys

    from aekit._atomic import atomic_path, remove_orphans

    with atomic_path(tmp_path / "m.safetensors") as tmp:
        assert os.path.dirname(tmp) != str(tmp_path)  # a private folder beside the destination
        open(os.path.join(os.path.dirname(tmp), ".tmpAbC123"), "w").close()  # what safetensors makes
        open(tmp, "w").write("done")
    assert sorted(os.listdir(tmp_path)) == ["m.safetensors"]
    # a writer killed mid-write leaves one folder, which the next writer there removes
    code = ("import os, sys; from aekit._atomic import atomic_path\n"
            "with atomic_path(sys.argv[1]) as tmp:\n"
            "    open(os.path.join(os.path.dirname(tmp), '.tmpXyZ789'), 'w').close(); os._exit(9)\n")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "k.safetensors")], check=False)
    assert len(os.listdir(tmp_path)) == 2
    remove_orphans(tmp_path, again=True)
    assert sorted(os.listdir(tmp_path)) == ["m.safetensors"]
