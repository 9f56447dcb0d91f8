"""Property-based fuzz (hypothesis) of every reader, of ``aekit.load`` and of ``decompress``.

Each test mutates a valid file (bit flips, truncation, insertions, overwritten spans) or forges one whose
checksums are recomputed after a structural change, and asserts that only aekit's errors (or a ValueError /
TypeError with a message) come out. Bounded for CI: a fixed number of examples per reader, derandomized so
that CI runs the same cases every time (about a minute in all on a shared 2-core machine).
"""
import io
import json
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aekit
from aekit import AutoEncoder
from aekit.applications.compression import compress, decompress
from aekit.data.idx import decode_idx, read_idx
from aekit.data.images import read_images
from aekit.data.io import read_table
from aekit.persistence import load_bundle

from hardening_helpers import FAST_AE, assert_clean_failure, digits_X, reseal_aez, reseal_model

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    """One valid file of every kind aekit reads, as bytes."""
    d = tmp_path_factory.mktemp("seeds")
    X = digits_X(60)
    est = AutoEncoder(**FAST_AE).fit(X)
    est.save(d / "m.safetensors")
    buf = io.BytesIO()
    np.save(buf, X[:10])
    npz = io.BytesIO()
    np.savez_compressed(npz, X=X[:10], y=np.arange(10))
    from PIL import Image

    png = io.BytesIO()
    Image.fromarray((X[0].reshape(8, 8) * 255).astype(np.uint8)).save(png, format="PNG")
    idx = b"\x00\x00\x08\x03" + (2).to_bytes(4, "big") + (2).to_bytes(4, "big") + (2).to_bytes(4, "big") + bytes(8)
    return {"est": est, "model": (d / "m.safetensors").read_bytes(), "npy": buf.getvalue(), "npz": npz.getvalue(),
            "png": png.getvalue(), "idx": idx, "csv": b"a,b,c\n1,2,3\n4,5,6\n", "aez": compress(est, X, bits=4)}


@st.composite
def mutated(draw, data: bytes):
    """``data`` with a few random edits: flipped bits, overwritten spans, a cut, an insertion."""
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "span", "cut", "insert"]))
        at = draw(st.integers(0, max(len(buf) - 1, 0)))
        if kind == "flip" and buf:
            buf[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "span":
            span = draw(st.binary(min_size=1, max_size=16))
            buf[at:at + len(span)] = span
        elif kind == "cut":
            del buf[at:]
        else:
            buf[at:at] = draw(st.binary(min_size=1, max_size=64))
    return bytes(buf)


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("kind", ["npy", "npz", "csv"])
def test_fuzz_table_readers(seeds, tmp_path, kind):
    @FUZZ
    @given(data=mutated(seeds[kind]))
    def check(data):
        path = _write(tmp_path, f"t.{kind}", data)
        assert_clean_failure(lambda: read_table(path))

    check()


@FUZZ
@given(text=st.text(alphabet=st.sampled_from(list("0123456789.,;\t\"e-+ \nabNnaIif\x00")), max_size=200))
def test_fuzz_csv_text(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    path.write_text(text, encoding="utf-8")
    assert_clean_failure(lambda: read_table(path))


def test_fuzz_idx_and_gzip(seeds, tmp_path):
    import gzip

    @FUZZ
    @given(data=mutated(seeds["idx"]), gz=st.booleans())
    def check(data, gz):
        assert_clean_failure(lambda: decode_idx(data, "idx"))
        if gz:
            path = _write(tmp_path, "t.idx.gz", mutated_gzip(gzip.compress(seeds["idx"]), data))
            assert_clean_failure(lambda: read_idx(path))

    def mutated_gzip(valid, noise):
        return valid[:len(noise) % len(valid)] + noise[:8] + valid[len(noise) % len(valid) + 8:]

    check()


def test_fuzz_images(seeds, tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()

    @FUZZ
    @given(data=mutated(seeds["png"]))
    def check(data):
        _write(folder, "a.png", data)
        assert_clean_failure(lambda: read_images(folder))

    check()


def test_fuzz_load_of_damaged_bytes(seeds, tmp_path):
    @FUZZ
    @given(data=mutated(seeds["model"]))
    def check(data):
        path = _write(tmp_path, "m.safetensors", data)
        assert_clean_failure(lambda: aekit.load(path))

    check()


JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True),
                        st.text(max_size=8), st.lists(st.integers(-3, 3), max_size=3),
                        st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))


def test_fuzz_load_of_forged_headers(seeds, tmp_path):
    """Headers changed in structure and re-sealed with a valid checksum: the schema and the rebuild must hold."""
    tensors, config = load_bundle(_write(tmp_path, "seed.safetensors", seeds["model"]))

    def paths(node, prefix=()):
        if isinstance(node, dict):
            for key, value in node.items():
                yield prefix + (key,)
                yield from paths(value, prefix + (key,))

    keys = [p for p in paths(config) if p[0] != "history"] + [("history",)]

    @FUZZ
    @given(where=st.sampled_from(keys), value=JSON_VALUES, drop=st.booleans())
    def check(where, value, drop):
        forged = json.loads(json.dumps(config))
        node = forged
        for key in where[:-1]:
            node = node[key]
        if drop:
            node.pop(where[-1], None)
        else:
            node[where[-1]] = value
        path = tmp_path / "forged.safetensors"
        try:
            reseal_model(path, forged, tensors)
        except ValueError:  # JSON cannot hold it: nothing to load
            return
        assert_clean_failure(lambda: aekit.load(path))

    check()


def test_fuzz_decompress(seeds):
    est = seeds["est"]

    @FUZZ
    @given(data=mutated(seeds["aez"]), reseal=st.booleans())
    def check(data, reseal):
        if reseal and len(data) >= 64:
            data = reseal_aez(data)  # damaged, yet both CRCs pass: the decoder itself must hold
        assert_clean_failure(lambda: decompress(est, data, source="'fuzz.aez'"))

    check()


def test_fuzz_decompress_header_fields(seeds):
    """Every header field of an .aez set to an arbitrary value, checksums recomputed."""
    import struct

    from aekit.applications.compression import _HEADER

    est, blob = seeds["est"], seeds["aez"]
    fields = list(_HEADER.unpack_from(blob))
    limits = [None, 2**16 - 1, 2**8 - 1, 2**8 - 1, 2**64 - 1, 2**32 - 1, None, 2**64 - 1, 2**32 - 1, 2**32 - 1]

    @FUZZ
    @given(i=st.sampled_from([1, 2, 3, 4, 5]), value=st.integers(0, 2**64 - 1))
    def check(i, value):
        changed = list(fields)
        changed[i] = value % (limits[i] + 1)
        data = reseal_aez(_HEADER.pack(*changed) + blob[_HEADER.size:])
        assert_clean_failure(lambda: decompress(est, data))

    check()
    assert zlib.crc32(blob) and struct  # the seed itself is intact
