"""Model files: one safetensors file whose header carries aekit's JSON config. No pickle anywhere.

The weights are plain tensors; everything else (model kind and sizes, estimator parameters, scaler kind,
history, versions) is JSON under the header key ``aekit``. Saves are atomic: the file is written beside
its destination and renamed into place, so a crash never leaves a half-written model.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import numpy as np
import torch

from ._atomic import atomic_path
from .exceptions import ModelFileError

FORMAT_VERSION = 1
HEADER_KEY = "aekit"

#: classes that ``load`` can rebuild, by the name stored in the file; each has ``_from_bundle``
_LOADABLE: dict = {}
#: what the ``load`` in progress may import: True (anything), or import paths / module names
_TRUSTED: ContextVar = ContextVar("aekit_trusted_classes", default=())


def loadable(cls):
    """Class decorator: files whose config names ``cls.__name__`` are rebuilt by ``cls._from_bundle``."""
    _LOADABLE[cls.__name__] = cls
    return cls


def save_bundle(path, tensors: dict, config: dict, overwrite: bool = False) -> Path:
    """Write ``tensors`` (name -> array/tensor) and ``config`` (JSON-able) to ``path`` atomically."""
    from safetensors.torch import save_file

    import aekit

    path = Path(path)
    if path.is_dir():
        raise ModelFileError(f"{str(path)!r} is a folder; give a file path such as {str(path / 'model.safetensors')!r}")
    if path.exists() and not overwrite:
        raise ModelFileError(
            f"{str(path)!r} already exists; pass overwrite=True (CLI: --force) to replace it, or choose another path"
        )
    if not path.parent.exists():
        raise ModelFileError(f"cannot save to {str(path)!r}: the folder {str(path.parent)!r} does not exist")
    header = {
        "format_version": FORMAT_VERSION,
        "aekit_version": aekit.__version__,
        "torch_version": torch.__version__,
        **config,
    }
    contiguous = {k: torch.as_tensor(np.asarray(v) if not torch.is_tensor(v) else v).detach().cpu().contiguous()
                  for k, v in tensors.items()}
    with atomic_path(path) as tmp:
        save_file(contiguous, tmp, metadata={HEADER_KEY: json.dumps(header)})
    return path


def read_header(path) -> dict:
    """The JSON config of a model file, without reading the weights."""
    return _open(path, weights=False)[1]


def load_bundle(path) -> tuple[dict, dict]:
    """``(tensors, config)`` of a model file; ModelFileError for anything that is not a loadable aekit model."""
    return _open(path, weights=True)


def _open(path, weights: bool) -> tuple[dict, dict]:
    from safetensors import safe_open

    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"no model file at {str(path)!r}")
    if path.is_dir():
        raise ModelFileError(f"{str(path)!r} is a folder, not a model file")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()} if weights else {}
    except Exception as e:  # safetensors raises its own error types for bad headers and short files
        raise ModelFileError(
            f"{str(path)!r} is not a readable model file (corrupt, truncated or not safetensors): {e}"
        ) from e
    if HEADER_KEY not in meta:
        raise ModelFileError(f"{str(path)!r} is a safetensors file but not an aekit model (no '{HEADER_KEY}' header)")
    try:
        config = json.loads(meta[HEADER_KEY])
    except json.JSONDecodeError as e:
        raise ModelFileError(f"{str(path)!r} has a corrupt aekit header: {e}") from e
    version = config.get("format_version")
    if not isinstance(version, int):
        raise ModelFileError(f"{str(path)!r} has no valid format_version in its aekit header")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{str(path)!r} was written by a newer aekit ({config.get('aekit_version')}, file format {version}); "
            f"this aekit reads format {FORMAT_VERSION} and older: upgrade aekit"
        )
    return tensors, config


def check_trusted(class_path: str, role: str) -> None:
    """ModelFileError unless the ``load`` in progress was allowed to import ``class_path`` ('pkg.mod:Name')."""
    trusted = _TRUSTED.get()
    module = class_path.partition(":")[0]
    if trusted is True or any(class_path == t or module == t or module.startswith(t + ".") for t in trusted):
        return
    raise ModelFileError(
        f"this model's {role} is the user class {class_path!r}; loading it imports and runs that code, so "
        f"aekit does so only when told: aekit.load(path, trust_classes=[{module!r}]) (or trust_classes=True)"
    )


@contextmanager
def _trusting(trust_classes):
    if trust_classes is True:
        value = True
    elif not trust_classes:
        value = ()
    elif isinstance(trust_classes, str):
        value = (trust_classes,)
    else:
        value = tuple(str(t) for t in trust_classes)
    token = _TRUSTED.set(value)
    try:
        yield
    finally:
        _TRUSTED.reset(token)


def load(path, trust_classes=False):
    """Load any model saved by aekit (an AutoEncoder, an AnomalyDetector...).

    ``trust_classes``: a model with your own encoder and decoder stores their classes by import path;
    they are imported (which runs their module's code) only when ``trust_classes`` is True or lists their
    import paths (``'pkg.mod:Encoder'``) or modules (``'pkg.mod'``, ``'pkg'``). Other models ignore it.

    Examples
    --------
    >>> import aekit, tempfile, os
    >>> est = aekit.AutoEncoder(latent_dim=2, hidden=(8,), epochs=1, random_state=0)
    >>> est = est.fit(aekit.datasets.load_digits().X[:50])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> _ = est.save(path)
    >>> aekit.load(path).transform(aekit.datasets.load_digits().X[:3]).shape
    (3, 2)
    """
    tensors, config = load_bundle(path)
    name = config.get("class")
    if name not in _LOADABLE:
        raise ModelFileError(f"{str(path)!r} holds a {name!r}, which this aekit cannot load")
    try:
        with _trusting(trust_classes):
            return _LOADABLE[name]._from_bundle(tensors, config)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError, ImportError) as e:
        raise ModelFileError(f"{str(path)!r} could not be rebuilt as a {name}: {e}") from e
