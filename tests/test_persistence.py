"""Model files: safetensors + JSON header, atomic, never overwritten unless asked, clear errors."""
import json
import struct

import numpy as np
import pytest

import aekit
from aekit import AutoEncoder, ModelFileError
from aekit.persistence import FORMAT_VERSION, read_header


@pytest.fixture(scope="module")
def fitted(small_digits):
    X, _ = small_digits
    return AutoEncoder(latent_dim=3, hidden=(16,), epochs=3, random_state=0, validation_split=0.2,
                       device="cpu").fit(X)  # files load on the CPU: bit-identical outputs need the same device


def test_save_load_gives_identical_outputs(fitted, small_digits, tmp_path):
    X, _ = small_digits
    path = fitted.save(tmp_path / "m.safetensors")
    loaded = aekit.load(path)
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))
    assert loaded.get_params() == {**fitted.get_params(), "validation_data": None}
    assert loaded.history_ == fitted.history_


def test_scaler_is_part_of_the_model(small_digits, tmp_path):
    X, _ = small_digits
    est = AutoEncoder(hidden=(8,), epochs=2, random_state=0, scaling="standard").fit(X * 50 + 3)
    loaded = aekit.load(est.save(tmp_path / "m.safetensors"))
    np.testing.assert_allclose(loaded.predict(X * 50 + 3), est.predict(X * 50 + 3), rtol=1e-6)


def test_header_is_json_with_versions_and_sizes(fitted, tmp_path):
    path = fitted.save(tmp_path / "m.safetensors")
    header = read_header(path)
    assert header["format_version"] == FORMAT_VERSION
    assert header["aekit_version"] == aekit.__version__ and "torch_version" in header
    assert header["model"]["kind"] == "dense" and header["model"]["config"]["latent_dim"] == 3
    assert header["class"] == "AutoEncoder"


def test_no_pickle_in_the_file(fitted, tmp_path):
    data = (fitted.save(tmp_path / "m.safetensors")).read_bytes()
    assert b"\x80\x04\x95" not in data and b"torch._utils" not in data  # pickle protocol / torch.save marks


def test_refuses_to_replace_a_model_unless_asked(fitted, tmp_path):
    path = fitted.save(tmp_path / "m.safetensors")
    before = path.read_bytes()
    with pytest.raises(ModelFileError, match="already exists; pass overwrite=True"):
        fitted.save(path)
    assert path.read_bytes() == before
    fitted.save(path, overwrite=True)


def test_a_failed_save_leaves_nothing_behind(fitted, tmp_path, monkeypatch):
    import safetensors.torch

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(safetensors.torch, "save_file", crash)
    with pytest.raises(OSError, match="disk full"):
        fitted.save(tmp_path / "m.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="no model file at"):
        aekit.load(tmp_path / "nope.safetensors")


def test_truncated_file(fitted, tmp_path):
    path = fitted.save(tmp_path / "m.safetensors")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="corrupt, truncated or not safetensors"):
        aekit.load(path)


def test_garbage_file(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"this is not a model at all")
    with pytest.raises(ModelFileError, match="not a readable model file"):
        aekit.load(path)


def _write_safetensors(path, metadata):
    from safetensors.torch import save_file
    import torch

    save_file({"w": torch.zeros(2)}, str(path), metadata=metadata)


def test_foreign_safetensors_file(tmp_path):
    path = tmp_path / "other.safetensors"
    _write_safetensors(path, {"format": "pt"})
    with pytest.raises(ModelFileError, match="not an aekit model"):
        aekit.load(path)


def test_newer_format_is_refused(tmp_path):
    path = tmp_path / "future.safetensors"
    _write_safetensors(path, {"aekit": json.dumps({"format_version": FORMAT_VERSION + 1, "aekit_version": "9.0"})})
    with pytest.raises(ModelFileError, match="written by a newer aekit.*upgrade aekit"):
        aekit.load(path)


def test_corrupt_header_json(fitted, tmp_path):
    path = fitted.save(tmp_path / "m.safetensors")
    data = bytearray(path.read_bytes())
    n = struct.unpack("<Q", data[:8])[0]
    header = data[8:8 + n].decode()
    start = header.index('"format_version')  # break the JSON inside the aekit entry, keep the length
    data[8 + start:8 + start + 4] = b"@@@@"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError):
        aekit.load(path)


def test_saved_files_get_the_usual_permissions(fitted, tmp_path):
    import os

    path = fitted.save(tmp_path / "m.safetensors")
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
