import numpy as np
import pytest
from sklearn.decomposition import PCA

from aekit import AutoEncoder
from aekit.applications.compression import (CompressedFileError, compress, compression_stats, decompress,
                                            model_fingerprint, quantise)


@pytest.fixture(scope="module")
def data(small_digits):
    return small_digits[0]


@pytest.fixture(scope="module")
def pca(data):
    return PCA(8, random_state=0).fit(data)


@pytest.fixture(scope="module")
def ae(data):
    return AutoEncoder(latent_dim=8, hidden=(32,), epochs=3, random_state=0).fit(data)


@pytest.mark.parametrize("codec", ["lzma", "zlib"])
@pytest.mark.parametrize("bits", [2, 8, 12])
def test_round_trip_error_shrinks_to_the_models_own(pca, data, bits, codec):
    blob = compress(pca, data, bits=bits, codec=codec)
    out = decompress(pca, blob)
    exact = pca.inverse_transform(pca.transform(data))
    quant_err = np.abs(out - exact).max()
    assert out.shape == data.shape
    # quantisation error of each code value is at most half a step; at 12 bits it is negligible
    assert quant_err < (0.05 if bits == 12 else 10.0)
    if bits == 12:
        np.testing.assert_allclose(out, exact, atol=0.05)


def test_quantise_bounds():
    codes = np.array([[0.0, 5.0], [1.0, 5.0], [0.5, 5.0]], dtype=np.float32)
    ints, low, step = quantise(codes, 2)
    assert ints.max() <= 3 and ints.dtype == np.uint8
    np.testing.assert_allclose(low + ints * step, [[0, 5], [1, 5], [2 / 3, 5]], atol=1 / 6 + 1e-6)


def test_autoencoder_round_trip_and_stats(ae, data):
    blob = compress(ae, data, bits=8)
    out = decompress(ae, blob)
    assert out.shape == data.shape
    stats = compression_stats(data, out, blob)
    assert stats["raw_format"] == "float32"  # digits/16 are not 8-bit values
    assert stats["bytes"] == len(blob) and stats["bytes_per_sample"] == pytest.approx(len(blob) / len(data))
    assert stats["ratio_to_raw"] > 10
    assert stats["psnr"] > 5
    # lzma's output approaches the entropy of the codes from above (plus its own framing)
    assert stats["entropy_bytes_per_sample"] <= stats["bytes_per_sample"]


def test_mnist_like_data_count_as_8_bit(pca):
    X = (np.random.default_rng(0).integers(0, 256, size=(50, 64)) / 255.0).astype(np.float32)
    blob = compress(PCA(4).fit(X), X, bits=4)
    stats = compression_stats(X, np.zeros_like(X), blob)
    assert stats["raw_format"] == "uint8" and stats["raw_bytes_per_sample"] == 64


def test_corrupt_and_foreign_files_are_refused(pca, ae, data):
    blob = compress(pca, data, bits=6)
    with pytest.raises(CompressedFileError, match="not an aekit compressed file"):
        decompress(pca, b"PK\x03\x04" + blob[4:])
    with pytest.raises(CompressedFileError, match="is corrupt: its payload holds"):
        decompress(pca, blob[:-1] + bytes([blob[-1] ^ 1]))
    with pytest.raises(CompressedFileError, match="is corrupt: its payload holds"):
        decompress(pca, blob[:-10])
    damaged = bytearray(blob)
    damaged[12] ^= 0xFF  # inside the header: the bit depth / codec / sample count
    with pytest.raises(CompressedFileError, match="corrupt header|unknown codec|newer|version"):
        decompress(pca, bytes(damaged))
    with pytest.raises(CompressedFileError, match="was compressed with another model"):
        decompress(PCA(8).fit(data[::-1] + 0.01), blob)
    with pytest.raises(CompressedFileError, match="was compressed with another model"):
        decompress(ae, compress(AutoEncoder(latent_dim=8, hidden=(32,), epochs=1, random_state=1).fit(data), data))


def test_newer_version_is_refused(pca, data):
    import struct
    import zlib

    from aekit.applications.compression import _HEADER

    blob = bytearray(compress(pca, data))
    blob[8:10] = struct.pack("<H", 99)
    k = 8
    crc = zlib.crc32(bytes(blob[:_HEADER.size - 4]) + bytes(blob[_HEADER.size:_HEADER.size + 8 * k]))
    blob[_HEADER.size - 4:_HEADER.size] = struct.pack("<I", crc)
    with pytest.raises(CompressedFileError, match="format version 99; this aekit reads version 1"):
        decompress(pca, bytes(blob))


@pytest.mark.parametrize("kwargs, match", [
    ({"bits": 0}, "bits must be an integer from 1 to 16"),
    ({"bits": 17}, "bits must be an integer from 1 to 16"),
    ({"codec": "brotli"}, "codec must be one of 'lzma', 'zlib', got 'brotli'"),
])
def test_bad_arguments(pca, data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        compress(pca, data, **kwargs)


def test_fingerprint_depends_on_the_weights(ae, data):
    other = AutoEncoder(latent_dim=8, hidden=(32,), epochs=3, random_state=0).fit(data)
    assert model_fingerprint(ae) == model_fingerprint(other)  # same seed, same weights
    assert model_fingerprint(ae) != model_fingerprint(AutoEncoder(latent_dim=8, hidden=(32,), epochs=3,
                                                                  random_state=2).fit(data))
