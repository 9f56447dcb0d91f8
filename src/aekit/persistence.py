"""Model files: one safetensors file whose header carries aekit's JSON config. No pickle anywhere.

The weights are plain tensors; everything else (model kind and sizes, estimator parameters, scaler kind,
history, versions) is JSON under the header key ``aekit``. A SHA-256 over that JSON text and every tensor's
name, dtype, shape and bytes is stored under ``aekit_sha256`` and checked at load, so a changed byte
anywhere is refused; files of format 1 (before the checksum) still load, unchecked. Saves are atomic: the
file is written beside its destination and published in one step, so a crash never leaves a half-written
model, and weights that hold NaN or infinity are never saved.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import numpy as np
import torch

from ._atomic import atomic_path
from ._params import validate_params
from .exceptions import AekitError, ModelFileError, TrainingError

logger = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: the aekit_sha256 checksum; format 1 files load without it
HEADER_KEY = "aekit"
CHECKSUM_KEY = "aekit_sha256"

#: classes that ``load`` can rebuild, by the name stored in the file; each has ``_from_bundle``
_LOADABLE: dict = {}
#: what the ``load`` in progress may import: True (anything), or import paths / module names
_TRUSTED: ContextVar = ContextVar("aekit_trusted_classes", default=())


def loadable(cls):
    """Class decorator: files whose config names ``cls.__name__`` are rebuilt by ``cls._from_bundle``."""
    _LOADABLE[cls.__name__] = cls
    return cls


def checksum(header_text: str, tensors: dict) -> str:
    """SHA-256 (hex) of the JSON header text and of every tensor's name, dtype, shape and bytes."""
    h = hashlib.sha256(header_text.encode("utf-8"))
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        h.update(f"\0{name}\0{t.dtype}\0{tuple(t.shape)}\0".encode("utf-8"))
        h.update(t.reshape(-1).view(torch.uint8).numpy())  # the buffer itself: no copy
    return h.hexdigest()


def _check_finite(tensors: dict, path: Path) -> None:
    for name, t in tensors.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise TrainingError(
                f"not saving {str(path)!r}: tensor {name!r} holds NaN or infinity (training diverged, e.g. a "
                "learning rate too high); train again with a lower learning_rate")


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
    _check_finite(contiguous, path)
    try:
        text = json.dumps(header, allow_nan=False)  # NaN is not JSON: load refuses it, so save does too
    except ValueError as e:
        raise TrainingError(f"not saving {str(path)!r}: its settings or history hold NaN or infinity (training "
                            "diverged?); train again with a lower learning_rate") from e
    try:
        with atomic_path(path, overwrite=overwrite) as tmp:
            save_file(contiguous, tmp, metadata={HEADER_KEY: text, CHECKSUM_KEY: checksum(text, contiguous)})
    except FileExistsError as e:
        raise ModelFileError(str(e.strerror or e)) from None
    return path


def read_header(path) -> dict:
    """The JSON config of a model file, without reading the weights (the checksum needs them: not checked)."""
    return _open(path, weights=False)[1]


def load_bundle(path) -> tuple[dict, dict]:
    """``(tensors, config)`` of a model file; ModelFileError for anything that is not a loadable aekit model."""
    return _open(path, weights=True)


def _reject_constant(name):
    raise ValueError(f"{name} where a number belongs")


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
        config = json.loads(meta[HEADER_KEY], parse_constant=_reject_constant)
    except (ValueError, RecursionError) as e:
        raise ModelFileError(f"{str(path)!r} has a corrupt aekit header: {e}") from e
    if not isinstance(config, dict):
        raise ModelFileError(f"{str(path)!r} has a corrupt aekit header: a JSON {type(config).__name__}, "
                             "expected an object")
    version = config.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"{str(path)!r} has no valid format_version in its aekit header")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{str(path)!r} was written by a newer aekit ({config.get('aekit_version')}, file format {version}); "
            f"this aekit reads format {FORMAT_VERSION} and older: upgrade aekit"
        )
    if weights:
        _verify(path, meta, tensors, version)
    _check_config(path, config)
    return tensors, config


