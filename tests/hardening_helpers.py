"""What the hardening and fuzz tests share: tiny fitted models and the rule for a clean failure."""
import json

import numpy as np
import pytest

from aekit import AekitError

#: the one-epoch models of the hardening tests (seconds to fit on the 8x8 digits)
FAST_AE = dict(latent_dim=2, hidden=(8,), epochs=1, batch_size=256, random_state=0, device="cpu")


def assert_clean_failure(call):
    """``call()`` either returns or raises one aekit error (or ValueError/TypeError) with a message."""
    try:
        call()
    except (AekitError, ValueError, TypeError) as e:
        assert str(e).strip(), f"{type(e).__name__} without a message"
    except Exception as e:  # anything else is what the red team found: fail with its type
        pytest.fail(f"foreign exception {type(e).__module__}.{type(e).__name__}: {e}")


def reseal_model(path, config: dict, tensors: dict) -> None:
    """Write a model file with ``config`` as its header and a valid checksum (what a forger could do)."""
    from safetensors.torch import save_file

    from aekit.persistence import CHECKSUM_KEY, HEADER_KEY, checksum

    text = json.dumps(config)
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    save_file(tensors, str(path), metadata={HEADER_KEY: text, CHECKSUM_KEY: checksum(text, tensors)})


def reseal_aez(blob: bytes) -> bytes:
    """``blob`` with both .aez checksums recomputed: a damaged file that passes its CRCs."""
    import struct
    import zlib

    from aekit.applications.compression import _HEADER

    head = bytearray(blob[:_HEADER.size])
    fields = list(_HEADER.unpack_from(bytes(head)))
    k = fields[5]
    end_tables = _HEADER.size + 8 * k
    payload = blob[end_tables:] if len(blob) >= end_tables else b""
    fields[7], fields[8] = len(payload), zlib.crc32(payload)
    packed = _HEADER.pack(*fields)
    tables = blob[_HEADER.size:end_tables]
    crc = zlib.crc32(packed[:-4] + tables)
    return packed[:-4] + struct.pack("<I", crc) + tables + payload


def digits_X(n=200):
    from aekit.datasets import load_digits

    return np.asarray(load_digits().X[:n], dtype=np.float32)