def _verify(path: Path, meta: dict, tensors: dict, version: int) -> None:
    stored = meta.get(CHECKSUM_KEY)
    if stored is None:
        if version >= 2:
            raise ModelFileError(f"{str(path)!r} has lost its checksum ({CHECKSUM_KEY}); the file is damaged: "
                                 "save or train the model again")
        logger.info("%s is a format-%d model file without a checksum: loaded unchecked", path, version)
        return
    if checksum(meta[HEADER_KEY], tensors) != stored:
        raise ModelFileError(f"{str(path)!r} fails its checksum: its weights or header changed after it was "
                             "saved (a damaged copy?); save or train the model again")


def _check_schema(config: dict, schema: dict, where: str) -> None:
    """Each key of ``schema`` names the types its value may have; a dict value is a nested schema."""
    for key, kinds in schema.items():
        value = config.get(key)
        if isinstance(kinds, dict):
            if not isinstance(value, dict):
                raise ModelFileError(f"{where}: '{key}' is {type(value).__name__}, expected an object")
            _check_schema(value, kinds, f"{where} '{key}'")
        elif not isinstance(value, kinds) or isinstance(value, bool) and bool not in kinds:
            names = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
            raise ModelFileError(f"{where}: '{key}' is {type(value).__name__}, expected {names}")
        elif isinstance(value, float) and not math.isfinite(value):
            raise ModelFileError(f"{where}: '{key}' is {value}, expected a finite number")


_AE_SCHEMA = {"class": (str,), "params": (dict,), "model": {"kind": (str,), "config": (dict,)},
              "scaling": (str, type(None)), "input_shape": (list,), "feature_names": (list, type(None)),
              "history": (dict, type(None))}
#: the header of each loadable class, checked before anything is rebuilt from it
HEADER_SCHEMAS = {
    "AutoEncoder": _AE_SCHEMA,
    # the networks' part ("members") is checked by AnomalyDetector._from_bundle, which refuses the layout
    # written before the ensemble detector (no "detector_format") with a message that says how to refit
    "AnomalyDetector": {"class": (str,), "params": (dict,), "threshold": (int, float), "n_calibration": (int,),
                        "input_shape": (list,), "feature_names": (list, type(None))},
}


def _check_config(path: Path, config: dict) -> None:
    """The class is one this aekit loads, and the header has the fields (and types) that class needs."""
    name = config.get("class")
    if not isinstance(name, str) or name not in _LOADABLE:
        raise ModelFileError(f"{str(path)!r} holds a {name!r}, which this aekit cannot load")
    where = f"{str(path)!r} has a damaged header"
    _check_schema(config, HEADER_SCHEMAS.get(name, {}), where)
    _check_shape_list(config, where)


def _check_shape_list(config: dict, where: str) -> None:
    shapes = [config.get("input_shape")] + ([config["autoencoder"].get("input_shape")] if "autoencoder" in config
                                            else [])
    for shape in shapes:
        if not shape or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in shape):
            raise ModelFileError(f"{where}: 'input_shape' is {shape!r}, expected a list of positive integers")


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
    name = config["class"]
    try:
        with _trusting(trust_classes):
            model = _LOADABLE[name]._from_bundle(tensors, config)
        validate_params(model)
        return model
    except AekitError as e:  # a stored parameter out of range, weights that do not fit the header, untrusted code
        raise ModelFileError(f"{str(path)!r} could not be rebuilt as a {name}: {e}") from e
    except Exception as e:  # a damaged file can fail anywhere in the rebuild: always one error naming it
        raise ModelFileError(f"{str(path)!r} could not be rebuilt as a {name}: {type(e).__name__}: {e}") from e
